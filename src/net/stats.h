/*
 * Counters for every layer.  One table, so the SIGUSR1 dump (and later the
 * control socket and /metrics) list the same names.  Each entry is
 * X(id, layer, name, reason): a drop counter carries the reason it counts,
 * other counters an empty reason.  A layer's entries stay together: the
 * JSON report opens one object per run of entries of the same layer.
 */
#ifndef TAPIR_STATS_H
#define TAPIR_STATS_H

#include <stdint.h>

#define STATS_TABLE(X)                                                       \
	X(LINK_RX, "link", "rx_frames", "")                                  \
	X(LINK_TX, "link", "tx_frames", "")                                  \
	X(LINK_TX_ERR, "link", "tx_dropped", "write_failed")                 \
	X(LINK_RX_ERR, "link", "rx_dropped", "read_failed")                  \
	X(LINK_RX_SHORT, "link", "rx_dropped", "short")                      \
	X(ETH_RX, "eth", "rx", "")                                           \
	X(ETH_TX, "eth", "tx", "")                                           \
	X(ETH_DROP_SHORT, "eth", "dropped", "short")                         \
	X(ETH_DROP_NOT_US, "eth", "dropped", "not_for_us")                   \
	X(ETH_DROP_BAD_SRC, "eth", "dropped", "bad_source")                  \
	X(ETH_DROP_TYPE, "eth", "dropped", "unsupported_type")               \
	X(ARP_RX, "arp", "rx", "")                                           \
	X(ARP_TX_REQUEST, "arp", "tx_requests", "")                          \
	X(ARP_TX_REPLY, "arp", "tx_replies", "")                             \
	X(ARP_DROP_MALFORMED, "arp", "dropped", "malformed")                 \
	X(ARP_DROP_OP, "arp", "dropped", "bad_op")                           \
	X(ARP_DROP_BAD_SENDER, "arp", "dropped", "bad_sender")               \
	X(ARP_DROP_UNSOLICITED, "arp", "dropped", "unsolicited")             \
	X(ARP_DROP_NOT_US, "arp", "dropped", "not_for_us")                   \
	X(ARP_CONFLICT, "arp", "address_conflicts", "")                      \
	X(ARP_PROBE_TX, "arp", "tx_probes", "")                              \
	X(ARP_PROBE_CONFLICT, "arp", "probe_conflicts", "")                  \
	X(ARP_DEFEND_TX, "arp", "defences", "")                              \
	X(ARP_DROP_UNUSABLE, "arp", "dropped", "address_not_in_use")         \
	X(ARP_CACHE_EVICT, "arp", "cache_evictions", "")                     \
	X(ARP_CACHE_EXPIRE, "arp", "cache_expiries", "")                     \
	X(ARP_RESOLVE_FAIL, "arp", "resolve_failures", "")                   \
	X(ARP_QUEUE_DROP, "arp", "dropped", "queue_full")                    \
	X(ARP_UNRESOLVED_DROP, "arp", "dropped", "unresolved")               \
	X(IP4_RX, "ip4", "rx", "")                                           \
	X(IP4_TX, "ip4", "tx", "")                                           \
	X(IP4_DROP_SHORT, "ip4", "dropped", "short")                         \
	X(IP4_DROP_VERSION, "ip4", "dropped", "bad_version")                 \
	X(IP4_DROP_HLEN, "ip4", "dropped", "bad_header_length")              \
	X(IP4_DROP_LEN, "ip4", "dropped", "bad_total_length")                \
	X(IP4_DROP_OPTIONS, "ip4", "dropped", "bad_options")                 \
	X(IP4_DROP_CSUM, "ip4", "dropped", "bad_checksum")                   \
	X(IP4_DROP_SRC, "ip4", "dropped", "bad_source")                      \
	X(IP4_DROP_NOT_US, "ip4", "dropped", "not_for_us")                   \
	X(IP4_DROP_PROTO, "ip4", "dropped", "unknown_protocol")              \
	X(IP4_DROP_NO_ROUTE, "ip4", "dropped", "no_route")                   \
	X(IP4_DROP_NO_ADDR, "ip4", "dropped", "address_not_in_use")          \
	X(IP4_FRAG_RX, "ip4", "fragments_rx", "")                            \
	X(IP4_FRAG_TX, "ip4", "fragments_tx", "")                            \
	X(IP4_REASM_OK, "ip4", "reassembled", "")                            \
	X(IP4_REASM_DROP_OVERLAP, "ip4", "reasm_dropped", "overlap")         \
	X(IP4_REASM_DROP_TIMEOUT, "ip4", "reasm_dropped", "timeout")         \
	X(IP4_REASM_DROP_TOO_BIG, "ip4", "reasm_dropped", "too_big")         \
	X(IP4_REASM_DROP_BAD_LEN, "ip4", "reasm_dropped", "bad_length")      \
	X(IP4_REASM_DROP_LIMIT, "ip4", "reasm_dropped", "limit")             \
	X(IP4_REASM_DROP_SOURCE_LIMIT, "ip4", "reasm_dropped",                \
	  "per_source_limit")                                                \
	X(IP4_REASM_DUP, "ip4", "reasm_duplicates", "")                      \
	X(IP6_REASM_OK, "ip6", "reassembled", "")                            \
	X(IP6_REASM_DROP_OVERLAP, "ip6", "reasm_dropped", "overlap")         \
	X(IP6_REASM_DROP_TIMEOUT, "ip6", "reasm_dropped", "timeout")         \
	X(IP6_REASM_DROP_TOO_BIG, "ip6", "reasm_dropped", "too_big")         \
	X(IP6_REASM_DROP_BAD_LEN, "ip6", "reasm_dropped", "bad_length")      \
	X(IP6_REASM_DROP_LIMIT, "ip6", "reasm_dropped", "limit")             \
	X(IP6_REASM_DROP_SOURCE_LIMIT, "ip6", "reasm_dropped",                \
	  "per_source_limit")                                                \
	X(IP6_REASM_DUP, "ip6", "reasm_duplicates", "")                      \
	X(IP6_FRAG_RX, "ip6", "fragments_rx", "")                            \
	X(IP6_RX, "ip6", "rx", "")                                           \
	X(IP6_TX, "ip6", "tx", "")                                           \
	X(IP6_DROP_DISABLED, "ip6", "dropped", "disabled")                   \
	X(IP6_DROP_SHORT, "ip6", "dropped", "short")                         \
	X(IP6_DROP_VERSION, "ip6", "dropped", "bad_version")                 \
	X(IP6_DROP_LEN, "ip6", "dropped", "bad_payload_length")              \
	X(IP6_DROP_SRC, "ip6", "dropped", "bad_source")                      \
	X(IP6_DROP_NOT_US, "ip6", "dropped", "not_for_us")                   \
	X(IP6_DROP_EXT, "ip6", "dropped", "bad_extension_header")            \
	X(IP6_DROP_EXT_LIMIT, "ip6", "dropped", "extension_header_limit")    \
	X(IP6_DROP_OPTION, "ip6", "dropped", "unknown_option")               \
	X(IP6_DROP_RH0, "ip6", "dropped", "routing_header_0")                \
	X(IP6_DROP_ROUTING, "ip6", "dropped", "routing_header")              \
	X(IP6_DROP_PROTO, "ip6", "dropped", "unknown_next_header")           \
	X(IP6_DROP_NONE, "ip6", "dropped", "no_next_header")                 \
	X(IP6_DROP_FRAG, "ip6", "dropped", "bad_fragment")                   \
	X(IP6_DROP_CHAIN, "ip6", "dropped", "incomplete_header_chain")       \
	X(IP6_DROP_NO_ROUTE, "ip6", "dropped", "no_route")                   \
	X(IP6_DROP_NO_SOURCE, "ip6", "dropped", "no_source_address")         \
	X(IP6_FRAG_TX, "ip6", "fragments_tx", "")                            \
	X(IP6_ATOMIC_FRAG, "ip6", "atomic_fragments", "")                    \
	X(ICMP4_RX, "icmp4", "rx", "")                                       \
	X(ICMP4_TX, "icmp4", "tx", "")                                       \
	X(ICMP4_ECHO_RX, "icmp4", "echo_requests", "")                       \
	X(ICMP4_ECHO_TX, "icmp4", "echo_replies", "")                        \
	X(ICMP4_PING_TX, "icmp4", "echo_requests_tx", "")                    \
	X(ICMP4_PING_RX, "icmp4", "echo_replies_rx", "")                     \
	X(ICMP4_UNREACH_TX, "icmp4", "unreachables_tx", "")                  \
	X(ICMP4_TIME_EXCEEDED_TX, "icmp4", "time_exceeded_tx", "")           \
	X(ICMP4_DROP_SHORT, "icmp4", "dropped", "short")                     \
	X(ICMP4_DROP_CSUM, "icmp4", "dropped", "bad_checksum")               \
	X(ICMP4_DROP_BCAST, "icmp4", "dropped", "broadcast_echo")            \
	X(ICMP4_DROP_TYPE, "icmp4", "dropped", "unhandled_type")             \
	X(ICMP4_ERR_RATELIMIT, "icmp4", "errors_suppressed", "rate_limit")   \
	X(ICMP4_ERR_SUPPRESSED, "icmp4", "errors_suppressed", "rfc1122")     \
	X(ICMP6_RX, "icmp6", "rx", "")                                       \
	X(ICMP6_TX, "icmp6", "tx", "")                                       \
	X(ICMP6_ECHO_RX, "icmp6", "echo_requests", "")                       \
	X(ICMP6_ECHO_TX, "icmp6", "echo_replies", "")                        \
	X(ICMP6_PING_TX, "icmp6", "echo_requests_tx", "")                    \
	X(ICMP6_PING_RX, "icmp6", "echo_replies_rx", "")                     \
	X(ICMP6_MODULE_TX, "icmp6", "module_messages_tx", "")                \
	X(ICMP6_UNREACH_TX, "icmp6", "unreachables_tx", "")                  \
	X(ICMP6_PARAM_TX, "icmp6", "parameter_problems_tx", "")              \
	X(ICMP6_TIME_EXCEEDED_TX, "icmp6", "time_exceeded_tx", "")           \
	X(ICMP6_DROP_SHORT, "icmp6", "dropped", "short")                     \
	X(ICMP6_DROP_CSUM, "icmp6", "dropped", "bad_checksum")               \
	X(ICMP6_DROP_TYPE, "icmp6", "dropped", "unhandled_type")             \
	X(ICMP6_ERR_RATELIMIT, "icmp6", "errors_suppressed", "rate_limit")   \
	X(ICMP6_ERR_SUPPRESSED, "icmp6", "errors_suppressed", "rfc4443")     \
	X(ND6_RX, "nd6", "rx", "")                                           \
	X(ND6_NS_RX, "nd6", "solicitations_rx", "")                          \
	X(ND6_NA_RX, "nd6", "advertisements_rx", "")                         \
	X(ND6_NS_TX, "nd6", "solicitations_tx", "")                          \
	X(ND6_NA_TX, "nd6", "advertisements_tx", "")                         \
	X(ND6_RS_RX, "nd6", "router_solicitations_rx", "")                   \
	X(ND6_DAD_OK, "nd6", "dad_passed", "")                               \
	X(ND6_DAD_DUPLICATE, "nd6", "dad_duplicates", "")                    \
	X(ND6_CONFLICT, "nd6", "address_conflicts", "")                      \
	X(ND6_DROP_INVALID, "nd6", "dropped", "invalid")                     \
	X(ND6_DROP_FRAGMENTED, "nd6", "dropped", "fragmented")               \
	X(ND6_DROP_NOT_US, "nd6", "dropped", "not_our_target")               \
	X(ND6_DROP_UNSOLICITED, "nd6", "dropped", "unsolicited")             \
	X(ND6_DROP_NO_OVERRIDE, "nd6", "dropped", "no_override")             \
	X(ND6_DROP_IGNORED, "nd6", "dropped", "ignored_type")                \
	X(ND6_REDIRECT_RX, "nd6", "redirects_rx", "")                        \
	X(ND6_REDIRECT_OK, "nd6", "redirects_applied", "")                   \
	X(ND6_DROP_REDIRECT, "nd6", "dropped", "redirect_not_from_router")   \
	X(ND6_QUEUE_DROP, "nd6", "dropped", "queue_full")                    \
	X(ND6_UNRESOLVED_DROP, "nd6", "dropped", "unresolved")               \
	X(ND6_CACHE_EVICT, "nd6", "cache_evictions", "")                     \
	X(ND6_CACHE_EXPIRE, "nd6", "cache_expired", "")                      \
	X(ND6_RESOLVE_FAIL, "nd6", "resolve_failures", "")                   \
	X(MLD6_REPORT_TX, "mld6", "reports_tx", "")                          \
	X(MLD6_QUERY_RX, "mld6", "queries_rx", "")                           \
	X(MLD6_DROP_INVALID, "mld6", "dropped", "invalid")                   \
	X(PMTU_LOWERED, "pmtu", "lowered", "")                               \
	X(ICMP_ERR_RX, "icmp", "errors_rx", "")                              \
	X(ICMP_ERR_DROP_QUOTE, "icmp", "errors_dropped", "bad_quote")        \
	X(ICMP_ERR_DROP_NO_CONN, "icmp", "errors_dropped", "no_connection")  \
	X(ICMP_ERR_DROP_SEQ, "icmp", "errors_dropped", "sequence_not_in_flight") \
	X(UDP_RX, "udp", "rx", "")                                           \
	X(UDP_TX, "udp", "tx", "")                                           \
	X(UDP_DROP_SHORT, "udp", "dropped", "bad_length")                    \
	X(UDP_DROP_CSUM, "udp", "dropped", "bad_checksum")                   \
	X(UDP_DROP_NO_PORT, "udp", "dropped", "no_listener")                 \
	X(UDP_TX_ERR, "udp", "tx_dropped", "")                               \
	X(TCP_RX, "tcp", "segments_rx", "")                                  \
	X(TCP_TX, "tcp", "segments_tx", "")                                  \
	X(TCP_PASSIVE_OPENS, "tcp", "passive_opens", "")                     \
	X(TCP_ACTIVE_OPENS, "tcp", "active_opens", "")                       \
	X(TCP_RST_RX, "tcp", "resets_rx", "")                                \
	X(TCP_RST_TX, "tcp", "resets_tx", "")                                \
	X(TCP_RETRANSMITS, "tcp", "retransmits", "")                         \
	X(TCP_FAST_RETRANSMITS, "tcp", "fast_retransmits", "")               \
	X(TCP_RTO_FIRED, "tcp", "rto_expired", "")                           \
	X(TCP_LOSS_PROBES, "tcp", "loss_probes", "")                         \
	X(TCP_RACK_LOST, "tcp", "segments_marked_lost", "")                  \
	X(TCP_TIMEOUTS, "tcp", "timeouts", "")                               \
	X(TCP_CHALLENGE_ACKS, "tcp", "challenge_acks", "")                   \
	X(TCP_CHALLENGE_LIMITED, "tcp", "challenge_acks_suppressed", "")     \
	X(TCP_WINDOW_PROBES, "tcp", "window_probes", "")                     \
	X(TCP_KEEPALIVE_PROBES, "tcp", "keepalive_probes", "")               \
	X(TCP_OOO_SEGS, "tcp", "out_of_order_segments", "")                  \
	X(TCP_DSACK_TX, "tcp", "dsack_sent", "")                             \
	X(TCP_DSACK_RX, "tcp", "dsack_received", "")                         \
	X(TCP_TLP_REPAIRED, "tcp", "loss_probe_repairs", "")                 \
	X(TCP_TIME_WAIT_REUSED, "tcp", "time_wait_reused", "")               \
	X(TCP_TIME_WAIT_OVERFLOW, "tcp", "time_wait_skipped", "")            \
	X(TCP_COOKIES_SENT, "tcp", "syn_cookies_sent", "")                   \
	X(TCP_COOKIES_OK, "tcp", "syn_cookies_valid", "")                    \
	X(TCP_COOKIES_BAD, "tcp", "syn_cookies_invalid", "")                 \
	X(TCP_DROP_BCAST, "tcp", "dropped", "broadcast")                     \
	X(TCP_DROP_CSUM, "tcp", "dropped", "bad_checksum")                   \
	X(TCP_DROP_HEADER, "tcp", "dropped", "bad_header")                   \
	X(TCP_DROP_OPTIONS, "tcp", "dropped", "bad_options")                 \
	X(TCP_DROP_NO_LISTENER, "tcp", "dropped", "no_listener")             \
	X(TCP_DROP_NOT_SYN, "tcp", "dropped", "not_syn")                     \
	X(TCP_DROP_MAX_CONNS, "tcp", "dropped", "max_connections")           \
	X(TCP_DROP_BACKLOG, "tcp", "dropped", "syn_backlog")                 \
	X(TCP_DROP_PAWS, "tcp", "dropped", "paws")                           \
	X(TCP_DROP_OUT_OF_WINDOW, "tcp", "dropped", "out_of_window")         \
	X(TCP_DROP_NO_ACK, "tcp", "dropped", "no_ack")                       \
	X(TCP_DROP_ACK_AHEAD, "tcp", "dropped", "ack_ahead")                 \
	X(TCP_DROP_RCVBUF, "tcp", "dropped", "receive_buffer_full")          \
	X(TCP_DROP_OOO_LIMIT, "tcp", "dropped", "out_of_order_limit")        \
	X(TCP_PMTU_REDUCED, "tcp", "mss_reduced_by_pmtu", "")                \
	X(TCP_ICMP_ABORTS, "tcp", "connects_aborted_by_icmp", "")            \
	X(TCP_MEM_OOO_PRUNED, "tcp", "out_of_order_pruned_for_memory", "")   \
	X(TCP_MEM_ABORTS, "tcp", "memory_aborts", "")

enum stat_id {
#define STAT_ENUM(id, layer, name, reason) STAT_##id,
	STATS_TABLE(STAT_ENUM)
#undef STAT_ENUM
	STAT_COUNT
};

struct stat_desc {
	const char *layer;
	const char *name;
	const char *reason;
};

extern const struct stat_desc stat_descs[STAT_COUNT];

struct stats {
	uint64_t v[STAT_COUNT];
};

#define STAT_INC(s, id) ((s)->v[STAT_##id]++)
#define STAT_ADD(s, id, n) ((s)->v[STAT_##id] += (n))

#endif
