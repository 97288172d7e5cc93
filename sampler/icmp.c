#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "icmp.h"

/* /proc prints each 32-bit word of an address as the host-order value of its
 * network-order bytes. */
static int hex_addr(const char *p, size_t len, uint8_t *out)
{
	memset(out, 0, 16);
	for (size_t w = 0; w < len / 8; w++) {
		uint32_t word = 0;
		for (int i = 0; i < 8; i++) {
			char c = p[w * 8 + i];
			int v = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
			if (v < 0)
				return -1;
			word = word << 4 | (uint32_t)v;
		}
		memcpy(out + w * 4, &word, 4);
	}
	return 0;
}

/* One line of the table (NUL-terminated copy): "sl: local:port remote:port st tx:rx
 * tr:when retrnsmt uid timeout inode ...". */
static int parse_line(const char *l, int family, struct sk *s)
{
	char local[33], remote[33];
	unsigned lport, rport, state, uid;
	unsigned long inode;
	int end = 0;
	size_t alen = family == SKF_IPV4 ? 8 : 32;

	if (sscanf(l, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %u %*d %lu%n",
		   local, &lport, remote, &rport, &state, &uid, &inode, &end) != 7 || !end ||
	    strlen(local) != alen || strlen(remote) != alen || lport > 0xffff ||
	    rport > 0xffff || state == 0 || state > SKS_NEW_SYN_RECV || inode > UINT32_MAX)
		return -1;
	memset(s, 0, sizeof(*s));
	s->proto = SK_ICMP;
	s->family = family;
	s->state = (uint8_t)state;
	if (hex_addr(local, alen, s->laddr) < 0 || hex_addr(remote, alen, s->raddr) < 0)
		return -1;
	s->lport = (uint16_t)lport;
	s->rport = (uint16_t)rport;
	s->uid = uid;
	s->inode = (uint32_t)inode;
	s->cookie = SK_COOKIE_INODE | inode;
	s->have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT |
		  SK_HAVE_UID | SK_HAVE_INODE;
	static const uint8_t zero[16];
	if (memcmp(s->raddr, zero, 16) == 0)
		s->have &= ~SK_HAVE_RADDR;  /* not connected: no remote (NULL, not 0.0.0.0) */
	return 0;
}

int icmp_parse(const char *text, int family, diag_cb cb, void *arg)
{
	const char *line = strchr(text, '\n'); /* skip the header */
	char small[256];

	if (family != SKF_IPV4 && family != SKF_IPV6) {
		errno = EINVAL;
		return -1;
	}
	while (line && *++line) {
		const char *next = strchr(line, '\n');
		size_t n = next ? (size_t)(next - line) : strlen(line);
		/* sscanf must not run into the next line: parse a copy of this one */
		char *l = n < sizeof(small) ? small : malloc(n + 1);
		if (!l)
			return -1;
		memcpy(l, line, n);
		l[n] = '\0';
		line = next;
		struct sk s;
		int bad = parse_line(l, family, &s);
		if (l != small)
			free(l);
		if (bad) {
			errno = EBADMSG;
			return -1;
		}
		int rc = cb(arg, &s);
		if (rc)
			return rc;
	}
	return 0;
}
