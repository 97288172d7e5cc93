#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../lib/util.h"
#include "tlayout.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)
/* 1970-01-01 was a Thursday: weeks are counted from Monday 1970-01-05 */
#define MONDAY (4 * DAY)

static const int64_t steps[] = {
	SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
	MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
	HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
	DAY, 2 * DAY, WEEK, 2 * WEEK, 4 * WEEK,
};

int64_t tl_tick_step(int64_t span, unsigned max_ticks)
{
	if (max_ticks == 0)
		max_ticks = 1;
	if (span < 0)
		span = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] < (int64_t)max_ticks)
			return steps[i];
	/* beyond 4 weeks a step: whole multiples of 4 weeks */
	int64_t k = span / (4 * WEEK) / max_ticks + 1;
	return k * 4 * WEEK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

size_t tl_ticks(int64_t t0, int64_t t1, int64_t step, int64_t *out, size_t cap)
{
	if (step <= 0 || t1 < t0)
		return 0;
	int64_t base = step >= WEEK ? MONDAY : 0;
	int64_t t = base + floor_div(t0 - base, step) * step;
	size_t n = 0;
	if (t < t0)
		t += step;
	for (; t <= t1; t += step) {
		if (n < cap)
			out[n] = t;
		n++;
	}
	return n;
}

const char *tl_tick_label(int64_t t, int64_t step, int first, char *buf, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t secs = (time_t)floor_div(t, SEC);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	int midnight = tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0;
	if (step >= DAY)
		snprintf(buf, len, "%s %d", mon[tm.tm_mon], tm.tm_mday);
	else if ((first || midnight) && step >= MIN)
		snprintf(buf, len, "%s %d %02d:%02d", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
			 tm.tm_min);
	else if (step >= MIN)
		snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else if (first || midnight)
		snprintf(buf, len, "%s %d %02d:%02d:%02d", mon[tm.tm_mon], tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

double tl_x(int64_t t, int64_t t0, int64_t t1, double x0, double width)
{
	if (t1 <= t0 || t <= t0)
		return x0;
	if (t >= t1)
		return x0 + width;
	return x0 + width * (double)(t - t0) / (double)(t1 - t0);
}

void tl_lanes_init(struct tl_lanes *l, uint32_t max_rows_per_container)
{
	*l = (struct tl_lanes){ .max = max_rows_per_container ? max_rows_per_container : 1 };
}

long tl_lane(struct tl_lanes *l, uint32_t c, const char *label)
{
	size_t n = strlen(label);
	char *key = malloc(sizeof(c) + n);
	int added;
	long j;

	if (!key)
		return -1;
	memcpy(key, &c, sizeof(c));
	memcpy(key + sizeof(c), label, n);
	j = hmap_intern(&l->map, key, sizeof(c) + n, &added);
	free(key);
	if (j < 0)
		return -1;
	if (added) {
		if (util_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
			return -1;
		l->v[l->n++] = (struct tl_lane){ .container = c };
	}
	l->v[j].count++;
	return j;
}

/* By container; within it, the lanes that keep a row of their own first: flagged,
 * then busiest, then earliest (lower index). */
static int rank_cmp(const void *a, const void *b, void *arg)
{
	const struct tl_lane *v = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct tl_lane *x = &v[i], *y = &v[j];
	if (x->container != y->container)
		return x->container < y->container ? -1 : 1;
	if (!x->flags != !y->flags)
		return x->flags ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (i > j) - (i < j);
}

static int index_cmp(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	return (i > j) - (i < j);
}

/* One container's lanes, ranked: keep, fold, and number the rows by first use. */
static void layout_one(struct tl_lanes *l, uint32_t *idx, size_t n)
{
	size_t keep = n <= l->max ? n : l->max - 1;
	if (keep < n) {
		uint32_t other = idx[keep];
		for (size_t k = keep + 1; k < n; k++)
			if (idx[k] < other)
				other = idx[k];   /* the earliest folded lane holds the row */
		l->v[other].nrow = 0;
		l->v[other].rowcount = 0;
		for (size_t k = keep; k < n; k++) {
			l->v[idx[k]].row = other;
			l->v[idx[k]].slot = (uint32_t)keep;
			l->v[other].nrow++;
			l->v[other].rowcount += l->v[idx[k]].count;
			if (idx[k] != other)
				l->v[idx[k]].nrow = 0;
		}
	}
	qsort(idx, keep, sizeof(*idx), index_cmp);
	for (size_t k = 0; k < keep; k++) {
		struct tl_lane *ln = &l->v[idx[k]];
		ln->slot = (uint32_t)k;
		ln->row = idx[k];
		ln->nrow = 1;
		ln->rowcount = ln->count;
	}
}

int tl_lanes_layout(struct tl_lanes *l)
{
	uint32_t *idx = malloc((l->n ? l->n : 1) * sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, l->n, sizeof(*idx), rank_cmp, l->v);
	for (size_t i = 0, j; i < l->n; i = j) {
		for (j = i; j < l->n && l->v[idx[j]].container == l->v[idx[i]].container; j++)
			;
		layout_one(l, idx + i, j - i);
	}
	free(idx);
	return 0;
}

const char *tl_lane_label(const struct tl_lanes *l, size_t lane, size_t *len)
{
	size_t klen;
	const char *k = hmap_key(&l->map, lane, &klen);
	*len = klen - sizeof(uint32_t);
	return k + sizeof(uint32_t);
}

void tl_lanes_free(struct tl_lanes *l)
{
	hmap_free(&l->map);
	free(l->v);
	*l = (struct tl_lanes){ 0 };
}

static int mark_cmp(const void *a, const void *b)
{
	const struct tl_mark *x = a, *y = b;
	if (x->lane != y->lane)
		return x->lane < y->lane ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

size_t tl_cluster(struct tl_mark *m, size_t n, int64_t gap, struct tl_cluster *out)
{
	size_t k = 0;
	qsort(m, n, sizeof(*m), mark_cmp);
	for (size_t i = 0; i < n; i++) {
		struct tl_cluster *c = k ? &out[k - 1] : NULL;
		if (c && c->lane == m[i].lane && c->flags == m[i].flags && m[i].t - c->t1 < gap) {
			c->t1 = m[i].t;
			c->count++;
			if (m[i].bytes >= 0)
				c->bytes = (c->bytes < 0 ? 0 : c->bytes) + m[i].bytes;
			continue;
		}
		out[k++] = (struct tl_cluster){ .t0 = m[i].t, .t1 = m[i].t, .lane = m[i].lane,
						.count = 1, .flags = m[i].flags,
						.bytes = m[i].bytes, .ref = m[i].ref };
	}
	return k;
}

double tl_radius(int64_t bytes)
{
	double r = 3;
	for (int64_t b = bytes; b >= 10 && r < 9; b /= 10)
		r += 1;
	return r;
}
