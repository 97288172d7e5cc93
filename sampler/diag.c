#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <libmnl/libmnl.h>
#include "diag.h"

/* libmnl 1.0.4 has no MNL_SOCKET_DUMP_SIZE; the kernel fills up to 32 KiB per recv.
 * The receive buffer lives on the stack of the call that uses it, not in struct diag:
 * one process keeps two diag sockets per watched namespace, and 64 KiB per namespace
 * would be most of its resident memory with hundreds of namespaces. */
#define DIAG_BUFSIZE 32768
#define DESTROY_RCVBUF (4 << 20)

/* Datagrams read per wakeup from one destroy socket: a namespace whose root floods it
 * (forged or real) gets this many, and the event loop (level-triggered epoll) serves the
 * others and the tick before coming back for the rest. */
#define DIAG_READ_BATCH 256

struct diag {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	uint64_t forged;          /* datagrams dropped: not from the kernel */
	int more;                 /* the last read stopped at its batch: more may wait */
	void (*tap)(void *, const void *, size_t);
	void *tap_arg;
};

struct parse_ctx {
	int proto;
	diag_cb cb;
	diag_msg_cb msg;          /* diag_request: whole messages to another decoder */
	void *arg;
	int cb_ret;
};

static struct diag *diag_new(void)
{
	struct diag *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!d->nl) {
		free(d);
		return NULL;
	}
	return d;
}

int diag_connect_kernel(int fd)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 0 };
	return connect(fd, (const struct sockaddr *)&kernel, sizeof(kernel));
}

struct diag *diag_open(void)
{
	struct diag *d = diag_new();
	if (!d)
		return NULL;
	if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    diag_connect_kernel(mnl_socket_get_fd(d->nl)) < 0) {
		diag_close(d);
		return NULL;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	d->seq = 1;
	return d;
}

struct diag *diag_open_destroy(void)
{
	unsigned int groups = (1u << (SKNLGRP_INET_TCP_DESTROY - 1)) |
			      (1u << (SKNLGRP_INET_UDP_DESTROY - 1)) |
			      (1u << (SKNLGRP_INET6_TCP_DESTROY - 1)) |
			      (1u << (SKNLGRP_INET6_UDP_DESTROY - 1));
	int size = DESTROY_RCVBUF;
	struct diag *d = diag_new();
	if (!d)
		return NULL;
	int fd = mnl_socket_get_fd(d->nl);
	/* a short connection flood outruns the default buffer */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(d->nl, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    diag_connect_kernel(fd) < 0) {
		diag_close(d);
		return NULL;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	return d;
}

void diag_close(struct diag *d)
{
	if (!d)
		return;
	mnl_socket_close(d->nl);
	free(d);
}

int diag_fd(const struct diag *d)
{
	return mnl_socket_get_fd(d->nl);
}

void diag_set_tap(struct diag *d, void (*tap)(void *, const void *, size_t), void *arg)
{
	d->tap = tap;
	d->tap_arg = arg;
}

static void copy_addr(uint8_t *dst, const uint32_t *src, int family)
{
	memset(dst, 0, 16);
	memcpy(dst, src, family == SKF_IPV4 ? 4 : 16);
}

static int addr_is_zero(const uint8_t *a)
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

/* The attributes after a message's fixed header, bounded by the message's own length.
 * libmnl's mnl_attr_for_each bounds them by the length rounded up to 4, which reads up to
 * three bytes past a buffer whose last message has an unaligned length (found by
 * fuzz/diag.c; the kernel always pads, a hostile or truncated buffer need not). */
const void *diag_msg_header(const struct nlmsghdr *nlh, size_t size)
{
	if (mnl_nlmsg_get_payload_len(nlh) < size) {
		errno = EBADMSG;
		return NULL;
	}
	return mnl_nlmsg_get_payload(nlh);
}

uint64_t diag_cookie(const uint32_t c[2])
{
	return (uint64_t)c[0] | (uint64_t)c[1] << 32;
}

size_t diag_attrs_span(const struct nlmsghdr *nlh, size_t hdr, const void **start)
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr);

	*start = (const char *)nlh + off;
	return nlh->nlmsg_len > off ? nlh->nlmsg_len - off : 0;
}

static int parse_inet(const struct nlmsghdr *nlh, int proto, struct sk *s)
{
	const struct inet_diag_msg *m;
	const struct nlattr *attr;
	const void *attrs;
	size_t span;
	struct tcp_info ti;
	size_t tilen = 0;

	if (!(m = diag_msg_header(nlh, sizeof(*m))))
		return -1;
	memset(s, 0, sizeof(*s));
	memset(&ti, 0, sizeof(ti));
	span = diag_attrs_span(nlh, sizeof(*m), &attrs);
	mnl_attr_for_each_payload(attrs, span) {
		if (mnl_attr_type_valid(attr, INET_DIAG_MAX) <= 0)
			continue;
		switch (mnl_attr_get_type(attr)) {
		case INET_DIAG_PROTOCOL:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
				return -1;
			/* notifications say which protocol; a raw socket's attribute is
			 * its IP protocol, which it also reports as its local port */
			if (proto == 0) {
				switch (mnl_attr_get_u8(attr)) {
				case IPPROTO_TCP: proto = SK_TCP; break;
				case IPPROTO_UDP: proto = SK_UDP; break;
				}
			}
			break;
		case INET_DIAG_INFO:
			/* the kernel's tcp_info may be larger or smaller than our headers' */
			tilen = mnl_attr_get_payload_len(attr);
			if (tilen > sizeof(ti))
				tilen = sizeof(ti);
			memcpy(&ti, mnl_attr_get_payload(attr), tilen);
			break;
		}
	}
	if (proto != SK_TCP && proto != SK_UDP && proto != SK_RAW) {
		errno = EPROTO;
		return -1;
	}
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	s->proto = proto;
	s->family = m->idiag_family == AF_INET ? SKF_IPV4 : SKF_IPV6;
	s->state = m->idiag_state;
	/* a timewait socket (timer 3, theirs alone) in its FIN_WAIT2 substate: a closed
	 * connection's remnant, the peer not closed yet. As TIME_WAIT it folds (table.c) */
	if (proto == SK_TCP && m->idiag_timer == 3 && m->idiag_state == SKS_FIN_WAIT2)
		s->state = SKS_TIME_WAIT;
	s->cookie = diag_cookie(m->id.idiag_cookie);
	copy_addr(s->laddr, m->id.idiag_src, s->family);
	copy_addr(s->raddr, m->id.idiag_dst, s->family);
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	s->ifindex = m->id.idiag_if;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	s->have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT;
	/* destroy notifications carry neither uid nor inode (they read 0) */
	if (s->inode)
		s->have |= SK_HAVE_INODE | SK_HAVE_UID;
	if (proto == SK_TCP && tilen >= offsetof(struct tcp_info, tcpi_bytes_received) +
					 sizeof(ti.tcpi_bytes_received)) {
		s->bytes_sent = tilen >= offsetof(struct tcp_info, tcpi_bytes_sent) +
					 sizeof(ti.tcpi_bytes_sent)
				? ti.tcpi_bytes_sent : ti.tcpi_bytes_acked;
		s->bytes_received = ti.tcpi_bytes_received;
		s->have |= SK_HAVE_BYTES;
	}
	if (proto == SK_TCP && s->state != SKS_LISTEN && s->rport == 0 &&
	    !addr_is_zero(s->raddr)) {
		/* reset by tcp_disconnect before it was freed (RST close): the remote port,
		 * the local address and the byte counters are gone */
		s->have &= ~(SK_HAVE_RPORT | SK_HAVE_LADDR | SK_HAVE_BYTES);
	}
	return 0;
}

static int parse_packet(const struct nlmsghdr *nlh, struct sk *s)
{
	const struct packet_diag_msg *m;
	const struct nlattr *attr;
	const void *attrs;
	size_t span;

	if (!(m = diag_msg_header(nlh, sizeof(*m))))
		return -1;
	if (m->pdiag_family != AF_PACKET) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memset(s, 0, sizeof(*s));
	s->proto = SK_PACKET;
	s->family = SKF_PACKET;
	s->state = SKS_CLOSE;
	s->cookie = diag_cookie(m->pdiag_cookie);
	s->lport = m->pdiag_num;  /* packet_diag already gives host order */
	s->inode = m->pdiag_ino;
	s->have = SK_HAVE_LPORT | SK_HAVE_INODE;
	span = diag_attrs_span(nlh, sizeof(*m), &attrs);
	mnl_attr_for_each_payload(attrs, span) {
		if (mnl_attr_type_valid(attr, PACKET_DIAG_MAX) <= 0)
			continue;
		switch (mnl_attr_get_type(attr)) {
		case PACKET_DIAG_INFO:
			if (mnl_attr_get_payload_len(attr) >= sizeof(struct packet_diag_info)) {
				const struct packet_diag_info *pi = mnl_attr_get_payload(attr);
				s->ifindex = pi->pdi_index;
			}
			break;
		case PACKET_DIAG_UID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				return -1;
			s->uid = mnl_attr_get_u32(attr);
			s->have |= SK_HAVE_UID;
			break;
		}
	}
	return 0;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *ctx = data;
	struct sk s;
	int rc;

	/* a dump asked for by the old TCPDIAG_GETSOCK request answers in kind */
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK)
		return MNL_CB_OK;
	if (ctx->msg) {
		ctx->cb_ret = ctx->msg(ctx->arg, nlh, nlh->nlmsg_len);
		return ctx->cb_ret ? MNL_CB_STOP : MNL_CB_OK;
	}
	rc = ctx->proto == SK_PACKET ? parse_packet(nlh, &s) : parse_inet(nlh, ctx->proto, &s);
	if (rc < 0)
		return MNL_CB_ERROR;
	ctx->cb_ret = ctx->cb(ctx->arg, &s);
	return ctx->cb_ret ? MNL_CB_STOP : MNL_CB_OK;
}

/* libmnl's default NLMSG_DONE handler drops the error the kernel puts there, so a dump
 * the kernel cannot do (no raw_diag) would look like "no sockets". */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err = *(const int *)mnl_nlmsg_get_payload(nlh);
		if (err < 0) {
			/* the kernel's errors are -1..-4095; INT_MIN would not even negate
			 * (found by fuzz/diag.c) */
			errno = err >= -4095 ? -err : EPROTO;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = e->error < 0 && e->error >= -4095 ? -e->error : EPROTO;
	return MNL_CB_ERROR;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int run_cb(const void *buf, size_t len, unsigned int seq, unsigned int portid,
		  struct parse_ctx *ctx)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	ctl[NLMSG_NOOP] = noop_cb;
	ctl[NLMSG_ERROR] = error_cb;
	ctl[NLMSG_DONE] = done_cb;
	ctl[NLMSG_OVERRUN] = noop_cb;
	return mnl_cb_run2(buf, len, seq, portid, data_cb, ctx, ctl, NLMSG_MIN_TYPE);
}

/* The length of buf's leading well-formed messages. libmnl 1.0.4's mnl_nlmsg_ok casts
 * nlmsg_len to int, so a length of 2 GiB or more passes it and mnl_nlmsg_next jumps out
 * of the buffer (found by fuzz/diag.c): only what this walk accepts reaches libmnl. */
static size_t nl_valid(const void *buf, size_t len)
{
	size_t off = 0;
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + off);
		if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len - off)
			break;
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		off = step > len - off ? len : off + step;
	}
	return off;
}

ssize_t diag_recv_kernel(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl from;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from),
			      .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -1;
	if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK ||
	    from.nl_pid != 0) {
		errno = EPERM;
		return -1;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

/* One datagram from the kernel, dropping (and counting) any other's; bounded, so that a
 * flood of forged ones cannot hold the caller here. */
static ssize_t recv_kernel(struct diag *d, void *buf, size_t len, int flags)
{
	for (int i = 0; i < DIAG_READ_BATCH; i++) {
		ssize_t n = diag_recv_kernel(mnl_socket_get_fd(d->nl), buf, len, flags);
		if (n >= 0 || errno != EPERM)
			return n;
		d->forged++;
	}
	errno = EAGAIN;
	return -1;
}

int diag_parse(const void *buf, size_t len, int proto, diag_cb cb, void *arg)
{
	struct parse_ctx ctx = { .proto = proto, .cb = cb, .arg = arg };
	const struct nlmsghdr *nlh = buf;
	int done = 0;

	len = nl_valid(buf, len);
	/* walk ourselves first to tell DONE apart from a callback's STOP */
	for (int left = (int)len; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_DONE)
			done = 1;
	}
	int rc = run_cb(buf, len, 0, 0, &ctx);
	if (rc < 0)
		return -1;
	return done || rc == MNL_CB_STOP ? 1 : 0;
}

static int has_end(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	len = nl_valid(buf, len);
	for (int left = (int)len; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return 1;
	return 0;
}

/* Sends the request and reads its answer to the end (NLMSG_DONE, or the ack of a
 * request without NLM_F_DUMP), decoding through ctx. */
static int exchange(struct diag *d, struct nlmsghdr *nlh, struct parse_ctx *ctx, char *buf,
		    size_t buflen)
{
	unsigned int seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	int failed = 0, err = 0;
	for (;;) {
		ssize_t n = recv_kernel(d, buf, buflen, 0);
		if (n < 0) {
			/* EAGAIN: only forged datagrams, which a socket connected to the
			 * kernel never queues; the answer is still to come */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (d->tap)
			d->tap(d->tap_arg, buf, (size_t)n);
		if (!failed) {
			int rc = run_cb(buf, nl_valid(buf, (size_t)n), seq, d->portid, ctx);
			if (rc == MNL_CB_STOP && !ctx->cb_ret)
				return 0;
			if (rc < 0 || ctx->cb_ret) {
				failed = 1;
				err = rc < 0 ? errno : ECANCELED;
			}
		}
		/* after a failure, read the rest of this dump so the next one starts clean */
		if (failed && has_end(buf, (size_t)n)) {
			errno = err;
			return -1;
		}
	}
}

int diag_dump(struct diag *d, int proto, int family, diag_cb cb, void *arg)
{
	return diag_dump_states(d, proto, family, ~0u, cb, arg);
}

int diag_dump_states(struct diag *d, int proto, int family, unsigned states, diag_cb cb,
		     void *arg)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	char buf[DIAG_BUFSIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct parse_ctx ctx = { .proto = proto, .cb = cb, .arg = arg };
	unsigned int seq = ++d->seq;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (proto == SK_TCP && family == DIAG_BOTH_FAMILIES) {
		/* The kernel serves the old request by walking its TCP tables once for
		 * every family (inet_diag's compat dump asks for AF_UNSPEC); a
		 * SOCK_DIAG_BY_FAMILY request names one family, and each walks them all. */
		struct inet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		r->idiag_family = AF_INET;
		r->idiag_states = states;
		r->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	} else if (proto == SK_PACKET) {
		struct packet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = AF_PACKET;
		r->pdiag_show = PACKET_SHOW_INFO;
	} else {
		struct inet_diag_req_raw *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = family == SKF_IPV4 ? AF_INET : AF_INET6;
		r->idiag_states = states;
		switch (proto) {
		case SK_TCP:
			r->sdiag_protocol = IPPROTO_TCP;
			r->idiag_ext = 1 << (INET_DIAG_INFO - 1);
			break;
		case SK_UDP:
			r->sdiag_protocol = IPPROTO_UDP;
			break;
		case SK_RAW:
			/* IPPROTO_RAW as the raw protocol asks raw_diag for every raw socket */
			r->sdiag_protocol = IPPROTO_RAW;
			r->sdiag_raw_protocol = IPPROTO_RAW;
			break;
		default:
			errno = EINVAL;
			return -1;
		}
	}
	return exchange(d, nlh, &ctx, buf, sizeof(buf));
}

int diag_request(struct diag *d, const void *req, size_t reqlen, int dump, diag_msg_cb cb,
		 void *arg)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE];
	char buf[DIAG_BUFSIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(rbuf);
	struct parse_ctx ctx = { .msg = cb, .arg = arg };

	if (reqlen > sizeof(rbuf) - MNL_NLMSG_HDRLEN) {
		errno = EINVAL;
		return -1;
	}
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	/* an exact request is answered by one message and, asked for, an ack that ends it */
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nlh->nlmsg_seq = ++d->seq;
	memcpy(mnl_nlmsg_put_extra_header(nlh, reqlen), req, reqlen);
	return exchange(d, nlh, &ctx, buf, sizeof(buf));
}

int diag_read_destroy(struct diag *d, diag_cb cb, void *arg, int *lost)
{
	struct parse_ctx ctx = { .proto = 0, .cb = cb, .arg = arg };
	char buf[DIAG_BUFSIZE] __attribute__((aligned(8)));
	int fd = mnl_socket_get_fd(d->nl);
	int count = 0;

	*lost = 0;
	d->more = 1;
	/* at most DIAG_READ_BATCH datagrams, forged ones included: the rest waits for the
	 * next wakeup, after the other namespaces' */
	for (int i = 0; i < DIAG_READ_BATCH; i++) {
		ssize_t n = diag_recv_kernel(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EPERM) {
				d->forged++;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				d->more = 0;
				return count;
			}
			if (errno == ENOBUFS) {
				*lost = 1;
				continue;
			}
			return -1;
		}
		if (n == 0) {
			d->more = 0;
			return count;
		}
		if (d->tap)
			d->tap(d->tap_arg, buf, (size_t)n);
		const struct nlmsghdr *nlh = (const void *)buf;
		n = (ssize_t)nl_valid(buf, (size_t)n);
		for (int left = (int)n; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				count++;
		if (mnl_cb_run2(buf, (size_t)n, 0, 0, data_cb, &ctx, NULL, 0) < 0 &&
		    errno != ENOENT)
			return -1;
	}
	return count;
}

uint64_t diag_forged(const struct diag *d)
{
	return d->forged;
}

int diag_more(const struct diag *d)
{
	return d->more;
}
