/* The dns-tunnel rule: a tunnel (iodine, dnscat2) carries data in the labels of many
 * unique names under one domain; ordinary lookups repeat a few names, and the hashed
 * labels of CDNs are short. For one container's queries, by registered domain
 * (approximated: the last two labels, or three when the second-to-last is a short
 * second-level label such as co.uk or com.au), over a window of TUNNEL_WINDOW_MS:
 *   a query is "data-like" when its longest label (under the registered domain) is at
 *   least TUNNEL_LABEL_LONG characters, or the part under the domain is at least
 *   TUNNEL_SUB_LONG characters, or it is at least TUNNEL_SUB_MIN characters with a
 *   character entropy of TUNNEL_ENTROPY bits or more, or its type is TXT, NULL, CNAME,
 *   MX, ANY or a private one (what tunnels use for the way back) with the
 *   part under the domain at least TUNNEL_SUB_MIN characters;
 *   the domain's queries in a window are flagged when it holds at least
 *   TUNNEL_MIN_UNIQUE distinct names, at least TUNNEL_MIN_FRACTION of them data-like.
 * README gives its precision and recall on the labelled set of tests/unit/tunnel.c. */
#ifndef CLAWSS_REPORT_TUNNEL_H
#define CLAWSS_REPORT_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#define TUNNEL_WINDOW_MS 300000
#define TUNNEL_MIN_UNIQUE 10
#define TUNNEL_MIN_FRACTION 0.5
#define TUNNEL_LABEL_LONG 24
#define TUNNEL_SUB_LONG 40
#define TUNNEL_SUB_MIN 16
#define TUNNEL_ENTROPY 3.6

struct tunnel_q {
	int64_t t;
	const char *qname;
	int qtype;
	int flagged;          /* set by tunnel_flag */
};

/* Where the registered domain begins in name (an offset into it). */
size_t tunnel_registered(const char *name);
/* Whether one query looks like it carries data (the per-query half of the rule). */
int tunnel_data_like(const char *qname, int qtype);
/* One container's queries, in time order: sets flagged. -1 when out of memory. */
int tunnel_flag(struct tunnel_q *q, size_t n);

#endif
