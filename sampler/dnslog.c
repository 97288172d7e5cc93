#include <endian.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "../lib/util.h"
#include "dnslog.h"

#define TABLE "clawss"
#define RCVBUF (256 << 10)
#define READS_PER_CALL 64

struct dnslog {
	struct mnl_socket *log, *nft;
	int own_table;            /* this made the table: remove it whole at the end */
	uint32_t seq;
	char *buf;
};

static const char *const chains[2] = { "dns_out", "dns_in" };

/* ---- The rules. Isolated here so that the flows work's table builder (sampler/nft.c)
 * can take this over: a chain per hook, rules `meta l4proto P th dport|sport 53 log
 * group G`, no verdict. ---- */

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *cmp_eq(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

/* meta l4proto PROTO th (dport|sport) 53 log group G */
static struct nftnl_rule *log_rule(const char *chain, uint8_t proto, uint32_t port_off)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	uint16_t port = htons(53);
	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if ((e = nftnl_expr_alloc("meta"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	add_expr(r, e);
	add_expr(r, cmp_eq(&proto, sizeof(proto)));
	if ((e = nftnl_expr_alloc("payload"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, port_off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(port));
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	add_expr(r, e);
	add_expr(r, cmp_eq(&port, sizeof(port)));
	if ((e = nftnl_expr_alloc("log")))
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, DNSLOG_GROUP);
	add_expr(r, e);
	return r;
}

/* Sends a batch and reads every acknowledgement: 0, or -1 with the first error. */
static int batch_send(struct dnslog *d, struct mnl_nlmsg_batch *b, uint32_t first_seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(d->nft);
	int rc = 0, err = 0;

	if (mnl_socket_sendto(d->nft, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		return -1;
	/* one ack per message between BEGIN and END */
	for (uint32_t left = d->seq - first_seq - 2; left > 0;) {
		ssize_t got = mnl_socket_recvfrom(d->nft, buf, sizeof(buf));
		if (got <= 0)
			return -1;
		int n = (int)got;
		for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (e->error && !err)
				err = -e->error;
			left--;
			if (!left)
				break;
		}
	}
	if (err) {
		errno = err;
		rc = -1;
	}
	return rc;
}

static void put_table(struct mnl_nlmsg_batch *b, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	struct nlmsghdr *h = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
							 NFPROTO_INET, flags | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(h, t);
	nftnl_table_free(t);
	mnl_nlmsg_batch_next(b);
}

static void put_chain(struct mnl_nlmsg_batch *b, int i, uint16_t type, uint32_t seq)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c)
		return;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[i]);
	if (type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, i ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	struct nlmsghdr *h = nftnl_chain_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
							 NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_chain_nlmsg_build_payload(h, c);
	nftnl_chain_free(c);
	mnl_nlmsg_batch_next(b);
}

/* The table if absent, then the chains (replaced: a restart leaves no duplicate rules),
 * each with its two rules. */
static int rules_install(struct dnslog *d)
{
	char buf[16384];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	uint32_t first = d->seq;

	/* EXCL first: whether this run made the table decides what it removes later */
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, d->seq++);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	int rc = batch_send(d, b, first);
	mnl_nlmsg_batch_stop(b);
	if (rc == 0)
		d->own_table = 1;
	else if (errno != EEXIST)
		return -1;

	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	first = d->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	for (int i = 0; i < 2; i++) {
		put_chain(b, i, NFT_MSG_NEWCHAIN, d->seq++);
		/* flush what an earlier run left in it */
		struct nftnl_rule *flush = nftnl_rule_alloc();
		if (flush) {
			nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, TABLE);
			nftnl_rule_set_str(flush, NFTNL_RULE_CHAIN, chains[i]);
			struct nlmsghdr *h = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
				NFT_MSG_DELRULE, NFPROTO_INET, NLM_F_ACK, d->seq++);
			nftnl_rule_nlmsg_build_payload(h, flush);
			nftnl_rule_free(flush);
			mnl_nlmsg_batch_next(b);
		}
		for (int p = 0; p < 2; p++) {
			/* output: queries (dport); input: answers (sport) */
			struct nftnl_rule *r = log_rule(chains[i], p ? IPPROTO_TCP : IPPROTO_UDP,
							i ? 0 : 2);
			if (!r)
				continue;
			struct nlmsghdr *h = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
				NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK,
				d->seq++);
			nftnl_rule_nlmsg_build_payload(h, r);
			nftnl_rule_free(r);
			mnl_nlmsg_batch_next(b);
		}
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	rc = batch_send(d, b, first);
	mnl_nlmsg_batch_stop(b);
	return rc;
}

static void rules_remove(struct dnslog *d)
{
	char buf[4096];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	uint32_t first = d->seq;

	nftnl_batch_begin(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	if (d->own_table) {
		put_table(b, NFT_MSG_DELTABLE, 0, d->seq++);
	} else {
		for (int i = 0; i < 2; i++)
			put_chain(b, i, NFT_MSG_DELCHAIN, d->seq++);
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), d->seq++);
	mnl_nlmsg_batch_next(b);
	batch_send(d, b, first);   /* best effort: the namespace may be gone already */
	mnl_nlmsg_batch_stop(b);
}

/* ---- The log group ---- */

static int log_config(struct dnslog *d, int cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC,
						    DNSLOG_GROUP);
	h->nlmsg_flags |= NLM_F_ACK;
	h->nlmsg_seq = d->seq++;
	if (cmd)
		nflog_attr_put_cfg_cmd(h, (uint8_t)cmd);
	else {
		nflog_attr_put_cfg_mode(h, NFULNL_COPY_PACKET, DNSLOG_COPY);
		/* one packet per message, sent at once: answers reach the store in the
		 * tick they arrive, before the connection that follows them */
		mnl_attr_put_u32(h, NFULA_CFG_QTHRESH, htonl(1));
	}
	if (mnl_socket_sendto(d->log, h, h->nlmsg_len) < 0)
		return -1;
	ssize_t n = mnl_socket_recvfrom(d->log, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, h->nlmsg_seq, mnl_socket_get_portid(d->log), NULL,
			  NULL) < 0 ? -1 : 0;
}

static int open_inside(struct dnslog *d)
{
	int sz = RCVBUF;
	struct timeval tv = { 2, 0 };
	d->nft = mnl_socket_open(NETLINK_NETFILTER);
	d->log = mnl_socket_open(NETLINK_NETFILTER);
	if (!d->nft || !d->log || mnl_socket_bind(d->nft, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(d->log, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	/* acknowledgements come at once; the timeout only guards against a lost one */
	setsockopt(mnl_socket_get_fd(d->nft), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rules_install(d) < 0)
		return -1;
	if (log_config(d, NFULNL_CFG_CMD_BIND) < 0 || log_config(d, 0) < 0)
		return -1;
	int fd = mnl_socket_get_fd(d->log);
	/* a lookup storm must not overflow between two reads; errors leave the default */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void free_dnslog(struct dnslog *d)
{
	if (d->nft)
		mnl_socket_close(d->nft);
	if (d->log)
		mnl_socket_close(d->log);
	free(d->buf);
	free(d);
}

struct dnslog *dnslog_open(int home_fd, int nsfd, int *stranded)
{
	struct dnslog *d = calloc(1, sizeof(*d));
	int rc, err = 0;

	*stranded = 0;
	if (!d || !(d->buf = malloc(MNL_SOCKET_BUFFER_SIZE > DNSLOG_COPY * 2 ?
				    MNL_SOCKET_BUFFER_SIZE : DNSLOG_COPY * 2))) {
		if (d)
			free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->seq = (uint32_t)time_now_ms();
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		free_dnslog(d);
		return NULL;
	}
	rc = open_inside(d);
	if (rc < 0)
		err = errno;
	if (setns(home_fd, CLONE_NEWNET) < 0) {
		*stranded = 1;
		free_dnslog(d);
		return NULL;
	}
	if (rc < 0) {
		if (d->nft && d->own_table)
			rules_remove(d);
		free_dnslog(d);
		errno = err;
		return NULL;
	}
	return d;
}

int dnslog_fd(const struct dnslog *d)
{
	return mnl_socket_get_fd(d->log);
}

struct read_ctx {
	dnslog_cb cb;
	void *arg;
	int n;
};

static int packet_cb(const struct nlmsghdr *h, void *data)
{
	struct read_ctx *c = data;
	struct nlattr *a[NFULA_MAX + 1] = { 0 };
	int64_t t = time_now_ms();

	if (h->nlmsg_type != (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET) ||
	    nflog_nlmsg_parse(h, a) < 0 || !a[NFULA_PAYLOAD])
		return MNL_CB_OK;
	if (a[NFULA_TIMESTAMP] &&
	    mnl_attr_get_payload_len(a[NFULA_TIMESTAMP]) >= sizeof(struct nfulnl_msg_packet_timestamp)) {
		struct nfulnl_msg_packet_timestamp ts;
		memcpy(&ts, mnl_attr_get_payload(a[NFULA_TIMESTAMP]), sizeof(ts));
		int64_t kt = (int64_t)be64toh(ts.sec) * 1000 + (int64_t)be64toh(ts.usec) / 1000;
		if (kt > 0 && kt <= t)
			t = kt;
	}
	c->cb(c->arg, mnl_attr_get_payload(a[NFULA_PAYLOAD]),
	      mnl_attr_get_payload_len(a[NFULA_PAYLOAD]), t);
	c->n++;
	return MNL_CB_OK;
}

int dnslog_read(struct dnslog *d, dnslog_cb cb, void *arg, int *lost)
{
	struct read_ctx c = { cb, arg, 0 };
	size_t cap = MNL_SOCKET_BUFFER_SIZE > DNSLOG_COPY * 2 ? MNL_SOCKET_BUFFER_SIZE :
		     DNSLOG_COPY * 2;

	*lost = 0;
	for (int i = 0; i < READS_PER_CALL; i++) {
		ssize_t n = mnl_socket_recvfrom(d->log, d->buf, cap);
		if (n < 0) {
			if (errno == ENOBUFS) {
				*lost = 1;
				continue;
			}
			if (errno == EAGAIN && c.n)
				break;
			return c.n ? c.n : -1;
		}
		mnl_cb_run(d->buf, (size_t)n, 0, 0, packet_cb, &c);
	}
	return c.n;
}

void dnslog_close(struct dnslog *d)
{
	if (!d)
		return;
	/* closing the log socket unbinds the group */
	rules_remove(d);
	free_dnslog(d);
}
