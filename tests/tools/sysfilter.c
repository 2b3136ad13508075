/*
 * sysfilter: run a program under a system call allow-list, as systemd's
 * SystemCallFilter= and RestrictAddressFamilies= do, for tests that check
 * tapird under its unit's filter without systemd.
 *
 *   sysfilter LIST FAMILIES PROGRAM [ARGS...]
 *
 * LIST is a file of system call names, one per line (what the unit's
 * SystemCallFilter= lines allow, expanded with systemd-analyze
 * syscall-filter); names this architecture lacks are skipped.  FAMILIES
 * is a comma-separated list of socket families by number (1 AF_UNIX, 2
 * AF_INET, 10 AF_INET6, 16 AF_NETLINK); socket() with another fails with
 * EAFNOSUPPORT, as under RestrictAddressFamilies=.  A call outside LIST
 * kills the process (SIGSYS), as systemd's filter does.  no_new_privs is
 * set; PROGRAM is executed in place (same pid).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	char line[128], *fam, *save = NULL;
	int socket_nr = seccomp_syscall_resolve_name("socket");
	unsigned n = 0, nfam = 0;
	uint64_t fams[64];
	FILE *f;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: sysfilter LIST FAMILIES PROGRAM [ARGS...]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		int nr;

		line[strcspn(line, " \t\r\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		nr = seccomp_syscall_resolve_name(line);
		if (nr < 0 || nr == socket_nr)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			fprintf(stderr, "sysfilter: %s: %s\n", line, strerror(-rc));
			return 2;
		}
		n++;
	}
	fclose(f);
	for (fam = strtok_r(argv[2], ",", &save); fam && nfam < 64;
	     fam = strtok_r(NULL, ",", &save))
		fams[nfam++] = strtoull(fam, NULL, 10);
	/* Listed families allowed; every other one refused, not fatal. */
	for (uint64_t d = 0; d < 64; d++) {
		uint32_t action = SCMP_ACT_ERRNO(EAFNOSUPPORT);

		for (unsigned i = 0; i < nfam; i++)
			if (fams[i] == d)
				action = SCMP_ACT_ALLOW;
		rc = seccomp_rule_add(ctx, action, socket_nr, 1,
				      SCMP_A0(SCMP_CMP_EQ, d));
		if (rc < 0) {
			fprintf(stderr, "sysfilter: socket family %llu: %s\n",
				(unsigned long long)d, strerror(-rc));
			return 2;
		}
	}
	if (n == 0) {
		fprintf(stderr, "sysfilter: no system call in %s\n", argv[1]);
		return 2;
	}
	rc = seccomp_load(ctx);
	if (rc < 0) {
		fprintf(stderr, "sysfilter: load: %s\n", strerror(-rc));
		return 2;
	}
	execv(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
