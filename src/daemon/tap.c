/* The TAP link: setup through /dev/net/tun and SIOCSIF* ioctls, and the
 * data path (see tap.h). */
#include "daemon/tap.h"
#include "wire/ip4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert(sizeof(struct virtio_net_hdr) == TAP_VNET_HDR_LEN,
	       "the virtio-net header TUNSETVNETHDRSZ is given");

static int tap_open_flags(const char *name, short flags, char *err,
			  size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			snprintf(err, errlen,
				 "cannot open /dev/net/tun: %s; load the tun "
				 "driver (modprobe tun) or create the node "
				 "(mknod /dev/net/tun c 10 200)",
				 strerror(e));
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "cannot open /dev/net/tun: %s; run tapird as "
				 "root or give it access to the device "
				 "(DeviceAllow=/dev/net/tun rw)",
				 strerror(e));
		else
			snprintf(err, errlen, "cannot open /dev/net/tun: %s",
				 strerror(e));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | flags);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		if (e == EPERM || e == EACCES)
			snprintf(err, errlen,
				 "cannot attach to TAP %s: %s; run as root or "
				 "with CAP_NET_ADMIN, or create it for this user "
				 "first (ip tuntap add dev %s mode tap user USER)",
				 name, strerror(e), name);
		else if (e == EBUSY)
			snprintf(err, errlen,
				 "cannot attach to TAP %s: device busy; another "
				 "process holds it (stop it, or choose another "
				 "interface.name)",
				 name);
		else if (e == EINVAL)
			snprintf(err, errlen,
				 "cannot attach to TAP %s: invalid argument; the "
				 "name is taken by a device that is not a TAP "
				 "(or is a TUN device); choose another "
				 "interface.name",
				 name);
		else
			snprintf(err, errlen, "cannot attach to TAP %s: %s",
				 name, strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

static int tap_open(const char *name, char *err, size_t errlen)
{
	return tap_open_flags(name, 0, err, errlen);
}

/* tap_open() asking for offloads; *offload says whether they took. */
static int tap_open_offload(const char *name, bool *offload, char *err,
			    size_t errlen)
{
	int fd = tap_open_flags(name, IFF_VNET_HDR, err, errlen);
	int hdr = TAP_VNET_HDR_LEN;

	*offload = false;
	if (fd < 0)
		return tap_open(name, err, errlen);
	/* The 10-byte struct virtio_net_hdr; then let the kernel hand us
	 * unfinished checksums and unsegmented TCP, over IPv4 and IPv6. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD,
		  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		close(fd);
		return tap_open(name, err, errlen);
	}
	*offload = true;
	return fd;
}

static int sioc(int sock, unsigned long req, struct ifreq *ifr,
		const char *what, char *err, size_t errlen)
{
	if (ioctl(sock, req, ifr) == 0)
		return 0;
	snprintf(err, errlen, "cannot %s on %s: %s%s", what, ifr->ifr_name,
		 strerror(errno),
		 errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	return -1;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	memcpy(sa, &sin, sizeof(sin));
}

static uint32_t get_sin(const struct sockaddr *sa)
{
	struct sockaddr_in sin;

	memcpy(&sin, sa, sizeof(sin));
	return ntohl(sin.sin_addr.s_addr);
}

/* Does the device already carry addr/prefix as its primary address? */
static bool has_addr(int sock, struct ifreq *ifr, uint32_t addr,
		     unsigned prefix)
{
	if (ioctl(sock, SIOCGIFADDR, ifr) < 0 || get_sin(&ifr->ifr_addr) != addr)
		return false;
	return ioctl(sock, SIOCGIFNETMASK, ifr) == 0 &&
	       get_sin(&ifr->ifr_netmask) == ip4_mask(prefix);
}

int tap_configure(const char *name, unsigned mtu, uint32_t host_addr,
		  unsigned host_prefix, char *err, size_t errlen)
{
	struct ifreq ifr;
	int sock, rc = -1;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* Change only what differs, so an unprivileged tapird can attach to a
	 * persistent TAP that was set up for it beforehand. */
	if (mtu && (ioctl(sock, SIOCGIFMTU, &ifr) < 0 ||
		    ifr.ifr_mtu != (int)mtu)) {
		ifr.ifr_mtu = (int)mtu;
		if (sioc(sock, SIOCSIFMTU, &ifr, "set the MTU", err, errlen))
			goto out;
	}
	if (host_prefix && !has_addr(sock, &ifr, host_addr, host_prefix)) {
		set_sin(&ifr.ifr_addr, host_addr);
		if (sioc(sock, SIOCSIFADDR, &ifr, "set the host address", err,
			 errlen))
			goto out;
		set_sin(&ifr.ifr_netmask, ip4_mask(host_prefix));
		if (sioc(sock, SIOCSIFNETMASK, &ifr, "set the netmask", err,
			 errlen))
			goto out;
	}
	if (sioc(sock, SIOCGIFFLAGS, &ifr, "read the link flags", err, errlen))
		goto out;
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (sioc(sock, SIOCSIFFLAGS, &ifr, "bring the link up", err,
			 errlen))
			goto out;
	}
	rc = 0;
out:
	close(sock);
	return rc;
}

/* The prefix length of addr on the kernel side of name, 0 when it does
 * not carry it (or cannot be asked). */
static unsigned addr6_prefix_on(const char *name, const uint8_t addr[16])
{
	struct ifaddrs *ifs, *i;
	unsigned prefix = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i && !prefix; i = i->ifa_next) {
		struct sockaddr_in6 sa, mask;

		if (!i->ifa_addr || !i->ifa_netmask ||
		    i->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(i->ifa_name, name) != 0)
			continue;
		memcpy(&sa, i->ifa_addr, sizeof(sa));
		memcpy(&mask, i->ifa_netmask, sizeof(mask));
		if (memcmp(&sa.sin6_addr, addr, 16) != 0)
			continue;
		for (unsigned b = 0; b < 128; b++)
			if (mask.sin6_addr.s6_addr[b / 8] & (0x80u >> (b % 8)))
				prefix++;
		if (!prefix) /* a /0 would read as absent: never ours */
			break;
	}
	freeifaddrs(ifs);
	return prefix;
}

/* Say in err why the kernel side of name takes no IPv6 address, when
 * /proc tells: the kernel has no IPv6, or the device has it disabled. */
static bool ipv6_disabled(const char *name, char *err, size_t errlen)
{
	char path[96], v = 0;
	int fd;

	if (access("/proc/sys/net", F_OK) == 0 &&
	    access("/proc/sys/net/ipv6", F_OK) < 0 && errno == ENOENT) {
		snprintf(err, errlen,
			 "cannot set host_address6 on %s: the kernel runs "
			 "without IPv6 (booted with ipv6.disable=1?); enable "
			 "it, or remove interface.host_address6",
			 name);
		return true;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* the ioctl will tell */
	if (read(fd, &v, 1) == 1 && v == '1') {
		snprintf(err, errlen,
			 "cannot set host_address6 on %s: IPv6 is disabled "
			 "on it (net.ipv6.conf.%s.disable_ipv6 = 1); set it "
			 "to 0 (for a TAP tapird creates, "
			 "net.ipv6.conf.default.disable_ipv6), or remove "
			 "interface.host_address6",
			 name, name);
		close(fd);
		return true;
	}
	close(fd);
	return false;
}

/* Add (SIOCSIFADDR) or remove (SIOCDIFADDR) addr/prefix on the device
 * with index ifindex.  0, or -1 with err filled. */
static int sioc6(int sock, unsigned long req, const char *name, int ifindex,
		 const uint8_t addr[16], unsigned prefix, char *err,
		 size_t errlen)
{
	struct in6_ifreq r;
	char text[INET6_ADDRSTRLEN];
	const char *hint = "";
	int e;

	memset(&r, 0, sizeof(r));
	memcpy(&r.ifr6_addr, addr, 16);
	r.ifr6_prefixlen = prefix;
	r.ifr6_ifindex = ifindex;
	if (ioctl(sock, req, &r) == 0)
		return 0;
	e = errno;
	if (e == EPERM)
		hint = " (needs root or CAP_NET_ADMIN)";
	else if (e == EACCES)
		hint = " (IPv6 is disabled on it: "
		       "net.ipv6.conf.*.disable_ipv6)";
	else if (e == EINVAL && req == SIOCSIFADDR)
		hint = " (IPv6 needs an MTU of at least 1280)";
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(err, errlen, "cannot %s %s/%u on %s: %s%s",
		 req == SIOCSIFADDR ? "add the host address" : "remove",
		 text, prefix, name, strerror(e), hint);
	return -1;
}

int tap_configure6(const char *name, const struct stack_addr6 *a,
		   const struct stack_addr6 *old, char *err, size_t errlen)
{
	unsigned have;
	int sock, ifindex, rc = -1;

	if (!a)
		return 0;
	/* Change only what differs, so an unprivileged tapird can attach to
	 * a persistent TAP that was set up for it beforehand. */
	have = addr6_prefix_on(name, a->addr);
	if (have == a->prefix && (!old || !memcmp(old->addr, a->addr, 16)))
		return 0;
	if (ipv6_disabled(name, err, errlen))
		return -1;
	ifindex = (int)if_nametoindex(name);
	if (!ifindex) {
		snprintf(err, errlen, "cannot set host_address6 on %s: %s",
			 name, strerror(errno));
		return -1;
	}
	sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		snprintf(err, errlen, "cannot set host_address6 on %s: "
				      "socket(AF_INET6): %s%s",
			 name, strerror(errno),
			 errno == EAFNOSUPPORT ? " (the kernel has no IPv6)"
					       : "");
		return -1;
	}
	/* A reload that moves the address takes the old one away, as a new
	 * IPv4 host_address replaces the old; the same address with another
	 * prefix is replaced too. */
	if (old && memcmp(old->addr, a->addr, 16) != 0 &&
	    addr6_prefix_on(name, old->addr) == old->prefix &&
	    sioc6(sock, SIOCDIFADDR, name, ifindex, old->addr, old->prefix, err,
		  errlen) < 0)
		goto out;
	if (have && have != a->prefix &&
	    sioc6(sock, SIOCDIFADDR, name, ifindex, a->addr, have, err,
		  errlen) < 0)
		goto out;
	if (have != a->prefix &&
	    sioc6(sock, SIOCSIFADDR, name, ifindex, a->addr, a->prefix, err,
		  errlen) < 0)
		goto out;
	rc = 0;
out:
	close(sock);
	return rc;
}

/* ---- Data path ----------------------------------------------------------- */

int tap_link_init(struct tap *t, int fd, bool vnet)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->vnet = vnet;
	/* Pages are touched only as frames need them. */
	t->slots = malloc((size_t)TAP_BATCH * TAP_FRAME_MAX);
	return t->slots ? 0 : -ENOMEM;
}

int tap_link_open(struct tap *t, const char *name, bool offload, char *err,
		  size_t errlen)
{
	bool vnet = false;
	int fd = offload ? tap_open_offload(name, &vnet, err, errlen)
			 : tap_open(name, err, errlen);

	if (fd < 0) {
		memset(t, 0, sizeof(*t));
		t->fd = -1;
		return -1;
	}
	if (tap_link_init(t, fd, vnet) < 0) {
		snprintf(err, errlen, "out of memory for the buffers of TAP %s",
			 name);
		return -1;
	}
	return 0;
}

void tap_link_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->slots);
	t->slots = NULL;
}

/* Read one frame into slot; 1 and *fr filled, 0 for a runt (dropped), or
 * -errno (-EAGAIN: nothing to read). */
static int tap_read_one(struct tap *t, uint8_t *slot, struct tap_frame *fr)
{
	struct virtio_net_hdr vh;
	struct iovec iov[2] = {
		{.iov_base = &vh, .iov_len = TAP_VNET_HDR_LEN},
		{.iov_base = slot, .iov_len = TAP_FRAME_MAX},
	};
	ssize_t n;

	if (t->vnet)
		n = readv(t->fd, iov, 2);
	else
		n = read(t->fd, slot, TAP_FRAME_MAX);
	if (n < 0)
		return -errno;
	fr->data = slot;
	fr->flags = 0;
	if (!t->vnet) {
		fr->len = (size_t)n;
		return 1;
	}
	if ((size_t)n <= TAP_VNET_HDR_LEN) {
		t->rx_short++;
		return 0;
	}
	fr->len = (size_t)n - TAP_VNET_HDR_LEN;
	/* The kernel checked the checksum, or leaves it to the receiver of
	 * a frame it made itself. */
	if (vh.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM |
			VIRTIO_NET_HDR_F_DATA_VALID))
		fr->flags |= STACK_RX_CSUM_OK;
	return 1;
}

size_t tap_read_batch(struct tap *t, int *err)
{
	size_t n = 0;

	*err = 0;
	for (size_t reads = 0; reads < TAP_BATCH; reads++) {
		int rc = tap_read_one(t, t->slots + n * TAP_FRAME_MAX,
				      &t->rx[n]);

		if (rc < 0) {
			if (rc != -EAGAIN && rc != -EINTR)
				*err = rc;
			break;
		}
		n += (size_t)rc;
	}
	return n;
}

int tap_xmit(void *ctx, const uint8_t *frame, size_t len,
	     const struct stack_tx_offload *off)
{
	struct tap *t = ctx;
	struct virtio_net_hdr vh;
	struct iovec iov[2];
	ssize_t n;

	if (!t->vnet) {
		n = write(t->fd, frame, len);
		if (n < 0)
			return -errno;
		return (size_t)n == len ? 0 : -EIO;
	}
	memset(&vh, 0, sizeof(vh));
	if (off && off->csum) {
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = off->csum_start;
		vh.csum_offset = off->csum_offset;
		if (off->gso_size) {
			/* The kernel cuts by the network header it is told
			 * of: the frame's EtherType says which. */
			bool v6 = len >= ETH_HLEN &&
				  ((unsigned)frame[12] << 8 | frame[13]) ==
					  ETH_TYPE_IP6;

			vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6
					 : VIRTIO_NET_HDR_GSO_TCPV4;
			vh.gso_size = off->gso_size;
			vh.hdr_len = off->hdr_len;
		}
	}
	iov[0].iov_base = &vh;
	iov[0].iov_len = TAP_VNET_HDR_LEN;
	iov[1].iov_base = (void *)frame;
	iov[1].iov_len = len;
	n = writev(t->fd, iov, 2);
	if (n < 0)
		return -errno;
	return (size_t)n == len + TAP_VNET_HDR_LEN ? 0 : -EIO;
}
