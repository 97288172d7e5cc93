/* A full database (issue 14): the watcher holds what it could not write and keeps
 * watching; every tick tries again (watch.c), and the write that catches up records the
 * incident. */
#include <stdio.h>
#include "../lib/util.h"
#include "watch_int.h"

/* The database is full: keep watching. What is pending stays in memory (bounded:
 * table_set_budget) and every tick tries again; said once here, recorded as a disk-full
 * incident when space returns. */
void watch_hold_start(struct watch *w, int64_t now)
{
	struct table_stats ts;
	if (w->full_since)
		return;
	w->full_since = now;
	w->stats.full_incidents++;
	snprintf(w->full_why, sizeof(w->full_why), "%s", store_errmsg(w->st));
	for (struct wt *wt = w->targets; wt; wt = wt->next) {
		table_set_holding(wt->tab, 1);
		table_stats(wt->tab, &ts);
		wt->full_agg0 = ts.aggregated;
		wt->full_drop0 = ts.dropped;
	}
	watch_log(w, WLOG_WARN, "database full (%s): still watching; holding what is pending "
		  "in memory (up to %d connections per namespace one by one, more counted per "
		  "destination) and retrying every poll", w->full_why, HOLD_MAX);
}

/* Inside the transaction that wrote what was held: the incident, for one target. */
int watch_hold_incident(struct watch *w, struct wt *wt, int64_t now)
{
	struct table_stats ts;
	char detail[400];
	table_stats(wt->tab, &ts);
	snprintf(detail, sizeof(detail), "database full (%s): %d rows held in memory written "
		 "when space returned, %llu connections counted per destination, %llu dropped",
		 w->full_why, wt->tick_rows, (unsigned long long)(ts.aggregated - wt->full_agg0),
		 (unsigned long long)(ts.dropped - wt->full_drop0));
	return store_activity(w->st, wt->sc.id, "disk-full", w->full_since, now, wt->tick_rows,
			      detail);
}

void watch_hold_end(struct watch *w, int64_t now)
{
	char took[32];
	for (struct wt *wt = w->targets; wt; wt = wt->next)
		table_set_holding(wt->tab, 0);
	watch_log(w, WLOG_WARN, "database writable again after %s: what was held is written",
		  duration_format(now - w->full_since, took, sizeof(took)));
	w->full_since = 0;
}

/* A transaction failed: a full disk is held through (0), anything else ends the watch. */
int watch_txn_failed(struct watch *w, int in_txn, int64_t now)
{
	if (in_txn)
		store_rollback(w->st);
	if (!store_disk_full(w->st))
		return -1;
	watch_hold_start(w, now);
	return 0;
}


void watch_hold_lost(struct watch *w, char *err, size_t errlen)
{
	size_t held = 0;
	struct table_stats ts;
	for (struct wt *wt = w->targets; wt; wt = wt->next) {
		table_stats(wt->tab, &ts);
		held += ts.held;
	}
	snprintf(err, errlen, "database still full at exit (%s): %zu connections held in "
		 "memory were not written", w->full_why, held);
}
