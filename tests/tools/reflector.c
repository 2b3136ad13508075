/* reflector: the floor of any TAP program, for scripts/bench.
 *
 *     reflector IFNAME IPV4 [SECONDS]
 *
 * Opens TAP IFNAME (no virtio-net header, no offloads) and, in a blocking
 * read / answer in place / write loop, answers ARP requests for IPV4 and
 * ICMP echo requests to it; everything else is ignored.  No event loop,
 * no timers, no copies: the least work a userspace program can do per
 * ping, so a daemon's ping RTT can be given as a ratio to it.  Exits after
 * SECONDS (default 300) so a benchmark cannot leave it behind. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3: the checksum after one 16-bit word went from m to m'. */
static uint16_t csum_adjust(uint16_t hc, uint16_t m, uint16_t m2)
{
	uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~m + m2;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int main(int argc, char **argv)
{
	uint8_t f[65536];
	struct ifreq ifr;
	uint32_t me;
	int fd;

	if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[2], &me) != 1) {
		fprintf(stderr, "usage: reflector IFNAME IPV4 [SECONDS]\n");
		return 2;
	}
	alarm(argc == 4 ? (unsigned)atoi(argv[3]) : 300);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("reflector: /dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("reflector: TUNSETIFF");
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, f, sizeof(f));

		if (n < 14)
			continue;
		if (get16(f + 12) == 0x0806 && n >= 42 &&
		    get16(f + 14) == 1 && get16(f + 16) == 0x0800 &&
		    f[18] == 6 && f[19] == 4 && get16(f + 20) == 1 &&
		    memcmp(f + 38, &me, 4) == 0) {
			memcpy(f, f + 6, 6);
			memcpy(f + 6, mac, 6);
			put16(f + 20, 2);
			memcpy(f + 32, f + 22, 10); /* requester -> target */
			memcpy(f + 22, mac, 6);
			memcpy(f + 28, &me, 4);
			if (write(fd, f, 42) < 0)
				perror("reflector: write");
			continue;
		}
		if (get16(f + 12) == 0x0800 && n >= 14 + 20 + 8 &&
		    (f[14] >> 4) == 4) {
			size_t ihl = (size_t)(f[14] & 15) * 4;
			uint8_t *ip = f + 14, *icmp = ip + ihl, t[4];

			if (ihl < 20 || (size_t)n < 14 + ihl + 8 || ip[9] != 1 ||
			    memcmp(ip + 16, &me, 4) != 0 || icmp[0] != 8 ||
			    (get16(ip + 6) & 0x3fff) != 0)
				continue;
			memcpy(f, f + 6, 6);
			memcpy(f + 6, mac, 6);
			memcpy(t, ip + 12, 4); /* swap addresses: sum unchanged */
			memcpy(ip + 12, ip + 16, 4);
			memcpy(ip + 16, t, 4);
			icmp[0] = 0;
			put16(icmp + 2, csum_adjust(get16(icmp + 2), 0x0800, 0));
			if (write(fd, f, (size_t)n) < 0)
				perror("reflector: write");
		}
	}
}
