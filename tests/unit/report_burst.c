/* The burst/idle rule and the beacon rule on hand-made timelines. */
#include "../tap.h"
#include "../../report/burst.h"

#define S 1000
#define T0 INT64_C(1700000000000)

static int64_t end;

static int burst(const int64_t *t, size_t n, int64_t idle, int64_t horizon)
{
	end = -1;
	return report_burst_end(T0, t, n, idle, 0, horizon, &end);
}

static void test_burst(void)
{
	/* no connection at all: silent for idle after start, so the burst is empty */
	is_int(burst(NULL, 0, 30 * S, T0 + 60 * S), 1, "empty timeline, watched past idle: idle");
	is_int(end, T0 + 30 * S, "empty timeline: burst ends at start + idle");
	is_int(burst(NULL, 0, 30 * S, T0 + 10 * S), 0, "empty timeline, watched briefly: never idle");

	/* silent start: everything is after idle */
	int64_t silent[] = { T0 + 40 * S, T0 + 41 * S };
	is_int(burst(silent, 2, 30 * S, T0 + 100 * S), 1, "silent start: idle");
	is_int(end, T0 + 30 * S, "silent start: burst ends at start + idle (empty burst)");

	/* a burst, then a quiet moment shorter than idle each time: never idle */
	int64_t busy[] = { T0 + 1 * S, T0 + 20 * S, T0 + 45 * S, T0 + 70 * S };
	is_int(burst(busy, 4, 30 * S, T0 + 90 * S), 0, "never idle before the horizon");
	is_int(burst(busy, 4, 30 * S, T0 + 100 * S), 1, "idle after the last, by the horizon");
	is_int(end, T0 + 100 * S, "that burst ends at last + idle");
	is_int(burst(busy, 4, 30 * S, T0 + 100 * S - 1), 0, "horizon 1 ms short: never idle");

	/* a gap of exactly idle ends the burst; the connection at its end is after idle */
	int64_t exact[] = { T0 + 5 * S, T0 + 35 * S, T0 + 36 * S };
	is_int(burst(exact, 3, 30 * S, T0 + 40 * S), 1, "gap exactly idle: idle");
	is_int(end, T0 + 35 * S, "gap exactly idle: burst ends at the next open");
	int64_t shy[] = { T0 + 5 * S, T0 + 35 * S - 1 };
	is_int(burst(shy, 2, 30 * S, T0 + 40 * S), 0, "gap 1 ms short of idle: still in burst");

	/* several gaps: only the first counts */
	int64_t gaps[] = { T0 + 1 * S, T0 + 2 * S, T0 + 40 * S, T0 + 41 * S, T0 + 200 * S };
	is_int(burst(gaps, 5, 30 * S, T0 + 300 * S), 1, "several gaps: idle");
	is_int(end, T0 + 32 * S, "several gaps: the first gap ends the burst");

	/* the start counts: a first open later than idle after start */
	int64_t late[] = { T0 + 31 * S };
	is_int(burst(late, 1, 30 * S, T0 + 31 * S), 1, "first open after idle");
	is_int(end, T0 + 30 * S, "burst ended before the first open");

	/* an open time before the recorded start does not move the clock backwards */
	int64_t early[] = { T0 - 5 * S, T0 + 25 * S, T0 + 50 * S };
	is_int(burst(early, 3, 30 * S, T0 + 60 * S), 0, "early open: gaps measured from start");

	/* the streaming form agrees and marks rows */
	struct burst b;
	int after[5];
	burst_init(&b, T0, 30 * S, 0);
	for (int i = 0; i < 5; i++)
		after[i] = burst_feed(&b, gaps[i]);
	ok(!after[0] && !after[1] && after[2] && after[3] && after[4],
	   "burst_feed marks exactly the opens from the first gap on");
	int64_t e = 0;
	is_int(burst_result(&b, T0, &e), 1, "burst_result after a gap ignores the horizon");
	is_int(e, T0 + 32 * S, "burst_result gives the same end");

	int64_t same[] = { T0, T0, T0 };
	is_int(burst(same, 3, 1, T0 + 1), 1, "idle 1 ms, simultaneous opens");
	is_int(end, T0 + 1, "burst ends 1 ms after them");
}

static void test_burst_max(void)
{
	/* a trickle: a connection every 20 s for half an hour never leaves a 30 s gap */
	int64_t trickle[90];
	for (int i = 0; i < 90; i++)
		trickle[i] = T0 + (i + 1) * 20 * S;
	end = -1;
	is_int(report_burst_end(T0, trickle, 90, 30 * S, 0, T0 + 1800 * S, &end), 1,
	       "a trickle ends its burst at the default cap");
	is_int(end, T0 + 600 * S, "10 minutes after the start");
	is_int(report_burst_end(T0, trickle, 29, 30 * S, 0, T0 + 599 * S, &end), 0,
	       "watched (opens up to 580 s) less than the cap: never idle");
	is_int(report_burst_end(T0, trickle, 90, 30 * S, 5 * S, T0 + 1800 * S, &end), 1,
	       "--burst-max 5s");
	is_int(end, T0 + 5 * S, "ends 5 s after the start, inside the trickle");
	int64_t gap[] = { T0 + 1 * S, T0 + 40 * S };
	is_int(report_burst_end(T0, gap, 2, 30 * S, 60 * S, T0 + 100 * S, &end), 1,
	       "an idle gap before the cap");
	is_int(end, T0 + 31 * S, "the gap ends it, not the cap");
	int64_t late[] = { T0 + 20 * S, T0 + 45 * S };
	is_int(report_burst_end(T0, late, 2, 30 * S, 40 * S, T0 + 100 * S, &end), 1,
	       "cap reached while a gap was running");
	is_int(end, T0 + 40 * S, "the cap ends it before the gap would");

	struct burst b;
	burst_init(&b, T0, 30 * S, 5 * S);
	int marks = 0;
	for (int i = 0; i < 5; i++)
		marks = marks << 1 | burst_feed(&b, T0 + (int64_t)i * 1200 + 1000);
	is_int(marks, 0x1, "streaming, 1.2 s trickle, 5 s cap: only the open at 5.8 s is after it");
}

static int beacon(const int64_t *gaps, size_t ng)
{
	int64_t t[64], scratch[64];
	t[0] = T0;
	for (size_t i = 0; i < ng; i++)
		t[i + 1] = t[i] + gaps[i];
	return report_beacon(t, ng + 1, scratch);
}

static void test_beacon(void)
{
	int64_t g1[] = { 60 * S, 60 * S };
	is_int(beacon(g1, 2), 0, "3 regular connections: too few for a beacon");
	int64_t g2[] = { 60 * S, 60 * S, 60 * S };
	is_int(beacon(g2, 3), 1, "4 connections every 60s: beacon");
	int64_t g3[] = { 60 * S, 60 * S, 81 * S };
	is_int(beacon(g3, 3), 1, "few gaps: one 35%% above the median is on the beat");
	int64_t g4[] = { 60 * S, 60 * S, 81 * S + 1 };
	is_int(beacon(g4, 3), 0, "few gaps: one just over 35%% above is not");
	int64_t g5[] = { 60 * S, 39 * S, 60 * S };
	is_int(beacon(g5, 3), 1, "few gaps: one 35%% below the median is on the beat");
	int64_t g6[] = { 60 * S, 39 * S - 1, 60 * S };
	is_int(beacon(g6, 3), 0, "few gaps: one just over 35%% below is not");
	int64_t g7[] = { 1125, 1875, 1500, 1200, 1800, 1350, 1650, 1500 };
	is_int(beacon(g7, 8), 1, "+-25%% jitter around 1.5 s (issue 13): beacon");
	int64_t g8[] = { 60 * S, 30 * S, 90 * S };
	is_int(beacon(g8, 3), 0, "irregular gaps: not a beacon");
	int64_t g9[] = { 500, 500, 500, 500 };
	is_int(beacon(g9, 4), 0, "regular but faster than 1s (a parallel burst): not a beacon");
	int64_t g10[] = { 0, 0, 0 };
	is_int(beacon(g10, 3), 0, "simultaneous connections: not a beacon");
	int64_t g11[] = { 1 * S, 1 * S, 1 * S };
	is_int(beacon(g11, 3), 1, "every second exactly: beacon (the minimum period)");
	int64_t g12[40];
	for (int i = 0; i < 40; i++)
		g12[i] = 300 * S + (i % 7) * 25 * S;   /* 300..450 s */
	is_int(beacon(g12, 40), 1, "40 connections, period 375 s +-20%%: beacon");
	g12[20] = 750 * S;
	g12[30] = 20 * S;
	is_int(beacon(g12, 40), 1, "a missed beat and an extra connection do not hide it");
	int64_t poisson[] = { 3 * S, 47 * S, 12 * S, 88 * S, 5 * S, 20 * S, 61 * S, 9 * S,
			      33 * S, 140 * S, 27 * S, 2 * S, 71 * S };
	is_int(beacon(poisson, 13), 0, "exponential-looking gaps: not a beacon");
	int64_t half[12];
	for (int i = 0; i < 12; i++)
		half[i] = i % 2 ? 10 * S : 60 * S;
	is_int(beacon(half, 12), 0, "two alternating periods: not one beat");
	/* 9 of 12 gaps on the beat, but all of those below the median's band centre and
	 * the rest far out: the skew and the spread say no */
	int64_t skew[] = { 70 * S, 70 * S, 71 * S, 71 * S, 72 * S, 100 * S, 100 * S, 101 * S,
			   101 * S, 102 * S, 400 * S, 500 * S, 600 * S };
	is_int(beacon(skew, 13), 0, "a quarter of the gaps far out: not a beacon");
}

int main(void)
{
	test_burst();
	test_burst_max();
	test_beacon();
	return tap_done_testing();
}
