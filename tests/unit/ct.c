/* The conntrack event decoder on real ctnetlink messages recorded in a namespace
 * (tests/helpers/ct-record, fuzz/corpus/ct): UDP sendto and ICMP echo of both families
 * and an RST-closed TCP connection, NEW and DESTROY. No root needed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const char *src = getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".";
	char dir[512];
	int files = 0, bad = 0;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ct", src);
	tap_plan(11);
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
	/* a truncated buffer is refused, not read past */
	static char trunc[64];
	ok(ct_parse(trunc, 0, keep, NULL) == 0, "an empty buffer is nothing");
	return tap_failed ? 1 : 0;
}
