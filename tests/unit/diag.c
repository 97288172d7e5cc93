/* The sock_diag decoder against replies recorded from a real kernel
 * (tests/helpers/diag-record.c made tests/fixtures/diag/). No root needed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/if_ether.h>
#include <linux/sock_diag.h>
#include "../tap.h"
#include "sampler/diag.h"

#define MAXS 64

struct got {
	struct sk v[MAXS];
	int n;
};

static int collect(void *arg, const struct sk *s)
{
	struct got *g = arg;
	if (g->n < MAXS)
		g->v[g->n++] = *s;
	return 0;
}

static int replay(const char *name, int proto, struct got *g)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/diag/%s.bin",
		 getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".", name);
	FILE *f = fopen(path, "rb");
	uint32_t len;
	int rc = 0;
	if (!f)
		return -1;
	g->n = 0;
	while (fread(&len, sizeof(len), 1, f) == 1) {
		char *buf = malloc(len);
		if (fread(buf, 1, len, f) != len) {
			free(buf);
			rc = -1;
			break;
		}
		if (diag_parse(buf, len, proto, collect, g) < 0)
			rc = -1;
		free(buf);
	}
	fclose(f);
	return rc;
}

static const struct sk *find(const struct got *g, int state, int lport, int rport)
{
	for (int i = 0; i < g->n; i++)
		if (g->v[i].state == state && (lport < 0 || g->v[i].lport == lport) &&
		    (rport < 0 || g->v[i].rport == rport))
			return &g->v[i];
	return NULL;
}

int main(void)
{
	struct got g;
	char a[64];
	const struct sk *s;

	tap_plan(36);
	is_int(replay("tcp4", SK_TCP, &g), 0, "tcp4 fixture decodes");
	is_int(g.n, 5, "tcp4: a listener, two connections, two accepted");
	s = find(&g, SKS_LISTEN, 7000, -1);
	ok(s && s->proto == SK_TCP && s->family == SKF_IPV4, "listener on 7000");
	is_str(s ? sk_addr_text(s->family, s->laddr, a, sizeof(a)) : NULL, "127.0.0.1",
	       "listener address");
	s = find(&g, SKS_ESTABLISHED, -1, 7000);
	ok(s && s->cookie != 0, "client connection has a cookie");
	ok(s && (s->have & SK_HAVE_INODE) && s->inode != 0, "dump carries the inode");
	int sent5000 = 0, recv5000 = 0;
	for (int i = 0; i < g.n; i++) {
		sent5000 += g.v[i].rport == 7000 && g.v[i].bytes_sent == 5000;
		recv5000 += g.v[i].lport == 7000 && g.v[i].bytes_received == 5000;
	}
	is_int(sent5000, 1, "one client sent 5000 bytes (tcp_info)");
	is_int(recv5000, 1, "one accepted socket received 5000 bytes");

	is_int(replay("tcp6", SK_TCP, &g), 0, "tcp6 fixture decodes");
	is_int(g.n, 1, "tcp6: one listener");
	ok(g.n == 1 && g.v[0].family == SKF_IPV6 && g.v[0].lport == 7001, "IPv6 listener 7001");
	is_str(g.n ? sk_addr_text(g.v[0].family, g.v[0].laddr, a, sizeof(a)) : NULL, "::1",
	       "IPv6 address text");

	is_int(replay("udp4", SK_UDP, &g), 0, "udp4 fixture decodes");
	is_int(g.n, 1, "udp4: one socket");
	ok(g.n == 1 && g.v[0].rport == 5353 && g.v[0].state == SKS_ESTABLISHED,
	   "connected UDP socket to port 5353 is ESTABLISHED");
	ok(g.n == 1 && !(g.v[0].have & SK_HAVE_BYTES), "UDP has no byte counts");
	ok(g.n == 1 && sk_has_peer(&g.v[0]), "connected UDP socket has a peer");

	is_int(replay("packet", SK_PACKET, &g), 0, "packet fixture decodes");
	ok(g.n == 1 && g.v[0].proto == SK_PACKET && g.v[0].lport == ETH_P_ALL,
	   "packet socket with protocol ETH_P_ALL");

	is_int(replay("destroy", 0, &g), 0, "destroy notifications decode");
	is_int(g.n, 5, "four TCP and one UDP notification");
	int tcp = 0, udp = 0, rst = 0, fin5000 = 0;
	for (int i = 0; i < g.n; i++) {
		tcp += g.v[i].proto == SK_TCP;
		udp += g.v[i].proto == SK_UDP;
		if (g.v[i].proto == SK_TCP && !(g.v[i].have & SK_HAVE_RPORT)) {
			rst++;
			ok(!(g.v[i].have & SK_HAVE_BYTES) && (g.v[i].have & SK_HAVE_RADDR) &&
			   (g.v[i].have & SK_HAVE_LPORT),
			   "RST-closed: remote address and local port kept, remote port and bytes not");
		}
		fin5000 += g.v[i].proto == SK_TCP && g.v[i].rport == 7000 &&
			   g.v[i].bytes_sent == 5000;
	}
	is_int(tcp, 4, "protocol from INET_DIAG_PROTOCOL: tcp");
	is_int(udp, 1, "protocol from INET_DIAG_PROTOCOL: udp");
	is_int(rst, 1, "exactly the RST-closed socket lost its remote port");
	is_int(fin5000, 1, "FIN-closed connection keeps its final byte count");

	/* a raw_diag reply, built as the kernel's raw_diag.c builds it (this machine's kernel
	 * has no raw_diag, so there is no recording): the socket's protocol is both its
	 * "local port" and its INET_DIAG_PROTOCOL attribute */
	struct {
		struct nlmsghdr h;
		struct inet_diag_msg m;
		struct nlattr a;
		uint8_t proto, pad[3];
		struct nlmsghdr done;
		int err;
	} __attribute__((packed)) raw;
	memset(&raw, 0, sizeof(raw));
	raw.h.nlmsg_len = NLMSG_HDRLEN + sizeof(raw.m) + 8;
	raw.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	raw.h.nlmsg_flags = NLM_F_MULTI;
	raw.m.idiag_family = AF_INET;
	raw.m.idiag_state = 7;  /* TCP_CLOSE: how raw sockets show */
	raw.m.id.idiag_sport = htons(IPPROTO_ICMP);
	raw.m.id.idiag_src[0] = htonl(0x7f000001);
	raw.m.id.idiag_cookie[0] = 77;
	raw.m.idiag_inode = 4242;
	raw.a.nla_len = 5;
	raw.a.nla_type = INET_DIAG_PROTOCOL;
	raw.proto = IPPROTO_ICMP;
	raw.done.nlmsg_len = sizeof(raw.done) + sizeof(int);
	raw.done.nlmsg_type = NLMSG_DONE;
	raw.done.nlmsg_flags = NLM_F_MULTI;
	g.n = 0;
	is_int(diag_parse(&raw, sizeof(raw), SK_RAW, collect, &g), 1, "raw_diag reply decodes");
	is_int(g.n, 1, "one raw socket");
	ok(g.n == 1 && g.v[0].proto == SK_RAW && g.v[0].family == SKF_IPV4 &&
	   g.v[0].lport == IPPROTO_ICMP, "RAW, IPv4, protocol ICMP in the local port");
	ok(g.n == 1 && g.v[0].cookie == 77 && g.v[0].inode == 4242 &&
	   (g.v[0].have & SK_HAVE_INODE), "cookie and inode");
	is_str(g.n ? sk_addr_text(g.v[0].family, g.v[0].laddr, a, sizeof(a)) : NULL,
	       "127.0.0.1", "bound address");

	/* a timewait socket in its FIN_WAIT2 substate (the peer has not closed): timer 3,
	 * only timewait sockets have it; it reads TIME_WAIT, the remnant of a closed
	 * connection. A full socket in FIN_WAIT2 (its timer 2) stays FIN_WAIT2 */
	struct {
		struct nlmsghdr h;
		struct inet_diag_msg m;
	} __attribute__((packed)) tw;
	memset(&tw, 0, sizeof(tw));
	tw.h.nlmsg_len = sizeof(tw);
	tw.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	tw.h.nlmsg_flags = NLM_F_MULTI;
	tw.m.idiag_family = AF_INET;
	tw.m.idiag_state = SKS_FIN_WAIT2;
	tw.m.idiag_timer = 3;
	tw.m.id.idiag_sport = htons(40000);
	tw.m.id.idiag_dport = htons(443);
	tw.m.id.idiag_src[0] = htonl(0xc0000201);
	tw.m.id.idiag_dst[0] = htonl(0xc6336407);
	g.n = 0;
	diag_parse(&tw, sizeof(tw), SK_TCP, collect, &g);
	ok(g.n == 1 && g.v[0].state == SKS_TIME_WAIT, "a FIN_WAIT2 timewait remnant reads TIME_WAIT");
	tw.m.idiag_timer = 2;
	g.n = 0;
	diag_parse(&tw, sizeof(tw), SK_TCP, collect, &g);
	ok(g.n == 1 && g.v[0].state == SKS_FIN_WAIT2, "a full socket in FIN_WAIT2 stays FIN_WAIT2");

	/* the libmnl trap: an error inside NLMSG_DONE must not read as "no sockets" */
	struct {
		struct nlmsghdr h;
		int err;
	} done = { { sizeof(done), NLMSG_DONE, NLM_F_MULTI, 0, 0 }, -ENOENT };
	g.n = 0;
	errno = 0;
	is_int(diag_parse(&done, sizeof(done), SK_RAW, collect, &g), -1, "DONE with an error fails");
	is_int(errno, ENOENT, "and says ENOENT");

	/* a message too short for its header is refused, not read past */
	struct {
		struct nlmsghdr h;
		char b[8];
	} shortmsg = { { sizeof(shortmsg), 20 /* SOCK_DIAG_BY_FAMILY */, 0, 0, 0 }, { 0 } };
	is_int(diag_parse(&shortmsg, sizeof(shortmsg), SK_TCP, collect, &g), -1,
	       "truncated inet_diag_msg refused");
	return tap_done();
}
