/* Conntrack events of one namespace (ctnetlink NEW and DESTROY), read with
 * libnetfilter_conntrack over a libmnl socket created inside the namespace. Everything
 * leaves this file as a struct ctflow; no netlink type is visible outside it.
 * Library style: -1 and errno, never print. */
#ifndef CLAWSS_CT_H
#define CLAWSS_CT_H

#include <stddef.h>
#include <stdint.h>

/* CT_UPDATE: a flow still alive, as a dump (ct_request_dump) lists it: fresh counters. */
enum ct_event { CT_NEW = 1, CT_DESTROY = 2, CT_UPDATE = 3 };

/* A flow as its original direction saw it: src is who sent the first packet. */
struct ctflow {
	uint8_t event;            /* enum ct_event */
	uint8_t proto;            /* SK_TCP, SK_UDP or SK_ICMP (echo); others are not passed on */
	uint8_t family;           /* SKF_IPV4, SKF_IPV6; v4-mapped folded to IPv4 */
	uint8_t counters;         /* the byte/packet counters are known (nf_conntrack_acct) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;    /* host order; ICMP echo: identifier and 0 */
	uint32_t id;              /* the kernel's conntrack id (not unique over time) */
	uint32_t status;          /* IPS_* bits */
	uint64_t orig_bytes, reply_bytes, orig_packets, reply_packets; /* with headers */
	int64_t start_ms, stop_ms;/* nf_conntrack_timestamp; 0 = unknown */
};

typedef int (*ct_cb)(void *arg, const struct ctflow *f);

struct ct;

/* Subscribed to NEW and DESTROY in the calling thread's namespace, non-blocking, a
 * 4 MiB receive buffer; connected to the kernel so nothing else can write to it. */
struct ct *ct_open(void);
void ct_close(struct ct *c);
int ct_fd(const struct ct *c);
/* What a ct_read saw besides its events: lost, the kernel dropped events (ENOBUFS);
 * err, the first errno of a datagram that could not be taken (cb failed); dump_err, the
 * kernel's refusal of a dump request. The datagrams after either are read all the same. */
struct ct_read_info {
	int lost;
	int err;
	int dump_err;
};
/* Reads every pending event without blocking; cb per flow. The number of datagrams read,
 * or -1 with errno when the socket cannot be read. */
int ct_read(struct ct *c, ct_cb cb, void *arg, struct ct_read_info *info);
/* Asks for a dump of the namespace's flows; the answers arrive on the same socket,
 * read by ct_read as CT_UPDATE among the events. One at a time: while one is still
 * being answered, a request is skipped (0). -1 with errno. */
int ct_request_dump(struct ct *c);
/* Decodes a buffer of ctnetlink event messages as received. 0, or -1 with errno on a
 * malformed message (EBADMSG). Exposed for tests and the fuzz harness. */
int ct_parse(const void *buf, size_t len, ct_cb cb, void *arg);

/* Turns on the namespace's own byte counters and timestamps for new flows
 * (net.netfilter.nf_conntrack_acct and _timestamp): call while inside it. */
int ct_sysctl_on(void);

#endif
