/* Confinement, "acquire, then narrow": once a command has opened what it needs (its
 * targets' namespaces, the database), it keeps only the capabilities it still uses
 * (libcap-ng), sets no_new_privs, and installs a seccomp allowlist of the system calls
 * it still makes (libseccomp). Library style: -1 with a message in err, never print or
 * exit. clawss(8), SECURITY, documents each capability and lists every system call.
 *
 * Policy for a system call not on the list: it fails with EPERM and the kernel logs it
 * (audit record type 1326, SECCOMP_FILTER_FLAG_LOG), so a rare code path clawss was never
 * traced through fails like any other error instead of killing the watcher (a container
 * must not be able to blind clawss by steering it there). The calls only an exploit would
 * make (execve, ptrace, mount, open_by_handle_at, bpf, ...) kill the process at once. */
#ifndef CLAWSS_CONFINE_H
#define CLAWSS_CONFINE_H

#include <stddef.h>

/* What a watcher (watch, sample) still does after start-up. */
#define CONFINE_ENTER_NS 0x1u  /* enter namespaces that appear later (--all, --follow):
				* keeps CAP_SYS_ADMIN (setns) and CAP_NET_ADMIN (the
				* destroy socket's SO_RCVBUFFORCE), allows setns(CLONE_NEWNET)
				* and creating NETLINK_SOCK_DIAG sockets */
#define CONFINE_ENGINE   0x2u  /* talk to a container engine on a unix socket (libcurl) */
#define CONFINE_FLOWS    0x4u  /* the flow view: keeps CAP_NET_ADMIN (each namespace's
				* nftables table and conntrack events); with
				* CONFINE_ENTER_NS also allows NETLINK_NETFILTER and
				* NETLINK_ROUTE sockets and connect() (to the kernel) */

/* report, containers, policy, export, prune: no capability at all, no socket, no
 * namespace change, nothing executed; with Landlock, files created or written only
 * beside db and in SQLite's temporary directories. */
int confine_reader(const char *db, char *err, size_t errlen);
/* watch, sample, after the targets are entered and the store is open: CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH (other users' /proc/PID/fd and /proc/PID/ns/net, for socket
 * owners), plus what flags add. No Landlock: its domains may not ptrace-read the
 * processes outside them, and finding a socket's owner is exactly that. */
int confine_watcher(unsigned flags, char *err, size_t errlen);

/* The two steps apart, for tests. keep: CAP_* numbers ending with -1. */
int confine_caps(const int *keep, char *err, size_t errlen);
enum confine_role { CONFINE_ROLE_READER, CONFINE_ROLE_WATCHER };
int confine_seccomp(enum confine_role role, unsigned flags, char *err, size_t errlen);

/* For documentation and its test: the system calls a role may make (NULL-terminated),
 * and those that kill the process. */
const char *const *confine_allowed(enum confine_role role, unsigned flags);
const char *const *confine_fatal(void);

/* A test hook (CLAWSS_TEST_SECCOMP_PROBE): attempts one call the filter must refuse:
 * "execve", "ptrace", "mount", "open_by_handle_at" (fatal: the process dies of SIGSYS),
 * "socket-inet", "unlisted", "fchmod:PATH" (making PATH mode 0666; refused with EPERM),
 * "write:PATH" (creating PATH: refused
 * with EACCES by Landlock outside the database's directory; removed again if it was
 * not). Each is harmless even if allowed.
 * Returns the call's result (-1 and errno when refused with an error), or -2 with
 * errno EINVAL for an unknown name. */
long confine_probe(const char *what);

#endif
