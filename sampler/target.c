#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "../lib/util.h"
#include "target.h"

#define NETNS_RUN_DIR "/run/netns"

static void target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->nsfd = t->pidfd = -1;
}

void target_close(struct target *t)
{
	if (t->nsfd >= 0 && t->nsfd != t->pidfd)
		close(t->nsfd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->nsfd = t->pidfd = -1;
}

/* err: "what: why"; -1 with errno e. */
static int fail_why(char *err, size_t errlen, int e, const char *what, const char *why)
{
	snprintf(err, errlen, "%s: %s", what, why);
	errno = e;
	return -1;
}

static int fail(char *err, size_t errlen, int e, const char *what)
{
	return fail_why(err, errlen, e, what, strerror(e));
}

/* fd must be a network namespace file, nothing else: a regular file or another kind of
 * namespace planted at the path is refused. */
static int is_netns_fd(int fd, uint64_t *ino)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return 0;
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET)
		return 0;
	*ino = st.st_ino;
	return 1;
}

static int from_file(int fd, const char *path, const char *name, int kind, struct target *t,
		     char *err, size_t errlen)
{
	if (!is_netns_fd(fd, &t->ns_ino)) {
		close(fd);
		snprintf(err, errlen, "%s: not a network namespace", path);
		errno = EINVAL;
		return -1;
	}
	t->kind = kind;
	t->nsfd = fd;
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(t->name, sizeof(t->name), "%s", name);
	return 0;
}

/* Opens name in dfd as a namespace file: never through a symbolic link, and only a
 * regular file (nsfs files are; a FIFO or a device planted there is not opened at all:
 * opening a FIFO blocks until a writer comes, and stalled a --all rescan). O_NONBLOCK too,
 * for what might replace the file between the check and the open. */
static int open_ns_file(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static int resolve_netns_name(const char *name, struct target *t, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strlen(name) > 200) {
		errno = ENOENT;
		return -1;
	}
	/* O_NOFOLLOW on the directory and the name: a symlink planted under /run/netns must
	 * not lead clawss into another namespace */
	int dfd = open(NETNS_RUN_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		errno = ENOENT;
		return -1;
	}
	int fd = open_ns_file(dfd, name);
	int e = errno;
	close(dfd);
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	if (fd < 0) {
		if (e == ELOOP)
			return fail_why(err, errlen, e, path, "refusing a symbolic link");
		if (e == EINVAL)
			return fail_why(err, errlen, e, path, "not a network namespace");
		errno = e;
		return -1;
	}
	return from_file(fd, path, name, TARGET_NETNS_NAME, t, err, errlen);
}

/* netns:PATH. A path in /run/netns is a name there (no symbolic link); elsewhere a
 * symbolic link is followed, by design: /proc/PID/ns/net is one. Never blocks on a FIFO
 * and opens no device: only a regular file (as nsfs files are) is opened. */
static int resolve_netns_path(const char *spec, struct target *t, char *err, size_t errlen)
{
	const char *path = spec + 6;
	const char *base = strrchr(path, '/');
	if (strncmp(path, NETNS_RUN_DIR "/", sizeof(NETNS_RUN_DIR)) == 0 &&
	    !strchr(path + sizeof(NETNS_RUN_DIR), '/')) {
		if (resolve_netns_name(path + sizeof(NETNS_RUN_DIR), t, err, errlen) == 0) {
			t->kind = TARGET_PATH;
			return 0;
		}
		if (errno != ENOENT)
			return -1;
		snprintf(err, errlen, "no such container or namespace: %s", spec);
		return -1;
	}
	struct stat st;
	int fd = -1;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		errno = EINVAL;
	else
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			snprintf(err, errlen, "no such container or namespace: %s", spec);
			errno = ENOENT;
			return -1;
		}
		if (errno == EINVAL)
			return fail_why(err, errlen, EINVAL, path, "not a network namespace");
		return fail(err, errlen, errno, path);
	}
	base = base && base[1] ? base + 1 : path;
	if (from_file(fd, path, base, TARGET_PATH, t, err, errlen) < 0)
		return -1;
	/* a path through a symbolic link (/proc/PID/ns/net) is watched for removal
	 * through it: the link itself is not the namespace file */
	t->follow = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	return 0;
}

/* The host's network namespace: pid 1's, and this process's own (clawss may run in a
 * namespace of its own, as under systemd-nspawn). A target there has nothing to watch
 * apart from the host, by whichever route it was named (--network host, a container
 * sharing a host-network container's namespace, Podman's ns:/proc/1/ns/net, pid:N of a
 * host process, netns:/proc/1/ns/net). */
static int is_host_netns(uint64_t ino)
{
	struct stat st;
	return (stat("/proc/1/ns/net", &st) == 0 && st.st_ino == ino) ||
	       (stat("/proc/self/ns/net", &st) == 0 && st.st_ino == ino);
}

int target_from_pid(int pid, struct target *t, char *err, size_t errlen)
{
	char what[32];
	snprintf(what, sizeof(what), "pid:%d", pid);
	target_init(t);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			errno = ENOENT;
		return fail(err, errlen, errno, what);
	}
	/* the pidfd names the process; while it has not exited, its pid cannot be reused,
	 * so /proc/pid read before a liveness check that follows is this process's.
	 * poll, not pidfd_send_signal(0): signalling another user's process needs
	 * CAP_KILL, which clawss does not keep (clawss(8), SECURITY) */
	int64_t started = util_proc_start_ms(pid);
	char nspath[64];
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", pid);
	struct stat st;
	if (started >= 0 && stat(nspath, &st) < 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, e, nspath);
	}
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (started < 0 || poll(&pfd, 1, 0) != 0) {
		close(fd);
		return fail(err, errlen, ENOENT, what);
	}
	t->kind = TARGET_PID;
	t->pid = pid;
	t->pidfd = fd;
	t->nsfd = fd;          /* setns accepts a pidfd (Linux 5.8) */
	t->started = started;
	t->ns_ino = st.st_ino;
	snprintf(t->name, sizeof(t->name), "%s", what);
	return 0;
}

static int resolve_engine(const char *name, const struct target_engine *eng, struct target *t,
			  char *err, size_t errlen)
{
	struct target_engine_hit hit, again;
	int rc = eng->lookup(eng->arg, name, &hit);
	if (rc != 0)
		return rc;
	if (hit.host_network) {
		snprintf(err, errlen, "%s: container shares the host's network namespace "
			 "(--network host): nothing to watch apart from the host", name);
		errno = EINVAL;
		return -1;
	}
	if (hit.pid <= 0) {
		snprintf(err, errlen, "%s: container is not running", name);
		errno = ESRCH;
		return -1;
	}
	if (target_from_pid(hit.pid, t, err, errlen) < 0)
		return -1;
	/* the pid was the container's when the engine answered; ask again now that the
	 * pidfd holds it, so a pid reused in between cannot redirect us */
	if (eng->lookup(eng->arg, name, &again) != 0 || again.pid != hit.pid ||
	    strcmp(again.id, hit.id) != 0) {
		target_close(t);
		snprintf(err, errlen, "%s: container changed while attaching", name);
		errno = EAGAIN;
		return -1;
	}
	t->kind = TARGET_ENGINE;
	t->started = hit.started ? hit.started : t->started;
	snprintf(t->name, sizeof(t->name), "%s", hit.name);
	snprintf(t->engine_id, sizeof(t->engine_id), "%s", hit.id);
	snprintf(t->image, sizeof(t->image), "%s", hit.image);
	return 0;
}

static int resolve(const char *spec, const struct target_engine *eng, struct target *t,
		   char *err, size_t errlen)
{
	target_init(t);
	if (strncmp(spec, "pid:", 4) == 0) {
		long long pid;
		if (util_int_parse(spec + 4, 1, INT_MAX, &pid) < 0) {
			snprintf(err, errlen, "no such container or namespace: %s", spec);
			errno = ENOENT;
			return -1;
		}
		if (target_from_pid((int)pid, t, err, errlen) < 0) {
			if (errno == ENOENT)
				snprintf(err, errlen, "no such container or namespace: %s", spec);
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "netns:", 6) == 0)
		return resolve_netns_path(spec, t, err, errlen);
	if (eng && eng->lookup) {
		int rc = resolve_engine(spec, eng, t, err, errlen);
		if (rc <= 0)
			return rc;
	}
	if (resolve_netns_name(spec, t, err, errlen) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	snprintf(err, errlen, "no such container or namespace: %s", spec);
	errno = ENOENT;
	return -1;
}

int target_resolve(const char *spec, const struct target_engine *eng, struct target *t,
		   char *err, size_t errlen)
{
	if (resolve(spec, eng, t, err, errlen) < 0)
		return -1;
	if (is_host_netns(t->ns_ino)) {
		snprintf(err, errlen, "%s: shares the host's network namespace: nothing to "
			 "watch apart from the host", t->kind == TARGET_ENGINE ? t->name : spec);
		target_close(t);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int target_netns_name(const char *name, struct target *t, char *err, size_t errlen)
{
	target_init(t);
	if (resolve_netns_name(name, t, err, errlen) == 0) {
		if (!is_host_netns(t->ns_ino))
			return 0;
		snprintf(err, errlen, "%s: shares the host's network namespace: nothing to "
			 "watch apart from the host", name);
		target_close(t);
		errno = EINVAL;
		return -1;
	}
	if (errno == ENOENT)
		snprintf(err, errlen, "no such container or namespace: %s", name);
	return -1;
}

int target_file_alive(const struct target *t)
{
	struct stat st;
	/* lstat: a namespace file replaced by a symlink is gone, not followed; a path that
	 * was a link when resolved (/proc/PID/ns/net) is followed as it was then */
	if ((t->follow ? stat(t->path, &st) : lstat(t->path, &st)) < 0)
		return 0;
	return st.st_ino == t->ns_ino;
}

int target_pid_in_ns(uint64_t ino, int skip, struct target *t)
{
	char err[256];
	DIR *d = opendir("/proc");
	struct dirent *de;
	if (!d)
		return -1;
	target_init(t);
	while ((de = readdir(d))) {
		long long pid;
		char path[64];
		struct stat st;
		if (util_int_parse(de->d_name, 1, INT_MAX, &pid) < 0 || pid == skip)
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/ns/net", pid);
		if (stat(path, &st) < 0 || st.st_ino != ino)
			continue;
		if (target_from_pid((int)pid, t, err, sizeof(err)) == 0 && t->ns_ino == ino) {
			closedir(d);
			return 0;
		}
		target_close(t);
	}
	closedir(d);
	errno = ENOENT;
	return -1;
}

struct ns_seen {
	uint64_t *v;
	size_t n, cap;
};

static int seen_add(struct ns_seen *s, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return 0;
	if (util_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
		return -1;
	s->v[s->n++] = ino;
	return 1;
}

int target_scan_all(int (*known)(void *arg, uint64_t ino),
		    int (*cb)(void *arg, struct target *t), void *arg)
{
	struct ns_seen seen = { 0 };
	uint64_t self;
	char err[256];
	struct stat st;
	int rc = 0;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -1;
	self = st.st_ino;
	seen_add(&seen, self);
	if (stat("/proc/1/ns/net", &st) == 0)
		seen_add(&seen, st.st_ino);   /* the host's, if clawss runs elsewhere */

	DIR *d = opendir(NETNS_RUN_DIR);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) && rc == 0) {
			struct target t;
			if (de->d_name[0] == '.')
				continue;
			target_init(&t);
			if (resolve_netns_name(de->d_name, &t, err, sizeof(err)) < 0)
				continue;
			if (seen_add(&seen, t.ns_ino) != 1 || (known && known(arg, t.ns_ino))) {
				target_close(&t);
				continue;
			}
			rc = cb(arg, &t);
		}
		closedir(d);
	}
	d = opendir("/proc");
	if (!d) {
		free(seen.v);
		return rc ? rc : -1;
	}
	/* /proc lists pids in ascending order: the first of a namespace is its lowest */
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		long long pid;
		char path[64];
		if (util_int_parse(de->d_name, 1, INT_MAX, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/ns/net", pid);
		if (stat(path, &st) < 0)
			continue;
		if (seen_add(&seen, st.st_ino) != 1 || (known && known(arg, st.st_ino)))
			continue;
		struct target t;
		if (target_from_pid((int)pid, &t, err, sizeof(err)) < 0 || t.ns_ino != st.st_ino) {
			target_close(&t);
			continue;
		}
		rc = cb(arg, &t);
	}
	closedir(d);
	free(seen.v);
	return rc;
}
