/* The layout maths of the HTML report's timelines, as pure functions so that they can
 * be tested without drawing: a time axis with ticks at round UTC times from seconds to
 * weeks, one lane per destination, and marks that would overlap on screen merged into
 * clusters. Times are ms since the epoch; x is in SVG user units. */
#ifndef CLAWSS_REPORT_TLAYOUT_H
#define CLAWSS_REPORT_TLAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "hmap.h"

/* ---- the time axis ---- */

/* The smallest round step (1s, 2s, 5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h,
 * 2h, 3h, 6h, 12h, 1d, 2d, 7d, 14d, 28d, ...) that puts at most max_ticks ticks on
 * span ms. */
int64_t tl_tick_step(int64_t span, unsigned max_ticks);
/* The ticks in [t0, t1]: multiples of step since the epoch (UTC midnight for days;
 * weeks from Monday 1970-01-05). Up to cap are written; returns how many there are. */
size_t tl_ticks(int64_t t0, int64_t t1, int64_t step, int64_t *out, size_t cap);
/* A tick's label, UTC: "10:00:05" under a minute's step, "10:05" under a day's, and
 * "Nov 30" from a day up; a tick at midnight of a sub-day step, and the first tick
 * (first != 0), say the date too: "Nov 30 10:05". */
const char *tl_tick_label(int64_t t, int64_t step, int first, char *buf, size_t len);
/* x of time t on an axis from t0 at x0 to t1 at x0 + width (clamped to it). */
double tl_x(int64_t t, int64_t t0, int64_t t1, double x0, double width);

/* ---- lanes: one per destination and container ----
 * Lanes are made as rows come (tl_lane), then laid out once all are known
 * (tl_lanes_layout): a container with more than max lanes keeps max - 1 rows of their
 * own for the flagged lanes first, then the busiest, then the earliest, and folds the
 * others into one last row labelled TL_OTHER, so that a late, important destination
 * never hides behind early single connections. Rows come in order of first use. */

#define TL_OTHER "other destinations"

struct tl_lane {
	uint32_t container;
	uint32_t count;           /* marks put in it */
	unsigned flags;           /* union of theirs */
	/* set by tl_lanes_layout: */
	uint32_t slot;            /* its row within the container's timeline, from 0 */
	uint32_t row;             /* the lane whose row it is drawn in: itself, or the
				     container's TL_OTHER row */
	uint32_t nrow;            /* lanes drawn in this lane's row: 1, more for the
				     TL_OTHER row, 0 for a lane folded into it */
	uint32_t rowcount;        /* marks in this lane's row */
};

struct tl_lanes {
	struct hmap map;          /* container (4 bytes) + label -> lane */
	struct tl_lane *v;
	size_t n, cap;
	uint32_t max;             /* rows per container, the last maybe TL_OTHER */
};

void tl_lanes_init(struct tl_lanes *l, uint32_t max_rows_per_container);
/* The lane of label in container, made if new. -1 when out of memory. */
long tl_lane(struct tl_lanes *l, uint32_t container, const char *label);
/* Rows for every lane (slot, row, nrow, rowcount). -1 when out of memory. */
int tl_lanes_layout(struct tl_lanes *l);
/* A lane's label (not NUL-terminated: *len bytes). */
const char *tl_lane_label(const struct tl_lanes *l, size_t lane, size_t *len);
void tl_lanes_free(struct tl_lanes *l);

/* ---- clusters ---- */

struct tl_mark {
	int64_t t;
	uint32_t lane;
	unsigned flags;
	int64_t bytes;            /* -1: unknown */
	size_t ref;               /* the caller's */
};

struct tl_cluster {
	int64_t t0, t1;           /* first and last mark */
	uint32_t lane;
	uint32_t count;
	unsigned flags;           /* every mark of a cluster has these flags */
	int64_t bytes;            /* sum of the known ones; -1 if none was known */
	size_t ref;               /* its first mark's */
};

/* Sorts m by (lane, t) and merges, within a lane, marks with the same flags that are
 * less than gap ms after the previous one (a flagged mark never hides in a cluster of
 * unflagged ones). out has room for n; returns the number of clusters. */
size_t tl_cluster(struct tl_mark *m, size_t n, int64_t gap, struct tl_cluster *out);

/* Radius of a mark for bytes (-1: unknown): 3 up to 9 bytes, one more per decimal
 * order of magnitude, up to 9 (a megabyte and more). */
double tl_radius(int64_t bytes);

#endif
