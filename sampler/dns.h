/* DNS messages and the packets that carry them, as NFLOG hands them over (an IPv4 or
 * IPv6 packet from its network header). The message itself is parsed by glibc's
 * libresolv (ns_initparse, ns_parserr, ns_name_ntop): never by hand. Pure functions, no
 * I/O: the fuzz harness fuzz/dns.c and tests/unit/dns.c drive them directly. */
#ifndef CLAWSS_DNS_H
#define CLAWSS_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 256       /* presentation form of a name, with its NUL */
#define DNS_MAX_ANSWERS 16     /* addresses kept per answer; the rest are counted */
#define DNS_MAX_RRS 64         /* resource records looked at per answer section */

struct dns_addr {
	uint8_t family;        /* SKF_IPV4 or SKF_IPV6 */
	uint8_t addr[16];
	uint32_t ttl;          /* seconds */
};

struct dns_msg {
	uint16_t id;
	uint8_t qr;            /* 1: a response */
	uint8_t rcode;
	uint16_t qtype;
	char qname[DNS_NAME_MAX];   /* lower case, no final dot; "." for the root */
	unsigned nanswers;          /* addresses kept in an[] */
	unsigned dropped;           /* addresses past DNS_MAX_ANSWERS */
	struct dns_addr an[DNS_MAX_ANSWERS];
};

/* Parses one DNS message (no TCP length prefix). Answers are the A and AAAA records
 * whose owner is the question's name or a CNAME reached from it. 0, or -1 (EBADMSG)
 * when it is not a message with one question. */
int dns_parse(const uint8_t *msg, size_t len, struct dns_msg *m);

/* The endpoints and DNS payload of one IP packet. */
struct dns_pkt {
	uint8_t family;        /* SKF_IPV4 or SKF_IPV6 */
	uint8_t proto;         /* SK_UDP or SK_TCP */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	const uint8_t *payload; /* the DNS message (TCP: after its 2-byte length) */
	size_t len;
};

/* Finds the DNS message in an IP packet whose source or destination port is 53. A TCP
 * segment counts only when it holds one whole message after its length prefix (no
 * reassembly). 0, or -1 (EBADMSG, or ENOMSG for a segment without one). */
int dns_packet(const uint8_t *pkt, size_t len, struct dns_pkt *p);

#endif
