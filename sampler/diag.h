/* NETLINK_SOCK_DIAG: dumps of TCP, UDP, RAW and PACKET sockets, and the kernel's
 * socket-destroy notifications. Everything leaves this file as a struct sk; no libmnl
 * type is visible outside it. Library style: -1 and errno, never print. */
#ifndef CLAWSS_DIAG_H
#define CLAWSS_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../lib/sock.h"

struct diag;

typedef int (*diag_cb)(void *arg, const struct sk *s);

/* A socket for request/response dumps, in the calling thread's network namespace. */
struct diag *diag_open(void);
/* A socket subscribed to the four TCP/UDP destroy groups, non-blocking, with a 4 MiB
 * receive buffer (SO_RCVBUFFORCE, falling back to SO_RCVBUF without CAP_NET_ADMIN). */
struct diag *diag_open_destroy(void);
void diag_close(struct diag *d);

/* Netlink sockets in a container's namespace can be written to by its root (who holds
 * CAP_NET_ADMIN there, in its own user namespace). For every netlink socket clawss holds
 * (sock_diag here; ctnetlink, nftables, nfnetlink_log elsewhere: call these there too):
 * diag_connect_kernel connects fd to the kernel (portid 0), after which the kernel
 * refuses unicast to it from any other sender (ECONNREFUSED); multicast to its groups
 * still passes, so diag_recv_kernel receives one datagram and fails with EPERM (the
 * datagram consumed) when it did not come from the kernel (nl_pid != 0); ENOSPC when
 * it was truncated; else recvmsg's result. */
int diag_connect_kernel(int fd);
/* The parts of decoding a sock_diag message that every family shares (diag.c,
 * unixdiag.c). diag_msg_header: its fixed header of size bytes, or NULL with EBADMSG
 * when it is shorter; diag_attrs_span: the attributes after a header of hdr bytes,
 * bounded by the message's own length (not rounded up to the alignment): their length,
 * *start the first; diag_cookie: a socket cookie as the kernel gives it (two u32, low
 * first) as one number. */
struct nlmsghdr;
const void *diag_msg_header(const struct nlmsghdr *nlh, size_t size);
size_t diag_attrs_span(const struct nlmsghdr *nlh, size_t hdr, const void **start);
uint64_t diag_cookie(const uint32_t c[2]);
ssize_t diag_recv_kernel(int fd, void *buf, size_t len, int flags);
/* Datagrams this socket dropped because they were not from the kernel. */
uint64_t diag_forged(const struct diag *d);
int diag_fd(const struct diag *d);

/* Dumps every socket of one kind (family SKF_IPV4/SKF_IPV6 with SK_TCP, SK_UDP or
 * SK_RAW; or SK_PACKET) in all states, with tcp_info for TCP. Calls cb per socket.
 * -1 with errno on failure, including the error the kernel hides in NLMSG_DONE
 * (ENOENT when the kernel lacks that diag module, e.g. raw_diag). */
int diag_dump(struct diag *d, int proto, int family, diag_cb cb, void *arg);
/* As family with SK_TCP: IPv4 and IPv6 from one walk of the kernel's TCP tables (the
 * old TCPDIAG_GETSOCK request), half the kernel time of two one-family dumps. A kernel
 * without it answers EINVAL, ENOENT or EOPNOTSUPP: dump each family then. */
#define DIAG_BOTH_FAMILIES 0
/* The same, only sockets whose kernel state (TCP_*) is in states (1 << state): a TCP
 * dump of listeners alone walks the listening table only, not the host-wide
 * established one (the cost of a quiet namespace's refresh). */
#define DIAG_TCP_LISTEN_ONLY (1u << 10)
int diag_dump_states(struct diag *d, int proto, int family, unsigned states, diag_cb cb,
		     void *arg);

/* A SOCK_DIAG_BY_FAMILY request of any family (req: that family's request header, e.g.
 * struct unix_diag_req): a dump (dump != 0) or an exact request. Each answer message is
 * handed whole to cb (nlh points at its struct nlmsghdr, len its nlmsg_len), for the
 * decoders of other families (unixdiag.c). 0, or -1 with errno (ENOENT: no such socket,
 * or no such diag module). */
typedef int (*diag_msg_cb)(void *arg, const void *nlh, size_t len);
int diag_request(struct diag *d, const void *req, size_t reqlen, int dump, diag_msg_cb cb,
		 void *arg);

/* Reads pending destroy notifications without blocking, at most a batch of datagrams
 * (so a flood in one namespace cannot starve the others: come back on the next wakeup);
 * cb per socket. Returns the number of notifications read, or -1 with errno. ENOBUFS means the kernel
 * dropped notifications: *lost is set and the caller must resynchronise with a dump. */
int diag_read_destroy(struct diag *d, diag_cb cb, void *arg, int *lost);
/* 1 when the last diag_read_destroy stopped at its batch (more may be waiting). */
int diag_more(const struct diag *d);

/* Decodes a buffer of netlink messages as received (a dump reply or notifications).
 * proto is the kind that was asked for (0 for notifications: INET_DIAG_PROTOCOL tells).
 * Returns 1 when NLMSG_DONE was seen, 0 when more is to come, -1 with errno on an error
 * message or a malformed message. Exposed for fixture tests. */
int diag_parse(const void *buf, size_t len, int proto, diag_cb cb, void *arg);

/* Optional tap for recording fixtures: every received buffer is passed to it. */
void diag_set_tap(struct diag *d, void (*tap)(void *arg, const void *buf, size_t len),
		  void *arg);

#endif
