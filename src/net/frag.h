/*
 * IP reassembly, one reassembler for both families (frag.c).
 *
 * The network layer parses a fragment's header and hands its data here as
 * a struct reasm_frag: ip4.c for an IPv4 datagram with MF set or a
 * non-zero offset, ip6.c for one with a Fragment header.  reasm_input()
 * hands back the whole datagram once its last piece is in; the caller
 * delivers it as it would an unfragmented one and then releases it.  Both
 * families share the limits (stack_params' reasm_*) and the table of
 * datagrams in progress; each has its own counters (ip4's and ip6's
 * fragments_rx, reassembled, reasm_duplicates and reasm_dropped).
 */
#ifndef TAPIR_NET_FRAG_H
#define TAPIR_NET_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/l3.h"
#include "wire/cur.h"

struct stack;
struct reasm_dgram;

/* Which datagram a fragment belongs to.  Its family is the addresses'
 * (IPv4-mapped or not); src and dst must be of the same one. */
struct reasm_key {
	union inany src, dst;
	uint32_t id;   /* IPv4: the 16-bit Identification; IPv6: the
			* Fragment header's 32-bit one */
	uint8_t proto; /* IPv4: the protocol; IPv6: ignored (RFC 8200 4.5
			* keys on the addresses and the id alone) */
};

/* One fragment, as the network layer found it.  Everything it points to
 * is borrowed for the call. */
struct reasm_frag {
	struct reasm_key key;
	uint32_t off; /* where data goes in the fragmentable part, in bytes */
	bool more;    /* IPv4's MF, IPv6's M: more fragments follow */
	/* The fragment's data: IPv4, the bytes after the IP header; IPv6,
	 * the bytes after the Fragment header. */
	struct cur data;
	/* The header in front of the data, which the datagram keeps from its
	 * offset-0 fragment.  IPv4: the IP header with its options.  IPv6:
	 * the unfragmentable part (the IPv6 header and the extension headers
	 * before the Fragment header), with its last Next Header byte
	 * already set to the Fragment header's.  At least 20 (IPv4) or 40
	 * (IPv6) bytes; every fragment's counts in the length check. */
	const uint8_t *hdr;
	size_t hdr_len;
	/* The fragment's metadata.  The offset-0 fragment's becomes the
	 * datagram's, proto included (IPv4: the protocol; IPv6: the
	 * Fragment header's Next Header, whose value in other fragments is
	 * ignored, RFC 8200 4.5). */
	const struct l3_rx *rx;
};

/* What reasm_input() did with a fragment. */
enum reasm_result {
	REASM_DONE, /* it completed its datagram, which is returned */
	REASM_HELD, /* kept until the rest comes, or a duplicate ignored */
	/* Dropped and counted: alone (no data, a limit, a datagram dropped
	 * earlier for an overlap, RFC 5722), or with its datagram. */
	REASM_DROPPED,
	/* Refused and counted as bad_length, its datagram kept: more is set
	 * and the length is not a multiple of 8.  IPv6 answers with a
	 * parameter problem pointing at the Payload Length (RFC 8200 4.5). */
	REASM_UNALIGNED,
	/* Refused and counted as bad_length, with its datagram: it would
	 * take the datagram past its 16-bit length field (IPv4: 65535 bytes
	 * with the header; IPv6: a payload of 65535 bytes, extension headers
	 * included).  IPv6 answers with a parameter problem pointing at the
	 * Fragment Offset (RFC 8200 4.5). */
	REASM_TOO_LONG,
};

/* Add the fragment f.  When it completes a datagram, returns it, with
 * *rx_out describing it (the offset-0 fragment's metadata; hdr, hdr_len
 * the kept header, fixed up to describe the whole datagram, so an ICMP
 * error may quote it) and *payload its transport message.  The caller
 * delivers it, sends nothing back into reasm_input() meanwhile, and
 * then gives it back with reasm_release().  NULL otherwise: kept, or
 * dropped and counted.  res (NULL: not wanted) says which.  rx_out and
 * payload may be the very objects f->rx and f->data came from.
 *
 * An IPv6 atomic fragment (offset 0, M clear) is not for here: RFC 6946
 * has it processed alone, never mixed with fragments of the same id. */
struct reasm_dgram *reasm_input(struct stack *s, const struct reasm_frag *f,
				struct l3_rx *rx_out, struct cur *payload,
				enum reasm_result *res);
/* Free a datagram reasm_input() returned. */
void reasm_release(struct stack *s, struct reasm_dgram *d);
/* Free every datagram in progress, without a word to their senders. */
void reasm_fini(struct stack *s);
/* How many datagrams from src are in progress (dead ones included), as
 * reasm_max_per_source bounds them. */
unsigned reasm_from(const struct stack *s, const union inany *src);

#endif
