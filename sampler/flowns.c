#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "flowns.h"

#define RT_BUF (32 << 10)
#define ADDRS_MAX 256

static void flowns_init(struct flowns *fn)
{
	memset(fn, 0, sizeof(*fn));
	fn->nft_events = -1;
}

void flowns_close(struct flowns *fn, int remove_table)
{
	if (fn->nft && remove_table)
		(void)nft_remove(fn->nft);
	nft_close(fn->nft);
	ct_close(fn->ct);
	if (fn->nft_events >= 0)
		close(fn->nft_events);
	flows_free(fn->flows);
	if (fn->rt)
		mnl_socket_close(fn->rt);
	free(fn->addrs);
	flowns_init(fn);
}

static int step_fail(struct flowns *fn, char *why, size_t whylen, const char *step)
{
	int e = errno;
	snprintf(why, whylen, "%s: %s", step, strerror(e));
	flowns_close(fn, 0);
	errno = e;
	return -1;
}

int flowns_open(struct flowns *fn, const struct nft_opts *o, char *why, size_t whylen)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };

	flowns_init(fn);
	/* counters and timestamps before the table turns conntrack on, so that every
	 * flow has them */
	if (ct_sysctl_on() < 0)
		return step_fail(fn, why, whylen, "net.netfilter.nf_conntrack_acct");
	fn->nft_events = nft_events_open();
	if (fn->nft_events < 0)
		return step_fail(fn, why, whylen, "nftables events");
	fn->ct = ct_open();
	if (!fn->ct)
		return step_fail(fn, why, whylen, "conntrack events");
	fn->nft = nft_open(o);
	if (!fn->nft)
		return step_fail(fn, why, whylen, "nftables socket");
	if (nft_install(fn->nft) < 0)
		return step_fail(fn, why, whylen, "adding table inet " NFT_TABLE_NAME);
	fn->rt = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!fn->rt || mnl_socket_bind(fn->rt, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    connect(mnl_socket_get_fd(fn->rt), (struct sockaddr *)&k, sizeof(k)) < 0) {
		int e = errno;
		(void)nft_remove(fn->nft);
		errno = e;
		return step_fail(fn, why, whylen, "rtnetlink socket");
	}
	struct timeval tv = { 1, 0 };
	setsockopt(mnl_socket_get_fd(fn->rt), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fn->flows = flows_new();
	if (!fn->flows) {
		errno = ENOMEM;
		(void)nft_remove(fn->nft);
		return step_fail(fn, why, whylen, "flows");
	}
	flows_set_local(fn->flows, flowns_is_local, fn);
	return 0;
}

/* ---- The namespace's own addresses ---------------------------------------------------- */

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	if ((type == IFA_ADDRESS || type == IFA_LOCAL) &&
	    mnl_attr_get_payload_len(a) >= 4 && mnl_attr_get_payload_len(a) <= 16)
		tb[type] = a;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct flowns *fn = data;
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return MNL_CB_OK;
	int family = ifa->ifa_family == AF_INET ? SKF_IPV4 : ifa->ifa_family == AF_INET6 ?
		     SKF_IPV6 : 0;
	size_t want = family == SKF_IPV4 ? 4 : 16;
	for (int t = IFA_ADDRESS; family && t <= IFA_LOCAL; t++) {
		if (!tb[t] || mnl_attr_get_payload_len(tb[t]) != want || fn->naddrs >= ADDRS_MAX)
			continue;
		uint8_t *slot = fn->addrs[fn->naddrs++];
		memset(slot, 0, 17);
		slot[0] = (uint8_t)family;
		memcpy(slot + 1, mnl_attr_get_payload(tb[t]), want);
	}
	return MNL_CB_OK;
}

static int addrs_read(struct flowns *fn)
{
	char *buf = malloc(RT_BUF);
	uint32_t seq = (uint32_t)time(NULL);
	int rc = -1;
	if (!buf)
		return -1;
	if (!fn->addrs) {
		fn->addrs = calloc(ADDRS_MAX, sizeof(*fn->addrs));
		if (!fn->addrs)
			goto out;
	}
	fn->naddrs = 0;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(fn->rt, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(fn->rt, buf, RT_BUF);
		if (len < 0)
			goto out;
		int r = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(fn->rt), addr_cb, fn);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int addr_known(const struct flowns *fn, int family, const uint8_t *a)
{
	for (size_t i = 0; i < fn->naddrs; i++)
		if (fn->addrs[i][0] == family &&
		    memcmp(fn->addrs[i] + 1, a, family == SKF_IPV4 ? 4 : 16) == 0)
			return 1;
	return 0;
}

int flowns_is_local(void *arg, int family, const uint8_t *addr)
{
	struct flowns *fn = arg;
	int64_t now = time_now_ms();
	if (addr_known(fn, family, addr))
		return 1;
	if (!fn->rt || now - fn->addrs_at < 1000)
		return 0;
	fn->addrs_at = now;
	if (addrs_read(fn) < 0)
		return 0;
	return addr_known(fn, family, addr);
}
