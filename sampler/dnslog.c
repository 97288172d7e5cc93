#include <endian.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "../lib/util.h"
#include "diag.h"
#include "dnslog.h"

#define RCVBUF (256 << 10)
#define READS_PER_CALL 64

struct dnslog {
	struct mnl_socket *log;
	uint32_t seq;
	char *buf;
};

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
	ssize_t n;
	do   /* the acknowledgement: from the kernel, others' dropped */
		n = diag_recv_kernel(mnl_socket_get_fd(d->log), buf, sizeof(buf), 0);
	while (n < 0 && errno == EPERM);
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, h->nlmsg_seq, mnl_socket_get_portid(d->log), NULL,
			  NULL) < 0 ? -1 : 0;
}

static int open_inside(struct dnslog *d)
{
	int sz = RCVBUF;
	struct timeval tv = { 2, 0 };
	/* the rules that log DNS packets to the group are in the namespace's table
	 * (sampler/nft.c, nft_opts.dns_log_group); this only binds the group */
	d->log = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	/* the kernel is the only peer we hear: no one in the namespace forges packets */
	if (!d->log || mnl_socket_bind(d->log, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    diag_connect_kernel(mnl_socket_get_fd(d->log)) < 0)
		return -1;
	/* acknowledgements come at once; the timeout only guards against a lost one */
	setsockopt(mnl_socket_get_fd(d->log), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
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
		ssize_t n = diag_recv_kernel(mnl_socket_get_fd(d->log), d->buf, cap, 0);
		if (n < 0) {
			if (errno == ENOBUFS) {
				*lost = 1;
				continue;
			}
			if (errno == EPERM)
				continue;   /* not from the kernel: dropped */
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
	free_dnslog(d);
}
