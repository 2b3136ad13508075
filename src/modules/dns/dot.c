/*
 * DNS over TLS listener management (see dot.h).
 */
#include "dot.h"

#include <errno.h>
#include <string.h>

int dns_dot_open(struct tapir_host *host, const struct tapir_host_api *api,
		 const config_setting_t *tls, uint16_t port,
		 const struct tapir_tcp_handlers *cb, void *arg,
		 struct tapir_tcp_listener **out)
{
	*out = NULL;
	if (!tls)
		return 0;
	if (!TAPIR_HOST_HAS(api, tcp_listen_tls)) {
		api->log(host, TAPIR_LOG_ERR,
			 "tls needs a tapird with host API 5");
		return -1;
	}
	*out = api->tcp_listen_tls(host, port, tls, "dot", cb, arg);
	if (!*out) {
		api->log(host, TAPIR_LOG_ERR,
			 "cannot listen for DNS over TLS on TCP port %u: %s",
			 port, strerror(errno));
		return -1;
	}
	return 0;
}

int dns_dot_reconf(struct tapir_host *host, const struct tapir_host_api *api,
		   const config_setting_t *tls, uint16_t port,
		   uint16_t old_port, const struct tapir_tcp_handlers *cb,
		   void *arg, struct tapir_tcp_listener **l)
{
	struct tapir_tcp_listener *nl;

	if (!tls) {
		if (*l)
			api->tcp_unlisten(*l);
		*l = NULL;
		return 0;
	}
	if (*l && port == old_port)
		return api->tls_update(*l, tls) < 0 ? -1 : 0;
	if (dns_dot_open(host, api, tls, port, cb, arg, &nl) < 0)
		return -1;
	if (*l)
		api->tcp_unlisten(*l);
	*l = nl;
	return 0;
}
