/* Retention: deleting what ended long ago, in short write transactions, and giving the
 * space back to the file system. Works through store_db() on the writer's connection;
 * the rules are in store.h (store_prune_step). */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "../lib/util.h"

/* Rows examined per write transaction: a running watch waits at most a few
 * milliseconds for the lock (its busy timeout is seconds). */
#define PRUNE_BATCH 2000
#define VACUUM_PAGES "1000"    /* pages returned per step */

enum { P_SOCKETS, P_ACTIVITY, P_AGGREGATES, P_DNS, P_NAMES, P_CONTAINERS, P_VACUUM, P_CHECKPOINT,
       P_DONE };

/* A container nothing watches any more: it ended, it belongs to an earlier boot, or no
 * watch or sample has touched it since the cutoff (a watch refreshes last_seen every
 * --refresh period). Open rows of other containers may be live in a running watch's
 * memory and are never deleted. */
#define DEAD_CONTAINERS \
	"SELECT id FROM containers WHERE ended IS NOT NULL OR boot_id != ?3 OR last_seen < ?1"

static const char batch_end_sql[] =
	"SELECT id FROM sockets WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2";

/* ?1 cutoff, ?2 first id, ?3 boot id, ?4 last id */
static const char sockets_sql[] =
	"DELETE FROM sockets WHERE id >= ?2 AND id <= ?4 AND (closed_at < ?1 OR"
	" (closed_at IS NULL AND last_seen < ?1 AND container_id IN (" DEAD_CONTAINERS ")))";

/* ?1 cutoff, ?2 batch, ?3 boot id; an activity window still open (an exec running) is
 * kept while its container may be watched */
static const char activity_sql[] =
	"DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE \"end\" < ?1 OR"
	" (\"end\" IS NULL AND start < ?1 AND container_id IN (" DEAD_CONTAINERS "))"
	" LIMIT ?2)";

/* ?1 cutoff, ?2 batch: connections counted per destination (schema v5) last seen
 * before the cutoff, as their rows would have been */
static const char aggregates_sql[] =
	"DELETE FROM aggregates WHERE id IN (SELECT id FROM aggregates WHERE last_seen < ?1"
	" LIMIT ?2)";
/* ?1 cutoff, ?2 batch: DNS queries seen before the cutoff, and name episodes whose last
 * answer came before it (they can only name connections that are being deleted too, but
 * for the TTL and grace past their end). The watcher's budget counts (sampler/dnsw.c)
 * are not given back until it restarts: deleting frees the disk, not the budget. */
static const char dns_sql[] =
	"DELETE FROM dns_queries WHERE id IN (SELECT id FROM dns_queries WHERE t < ?1 LIMIT ?2)";
static const char names_sql[] =
	"DELETE FROM names WHERE id IN (SELECT id FROM names WHERE last_seen < ?1 LIMIT ?2)";

/* ?1 cutoff, ?2 batch */
static const char containers_sql[] =
	"DELETE FROM containers WHERE id IN (SELECT c.id FROM containers c"
	" WHERE coalesce(c.ended, c.last_seen) < ?1"
	" AND NOT EXISTS (SELECT 1 FROM sockets s WHERE s.container_id = c.id)"
	" AND NOT EXISTS (SELECT 1 FROM activity a WHERE a.container_id = c.id)"
	" AND NOT EXISTS (SELECT 1 FROM aggregates g WHERE g.container_id = c.id) LIMIT ?2)";

static int prune_fail(struct store_prune *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int prune_fail(struct store_prune *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int db_fail(struct store_prune *p, sqlite3 *db, const char *what)
{
	return prune_fail(p, "prune: %s: %s", what, sqlite3_errmsg(db));
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	return store_sql_i64(db, sql, out) == SQLITE_ROW ? 0 : -1;
}

void store_prune_init(struct store_prune *p, int64_t cutoff)
{
	memset(p, 0, sizeof(*p));
	p->cutoff = cutoff;
	p->pages_before = -1;
}

/* Runs sql bound to (cutoff, a, boot, b) in one BEGIN IMMEDIATE ... COMMIT; the number
 * of rows deleted in *n. */
static int delete_txn(struct store_prune *p, sqlite3 *db, const char *sql, const char *what,
		      int64_t a, int64_t b, const char *boot, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(p, db, what);
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 1, p->cutoff);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, a);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(s) >= 3)
		rc = sqlite3_bind_text(s, 3, boot, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(s) >= 4)
		rc = sqlite3_bind_int64(s, 4, b);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc == SQLITE_OK) {
		*n = sqlite3_changes(db);
		sqlite3_finalize(s);
		s = NULL;
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
			return 0;
	}
	db_fail(p, db, what);
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* The last socket id of the batch starting at from; INT64_MAX when this is the last. */
static int batch_end(struct store_prune *p, sqlite3 *db, int64_t from, int64_t *to)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, batch_end_sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 1, from);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, PRUNE_BATCH - 1);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*to = sqlite3_column_int64(s, 0);
		else if (rc == SQLITE_DONE)
			*to = INT64_MAX;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : db_fail(p, db, "sockets");
}

/* The phases that delete in batches of PRUNE_BATCH until one comes back short. */
static const struct batch_phase {
	const char *sql, *what;
	size_t count;             /* offset of its counter in struct store_prune */
	int optional;             /* a table a database from before names (schema < 4) lacks */
	int next;
} batch_phases[] = {
	{ activity_sql, "activity", offsetof(struct store_prune, activity), 0, P_AGGREGATES },
	{ aggregates_sql, "aggregates", offsetof(struct store_prune, aggregates), 0, P_DNS },
	{ dns_sql, "dns_queries", offsetof(struct store_prune, dns), 1, P_NAMES },
	{ names_sql, "names", offsetof(struct store_prune, dns), 1, P_CONTAINERS },
	{ containers_sql, "containers", offsetof(struct store_prune, containers), 0, P_VACUUM },
};

static int batch_step(struct store_prune *p, sqlite3 *db, const char *boot)
{
	const struct batch_phase *b = &batch_phases[p->phase - P_ACTIVITY];
	int64_t n = 0;
	if (delete_txn(p, db, b->sql, b->what, PRUNE_BATCH, 0, boot, &n) < 0) {
		if (!b->optional || !strstr(p->err, "no such table"))
			return -1;
		p->err[0] = '\0';
		n = 0;
	}
	*(int64_t *)((char *)p + b->count) += n;
	if (n < PRUNE_BATCH)
		p->phase = b->next;
	return 1;
}

/* Sockets go by id range, so that each batch is one seek whatever was deleted before. */
static int sockets_step(struct store_prune *p, sqlite3 *db, const char *boot)
{
	int64_t to = INT64_MAX, n = 0;
	if (batch_end(p, db, p->next_id, &to) < 0 ||
	    delete_txn(p, db, sockets_sql, "sockets", p->next_id, to, boot, &n) < 0)
		return -1;
	p->sockets += n;
	if (to == INT64_MAX)
		p->phase = P_ACTIVITY;
	else
		p->next_id = to + 1;
	return 1;
}

static int vacuum_step(struct store_prune *p, sqlite3 *db)
{
	int64_t v;
	if (pragma_int(db, "PRAGMA auto_vacuum", &v) < 0)
		return db_fail(p, db, "auto_vacuum");
	if (v != 2) {
		/* a file made before schema 2: only a full VACUUM can switch it */
		p->full_vacuum_needed = 1;
		p->phase = P_CHECKPOINT;
		return 1;
	}
	if (pragma_int(db, "PRAGMA freelist_count", &v) < 0)
		return db_fail(p, db, "freelist_count");
	if (v == 0) {
		p->phase = P_CHECKPOINT;
		return 1;
	}
	if (sqlite3_exec(db, "PRAGMA incremental_vacuum(" VACUUM_PAGES ")", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_fail(p, db, "incremental_vacuum");
	return 1;
}

static int checkpoint_step(struct store_prune *p, sqlite3 *db, int truncate_wal)
{
	int64_t pages, size;
	/* In WAL mode the file shrinks when the vacuumed pages are checkpointed. A reader
	 * in the way (busy) leaves that to a later checkpoint: not an error. */
	sqlite3_wal_checkpoint_v2(db, NULL, truncate_wal ? SQLITE_CHECKPOINT_TRUNCATE :
				  SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (pragma_int(db, "PRAGMA page_count", &pages) < 0 ||
	    pragma_int(db, "PRAGMA page_size", &size) < 0)
		return db_fail(p, db, "page_count");
	p->freed = pages < p->pages_before ? (p->pages_before - pages) * size : 0;
	p->phase = P_DONE;
	return 0;
}

int store_prune_step(struct store *st, struct store_prune *p, int truncate_wal)
{
	sqlite3 *db = store_db(st);
	char boot[40];

	if (!db)
		return prune_fail(p, "prune: no database");
	if (util_boot_id_read(boot, sizeof(boot)) < 0)
		return prune_fail(p, "prune: cannot read the boot id: %s", strerror(errno));
	if (!sqlite3_get_autocommit(db))
		return prune_fail(p, "prune: called inside a transaction");
	if (p->pages_before < 0 && pragma_int(db, "PRAGMA page_count", &p->pages_before) < 0)
		return db_fail(p, db, "page_count");
	switch (p->phase) {
	case P_SOCKETS:
		return sockets_step(p, db, boot);
	case P_ACTIVITY:
	case P_AGGREGATES:
	case P_DNS:
	case P_NAMES:
	case P_CONTAINERS:
		return batch_step(p, db, boot);
	case P_VACUUM:
		return vacuum_step(p, db);
	case P_CHECKPOINT:
		return checkpoint_step(p, db, truncate_wal);
	default:
		return 0;
	}
}

int store_prune_vacuum(struct store *st, struct store_prune *p)
{
	sqlite3 *db = store_db(st);
	int64_t before, after, size;
	if (pragma_int(db, "PRAGMA page_count", &before) < 0 ||
	    pragma_int(db, "PRAGMA page_size", &size) < 0)
		return db_fail(p, db, "page_count");
	if (sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(p, db, "vacuum");
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (pragma_int(db, "PRAGMA page_count", &after) < 0)
		return db_fail(p, db, "page_count");
	if (after < before)
		p->freed += (before - after) * size;
	p->full_vacuum_needed = 0;
	return 0;
}
