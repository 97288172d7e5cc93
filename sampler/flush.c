/* Writing the socket table: only what changed, within the row budget, and a journal of
 * what the open transaction wrote, so that a transaction that fails (a full disk)
 * leaves the table as if it had not been tried and the next tick writes it all again. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table_int.h"

/* How long, and how many, closed flow rows stay in memory after they are written, for a
 * late destroy notification of their socket to fold into (flow_row_of in table_fold.c). */
#define FLOW_ROW_KEEP_MS 10000
#define FLOW_ROW_KEEP_MAX 4096

/* Whether an entry is written now: a hard change at once; moved bytes and last_seen at
 * the refresh period (or when forced), and with its close. */
static int entry_due(const struct table *t, const struct entry *e, int64_t now, int force)
{
	return e->dirty ||
	       (e->soft && (e->closed || force || now - e->written_at >= t->refresh_ms));
}

int table_set_budget(struct table *t, int64_t rows_per_hour, size_t hold_max, size_t agg_max)
{
	t->budget = rows_per_hour;
	t->hold_max = hold_max;
	if (!t->aggs)
		t->aggs = aggs_new(t->container_id, agg_max);
	return t->aggs ? 0 : -1;
}

void table_set_holding(struct table *t, int holding)
{
	t->holding = holding;
}

static int journal(struct table *t, struct entry *e)
{
	if (e->jr)
		return 0;
	if (util_grow(&t->jrnl, &t->capjrnl, t->njrnl + 1, sizeof(*t->jrnl)) < 0)
		return -1;
	e->jr = 1;
	e->j_inserted = e->inserted;
	e->j_dirty = e->dirty;
	e->j_soft = e->soft;
	e->j_rowid = e->row.rowid;
	e->j_written_at = e->written_at;
	t->jrnl[t->njrnl++] = e;
	return 0;
}

static void bytes_of(const struct entry *e, int *have, uint64_t *sent, uint64_t *recv)
{
	*have = (e->row.sk.have & SK_HAVE_BYTES) != 0;
	*sent = *have ? e->row.sk.bytes_sent : 0;
	*recv = *have ? e->row.sk.bytes_received : 0;
}

/* The connection becomes a count in its destination's aggregate (or, past the bound on
 * destinations, a dropped one); it never gets a row. Final in memory: a failed
 * transaction keeps the aggregate's delta held (aggs_done) rather than redo this. */
static void aggregate(struct table *t, struct entry *e, int64_t now, int over_budget)
{
	int have;
	uint64_t sent, recv;
	bytes_of(e, &have, &sent, &recv);
	if (t->aggs && aggs_add(t->aggs, &e->row, 1, have, sent, recv) == 0) {
		e->agg = 1;
		t->aggregated++;
		if (over_budget)
			t->hour_aggregated++;
	} else {
		e->agg = 2;
		t->dropped++;
	}
	e->agg_sent = sent;
	e->agg_recv = recv;
	e->inserted = 1;
	e->dirty = e->soft = 0;
	e->written_at = now;
}

/* Bytes an aggregated connection moved since it was counted. */
static void aggregate_more(struct table *t, struct entry *e, int64_t now)
{
	int have;
	uint64_t sent, recv;
	bytes_of(e, &have, &sent, &recv);
	if (e->agg == 1 && have && (sent > e->agg_sent || recv > e->agg_recv) &&
	    aggs_add(t->aggs, &e->row, 0, 1, sent > e->agg_sent ? sent - e->agg_sent : 0,
		     recv > e->agg_recv ? recv - e->agg_recv : 0) == 0) {
		e->agg_sent = sent;
		e->agg_recv = recv;
	}
	e->dirty = e->soft = 0;
	e->written_at = now;
}

/* The row-budget incident of this hour: made when the budget is first reached, its
 * count and end moved as connections are aggregated. */
static int budget_incident(struct table *t, struct store *st, int64_t now)
{
	char detail[160];
	if (t->budget_rowid)
		return store_activity_count(st, t->budget_rowid, now, t->hour_aggregated);
	snprintf(detail, sizeof(detail), "more than %" PRId64 " new connections in the hour: "
		 "further ones counted per destination (aggregates)", t->budget);
	return store_activity_open(st, t->container_id, "row-budget", now, now,
				   t->hour_aggregated, detail, &t->budget_rowid);
}

static size_t never_written(const struct table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nall; i++)
		n += !t->all[i]->inserted;
	return n;
}

static int write_entry(struct table *t, struct entry *e, struct store *st, int64_t now)
{
	if (journal(t, e) < 0)
		return -1;
	int rc = e->inserted ? store_socket_update(st, &e->row) : store_socket_insert(st, &e->row);
	if (rc < 0)
		return -1;
	if (!e->inserted)
		t->hour_rows++;
	e->inserted = 1;
	e->dirty = e->soft = 0;
	e->written_at = now;
	return 0;
}

int table_flush(struct table *t, struct store *st, int64_t now, int force)
{
	int written = 0;
	size_t kept = 0;
	int64_t hour = now - now % AGG_HOUR_MS, aggregated = t->hour_aggregated;

	t->j_hour = t->hour;
	t->j_hour_rows = t->hour_rows;
	t->j_budget_rowid = t->budget_rowid;
	if (hour != t->hour) {
		t->hour = hour;
		t->hour_rows = t->hour_aggregated = aggregated = 0;
		t->budget_rowid = 0;
	}
	size_t unwritten = t->holding ? never_written(t) : 0;
	for (size_t i = 0; i < t->nall;) {
		struct entry *e = t->all[i];
		if (entry_due(t, e, now, force)) {
			int over_budget = t->budget > 0 && t->hour_rows >= t->budget;
			if (e->agg) {
				aggregate_more(t, e, now);
			} else if (!e->inserted && (over_budget || unwritten > t->hold_max)) {
				/* past the budget, or holding more than the bound in memory */
				aggregate(t, e, now, over_budget);
				unwritten -= unwritten > 0;
			} else {
				if (write_entry(t, e, st, now) < 0)
					return -1;
				written++;
			}
		}
		/* a closed connection stays until a dump after its close has had the chance
		 * to show its TIME_WAIT remnant, and while that remnant lives; one written in
		 * this transaction stays until it commits; a flow's own row, a while longer,
		 * for its socket's destroy notification (RCU and a workqueue stand between a
		 * socket's close and its notification: under load, more than a few ticks) */
		if (e->flow_row && e->closed && now - e->row.closed_at < FLOW_ROW_KEEP_MS &&
		    kept < FLOW_ROW_KEEP_MAX) {
			kept++;
		} else if (e->closed && !e->tw && !e->pins && e->close_gen < t->gen) {
			if (e->jr) {
				e->remove_after = 1;
			} else {
				table_entry_remove(t, e);
				continue;  /* the last entry moved into slot i */
			}
		}
		i++;
	}
	if (t->hour_aggregated != aggregated && budget_incident(t, st, now) < 0)
		return -1;
	if (t->aggs && aggs_flush(t->aggs, st) < 0)
		return -1;
	t->flushed = 1;
	return written;
}

void table_flush_done(struct table *t, int ok)
{
	for (size_t i = 0; i < t->njrnl; i++) {
		struct entry *e = t->jrnl[i];
		e->jr = 0;
		if (ok) {
			if (e->remove_after)
				table_entry_remove(t, e);
			continue;
		}
		e->remove_after = 0;
		e->inserted = e->j_inserted;
		e->dirty = e->j_dirty;
		e->soft = e->j_soft;
		e->row.rowid = e->j_rowid;
		e->written_at = e->j_written_at;
	}
	if (!ok) {
		t->hour = t->j_hour;
		t->hour_rows = t->j_hour_rows;
		t->budget_rowid = t->j_budget_rowid;
	}
	if (t->aggs && (t->flushed || !ok))
		aggs_done(t->aggs, ok);
	t->njrnl = 0;
	t->flushed = 0;
}

int table_flush_pending(const struct table *t, int64_t now, int force)
{
	for (size_t i = 0; i < t->nall; i++)
		if (entry_due(t, t->all[i], now, force))
			return 1;
	return t->aggs && aggs_held(t->aggs) > 0;
}

int table_live(const struct table *t, int *listeners_only)
{
	int live = 0;
	*listeners_only = 1;
	for (size_t i = 0; i < t->nall; i++) {
		const struct entry *e = t->all[i];
		/* a connection closed since the last dump waits for one that can show its
		 * TIME_WAIT remnant (a listeners-only dump cannot) */
		if (e->closed && !e->tw && (e->close_gen < t->gen || e->flow_row))
			continue;
		live = 1;
		if (e->closed || e->flow_row || e->row.sk.proto != SK_TCP ||
		    e->row.sk.state != SKS_LISTEN) {
			*listeners_only = 0;
			break;
		}
	}
	return live;
}

void table_stats(const struct table *t, struct table_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->entries = t->nall;
	for (size_t i = 0; i < t->nall; i++) {
		out->live += !t->all[i]->closed;
		out->held += !t->all[i]->inserted;
	}
	out->created = t->created;
	out->folded = t->folded;
	out->aggregated = t->aggregated;
	out->dropped = t->dropped;
}
