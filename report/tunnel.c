#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "hmap.h"
#include "tunnel.h"

size_t tunnel_registered(const char *name)
{
	size_t len = strlen(name);
	size_t dots[3] = { 0 };
	int nd = 0;
	/* the positions after the last three dots */
	for (size_t i = len; i-- > 0 && nd < 3;)
		if (name[i] == '.')
			dots[nd++] = i + 1;
	if (nd < 2)
		return 0;
	size_t sld = dots[1], tld_len = len - dots[0], sld_len = dots[0] - 1 - dots[1];
	/* co.uk, com.au, ac.jp: a two-letter country code under a short second level */
	if (tld_len == 2 && sld_len <= 3 && nd == 3)
		return dots[2];
	return sld;
}

static double entropy(const char *s, size_t n)
{
	unsigned count[256] = { 0 };
	size_t total = 0;
	double h = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			continue;
		count[(unsigned char)s[i]]++;
		total++;
	}
	for (int c = 0; c < 256; c++) {
		if (!count[c])
			continue;
		double p = (double)count[c] / (double)total;
		h -= p * log2(p);
	}
	return h;
}

int tunnel_data_like(const char *qname, int qtype)
{
	size_t reg = tunnel_registered(qname);
	size_t sub = reg ? reg - 1 : 0, longest = 0, label = 0;
	for (size_t i = 0; i < sub; i++) {
		label = qname[i] == '.' ? 0 : label + 1;
		if (label > longest)
			longest = label;
	}
	if (longest >= TUNNEL_LABEL_LONG || sub >= TUNNEL_SUB_LONG)
		return 1;
	if (sub < TUNNEL_SUB_MIN)
		return 0;
	/* TXT 16, NULL 10, CNAME 5, MX 15, ANY 255, private use 65280-65534 */
	if (qtype == 16 || qtype == 10 || qtype == 5 || qtype == 15 || qtype == 255 ||
	    (qtype >= 65280 && qtype <= 65534))
		return 1;
	return entropy(qname, sub) >= TUNNEL_ENTROPY;
}

struct dom {
	size_t *idx;          /* its queries, in time order */
	size_t n, cap;
};

static void flag_domain(struct tunnel_q *q, const struct dom *d, const uint8_t *uniq,
			const uint8_t *data)
{
	size_t lo = 0, u = 0, dl = 0;
	for (size_t hi = 0; hi < d->n; hi++) {
		size_t j = d->idx[hi];
		u += uniq[j];
		dl += uniq[j] && data[j];
		while (q[j].t - q[d->idx[lo]].t > TUNNEL_WINDOW_MS) {
			size_t o = d->idx[lo++];
			u -= uniq[o];
			dl -= uniq[o] && data[o];
		}
		if (u >= TUNNEL_MIN_UNIQUE && (double)dl >= TUNNEL_MIN_FRACTION * (double)u)
			for (size_t k = lo; k <= hi; k++)
				q[d->idx[k]].flagged = 1;
	}
}

int tunnel_flag(struct tunnel_q *q, size_t n)
{
	struct hmap doms = { 0 }, names = { 0 };
	struct dom *d = NULL;
	size_t nd = 0;
	uint8_t *uniq = calloc(n ? n : 1, 2);
	int rc = -1, added;

	if (!uniq)
		return -1;
	uint8_t *data = uniq + n;
	for (size_t i = 0; i < n; i++) {
		const char *name = q[i].qname ? q[i].qname : "";
		size_t reg = tunnel_registered(name);
		long g = hmap_intern(&doms, name + reg, strlen(name + reg), &added);
		/* a name counts once per domain: the first time it is asked */
		long nm = hmap_intern(&names, name, strlen(name), &added);
		if (g < 0 || nm < 0)
			goto out;
		q[i].flagged = 0;
		uniq[i] = (uint8_t)added;
		data[i] = (uint8_t)tunnel_data_like(name, q[i].qtype);
		if ((size_t)g >= nd) {
			struct dom *nd2 = realloc(d, ((size_t)g + 1) * sizeof(*d));
			if (!nd2)
				goto out;
			d = nd2;
			memset(d + nd, 0, ((size_t)g + 1 - nd) * sizeof(*d));
			nd = (size_t)g + 1;
		}
		struct dom *x = &d[g];
		if (util_grow(&x->idx, &x->cap, x->n + 1, sizeof(*x->idx)) < 0)
			goto out;
		x->idx[x->n++] = i;
	}
	for (size_t g = 0; g < nd; g++)
		flag_domain(q, &d[g], uniq, data);
	rc = 0;
out:
	for (size_t g = 0; g < nd; g++)
		free(d[g].idx);
	free(d);
	free(uniq);
	hmap_free(&doms);
	hmap_free(&names);
	return rc;
}
