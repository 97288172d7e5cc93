/* export: what changed since a cursor, as JSON lines. Three steps, none of which holds
 * the database for long:
 *   1. hi = the committed change sequence (meta 'seq'), and the sockets with
 *      since < updated <= hi: ids only (32 bytes each);
 *   2. report's own row walker over the containers those belong to, which decides which
 *      of them are report rows (connections) and computes after_idle and flags exactly as
 *      `report --format json` does;
 *   3. those rows, read by id in cursor order and printed.
 * A row written after step 1 has updated > hi: it is skipped here (step 3 asks for the
 * updated value step 1 saw) and exported by the next run, which starts from hi. So
 * nothing is missed and no snapshot has to span the walk, which opens its own. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "../lib/escape.h"
#include "../store/query.h"
#include "export.h"
#include "fields.h"
#include "out.h"
#include "walk.h"

struct ent {
	int64_t id, updated, container;
	unsigned flags;
	unsigned char after_idle, keep;
};

struct ex {
	sqlite3 *db;
	char *err;
	size_t errlen;
	struct ent *e;
	size_t n, cap;
};

static int db_fail(struct ex *x, const char *what)
{
	snprintf(x->err, x->errlen, "database: %s: %s", what, sqlite3_errmsg(x->db));
	return -1;
}

static int oom(struct ex *x)
{
	snprintf(x->err, x->errlen, "%s", strerror(ENOMEM));
	return -1;
}

static int by_id(const void *a, const void *b)
{
	return util_cmp_i64(&((const struct ent *)a)->id, &((const struct ent *)b)->id);
}

static int by_updated(const void *a, const void *b)
{
	return util_cmp_i64(&((const struct ent *)a)->updated, &((const struct ent *)b)->updated);
}

/* Step 1: the committed sequence and the rows changed after since, up to it. */
static int changed(struct ex *x, int64_t *since, int64_t *hi, int *ahead)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_read_begin(x->db) != SQLITE_OK)
		return db_fail(x, "begin");
	rc = store_query_seq(x->db, hi);
	if (rc == 0) {
		snprintf(x->err, x->errlen, "database: no change sequence (schema older than 2)");
		goto fail;
	}
	if (rc < 0) {
		db_fail(x, "change sequence");
		goto fail;
	}
	if (*since > *hi) {
		*ahead = 1;
		*since = 0;
	}
	rc = store_query_prepare(x->db, STORE_Q_CHANGED, &s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 1, *since);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, *hi);
	if (rc != SQLITE_OK) {
		db_fail(x, "sockets");
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (util_grow(&x->e, &x->cap, x->n + 1, sizeof(*x->e)) < 0) {
			oom(x);
			goto fail;
		}
		x->e[x->n++] = (struct ent){
			.id = sqlite3_column_int64(s, QU_ID),
			.updated = sqlite3_column_int64(s, QU_UPDATED),
			.container = sqlite3_column_int64(s, QU_CONTAINER_ID),
		};
	}
	if (rc != SQLITE_DONE) {
		db_fail(x, "sockets");
		goto fail;
	}
	sqlite3_finalize(s);
	store_read_end(x->db);
	return 0;
fail:
	sqlite3_finalize(s);
	store_read_end(x->db);
	return -1;
}

/* A container name as a glob that matches only itself (report_query selects by glob). */
static char *glob_literal(const char *name)
{
	char *g = malloc(2 * strlen(name) + 1), *o = g;
	if (!g)
		return NULL;
	for (; *name; name++) {
		if (strchr("\\*?[", *name))
			*o++ = '\\';
		*o++ = *name;
	}
	*o = '\0';
	return g;
}

/* The names of the containers the changed rows belong to: the walk reads only those. */
static int container_globs(struct ex *x, char ***out, size_t *nout)
{
	int64_t *ids = malloc((x->n ? x->n : 1) * sizeof(*ids));
	char **globs = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = 0, ng = 0;
	int ret = -1;

	if (!ids)
		return oom(x);
	for (size_t i = 0; i < x->n; i++)
		ids[i] = x->e[i].container;
	util_qsort(ids, x->n, sizeof(*ids), util_cmp_i64);
	for (size_t i = 0; i < x->n; i++)
		if (i == 0 || ids[i] != ids[n - 1])
			ids[n++] = ids[i];
	globs = calloc(n + 1, sizeof(*globs));
	if (!globs) {
		oom(x);
		goto out;
	}
	if (store_query_prepare(x->db, STORE_Q_CONTAINER_NAME, &s) != SQLITE_OK) {
		db_fail(x, "containers");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(s);
		if (sqlite3_bind_int64(s, 1, ids[i]) != SQLITE_OK) {
			db_fail(x, "containers");
			goto out;
		}
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			continue;   /* pruned meanwhile */
		if (rc != SQLITE_ROW) {
			db_fail(x, "containers");
			goto out;
		}
		const char *name = (const char *)sqlite3_column_text(s, 0);
		if (!name)
			continue;
		if (!(globs[ng] = glob_literal(name))) {
			oom(x);
			goto out;
		}
		ng++;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	free(ids);
	if (ret < 0) {
		for (size_t i = 0; globs && i < ng; i++)
			free(globs[i]);
		free(globs);
		globs = NULL;
		ng = 0;
	}
	*out = globs;
	*nout = ng;
	return ret;
}

/* Step 2's callback: a report row that step 1 found changed is kept, with its flags. */
static int mark(void *arg, const struct report_container *c, const struct report_row *r)
{
	struct ex *x = arg;
	struct ent key = { .id = r->id };
	(void)c;
	struct ent *e = bsearch(&key, x->e, x->n, sizeof(*x->e), by_id);
	if (e) {
		e->keep = 1;
		e->flags = r->flags;
		e->after_idle = (unsigned char)r->after_idle;
	}
	return 0;
}

/* ---- Step 3: printing --------------------------------------------------------------- */

/* An integer column in [min, max], else (NULL too) -1: null, as report prints it. */
static int64_t col_range(sqlite3_stmt *s, int i, int64_t min, int64_t max)
{
	int64_t v = sqlite3_column_int64(s, i);
	return sqlite3_column_type(s, i) == SQLITE_NULL || v < min || v > max ? -1 : v;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* The socket as report sees it, with step 2's verdict: export prints it through
 * report's own field table (fields.h). */
static void export_row(sqlite3_stmt *s, const struct ent *e, struct report_row *r)
{
	const char *proto = col_text(s, QE_PROTO);
	int p = proto ? sk_proto_parse(proto) : -1;

	*r = (struct report_row){
		.id = e->id,
		.proto = p < 0 ? 0 : p,
		.proto_name = proto,
		.family = col_text(s, QE_FAMILY),
		.direction = col_text(s, QE_DIRECTION),
		.local_addr = col_text(s, QE_LOCAL_ADDR),
		.local_port = (int)col_range(s, QE_LOCAL_PORT, 0, INT_MAX),
		.remote_addr = col_text(s, QE_REMOTE_ADDR),
		.remote_port = (int)col_range(s, QE_REMOTE_PORT, 0, INT_MAX),
		.remote_name = col_text(s, QE_REMOTE_NAME),
		.state = sqlite3_column_int(s, QE_STATE),
		.first_seen = sqlite3_column_int64(s, QE_FIRST_SEEN),
		.last_seen = sqlite3_column_int64(s, QE_LAST_SEEN),
		.closed_at = sqlite3_column_type(s, QE_CLOSED_AT) == SQLITE_NULL ? -1 : 0,
		.bytes_sent = col_range(s, QE_BYTES_SENT, 0, INT64_MAX),
		.bytes_received = col_range(s, QE_BYTES_RECEIVED, 0, INT64_MAX),
		.pid = (int)col_range(s, QE_PID, 1, INT_MAX),
		.comm = col_text(s, QE_COMM),
		.after_idle = e->after_idle,
		.flags = e->flags,
	};
}

static int print_rows(struct ex *x, const char *host, FILE *f, int64_t *rows)
{
	sqlite3_stmt *s = NULL;
	struct out *o = out_new(f, OUT_JSONL, report_row_fields, RF_N);
	struct rbuf ep = { 0 };
	int ret = -1;

	util_qsort(x->e, x->n, sizeof(*x->e), by_updated);
	if (!o)
		return oom(x);
	if (store_read_begin(x->db) != SQLITE_OK) {
		db_fail(x, "begin");
		goto out;
	}
	if (store_query_prepare(x->db, STORE_Q_EXPORT_ROW, &s) != SQLITE_OK) {
		db_fail(x, "sockets");
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		const struct ent *e = &x->e[i];
		if (!e->keep)
			continue;
		sqlite3_reset(s);
		if (sqlite3_bind_int64(s, 1, e->id) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, e->updated) != SQLITE_OK) {
			db_fail(x, "sockets");
			goto out;
		}
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			continue;   /* changed (or pruned) since step 1: the next run has it */
		if (rc != SQLITE_ROW) {
			db_fail(x, "sockets");
			goto out;
		}
		struct report_row r;
		struct report_row_export xe = {
			.id = e->id, .cursor = e->updated, .host = host,
			.boot_id = col_text(s, QE_BOOT_ID),
		};
		struct oval v[RF_N];
		export_row(s, e, &r);
		report_row_values(v, OUT_JSONL, col_text(s, QE_CONTAINER), &r, &xe, &ep, &ep);
		if (out_record(o, v) < 0) {
			snprintf(x->err, x->errlen, "output: %s", strerror(errno ? errno : EIO));
			goto out;
		}
		(*rows)++;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	store_read_end(x->db);
	if (out_end(o) < 0 && ret == 0) {
		snprintf(x->err, x->errlen, "output: %s", strerror(errno ? errno : EIO));
		ret = -1;
	}
	rbuf_free(&ep);
	return ret;
}

int report_export(struct sqlite3 *db, const struct export_query *q, FILE *f,
		  struct export_result *r, char *err, size_t errlen)
{
	struct ex x = { .db = db, .err = err, .errlen = errlen };
	int64_t since = q->since, hi = 0;
	char **globs = NULL;
	size_t nglobs = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	if (changed(&x, &since, &hi, &r->ahead) < 0)
		goto out;
	r->next = hi;
	if (x.n == 0) {
		ret = 0;
		goto out;
	}
	if (container_globs(&x, &globs, &nglobs) < 0)
		goto out;
	util_qsort(x.e, x.n, sizeof(*x.e), by_id);
	struct report_query rq = {
		.idle = q->idle, .containers = globs, .ncontainers = nglobs,
		.since = REPORT_TIME_MIN, .until = REPORT_TIME_MAX,
	};
	struct report_walker w = { .row = mark, .arg = &x };
	if (nglobs && report_walk(db, &rq, &w, err, errlen) < 0)
		goto out;
	if (print_rows(&x, q->host, f, &r->rows) < 0)
		goto out;
	ret = 0;
out:
	if (ret == 0 && (fflush(f) != 0 || ferror(f))) {
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
		ret = -1;
	}
	for (size_t i = 0; i < nglobs; i++)
		free(globs[i]);
	free(globs);
	free(x.e);
	return ret;
}
