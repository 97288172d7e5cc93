#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns.h"
#include "store.h"

enum {
	D_COUNT_Q, D_COUNT_N, D_QUERY, D_ANSWER, D_NAME_LAST, D_NAME_TOUCH, D_NAME_NEW,
	D_BUDGET_NEW, D_BUDGET_SET, D_N
};

static const char *const sql[D_N] = {
	[D_COUNT_Q] = "SELECT count(*) FROM dns_queries WHERE container_id = ?1",
	[D_COUNT_N] = "SELECT count(*) FROM names WHERE container_id = ?1",
	[D_QUERY] =
		"INSERT INTO dns_queries (container_id, t, resolver_addr, resolver_port, proto,"
		" qname, qtype, rcode, answers, answered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" ?8, ?9, ?10) RETURNING id",
	[D_ANSWER] =
		"UPDATE dns_queries SET rcode = ?2, answers = ?3, answered_at = ?4 WHERE id = ?1",
	[D_NAME_LAST] =
		"SELECT id, name FROM names WHERE container_id = ?1 AND addr = ?2"
		" ORDER BY first_seen DESC, id DESC LIMIT 1",
	[D_NAME_TOUCH] =
		"UPDATE names SET last_seen = max(last_seen, ?2), ttl = ?3,"
		" resolver = coalesce(?4, resolver), answers = answers + 1 WHERE id = ?1",
	[D_NAME_NEW] =
		"INSERT INTO names (container_id, name, addr, first_seen, last_seen, ttl,"
		" resolver) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
	[D_BUDGET_NEW] =
		"INSERT INTO activity (container_id, kind, start, end, count, detail)"
		" VALUES (?1, 'dns-budget', ?2, ?2, ?3, ?4) RETURNING id",
	[D_BUDGET_SET] =
		"UPDATE activity SET end = max(end, ?2), count = ?3, detail = ?4 WHERE id = ?1",
};

struct store_dns {
	sqlite3 *db;
	sqlite3_stmt *s[D_N];
	char err[256];
};

struct store_dns *store_dns_new(struct store *st)
{
	struct store_dns *d = calloc(1, sizeof(*d));
	if (d)
		d->db = store_db(st);
	return d;
}

void store_dns_free(struct store_dns *d)
{
	if (!d)
		return;
	for (int i = 0; i < D_N; i++)
		sqlite3_finalize(d->s[i]);
	free(d);
}

const char *store_dns_errmsg(const struct store_dns *d)
{
	return d && d->err[0] ? d->err : "no error";
}

static int fail(struct store_dns *d, const char *what)
{
	snprintf(d->err, sizeof(d->err), "%s: %s", what, sqlite3_errmsg(d->db));
	return -1;
}

/* Prepared once, reset and unbound after each use. */
static sqlite3_stmt *get(struct store_dns *d, int i)
{
	if (!d->s[i] && sqlite3_prepare_v3(d->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					   &d->s[i], NULL) != SQLITE_OK) {
		fail(d, "prepare");
		d->s[i] = NULL;
	}
	return d->s[i];
}

static int bind_text(sqlite3_stmt *s, int i, const char *t)
{
	return t ? sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Steps to the end; column 0 of the first row into *id (when given). 1 if there was a
 * row, 0 if none, -1 on failure. */
static int run(struct store_dns *d, sqlite3_stmt *s, int bind_rc, const char *what,
	       int64_t *id)
{
	int rc, rows = 0;
	if (bind_rc != SQLITE_OK) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return fail(d, what);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (id && rows++ == 0)
			*id = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_DONE)
		fail(d, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? rows > 0 : -1;
}

static int count(struct store_dns *d, int which, int64_t cid, int64_t *out)
{
	sqlite3_stmt *s = get(d, which);
	*out = 0;
	if (!s)
		return -1;
	return run(d, s, sqlite3_bind_int64(s, 1, cid), "dns count", out) < 0 ? -1 : 0;
}

int store_dns_count(struct store_dns *d, int64_t cid, int64_t *queries, int64_t *names)
{
	return count(d, D_COUNT_Q, cid, queries) < 0 || count(d, D_COUNT_N, cid, names) < 0 ?
		-1 : 0;
}

int store_dns_query(struct store_dns *d, const struct store_dns_query *q, int64_t *rowid)
{
	sqlite3_stmt *s = get(d, D_QUERY);
	int rc = SQLITE_OK;
	if (!s)
		return -1;
	rc |= sqlite3_bind_int64(s, 1, q->container_id);
	rc |= sqlite3_bind_int64(s, 2, q->t);
	rc |= bind_text(s, 3, q->resolver_addr);
	rc |= sqlite3_bind_int(s, 4, q->resolver_port);
	rc |= bind_text(s, 5, q->proto);
	rc |= bind_text(s, 6, q->qname);
	rc |= sqlite3_bind_int(s, 7, q->qtype);
	rc |= q->rcode >= 0 ? sqlite3_bind_int(s, 8, q->rcode) : sqlite3_bind_null(s, 8);
	rc |= bind_text(s, 9, q->answers);
	rc |= q->answered_at ? sqlite3_bind_int64(s, 10, q->answered_at) : sqlite3_bind_null(s, 10);
	*rowid = 0;
	return run(d, s, rc, "dns query", rowid) < 0 ? -1 : 0;
}

int store_dns_answer(struct store_dns *d, int64_t rowid, int rcode, const char *answers,
		     int64_t t)
{
	sqlite3_stmt *s = get(d, D_ANSWER);
	int rc = SQLITE_OK;
	if (!s)
		return -1;
	rc |= sqlite3_bind_int64(s, 1, rowid);
	rc |= sqlite3_bind_int(s, 2, rcode);
	rc |= bind_text(s, 3, answers);
	rc |= sqlite3_bind_int64(s, 4, t);
	return run(d, s, rc, "dns answer", NULL) < 0 ? -1 : 0;
}

int store_dns_name(struct store_dns *d, int64_t cid, const char *name, const char *addr,
		   int64_t t, uint32_t ttl, const char *resolver, int may_insert, int *inserted)
{
	sqlite3_stmt *s = get(d, D_NAME_LAST);
	int64_t id = 0;
	int rc = SQLITE_OK, same = 0;

	*inserted = 0;
	if (!s)
		return -1;
	rc |= sqlite3_bind_int64(s, 1, cid);
	rc |= bind_text(s, 2, addr);
	if (rc != SQLITE_OK)
		return run(d, s, rc, "names", NULL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(s, 1);
		id = sqlite3_column_int64(s, 0);
		same = n && strcmp(n, name) == 0;
	}
	if (rc != SQLITE_DONE)
		fail(d, "names");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return -1;
	if (same) {
		s = get(d, D_NAME_TOUCH);
		if (!s)
			return -1;
		rc = sqlite3_bind_int64(s, 1, id);
		rc |= sqlite3_bind_int64(s, 2, t);
		rc |= sqlite3_bind_int64(s, 3, ttl);
		rc |= bind_text(s, 4, resolver);
		return run(d, s, rc, "names", NULL) < 0 ? -1 : 0;
	}
	if (!may_insert)
		return 0;
	s = get(d, D_NAME_NEW);
	if (!s)
		return -1;
	rc = sqlite3_bind_int64(s, 1, cid);
	rc |= bind_text(s, 2, name);
	rc |= bind_text(s, 3, addr);
	rc |= sqlite3_bind_int64(s, 4, t);
	rc |= sqlite3_bind_int64(s, 5, ttl);
	rc |= bind_text(s, 6, resolver);
	if (run(d, s, rc, "names", NULL) < 0)
		return -1;
	*inserted = 1;
	return 0;
}

int store_dns_budget(struct store_dns *d, int64_t cid, int64_t t, int64_t n,
		     const char *detail, int64_t *rowid)
{
	int new = *rowid == 0;
	sqlite3_stmt *s = get(d, new ? D_BUDGET_NEW : D_BUDGET_SET);
	int rc;
	if (!s)
		return -1;
	rc = sqlite3_bind_int64(s, 1, new ? cid : *rowid);
	rc |= sqlite3_bind_int64(s, 2, t);
	rc |= sqlite3_bind_int64(s, 3, n);
	rc |= bind_text(s, 4, detail);
	return run(d, s, rc, "dns budget", new ? rowid : NULL) < 0 ? -1 : 0;
}
