#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

void tl_lanes_init(struct tl_lanes *l, uint32_t max_per_container)
{
	*l = (struct tl_lanes){ .max = max_per_container ? max_per_container : 1 };
}

/* key: the container's 4 bytes, then the label; NULL when out of memory */
static char *lane_key(uint32_t c, const char *label, size_t *len)
{
	size_t n = strlen(label);
	char *key = malloc(sizeof(c) + n);
	if (key) {
		memcpy(key, &c, sizeof(c));
		memcpy(key + sizeof(c), label, n);
	}
	*len = sizeof(c) + n;
	return key;
}

static int per_grow(struct tl_lanes *l, uint32_t c)
{
	if (c < l->nper)
		return 0;
	size_t cap = (size_t)c + 16;
	uint32_t *p = realloc(l->per, cap * sizeof(*p));
	if (!p)
		return -1;
	memset(p + l->nper, 0, (cap - l->nper) * sizeof(*p));
	l->per = p;
	l->nper = cap;
	return 0;
}

long tl_lane(struct tl_lanes *l, uint32_t c, const char *label)
{
	size_t klen;
	char *key;
	long j;
	int added;

	if (per_grow(l, c) < 0 || !(key = lane_key(c, label, &klen)))
		return -1;
	/* a known label keeps its lane; a new one once the container is full shares one */
	j = hmap_find(&l->map, key, klen);
	if (j < 0 && l->per[c] + 1 >= l->max) {
		free(key);
		if (!(key = lane_key(c, TL_OTHER, &klen)))
			return -1;
	}
	j = hmap_intern(&l->map, key, klen, &added);
	free(key);
	if (j < 0)
		return -1;
	if (added) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 64;
			struct tl_lane *v = realloc(l->v, cap * sizeof(*v));
			if (!v)
				return -1;
			l->v = v;
			l->cap = cap;
		}
		l->v[l->n++] = (struct tl_lane){ .container = c, .slot = l->per[c]++ };
	}
	l->v[j].count++;
	return j;
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
	free(l->per);
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
