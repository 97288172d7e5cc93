#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "agg.h"
#include "../lib/u64map.h"

struct aggs {
	int64_t container_id;
	size_t max;
	struct store_aggregate *v;
	size_t n, cap;
	struct u64map index;     /* destination hash -> index + 1 */
};

struct aggs *aggs_new(int64_t container_id, size_t max)
{
	struct aggs *a = calloc(1, sizeof(*a));
	if (a) {
		a->container_id = container_id;
		a->max = max;
	}
	return a;
}

void aggs_free(struct aggs *a)
{
	if (!a)
		return;
	free(a->v);
	u64map_free(&a->index);
	free(a);
}

static uint64_t dest_hash(const struct store_aggregate *d)
{
	uint8_t ra[16];
	uint64_t h = 0xcbf29ce484222325ULL;
	memcpy(ra, d->sk.raddr, 16);
	sk_addr_normalise(d->sk.family, ra);
	uint64_t parts[6] = { (uint64_t)d->hour, d->sk.proto, d->sk.family,
			      (uint64_t)d->direction, d->sk.rport,
			      d->sk.have & (SK_HAVE_RADDR | SK_HAVE_RPORT) };
	for (int i = 0; i < 16; i++)
		h = (h ^ ra[i]) * 0x100000001b3ULL;
	for (int i = 0; i < 6; i++)
		h = (h ^ parts[i]) * 0x100000001b3ULL;
	return h | 1;
}

static int same_dest(const struct store_aggregate *x, const struct store_aggregate *y)
{
	unsigned bits = SK_HAVE_RADDR | SK_HAVE_RPORT;
	return x->hour == y->hour && x->sk.proto == y->sk.proto &&
	       x->sk.family == y->sk.family && x->direction == y->direction &&
	       (x->sk.have & bits) == (y->sk.have & bits) && x->sk.rport == y->sk.rport &&
	       memcmp(x->sk.raddr, y->sk.raddr, 16) == 0;
}

int aggs_add(struct aggs *a, const struct store_socket *row, int64_t count, int have_bytes,
	     uint64_t sent, uint64_t recv)
{
	struct store_aggregate d = { .container_id = a->container_id };
	unsigned bits = SK_HAVE_RADDR | SK_HAVE_RPORT;
	d.hour = row->first_seen - row->first_seen % AGG_HOUR_MS;
	d.sk.proto = row->sk.proto;
	d.sk.family = row->sk.family;
	d.sk.have = row->sk.have & bits;
	if (d.sk.have & SK_HAVE_RADDR)
		memcpy(d.sk.raddr, row->sk.raddr, 16);
	if (d.sk.have & SK_HAVE_RPORT)
		d.sk.rport = row->sk.rport;
	d.direction = row->direction;
	uint64_t key = dest_hash(&d);
	uintptr_t at = (uintptr_t)u64map_get(&a->index, key);
	struct store_aggregate *g;
	if (at) {
		g = &a->v[at - 1];
		if (!same_dest(g, &d)) {     /* a 64-bit hash collision: count it as lost */
			errno = ENOSPC;
			return -1;
		}
	} else {
		if (a->n >= a->max) {
			errno = ENOSPC;
			return -1;
		}
		if (util_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v)) < 0)
			return -1;
		if (u64map_put(&a->index, key, (void *)(uintptr_t)(a->n + 1)) < 0)
			return -1;
		g = &a->v[a->n++];
		*g = d;
		g->first_seen = row->first_seen;
		g->last_seen = row->last_seen;
	}
	g->count += count;
	if (have_bytes) {
		g->sk.bytes_sent += sent;
		g->sk.bytes_received += recv;
		g->sk.have |= SK_HAVE_BYTES;
	}
	if (row->first_seen < g->first_seen)
		g->first_seen = row->first_seen;
	if (row->last_seen > g->last_seen)
		g->last_seen = row->last_seen;
	return 0;
}

int aggs_flush(struct aggs *a, struct store *st)
{
	for (size_t i = 0; i < a->n; i++)
		if (store_aggregate_add(st, &a->v[i]) < 0)
			return -1;
	return 0;
}

/* Nothing is added between a flush and its done (one tick): after a commit every held
 * delta is written. */
void aggs_done(struct aggs *a, int ok)
{
	if (!ok || !a->n)
		return;
	a->n = 0;
	u64map_free(&a->index);
}

size_t aggs_held(const struct aggs *a)
{
	return a->n;
}
