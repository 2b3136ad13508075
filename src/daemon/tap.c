/* TAP device setup through /dev/net/tun and SIOCSIF* ioctls. */
#include "daemon/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

int tap_open(const char *name, char *err, size_t errlen)
{
	return tap_open_flags(name, 0, err, errlen);
}

int tap_open_offload(const char *name, bool *offload, char *err,
		     size_t errlen)
{
	int fd = tap_open_flags(name, IFF_VNET_HDR, err, errlen), hdr = 10;

	*offload = false;
	if (fd < 0)
		return tap_open(name, err, errlen);
	/* The 10-byte struct virtio_net_hdr; then let the kernel hand us
	 * unfinished checksums and unsegmented TCP. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
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
	       get_sin(&ifr->ifr_netmask) == ~0u << (32 - prefix);
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
		set_sin(&ifr.ifr_netmask,
			host_prefix ? ~0u << (32 - host_prefix) : 0);
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
