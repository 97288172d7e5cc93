/* Declared destinations (report --allow, the output of policy). One rule a line:
 *     ADDR[/PREFIX] [PORT[-PORT]] [tcp|udp]      # comment
 *     NAME [PORT[-PORT]] [tcp|udp]               a DNS name: api.example.com
 *     *.DOMAIN [PORT[-PORT]] [tcp|udp]           any name under DOMAIN (not DOMAIN)
 * A NAME rule matches a connection by the name the container resolved to reach it
 * (remote_name), case-insensitively, at label boundaries.
 * IPv4 or IPv6; a v4-mapped IPv6 rule (::ffff:a.b.c.d/>=96) is folded to IPv4 as the
 * store folds addresses. Host bits beyond the prefix are ignored. */
#ifndef CLAWSS_REPORT_ALLOW_H
#define CLAWSS_REPORT_ALLOW_H

#include <stddef.h>
#include <stdint.h>

struct allow_rule {
	uint8_t family;      /* SKF_IPV4 or SKF_IPV6; 0 for a NAME rule */
	uint8_t wild;        /* NAME rule *.DOMAIN: name holds DOMAIN */
	char *name;          /* NAME rule: lower case, no final dot; else NULL */
	uint8_t prefix;      /* bits that must match */
	uint8_t proto;       /* SK_TCP, SK_UDP, or 0 for either */
	uint8_t has_port;
	uint16_t port_lo, port_hi;
	uint8_t addr[16];    /* masked to prefix */
	unsigned line;
};

struct allowlist {
	struct allow_rule *rules;
	size_t n, cap;
};

/* Parses one line (no newline) and appends its rule; a blank or comment-only line adds
 * nothing. 0 on success, -1 with the reason in why. */
int allow_parse_line(struct allowlist *al, const char *line, unsigned lineno,
		     char *why, size_t whylen);
/* Reads a whole file. -1 with "FILE:LINE: why" (or "FILE: why") in err. */
int allow_load(struct allowlist *al, const char *path, char *err, size_t errlen);
void allow_free(struct allowlist *al);

/* Parses an address as the store writes it (IPv4 or IPv6 text); folds v4-mapped IPv6.
 * 0 on success, -1 if it is not an address. */
int allow_addr_parse(const char *text, int *family, uint8_t addr[16]);
/* 1 when some rule covers (family, addr, port, proto). port < 0 means unknown (an
 * RST-closed socket seen only at destruction): only rules without a port cover it. */
int allow_match(const struct allowlist *al, int family, const uint8_t addr[16], int port,
		int proto);
/* 1 when some NAME rule covers (name, port, proto). */
int allow_match_name(const struct allowlist *al, const char *name, int port, int proto);
/* Whether pattern (a NAME rule's: DOMAIN, wild for *.DOMAIN) covers name. */
int allow_name_covers(const char *pattern, int wild, const char *name);

#endif
