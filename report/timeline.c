/* The report's second pass over what the first scan kept: each selected container's
 * burst end, the beacon rule for the destination groups that may be beacons, the exec
 * rule, and the flagged counts. Sorting happens only where the streaming sums of
 * group.c were not enough. walk.c calls in here; nothing here calls walk.c. */
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "burst.h"
#include "out.h"
#include "walk.h"
#include "walk_int.h"

/* Rows are recorded about in the order they were opened: usually nothing to sort. */
static void sort_times(int64_t *t, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (t[i] < t[i - 1]) {
			qsort(t, n, sizeof(*t), util_cmp_i64);
			return;
		}
	}
}

/* Open times of the rows whose container (by_group 0) or group (1), one of nkeys, has a
 * bucket in map, bucketed by a counting sort that keeps their order:
 * times[off[b] .. off[b + 1]). A row of no group (DEST_*) has no bucket. */
static void bucket_times(const struct p1row *rows, size_t n, int by_group,
			 const uint32_t *map, size_t nkeys, size_t nb, size_t *off,
			 int64_t *times)
{
	memset(off, 0, (nb + 1) * sizeof(*off));
	for (size_t i = 0; i < n; i++) {
		uint32_t key = by_group ? rows[i].g : rows[i].c;
		if (key >= nkeys)
			continue;
		if (map[key] != UINT32_MAX)
			off[map[key] + 1]++;
	}
	for (size_t b = 0; b < nb; b++)
		off[b + 1] += off[b];
	for (size_t i = 0; i < n; i++) {
		uint32_t key = by_group ? rows[i].g : rows[i].c;
		if (key >= nkeys)
			continue;
		if (map[key] != UINT32_MAX)
			times[off[map[key]]++] = rows[i].t;
	}
	for (size_t b = nb; b > 0; b--)
		off[b] = off[b - 1];
	off[0] = 0;
}

/* Could these gaps be a beacon? The median is at most the largest gap; and a group with
 * so few gaps that every one must be on the beat needs its largest and smallest within
 * the band of one median. */
static int beacon_candidate(const struct dest_group *g)
{
	if (g->count < BEACON_MIN_COUNT)
		return 0;
	if (g->unsorted)
		return 1;
	if (g->max_gap < BEACON_MIN_PERIOD_MS || g->min_gap < 0)
		return 0;
	if (g->count - 1 > BEACON_SMALL_GAPS)
		return 1;
	return g->max_gap * (100 - BEACON_BAND_PCT) <= g->min_gap * (100 + BEACON_BAND_PCT);
}

/* The exact rules where the streaming sums were not enough: containers whose rows came
 * out of time order, and groups that may be beacons. */
static int exact(struct walk *k, int by_group, size_t nkeys)
{
	uint32_t *map = malloc((nkeys ? nkeys : 1) * sizeof(*map));
	size_t nb = 0, total = 0;
	int rc = -1;

	if (!map)
		return walk_oom(k);
	for (size_t i = 0; i < nkeys; i++) {
		int need = by_group ? beacon_candidate(&k->groups[i]) :
				      k->cs[i].selected && k->cs[i].unsorted;
		map[i] = need ? (uint32_t)nb++ : UINT32_MAX;
		if (need)
			total += by_group ? k->groups[i].count : (size_t)k->cs[i].pub.connections;
	}
	if (nb == 0) {
		free(map);
		return 0;
	}
	size_t *off = malloc((nb + 1) * sizeof(*off));
	int64_t *times = malloc(total * sizeof(*times));
	int64_t *scratch = malloc(total * sizeof(*scratch));
	if (!off || !times || !scratch) {
		walk_oom(k);
		goto out;
	}
	bucket_times(k->rows, k->nrows, by_group, map, nkeys, nb, off, times);
	for (size_t i = 0; i < nkeys; i++) {
		if (map[i] == UINT32_MAX)
			continue;
		int64_t *t = times + off[map[i]];
		size_t n = off[map[i] + 1] - off[map[i]];
		sort_times(t, n);
		if (by_group) {
			if (report_beacon(t, n, scratch))
				k->groups[i].flags |= REPORT_F_BEACON;
			continue;
		}
		/* the streaming state is void: feed the sorted times afresh */
		struct wcont *wc = &k->cs[i];
		burst_init(&wc->burst, wc->pub.start, k->q->idle, k->q->burst_max);
		for (size_t j = 0; j < n && !wc->burst.ended; j++)
			burst_feed(&wc->burst, t[j]);
	}
	rc = 0;
out:
	free(map);
	free(off);
	free(times);
	free(scratch);
	return rc;
}

/* The container talking to itself: a loopback peer (addresses are stored canonical,
 * v4-mapped as IPv4). */
static int loopback_peer(const struct walk *k, const struct p1row *p)
{
	const char *a = walk_addr_text(k, p->addr);
	return a && (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0);
}

/* The exec rule: in a container that has exec activity (an OpenClaw-style sandbox whose
 * tools run through docker exec), a connection it opened after its first exec began,
 * outside every exec window, came from something other than a tool run. So did one
 * accepted from outside the container then (a listener left behind and used later),
 * but not the accepted end of its own loopback connection, whose opening end is judged. */
int walk_outside_exec(const struct walk *k, const struct p1row *p)
{
	const struct wcont *wc = &k->cs[p->c];
	if (!wc->nxw || (p->proto != SK_TCP && p->proto != SK_UDP))
		return 0;
	if (p->dir != SKD_OUT && (p->dir != SKD_IN || loopback_peer(k, p)))
		return 0;
	const struct report_window *x = k->xw + wc->xw_off;
	if (p->t < x[0].start)
		return 0;  /* before the first exec: the container's own start-up */
	for (size_t i = 0; i < wc->nxw && x[i].start <= p->t; i++)
		if (x[i].end == INT64_MAX || p->t <= x[i].end + EXEC_GRACE_MS)
			return 0;
	return 1;
}

int walk_timelines(struct walk *k)
{
	if (exact(k, 0, k->ncs) < 0 || exact(k, 1, k->ng) < 0)
		return -1;
	for (size_t c = 0; c < k->ncs; c++) {
		struct report_container *pc = &k->cs[c].pub;
		if (k->cs[c].selected)
			pc->burst_known = burst_result(&k->cs[c].burst,
						       pc->ended >= 0 ? pc->ended : pc->last_seen,
						       &pc->burst_end);
	}
	for (size_t i = 0; i < k->nrows; i++) {
		const struct p1row *r = &k->rows[i];
		struct report_container *pc = &k->cs[r->c].pub;
		if ((pc->burst_known && r->t >= pc->burst_end) || r->g == DEST_RAW ||
		    r->g == DEST_PACKET || r->g == DEST_HOST || (r->g < k->ng && k->groups[r->g].flags) ||
		    walk_outside_exec(k, r))
			pc->flagged++;
	}
	return 0;
}
