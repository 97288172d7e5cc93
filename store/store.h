/* The SQLite store. Library style: functions return 0 on success and -1 on failure with
 * a message in store_errmsg(); they never print or exit. Writers use one
 * BEGIN IMMEDIATE ... COMMIT per poll; readers open the file read-only. */
#ifndef CLAWSS_STORE_H
#define CLAWSS_STORE_H

#include <stdint.h>
#include "../lib/sock.h"

struct store;
struct sqlite3;

enum store_mode {
	STORE_READ,   /* read-only; the file must exist and be a clawss database */
	STORE_WRITE,  /* create the file (and its directory, mode 0700) if missing; migrate */
};

/* Opens path. A file that is not a clawss database (wrong application_id, not SQLite,
 * truncated), or whose schema is newer than this binary knows, is refused and left
 * byte-for-byte untouched. On failure *out is NULL and err holds "path: why". */
int store_open(struct store **out, const char *path, enum store_mode mode,
	       char *err, size_t errlen);
void store_close(struct store *st);
const char *store_errmsg(const struct store *st);
/* The connection, for report/ queries (read side). */
struct sqlite3 *store_db(struct store *st);

/* Transactions have one owner, the store: BEGIN IMMEDIATE, or inside an open
 * transaction a savepoint, so callers nest freely (a tick's transaction, an incident
 * recorded during it). Commit and rollback end the innermost level; rolling back a
 * savepoint keeps the outer transaction. Every write outside store_begin..store_commit
 * (sockets, activity) is a transaction of its own. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

struct store_container {
	int64_t id;              /* set by store_container_attach */
	const char *name;
	const char *engine_id;   /* NULL when not an engine container */
	const char *image;       /* NULL when unknown */
	uint64_t netns_ino;
	int64_t started;         /* ms; 0 = unknown */
};

/* Finds the container row for (this boot, netns_ino, name) that has not ended, or
 * inserts one with first_seen = last_seen = now. Sets c->id. */
int store_container_attach(struct store *st, struct store_container *c, int64_t now);
int store_container_seen(struct store *st, int64_t id, int64_t now);
int store_container_end(struct store *st, int64_t id, int64_t when);

/* One socket row. bytes and addresses follow s->have; closed_at 0 means still open. */
struct store_socket {
	int64_t rowid;           /* set by insert; required by update */
	int64_t container_id;
	struct sk sk;
	int direction;           /* enum sk_dir */
	int64_t first_seen, last_seen, closed_at;
	int seen_alive;
	int pid;                 /* 0 = unknown */
	const char *comm;        /* NULL = unknown */
	uint8_t flow;            /* STORE_FLOW_*: what conntrack told about it; 0 = nothing */
	uint8_t bytes_flow;      /* the bytes are the flow's counters (headers included),
				    not tcp_info's payload counts */
	uint8_t bytes_partial;   /* not stored: the bytes are what a poll saw, the final
				    counts were lost (a TCP socket reset by RST) */
	const char *remote_text; /* remote_addr when it is no IP address (a unix socket's
				    peer path: family SKF_UNIX); NULL = from sk */
};
#define STORE_FLOW_ONLY 1        /* a flow with no socket: its own row, owner unknown */
#define STORE_FLOW_JOINED 2      /* a socket joined to its flow */

/* A (container_id, cookie) already stored is merged into that row, whose id is returned. */
int store_socket_insert(struct store *st, struct store_socket *s);
/* Updates state, direction, addresses, last_seen, closed_at, bytes, owner, seen_alive,
 * flow and bytes_source of s->rowid.
 * What s does not know (have bit clear, pid 0, comm NULL, closed_at 0) keeps the stored
 * value, and last_seen never goes back: insert's merge follows the same rule.
 * 1 when the row is no longer there (a prune deleted it while a watch still held the
 * connection: its flow's final counters come up to a conntrack timeout later): nothing
 * is written and nothing comes back. */
int store_socket_update(struct store *st, const struct store_socket *s);
/* Calls cb for every socket of the container that is not closed (how `sample` and a
 * restarted `watch` pick up where the last run stopped). cb returns 0 to go on; > 0 stops
 * (store_socket_each_open returns 0), < 0 stops it and it returns -1. s->comm is valid
 * during the call only. cb may write (update, insert) but not start another walk. */
int store_socket_each_open(struct store *st, int64_t container_id,
			   int (*cb)(void *arg, const struct store_socket *s), void *arg);
/* The same for TCP sockets with a full 4-tuple that opened at or after opened_since
 * and closed at or after closed_since (s->closed_at set): how a new `sample` or `watch`
 * recognises the TIME_WAIT remnant of a connection an earlier run already recorded
 * (a remnant may carry another cookie). opened_since bounds the walk
 * through the (container_id, first_seen) index. */
int store_socket_each_closed_tcp(struct store *st, int64_t container_id,
				 int64_t opened_since, int64_t closed_since,
				 int (*cb)(void *arg, const struct store_socket *s), void *arg);
/* The row of one connection an earlier run may have written, for a flow that was alive
 * before this run began (clawss restarted): the newest row of the container with
 * probe's protocol, local port and remote address, its remote port or none (RST), first
 * seen from STORE_RECALL_BACK_MS before from up to to, and not closed before from.
 * cb is called for it (as store_socket_each_open) or not at all. */
#define STORE_RECALL_BACK_MS (3600 * 1000)
int store_socket_recall(struct store *st, int64_t container_id, const struct store_socket *probe,
			int64_t from, int64_t to,
			int (*cb)(void *arg, const struct store_socket *s), void *arg);
/* Records an incident or activity window (kind "lost-events", "exec", ...). */
int store_activity(struct store *st, int64_t container_id, const char *kind,
		   int64_t start, int64_t end, int64_t count, const char *detail);
/* The same, for a window still open (end 0): *rowid identifies it for
 * store_activity_close, which sets its end (once). */
int store_activity_open(struct store *st, int64_t container_id, const char *kind,
			int64_t start, int64_t end, int64_t count, const char *detail,
			int64_t *rowid);
int store_activity_close(struct store *st, int64_t rowid, int64_t end);
/* Sets the count of an activity row and moves its end forward to end (a row-budget
 * incident grows while connections are aggregated). */
int store_activity_count(struct store *st, int64_t rowid, int64_t end, int64_t count);

/* Connections counted, not recorded one row each (schema v5): added to the row of
 * (container, hour, proto, family, direction, remote address and port), made if new.
 * sk gives proto, family, the remote end (have bits) and the bytes to add. */
struct store_aggregate {
	int64_t container_id;
	int64_t hour;            /* ms, a multiple of 3600000 */
	struct sk sk;
	int direction;
	int64_t count;
	int64_t first_seen, last_seen;
};
int store_aggregate_add(struct store *st, const struct store_aggregate *a);

/* Whether the last failure was the disk (or quota) being full: SQLITE_FULL, or an I/O
 * error with ENOSPC/EDQUOT. The watcher keeps watching then (clawss-watch(8)). */
int store_disk_full(const struct store *st);

/* ---- Retention (prune.c) ----
 * store_prune_step deletes, in short write transactions (a running watch is never held
 * up for long), what ended before cutoff:
 *   - sockets closed before it;
 *   - open sockets last seen before it whose container nothing watches any more (it
 *     ended, it is from an earlier boot, or it was itself last seen before cutoff);
 *     open sockets of other containers may be live in a watch and are kept;
 *   - activity rows that ended before it (open ones only with their container);
 *   - aggregates (connections counted per destination) last seen before it;
 *   - DNS queries seen before it, and name episodes whose last answer came before it;
 *   - containers that ended (or were last seen) before it and have nothing left;
 * then returns the freed pages to the file system (incremental vacuum, checkpoint).
 * A cutoff shorter than a running watch's --refresh could delete rows it still holds:
 * callers keep it well above (watch --retain enforces this). */
struct store_prune {
	int64_t cutoff;                        /* ms since the epoch */
	int64_t sockets, activity, containers; /* rows deleted so far */
	int64_t aggregates;
	int64_t dns;                           /* dns_queries and names rows deleted */
	int64_t freed;                         /* bytes the file shrank by (when done) */
	int full_vacuum_needed;                /* the file predates auto_vacuum=INCREMENTAL
						  (schema 1): store_prune_vacuum switches it */
	/* progress between steps */
	int phase;
	int64_t next_id, pages_before;
	char err[256];                         /* why, after -1 */
};
void store_prune_init(struct store_prune *p, int64_t cutoff);
/* One bounded step, outside any transaction: 1 when more remains, 0 when done, -1 on
 * failure (p->err). truncate_wal: end with a TRUNCATE checkpoint (the -wal file back to
 * zero bytes; waits for readers up to the busy timeout) instead of a PASSIVE one. */
int store_prune_step(struct store *st, struct store_prune *p, int truncate_wal);
/* Rewrites the whole file (VACUUM) with auto_vacuum=INCREMENTAL: once, for a file made
 * before schema 2. Holds the write lock for the whole rewrite. 0 or -1 (p->err). */
int store_prune_vacuum(struct store *st, struct store_prune *p);

/* Number of rows the store has written since open (inserts + updates): for tests and
 * benchmarks of "writes follow change". */
int64_t store_rows_written(const struct store *st);

#endif
