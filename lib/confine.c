#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <cap-ng.h>
#include <seccomp.h>
#include "confine.h"

/* Sanitizer runtimes make calls of their own at exit (LeakSanitizer stops the world with
 * clone + ptrace) and on error; those builds allow them. Never in a release build. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_SANITIZER 1
#endif
#endif
#ifndef CONFINE_SANITIZER
#define CONFINE_SANITIZER 0
#endif

/* A build for tracing the calls clawss makes (-DCLAWSS_CONFINE_AUDIT): everything is
 * allowed and logged instead of refused. Never a release build. */
#ifdef CLAWSS_CONFINE_AUDIT
#define ACT_REFUSE SCMP_ACT_LOG
#define ACT_FATAL SCMP_ACT_LOG
#else
#define ACT_REFUSE SCMP_ACT_ERRNO(EPERM)
#define ACT_FATAL SCMP_ACT_KILL_PROCESS
#endif

/* How a call is allowed: plainly, or only with some arguments. */
enum rule {
	R_ANY = 0,
	R_NOEXEC,        /* mmap: never PROT_EXEC (no new code) */
	R_IOCTL_TTY,     /* ioctl: isatty's TCGETS, TIOCGWINSZ */
	R_IOCTL_NS,      /* ioctl: NS_GET_NSTYPE */
	R_FCNTL,         /* no F_SETOWN / F_SETSIG / lease tricks: locks, flags, dup */
	R_SETNS_NET,     /* setns(fd, CLONE_NEWNET) only */
	R_SOCK_NETFILTER,/* socket(AF_NETLINK, *, NETLINK_NETFILTER) */
	R_SOCK_ROUTE,    /* socket(AF_NETLINK, *, NETLINK_ROUTE) */
	R_SOCK_DIAG,     /* socket(AF_NETLINK, *, NETLINK_SOCK_DIAG) */
	R_SOCK_UNIX,     /* socket(AF_UNIX, ...), socketpair(AF_UNIX, ...) */
	R_TGKILL_SELF,   /* tgkill aimed at this process (abort, raise) */
};

/* Which roles a call belongs to. */
#define A_READ   0x01u   /* every role */
#define A_WATCH  0x02u   /* watch, sample */
#define A_NS     0x04u   /* CONFINE_ENTER_NS */
#define A_ENGINE 0x08u   /* CONFINE_ENGINE */
#define A_FLOWNS 0x10u   /* CONFINE_ENTER_NS with CONFINE_FLOWS */

struct call {
	const char *name;
	unsigned roles;
	enum rule rule;
};

/* The allowlist: the calls strace -f saw clawss make after confining itself, over the
 * whole test suite (watch, sample, --all, --follow, --label, the engine's event stream,
 * owner lookups, WAL writes and checkpoints, signals), plus the few marked "also" that
 * a path the suite does not reach makes. Keep clawss(8), SECURITY, in step: the test
 * t6000-confine.t checks that every name here is listed there. */
static const struct call calls[] = {
	/* memory (malloc: brk, and mmap/mremap/munmap for large blocks) */
	{ "brk", A_READ, R_ANY },
	{ "mmap", A_READ, R_NOEXEC },
	{ "munmap", A_READ, R_ANY },
	{ "mremap", A_READ, R_ANY },
	{ "madvise", A_READ, R_ANY },            /* also: free() giving memory back */
	/* files: the database with its -wal and -shm, /proc, an allowlist, stdout */
	{ "openat", A_READ, R_ANY },
	{ "close", A_READ, R_ANY },
	{ "read", A_READ, R_ANY },
	{ "pread64", A_READ, R_ANY },
	{ "write", A_READ, R_ANY },
	{ "pwrite64", A_READ, R_ANY },
	{ "lseek", A_READ, R_ANY },
	{ "newfstatat", A_READ, R_ANY },
	{ "access", A_READ, R_ANY },             /* also: SQLite's xAccess (hot journal) */
	{ "getcwd", A_READ, R_ANY },             /* SQLite: a relative path made absolute */
	{ "fcntl", A_READ, R_FCNTL },            /* SQLite's locks, O_NONBLOCK */
	{ "ioctl", A_READ, R_IOCTL_TTY },        /* also: stdio on a terminal (isatty) */
	{ "fdatasync", A_READ, R_ANY },
	{ "fsync", A_READ, R_ANY },              /* also: SQLite syncing a directory */
	{ "ftruncate", A_READ, R_ANY },          /* -shm sizing, WAL reset */
	{ "fallocate", A_READ, R_ANY },          /* also: SQLite's size hint */
	{ "fchown", A_READ, R_ANY },             /* SQLite run by root: a new -shm's owner */
	/* not fchmod: clawss runs as uid 0, which owns root's files, so fchmod needs no
	 * capability there and a taken-over process could change any file it can open.
	 * SQLite's only use, a new -wal or -shm given the database's mode back after the
	 * umask narrowed it, fails harmlessly: the file keeps the narrower mode. */
	{ "unlink", A_READ, R_ANY },             /* SQLite: the WAL at a writer's last close
						  * (watch, prune), a temporary file */
	/* identity, time, randomness, signals, exit */
	{ "getpid", A_READ, R_ANY },
	{ "geteuid", A_READ, R_ANY },
	{ "clock_gettime", A_READ, R_ANY },      /* also: when the vDSO cannot answer */
	{ "gettimeofday", A_READ, R_ANY },       /* also: the same */
	{ "clock_nanosleep", A_READ, R_ANY },    /* also: SQLite's busy handler */
	{ "getrandom", A_READ, R_ANY },
	{ "futex", A_READ, R_ANY },
	{ "sysinfo", A_READ, R_ANY },            /* qsort() sizing its buffer */
	{ "rt_sigprocmask", A_READ, R_ANY },
	{ "rt_sigreturn", A_READ, R_ANY },       /* also: the return from any signal handler */
	{ "tgkill", A_READ, R_TGKILL_SELF },     /* also: abort() */
	{ "exit_group", A_READ, R_ANY },
	/* the watcher: owners in /proc, the event loop, its namespaces' netlink sockets */
	{ "getdents64", A_WATCH, R_ANY },
	{ "readlinkat", A_WATCH, R_ANY },
	{ "epoll_ctl", A_WATCH, R_ANY },
	{ "epoll_wait", A_WATCH, R_ANY },
	{ "timerfd_settime", A_WATCH, R_ANY },
	{ "sendto", A_WATCH, R_ANY },
	{ "recvmsg", A_WATCH, R_ANY },
	/* entering namespaces that appear later */
	{ "setns", A_NS, R_SETNS_NET },
	{ "socket", A_NS, R_SOCK_DIAG },
	{ "ioctl", A_NS, R_IOCTL_NS },           /* is this file a network namespace? */
	{ "bind", A_NS, R_ANY },
	{ "connect", A_NS, R_ANY },              /* a new netlink socket to the kernel only */
	{ "getsockname", A_NS | A_ENGINE, R_ANY },
	{ "setsockopt", A_NS | A_ENGINE, R_ANY },
	{ "pidfd_open", A_NS, R_ANY },
	{ "poll", A_NS | A_ENGINE, R_ANY },
	/* the flow view in namespaces that appear later: table, conntrack, addresses */
	{ "socket", A_FLOWNS, R_SOCK_NETFILTER },
	{ "socket", A_FLOWNS, R_SOCK_ROUTE },
	{ "connect", A_FLOWNS, R_ANY },          /* to the kernel: hear no one else */
	/* the engine client: libcurl over a unix socket */
	{ "socket", A_ENGINE, R_SOCK_UNIX },
	{ "socketpair", A_ENGINE, R_SOCK_UNIX },
	{ "connect", A_ENGINE, R_ANY },
	{ "getpeername", A_ENGINE, R_ANY },
	{ "getsockopt", A_ENGINE, R_ANY },
	{ "recvfrom", A_ENGINE, R_ANY },
	{ "epoll_create1", A_ENGINE, R_ANY },
	{ "timerfd_create", A_ENGINE, R_ANY },
};

/* Calls only an exploit would make: the process is killed at once. */
static const char *const fatal_calls[] = {
	"execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsmount", "fsconfig", "fspick", "mount_setattr",
	"open_by_handle_at", "name_to_handle_at",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"unshare", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setgroups", "capset", "iopl", "ioperm", "personality", "memfd_create",
	"pidfd_getfd", "kcmp", "fork", "vfork", "clone", "clone3", "seccomp", "prctl",
	NULL,
};

/* A sanitizer build lets its runtime's calls through (see confine_seccomp). */
static int fatal_in_this_build(const char *name)
{
	return !CONFINE_SANITIZER || (strcmp(name, "ptrace") != 0 && strcmp(name, "prctl") != 0 &&
				      strcmp(name, "clone") != 0);
}

static int fail(char *err, size_t errlen, int e, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	errno = e;
	return -1;
}

int confine_caps(const int *keep, char *err, size_t errlen)
{
	unsigned char held[CAP_LAST_CAP + 1] = { 0 };
	int rc;

	/* what the process holds now: a capability it was started without (a systemd
	 * unit's bounding set) is not asked back, it cannot be. The bounding set is ours
	 * to clear only with CAP_SETPCAP (root has it, a user running `report` does not). */
	if (capng_get_caps_process() != 0)
		return fail(err, errlen, errno ? errno : EPERM, "capabilities: reading them");
	for (const int *k = keep; *k >= 0; k++)
		if (*k <= CAP_LAST_CAP)
			held[*k] = capng_have_capability(CAPNG_PERMITTED, (unsigned)*k) == 1;
	int bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
	capng_clear(CAPNG_SELECT_ALL);
	for (const int *k = keep; *k >= 0; k++) {
		if (*k > CAP_LAST_CAP || !held[*k])
			continue;
		rc = capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)*k);
		if (rc != 0)
			return fail(err, errlen, EINVAL, "capabilities: capng_update");
	}
	rc = capng_apply(bounds ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (rc != 0) {
		snprintf(err, errlen, "capabilities: capng_apply failed (%d): %s", rc,
			 strerror(errno ? errno : EPERM));
		errno = EPERM;
		return -1;
	}
	/* and check: what the kernel now says we hold is exactly what we asked for */
	if (capng_get_caps_process() != 0)
		return fail(err, errlen, errno ? errno : EPERM, "capabilities: reading them");
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++) {
		int want = held[c];
		if (capng_have_capability(CAPNG_EFFECTIVE, c) != want ||
		    capng_have_capability(CAPNG_PERMITTED, c) != want ||
		    capng_have_capability(CAPNG_INHERITABLE, c) ||
		    (bounds && capng_have_capability(CAPNG_BOUNDING_SET, c))) {
			snprintf(err, errlen, "capabilities: %s still %s after dropping",
				 capng_capability_to_name(c) ? capng_capability_to_name(c) : "?",
				 want ? "missing" : "held");
			errno = EPERM;
			return -1;
		}
	}
	return 0;
}

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, enum rule rule,
	       char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc = 0;

	if (nr == __NR_SCMP_ERROR)
		return 0;          /* not a call on this architecture */
	switch (rule) {
	case R_ANY:
		rc = seccomp_rule_add(ctx, action, nr, 0);
		break;
	case R_NOEXEC:
		rc = seccomp_rule_add(ctx, action, nr, 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		break;
	case R_IOCTL_TTY:
	case R_IOCTL_NS: {
		/* the request is an unsigned int: compare the low 32 bits only */
		static const unsigned long tty[] = { TCGETS, TIOCGWINSZ }, ns[] = { NS_GET_NSTYPE };
		const unsigned long *reqs = rule == R_IOCTL_NS ? ns : tty;
		size_t nreqs = rule == R_IOCTL_NS ? 1 : 2;
		for (size_t i = 0; i < nreqs && rc == 0; i++)
			rc = seccomp_rule_add(ctx, action, nr, 1,
					      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, reqs[i]));
		break;
	}
	case R_FCNTL: {
		static const int cmds[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK,
					    F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
					    F_DUPFD, F_DUPFD_CLOEXEC };
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && rc == 0; i++)
			rc = seccomp_rule_add(ctx, action, nr, 1,
					      SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
		break;
	}
	case R_SETNS_NET:
		rc = seccomp_rule_add(ctx, action, nr, 1, SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNET));
		break;
	case R_SOCK_DIAG:
		rc = seccomp_rule_add(ctx, action, nr, 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				      SCMP_A2(SCMP_CMP_EQ, NETLINK_SOCK_DIAG));
		break;
	case R_SOCK_NETFILTER:
	case R_SOCK_ROUTE:
		rc = seccomp_rule_add(ctx, action, nr, 2, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				      SCMP_A2(SCMP_CMP_EQ, rule == R_SOCK_ROUTE ? NETLINK_ROUTE
									: NETLINK_NETFILTER));
		break;
	case R_SOCK_UNIX:
		rc = seccomp_rule_add(ctx, action, nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		break;
	case R_TGKILL_SELF:
		rc = seccomp_rule_add(ctx, action, nr, 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
		break;
	}
	if (rc < 0) {
		char what[96];
		snprintf(what, sizeof(what), "seccomp: rule for %s", name);
		return fail(err, errlen, -rc, what);
	}
	return 0;
}

static unsigned role_mask(enum confine_role role, unsigned flags)
{
	unsigned m = A_READ;
	if (role == CONFINE_ROLE_WATCHER) {
		m |= A_WATCH;
		if (flags & CONFINE_ENTER_NS)
			m |= A_NS;
		if (flags & CONFINE_ENGINE)
			m |= A_ENGINE;
		if ((flags & CONFINE_ENTER_NS) && (flags & CONFINE_FLOWS))
			m |= A_FLOWNS;
	}
	return m;
}

int confine_seccomp(enum confine_role role, unsigned flags, char *err, size_t errlen)
{
	unsigned mask = role_mask(role, flags);
	int rc;

	/* no_new_privs first and checked: nothing clawss could still run gains privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	scmp_filter_ctx ctx = seccomp_init(ACT_REFUSE);
	if (!ctx)
		return fail(err, errlen, ENOMEM, "seccomp_init");
	/* the kernel logs every refusal (audit type 1326), not only the fatal ones */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (rc < 0) {
		fail(err, errlen, -rc, "seccomp: SCMP_FLTATR_CTL_LOG");
		goto out;
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (!(calls[i].roles & mask))
			continue;
		if (add(ctx, SCMP_ACT_ALLOW, calls[i].name, calls[i].rule, err, errlen) < 0) {
			rc = -errno;
			goto out;
		}
	}
#ifndef CLAWSS_CONFINE_AUDIT
	for (const char *const *f = fatal_calls; *f; f++) {
		if (!fatal_in_this_build(*f))
			continue;
		if (add(ctx, ACT_FATAL, *f, R_ANY, err, errlen) < 0) {
			rc = -errno;
			goto out;
		}
	}
#endif
	if (CONFINE_SANITIZER) {
		/* LeakSanitizer's exit-time check: a tracer thread stops and reads ours */
		static const char *const san_calls[] = { "clone", "ptrace", "prctl", "wait4",
			"sched_yield", "sigaltstack", "rt_sigaction", "getppid", "sched_getaffinity",
			"getrlimit", "prlimit64", "setrlimit", "getdents", "getdents64", "gettid",
			"mprotect", "readlink", "readlinkat", "exit", "kill", "tgkill", "rt_sigtimedwait",
			"open", "stat", "lstat", "fstat", "pipe", "pipe2", "dup2", "munmap", "madvise",
			NULL };
		for (const char *const *c = san_calls; *c; c++)
			if (add(ctx, SCMP_ACT_ALLOW, *c, R_ANY, err, errlen) < 0) {
				rc = -errno;
				goto out;
			}
	}
	rc = seccomp_load(ctx);
	if (rc < 0)
		fail(err, errlen, -rc, "seccomp: loading the filter");
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}

/* ---- Landlock: where a reader, which stays uid 0, may still write ----
 * Without capabilities, uid 0 still owns most of the file system (/etc, /var/lib): a
 * compromised reader could rewrite root's files through plain openat. Where the kernel
 * has Landlock, a reader may create and write files only beside the database (its -shm)
 * and in the temporary directories SQLite uses; reading stays open (an allowlist may be
 * anywhere). Best effort: a kernel without Landlock keeps the other two layers.
 * Not for the watcher: a Landlock domain may not ptrace-read processes outside it, and
 * that is exactly what finding a socket's owner in /proc/PID/fd and /proc/PID/ns is. */

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define LL_EXECUTE      (1ULL << 0)
#define LL_WRITE_FILE   (1ULL << 1)
#define LL_READ_FILE    (1ULL << 2)
#define LL_READ_DIR     (1ULL << 3)
#define LL_REMOVE_DIR   (1ULL << 4)
#define LL_REMOVE_FILE  (1ULL << 5)
#define LL_MAKE_CHAR    (1ULL << 6)
#define LL_MAKE_DIR     (1ULL << 7)
#define LL_MAKE_REG     (1ULL << 8)
#define LL_MAKE_SOCK    (1ULL << 9)
#define LL_MAKE_FIFO    (1ULL << 10)
#define LL_MAKE_BLOCK   (1ULL << 11)
#define LL_MAKE_SYM     (1ULL << 12)
#define LL_REFER        (1ULL << 13)      /* ABI 2 */
#define LL_TRUNCATE     (1ULL << 14)      /* ABI 3 */
#define LL_IOCTL_DEV    (1ULL << 15)      /* ABI 5 */
#define LL_NET_BIND_TCP    (1ULL << 0)    /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL        (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1

/* The kernel's structs, newest layout: the size passed says which fields it reads. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static int ll_allow(int ruleset, const char *path, uint64_t access, int required,
		    char *err, size_t errlen)
{
	int fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0) {
		if (!required)
			return 0;
		char what[96];
		snprintf(what, sizeof(what), "landlock: %.80s", path);
		return fail(err, errlen, errno, what);
	}
	struct ll_path_beneath pb = { .allowed_access = access, .parent_fd = fd };
	long rc = syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	if (rc < 0)
		return fail(err, errlen, e, "landlock_add_rule");
	return 0;
}

/* The directory the database is in: where its -wal and -shm live. */
static void db_dir(const char *db, char *dir, size_t len)
{
	const char *slash = strrchr(db, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == db)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - db), db);
}

static int confine_landlock(const char *db, char *err, size_t errlen)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;             /* no Landlock here (ENOSYS, EOPNOTSUPP): best effort */
	/* everything but reading: handled, so refused where no rule allows it */
	uint64_t fs = LL_EXECUTE | LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE |
		      LL_MAKE_CHAR | LL_MAKE_DIR | LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO |
		      LL_MAKE_BLOCK | LL_MAKE_SYM;
	if (abi >= 2)
		fs |= LL_REFER;
	if (abi >= 3)
		fs |= LL_TRUNCATE;
	if (abi >= 5)
		fs |= LL_IOCTL_DEV;
	struct ll_ruleset_attr attr = { .handled_access_fs = fs };
	size_t size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;   /* none */
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return fail(err, errlen, errno, "landlock_create_ruleset");
	char dir[4096];
	uint64_t rw = (LL_WRITE_FILE | LL_REMOVE_FILE | LL_MAKE_REG | LL_TRUNCATE) & fs;
	db_dir(db, dir, sizeof(dir));
	int rc = ll_allow(rs, dir, rw, 0, err, errlen);   /* missing: store_open says so */
	/* SQLite's temporary files (large sorts, VACUUM), in the first of these it finds */
	const char *tmp[] = { getenv("SQLITE_TMPDIR"), getenv("TMPDIR"), "/var/tmp", "/usr/tmp",
			      "/tmp" };
	for (size_t i = 0; i < sizeof(tmp) / sizeof(tmp[0]) && rc == 0; i++)
		if (tmp[i] && *tmp[i])
			rc = ll_allow(rs, tmp[i], rw, 0, err, errlen);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		rc = fail(err, errlen, errno, "landlock_restrict_self");
	close(rs);
	return rc;
}

int confine_reader(const char *db, char *err, size_t errlen)
{
	static const int none[] = { -1 };
	if (confine_caps(none, err, errlen) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (confine_landlock(db, err, errlen) < 0)
		return -1;
	return confine_seccomp(CONFINE_ROLE_READER, 0, err, errlen);
}

int confine_watcher(unsigned flags, char *err, size_t errlen)
{
	int keep[8], n = 0;
	/* owners: other users' /proc/PID/fd (a 0500 directory: DAC_READ_SEARCH) and the
	 * links in it and /proc/PID/ns/net (ptrace_may_access: SYS_PTRACE) */
	keep[n++] = CAP_SYS_PTRACE;
	keep[n++] = CAP_DAC_READ_SEARCH;
	if (flags & CONFINE_ENTER_NS)
		keep[n++] = CAP_SYS_ADMIN;   /* setns into a new namespace */
	/* SO_RCVBUFFORCE on a new namespace's destroy socket; nftables and conntrack in
	 * every watched namespace (nfnetlink asks it of each request) */
	if (flags & (CONFINE_ENTER_NS | CONFINE_FLOWS))
		keep[n++] = CAP_NET_ADMIN;
	keep[n] = -1;
	if (confine_caps(keep, err, errlen) < 0)
		return -1;
	return confine_seccomp(CONFINE_ROLE_WATCHER, flags, err, errlen);
}

const char *const *confine_fatal(void)
{
	static const char *out[sizeof(fatal_calls) / sizeof(fatal_calls[0])];
	size_t n = 0;
	for (const char *const *f = fatal_calls; *f; f++)
		if (fatal_in_this_build(*f))
			out[n++] = *f;
	out[n] = NULL;
	return out;
}

const char *const *confine_allowed(enum confine_role role, unsigned flags)
{
	static const char *out[sizeof(calls) / sizeof(calls[0]) + 16];
	unsigned mask = role_mask(role, flags);
	size_t n = 0;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (!(calls[i].roles & mask))
			continue;
		int dup = 0;
		for (size_t j = 0; j < n; j++)
			dup |= strcmp(out[j], calls[i].name) == 0;
		if (!dup)
			out[n++] = calls[i].name;
	}
	out[n] = NULL;
	return out;
}

long confine_probe(const char *what)
{
	if (strcmp(what, "execve") == 0) {
		char *const argv[] = { "clawss-seccomp-probe", NULL };
		return syscall(SYS_execve, "/nonexistent/clawss-seccomp-probe", argv, argv + 1);
	}
	if (strcmp(what, "ptrace") == 0)
		return syscall(SYS_ptrace, PTRACE_PEEKDATA, getpid(), 0, 0);
	if (strcmp(what, "mount") == 0)
		return syscall(SYS_mount, "none", "/nonexistent/clawss-seccomp-probe", "tmpfs", 0,
			       NULL);
	if (strcmp(what, "open_by_handle_at") == 0)
		return syscall(SYS_open_by_handle_at, -1, NULL, O_RDONLY);
	if (strcmp(what, "socket-inet") == 0) {
		long fd = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			close((int)fd);
		return fd;
	}
	if (strcmp(what, "unlisted") == 0)
		return syscall(SYS_sched_getscheduler, 0);
	if (strncmp(what, "fchmod:", 7) == 0) {
		/* making a file of root's (uid 0 owns it, as we are) world-writable */
		int fd = open(what + 7, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -2;
		long rc = syscall(SYS_fchmod, fd, 0666);
		int e = errno;
		close(fd);
		errno = e;
		return rc;
	}
	if (strncmp(what, "write:", 6) == 0) {
		/* Landlock: creating a file outside the database's directory */
		int fd = open(what + 6, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			unlink(what + 6);
		}
		return fd;
	}
	errno = EINVAL;
	return -2;
}
