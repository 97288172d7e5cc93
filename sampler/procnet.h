/* What sock_diag cannot give on this kernel, read from /proc/self/net files opened inside
 * a namespace (such an fd keeps reading that namespace). */
#ifndef CLAWSS_PROCNET_H
#define CLAWSS_PROCNET_H

#include <stddef.h>
#include "diag.h"

/* Parses /proc/net/raw or raw6 text (family SKF_IPV4 / SKF_IPV6); cb per socket, keyed
 * by SK_COOKIE_INODE | inode since /proc shows no cookie. -1 on malformed text. */
int procnet_parse_raw(const char *text, int family, diag_cb cb, void *arg);
/* Rereads fd from offset 0 into buf (NUL-terminated); returns length or -1 (EFBIG when
 * the file does not fit: for small files of known size, such as sockstat). */
long procnet_read(int fd, char *buf, size_t len);

/* A buffer that grows to hold a whole /proc file. Zero-initialise; free with
 * procnet_buf_free. */
struct procnet_buf {
	char *p;
	size_t len, cap;
};
#define PROCNET_BUF_MIN (64u << 10)
#define PROCNET_BUF_MAX (64u << 20)   /* about 450000 /proc/net/raw lines */
/* Rereads the whole file at fd from offset 0 into b, growing it up to max bytes:
 * its length, or -1 with errno (EFBIG beyond max, ENOMEM; b->p, if any, stays a
 * NUL-terminated string). For /proc/net files, whose size depends on what the
 * container made: one that cannot be read whole is an error, never a shorter list. */
long procnet_read_all(int fd, struct procnet_buf *b, size_t max);
void procnet_buf_free(struct procnet_buf *b);
/* The per-namespace socket counters of sockstat+sockstat6 text that move when a socket is
 * created, hashed or unhashed: "sockets: used", TCP inuse/tw, UDP, RAW, and their
 * IPv6 twins. Global memory counters are left out, so traffic elsewhere does not count.
 * Returns a 64-bit digest of them. */
unsigned long long procnet_sockstat_digest(const char *v4, const char *v6);

/* Which dumps can show a socket, by the same counters: a kind whose count reads 0 has
 * no socket in the namespace's hash tables, so its dump would come back empty (and costs
 * a walk of the host-wide table). TCP of either family also counts as
 * present while sockstat's tw (per namespace, both families) is not 0. A kind whose count
 * cannot be read counts as present. */
enum {
	PROCNET_TCP4 = 1 << 0, PROCNET_TCP6 = 1 << 1,
	PROCNET_UDP4 = 1 << 2, PROCNET_UDP6 = 1 << 3,
	PROCNET_RAW4 = 1 << 4, PROCNET_RAW6 = 1 << 5,
	PROCNET_ALL = (1 << 6) - 1,
};
unsigned procnet_sockstat_kinds(const char *v4, const char *v6);

#endif
