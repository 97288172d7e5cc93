/* The SQLite store: the handle, and the prepared writes the sampler makes once per poll.
 * Opening, refusing and migrating files is open.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "open.h"
#include "store_int.h"
#include "../lib/util.h"

/* Socket statements share one parameter layout (bind_socket): ?1 container_id, ?2 cookie,
 * ?3 proto, ?4 family, ?5 direction, ?6 local_addr, ?7 local_port, ?8 remote_addr,
 * ?9 remote_port, ?10 state, ?11 first_seen, ?12 last_seen, ?13 closed_at, ?14 bytes_sent,
 * ?15 bytes_received, ?16 pid, ?17 comm, ?18 uid, ?19 inode, ?20 seen_alive, ?21 id,
 * ?22 updated (the change sequence, schema.h), ?23 flow, ?24 bytes_source (schema v3).
 * A NULL means "not told this time": it never erases what an earlier poll learnt (an
 * RST-closed socket's destroy event must not wipe the remote port a poll saw). The
 * direction is rewritten: a flow's original direction corrects a guess (flow.h). */
#define SOCK_MERGE(new) \
	"direction = " new "5, " \
	"local_addr = coalesce(" new "6, local_addr), " \
	"local_port = coalesce(" new "7, local_port), " \
	"remote_addr = coalesce(" new "8, remote_addr), " \
	"remote_port = coalesce(" new "9, remote_port), " \
	"last_seen = max(last_seen, " new "12), " \
	"closed_at = coalesce(" new "13, closed_at), " \
	"bytes_sent = coalesce(" new "14, bytes_sent), " \
	"bytes_received = coalesce(" new "15, bytes_received), " \
	"pid = coalesce(" new "16, pid), " \
	"comm = coalesce(" new "17, comm), " \
	"uid = coalesce(" new "18, uid), " \
	"inode = coalesce(" new "19, inode), " \
	"seen_alive = max(seen_alive, " new "20), " \
	"flow = coalesce(" new "23, flow), " \
	"bytes_source = coalesce(" new "24, bytes_source), " \
	"updated = " new "22"

/* What row_socket reads, in its order. */
#define SOCK_COLUMNS \
	"id, cookie, proto, family, direction, local_addr, local_port, remote_addr, " \
	"remote_port, state, first_seen, last_seen, bytes_sent, bytes_received, pid, comm, " \
	"uid, inode, seen_alive, closed_at, flow, bytes_source"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* SQLite takes the innermost savepoint of a repeated name: one name nests */
	[S_SAVEPOINT] = "SAVEPOINT nested",
	[S_RELEASE] = "RELEASE nested",
	[S_ROLLBACK_TO] = "ROLLBACK TO nested",
	[S_CONT_FIND] =
		"SELECT id FROM containers WHERE boot_id = ?1 AND netns_ino = ?2 AND name = ?3 "
		"AND ended IS NULL ORDER BY id DESC LIMIT 1",
	[S_CONT_TOUCH] =
		"UPDATE containers SET last_seen = max(last_seen, ?2), "
		"engine_id = coalesce(engine_id, ?3), image = coalesce(image, ?4), "
		"started = coalesce(started, ?5) WHERE id = ?1",
	[S_CONT_INSERT] =
		"INSERT INTO containers (name, engine_id, image, netns_ino, boot_id, started, "
		"first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
	[S_CONT_SEEN] = "UPDATE containers SET last_seen = max(last_seen, ?2) WHERE id = ?1",
	[S_CONT_END] = "UPDATE containers SET ended = coalesce(ended, ?2) WHERE id = ?1",
	[S_SOCK_UPSERT] =
		"INSERT INTO sockets (container_id, cookie, proto, family, direction, "
		"local_addr, local_port, remote_addr, remote_port, state, first_seen, last_seen, "
		"closed_at, bytes_sent, bytes_received, pid, comm, uid, inode, seen_alive, "
		"updated, flow, bytes_source) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, ?17, ?18, ?19, ?20, ?22, ?23, ?24) "
		"ON CONFLICT (container_id, cookie) DO UPDATE SET state = ?10, "
		"first_seen = min(first_seen, ?11), " SOCK_MERGE("?") " RETURNING id",
	[S_SOCK_UPDATE] =
		"UPDATE sockets SET state = ?10, " SOCK_MERGE("?") " WHERE id = ?21",
	[S_SOCK_OPEN] =
		"SELECT " SOCK_COLUMNS " FROM sockets "
		"WHERE container_id = ?1 AND closed_at IS NULL ORDER BY id",
	/* the sockets_first index bounds the walk to what opened since ?2 */
	[S_SOCK_CLOSED] =
		"SELECT " SOCK_COLUMNS " FROM sockets "
		"WHERE container_id = ?1 AND first_seen >= ?2 AND closed_at >= ?3 "
		"AND proto = 'tcp' AND local_addr IS NOT NULL AND local_port IS NOT NULL "
		"AND remote_addr IS NOT NULL AND remote_port IS NOT NULL ORDER BY id",
	/* one connection's row (store_socket_recall): the index bounds the walk to what
	 * was first seen in ?2..?3; the remote port matches, or an RST lost it */
	[S_SOCK_RECALL] =
		"SELECT " SOCK_COLUMNS " FROM sockets "
		"WHERE container_id = ?1 AND first_seen >= ?2 AND first_seen <= ?3 "
		"AND proto = ?4 AND local_port = ?5 AND remote_addr = ?6 "
		"AND (remote_port = ?7 OR remote_port IS NULL) "
		"AND (closed_at IS NULL OR closed_at >= ?8) "
		"ORDER BY remote_port IS NULL, id DESC LIMIT 1",
	[S_ACTIVITY] =
		"INSERT INTO activity (container_id, kind, start, end, count, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	[S_ACTIVITY_END] = "UPDATE activity SET end = coalesce(end, ?2) WHERE id = ?1",
	[S_SEQ_GET] = STORE_SEQ_SQL,
	[S_SEQ_PUT] = "UPDATE meta SET value = ?1 WHERE key = 'seq'",
	[S_ACTIVITY_COUNT] =
		"UPDATE activity SET end = max(coalesce(end, ?2), ?2), count = ?3 WHERE id = ?1",
	/* ?1 container_id, ?2 hour, ?3 proto, ?4 family, ?5 direction, ?6 remote_addr,
	 * ?7 remote_port, ?8 count, ?9 bytes_sent, ?10 bytes_received, ?11 first_seen,
	 * ?12 last_seen; IS matches an unknown address or port to an unknown one */
	[S_AGG_ADD] =
		"UPDATE aggregates SET count = count + ?8, "
		"bytes_sent = CASE WHEN ?9 IS NULL THEN bytes_sent ELSE coalesce(bytes_sent, 0) + ?9 END, "
		"bytes_received = CASE WHEN ?10 IS NULL THEN bytes_received "
		"ELSE coalesce(bytes_received, 0) + ?10 END, "
		"first_seen = min(first_seen, ?11), last_seen = max(last_seen, ?12) "
		"WHERE container_id = ?1 AND hour = ?2 AND proto = ?3 AND family = ?4 "
		"AND direction = ?5 AND remote_addr IS ?6 AND remote_port IS ?7",
	[S_AGG_NEW] =
		"INSERT INTO aggregates (container_id, hour, proto, family, direction, "
		"remote_addr, remote_port, count, bytes_sent, bytes_received, first_seen, "
		"last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
};

int store_fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_fail(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return -1;
}

int store_fail_db(struct store *st, const char *what)
{
	st->last_rc = sqlite3_extended_errcode(st->db);
	st->last_errno = sqlite3_system_errno(st->db);
	return store_fail(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

/* SQLite says SQLITE_FULL when it knows, and an I/O error when a write or the -shm
 * growth failed for want of space (or quota) */
int store_disk_full(const struct store *st)
{
	if (!st)
		return 0;
	return (st->last_rc & 0xff) == SQLITE_FULL ||
	       ((st->last_rc & 0xff) == SQLITE_IOERR &&
		(st->last_errno == ENOSPC || st->last_errno == EDQUOT));
}

const char *store_errmsg(const struct store *st)
{
	if (!st)
		return "no store";
	return st->err[0] ? st->err : "no error";
}

struct sqlite3 *store_db(struct store *st)
{
	return st ? st->db : NULL;
}

int64_t store_rows_written(const struct store *st)
{
	return st ? st->rows_written : 0;
}

int store_open(struct store **out, const char *path, enum store_mode mode,
	       char *err, size_t errlen)
{
	char why[400];
	struct store *st = NULL;

	*out = NULL;
	if (!path || !*path) {
		snprintf(why, sizeof(why), "empty database path");
		goto fail;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	st->mode = mode;
	if (mode == STORE_WRITE && util_boot_id_read(st->boot_id, sizeof(st->boot_id)) < 0) {
		snprintf(why, sizeof(why), "cannot read the boot id: %s", strerror(errno));
		goto fail;
	}
	if (store_open_db(&st->db, path, mode, why, sizeof(why)) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path ? path : "", why);
	free(st);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);   /* returns the last step's error, seen already */
	/* _v2: a statement report/ left unfinalized delays the close instead of leaking it. */
	sqlite3_close_v2(st->db);
	free(st);
}

/* ---- Statements --------------------------------------------------------------------- */

sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id)
{
	if (!st->stmt[id] && sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
						&st->stmt[id], NULL) != SQLITE_OK) {
		store_fail_db(st, "prepare");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

void store_bind_int(struct bind *b, int i, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->s, i, v);
}

void store_bind_opt(struct bind *b, int i, int have, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = have ? sqlite3_bind_int64(b->s, i, v) : sqlite3_bind_null(b->s, i);
}

/* SQLITE_STATIC: store_run() clears the bindings before the caller's buffers go away. */
void store_bind_text(struct bind *b, int i, const char *t)
{
	if (b->rc == SQLITE_OK)
		b->rc = t ? sqlite3_bind_text(b->s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(b->s, i);
}

void store_stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);          /* repeats the step's error, already reported */
	sqlite3_clear_bindings(s); /* always SQLITE_OK */
}

/* Steps s to the end; with id, column 0 of the first row (RETURNING, SELECT) goes there
 * and *found says whether there was one. */
int store_run(struct store *st, struct bind *b, const char *what, int64_t *id, int *found)
{
	int rc = b->rc, rows = 0;
	if (rc != SQLITE_OK) {
		store_fail_db(st, what);
		store_stmt_done(b->s);
		return -1;
	}
	while ((rc = sqlite3_step(b->s)) == SQLITE_ROW)
		if (id && rows++ == 0)
			*id = sqlite3_column_int64(b->s, 0);
	if (rc != SQLITE_DONE)
		store_fail_db(st, what);
	store_stmt_done(b->s);
	if (found)
		*found = rows > 0;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int run_simple(struct store *st, enum stmt_id id, const char *what)
{
	struct bind b = { store_stmt(st, id), SQLITE_OK };
	if (!b.s)
		return -1;
	return store_run(st, &b, what, NULL, NULL);
}

/* The change sequence lives in meta and is read once per write transaction (another
 * writer may have moved it since), advanced in memory per row written, and written back
 * just before COMMIT: one small write per transaction, not one per row. */
static void seq_forget(struct store *st)
{
	st->seq_loaded = st->seq_dirty = 0;
}

/* SQLite ends a transaction by itself on some errors (a full disk, an I/O error): then
 * nothing is open, whatever depth says. */
static int txn_open(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		st->depth = 0;
		return 0;
	}
	return st->depth > 0;
}

/* The one owner of transactions: whoever needs one calls store_begin, and a begin
 * inside an open transaction is a savepoint in it, so that a part of the tick (an
 * incident recorded while the tick's transaction is open) can neither fail for being
 * nested nor reset the change sequence the transaction is handing out. */
int store_begin(struct store *st)
{
	if (txn_open(st)) {
		if (run_simple(st, S_SAVEPOINT, "savepoint") < 0)
			return -1;
		st->depth++;
		return 0;
	}
	seq_forget(st);
	st->last_rc = st->last_errno = 0;
	if (run_simple(st, S_BEGIN, "begin") < 0)
		return -1;
	st->depth = 1;
	return 0;
}

int store_commit(struct store *st)
{
	if (txn_open(st) && st->depth > 1) {
		if (run_simple(st, S_RELEASE, "release savepoint") < 0)
			return -1;
		st->depth--;
		return 0;
	}
	if (st->seq_dirty && !sqlite3_get_autocommit(st->db)) {
		struct bind b = { store_stmt(st, S_SEQ_PUT), SQLITE_OK };
		if (!b.s)
			return -1;
		store_bind_int(&b, 1, st->seq);
		if (store_run(st, &b, "change sequence", NULL, NULL) < 0)
			return -1;
	}
	int rc = run_simple(st, S_COMMIT, "commit");
	if (rc == 0 || sqlite3_get_autocommit(st->db)) {
		seq_forget(st);
		st->depth = 0;
	}
	return rc;
}

/* Inside a savepoint, undoes the savepoint only; the outer transaction goes on. */
int store_rollback(struct store *st)
{
	if (!txn_open(st)) {
		/* SQLite may have rolled back already (an I/O error, a full disk) */
		seq_forget(st);
		return sqlite3_get_autocommit(st->db) ? 0 : run_simple(st, S_ROLLBACK, "rollback");
	}
	if (st->depth > 1) {
		char keep[sizeof(st->err)];
		memcpy(keep, st->err, sizeof(keep));
		int rc = run_simple(st, S_ROLLBACK_TO, "rollback to savepoint");
		if (rc == 0)
			rc = run_simple(st, S_RELEASE, "release savepoint");
		if (rc == 0) {
			memcpy(st->err, keep, sizeof(keep));
			st->depth--;
		}
		return rc;
	}
	seq_forget(st);
	st->depth = 0;
	return run_simple(st, S_ROLLBACK, "rollback");
}

/* The next change sequence value, for a row written in the current transaction. */
static int seq_next(struct store *st, int64_t *out)
{
	if (!st->seq_loaded) {
		struct bind b = { store_stmt(st, S_SEQ_GET), SQLITE_OK };
		int found;
		if (!b.s || store_run(st, &b, "change sequence", &st->seq, &found) < 0)
			return -1;
		if (!found)
			return store_fail(st, "change sequence: missing from meta");
		st->seq_loaded = 1;
	}
	*out = ++st->seq;
	st->seq_dirty = 1;
	return 0;
}

/* A write outside store_begin..store_commit gets a transaction of its own (so that a
 * socket's sequence value and its row commit together); inside one it joins it. 1 when
 * it began one. */
int store_txn_own(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	return store_begin(st) < 0 ? -1 : 1;
}

int store_txn_end(struct store *st, int own, int rc)
{
	if (own <= 0)
		return rc;
	if (rc == 0 && store_commit(st) == 0)
		return 0;
	char keep[sizeof(st->err)];
	memcpy(keep, st->err, sizeof(keep));
	store_rollback(st);
	memcpy(st->err, keep, sizeof(keep));
	return -1;
}

/* ---- Containers ----------------------------------------------------------------------- */

int store_container_attach(struct store *st, struct store_container *c, int64_t now)
{
	int found;
	int64_t id = 0;
	struct bind b = { store_stmt(st, S_CONT_FIND), SQLITE_OK };
	if (!c->name)
		return store_fail(st, "attach container: no name");
	if (!b.s)
		return -1;
	store_bind_text(&b, 1, st->boot_id);
	store_bind_int(&b, 2, (int64_t)c->netns_ino);
	store_bind_text(&b, 3, c->name);
	if (store_run(st, &b, "find container", &id, &found) < 0)
		return -1;
	if (found) {
		b = (struct bind){ store_stmt(st, S_CONT_TOUCH), SQLITE_OK };
		if (!b.s)
			return -1;
		store_bind_int(&b, 1, id);
		store_bind_int(&b, 2, now);
		store_bind_text(&b, 3, c->engine_id);
		store_bind_text(&b, 4, c->image);
		store_bind_opt(&b, 5, c->started != 0, c->started);
		if (store_run(st, &b, "update container", NULL, NULL) < 0)
			return -1;
		c->id = id;
		return 0;
	}
	b = (struct bind){ store_stmt(st, S_CONT_INSERT), SQLITE_OK };
	if (!b.s)
		return -1;
	store_bind_text(&b, 1, c->name);
	store_bind_text(&b, 2, c->engine_id);
	store_bind_text(&b, 3, c->image);
	store_bind_int(&b, 4, (int64_t)c->netns_ino);
	store_bind_text(&b, 5, st->boot_id);
	store_bind_opt(&b, 6, c->started != 0, c->started);
	store_bind_int(&b, 7, now);
	if (store_run(st, &b, "insert container", &id, &found) < 0)
		return -1;
	if (!found)
		return store_fail(st, "insert container: no id returned");
	c->id = id;
	return 0;
}

int store_container_set(struct store *st, enum stmt_id which, int64_t id, int64_t when,
			 const char *what)
{
	struct bind b = { store_stmt(st, which), SQLITE_OK };
	if (!b.s)
		return -1;
	store_bind_int(&b, 1, id);
	store_bind_int(&b, 2, when);
	if (store_run(st, &b, what, NULL, NULL) < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		return store_fail(st, "%s: no container %" PRId64, what, id);
	return 0;
}

int store_container_seen(struct store *st, int64_t id, int64_t now)
{
	return store_container_set(st, S_CONT_SEEN, id, now, "container seen");
}

int store_container_end(struct store *st, int64_t id, int64_t when)
{
	return store_container_set(st, S_CONT_END, id, when, "container end");
}

/* ---- Sockets ---------------------------------------------------------------------------- */

/* addr[46] buffers hold the address text until store_run() has cleared the bindings. */
static void bind_socket(struct bind *b, const struct store_socket *s, char *la, char *ra)
{
	const struct sk *k = &s->sk;
	const char *l = NULL, *r = NULL;
	if (k->have & SK_HAVE_LADDR)
		l = *sk_addr_text(k->family, k->laddr, la, INET6_ADDRSTRLEN) ? la : NULL;
	if (k->have & SK_HAVE_RADDR)
		r = *sk_addr_text(k->family, k->raddr, ra, INET6_ADDRSTRLEN) ? ra : NULL;
	if (s->remote_text)
		r = s->remote_text;
	store_bind_int(b, 1, s->container_id);
	store_bind_int(b, 2, (int64_t)k->cookie);    /* 2^63|inode cookies read back negative */
	store_bind_text(b, 3, sk_proto_name(k->proto));
	store_bind_text(b, 4, sk_family_name(k->family));
	store_bind_text(b, 5, sk_dir_name(s->direction));
	store_bind_text(b, 6, l);
	store_bind_opt(b, 7, k->have & SK_HAVE_LPORT, k->lport);
	store_bind_text(b, 8, r);
	store_bind_opt(b, 9, k->have & SK_HAVE_RPORT, k->rport);
	store_bind_int(b, 10, k->state);
	store_bind_int(b, 11, s->first_seen);
	store_bind_int(b, 12, s->last_seen);
	store_bind_opt(b, 13, s->closed_at != 0, s->closed_at);
	store_bind_opt(b, 14, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_sent);
	store_bind_opt(b, 15, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_received);
	store_bind_opt(b, 16, s->pid != 0, s->pid);
	store_bind_text(b, 17, s->comm);
	store_bind_opt(b, 18, k->have & SK_HAVE_UID, k->uid);
	store_bind_opt(b, 19, k->have & SK_HAVE_INODE, k->inode);
	store_bind_int(b, 20, s->seen_alive != 0);
	store_bind_opt(b, 23, s->flow != 0, s->flow);
	store_bind_text(b, 24, !(k->have & SK_HAVE_BYTES) ? NULL : s->bytes_flow ? "flow" : "tcp_info");
}

/* Runs which (upsert, or update of s->rowid) with s and the next change sequence value,
 * in the caller's transaction. */
static int socket_write(struct store *st, enum stmt_id which, const struct store_socket *s,
			const char *what, int64_t *id, int *found)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	struct bind b = { store_stmt(st, which), SQLITE_OK };
	int64_t seq = 0;
	if (!b.s || seq_next(st, &seq) < 0)
		return -1;
	bind_socket(&b, s, la, ra);
	if (which == S_SOCK_UPDATE)
		store_bind_int(&b, 21, s->rowid);
	store_bind_int(&b, 22, seq);
	return store_run(st, &b, what, id, found);
}

/* Inserts s, or when its (container, cookie) is already stored (a restarted watch, a
 * destroy event for a socket a poll saw), merges into that row; s->rowid is the row's. */
int store_socket_insert(struct store *st, struct store_socket *s)
{
	int found;
	int64_t id = 0;
	if (sk_proto_parse(sk_proto_name(s->sk.proto)) < 0 ||
	    sk_family_parse(sk_family_name(s->sk.family)) < 0 ||
	    sk_dir_parse(sk_dir_name(s->direction)) < 0)
		return store_fail(st, "insert socket %" PRIu64 ": unknown protocol %d, family %d or "
			    "direction %d", s->sk.cookie, s->sk.proto, s->sk.family, s->direction);
	int own = store_txn_own(st), rc = -1;
	if (own < 0)
		return -1;
	if (socket_write(st, S_SOCK_UPSERT, s, "insert socket", &id, &found) < 0)
		return store_txn_end(st, own, -1);
	if (!found) {
		store_fail(st, "insert socket: no id returned");
	} else {
		s->rowid = id;
		st->rows_written++;
		rc = 0;
	}
	return store_txn_end(st, own, rc);
}

int store_socket_update(struct store *st, const struct store_socket *s)
{
	int own = store_txn_own(st);
	if (own < 0)
		return -1;
	if (socket_write(st, S_SOCK_UPDATE, s, "update socket", NULL, NULL) < 0)
		return store_txn_end(st, own, -1);
	if (sqlite3_changes(st->db) != 1)
		return store_txn_end(st, own, 0) < 0 ? -1 : 1;   /* pruned: it stays gone */
	st->rows_written++;
	return store_txn_end(st, own, 0);
}

