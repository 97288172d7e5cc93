/* The two timeline rules of `report`, as pure functions over open times (ms) so they
 * can be tested on hand-made timelines.
 *
 * Burst (clawss-report(8)): the burst ends at the first moment when `idle` has passed
 * with no newly opened connection, counting from the container's start. Walking the open times
 * in order with prev = start: the first t with t - prev >= idle ends the burst at
 * prev + idle; otherwise prev = max(prev, t). With no such gap the container went idle
 * at last + idle only if it was still being watched then (that moment <= its horizon:
 * ended, else last seen); otherwise it never went idle. A connection is after idle when
 * the burst end is known and its open time >= the burst end.
 *
 * Beacon (it must survive jitter): a destination that a container connects to at least
 * BEACON_MIN_COUNT times, whose gaps between successive opens have a median
 * (the period) of at least BEACON_MIN_PERIOD_MS (a burst of parallel connections is not
 * periodic), and that are regular by robust measures, so that jitter of up to +-30% and
 * the odd missed beat or extra connection do not hide it:
 *   - on the beat: a gap within BEACON_BAND_PCT of the median; with at most
 *     BEACON_SMALL_GAPS gaps every one must be, otherwise BEACON_ON_BEAT_PCT of them;
 *   - median absolute deviation of the gaps at most BEACON_MAD_PCT of the median;
 *   - with BEACON_SKEW_MIN_GAPS gaps or more, Bowley's quartile skew
 *     (Q1 + Q3 - 2 median) / (Q3 - Q1) within +-BEACON_SKEW_PCT.
 * Precision and recall on a labelled synthetic set: tests/unit/beacon_set.c, README. */
#ifndef CLAWSS_REPORT_BURST_H
#define CLAWSS_REPORT_BURST_H

#include <stddef.h>
#include <stdint.h>

#define BEACON_MIN_COUNT 4
#define BEACON_MIN_PERIOD_MS 900      /* "every second" with jitter reads a bit under */
#define BEACON_BAND_PCT 35
#define BEACON_SMALL_GAPS 5
#define BEACON_ON_BEAT_PCT 80
#define BEACON_MAD_PCT 20
#define BEACON_SKEW_MIN_GAPS 12
#define BEACON_SKEW_PCT 60

#define BURST_MAX_DEFAULT_MS (10 * 60 * 1000)

/* Streaming form: feed the open times of one container in order. */
struct burst {
	int64_t idle;
	int64_t cap;      /* start + max: the burst ends by then whatever opens */
	int64_t prev;     /* latest open time so far (start before the first) */
	int64_t end;      /* valid once ended */
	int ended;        /* a gap of idle was found */
};

void burst_init(struct burst *b, int64_t start, int64_t idle, int64_t max);
/* Feeds the next open time; returns 1 when that connection is after idle. */
int burst_feed(struct burst *b, int64_t t);
/* After the last open time: 1 and *end when the container went idle by its horizon,
 * 0 when it never did. */
int burst_result(const struct burst *b, int64_t horizon, int64_t *end);

/* The whole rule over a sorted array: 1 and *end if the container went idle, else 0. */
int report_burst_end(int64_t start, const int64_t *opens, size_t n, int64_t idle,
		     int64_t max, int64_t horizon, int64_t *end);

/* 1 when the sorted open times t[0..n) form a beacon, 0 when not. scratch holds at
 * least n values (it is overwritten). */
int report_beacon(const int64_t *t, size_t n, int64_t *scratch);

#endif
