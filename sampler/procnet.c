#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/util.h"
#include "procnet.h"

/* Reads fd on from offset off into buf (len bytes) until the file ends or buf is full
 * (off + 1 == len): the offset reached, or -1. */
static long read_on(int fd, char *buf, size_t len, size_t off)
{
	while (off + 1 < len) {
		ssize_t n = pread(fd, buf + off, len - 1 - off, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (long)off;
}

long procnet_read(int fd, char *buf, size_t len)
{
	long off = read_on(fd, buf, len, 0);
	if (off < 0)
		return -1;
	if ((size_t)off + 1 >= len) {
		errno = EFBIG;
		return -1;
	}
	buf[off] = '\0';
	return off;
}

long procnet_read_all(int fd, struct procnet_buf *b, size_t max)
{
	long off = 0;
	for (;;) {
		if ((size_t)off + 1 >= b->cap) {
			/* a file that outgrew the buffer is read on, never cut short (a
			 * seq_file hands out about a page a read) */
			size_t need = b->cap ? b->cap * 2 : PROCNET_BUF_MIN;
			if (need > max) {
				errno = EFBIG;
				break;
			}
			if (util_grow(&b->p, &b->cap, need, 1) < 0)
				break;
		}
		long n = read_on(fd, b->p, b->cap, (size_t)off);
		if (n < 0)
			break;
		off = n;
		if ((size_t)off + 1 < b->cap) {
			b->p[off] = '\0';
			b->len = (size_t)off;
			return off;
		}
	}
	if (b->p)
		b->p[off] = '\0';   /* the buffer stays a string */
	return -1;
}

void procnet_buf_free(struct procnet_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int hex_addr(const char *p, int family, uint8_t *out)
{
	/* /proc prints each 32-bit word of the address as the host-order value of its
	 * network-order bytes */
	int words = family == SKF_IPV4 ? 1 : 4;
	memset(out, 0, 16);
	for (int w = 0; w < words; w++) {
		char tmp[9];
		memcpy(tmp, p + w * 8, 8);
		tmp[8] = '\0';
		char *end;
		unsigned long v = strtoul(tmp, &end, 16);
		if (*end)
			return -1;
		uint32_t word = (uint32_t)v;
		memcpy(out + w * 4, &word, 4);
	}
	return 0;
}

int procnet_parse_raw(const char *text, int family, diag_cb cb, void *arg)
{
	const char *line = strchr(text, '\n'); /* skip the header */
	size_t alen = family == SKF_IPV4 ? 8 : 32;

	while (line && *++line) {
		const char *next = strchr(line, '\n');
		char l[512];
		size_t n = next ? (size_t)(next - line) : strlen(line);
		if (n >= sizeof(l)) {
			errno = EBADMSG;
			return -1;
		}
		memcpy(l, line, n);
		l[n] = '\0';
		line = next;
		char local[40], remote[40];
		unsigned lport, rport, state, uid;
		unsigned long inode;
		/* sl local:port rem:port st tx:rx tr:when retr uid timeout inode */
		if (sscanf(l, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %u %*d %lu",
			   local, &lport, remote, &rport, &state, &uid, &inode) != 7 ||
		    strlen(local) != alen || strlen(remote) != alen) {
			errno = EBADMSG;
			return -1;
		}
		struct sk s = { 0 };
		s.proto = SK_RAW;
		s.family = family;
		s.state = state;
		if (hex_addr(local, family, s.laddr) < 0 || hex_addr(remote, family, s.raddr) < 0) {
			errno = EBADMSG;
			return -1;
		}
		s.lport = lport;
		s.rport = rport;
		s.uid = uid;
		s.inode = (uint32_t)inode;
		s.cookie = SK_COOKIE_INODE | inode;
		s.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT |
			 SK_HAVE_UID | SK_HAVE_INODE;
		int rc = cb(arg, &s);
		if (rc)
			return rc;
	}
	return 0;
}

static unsigned long long mix(unsigned long long h, unsigned long long v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

/* Folds the numbers after the listed keys on the line that starts with label. */
static unsigned long long fold_line(unsigned long long h, const char *text, const char *label,
				    const char *const *keys)
{
	const char *p = text;
	size_t ll = strlen(label);
	while (p && *p) {
		if (strncmp(p, label, ll) == 0) {
			const char *eol = strchr(p, '\n');
			for (const char *const *k = keys; *k; k++) {
				const char *q = strstr(p + ll, *k);
				if (q && (!eol || q < eol))
					h = mix(h, strtoull(q + strlen(*k), NULL, 10));
				else
					h = mix(h, ~0ULL);
			}
			return h;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return mix(h, 0);
}

unsigned long long procnet_sockstat_digest(const char *v4, const char *v6)
{
	static const char *const used[] = { " used ", NULL };
	/* orphan and alloc are host-wide counters: left out */
	static const char *const tcp[] = { " inuse ", " tw ", NULL };
	static const char *const inuse[] = { " inuse ", NULL };
	unsigned long long h = 0;
	h = fold_line(h, v4, "sockets:", used);
	h = fold_line(h, v4, "TCP:", tcp);
	h = fold_line(h, v4, "UDP:", inuse);
	h = fold_line(h, v4, "UDPLITE:", inuse);
	h = fold_line(h, v4, "RAW:", inuse);
	h = fold_line(h, v6, "TCP6:", inuse);
	h = fold_line(h, v6, "UDP6:", inuse);
	h = fold_line(h, v6, "UDPLITE6:", inuse);
	h = fold_line(h, v6, "RAW6:", inuse);
	return h;
}

/* The number after key on the line that starts with label; -1 when there is none. */
static long long line_value(const char *text, const char *label, const char *key)
{
	size_t ll = strlen(label);
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, label, ll) == 0) {
			const char *eol = strchr(p, '\n');
			const char *q = strstr(p + ll, key);
			if (!q || (eol && q > eol))
				return -1;
			char *end;
			unsigned long long v = strtoull(q + strlen(key), &end, 10);
			return end != q + strlen(key) ? (long long)v : -1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

unsigned procnet_sockstat_kinds(const char *v4, const char *v6)
{
	static const struct {
		unsigned bit;
		int v6;
		const char *label;
	} kinds[] = {
		{ PROCNET_TCP4, 0, "TCP:" }, { PROCNET_TCP6, 1, "TCP6:" },
		{ PROCNET_UDP4, 0, "UDP:" }, { PROCNET_UDP6, 1, "UDP6:" },
		{ PROCNET_RAW4, 0, "RAW:" }, { PROCNET_RAW6, 1, "RAW6:" },
	};
	long long tw = line_value(v4, "TCP:", " tw ");
	unsigned present = 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		long long n = line_value(kinds[i].v6 ? v6 : v4, kinds[i].label, " inuse ");
		int tcp = kinds[i].bit & (PROCNET_TCP4 | PROCNET_TCP6);
		if (n != 0 || (tcp && tw != 0))
			present |= kinds[i].bit;
	}
	return present;
}
