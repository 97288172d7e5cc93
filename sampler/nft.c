#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include "diag.h"
#include "nft.h"

#define NFT_BUF (64 << 10)
#define NFT_FORGED_MAX 64      /* forged datagrams dropped per nft_events_drain */

struct nft {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	struct nft_opts o;
	uint64_t print;           /* fingerprint of the table as installed */
	char *buf;                /* only during a call: a thousand namespaces idle hold none */
};

struct nft *nft_open(const struct nft_opts *o)
{
	struct nft *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	/* the kernel is the only peer we hear: a process in the namespace could otherwise
	 * forge replies */
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    diag_connect_kernel(mnl_socket_get_fd(n->nl)) < 0) {
		int e = errno;
		nft_close(n);
		errno = e;
		return NULL;
	}
	/* never wait for ever on a kernel that does not answer */
	struct timeval tv = { 2, 0 };
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	if (o)
		n->o = *o;
	return n;
}

void nft_close(struct nft *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->buf);
	free(n);
}

/* ---- Building the batch ------------------------------------------------------------ */

struct u32_attr {
	uint16_t type;
	uint32_t val;
};

/* Appends expression name with n u32 attributes to r: the expression (more attributes
 * may still be set), or NULL when out of memory. */
static struct nftnl_expr *rule_expr(struct nftnl_rule *r, const char *name,
				    const struct u32_attr *a, size_t n)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++)
		nftnl_expr_set_u32(e, a[i].type, a[i].val);
	nftnl_rule_add_expr(r, e);
	return e;
}

#define RULE_EXPR(r, name, ...)                                                           \
	rule_expr(r, name, (const struct u32_attr[]){ __VA_ARGS__ },                      \
		  sizeof((const struct u32_attr[]){ __VA_ARGS__ }) / sizeof(struct u32_attr))

/* Register 1 compared (op) with data; -1 when out of memory. */
static int add_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = RULE_EXPR(r, "cmp", { NFTNL_EXPR_CMP_SREG, NFT_REG_1 },
					 { NFTNL_EXPR_CMP_OP, op });
	if (!e)
		return -1;
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return 0;
}

/* `ct state new`: a match with no statement. Referencing ct is what turns conntrack on
 * in the namespace; the rule itself changes nothing. */
static int rule_ct_new(struct nftnl_rule *r)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;
	struct nftnl_expr *bw;
	if (!RULE_EXPR(r, "ct", { NFTNL_EXPR_CT_KEY, NFT_CT_STATE },
		       { NFTNL_EXPR_CT_DREG, NFT_REG_1 }) ||
	    !(bw = RULE_EXPR(r, "bitwise", { NFTNL_EXPR_BITWISE_SREG, NFT_REG_1 },
			     { NFTNL_EXPR_BITWISE_DREG, NFT_REG_1 },
			     { NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t) })))
		return -1;
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	return add_cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

/* `meta l4proto P th sport|dport 53 log group G`: hands DNS packets to nfnetlink_log. */
static int rule_dns_log(struct nftnl_rule *r, uint8_t l4, int dport, uint16_t group)
{
	uint16_t port = htons(53);
	struct nftnl_expr *log;
	if (!RULE_EXPR(r, "meta", { NFTNL_EXPR_META_KEY, NFT_META_L4PROTO },
		       { NFTNL_EXPR_META_DREG, NFT_REG_1 }) ||
	    add_cmp(r, NFT_CMP_EQ, &l4, sizeof(l4)) < 0 ||
	    !RULE_EXPR(r, "payload", { NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER },
		       { NFTNL_EXPR_PAYLOAD_OFFSET, dport ? 2 : 0 },
		       { NFTNL_EXPR_PAYLOAD_LEN, sizeof(port) },
		       { NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1 }) ||
	    add_cmp(r, NFT_CMP_EQ, &port, sizeof(port)) < 0 || !(log = nftnl_expr_alloc("log")))
		return -1;
	nftnl_expr_set_u16(log, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_rule_add_expr(r, log);
	return 0;
}

struct batch {
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	int msgs;                 /* messages that will each be answered (NLM_F_ACK) */
	int err;
};

static void put_msg(struct batch *bt, uint16_t type, uint16_t flags,
		    void (*build)(struct nlmsghdr *, const void *), const void *obj)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
						     NFPROTO_INET, flags | NLM_F_ACK, bt->seq++);
	build(nlh, obj);
	bt->msgs++;
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->err = ENOSPC;
}

static void build_table(struct nlmsghdr *nlh, const void *t)
{
	nftnl_table_nlmsg_build_payload(nlh, t);
}

static void build_chain(struct nlmsghdr *nlh, const void *c)
{
	nftnl_chain_nlmsg_build_payload(nlh, c);
}

static void build_rule(struct nlmsghdr *nlh, const void *r)
{
	nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *)r);
}

static void put_table(struct batch *bt, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t) {
		bt->err = ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	put_msg(bt, type, flags, build_table, t);
	nftnl_table_free(t);
}

static const struct { const char *name; uint32_t hook; } chains[] = {
	{ "output", NF_INET_LOCAL_OUT },
	{ "input", NF_INET_LOCAL_IN },
};

static void put_chain(struct batch *bt, const char *name, uint32_t hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c) {
		bt->err = ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	put_msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE, build_chain, c);
	nftnl_chain_free(c);
}

static void put_rule(struct batch *bt, const char *chain, int kind, uint8_t l4, int dport,
		     uint16_t group)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r) {
		bt->err = ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if ((kind ? rule_dns_log(r, l4, dport, group) : rule_ct_new(r)) < 0)
		bt->err = ENOMEM;
	else
		put_msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, build_rule, r);
	nftnl_rule_free(r);
}

/* The next reply from the kernel into n->buf; any other sender's is dropped. */
static ssize_t recv_reply(struct nft *n)
{
	for (;;) {
		ssize_t len = diag_recv_kernel(mnl_socket_get_fd(n->nl), n->buf, NFT_BUF, 0);
		if (len >= 0 || errno != EPERM)
			return len;
	}
}

/* Reads the answers to a batch: one per message (all carry NLM_F_ACK), an error being
 * one of them. The first error is returned. */
static int read_acks(struct nft *n, int msgs)
{
	int first = 0;
	while (msgs > 0) {
		ssize_t len = recv_reply(n);
		if (len < 0)
			return -1;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)n->buf;
		     mnl_nlmsg_ok(h, (int)len); h = mnl_nlmsg_next(h, (int *)&len)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			if (e->error && !first)
				first = -e->error;
			msgs--;
		}
	}
	if (first) {
		errno = first;
		return -1;
	}
	return 0;
}

static int send_batch(struct nft *n, int install)
{
	struct batch bt = { mnl_nlmsg_batch_start(n->buf, NFT_BUF), n->seq, 0, 0 };
	if (!bt.b) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt.b), bt.seq++);
	mnl_nlmsg_batch_next(bt.b);
	/* add, delete, add: replaces a table of that name atomically whether one is there
	 * or not (a delete alone fails on a missing table and aborts the batch) */
	put_table(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(&bt, NFT_MSG_DELTABLE, 0);
	if (install) {
		put_table(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
			put_chain(&bt, chains[i].name, chains[i].hook);
			put_rule(&bt, chains[i].name, 0, 0, 0, 0);
			/* queries as they leave (output, dport 53), answers as they arrive
			 * (input, sport 53): a resolver on the container's loopback is seen
			 * once per packet, not at both hooks */
			for (int k = 0; n->o.dns_log_group && k < 4; k++)
				if ((k & 1) == (chains[i].hook == NF_INET_LOCAL_OUT))
					put_rule(&bt, chains[i].name, 1,
						 k < 2 ? IPPROTO_UDP : IPPROTO_TCP, k & 1,
						 n->o.dns_log_group);
		}
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(bt.b), bt.seq++);
	mnl_nlmsg_batch_next(bt.b);
	n->seq = bt.seq;
	if (bt.err) {
		mnl_nlmsg_batch_stop(bt.b);
		errno = bt.err;
		return -1;
	}
	ssize_t rc = mnl_socket_sendto(n->nl, mnl_nlmsg_batch_head(bt.b),
				       mnl_nlmsg_batch_size(bt.b));
	mnl_nlmsg_batch_stop(bt.b);
	if (rc < 0)
		return -1;
	return read_acks(n, bt.msgs);
}

/* ---- Reading it back ---------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return h;
}

struct print_ctx {
	uint64_t h;
	int chains, rules;
};

/* Chains: name, hook, priority, policy. Rules: their chain and each expression as
 * libnftnl prints it (our rules have no counters, so the text does not move). Handles
 * are left out: a replaced table gets new ones. The sum over all objects does not
 * depend on the order the kernel lists them in. */
static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct print_ctx *p = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE) &&
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), NFT_TABLE_NAME) == 0) {
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		uint32_t v[3] = { nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
				  (uint32_t)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
				  nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) };
		uint64_t h = fnv(0xcbf29ce484222325ULL, name ? name : "", name ? strlen(name) : 0);
		p->h += fnv(h, v, sizeof(v));
		p->chains++;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct print_ctx *p = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	char text[256];
	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 && nftnl_rule_get_str(r, NFTNL_RULE_TABLE) &&
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NFT_TABLE_NAME) == 0) {
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		uint64_t h = fnv(0x84222325cbf29ce4ULL, chain ? chain : "",
				 chain ? strlen(chain) : 0);
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
		for (struct nftnl_expr *e = it ? nftnl_expr_iter_next(it) : NULL; e;
		     e = nftnl_expr_iter_next(it)) {
			int len = nftnl_expr_snprintf(text, sizeof(text), e, NFTNL_OUTPUT_DEFAULT, 0);
			const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
			h = fnv(h, name ? name : "?", name ? strlen(name) : 1);
			if (len > 0)
				h = fnv(h, text, (size_t)len < sizeof(text) ? (size_t)len : sizeof(text));
		}
		if (it)
			nftnl_expr_iter_destroy(it);
		p->h += h;
		p->rules++;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* One dump request (GETCHAIN or GETRULE of our table) read to its end. */
static int dump(struct nft *n, uint16_t type, mnl_cb_t cb, struct print_ctx *p)
{
	uint32_t seq = n->seq++;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(n->buf, type, NFPROTO_INET, NLM_F_DUMP, seq);
	if (type == NFT_MSG_GETRULE) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		if (!r) {
			errno = ENOMEM;
			return -1;
		}
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	}
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t len = recv_reply(n);
		if (len < 0)
			return -1;
		int rc = mnl_cb_run(n->buf, (size_t)len, seq, n->portid, cb, p);
		if (rc <= 0)
			return rc;
	}
}

static int fingerprint(struct nft *n, uint64_t *out)
{
	struct print_ctx p = { 0, 0, 0 };
	if (dump(n, NFT_MSG_GETCHAIN, chain_cb, &p) < 0)
		return -1;
	if (dump(n, NFT_MSG_GETRULE, rule_cb, &p) < 0) {
		if (errno != ENOENT)
			return -1;
		p.rules = 0;
	}
	*out = p.chains ? p.h ^ ((uint64_t)p.chains << 56) ^ ((uint64_t)p.rules << 48) : 0;
	return 0;
}

static int buf_get(struct nft *n)
{
	/* zeroed: the batch builders leave attribute padding unwritten, and the kernel is
	 * handed every byte */
	n->buf = calloc(1, NFT_BUF);
	return n->buf ? 0 : -1;
}

static int buf_put(struct nft *n, int rc)
{
	int e = errno;
	free(n->buf);
	n->buf = NULL;
	errno = e;
	return rc;
}

int nft_install(struct nft *n)
{
	if (buf_get(n) < 0)
		return -1;
	if (send_batch(n, 1) < 0)
		return buf_put(n, -1);
	return buf_put(n, fingerprint(n, &n->print));
}

int nft_check(struct nft *n)
{
	uint64_t now;
	if (buf_get(n) < 0)
		return -1;
	if (fingerprint(n, &now) < 0)
		return buf_put(n, -1);
	return buf_put(n, now != 0 && now == n->print);
}

int nft_remove(struct nft *n)
{
	n->print = 0;
	if (buf_get(n) < 0)
		return -1;
	return buf_put(n, send_batch(n, 0));
}

int nft_events_open(void)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK,
				 .nl_groups = 1u << (NFNLGRP_NFTABLES - 1) };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || diag_connect_kernel(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int nft_events_drain(int fd)
{
	char buf[8192];
	int n = 0, lost = 0, forged = 0;
	for (;;) {
		ssize_t len = diag_recv_kernel(fd, buf, sizeof(buf), MSG_DONTWAIT);
		/* one cut short still says the ruleset changed */
		if (len > 0 || (len < 0 && errno == ENOSPC)) {
			n++;
			continue;
		}
		if (len < 0 && errno == EPERM) {
			if (++forged < NFT_FORGED_MAX)
				continue;   /* not from the kernel: dropped */
			break;              /* a flood of those: the rest at the next wakeup */
		}
		if (len < 0 && errno == ENOBUFS) {
			lost = 1;
			continue;
		}
		if (len < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		break;
	}
	return lost && !n ? 1 : n;
}
