/* The socket table of one watched namespace: what clawss knows is alive there, keyed by
 * socket cookie. Dumps and destroy notifications update it in memory; table_flush writes
 * only what changed (new sockets, state or address changes, closes) plus a periodic
 * refresh of last_seen and byte counts, so an unchanged socket costs no row per poll. */
#ifndef CLAWSS_TABLE_H
#define CLAWSS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "../lib/sock.h"
#include "../store/store.h"

struct table;

/* Asked for each socket seen alive for the first time that has an inode: fill pid and
 * comm (comm holds 16 bytes) or leave them 0/empty. */
typedef void (*table_owner_fn)(void *arg, uint32_t inode, int *pid, char *comm);

struct table *table_new(int64_t container_id, int64_t refresh_ms);
void table_free(struct table *t);
void table_set_owner(struct table *t, table_owner_fn fn, void *arg);

/* A TCP listener as the direction rule sees it. */
struct table_listener {
	uint8_t addr[16];         /* local address, v4-mapped folded to IPv4 */
	uint8_t family;           /* enum sk_family as dumped */
	uint8_t wildcard;         /* bound to the unspecified address of its family */
	uint16_t port;
	uint32_t first_gen;       /* dump generation that first showed it */
};

/* The socket-side direction rule, which the container must not be able to steer:
 * SKD_LISTEN for a TCP listener; SKD_IN for a TCP socket whose local port was held by
 * a listener on its exact local address, or by a wildcard listener of its family, no
 * later than the dump that first showed the socket (first_gen: a listener that appears
 * after the socket cannot make it "in"); SKD_OUT otherwise, and always for UDP (a
 * connected UDP socket is the container's own connect(): SO_REUSEADDR lets any socket
 * share a server's port). A conntrack flow's original direction, where known, is the
 * stronger word and overrides this. */
int table_direction(const struct table_listener *ls, size_t n, const struct sk *s,
		    uint32_t first_gen);

/* A socket a previous run left open in the store. */
int table_seed(struct table *t, const struct store_socket *s);
/* A TCP connection a previous run recorded closed, recently enough that its TIME_WAIT
 * remnant may still be in the kernel: the first dump folds a remnant of the same
 * 4-tuple into its row (whatever the remnant's cookie) instead of adding a row. */
int table_seed_closed(struct table *t, const struct store_socket *s);

/* A dump: begin, one table_dump_sock per socket (a diag_cb: arg is the table), end with
 * sk_complete, the kinds (1 << SK_TCP | ...) whose dumps completed: only sockets of
 * those kinds that the dump did not show are taken as gone. */
void table_dump_begin(struct table *t, int64_t now);
int table_dump_sock(void *table, const struct sk *s);
/* The same, with a remote name that is no address (a unix peer's path; NULL: none). */
int table_dump_named(struct table *t, const struct sk *s, const char *rname);
int table_dump_end(struct table *t, unsigned sk_complete);

/* A destroy notification read at now. */
int table_destroyed(struct table *t, const struct sk *s, int64_t now);
/* The target ended: every socket still open is closed at when. */
void table_close_all(struct table *t, int64_t when);

/* Row budget (flush.c): past rows_per_hour new rows in a clock hour (0: no budget),
 * new connections are counted per destination (store_aggregate_add) instead of one row
 * each, and a row-budget activity row says so. While holding (the database is full),
 * at most hold_max connections never written are kept one by one; more are aggregated
 * the same way. At most agg_max destinations are held in memory; past that a
 * connection is dropped and counted (table_stats). */
int table_set_budget(struct table *t, int64_t rows_per_hour, size_t hold_max, size_t agg_max);
void table_set_holding(struct table *t, int holding);

/* Writes the changes (inside the caller's transaction; force: also every pending
 * last_seen/bytes refresh) and forgets closed sockets that are written and cannot come
 * back as TIME_WAIT. Returns rows written or -1. Then table_flush_done with the
 * transaction's fate: committed, or failed (everything it wrote is pending again). */
int table_flush(struct table *t, struct store *st, int64_t now, int force);
void table_flush_done(struct table *t, int ok);
/* Whether table_flush would write a row now: a quiet tick needs no transaction. */
int table_flush_pending(const struct table *t, int64_t now, int force);

/* ---- For the flow join (flow.c) ----
 * An entry of the table: valid until the table_flush that forgets it, or for as long as
 * it is pinned (a joined flow still alive keeps its socket's entry, to add the flow's
 * final counters to it). */
struct table_ref;
/* Scores an entry for a flow: 0 = no match; the highest score wins. closed: the socket
 * is known gone; pins: flows still alive joined to it. */
typedef int (*table_score_fn)(void *arg, const struct store_socket *row, int closed,
			      unsigned pins);
struct table_ref *table_find(struct table *t, table_score_fn score, void *arg);
/* The entry's row, to change in place; then table_ref_changed to have it written. */
struct store_socket *table_ref_row(struct table_ref *r);
void table_ref_changed(struct table_ref *r);
void table_ref_pin(struct table_ref *r, int delta);
/* The row of a flow with no socket (row->sk.cookie in the SK_COOKIE_FLOW space): added,
 * or the one of that cookie already there (row->comm is copied). Dumps never close it:
 * table_ref_close does. */
struct table_ref *table_flow_row(struct table *t, const struct store_socket *row);
void table_ref_close(struct table *t, struct table_ref *r, int64_t when);
/* The row an earlier run wrote of the connection probe describes (store_socket_recall,
 * from..to), back in memory for the flow it belongs to (flow.c's recall): a socket's as
 * closed, a flow's own row (STORE_FLOW_ONLY) as open, for its flow's end to close; the
 * entry of its cookie if one is held (seeded at the start). *out is NULL when the store
 * has none, that entry has a flow already, or memory ran out. -1 on a store failure. */
int table_recall(struct table *t, struct store *st, const struct store_socket *probe,
		 int64_t from, int64_t to, struct table_ref **out);

struct table_stats {
	size_t entries;          /* sockets held in memory */
	size_t live;             /* of which open */
	uint64_t created;        /* sockets first seen (dump or destroy) */
	uint64_t folded;         /* TIME_WAIT entries folded into their connection */
	size_t held;             /* never written yet (pending, or held while disk full) */
	uint64_t aggregated;     /* connections counted per destination, not as rows */
	uint64_t dropped;        /* connections lost past the bound on destinations */
};
void table_stats(const struct table *t, struct table_stats *out);
/* Whether any socket is open, or a TIME_WAIT remnant is awaited: a refresh has work;
 * *listeners_only: all of them are TCP listeners (a refresh needs only those). */
int table_live(const struct table *t, int *listeners_only);
/* After table_dump_begin: this dump asks for TCP listeners only; table_dump_end takes
 * only TCP listeners it does not show as gone. */
void table_dump_listeners_only(struct table *t);

#endif
