#include <stdlib.h>
#include "burst.h"

void burst_init(struct burst *b, int64_t start, int64_t idle, int64_t max)
{
	if (max <= 0)
		max = BURST_MAX_DEFAULT_MS;
	*b = (struct burst){ .idle = idle, .prev = start,
			     .cap = start > INT64_MAX - max ? INT64_MAX : start + max };
}

/* Where the burst ends if nothing opens before then: an idle gap after the latest open
 * time, but never later than the cap. */
static int64_t end_if_quiet(const struct burst *b)
{
	int64_t e = b->prev > INT64_MAX - b->idle ? INT64_MAX : b->prev + b->idle;
	return e < b->cap ? e : b->cap;
}

int burst_feed(struct burst *b, int64_t t)
{
	if (b->ended)
		return t >= b->end;
	int64_t e = end_if_quiet(b);
	if (t >= e) {
		b->end = e;
		b->ended = 1;
		return 1;
	}
	if (t > b->prev)
		b->prev = t;
	return 0;
}

int burst_result(const struct burst *b, int64_t horizon, int64_t *end)
{
	if (b->ended) {
		*end = b->end;
		return 1;
	}
	int64_t e = end_if_quiet(b);
	if (e <= horizon) {
		*end = e;
		return 1;
	}
	return 0;
}

int report_burst_end(int64_t start, const int64_t *opens, size_t n, int64_t idle,
		     int64_t max, int64_t horizon, int64_t *end)
{
	struct burst b;
	burst_init(&b, start, idle, max);
	for (size_t i = 0; i < n && !b.ended; i++)
		burst_feed(&b, opens[i]);
	return burst_result(&b, horizon, end);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int report_beacon(const int64_t *t, size_t n, int64_t *scratch)
{
	if (n < BEACON_MIN_COUNT)
		return 0;
	size_t ng = n - 1;
	for (size_t i = 0; i < ng; i++)
		scratch[i] = t[i + 1] - t[i];
	qsort(scratch, ng, sizeof(*scratch), cmp_i64);
	/* twice the median, so an even count needs no fraction */
	int64_t m2 = ng % 2 ? 2 * scratch[ng / 2] : scratch[ng / 2 - 1] + scratch[ng / 2];
	if (m2 < 2 * (int64_t)BEACON_MIN_PERIOD_MS)
		return 0;
	/* sorted: only the smallest and the largest gap can be furthest from the median */
	int64_t lo = m2 - 2 * scratch[0], hi = 2 * scratch[ng - 1] - m2;
	int64_t dev = lo > hi ? lo : hi;
	return dev * 100 <= m2 * BEACON_TOLERANCE_PCT;
}
