#include <errno.h>
#include <fcntl.h>
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

#define CT_RCVBUF (4 << 20)
#define CT_BUF (64 << 10)

struct ct {
	struct mnl_socket *nl;
	uint32_t seq;
};

struct ct *ct_open(void)
{
	unsigned groups = (1u << (NFNLGRP_CONNTRACK_NEW - 1)) |
			  (1u << (NFNLGRP_CONNTRACK_DESTROY - 1));
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
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
	if (mnl_socket_bind(c->nl, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    connect(fd, (struct sockaddr *)&k, sizeof(k)) < 0)
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

/* recvmsg, not recv: the confined watcher's seccomp filter allows only recvmsg */
static ssize_t recv_dontwait(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	return recvmsg(fd, &mh, MSG_DONTWAIT);
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
	/* a fresh object per message: nfct_nlmsg_parse sets only what the message carries */
	struct nf_conntrack *ct = nfct_new();
	if (!ct)
		return MNL_CB_ERROR;
	int rc = MNL_CB_OK;
	/* a message libnetfilter_conntrack refuses is skipped. Known: 1.0.9 calls exit()
	 * (its abi_breakage) on an attribute of the wrong size (fuzz/ct finds it); only the
	 * kernel can write to this socket (connected), so only a kernel ABI change gets
	 * there */
	if (nfct_nlmsg_parse(nlh, ct) == 0 && decode(ct, event, &f) && p->cb(p->arg, &f) < 0)
		rc = MNL_CB_ERROR;
	nfct_destroy(ct);
	return rc;
}

int ct_parse(const void *buf, size_t len, ct_cb cb, void *arg)
{
	struct parse_ctx p = { cb, arg };
	const unsigned char *at = buf;
	/* walked here, not with mnl_cb_run: libmnl 1.0.4 compares nlmsg_len as a signed
	 * int, so a length above 2^31 passes its bound check (fuzz/ct found it) */
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)at;
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len) {
			errno = EBADMSG;
			return -1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 0;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				errno = EBADMSG;
				return -1;
			}
			if (e->error) {
				errno = -e->error;
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

int ct_read(struct ct *c, ct_cb cb, void *arg, int *lost)
{
	/* on the stack, not per namespace: a thousand namespaces would hold 64 MiB */
	char buf[CT_BUF] __attribute__((aligned(8)));
	int n = 0;
	*lost = 0;
	for (;;) {
		ssize_t len = recv_dontwait(mnl_socket_get_fd(c->nl), buf, sizeof(buf));
		if (len < 0) {
			if (errno == ENOBUFS) {
				*lost = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			return -1;
		}
		if (len == 0)
			return n;
		n++;
		if (ct_parse(buf, (size_t)len, cb, arg) < 0 && errno != EBADMSG)
			return -1;
	}
}

int ct_request_dump(struct ct *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++c->seq ? c->seq : ++c->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
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
	 * namespace's own (PLATFORM.md) */
	if (write_one("/proc/sys/net/netfilter/nf_conntrack_acct") < 0)
		return -1;
	return write_one("/proc/sys/net/netfilter/nf_conntrack_timestamp");
}
