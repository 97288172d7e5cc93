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
/* The namespace's ephemeral port range, for the direction of sockets seen only at their
 * destruction (their listener may be gone too). */
void table_set_ephemeral(struct table *t, uint16_t lo, uint16_t hi);

/* A socket a previous run left open in the store. */
int table_seed(struct table *t, const struct store_socket *s);

/* A dump: begin, one table_dump_sock per socket (a diag_cb: arg is the table), end with
 * the set of kinds (1 << SK_TCP | ...) whose dumps completed: only sockets of those kinds
 * that the dump did not show are taken as gone. */
void table_dump_begin(struct table *t, int64_t now);
int table_dump_sock(void *table, const struct sk *s);
/* The same, with a remote name that is no address (a unix peer's path; NULL: none). */
int table_dump_named(struct table *t, const struct sk *s, const char *rname);
int table_dump_end(struct table *t, unsigned kinds_complete);

/* A destroy notification read at now. */
int table_destroyed(struct table *t, const struct sk *s, int64_t now);
/* The target ended: every socket still open is closed at when. */
void table_close_all(struct table *t, int64_t when);

/* Writes the changes (inside the caller's transaction; force: also every pending
 * last_seen/bytes refresh) and forgets closed sockets that
 * are written and cannot come back as TIME_WAIT. Returns rows written or -1. */
int table_flush(struct table *t, struct store *st, int64_t now, int force);
/* Whether table_flush would write a row now: a quiet tick needs no transaction. */
int table_flush_pending(const struct table *t, int64_t now, int force);

struct table_stats {
	size_t entries;          /* sockets held in memory */
	size_t live;             /* of which open */
	uint64_t created;        /* sockets first seen (dump or destroy) */
	uint64_t folded;         /* TIME_WAIT entries folded into their connection */
};
void table_stats(const struct table *t, struct table_stats *out);

#endif
