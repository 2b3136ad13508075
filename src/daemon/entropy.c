/* Random bytes from the kernel; see entropy.h. */
#include "daemon/entropy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* What to do about a getrandom() failure. */
static const char *entropy_fix(int e)
{
	switch (e) {
	case ENOSYS:
		return "the kernel has no getrandom system call; run tapird on "
		       "Linux 3.17 or later";
	case EPERM:
	case EACCES:
		return "a system call filter forbids getrandom; allow it (it "
		       "is in systemd's @system-service set)";
	case EIO:
		return "the kernel returned fewer bytes than asked; check its "
		       "random number generator";
	default:
		return "check the kernel's random number generator";
	}
}

static int entropy_draw(void *buf, size_t len, unsigned flags, char *err,
			size_t errlen)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, flags);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && (flags & GRND_NONBLOCK)) {
			snprintf(err, errlen, "the kernel's random pool is not "
					      "initialised yet");
			return -EAGAIN;
		}
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			snprintf(err, errlen,
				 "cannot read random bytes from the kernel "
				 "(getrandom: %s): %s",
				 strerror(e), entropy_fix(e));
			return -e;
		}
		got += (size_t)n;
	}
	return 0;
}

int entropy_fill(void *buf, size_t len, char *err, size_t errlen)
{
	return entropy_draw(buf, len, 0, err, errlen);
}

int entropy_try(void *buf, size_t len, char *err, size_t errlen)
{
	return entropy_draw(buf, len, GRND_NONBLOCK, err, errlen);
}
