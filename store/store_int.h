/* Private to store/: the handle and the helpers its files share (store.c: opening,
 * transactions, containers and socket writes; read.c: sockets read back; incident.c:
 * activity rows and aggregates). */
#ifndef CLAWSS_STORE_INT_H
#define CLAWSS_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>
#include "store.h"

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_CONT_FIND, S_CONT_TOUCH, S_CONT_INSERT, S_CONT_SEEN, S_CONT_END,
	S_SOCK_UPSERT, S_SOCK_UPDATE, S_SOCK_OPEN, S_SOCK_CLOSED, S_SOCK_RECALL, S_ACTIVITY, S_ACTIVITY_END,
	S_SEQ_GET, S_SEQ_PUT, S_ACTIVITY_COUNT, S_AGG_ADD, S_AGG_NEW,
	S_COUNT
};

struct store {
	struct sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	enum store_mode mode;
	int walking;             /* inside store_socket_each_open: its statement is busy */
	int depth;               /* store_begin nesting: 1 the transaction, more savepoints */
	int seq_loaded;          /* seq read in this write transaction */
	int seq_dirty;           /* seq advanced: written back before COMMIT */
	int64_t seq;             /* the change sequence's last value handed out */
	int64_t rows_written;
	int last_rc, last_errno;  /* of the last failed SQLite call: store_disk_full */
	char boot_id[40];
	char err[512];
};

/* remote_name of socket s: the name its container resolved to reach s.remote_addr
 * last before s opened, while that answer's TTL (and NAMES_GRACE_MS of report/names.h)
 * lasted: the connections view (schema.h) and export (query.c). One index seek. */
#define STORE_REMOTE_NAME_SQL \
	"(SELECT CASE WHEN s.first_seen <= n.last_seen + n.ttl * 1000 + 60000 THEN n.name END\n" \
	"   FROM names n WHERE n.container_id = s.container_id AND n.addr = s.remote_addr\n" \
	"   AND n.first_seen <= s.first_seen ORDER BY n.first_seen DESC, n.id DESC LIMIT 1)"

/* The committed change sequence: the writer's (store.c) and export's (query.c). */
#define STORE_SEQ_SQL "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'"

/* The first column of sql's first row into *out: SQLITE_ROW, SQLITE_DONE when there is
 * no row, or the error code (query.c). */
int store_sql_i64(struct sqlite3 *db, const char *sql, int64_t *out);

/* Bindings accumulate the first error, checked once before stepping. */
struct bind {
	sqlite3_stmt *s;
	int rc;
};

int store_fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_fail_db(struct store *st, const char *what);
/* The prepared statement id (prepared once, on first use); NULL after store_fail. */
sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id);
void store_bind_int(struct bind *b, int i, int64_t v);
void store_bind_opt(struct bind *b, int i, int have, int64_t v);
void store_bind_text(struct bind *b, int i, const char *t);
void store_stmt_done(sqlite3_stmt *s);
/* Steps b to the end; with id, column 0 of the first row goes there and *found says
 * whether there was one. 0 or -1 (store_errmsg). */
int store_run(struct store *st, struct bind *b, const char *what, int64_t *id, int *found);
/* A write outside store_begin..store_commit in a transaction of its own: own, then
 * end with the write's result. */
int store_txn_own(struct store *st);
int store_txn_end(struct store *st, int own, int rc);
/* Sets column ?2 of row ?1 with statement which; the row must exist. */
int store_container_set(struct store *st, enum stmt_id which, int64_t id, int64_t when,
			const char *what);

#endif
