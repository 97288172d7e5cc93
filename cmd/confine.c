/* The commands' side of lib/confine.h: narrow, say why on failure, and run the test hook
 * that proves the seccomp filter refuses what it must (CLAWSS_TEST_SECCOMP_PROBE). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../lib/confine.h"
#include "cmd.h"

/* The test hook: harmless even where the filter would let it through, and reported so
 * a test sees the difference between refused, killed (fatal calls) and allowed. */
static int probe(const char *cmd)
{
	const char *what = getenv("CLAWSS_TEST_SECCOMP_PROBE");
	if (!what || !*what)
		return 0;
	if (strcmp(what, "stop") == 0) {
		/* confined now: stop, so that a test can read /proc/PID/status at leisure
		 * before SIGCONT. One tgkill aimed at this process (the main thread's id is
		 * the pid), which every role's filter allows; raise() fails under the
		 * filter (EINVAL) */
		if (syscall(SYS_tgkill, getpid(), getpid(), SIGSTOP) != 0) {
			cmd_fail("%s: seccomp probe stop: %s", cmd, strerror(errno));
			return -1;
		}
		return 0;
	}
	errno = 0;
	long rc = confine_probe(what);
	if (rc == -2 && errno == EINVAL) {
		cmd_fail("%s: CLAWSS_TEST_SECCOMP_PROBE: unknown probe '%s'", cmd, what);
		return -1;
	}
	if (rc == -1 && (errno == EPERM || errno == EACCES)) {
		fprintf(stderr, "clawss: %s: seccomp probe %s: refused (%s)\n", cmd, what,
			strerror(errno));
		return 0;
	}
	cmd_fail("%s: seccomp probe %s was not refused", cmd, what);
	return -1;
}

int cmd_confine_reader(const char *cmd, const struct global *g)
{
	char err[512];
	if (confine_reader(g->db, err, sizeof(err)) < 0) {
		cmd_fail("%s: confining itself: %s", cmd, err);
		return EXIT_TROUBLE;
	}
	return probe(cmd) < 0 ? EXIT_TROUBLE : 0;
}

int cmd_confine_watcher(const char *cmd, unsigned flags, const struct global *g)
{
	(void)g;
	char err[512];
	if (confine_watcher(flags, err, sizeof(err)) < 0) {
		cmd_fail("%s: confining itself: %s", cmd, err);
		return EXIT_TROUBLE;
	}
	return probe(cmd) < 0 ? EXIT_TROUBLE : 0;
}
