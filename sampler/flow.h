/* The flows of one watched namespace (conntrack events, ct.h) and their join to the
 * socket table: a flow and a socket are one connection when their 5-tuples match (the
 * socket on either side of the flow) and their lives overlap. The socket's row gains
 * what it lacks (remote port, local address, bytes of an RST-closed or UDP socket) and
 * the flow's original direction; a flow no socket matches becomes a row of its own
 * (cookie in the SK_COOKIE_FLOW space, owner unknown). A flow waits for the tick after a
 * dump that followed its start before it is called socketless, so a socket the next
 * dump or destroy notification shows is found first; one flow joins at most one socket,
 * and a closed socket that had its flow takes no other (a reused tuple after TIME_WAIT
 * is another connection). */
#ifndef CLAWSS_FLOW_H
#define CLAWSS_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include "ct.h"
#include "table.h"

struct flows;

/* Whether addr is one of the namespace's own addresses (1), not (0); decides the
 * direction of a socketless flow: in only when its destination is local and its source
 * is not. NULL: every socketless flow is out. */
typedef int (*flows_local_fn)(void *arg, int family, const uint8_t *addr);

/* The row an earlier run wrote of the connection probe describes (the row a flow with
 * no socket would be), first seen up to `to` and not closed before `from`: put back in
 * the table (table_recall) and returned, or NULL. Asked only for a flow that was alive
 * before the watch began and that no socket in memory matches. */
typedef struct table_ref *(*flows_recall_fn)(void *arg, struct table *t,
					     const struct store_socket *probe, int64_t from,
					     int64_t to);

struct flows *flows_new(void);
void flows_free(struct flows *fs);
void flows_set_local(struct flows *fs, flows_local_fn fn, void *arg);
/* before: the watch's start; only a flow that began before it is recalled. */
void flows_set_recall(struct flows *fs, flows_recall_fn fn, void *arg, int64_t before);

/* A conntrack event read at now. -1 only when out of memory. */
int flows_event(struct flows *fs, const struct ctflow *f, int64_t now);
/* Once per tick, after the dump if there was one (how: FLOWS_DUMPED), before
 * table_flush: joins waiting flows, makes rows of socketless ones, applies ended flows'
 * counters. FLOWS_FINAL (the watch is leaving the namespace): a flow no socket matches
 * now is a row now. -1 when out of memory. */
#define FLOWS_DUMPED 1
#define FLOWS_FINAL 2
int flows_join(struct flows *fs, struct table *t, int64_t now, int how);
/* Flows waiting for a join: the tick must call flows_join. */
int flows_waiting(const struct flows *fs);

struct flows_stats {
	size_t live;              /* flows held (alive, or waiting to be applied) */
	uint64_t joined, own_rows, events;
	uint64_t recalled;        /* joined to a row an earlier run wrote (a restart) */
};
void flows_stats(const struct flows *fs, struct flows_stats *out);

#endif
