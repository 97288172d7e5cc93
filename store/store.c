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
#include "../lib/util.h"

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_CONT_FIND, S_CONT_TOUCH, S_CONT_INSERT, S_CONT_SEEN, S_CONT_END,
	S_SOCK_UPSERT, S_SOCK_UPDATE, S_SOCK_OPEN, S_ACTIVITY, S_ACTIVITY_END,
	S_SEQ_GET, S_SEQ_PUT,
	S_COUNT
};

/* Socket statements share one parameter layout (bind_socket): ?1 container_id, ?2 cookie,
 * ?3 proto, ?4 family, ?5 direction, ?6 local_addr, ?7 local_port, ?8 remote_addr,
 * ?9 remote_port, ?10 state, ?11 first_seen, ?12 last_seen, ?13 closed_at, ?14 bytes_sent,
 * ?15 bytes_received, ?16 pid, ?17 comm, ?18 uid, ?19 inode, ?20 seen_alive, ?21 id,
 * ?22 updated (the change sequence, schema.h).
 * A NULL means "not told this time": it never erases what an earlier poll learnt (an
 * RST-closed socket's destroy event must not wipe the remote port a poll saw). */
#define SOCK_MERGE(new) \
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
	"updated = " new "22"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
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
		"updated) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, ?17, ?18, ?19, ?20, ?22) "
		"ON CONFLICT (container_id, cookie) DO UPDATE SET state = ?10, "
		"first_seen = min(first_seen, ?11), " SOCK_MERGE("?") " RETURNING id",
	[S_SOCK_UPDATE] =
		"UPDATE sockets SET state = ?10, " SOCK_MERGE("?") " WHERE id = ?21",
	[S_SOCK_OPEN] =
		"SELECT id, cookie, proto, family, direction, local_addr, local_port, "
		"remote_addr, remote_port, state, first_seen, last_seen, bytes_sent, "
		"bytes_received, pid, comm, uid, inode, seen_alive FROM sockets "
		"WHERE container_id = ?1 AND closed_at IS NULL ORDER BY id",
	[S_ACTIVITY] =
		"INSERT INTO activity (container_id, kind, start, end, count, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	[S_ACTIVITY_END] = "UPDATE activity SET end = coalesce(end, ?2) WHERE id = ?1",
	[S_SEQ_GET] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'",
	[S_SEQ_PUT] = "UPDATE meta SET value = ?1 WHERE key = 'seq'",
};

struct store {
	struct sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	enum store_mode mode;
	int walking;             /* inside store_socket_each_open: its statement is busy */
	int seq_loaded;          /* seq read in this write transaction */
	int seq_dirty;           /* seq advanced: written back before COMMIT */
	int64_t seq;             /* the change sequence's last value handed out */
	int64_t rows_written;
	char boot_id[40];
	char err[512];
};

static int fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_db(struct store *st, const char *what)
{
	return fail(st, "%s: %s", what, sqlite3_errmsg(st->db));
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
	       char *err, unsigned errlen)
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
	if (mode == STORE_WRITE && boot_id_read(st->boot_id, sizeof(st->boot_id)) < 0) {
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

static sqlite3_stmt *stmt(struct store *st, enum stmt_id id)
{
	if (!st->stmt[id] && sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
						&st->stmt[id], NULL) != SQLITE_OK) {
		fail_db(st, "prepare");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Bindings accumulate the first error, checked once before stepping. */
struct bind {
	sqlite3_stmt *s;
	int rc;
};

static void bind_int(struct bind *b, int i, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->s, i, v);
}

static void bind_opt(struct bind *b, int i, int have, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = have ? sqlite3_bind_int64(b->s, i, v) : sqlite3_bind_null(b->s, i);
}

/* SQLITE_STATIC: run() clears the bindings before the caller's buffers go away. */
static void bind_text(struct bind *b, int i, const char *t)
{
	if (b->rc == SQLITE_OK)
		b->rc = t ? sqlite3_bind_text(b->s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(b->s, i);
}

static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);          /* repeats the step's error, already reported */
	sqlite3_clear_bindings(s); /* always SQLITE_OK */
}

/* Steps s to the end; with id, column 0 of the first row (RETURNING, SELECT) goes there
 * and *found says whether there was one. */
static int run(struct store *st, struct bind *b, const char *what, int64_t *id, int *found)
{
	int rc = b->rc, rows = 0;
	if (rc != SQLITE_OK) {
		fail_db(st, what);
		stmt_done(b->s);
		return -1;
	}
	while ((rc = sqlite3_step(b->s)) == SQLITE_ROW)
		if (id && rows++ == 0)
			*id = sqlite3_column_int64(b->s, 0);
	if (rc != SQLITE_DONE)
		fail_db(st, what);
	stmt_done(b->s);
	if (found)
		*found = rows > 0;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int run_simple(struct store *st, enum stmt_id id, const char *what)
{
	struct bind b = { stmt(st, id), SQLITE_OK };
	if (!b.s)
		return -1;
	return run(st, &b, what, NULL, NULL);
}

/* The change sequence lives in meta and is read once per write transaction (another
 * writer may have moved it since), advanced in memory per row written, and written back
 * just before COMMIT: one small write per transaction, not one per row. */
static void seq_forget(struct store *st)
{
	st->seq_loaded = st->seq_dirty = 0;
}

int store_begin(struct store *st)
{
	seq_forget(st);
	return run_simple(st, S_BEGIN, "begin");
}

int store_commit(struct store *st)
{
	if (st->seq_dirty) {
		struct bind b = { stmt(st, S_SEQ_PUT), SQLITE_OK };
		if (!b.s)
			return -1;
		bind_int(&b, 1, st->seq);
		if (run(st, &b, "change sequence", NULL, NULL) < 0)
			return -1;
	}
	int rc = run_simple(st, S_COMMIT, "commit");
	if (rc == 0 || sqlite3_get_autocommit(st->db))
		seq_forget(st);
	return rc;
}

int store_rollback(struct store *st)
{
	seq_forget(st);
	/* SQLite may have rolled back already (an I/O error, a full disk). */
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return run_simple(st, S_ROLLBACK, "rollback");
}

/* The next change sequence value, for a row written in the current transaction. */
static int seq_next(struct store *st, int64_t *out)
{
	if (!st->seq_loaded) {
		struct bind b = { stmt(st, S_SEQ_GET), SQLITE_OK };
		int found;
		if (!b.s || run(st, &b, "change sequence", &st->seq, &found) < 0)
			return -1;
		if (!found)
			return fail(st, "change sequence: missing from meta");
		st->seq_loaded = 1;
	}
	*out = ++st->seq;
	st->seq_dirty = 1;
	return 0;
}

/* A socket write outside store_begin..store_commit gets a transaction of its own, so
 * that its sequence value and the row commit together. 1 when it began one. */
static int txn_own(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	return store_begin(st) < 0 ? -1 : 1;
}

static int txn_end(struct store *st, int own, int rc)
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
	struct bind b = { stmt(st, S_CONT_FIND), SQLITE_OK };
	if (!c->name)
		return fail(st, "attach container: no name");
	if (!b.s)
		return -1;
	bind_text(&b, 1, st->boot_id);
	bind_int(&b, 2, (int64_t)c->netns_ino);
	bind_text(&b, 3, c->name);
	if (run(st, &b, "find container", &id, &found) < 0)
		return -1;
	if (found) {
		b = (struct bind){ stmt(st, S_CONT_TOUCH), SQLITE_OK };
		if (!b.s)
			return -1;
		bind_int(&b, 1, id);
		bind_int(&b, 2, now);
		bind_text(&b, 3, c->engine_id);
		bind_text(&b, 4, c->image);
		bind_opt(&b, 5, c->started != 0, c->started);
		if (run(st, &b, "update container", NULL, NULL) < 0)
			return -1;
		c->id = id;
		return 0;
	}
	b = (struct bind){ stmt(st, S_CONT_INSERT), SQLITE_OK };
	if (!b.s)
		return -1;
	bind_text(&b, 1, c->name);
	bind_text(&b, 2, c->engine_id);
	bind_text(&b, 3, c->image);
	bind_int(&b, 4, (int64_t)c->netns_ino);
	bind_text(&b, 5, st->boot_id);
	bind_opt(&b, 6, c->started != 0, c->started);
	bind_int(&b, 7, now);
	if (run(st, &b, "insert container", &id, &found) < 0)
		return -1;
	if (!found)
		return fail(st, "insert container: no id returned");
	c->id = id;
	return 0;
}

static int container_set(struct store *st, enum stmt_id which, int64_t id, int64_t when,
			 const char *what)
{
	struct bind b = { stmt(st, which), SQLITE_OK };
	if (!b.s)
		return -1;
	bind_int(&b, 1, id);
	bind_int(&b, 2, when);
	if (run(st, &b, what, NULL, NULL) < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		return fail(st, "%s: no container %" PRId64, what, id);
	return 0;
}

int store_container_seen(struct store *st, int64_t id, int64_t now)
{
	return container_set(st, S_CONT_SEEN, id, now, "container seen");
}

int store_container_end(struct store *st, int64_t id, int64_t when)
{
	return container_set(st, S_CONT_END, id, when, "container end");
}

/* ---- Sockets ---------------------------------------------------------------------------- */

/* addr[46] buffers hold the address text until run() has cleared the bindings. */
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
	bind_int(b, 1, s->container_id);
	bind_int(b, 2, (int64_t)k->cookie);    /* 2^63|inode cookies read back negative */
	bind_text(b, 3, sk_proto_name(k->proto));
	bind_text(b, 4, sk_family_name(k->family));
	bind_text(b, 5, sk_dir_name(s->direction));
	bind_text(b, 6, l);
	bind_opt(b, 7, k->have & SK_HAVE_LPORT, k->lport);
	bind_text(b, 8, r);
	bind_opt(b, 9, k->have & SK_HAVE_RPORT, k->rport);
	bind_int(b, 10, k->state);
	bind_int(b, 11, s->first_seen);
	bind_int(b, 12, s->last_seen);
	bind_opt(b, 13, s->closed_at != 0, s->closed_at);
	bind_opt(b, 14, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_sent);
	bind_opt(b, 15, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_received);
	bind_opt(b, 16, s->pid != 0, s->pid);
	bind_text(b, 17, s->comm);
	bind_opt(b, 18, k->have & SK_HAVE_UID, k->uid);
	bind_opt(b, 19, k->have & SK_HAVE_INODE, k->inode);
	bind_int(b, 20, s->seen_alive != 0);
}

static int family_parse(const char *name)
{
	static const int fams[] = { SKF_IPV4, SKF_IPV6, SKF_PACKET, SKF_UNIX };
	for (size_t i = 0; name && i < sizeof(fams) / sizeof(fams[0]); i++)
		if (strcmp(name, sk_family_name(fams[i])) == 0)
			return fams[i];
	return -1;
}

static int dir_parse(const char *name)
{
	for (int d = SKD_OUT; name && d <= SKD_LISTEN; d++)
		if (strcmp(name, sk_dir_name(d)) == 0)
			return d;
	return -1;
}

/* Inserts s, or when its (container, cookie) is already stored (a restarted watch, a
 * destroy event for a socket a poll saw), merges into that row; s->rowid is the row's. */
int store_socket_insert(struct store *st, struct store_socket *s)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	int found;
	int64_t id = 0;
	if (sk_proto_parse(sk_proto_name(s->sk.proto)) < 0 ||
	    family_parse(sk_family_name(s->sk.family)) < 0 ||
	    dir_parse(sk_dir_name(s->direction)) < 0)
		return fail(st, "insert socket %" PRIu64 ": unknown protocol %d, family %d or "
			    "direction %d", s->sk.cookie, s->sk.proto, s->sk.family, s->direction);
	int own = txn_own(st), rc = -1;
	int64_t seq;
	if (own < 0)
		return -1;
	struct bind b = { stmt(st, S_SOCK_UPSERT), SQLITE_OK };
	if (!b.s || seq_next(st, &seq) < 0)
		return txn_end(st, own, -1);
	bind_socket(&b, s, la, ra);
	bind_int(&b, 22, seq);
	if (run(st, &b, "insert socket", &id, &found) < 0)
		return txn_end(st, own, -1);
	if (!found) {
		fail(st, "insert socket: no id returned");
	} else {
		s->rowid = id;
		st->rows_written++;
		rc = 0;
	}
	return txn_end(st, own, rc);
}

int store_socket_update(struct store *st, const struct store_socket *s)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	int own = txn_own(st);
	int64_t seq;
	if (own < 0)
		return -1;
	struct bind b = { stmt(st, S_SOCK_UPDATE), SQLITE_OK };
	if (!b.s || seq_next(st, &seq) < 0)
		return txn_end(st, own, -1);
	bind_socket(&b, s, la, ra);
	bind_int(&b, 21, s->rowid);
	bind_int(&b, 22, seq);
	if (run(st, &b, "update socket", NULL, NULL) < 0)
		return txn_end(st, own, -1);
	if (sqlite3_changes(st->db) != 1) {
		fail(st, "update socket: no socket row %" PRId64, s->rowid);
		return txn_end(st, own, -1);
	}
	st->rows_written++;
	return txn_end(st, own, 0);
}

/* Address text back to bytes; the same text that sk_addr_text gave (an IPv4 address of an
 * IPv6 socket comes back v4-mapped). */
static void addr_restore(int family, const unsigned char *text, uint8_t *addr, uint8_t *have,
			 uint8_t bit)
{
	const char *t = (const char *)text;
	if (!t)
		return;
	if (strchr(t, ':')) {
		if (inet_pton(AF_INET6, t, addr) == 1)
			*have |= bit;
	} else if (inet_pton(AF_INET, t, addr) == 1) {
		if (family == SKF_IPV6) {
			memmove(addr + 12, addr, 4);
			memset(addr, 0, 10);
			addr[10] = addr[11] = 0xff;
		}
		*have |= bit;
	}
}

static int col_null(sqlite3_stmt *q, int i) { return sqlite3_column_type(q, i) == SQLITE_NULL; }

static int row_socket(sqlite3_stmt *q, int64_t container_id, struct store_socket *s)
{
	struct sk *k = &s->sk;
	int proto = sk_proto_parse((const char *)sqlite3_column_text(q, 2));
	int family = family_parse((const char *)sqlite3_column_text(q, 3));
	int dir = dir_parse((const char *)sqlite3_column_text(q, 4));
	if (proto < 0 || family < 0 || dir < 0)
		return -1;
	memset(s, 0, sizeof(*s));
	s->rowid = sqlite3_column_int64(q, 0);
	s->container_id = container_id;
	k->cookie = (uint64_t)sqlite3_column_int64(q, 1);
	k->proto = (uint8_t)proto;
	k->family = (uint8_t)family;
	s->direction = dir;
	addr_restore(family, sqlite3_column_text(q, 5), k->laddr, &k->have, SK_HAVE_LADDR);
	if (!col_null(q, 6))
		k->lport = (uint16_t)sqlite3_column_int(q, 6), k->have |= SK_HAVE_LPORT;
	if (family == SKF_UNIX)
		s->remote_text = (const char *)sqlite3_column_text(q, 7);
	else
		addr_restore(family, sqlite3_column_text(q, 7), k->raddr, &k->have,
			     SK_HAVE_RADDR);
	if (!col_null(q, 8))
		k->rport = (uint16_t)sqlite3_column_int(q, 8), k->have |= SK_HAVE_RPORT;
	k->state = (uint8_t)sqlite3_column_int(q, 9);
	s->first_seen = sqlite3_column_int64(q, 10);
	s->last_seen = sqlite3_column_int64(q, 11);
	if (!col_null(q, 12) || !col_null(q, 13)) {
		k->bytes_sent = (uint64_t)sqlite3_column_int64(q, 12);
		k->bytes_received = (uint64_t)sqlite3_column_int64(q, 13);
		k->have |= SK_HAVE_BYTES;
	}
	s->pid = sqlite3_column_int(q, 14);
	s->comm = (const char *)sqlite3_column_text(q, 15);
	if (!col_null(q, 16))
		k->uid = (uint32_t)sqlite3_column_int64(q, 16), k->have |= SK_HAVE_UID;
	if (!col_null(q, 17))
		k->inode = (uint32_t)sqlite3_column_int64(q, 17), k->have |= SK_HAVE_INODE;
	s->seen_alive = sqlite3_column_int(q, 18);
	return 0;
}

/* A callback result > 0 stops the walk with success, < 0 stops it with failure. */
int store_socket_each_open(struct store *st, int64_t container_id,
			   int (*cb)(void *arg, const struct store_socket *s), void *arg)
{
	struct bind b = { stmt(st, S_SOCK_OPEN), SQLITE_OK };
	int rc = SQLITE_OK, stop = 0, ret = 0;
	if (!b.s)
		return -1;
	if (st->walking)
		return fail(st, "open sockets: walk already in progress");
	bind_int(&b, 1, container_id);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.s);
		return fail_db(st, "open sockets");
	}
	st->walking = 1;
	while (!stop && (rc = sqlite3_step(b.s)) == SQLITE_ROW) {
		struct store_socket s;
		if (row_socket(b.s, container_id, &s) < 0) {
			ret = fail(st, "open sockets: row %" PRId64 " has an unknown protocol, family "
				   "or direction", (int64_t)sqlite3_column_int64(b.s, 0));
			break;
		}
		stop = cb(arg, &s);
		if (stop < 0)
			ret = fail(st, "open sockets: stopped by the callback");
	}
	if (!stop && ret == 0 && rc != SQLITE_DONE)
		ret = fail_db(st, "open sockets");
	stmt_done(b.s);
	st->walking = 0;
	return ret;
}

/* end 0 (still going) and a negative count (not counted) are stored as NULL. */
int store_activity_open(struct store *st, int64_t container_id, const char *kind,
			int64_t start, int64_t end, int64_t count, const char *detail,
			int64_t *rowid)
{
	struct bind b = { stmt(st, S_ACTIVITY), SQLITE_OK };
	int64_t id = 0;
	int found = 0;
	if (!kind)
		return fail(st, "activity: no kind");
	if (!b.s)
		return -1;
	bind_int(&b, 1, container_id);
	bind_text(&b, 2, kind);
	bind_int(&b, 3, start);
	bind_opt(&b, 4, end != 0, end);
	bind_opt(&b, 5, count >= 0, count);
	bind_text(&b, 6, detail);
	if (run(st, &b, "activity", &id, &found) < 0)
		return -1;
	if (rowid)
		*rowid = found ? id : 0;
	return 0;
}

int store_activity(struct store *st, int64_t container_id, const char *kind,
		   int64_t start, int64_t end, int64_t count, const char *detail)
{
	return store_activity_open(st, container_id, kind, start, end, count, detail, NULL);
}

int store_activity_close(struct store *st, int64_t rowid, int64_t end)
{
	return container_set(st, S_ACTIVITY_END, rowid, end, "activity end");
}
