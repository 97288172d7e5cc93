#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "../lib/sock.h"
#include "ct.h"
#include "diag.h"

#define CT_RCVBUF (4 << 20)
#define CT_BUF (64 << 10)
#define CT_FORGED_MAX 64       /* forged datagrams dropped per ct_read */
/* Refresh requests skipped while a dump is still being answered before one is sent
 * anyway (its NLMSG_DONE lost: the kernel then answers EBUSY, which ends nothing) */
#define CT_DUMP_WAIT_MAX 8

struct ct {
	struct mnl_socket *nl;
	uint32_t seq;
	uint32_t dump_seq;        /* the dump being answered, 0 for none */
	unsigned dump_skips;      /* refresh requests skipped while it is */
};

struct ct *ct_open(void)
{
	unsigned groups = (1u << (NFNLGRP_CONNTRACK_NEW - 1)) |
			  (1u << (NFNLGRP_CONNTRACK_DESTROY - 1));
	int size = CT_RCVBUF;
	struct ct *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!c->nl)
		goto fail;
	int fd = mnl_socket_get_fd(c->nl);
	/* a burst of short flows outruns the default buffer, as destroy events do */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* connected to the kernel: a process in the namespace cannot forge events */
	if (mnl_socket_bind(c->nl, groups, MNL_SOCKET_AUTOPID) < 0 || diag_connect_kernel(fd) < 0)
		goto fail;
	return c;
fail:;
	int e = errno;
	ct_close(c);
	errno = e;
	return NULL;
}

void ct_close(struct ct *c)
{
	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

int ct_fd(const struct ct *c)
{
	return mnl_socket_get_fd(c->nl);
}

static int64_t ns_to_ms(uint64_t ns)
{
	return (int64_t)(ns / 1000000);
}

/* The parsed conntrack object to a ctflow; 0 when it is not a flow we report. */
static int decode(const struct nf_conntrack *ct, int event, struct ctflow *f)
{
	memset(f, 0, sizeof(*f));
	f->event = (uint8_t)event;
	if (!nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) || !nfct_attr_is_set(ct, ATTR_ORIG_L4PROTO))
		return 0;
	uint8_t l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (l3 == AF_INET && nfct_attr_is_set(ct, ATTR_ORIG_IPV4_SRC) &&
	    nfct_attr_is_set(ct, ATTR_ORIG_IPV4_DST)) {
		f->family = SKF_IPV4;
		memcpy(f->src, nfct_get_attr(ct, ATTR_ORIG_IPV4_SRC), 4);
		memcpy(f->dst, nfct_get_attr(ct, ATTR_ORIG_IPV4_DST), 4);
	} else if (l3 == AF_INET6 && nfct_attr_is_set(ct, ATTR_ORIG_IPV6_SRC) &&
		   nfct_attr_is_set(ct, ATTR_ORIG_IPV6_DST)) {
		f->family = SKF_IPV6;
		memcpy(f->src, nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC), 16);
		memcpy(f->dst, nfct_get_attr(ct, ATTR_ORIG_IPV6_DST), 16);
		sk_addr_normalise(SKF_IPV6, f->src);
		if (sk_addr_normalise(SKF_IPV6, f->dst) == SKF_IPV4)
			f->family = SKF_IPV4;
	} else {
		return 0;
	}
	if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) {
		if (!nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) ||
		    !nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST))
			return 0;
		f->proto = l4 == IPPROTO_TCP ? SK_TCP : SK_UDP;
		f->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
		f->dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	} else if (l4 == IPPROTO_ICMP || l4 == IPPROTO_ICMPV6) {
		/* echo requests only: the ones a ping socket (or a tunnel) starts */
		uint8_t echo = l4 == IPPROTO_ICMP ? 8 : 128;
		if (!nfct_attr_is_set(ct, ATTR_ICMP_TYPE) || !nfct_attr_is_set(ct, ATTR_ICMP_ID) ||
		    nfct_get_attr_u8(ct, ATTR_ICMP_TYPE) != echo)
			return 0;
		f->proto = SK_ICMP;
		f->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
	} else {
		return 0;
	}
	if (nfct_attr_is_set(ct, ATTR_ID))
		f->id = nfct_get_attr_u32(ct, ATTR_ID);
	if (nfct_attr_is_set(ct, ATTR_STATUS))
		f->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_BYTES) &&
	    nfct_attr_is_set(ct, ATTR_REPL_COUNTER_BYTES)) {
		f->counters = 1;
		f->orig_bytes = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
		f->reply_bytes = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
		if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_PACKETS))
			f->orig_packets = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
		if (nfct_attr_is_set(ct, ATTR_REPL_COUNTER_PACKETS))
			f->reply_packets = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
	}
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START))
		f->start_ms = ns_to_ms(nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START));
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_STOP))
		f->stop_ms = ns_to_ms(nfct_get_attr_u64(ct, ATTR_TIMESTAMP_STOP));
	return 1;
}

struct parse_ctx {
	ct_cb cb;
	void *arg;
};

/* The sanitised copy handed to libnetfilter_conntrack. Its parser (1.0.9,
 * src/conntrack/parse_mnl.c) checks the size of every attribute it knows with
 * mnl_attr_validate and calls exit() (its abi_breakage) when one is wrong, at every
 * level it parses. So it is never given the kernel's message itself: the copy holds only
 * the attributes decode() reads (and the reply tuple), at each level, each checked first
 * exactly as the library checks it (the same mnl_attr_validate call: exact size for the
 * integers and the IPv6 addresses, a whole header for a non-empty nest). A message with
 * one of them wrong is skipped; everything else (zone, mark, labels, protoinfo, helper,
 * ...) is left out, unread, so no size of theirs can reach the library's checks. Nothing
 * is decoded here: the library still reads every value. Of duplicates the last is kept,
 * as the library keeps it, after every one was checked, as the library checks them. */
struct ct_keep {
	uint16_t type;
	enum mnl_attr_data_type kind; /* MNL_TYPE_UNSPEC: exactly len bytes (validate2) */
	uint16_t len;
	const struct ct_level *nest;  /* kind MNL_TYPE_NESTED: what to keep inside */
};

struct ct_level {
	const struct ct_keep *keep;
	unsigned n;
};

#define CT_LEVEL(a) { a, sizeof(a) / sizeof(a[0]) }
#define CT_KEEP_MAX 9 /* the most types a level keeps (ct_proto) */

static const struct ct_keep ct_ip[] = {
	{ CTA_IP_V4_SRC, MNL_TYPE_U32, 0, NULL },
	{ CTA_IP_V4_DST, MNL_TYPE_U32, 0, NULL },
	{ CTA_IP_V6_SRC, MNL_TYPE_UNSPEC, sizeof(struct in6_addr), NULL },
	{ CTA_IP_V6_DST, MNL_TYPE_UNSPEC, sizeof(struct in6_addr), NULL },
};
static const struct ct_level ct_ip_level = CT_LEVEL(ct_ip);

static const struct ct_keep ct_proto[] = {
	{ CTA_PROTO_NUM, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_SRC_PORT, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_DST_PORT, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_ICMP_ID, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_ICMP_TYPE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMP_CODE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMPV6_ID, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_ICMPV6_TYPE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMPV6_CODE, MNL_TYPE_U8, 0, NULL },
};
static const struct ct_level ct_proto_level = CT_LEVEL(ct_proto);

/* not CTA_TUPLE_ZONE: the library checks it (u16), decode() does not read it */
static const struct ct_keep ct_tuple[] = {
	{ CTA_TUPLE_IP, MNL_TYPE_NESTED, 0, &ct_ip_level },
	{ CTA_TUPLE_PROTO, MNL_TYPE_NESTED, 0, &ct_proto_level },
};
static const struct ct_level ct_tuple_level = CT_LEVEL(ct_tuple);

static const struct ct_keep ct_counters[] = {
	{ CTA_COUNTERS_PACKETS, MNL_TYPE_U64, 0, NULL },
	{ CTA_COUNTERS_BYTES, MNL_TYPE_U64, 0, NULL },
	{ CTA_COUNTERS32_PACKETS, MNL_TYPE_U32, 0, NULL },
	{ CTA_COUNTERS32_BYTES, MNL_TYPE_U32, 0, NULL },
};
static const struct ct_level ct_counters_level = CT_LEVEL(ct_counters);

static const struct ct_keep ct_timestamp[] = {
	{ CTA_TIMESTAMP_START, MNL_TYPE_U64, 0, NULL },
	{ CTA_TIMESTAMP_STOP, MNL_TYPE_U64, 0, NULL },
};
static const struct ct_level ct_timestamp_level = CT_LEVEL(ct_timestamp);

static const struct ct_keep ct_top[] = {
	{ CTA_TUPLE_ORIG, MNL_TYPE_NESTED, 0, &ct_tuple_level },
	{ CTA_TUPLE_REPLY, MNL_TYPE_NESTED, 0, &ct_tuple_level },
	{ CTA_STATUS, MNL_TYPE_U32, 0, NULL },
	{ CTA_ID, MNL_TYPE_U32, 0, NULL },
	{ CTA_COUNTERS_ORIG, MNL_TYPE_NESTED, 0, &ct_counters_level },
	{ CTA_COUNTERS_REPLY, MNL_TYPE_NESTED, 0, &ct_counters_level },
	{ CTA_TIMESTAMP, MNL_TYPE_NESTED, 0, &ct_timestamp_level },
};
static const struct ct_level ct_top_level = CT_LEVEL(ct_top);
#define CT_FITS(a) _Static_assert(sizeof(a) / sizeof(a[0]) <= CT_KEEP_MAX, #a " > CT_KEEP_MAX")
CT_FITS(ct_ip);
CT_FITS(ct_proto);
CT_FITS(ct_tuple);
CT_FITS(ct_counters);
CT_FITS(ct_timestamp);
CT_FITS(ct_top);

struct ct_pick {
	const struct ct_level *level;
	const struct nlattr *tb[CT_KEEP_MAX];
};

/* mnl_attr_parse's callback: each attribute of a kept type checked as the library will */
static int ct_pick_cb(const struct nlattr *attr, void *data)
{
	struct ct_pick *p = data;
	uint16_t type = mnl_attr_get_type(attr);
	for (unsigned i = 0; i < p->level->n; i++) {
		const struct ct_keep *k = &p->level->keep[i];
		if (k->type != type)
			continue;
		int r = k->kind == MNL_TYPE_UNSPEC ? mnl_attr_validate2(attr, k->kind, k->len)
						   : mnl_attr_validate(attr, k->kind);
		if (r < 0)
			return MNL_CB_ERROR;
		p->tb[i] = attr;
		break;
	}
	return MNL_CB_OK;
}

/* Appends the kept attributes of one level to out (size bytes): 0, or -1 when one is
 * malformed, of the wrong size, or the copy would not fit. */
static int ct_copy_level(struct nlmsghdr *out, size_t size, const struct ct_pick *p)
{
	for (unsigned i = 0; i < p->level->n; i++) {
		const struct ct_keep *k = &p->level->keep[i];
		const struct nlattr *a = p->tb[i];
		if (!a)
			continue;
		if (k->nest) {
			struct ct_pick in = { .level = k->nest };
			if (mnl_attr_parse_nested(a, ct_pick_cb, &in) < 0)
				return -1;
			struct nlattr *n = mnl_attr_nest_start_check(out, size, k->type);
			if (!n || ct_copy_level(out, size, &in) < 0)
				return -1;
			mnl_attr_nest_end(out, n);
		} else if (!mnl_attr_put_check(out, size, a->nla_type, mnl_attr_get_payload_len(a),
					       mnl_attr_get_payload(a))) {
			return -1;
		}
	}
	return 0;
}

/* The sanitised copy of nlh (which holds at least its nfgenmsg) in buf: NULL when nlh
 * must not reach the library. The walk is bounded by nlh's own nlmsg_len. */
static const struct nlmsghdr *ct_sanitise(const struct nlmsghdr *nlh, void *buf, size_t size)
{
	struct ct_pick top = { .level = &ct_top_level };
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_pick_cb, &top) < 0)
		return NULL;
	struct nlmsghdr *out = mnl_nlmsg_put_header(buf);
	out->nlmsg_type = nlh->nlmsg_type;
	out->nlmsg_flags = nlh->nlmsg_flags;
	out->nlmsg_seq = nlh->nlmsg_seq;
	out->nlmsg_pid = nlh->nlmsg_pid;
	memcpy(mnl_nlmsg_put_extra_header(out, sizeof(struct nfgenmsg)),
	       mnl_nlmsg_get_payload(nlh), sizeof(struct nfgenmsg));
	return ct_copy_level(out, size, &top) < 0 ? NULL : out;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *p = data;
	struct ctflow f;
	int event;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return MNL_CB_OK;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	/* events carry sequence number 0; a dump's answers carry the request's */
	case IPCTNL_MSG_CT_NEW: event = nlh->nlmsg_seq ? CT_UPDATE : CT_NEW; break;
	case IPCTNL_MSG_CT_DELETE: event = CT_DESTROY; break;
	default: return MNL_CB_OK;
	}
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* a message with an attribute of the wrong size is skipped, as one the library
	 * refuses is: it never reaches nfct_nlmsg_parse, which would exit() (ct_sanitise).
	 * The copy holds a few fixed-size attributes: 512 bytes hold them all */
	char copy[512] __attribute__((aligned(8)));
	const struct nlmsghdr *clean = ct_sanitise(nlh, copy, sizeof(copy));
	if (!clean)
		return MNL_CB_OK;
	/* a fresh object per message: nfct_nlmsg_parse sets only what the message carries */
	struct nf_conntrack *ct = nfct_new();
	if (!ct)
		return MNL_CB_ERROR;
	int rc = MNL_CB_OK;
	/* a message libnetfilter_conntrack refuses is skipped */
	if (nfct_nlmsg_parse(clean, ct) == 0 && decode(ct, event, &f) && p->cb(p->arg, &f) < 0)
		rc = MNL_CB_ERROR;
	nfct_destroy(ct);
	return rc;
}

/* *ended: the sequence number of a request's end (NLMSG_DONE, or an error answering it)
 * the buffer holds, else 0. */
static int parse(const void *buf, size_t len, ct_cb cb, void *arg, uint32_t *ended)
{
	struct parse_ctx p = { cb, arg };
	*ended = 0;
	const unsigned char *at = buf;
	/* walked here, not with mnl_cb_run: libmnl 1.0.4 compares nlmsg_len as a signed
	 * int, so a length above 2^31 passes its bound check (fuzz/ct found it) */
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)at;
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len) {
			errno = EBADMSG;
			return -1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			*ended = nlh->nlmsg_seq;
			return 0;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				errno = EBADMSG;
				return -1;
			}
			if (e->error) {
				*ended = nlh->nlmsg_seq;
				/* the kernel's is a negative errno; INT_MIN cannot be negated
				 * (fuzz/ct found it once the library's exit was gone) */
				errno = e->error < 0 && e->error > INT_MIN ? -e->error : EBADMSG;
				return -1;
			}
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			errno = 0;
			if (msg_cb(nlh, &p) == MNL_CB_ERROR) {
				if (!errno)
					errno = EBADMSG;
				return -1;
			}
		}
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			break;
		at += step;
		len -= step;
	}
	return 0;
}

int ct_parse(const void *buf, size_t len, ct_cb cb, void *arg)
{
	uint32_t ended;
	return parse(buf, len, cb, arg, &ended);
}

int ct_read(struct ct *c, ct_cb cb, void *arg, struct ct_read_info *info)
{
	/* on the stack, not per namespace: a thousand namespaces would hold 64 MiB */
	char buf[CT_BUF] __attribute__((aligned(8)));
	int n = 0, forged = 0;
	memset(info, 0, sizeof(*info));
	for (;;) {
		ssize_t len = diag_recv_kernel(mnl_socket_get_fd(c->nl), buf, sizeof(buf),
					       MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS) {
				info->lost = 1;
				continue;
			}
			/* a datagram the kernel did not send (multicast forged inside the
			 * namespace) is dropped, a bounded number a call: more wait for the
			 * next wakeup */
			if (errno == EPERM && ++forged < CT_FORGED_MAX)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EPERM)
				return n;
			return -1;
		}
		if (len == 0)
			return n;
		n++;
		/* one datagram that fails is one datagram: the events behind it are read
		 * (stopping here would leave them for a later wakeup, after the sockets
		 * they belong to have gone from the table) */
		uint32_t ended;
		if (parse(buf, (size_t)len, cb, arg, &ended) < 0) {
			if (ended)
				info->dump_err = errno;   /* the kernel refused a dump request */
			else if (errno != EBADMSG && !info->err)
				info->err = errno;
		}
		if (ended && ended == c->dump_seq) {
			c->dump_seq = 0;
			c->dump_skips = 0;
		}
	}
}

int ct_request_dump(struct ct *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	/* one at a time: a request while one is answered is refused (EBUSY) */
	if (c->dump_seq && c->dump_skips++ < CT_DUMP_WAIT_MAX)
		return 0;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++c->seq ? c->seq : ++c->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	c->dump_seq = nlh->nlmsg_seq;
	c->dump_skips = 0;
	return 0;
}

static int write_one(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, "1\n", 2);
	int e = errno;
	close(fd);
	errno = e;
	return w == 2 ? 0 : -1;
}

int ct_sysctl_on(void)
{
	/* /proc/sys/net is the namespace of the thread that opens it: these are this
	 * namespace's own */
	if (write_one("/proc/sys/net/netfilter/nf_conntrack_acct") < 0)
		return -1;
	return write_one("/proc/sys/net/netfilter/nf_conntrack_timestamp");
}
