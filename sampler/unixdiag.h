/* Unix sockets to the outside, found with unix_diag (NETLINK_SOCK_DIAG, AF_UNIX).
 *
 * A unix_diag dump made in a namespace lists the unix sockets created in it. Connecting
 * a stream (or seqpacket) socket creates the server's end in the CLIENT's namespace
 * (af_unix's unix_stream_connect), so a container process connected to a host listener
 * (a mounted /run/docker.sock) shows both ends in the container's dump: its own, and the
 * server's end, which carries the listener's name and file (UNIX_DIAG_NAME, _VFS) and is
 * held by the host process. The listener itself is not in the dump. Hence the rule, per
 * connected socket S with peer P:
 *   - P is not in the namespace's dump: outside (a datagram socket connected to a host
 *     socket such as /dev/log, whose peer is the host's bound socket itself);
 *   - S and P are a stream pair and P carries a bound file that no listener in the dump
 *     carries: P is the server end of a connection to a listener outside, S is the
 *     container's end (when both ends carry such a file, the older socket is the client).
 * Sockets between processes of the same namespace (socketpair, a listener of its own)
 * match neither. Library style: -1 and errno, never print. */
#ifndef CLAWSS_UNIXDIAG_H
#define CLAWSS_UNIXDIAG_H

#include <stddef.h>
#include <stdint.h>
#include "diag.h"

/* One unix socket as unix_diag shows it. */
struct ux {
	uint64_t cookie;
	uint32_t ino;
	uint32_t peer;           /* peer's inode, 0: not connected */
	uint32_t uid;
	uint32_t vfs_ino, vfs_dev;
	uint8_t type;            /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;           /* TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE */
	uint8_t have_uid, have_vfs;
	char name[110];          /* bound name as text: a path, "@..." for an abstract
				    name; "" when unbound */
};

typedef int (*unixdiag_cb)(void *arg, const struct ux *u);

/* Dumps every unix socket of the namespace d was opened in. */
int unixdiag_dump(struct diag *d, unixdiag_cb cb, void *arg);
/* The socket with inode ino in d's namespace; -1 with ENOENT when there is none. */
int unixdiag_lookup(struct diag *d, uint32_t ino, struct ux *out);
/* Decodes one reply message (a struct nlmsghdr of len bytes) into *u: 1 decoded, 0 not a
 * unix_diag message, -1 with EBADMSG when malformed. Exposed for tests and fuzzing. */
int unixdiag_decode(const void *nlh, size_t len, struct ux *u);

/* The sockets of v (one namespace's dump, n of them; v is sorted by inode in place) that
 * are connected outside it, by the rule above: cb(arg, s, p) with p the peer when it
 * is in the dump (its name is then the listener's), else NULL. A callback's nonzero
 * result stops the walk and is returned; -1 when out of memory. */
typedef int (*unixdiag_outside_cb)(void *arg, const struct ux *s, const struct ux *p);
int unixdiag_outside(struct ux *v, size_t n, unixdiag_outside_cb cb, void *arg);

#endif
