/* Connections counted per destination instead of one row each, for one namespace: past
 * its row budget for the hour, or while the database is full and more connections are
 * held in memory than a bound (table.c decides which). Deltas wait here until the
 * tick's transaction writes them into the aggregates table (store_aggregate_add) and
 * commits; a failed transaction keeps them for the next. At most max destinations are
 * held: past that a connection is dropped, and the caller counts it. */
#ifndef CLAWSS_AGG_H
#define CLAWSS_AGG_H

#include <stddef.h>
#include <stdint.h>
#include "../store/store.h"

#define AGG_HOUR_MS 3600000

struct aggs;

struct aggs *aggs_new(int64_t container_id, size_t max);
void aggs_free(struct aggs *a);
/* Counts count connections like row (its destination, direction, protocol) in the
 * hour of row->first_seen, adding sent/recv when have_bytes and moving the first and
 * last seen times. 0, or -1 (errno ENOSPC: max destinations held; ENOMEM). */
int aggs_add(struct aggs *a, const struct store_socket *row, int64_t count, int have_bytes,
	     uint64_t sent, uint64_t recv);
/* Writes every held delta inside the caller's transaction. */
int aggs_flush(struct aggs *a, struct store *st);
/* After the transaction: committed (ok) forgets what was written; else it stays held. */
void aggs_done(struct aggs *a, int ok);
/* Destinations held now. */
size_t aggs_held(const struct aggs *a);

#endif
