/* The dns-tunnel rule (report/tunnel.h) on a labelled synthetic set: several hundred
 * series, seeded, of tunnels (iodine-like: long base32 labels, NULL/TXT; dnscat2-like:
 * hex labels, TXT/CNAME/MX; slow and short-label variants) and of ordinary traffic
 * (a few names repeated, CDN hashed labels, a busy container over many domains,
 * telemetry names with short hex labels, ACME/SPF TXT lookups). Prints precision and
 * recall (README quotes them) and holds them to a floor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report/tunnel.h"
#include "tests/tap.h"

#define MAXQ 400

static unsigned long long seed = 20261130;
static unsigned rnd(unsigned n)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(seed >> 33) % n;
}

static void word(char *out, size_t len, const char *alphabet)
{
	size_t an = strlen(alphabet);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[rnd((unsigned)an)];
	out[len] = '\0';
}

static const char *const popular[] = {
	"api.github.com", "registry.npmjs.org", "pypi.org", "files.pythonhosted.org",
	"objects.githubusercontent.com", "deb.debian.org", "api.openai.com",
	"storage.googleapis.com", "s3.amazonaws.com", "login.microsoftonline.com",
	"www.bbc.co.uk", "cdn.jsdelivr.net", "proxy.golang.org", "index.docker.io",
};

enum kind {
	K_ORDINARY, K_CDN, K_BUSY, K_HEX, K_TXT_LOOKUPS,          /* not tunnels */
	K_IODINE, K_DNSCAT, K_SLOW, K_SHORT,                        /* tunnels */
	K_N
};
static const char *const kind_name[K_N] = {
	"ordinary", "cdn-hashed", "busy", "telemetry-hex", "txt-lookups",
	"iodine-like", "dnscat2-like", "slow-tunnel", "short-label-tunnel",
};

/* One series: n queries of one container; returns n. */
static size_t series(enum kind k, struct tunnel_q *q, char names[][256])
{
	size_t n = 0;
	int64_t t = 0;
	char w[80];
	switch (k) {
	case K_ORDINARY:
		for (n = 0; n < 40 + rnd(100); n++) {
			snprintf(names[n], 256, "%s", popular[rnd(6)]);
			q[n] = (struct tunnel_q){ t += rnd(5000), names[n], rnd(2) ? 1 : 28, 0 };
		}
		break;
	case K_CDN:
		for (n = 0; n < 30 + rnd(60); n++) {
			word(w, 13, "abcdefghijklmnopqrstuvwxyz0123456789");
			snprintf(names[n], 256, "d%s.cloudfront.net", w);
			q[n] = (struct tunnel_q){ t += rnd(3000), names[n], 1, 0 };
		}
		break;
	case K_BUSY:
		for (n = 0; n < 200 + rnd(150); n++) {
			word(w, 4 + rnd(8), "abcdefghijklmnopqrstuvwxyz");
			snprintf(names[n], 256, "www.%s%u.%s", w, rnd(50), rnd(3) ? "com" : "co.uk");
			q[n] = (struct tunnel_q){ t += rnd(500), names[n], rnd(2) ? 1 : 28, 0 };
		}
		break;
	case K_HEX:
		for (n = 0; n < 20 + rnd(40); n++) {
			word(w, 8, "0123456789abcdef");
			snprintf(names[n], 256, "%s.events.example.com", w);
			q[n] = (struct tunnel_q){ t += rnd(20000), names[n], 1, 0 };
		}
		break;
	case K_TXT_LOOKUPS:
		for (n = 0; n < 10 + rnd(30); n++) {
			snprintf(names[n], 256, "%s%s", rnd(2) ? "_acme-challenge." : "",
				 popular[rnd(14)]);
			q[n] = (struct tunnel_q){ t += rnd(10000), names[n], 16, 0 };
		}
		break;
	case K_IODINE:
		for (n = 0; n < 50 + rnd(300); n++) {
			word(w, 40 + rnd(23), "abcdefghijklmnopqrstuvwxyz012345");
			snprintf(names[n], 256, "%s.t1.example.org", w);
			q[n] = (struct tunnel_q){ t += rnd(200), names[n], rnd(2) ? 10 : 16, 0 };
		}
		break;
	case K_DNSCAT:
		for (n = 0; n < 30 + rnd(200); n++) {
			word(w, 30 + rnd(30), "0123456789abcdef");
			snprintf(names[n], 256, "%s.c2.example.net", w);
			q[n] = (struct tunnel_q){ t += rnd(1000), names[n], rnd(3) == 0 ? 5 :
						  rnd(2) ? 16 : 15, 0 };
		}
		break;
	case K_SLOW:
		for (n = 0; n < 15 + rnd(30); n++) {
			word(w, 28 + rnd(20), "abcdefghijklmnopqrstuvwxyz234567");
			snprintf(names[n], 256, "%s.x.example.io", w);
			q[n] = (struct tunnel_q){ t += 20000 + rnd(40000), names[n], 16, 0 };
		}
		break;
	case K_SHORT:
		/* short labels split over several: harder */
		for (n = 0; n < 40 + rnd(100); n++) {
			char a[16], b[16], c[16];
			word(a, 10 + rnd(5), "abcdefghijklmnopqrstuvwxyz234567");
			word(b, 10 + rnd(5), "abcdefghijklmnopqrstuvwxyz234567");
			word(c, 8, "abcdefghijklmnopqrstuvwxyz234567");
			snprintf(names[n], 256, "%s.%s.%s.s.example.dev", a, b, c);
			q[n] = (struct tunnel_q){ t += rnd(2000), names[n], 1, 0 };
		}
		break;
	default:
		break;
	}
	return n;
}

int main(void)
{
	static struct tunnel_q q[MAXQ];
	static char names[MAXQ][256];
	unsigned tp = 0, fp = 0, fn = 0, tn = 0, per[K_N][2] = { { 0 } };
	const unsigned each = 60;

	is_int((long)tunnel_registered("a.b.example.com"), 4, "registered domain: last two labels");
	is_int((long)tunnel_registered("www.bbc.co.uk"), 4, "co.uk: last three");
	is_int((long)tunnel_registered("example"), 0, "one label: itself");
	ok(!tunnel_data_like("d1a2b3c4e5f6g.cloudfront.net", 1), "a CDN hashed label is not data");
	ok(tunnel_data_like("ex2wrx20r10bjadpjxca5awcjv31vz21k0t1s74b.0.t.tunnel.test", 16),
	   "a 40-character label is");

	for (unsigned i = 0; i < each * K_N; i++) {
		enum kind k = (enum kind)(i % K_N);
		size_t n = series(k, q, names);
		if (tunnel_flag(q, n) < 0)
			return 1;
		int flagged = 0, tunnel = k >= K_IODINE;
		for (size_t j = 0; j < n; j++)
			flagged |= q[j].flagged;
		per[k][flagged]++;
		if (tunnel && flagged)
			tp++;
		else if (tunnel)
			fn++;
		else if (flagged)
			fp++;
		else
			tn++;
	}
	for (int k = 0; k < K_N; k++)
		printf("# %-20s %3u series, %3u flagged\n", kind_name[k], per[k][0] + per[k][1],
		       per[k][1]);
	double precision = tp + fp ? (double)tp / (tp + fp) : 0;
	double recall = tp + fn ? (double)tp / (tp + fn) : 0;
	printf("# %u series: tp %u fp %u fn %u tn %u; precision %.3f recall %.3f\n",
	       tp + fp + fn + tn, tp, fp, fn, tn, precision, recall);
	ok(per[K_ORDINARY][1] == 0 && per[K_CDN][1] == 0 && per[K_BUSY][1] == 0,
	   "ordinary lookups, CDN hashed labels and a busy container are never flagged");
	ok(per[K_IODINE][1] == each && per[K_DNSCAT][1] == each,
	   "iodine- and dnscat2-like series are all flagged");
	ok(precision >= 0.9, "precision %.3f >= 0.9", precision);
	ok(recall >= 0.7, "recall %.3f >= 0.7", recall);
	return tap_done_testing();
}
