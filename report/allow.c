#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "allow.h"
#include "../lib/escape.h"

int allow_addr_parse(const char *text, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = SKF_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = sk_addr_normalise(SKF_IPV6, addr);
		return 0;
	}
	return -1;
}

static void mask(uint8_t *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a[i] &= (uint8_t)(0xff00u >> bits);
		bits = 0;
	}
}

/* Whole decimal number of at most 5 digits, no sign or blanks. */
static int small_num(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* why gets the offending token in terminal-safe form. */
static int bad(char *why, size_t len, const char *what, const char *tok)
{
	struct rbuf b = { 0 };
	esc_text(&b, tok, strlen(tok));
	const char *t = rbuf_str(&b);
	snprintf(why, len, "%s '%.60s'", what, t ? t : "?");
	rbuf_free(&b);
	return -1;
}

static int parse_addr(struct allow_rule *r, char *tok, char *why, size_t whylen)
{
	char *slash = strchr(tok, '/');
	unsigned prefix = 128;
	int family;

	if (slash)
		*slash = '\0';
	if (allow_addr_parse(tok, &family, r->addr) < 0) {
		if (slash)
			*slash = '/';
		return bad(why, whylen, "not an IPv4 or IPv6 address:", tok);
	}
	int mapped = family == SKF_IPV4 && strchr(tok, ':');
	unsigned max = family == SKF_IPV4 && !mapped ? 32 : 128;
	if (slash) {
		*slash = '/';
		if (small_num(slash + 1, strlen(slash + 1), max, &prefix) < 0) {
			snprintf(why, whylen, "bad prefix length (0-%u): '/%.10s'", max, slash + 1);
			return -1;
		}
	} else {
		prefix = max;
	}
	if (mapped) {
		if (prefix < 96) {
			/* wider than the v4-mapped block: keep it an IPv6 rule */
			static const uint8_t head[12] = { [10] = 0xff, [11] = 0xff };
			memmove(r->addr + 12, r->addr, 4);
			memcpy(r->addr, head, 12);
			family = SKF_IPV6;
		} else {
			prefix -= 96;
		}
	}
	r->family = (uint8_t)family;
	r->prefix = (uint8_t)prefix;
	mask(r->addr, prefix);
	return 0;
}

/* A DNS name (letters, digits, '-', '_', labels of 1-63, at most 253), or *.NAME. */
static int parse_name(struct allow_rule *r, const char *tok, char *why, size_t whylen)
{
	const char *n = tok;
	size_t len, label = 0;
	int alpha = 0;

	if (n[0] == '*' && n[1] == '.') {
		r->wild = 1;
		n += 2;
	}
	len = strlen(n);
	if (len && n[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return bad(why, whylen, "not an address or a DNS name:", tok);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)n[i];
		if (c == '.') {
			if (label == 0)
				return bad(why, whylen, "empty label in name:", tok);
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return bad(why, whylen, "not an address or a DNS name:", tok);
		if (isalpha(c) || c == '-' || c == '_')
			alpha = 1;
		if (++label > 63)
			return bad(why, whylen, "label longer than 63 in name:", tok);
	}
	/* all digits and dots is a mistyped address, not a name */
	if (!alpha)
		return bad(why, whylen, "not an IPv4 or IPv6 address:", tok);
	r->name = strndup(n, len);
	if (!r->name) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	for (char *p = r->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int parse_ports(struct allow_rule *r, const char *tok, char *why, size_t whylen)
{
	const char *dash = strchr(tok, '-');
	unsigned lo, hi;
	size_t n = dash ? (size_t)(dash - tok) : strlen(tok);

	if (small_num(tok, n, 65535, &lo) < 0 ||
	    (dash && small_num(dash + 1, strlen(dash + 1), 65535, &hi) < 0))
		return bad(why, whylen, "bad port or port range (0-65535):", tok);
	if (!dash)
		hi = lo;
	if (hi < lo)
		return bad(why, whylen, "port range runs backwards:", tok);
	r->has_port = 1;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
}

static int proto_word(const char *tok)
{
	if (strcasecmp(tok, "tcp") == 0)
		return SK_TCP;
	if (strcasecmp(tok, "udp") == 0)
		return SK_UDP;
	if (strcasecmp(tok, "icmp") == 0)
		return SK_ICMP;
	return 0;
}

int allow_parse_line(struct allowlist *al, const char *line, unsigned lineno,
		     char *why, size_t whylen)
{
	size_t len = strcspn(line, "#");
	char *copy = strndup(line, len);
	char *tok[4], *save = NULL;
	int ntok = 0, rc = -1;
	struct allow_rule r = { .line = lineno };

	if (!copy) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	for (char *t = strtok_r(copy, " \t\r\v\f", &save); t; t = strtok_r(NULL, " \t\r\v\f", &save)) {
		if (ntok == 4)
			break;
		tok[ntok++] = t;
	}
	if (ntok == 0) {
		rc = 0;
		goto out;
	}
	/* an address if it parses as one; a name if it looks like one */
	if (!strchr(tok[0], ':') && !strchr(tok[0], '/') &&
	    (isalpha((unsigned char)tok[0][0]) || tok[0][0] == '*' || tok[0][0] == '_' ||
	     strspn(tok[0], "0123456789.") != strlen(tok[0]))) {
		if (parse_name(&r, tok[0], why, whylen) < 0)
			goto out;
	} else if (parse_addr(&r, tok[0], why, whylen) < 0) {
		goto out;
	}
	int i = 1;
	if (i < ntok && isdigit((unsigned char)tok[i][0])) {
		if (parse_ports(&r, tok[i], why, whylen) < 0)
			goto out;
		i++;
	}
	if (i < ntok) {
		r.proto = (uint8_t)proto_word(tok[i]);
		if (!r.proto) {
			bad(why, whylen, r.has_port ? "expected tcp, udp or icmp, got" :
				"expected a port, a port range, tcp, udp or icmp, got", tok[i]);
			goto out;
		}
		i++;
	}
	if (i < ntok) {
		bad(why, whylen, "unexpected", tok[i]);
		goto out;
	}
	if (util_grow(&al->rules, &al->cap, al->n + 1, sizeof(*al->rules)) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	al->rules[al->n++] = r;
	r.name = NULL;   /* the list owns it now */
	rc = 0;
out:
	free(r.name);
	free(copy);
	return rc;
}

int allow_load(struct allowlist *al, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, why[160];
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (memchr(line, '\0', (size_t)n)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			rc = -1;
			break;
		}
		if (allow_parse_line(al, line, lineno, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -1;
			break;
		}
		errno = 0;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

void allow_free(struct allowlist *al)
{
	for (size_t i = 0; i < al->n; i++)
		free(al->rules[i].name);
	free(al->rules);
	*al = (struct allowlist){ 0 };
}

static int prefix_eq(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, net, whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ net[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int allow_match(const struct allowlist *al, int family, const uint8_t addr[16], int port,
		int proto)
{
	for (size_t i = 0; i < al->n; i++) {
		const struct allow_rule *r = &al->rules[i];
		if (r->family != family || (r->proto && r->proto != proto))
			continue;
		if (r->has_port && (port < 0 || port < r->port_lo || port > r->port_hi))
			continue;
		if (prefix_eq(addr, r->addr, r->prefix))
			return 1;
	}
	return 0;
}

int allow_name_covers(const char *pattern, int wild, const char *name)
{
	size_t pl = strlen(pattern), nl = strlen(name);
	if (!wild)
		return strcasecmp(pattern, name) == 0;
	/* *.example.test: a.example.test and a.b.example.test, not example.test nor
	 * badexample.test */
	return nl > pl + 1 && name[nl - pl - 1] == '.' && strcasecmp(name + nl - pl, pattern) == 0;
}

int allow_match_name(const struct allowlist *al, const char *name, int port, int proto)
{
	for (size_t i = 0; i < al->n; i++) {
		const struct allow_rule *r = &al->rules[i];
		if (!r->name || (r->proto && r->proto != proto))
			continue;
		if (r->has_port && (port < 0 || port < r->port_lo || port > r->port_hi))
			continue;
		if (allow_name_covers(r->name, r->wild, name))
			return 1;
	}
	return 0;
}
