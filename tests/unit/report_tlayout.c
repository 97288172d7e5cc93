/* The HTML timeline's layout maths: axis ticks from seconds to weeks, their labels,
 * lanes per destination, clusters of marks too close to tell apart. */
#include "../tap.h"
#include "../../report/tlayout.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)
/* 2026-11-30T00:00:00Z, a Monday */
#define T0 INT64_C(1795996800000)

static void test_steps(void)
{
	is_int(tl_tick_step(5 * S, 9), S, "5 s: a tick a second");
	is_int(tl_tick_step(15 * S, 9), 2 * S, "15 s: every 2 s");
	is_int(tl_tick_step(90 * S, 9), 15 * S, "90 s: every 15 s");
	is_int(tl_tick_step(10 * M, 9), 2 * M, "10 min: every 2 min");
	is_int(tl_tick_step(1 * H, 9), 10 * M, "an hour: every 10 min");
	is_int(tl_tick_step(8 * H, 9), H, "8 h: hourly");
	is_int(tl_tick_step(D, 9), 3 * H, "a day: every 3 h");
	is_int(tl_tick_step(3 * D, 9), 12 * H, "3 days: every 12 h");
	is_int(tl_tick_step(10 * D, 9), 2 * D, "10 days: every 2 days");
	is_int(tl_tick_step(60 * D, 9), 7 * D, "60 days: weekly");
	is_int(tl_tick_step(100 * D, 9), 14 * D, "100 days: every 2 weeks");
	is_int(tl_tick_step(3000 * D, 9), 3000 * D / (28 * D) / 9 * 28 * D + 28 * D,
	       "8 years: whole multiples of 4 weeks");
	is_int(tl_tick_step(0, 9), S, "an empty span: the smallest step");
	for (int64_t span = S; span < 400 * D; span = span * 3 / 2 + 7) {
		int64_t step = tl_tick_step(span, 9);
		if (span / step >= 9) {
			ok(0, "span %lld: %lld ticks with step %lld", (long long)span,
			   (long long)(span / step), (long long)step);
			return;
		}
	}
	ok(1, "every span from 1 s to 400 days gets at most 9 ticks");
}

static void test_ticks(void)
{
	int64_t t[16];
	size_t n = tl_ticks(T0 + 10 * S + 1, T0 + 70 * S, 15 * S, t, 16);
	is_int(n, 4, "ticks at round 15 s within (10 s, 70 s]");
	is_int(t[0], T0 + 15 * S, "the first is the next multiple of the step");
	is_int(t[3], T0 + 60 * S, "the last within the range");
	n = tl_ticks(T0 + 15 * S, T0 + 15 * S, 15 * S, t, 16);
	is_int(n, 1, "a range of one instant on a tick: that tick");
	n = tl_ticks(T0 - 5 * H, T0 + 7 * H, 3 * H, t, 16);
	is_int(n, 4, "3-hourly ticks across midnight");
	is_int(t[1], T0, "one of them at midnight UTC");
	n = tl_ticks(T0 + 3 * D, T0 + 30 * D, 7 * D, t, 16);
	is_int(t[0], T0 + 7 * D, "weekly ticks fall on Mondays");
	is_int(n, 4, "four Mondays in those 27 days");
	is_int(tl_ticks(T0, T0 + 100 * D, S, t, 16), 100 * 86400 + 1,
	       "the count is returned even past the room given");
	is_int(tl_ticks(T0, T0 - 1, S, t, 16), 0, "an inverted range has none");
}

static void test_labels(void)
{
	char b[48];
	is_str(tl_tick_label(T0 + 10 * H + 5 * S, 5 * S, 0, b, sizeof(b)), "10:00:05",
	       "seconds' step: HH:MM:SS");
	is_str(tl_tick_label(T0 + 10 * H + 5 * M, 5 * M, 0, b, sizeof(b)), "10:05",
	       "minutes' step: HH:MM");
	is_str(tl_tick_label(T0 + 10 * H + 5 * M, 5 * M, 1, b, sizeof(b)), "Nov 30 10:05",
	       "the first tick has the date");
	is_str(tl_tick_label(T0 + D, 3 * H, 0, b, sizeof(b)), "Dec 1 00:00",
	       "midnight has the date");
	is_str(tl_tick_label(T0 + D, 2 * D, 0, b, sizeof(b)), "Dec 1", "days' step: the date");
	is_str(tl_tick_label(T0 + D, 30 * S, 0, b, sizeof(b)), "Dec 1 00:00:00",
	       "midnight in a seconds' step: date and seconds");
}

static void test_x(void)
{
	ok(tl_x(T0 + 5 * S, T0, T0 + 10 * S, 100, 200) == 200, "the middle of the range");
	ok(tl_x(T0 - S, T0, T0 + 10 * S, 100, 200) == 100, "before the range: clamped to x0");
	ok(tl_x(T0 + 11 * S, T0, T0 + 10 * S, 100, 200) == 300, "after: clamped to the end");
	ok(tl_x(T0, T0, T0, 100, 200) == 100, "an empty range does not divide by zero");
}

static void test_lanes(void)
{
	struct tl_lanes l;
	size_t len;
	const char *s;
	tl_lanes_init(&l, 3);
	long a = tl_lane(&l, 0, "198.51.100.1:443 tcp");
	long b = tl_lane(&l, 0, "198.51.100.2:443 tcp");
	long a2 = tl_lane(&l, 0, "198.51.100.1:443 tcp");
	long c1 = tl_lane(&l, 1, "198.51.100.1:443 tcp");
	ok(a >= 0 && b >= 0 && a != b, "two destinations: two lanes");
	is_int(a2, a, "the same destination again: the same lane");
	ok(c1 != a && l.v[c1].container == 1, "another container has lanes of its own");
	is_int(l.v[a].count, 2, "a lane counts its marks");
	s = tl_lane_label(&l, (size_t)b, &len);
	ok(len == 20 && memcmp(s, "198.51.100.2:443 tcp", len) == 0, "a lane's label");
	ok(tl_lanes_layout(&l) == 0, "layout");
	ok(l.v[a].slot == 0 && l.v[b].slot == 1 && l.v[a].row == (uint32_t)a &&
	   l.v[a].nrow == 1 && l.v[a].rowcount == 2,
	   "few lanes: each its own row, in order of first use");
	is_int(l.v[c1].slot, 0, "rows are numbered per container");

	/* container 2: early single connections, then a busy and a flagged destination */
	long e1 = tl_lane(&l, 2, "e1"), e2 = tl_lane(&l, 2, "e2"), e3 = tl_lane(&l, 2, "e3");
	long busy = tl_lane(&l, 2, "busy"), flagged = tl_lane(&l, 2, "flagged");
	for (int i = 0; i < 9; i++)
		tl_lane(&l, 2, "busy");
	l.v[flagged].flags = 1;
	ok(tl_lanes_layout(&l) == 0, "layout again");
	ok(l.v[flagged].nrow == 1 && l.v[busy].nrow == 1,
	   "past the maximum, the flagged and the busiest lanes keep a row");
	ok(l.v[busy].slot == 0 && l.v[flagged].slot == 1,
	   "kept rows in order of first use");
	ok(l.v[e1].row == (uint32_t)e1 && l.v[e2].row == (uint32_t)e1 &&
	   l.v[e3].row == (uint32_t)e1 && l.v[e1].slot == 2 && l.v[e3].slot == 2,
	   "the others share the last row, held by the earliest of them");
	ok(l.v[e1].nrow == 3 && l.v[e2].nrow == 0 && l.v[e1].rowcount == 3,
	   "that row says how many lanes and marks it holds");
	tl_lanes_free(&l);
}

static void test_clusters(void)
{
	struct tl_mark m[] = {
		{ .t = T0 + 500, .lane = 0, .bytes = 10, .ref = 5 },
		{ .t = T0, .lane = 0, .bytes = -1, .ref = 1 },
		{ .t = T0 + 900, .lane = 0, .bytes = 5 },
		{ .t = T0 + 5 * S, .lane = 0, .bytes = 7 },
		{ .t = T0 + 600, .lane = 1, .bytes = -1 },
		{ .t = T0 + 700, .lane = 1, .flags = 1, .bytes = -1 },
		{ .t = T0 + 800, .lane = 1, .bytes = -1 },
	};
	struct tl_cluster c[7];
	size_t n = tl_cluster(m, 7, 1000, c);
	is_int(n, 5, "7 marks, 5 clusters");
	ok(c[0].lane == 0 && c[0].count == 3 && c[0].t0 == T0 && c[0].t1 == T0 + 900,
	   "marks within the gap of the previous one merge (lane 0: 0, 0.5 s, 0.9 s)");
	is_int(c[0].bytes, 15, "a cluster sums the bytes it knows");
	is_int(c[0].ref, 1, "and refers to its first mark");
	ok(c[1].lane == 0 && c[1].count == 1 && c[1].t0 == T0 + 5 * S,
	   "a mark a gap away starts a new cluster");
	ok(c[2].lane == 1 && c[3].lane == 1 && c[4].lane == 1 && c[3].flags == 1 &&
	   c[2].count == 1 && c[3].count == 1 && c[4].count == 1,
	   "a flagged mark never merges with unflagged neighbours");
	is_int(c[2].bytes, -1, "no bytes known: -1");
	struct tl_mark chain[100];
	for (int i = 0; i < 100; i++)
		chain[i] = (struct tl_mark){ .t = T0 + i * 900, .bytes = 1 };
	struct tl_cluster cc[100];
	n = tl_cluster(chain, 100, 1000, cc);
	ok(n == 1 && cc[0].count == 100 && cc[0].t1 == T0 + 99 * 900,
	   "a dense run chains into one cluster spanning it");
	is_int(tl_cluster(chain, 0, 1000, cc), 0, "no marks, no clusters");
}

static void test_radius(void)
{
	ok(tl_radius(-1) == 3 && tl_radius(0) == 3 && tl_radius(9) == 3, "small or unknown: 3");
	ok(tl_radius(1000) == 6 && tl_radius(10000) == 7, "a step per decimal order");
	ok(tl_radius(INT64_C(1) << 40) == 9, "a terabyte stays at 9");
}

int main(void)
{
	test_steps();
	test_ticks();
	test_labels();
	test_x();
	test_lanes();
	test_clusters();
	test_radius();
	return tap_done_testing();
}
