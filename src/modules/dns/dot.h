/*
 * DNS over TLS (RFC 7858) for the dns module: a TLS listener (tapird's
 * TLS layer, host API 5) in front of the module's TCP handlers, so
 * queries over TLS get the RFC 7766 connection handling TCP has
 * (pipelining, out-of-order answers, idle timeout, connection limit).
 */
#ifndef TAPIR_DNS_DOT_H
#define TAPIR_DNS_DOT_H

#include <stdint.h>

#include <tapir/module.h>

/* The port of RFC 7858 3.1. */
#define DNS_DOT_PORT 853

/* Listen for DoT on port with tls (ALPN "dot", RFC 7858 3.2 and the
 * IANA registry).  0 with *out set, or -1 (logged). */
int dns_dot_open(struct tapir_host *host, const struct tapir_host_api *api,
		 const config_setting_t *tls, uint16_t port,
		 const struct tapir_tcp_handlers *cb, void *arg,
		 struct tapir_tcp_listener **out);
/* New settings on reconfigure: the same port keeps its listener with the
 * new certificate for new connections; another port gets a new listener
 * first; tls NULL ends DoT.  0, or -1 with *l unchanged. */
int dns_dot_reconf(struct tapir_host *host, const struct tapir_host_api *api,
		   const config_setting_t *tls, uint16_t port,
		   uint16_t old_port, const struct tapir_tcp_handlers *cb,
		   void *arg, struct tapir_tcp_listener **l);

#endif
