/* The TAP link: setup through /dev/net/tun, SIOC[GS]IF* ioctls for the MTU
 * and link flags and rtnetlink for the host addresses, and the data path
 * (see tap.h). */
#include "daemon/tap.h"
#include "daemon/capture.h"
#include "wire/ip4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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

/* ---- Host addresses through rtnetlink ----------------------------------
 *
 * The MTU and link flags take the SIOC[GS]IF* ioctls, which the kernel
 * accepts on a socket of any family; addresses go through rtnetlink, so
 * that tapird needs no AF_INET or AF_INET6 socket at all (its unit and its
 * system call filter allow neither). */

/* One request: a header, an ifaddrmsg and room for three addresses. */
struct nl_addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[3 * RTA_SPACE(16)];
};

static int nl_open(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static void nl_put(struct nl_addr_req *r, unsigned short type,
		   const void *data, size_t len)
{
	struct rtattr *rta =
		(struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void nl_addr_init(struct nl_addr_req *r, int type, int flags,
			 int family, unsigned prefix, int ifindex)
{
	static uint32_t seq;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r->nh.nlmsg_type = (unsigned short)type;
	r->nh.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	r->nh.nlmsg_seq = ++seq;
	r->ifa.ifa_family = (unsigned char)family;
	r->ifa.ifa_prefixlen = (unsigned char)prefix;
	r->ifa.ifa_index = (unsigned)ifindex;
}

/* Send r and read the kernel's answer: for a dump, fn (if any) is called
 * with every ifaddrmsg and its attributes until the end; otherwise the
 * acknowledgement.  0, or -errno.  Bounded: at most 4096 reads. */
static int nl_talk(int fd, struct nl_addr_req *r,
		   void (*fn)(void *, const struct ifaddrmsg *,
			      const struct rtattr *, size_t),
		   void *arg)
{
	union {
		char b[8192];
		struct nlmsghdr align;
	} buf;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (int reads = 0; reads < 4096; reads++) {
		ssize_t n = recv(fd, buf.b, sizeof(buf.b), 0);
		size_t left;
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		left = (size_t)n;
		for (h = &buf.align; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->nh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EIO;
				return e->error; /* 0: the acknowledgement */
			}
			if (fn && h->nlmsg_type == RTM_NEWADDR &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg))) {
				const struct ifaddrmsg *ifa = NLMSG_DATA(h);

				fn(arg, ifa, IFA_RTA(ifa), IFA_PAYLOAD(h));
			}
		}
	}
	return -EIO;
}

/* The first (primary) IPv4 address of one device, from a dump. */
struct v4_primary {
	int ifindex;
	bool found;
	uint32_t addr; /* host order */
	unsigned prefix;
};

static void v4_primary_fn(void *arg, const struct ifaddrmsg *ifa,
			  const struct rtattr *rta, size_t len)
{
	struct v4_primary *p = arg;

	if (p->found || ifa->ifa_family != AF_INET ||
	    (int)ifa->ifa_index != p->ifindex || (ifa->ifa_flags & IFA_F_SECONDARY))
		return;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		uint32_t a;

		if (rta->rta_type != IFA_LOCAL || RTA_PAYLOAD(rta) != 4)
			continue;
		memcpy(&a, RTA_DATA(rta), 4);
		p->addr = ntohl(a);
		p->prefix = ifa->ifa_prefixlen;
		p->found = true;
		return;
	}
}

/* Add (RTM_NEWADDR) or remove (RTM_DELADDR) an IPv4 address.  0 or
 * -errno. */
static int nl_addr4(int fd, int type, int ifindex, uint32_t addr,
		    unsigned prefix)
{
	struct nl_addr_req r;
	uint32_t a = htonl(addr), brd = htonl(addr | ~ip4_mask(prefix));

	nl_addr_init(&r, type,
		     NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL
						      : 0),
		     AF_INET, prefix, ifindex);
	nl_put(&r, IFA_LOCAL, &a, 4);
	nl_put(&r, IFA_ADDRESS, &a, 4);
	if (type == RTM_NEWADDR && prefix < 31)
		nl_put(&r, IFA_BROADCAST, &brd, 4);
	return nl_talk(fd, &r, NULL, NULL);
}

static const char *perm_hint(int e)
{
	return e == EPERM || e == EACCES ? " (needs root or CAP_NET_ADMIN)"
					 : "";
}

/* The kernel side's primary IPv4 address becomes addr/prefix, as
 * SIOCSIFADDR would make it: the old primary goes first (removing it
 * after the new one was added would take the new one with it when both
 * are in one subnet). */
static int set_addr4(int fd, const char *name, uint32_t addr, unsigned prefix,
		     char *err, size_t errlen)
{
	struct v4_primary p = {.ifindex = (int)if_nametoindex(name)};
	struct nl_addr_req r;
	char text[INET_ADDRSTRLEN];
	uint32_t be = htonl(addr);
	int rc;

	if (!p.ifindex) {
		snprintf(err, errlen, "cannot set the host address on %s: %s",
			 name, strerror(errno));
		return -1;
	}
	nl_addr_init(&r, RTM_GETADDR, NLM_F_DUMP, AF_INET, 0, 0);
	rc = nl_talk(fd, &r, v4_primary_fn, &p);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the addresses of %s: %s",
			 name, strerror(-rc));
		return -1;
	}
	if (p.found && p.addr == addr && p.prefix == prefix)
		return 0;
	inet_ntop(AF_INET, &be, text, sizeof(text));
	if (p.found) {
		rc = nl_addr4(fd, RTM_DELADDR, p.ifindex, p.addr, p.prefix);
		if (rc < 0) {
			snprintf(err, errlen,
				 "cannot set the host address on %s: removing "
				 "the old one: %s%s",
				 name, strerror(-rc), perm_hint(-rc));
			return -1;
		}
	}
	rc = nl_addr4(fd, RTM_NEWADDR, p.ifindex, addr, prefix);
	if (rc < 0) {
		snprintf(err, errlen,
			 "cannot set the host address %s/%u on %s: %s%s", text,
			 prefix, name, strerror(-rc), perm_hint(-rc));
		return -1;
	}
	return 0;
}

int tap_configure(const char *name, unsigned mtu, uint32_t host_addr,
		  unsigned host_prefix, char *err, size_t errlen)
{
	struct ifreq ifr;
	int sock, rc = -1;

	sock = nl_open();
	if (sock < 0) {
		snprintf(err, errlen, "cannot configure %s: socket(AF_NETLINK): "
				      "%s",
			 name, strerror(errno));
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
	if (host_prefix &&
	    set_addr4(sock, name, host_addr, host_prefix, err, errlen) < 0)
		goto out;
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

/* Add (RTM_NEWADDR) or remove (RTM_DELADDR) addr/prefix on the device
 * with index ifindex.  0, or -1 with err filled. */
static int nl_addr6(int sock, int type, const char *name, int ifindex,
		    const uint8_t addr[16], unsigned prefix, char *err,
		    size_t errlen)
{
	struct nl_addr_req r;
	char text[INET6_ADDRSTRLEN];
	const char *hint = "";
	int e;

	nl_addr_init(&r, type,
		     NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL
						      : 0),
		     AF_INET6, prefix, ifindex);
	nl_put(&r, IFA_LOCAL, addr, 16);
	nl_put(&r, IFA_ADDRESS, addr, 16);
	e = -nl_talk(sock, &r, NULL, NULL);
	if (e == 0)
		return 0;
	if (e == EPERM)
		hint = " (needs root or CAP_NET_ADMIN)";
	else if (e == EACCES)
		hint = " (IPv6 is disabled on it: "
		       "net.ipv6.conf.*.disable_ipv6)";
	else if (e == EAFNOSUPPORT || e == EOPNOTSUPP)
		hint = " (the kernel has no IPv6)";
	else if (e == EINVAL && type == RTM_NEWADDR)
		hint = " (IPv6 needs an MTU of at least 1280)";
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(err, errlen, "cannot %s %s/%u on %s: %s%s",
		 type == RTM_NEWADDR ? "add the host address" : "remove", text,
		 prefix, name, strerror(e), hint);
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
	sock = nl_open();
	if (sock < 0) {
		snprintf(err, errlen, "cannot set host_address6 on %s: "
				      "socket(AF_NETLINK): %s",
			 name, strerror(errno));
		return -1;
	}
	/* A reload that moves the address takes the old one away, as a new
	 * IPv4 host_address replaces the old; the same address with another
	 * prefix is replaced too. */
	if (old && memcmp(old->addr, a->addr, 16) != 0 &&
	    addr6_prefix_on(name, old->addr) == old->prefix &&
	    nl_addr6(sock, RTM_DELADDR, name, ifindex, old->addr, old->prefix,
		     err, errlen) < 0)
		goto out;
	if (have && have != a->prefix &&
	    nl_addr6(sock, RTM_DELADDR, name, ifindex, a->addr, have, err,
		     errlen) < 0)
		goto out;
	if (have != a->prefix &&
	    nl_addr6(sock, RTM_NEWADDR, name, ifindex, a->addr, a->prefix, err,
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

bool tap_err_gone(int err)
{
	return err == -EBADFD || err == -ENODEV || err == -ENXIO ||
	       err == -EIO;
}

enum tap_read_fault tap_read_fault(struct tap *t, size_t n, int err)
{
	if (!err) {
		t->rx_fail_run = 0;
		return TAP_READ_OK;
	}
	if (n)
		t->rx_fail_run = 1; /* the frames before it came through */
	else if (t->rx_fail_run < TAP_READ_FAIL_MAX)
		t->rx_fail_run++;
	if (tap_err_gone(err) || t->rx_fail_run >= TAP_READ_FAIL_MAX)
		return TAP_READ_GONE;
	return TAP_READ_TRANSIENT;
}

static int tap_write(struct tap *t, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
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

int tap_xmit(void *ctx, const uint8_t *frame, size_t len,
	     const struct stack_tx_offload *off)
{
	struct tap *t = ctx;
	int rc = tap_write(t, frame, len, off);

	if (__builtin_expect(t->cap != NULL, 0))
		capture_tx(t->cap, frame, len, rc);
	return rc;
}
