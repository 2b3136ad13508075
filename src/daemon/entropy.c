/* Random bytes from the kernel; see entropy.h. */
#include "daemon/entropy.h"
#include "tapir/siphash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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

/* tapir's constant in every machine key, with the derivation's version:
 * a new derivation gets a new string, so that it never yields an old key
 * by chance. */
static const char machine_key_label[] = "tapir machine key v1";

int entropy_machine_key(const char *id_path, const char *purpose,
			const char *name, uint8_t key[16], char *err,
			size_t errlen)
{
	uint8_t id[TAPIR_SIPHASH_KEY_LEN], msg[sizeof(machine_key_label) + 256];
	char text[64];
	size_t plen = strlen(purpose) + 1, nlen = strlen(name), mlen;
	ssize_t n;
	int fd;

	if (plen + nlen > sizeof(msg) - sizeof(machine_key_label) - 1) {
		snprintf(err, errlen, "machine key for '%s' '%s': names too "
				      "long", purpose, name);
		return -1;
	}
	fd = open(id_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", id_path,
			 strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", id_path,
			 strerror(errno));
		return -1;
	}
	text[n] = '\0';
	/* 32 hex digits and a newline (machine-id(5)); anything else, such
	 * as "uninitialized" or an empty file early in the first boot, is
	 * no identity yet. */
	if (strspn(text, "0123456789abcdefABCDEF") != 32 ||
	    (text[32] && strcmp(text + 32, "\n") != 0)) {
		explicit_bzero(text, sizeof(text));
		snprintf(err, errlen, "%s holds no machine ID (32 hex digits; "
				      "systemd-machine-id-setup writes one)",
			 id_path);
		return -1;
	}
	for (int i = 0; i < 16; i++) {
		char byte[3] = {text[2 * i], text[2 * i + 1], 0};

		id[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	/* label NUL counter purpose NUL name: each part's end is plain, so
	 * no two (purpose, name) pairs make the same message. */
	memcpy(msg, machine_key_label, sizeof(machine_key_label));
	mlen = sizeof(machine_key_label) + 1;
	memcpy(msg + mlen, purpose, plen);
	mlen += plen;
	memcpy(msg + mlen, name, nlen);
	mlen += nlen;
	for (int half = 0; half < 2; half++) {
		uint64_t h;

		msg[sizeof(machine_key_label)] = (uint8_t)half;
		h = tapir_siphash24(msg, mlen, id);
		for (int i = 0; i < 8; i++)
			key[8 * half + i] = (uint8_t)(h >> (8 * i));
	}
	explicit_bzero(id, sizeof(id));
	explicit_bzero(text, sizeof(text));
	return 0;
}
