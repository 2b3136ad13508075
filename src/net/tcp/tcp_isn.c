/* RFC 6528 initial sequence numbers; see tcp_isn.h. */
#include "net/tcp/tcp_isn.h"

uint32_t tcp_isn(const struct flow_key *k, const uint8_t key[TAPIR_SIPHASH_KEY_LEN],
		 uint64_t now_us)
{
	uint32_t m = (uint32_t)(now_us / 4);
	uint32_t f = (uint32_t)flow_key_siphash(k, key);

	return m + f;
}
