#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <resolv.h>
#include <string.h>
#include "../lib/sock.h"
#include "dns.h"

/* Presentation form, lower case, without the final dot (ns_name_ntop escapes what is
 * not printable as \DDD, so the result is plain ASCII). */
static void name_fold(char *s)
{
	size_t n = strlen(s);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (n > 1 && s[n - 1] == '.' && (n < 2 || s[n - 2] != '\\'))
		s[n - 1] = '\0';
}

/* Whether name is one of the chain's names (the question and the CNAMEs from it). */
static int in_chain(char chain[][DNS_NAME_MAX], unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(chain[i], name) == 0)
			return 1;
	return 0;
}

enum { CHAIN_MAX = 8 };

static void answers(ns_msg *h, struct dns_msg *m)
{
	char chain[CHAIN_MAX][DNS_NAME_MAX], owner[NS_MAXDNAME];
	unsigned nchain = 1, count = ns_msg_count(*h, ns_s_an);
	ns_rr rr;

	if (count > DNS_MAX_RRS)
		count = DNS_MAX_RRS;
	memcpy(chain[0], m->qname, sizeof(chain[0]));
	/* CNAMEs first, in as many rounds as the chain can be long: servers may list them
	 * in any order */
	for (unsigned round = 0; round < CHAIN_MAX; round++) {
		unsigned before = nchain;
		for (unsigned i = 0; i < count && nchain < CHAIN_MAX; i++) {
			char target[NS_MAXDNAME];
			if (ns_parserr(h, ns_s_an, (int)i, &rr) < 0 || ns_rr_type(rr) != ns_t_cname)
				continue;
			snprintf(owner, sizeof(owner), "%s", ns_rr_name(rr));
			name_fold(owner);
			if (!in_chain(chain, nchain, owner) ||
			    ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr),
					       target, sizeof(target)) < 0)
				continue;
			name_fold(target);
			size_t tl = strlen(target);
			if (tl < DNS_NAME_MAX && !in_chain(chain, nchain, target))
				memcpy(chain[nchain++], target, tl + 1);
		}
		if (nchain == before)
			break;
	}
	for (unsigned i = 0; i < count; i++) {
		if (ns_parserr(h, ns_s_an, (int)i, &rr) < 0)
			continue;
		unsigned t = ns_rr_type(rr), want = t == ns_t_a ? 4 : t == ns_t_aaaa ? 16 : 0;
		if (!want || ns_rr_class(rr) != ns_c_in || ns_rr_rdlen(rr) != want)
			continue;
		snprintf(owner, sizeof(owner), "%s", ns_rr_name(rr));
		name_fold(owner);
		if (!in_chain(chain, nchain, owner))
			continue;
		if (m->nanswers == DNS_MAX_ANSWERS) {
			m->dropped++;
			continue;
		}
		struct dns_addr *a = &m->an[m->nanswers++];
		memset(a, 0, sizeof(*a));
		memcpy(a->addr, ns_rr_rdata(rr), want);
		a->family = (uint8_t)sk_addr_normalise(want == 4 ? SKF_IPV4 : SKF_IPV6, a->addr);
		a->ttl = ns_rr_ttl(rr);
	}
}

int dns_parse(const uint8_t *msg, size_t len, struct dns_msg *m)
{
	ns_msg h;
	ns_rr q;

	memset(m, 0, sizeof(*m));
	if (len > 65535 || ns_initparse(msg, (int)len, &h) < 0 ||
	    ns_msg_count(h, ns_s_qd) != 1 || ns_parserr(&h, ns_s_qd, 0, &q) < 0)
		goto bad;
	m->id = ns_msg_id(h);
	m->qr = (uint8_t)ns_msg_getflag(h, ns_f_qr);
	m->rcode = (uint8_t)ns_msg_getflag(h, ns_f_rcode);
	m->qtype = (uint16_t)ns_rr_type(q);
	size_t ql = strlen(ns_rr_name(q));
	if (ql >= DNS_NAME_MAX)
		goto bad;
	memcpy(m->qname, ns_rr_name(q), ql + 1);
	if (!m->qname[0])
		snprintf(m->qname, sizeof(m->qname), ".");
	name_fold(m->qname);
	if (m->qr)
		answers(&h, m);
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

static int transport(const uint8_t *l4, size_t len, int proto, struct dns_pkt *p)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr u;
		if (len < sizeof(u))
			goto bad;
		memcpy(&u, l4, sizeof(u));
		p->proto = SK_UDP;
		p->sport = ntohs(u.uh_sport);
		p->dport = ntohs(u.uh_dport);
		p->payload = l4 + sizeof(u);
		p->len = len - sizeof(u);
	} else if (proto == IPPROTO_TCP) {
		struct tcphdr t;
		if (len < sizeof(t))
			goto bad;
		memcpy(&t, l4, sizeof(t));
		size_t off = (size_t)t.th_off * 4;
		if (off < sizeof(t) || off > len)
			goto bad;
		p->proto = SK_TCP;
		p->sport = ntohs(t.th_sport);
		p->dport = ntohs(t.th_dport);
		/* one whole message after its length: what a segment of a lookup holds */
		if (len - off < 2 || (size_t)(l4[off] << 8 | l4[off + 1]) != len - off - 2) {
			errno = ENOMSG;
			return -1;
		}
		p->payload = l4 + off + 2;
		p->len = len - off - 2;
	} else {
		goto bad;
	}
	if (p->sport != 53 && p->dport != 53)
		goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int dns_packet(const uint8_t *pkt, size_t len, struct dns_pkt *p)
{
	memset(p, 0, sizeof(*p));
	if (len >= sizeof(struct ip) && pkt[0] >> 4 == 4) {
		struct ip ip;
		memcpy(&ip, pkt, sizeof(ip));
		size_t hl = (size_t)ip.ip_hl * 4, tot = ntohs(ip.ip_len);
		/* a fragment other than the first carries no header to read */
		if (hl < sizeof(ip) || tot < hl || tot > len || (ntohs(ip.ip_off) & IP_OFFMASK))
			goto bad;
		p->family = SKF_IPV4;
		memcpy(p->saddr, &ip.ip_src, 4);
		memcpy(p->daddr, &ip.ip_dst, 4);
		return transport(pkt + hl, tot - hl, ip.ip_p, p);
	}
	if (len >= sizeof(struct ip6_hdr) && pkt[0] >> 4 == 6) {
		struct ip6_hdr ip6;
		memcpy(&ip6, pkt, sizeof(ip6));
		size_t pl = ntohs(ip6.ip6_plen);
		/* extension headers are not followed: a DNS packet has none */
		if (pl > len - sizeof(ip6))
			goto bad;
		memcpy(p->saddr, &ip6.ip6_src, 16);
		memcpy(p->daddr, &ip6.ip6_dst, 16);
		p->family = (uint8_t)sk_addr_normalise(SKF_IPV6, p->saddr);
		sk_addr_normalise(SKF_IPV6, p->daddr);
		return transport(pkt + sizeof(ip6), pl, ip6.ip6_nxt, p);
	}
bad:
	errno = EBADMSG;
	return -1;
}
