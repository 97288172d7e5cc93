#include <stdlib.h>
#include "../lib/util.h"
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

/* The p-quantile of sorted values, interpolated between the two nearest ranks (so the
 * median of an even count is the mean of the middle two). */
static double quantile(const int64_t *v, size_t n, double p)
{
	double k = (double)(n - 1) * p;
	size_t f = (size_t)k, c = f + 1 < n ? f + 1 : f;
	return (double)v[f] + ((double)v[c] - (double)v[f]) * (k - (double)f);
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

int report_beacon(const int64_t *t, size_t n, int64_t *scratch)
{
	if (n < BEACON_MIN_COUNT)
		return 0;
	size_t ng = n - 1, on = 0;
	for (size_t i = 0; i < ng; i++)
		scratch[i] = t[i + 1] - t[i];
	qsort(scratch, ng, sizeof(*scratch), util_cmp_i64);
	double m = quantile(scratch, ng, 0.5);
	if (m < BEACON_MIN_PERIOD_MS)
		return 0;   /* parallel connections of a burst, not a period */
	for (size_t i = 0; i < ng; i++)
		on += dabs((double)scratch[i] - m) * 100 <= m * BEACON_BAND_PCT;
	if (ng <= BEACON_SMALL_GAPS)
		return on == ng;   /* too few gaps for robust statistics: every one on the beat */
	if (on * 100 < ng * BEACON_ON_BEAT_PCT)
		return 0;
	double q1 = quantile(scratch, ng, 0.25), q3 = quantile(scratch, ng, 0.75);
	/* Bowley's skew: gaps piled up on one side of the median (quartiles settle only
	 * with enough gaps) */
	if (ng >= BEACON_SKEW_MIN_GAPS && q3 > q1 &&
	    dabs(q1 + q3 - 2 * m) * 100 > (q3 - q1) * BEACON_SKEW_PCT)
		return 0;
	/* median absolute deviation, in half milliseconds so that it stays integral */
	int64_t m2 = (int64_t)(2 * m + 0.5);
	for (size_t i = 0; i < ng; i++) {
		int64_t dev = 2 * scratch[i] - m2;
		scratch[i] = dev < 0 ? -dev : dev;
	}
	qsort(scratch, ng, sizeof(*scratch), util_cmp_i64);
	return quantile(scratch, ng, 0.5) * 100 <= (double)m2 * BEACON_MAD_PCT;
}
