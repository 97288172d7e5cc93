/* The destination groups of the report walk's first scan: each row with a
 * destination is placed in its (container, protocol, address, name, port) group, and
 * the open times are summed up into the container's burst and the group's gaps as they
 * come, so that the timeline rules (timeline.c) rarely need to sort. */
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "allow.h"
#include "burst.h"
#include "out.h"
#include "walk_int.h"

static uint64_t gslot_hash(uint64_t ka, uint64_t kb)
{
	uint64_t h = ka * 0x9e3779b97f4a7c15ull ^ kb * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

static int gslots_grow(struct walk *k)
{
	size_t n = k->gnslots ? k->gnslots * 2 : 1024;
	struct gslot *t = calloc(n, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < k->gnslots; i++) {
		const struct gslot *g = &k->gslots[i];
		if (!g->gid1)
			continue;
		size_t j = (size_t)gslot_hash(g->ka, g->kb) & (n - 1);
		while (t[j].gid1)
			j = (j + 1) & (n - 1);
		t[j] = *g;
	}
	free(k->gslots);
	k->gslots = t;
	k->gnslots = n;
	return 0;
}

/* Whether a destination is declared, by its address or by the name the container
 * resolved to reach it: decided once per group. */
static int undeclared(const struct allowlist *al, const char *addr, const char *name,
		      int port, int proto)
{
	uint8_t a[16];
	int family;
	if (name && allow_match_name(al, name, port, proto))
		return 0;
	if (allow_addr_parse(addr, &family, a) < 0)
		return 1;
	return !allow_match(al, family, a, port, proto);
}

static uint64_t key_a(const struct p1row *r)
{
	return (uint64_t)r->c << 32 | r->addr;
}

/* the name is part of a destination: one address may serve two names */
static uint64_t key_b(const struct p1row *r)
{
	return (uint64_t)r->name << 32 | (uint64_t)((uint32_t)(r->rport + 1) & 0xffffff) << 8 |
	       r->proto;
}

/* The destination group of a row (h: gslot_hash of its key), created on first sight. */
static int64_t group_of(struct walk *k, const struct p1row *r, uint64_t h)
{
	uint64_t ka = key_a(r), kb = key_b(r);

	if ((k->ng + 1) * 2 > k->gnslots && gslots_grow(k) < 0)
		return -1;
	size_t mask = k->gnslots - 1, i = (size_t)h & mask;
	for (; k->gslots[i].gid1; i = (i + 1) & mask)
		if (k->gslots[i].ka == ka && k->gslots[i].kb == kb)
			return k->gslots[i].gid1 - 1;
	if (k->ng >= DEST_PENDING - 1)
		return -1;
	if (util_grow(&k->groups, &k->gcap, k->ng + 1, sizeof(*k->groups)) < 0)
		return -1;
	struct dest_group *g = &k->groups[k->ng];
	*g = (struct dest_group){ .min_gap = INT64_MAX };
	if (k->q->allow && undeclared(k->q->allow, walk_addr_text(k, r->addr),
				      names_text(&k->ni, r->name), r->rport, r->proto))
		g->flags |= REPORT_F_UNDECLARED;
	if (k->ntun && r->rport == 53 && walk_is_tunnel(k, walk_name_key(r->c, r->addr)))
		g->flags |= REPORT_F_DNS_TUNNEL;
	k->gslots[i] = (struct gslot){ .ka = ka, .kb = kb, .gid1 = (uint32_t)++k->ng };
	return (int64_t)k->ng - 1;
}

/* Sums up an open time into its container's burst and its group's gaps. */
static void feed(struct walk *k, uint32_t c, uint32_t g, int64_t t)
{
	struct wcont *wc = &k->cs[c];
	if (wc->pub.connections++ && t < wc->last)
		wc->unsorted = 1;
	else if (!wc->unsorted)
		burst_feed(&wc->burst, t);
	wc->last = t;
	if (g >= k->ng)
		return;
	struct dest_group *gr = &k->groups[g];
	if (gr->count++) {
		int64_t gap = t - gr->last;
		if (gap < 0)
			gr->unsorted = 1;
		if (gap < gr->min_gap)
			gr->min_gap = gap;
		if (gap > gr->max_gap)
			gr->max_gap = gap;
	}
	gr->last = t;
}

/* Groups the rows and sums them up, in recording order. The group table and the
 * groups outgrow the caches when there are many destinations: the slot of a row a few
 * rows ahead is prefetched while this one is placed. */
static int group_rows(struct walk *k)
{
	enum { AHEAD = 8 };
	uint64_t h[AHEAD];

	for (size_t i = 0; i < k->nrows + AHEAD; i++) {
		/* row i - AHEAD is placed (its slot was fetched AHEAD rows ago), then row i's
		 * hash takes the place its own had in h */
		if (i >= AHEAD) {
			struct p1row *r = &k->rows[i - AHEAD];
			if (r->g == DEST_PENDING) {
				int64_t g = group_of(k, r, h[i % AHEAD]);
				if (g < 0)
					return -1;
				r->g = (uint32_t)g;
				__builtin_prefetch(&k->groups[g]);
			}
			if (i >= 2 * AHEAD)
				feed(k, r[-AHEAD].c, r[-AHEAD].g, r[-AHEAD].t);
		}
		if (i < k->nrows && k->rows[i].g == DEST_PENDING) {
			h[i % AHEAD] = gslot_hash(key_a(&k->rows[i]), key_b(&k->rows[i]));
			if (k->gnslots)
				__builtin_prefetch(&k->gslots[h[i % AHEAD] & (k->gnslots - 1)]);
		}
	}
	for (size_t i = k->nrows > AHEAD ? k->nrows - AHEAD : 0; i < k->nrows; i++)
		feed(k, k->rows[i].c, k->rows[i].g, k->rows[i].t);
	return 0;
}

/* remote_name of every row with an address, before the rows are grouped (the name is
 * part of a destination). Each lookup costs two cache misses (slot, episodes) in a big
 * index: they are fetched two and one steps ahead, as group_rows does. */
static void name_rows(struct walk *k)
{
	enum { AHEAD = 8 };
	if (!k->ni.n)
		return;
	for (size_t i = 0; i < k->nrows; i++) {
		const struct p1row *f = &k->rows[i + 2 * AHEAD < k->nrows ? i + 2 * AHEAD : i];
		const struct p1row *g = &k->rows[i + AHEAD < k->nrows ? i + AHEAD : i];
		if (f->addr != ADDR_NONE)
			names_prefetch(&k->ni, walk_name_key(f->c, f->addr), 0);
		if (g->addr != ADDR_NONE)
			names_prefetch(&k->ni, walk_name_key(g->c, g->addr), 1);
		struct p1row *r = &k->rows[i];
		if (r->addr != ADDR_NONE)
			r->name = names_lookup(&k->ni, walk_name_key(r->c, r->addr), r->t);
	}
}

int walk_group_rows(struct walk *k)
{
	name_rows(k);
	return group_rows(k);
}
