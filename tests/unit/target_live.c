/* Targets against the running kernel: a process resolved in one network namespace that
 * moves to another before clawss enters it (an init that unshares, leaving clawss an
 * empty namespace) is refused once entered, never watched. Needs root (unshare, setns);
 * skips otherwise. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/tap.h"
#include "sampler/target.h"
#include "sampler/watch.h"
#include "store/store.h"

static uint64_t ino_of(int pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* The child: its own namespace at once, a second one when told (a byte on cmd), then
 * waits to be killed. Says "moved" with a byte on ack each time. */
static void child(int cmd, int ack)
{
	char c = 0;
	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	if (write(ack, &c, 1) != 1 || read(cmd, &c, 1) != 1)
		_exit(1);
	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	if (write(ack, &c, 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

int main(void)
{
	char dir[] = "/tmp/clawss-target-live-XXXXXX", db[64], err[512] = "";
	int cmd[2], ack[2];
	char c = 0;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (unshare, setns)\n");
		return 0;
	}
	/* valgrind 3.19 (.ci/run runs the unit tests under it) does not know pidfd_open:
	 * there, and only there, this cannot run; make check and check-sanitize run it */
	long pfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pfd < 0 && errno == ENOSYS) {
		printf("1..0 # SKIP pidfd_open(2) is not implemented here (valgrind)\n");
		return 0;
	}
	if (pfd >= 0)
		close((int)pfd);
	tap_plan(6);
	if (pipe(cmd) < 0 || pipe(ack) < 0 || !mkdtemp(dir))
		return 1;
	snprintf(db, sizeof(db), "%s/t.db", dir);
	pid_t pid = fork();
	if (pid == 0)
		child(cmd[0], ack[1]);
	if (pid < 0 || read(ack[0], &c, 1) != 1)
		return 1;

	struct target t;
	char spec[32];
	snprintf(spec, sizeof(spec), "pid:%d", (int)pid);
	uint64_t first = ino_of(pid);
	is_int(target_resolve(spec, NULL, &t, err, sizeof(err)), 0, "resolved %s", spec);
	is_int(t.ns_ino, first, "in the namespace it made first");

	/* now it moves on, between resolving and entering */
	if (write(cmd[1], &c, 1) != 1 || read(ack[0], &c, 1) != 1)
		return 1;
	ok(ino_of(pid) != first, "the process moved to another namespace");

	struct store *st = NULL;
	if (store_open(&st, db, STORE_WRITE, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		return 1;
	}
	struct watch_opts o = { .interval_ms = 1000, .refresh_ms = 1000, .rescan_ms = 1000,
				.once = 1 };
	struct watch *w = watch_new(st, &o, err, sizeof(err));
	if (!w)
		return 1;
	err[0] = '\0';
	errno = 0;
	int rc = watch_add(w, &t, err, sizeof(err));
	int e = errno;
	is_int(rc, -1, "entering it is refused: %s", err);
	is_int(e, ESTALE, "errno ESTALE");
	ok(strstr(err, "network namespace changed while attaching") != NULL,
	   "and it says why");

	watch_free(w);
	store_close(st);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(db);
	char side[96];
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
	rmdir(dir);
	return tap_failed ? 1 : 0;
}
