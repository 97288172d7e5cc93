/* The conntrack event decoder on real ctnetlink messages recorded in a namespace
 * (tests/helpers/ct-record, fuzz/corpus/ct): UDP sendto and ICMP echo of both families
 * and an RST-closed TCP connection, NEW and DESTROY. No root needed. */
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "../tap.h"
#include "lib/sock.h"
#include "sampler/ct.h"

#define MAXF 64
static struct ctflow got[MAXF];
static int ngot;

static int keep(void *arg, const struct ctflow *f)
{
	(void)arg;
	if (ngot < MAXF)
		got[ngot++] = *f;
	return 0;
}

static const struct ctflow *find(int event, int proto, int family, int dport)
{
	for (int i = 0; i < ngot; i++)
		if (got[i].event == event && got[i].proto == proto && got[i].family == family &&
		    (dport < 0 || got[i].dport == dport))
			return &got[i];
	return NULL;
}

/* A ctnetlink NEW event for UDP 192.0.2.1:1000 -> 192.0.2.2:2000, with its IPv4 source
 * src_len bytes long and CTA_ID id_len bytes long (4 and 4 are right); its length. */
static size_t put_event(char *buf, size_t src_len, size_t id_len)
{
	static const uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 192, 0, 2, 2 };
	static const uint8_t id[4] = { 0, 0, 0, 7 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->version = NFNETLINK_V0;
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, src_len, src);
	mnl_attr_put(nlh, CTA_IP_V4_DST, sizeof(dst), dst);
	mnl_attr_nest_end(nlh, ip);
	struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(1000));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(2000));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
	mnl_attr_put(nlh, CTA_ID, id_len, id);
	/* left out of what the library is given: not read, so its size does not matter */
	mnl_attr_put(nlh, CTA_MARK, 1, id);
	return nlh->nlmsg_len;
}

int main(void)
{
	const char *src = getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".";
	char dir[512];
	int files = 0, bad = 0;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ct", src);
	tap_plan(14);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[1024];
		static char buf[65536];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		files++;
		if (ct_parse(buf, len, keep, NULL) < 0)
			bad++;
	}
	if (d)
		closedir(d);
	ok(files >= 8 && bad == 0, "every recorded buffer decodes (%d files)", files);

	static const uint8_t ext4[4] = { 192, 0, 2, 2 };
	const struct ctflow *u = find(CT_NEW, SK_UDP, SKF_IPV4, 5353);
	ok(u && memcmp(u->dst, ext4, 4) == 0 && u->sport != 0,
	   "unconnected UDP sendto: a NEW flow to 192.0.2.2:5353 from its local port");
	/* NEW events carry no timestamp on this kernel: flow.c takes the time it read them */
	ok(u && (u->start_ms == 0 || u->start_ms > 1700000000000LL), "NEW's start, if any, is a time");
	const struct ctflow *ud = find(CT_DESTROY, SK_UDP, SKF_IPV4, 5353);
	ok(ud && ud->counters && ud->orig_bytes == 128 && ud->orig_packets == 1,
	   "its DESTROY carries the counters (100 bytes of payload, 128 with headers)");
	ok(ud && ud->stop_ms >= ud->start_ms && ud->start_ms > 0, "and both timestamps");
	ok(find(CT_NEW, SK_UDP, SKF_IPV6, 53) != NULL, "IPv6 UDP to [2001:db8::2]:53");
	const struct ctflow *i4 = find(CT_NEW, SK_ICMP, SKF_IPV4, -1);
	ok(i4 && i4->sport != 0 && i4->dport == 0, "ICMP echo: identifier as the local port, 0");
	ok(find(CT_NEW, SK_ICMP, SKF_IPV6, -1) != NULL, "ICMPv6 echo");
	const struct ctflow *t = find(CT_NEW, SK_TCP, SKF_IPV4, 7000);
	ok(t && memcmp(t->dst, ext4, 4) == 0, "TCP: the connection's NEW with both ports");
	const struct ctflow *te = find(CT_DESTROY, SK_TCP, SKF_IPV4, 7000);
	ok(te && te->counters && te->orig_bytes > 20 && te->sport == t->sport,
	   "the RST-closed connection's DESTROY keeps both ports and counts its bytes");
	/* libnetfilter_conntrack 1.0.9 exit()s on an attribute of the wrong size: such a
	 * message is skipped before it gets there, and the buffer's others still decode */
	static char ev[3][512] __attribute__((aligned(8)));
	size_t l0 = put_event(ev[0], 4, 4);
	int before = ngot;
	ok(ct_parse(ev[0], l0, keep, NULL) == 0 && ngot == before + 1 && got[before].id == 7 &&
	   got[before].sport == 1000 && got[before].dport == 2000,
	   "a hand-built event of the right sizes decodes (an unread CTA_MARK of 1 byte left out)");
	size_t l1 = put_event(ev[1], 3, 4);
	size_t l2 = put_event(ev[2], 4, 2);
	before = ngot;
	ok(ct_parse(ev[1], l1, keep, NULL) == 0 && ngot == before,
	   "an IPv4 source of 3 bytes (CTA_TUPLE_ORIG/CTA_TUPLE_IP) is skipped, not an exit");
	static char two[1024] __attribute__((aligned(8)));
	memcpy(two, ev[2], l2);
	memcpy(two + MNL_ALIGN(l2), ev[0], l0);
	ok(ct_parse(two, MNL_ALIGN(l2) + l0, keep, NULL) == 0 && ngot == before + 1,
	   "a CTA_ID of 2 bytes is skipped; the next message of the buffer decodes");
	/* a truncated buffer is refused, not read past */
	static char trunc[64];
	ok(ct_parse(trunc, 0, keep, NULL) == 0, "an empty buffer is nothing");
	return tap_failed ? 1 : 0;
}
