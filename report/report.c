#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "aggregates.h"
#include "fields.h"
#include "../lib/util.h"
#include "../lib/escape.h"
#include "../store/query.h"
#include "hmap.h"
#include "html.h"
#include "report.h"

static struct oval opt_int(int64_t v)
{
	return v < 0 ? ov_null() : ov_int(v);
}

/* ---- one row per group ---- */

/* The fields of a group's row. */
enum {
	GF_CONTAINER, GF_REMOTE, GF_REMOTE_ADDR, GF_REMOTE_PORT, GF_REMOTE_NAME, GF_PROTO,
	GF_ATTEMPTS, GF_FIRST, GF_LAST, GF_SENT, GF_RECV, GF_TSENT, GF_TRECV, GF_AFTER_IDLE,
	GF_FLAGS, GF_N,
};

/* By destination; by container, the container is the group and the destination's
 * columns are not shown (group_fields). */
static const struct ofield dest_fields[GF_N] = {
	[GF_CONTAINER] = { "container", 0 },
	[GF_REMOTE] = { "remote", OF_TABLE },
	[GF_REMOTE_NAME] = { "remote_name", OF_DATA },
	[GF_REMOTE_ADDR] = { "remote_addr", OF_DATA },
	[GF_REMOTE_PORT] = { "remote_port", OF_DATA },
	[GF_PROTO] = { "proto", OF_ALL },
	[GF_ATTEMPTS] = { "attempts", OF_ALL | OF_RIGHT },
	[GF_FIRST] = { "first_seen", OF_ALL },
	[GF_LAST] = { "last_seen", OF_ALL },
	[GF_SENT] = { "bytes_sent", OF_DATA },
	[GF_RECV] = { "bytes_received", OF_DATA },
	[GF_TSENT] = { "sent", OF_TABLE | OF_RIGHT },
	[GF_TRECV] = { "recv", OF_TABLE | OF_RIGHT },
	[GF_AFTER_IDLE] = { "after_idle", OF_ALL | OF_RIGHT },
	[GF_FLAGS] = { "flags", OF_ALL },
};

static void group_fields(struct ofield *f, enum report_by by)
{
	memcpy(f, dest_fields, sizeof(dest_fields));
	if (by != REPORT_BY_CONTAINER)
		return;
	f[GF_CONTAINER].where = OF_ALL;
	for (int i = GF_REMOTE; i <= GF_PROTO; i++)
		f[i].where = 0;
}

struct print_group {
	char *container, *remote_addr;   /* owned copies; remote_addr NULL for a name group
					    that met more than one address */
	char *remote_name;
	char *proto;                     /* owned: an aggregate's is the row's text */
	int remote_port;
	int64_t attempts, first, last, sent, recv, after_idle;
	unsigned flags;
	size_t order;
};

struct print_ctx {
	struct out *o;
	enum out_format fmt;
	enum report_by by;
	int flagged;
	struct rbuf ep1, ep2, key;
	struct hmap index;
	struct print_group *groups;
	size_t ngroups, cap;
	const struct report_query *q;
	struct hmap cindex;              /* container id -> bursts[] */
	struct cont_burst { int selected, known; int64_t end; } *bursts;
	size_t nbursts, capbursts;
	struct html_page *html;   /* html: the page's timelines, fed every row */
};

/* One row per socket. */
static int row_print(void *arg, const struct report_container *c, const struct report_row *r)
{
	struct print_ctx *x = arg;
	struct oval v[RF_N];

	if (report_row_values(v, x->fmt, c->name, r, NULL, &x->ep1, &x->ep2) < 0)
		return -1;
	if (r->flags)
		x->flagged = 1;
	return out_record(x->o, v);
}

static char *dup_or_null(const char *s, int *bad)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*bad = 1;
	return d;
}

/* r, counted attempts times (an aggregate counts many connections), after_idle of them
 * after the container's burst. */
static int group_add(struct print_ctx *x, const char *cname, const struct report_row *r,
		     int64_t attempts, int64_t after_idle)
{
	int32_t port = r->remote_port;
	int added, bad = 0;
	long g;

	rbuf_reset(&x->key);
	if (x->by == REPORT_BY_CONTAINER) {
		rbuf_puts(&x->key, cname);
	} else {
		rbuf_puts(&x->key, r->proto_name);
		rbuf_putc(&x->key, '\0');
		rbuf_put(&x->key, &port, sizeof(port));
		/* by name where the container resolved one: a CDN's addresses are one
		 * destination */
		if (r->remote_name) {
			rbuf_putc(&x->key, 'n');
			rbuf_puts(&x->key, r->remote_name);
		} else if (r->remote_addr) {
			rbuf_putc(&x->key, 'a');
			rbuf_puts(&x->key, r->remote_addr);
		} else {
			rbuf_putc(&x->key, '\0');   /* unknown differs from any address */
		}
	}
	if (x->key.oom || (g = hmap_intern(&x->index, x->key.p, x->key.len, &added)) < 0)
		goto nomem;
	if (added) {
		if (util_grow(&x->groups, &x->cap, x->ngroups + 1, sizeof(*x->groups)) < 0)
			goto nomem;
		struct print_group *n = &x->groups[x->ngroups];
		*n = (struct print_group){
			.container = dup_or_null(cname, &bad),
			.remote_addr = dup_or_null(r->remote_addr, &bad),
			.remote_name = dup_or_null(r->remote_name, &bad),
			.proto = dup_or_null(r->proto_name, &bad),
			.remote_port = r->remote_port,
			.first = r->first_seen,
			.last = r->last_seen,
			.sent = -1,
			.recv = -1,
			.order = x->ngroups,
		};
		x->ngroups++;
		if (bad)
			goto nomem;
	}
	struct print_group *grp = &x->groups[g];
	if (grp->remote_addr && r->remote_addr && strcmp(grp->remote_addr, r->remote_addr)) {
		free(grp->remote_addr);   /* a name met at several addresses */
		grp->remote_addr = NULL;
	}
	grp->attempts += attempts;
	if (r->first_seen < grp->first)
		grp->first = r->first_seen;
	if (r->last_seen > grp->last)
		grp->last = r->last_seen;
	if (r->bytes_sent >= 0)
		grp->sent = (grp->sent < 0 ? 0 : grp->sent) + r->bytes_sent;
	if (r->bytes_received >= 0)
		grp->recv = (grp->recv < 0 ? 0 : grp->recv) + r->bytes_received;
	grp->after_idle += after_idle;
	grp->flags |= r->flags;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

static int row_group(void *arg, const struct report_container *c, const struct report_row *r)
{
	return group_add(arg, c->name, r, 1, r->after_idle);
}

/* The burst of container id, made unselected when new. */
static struct cont_burst *burst_of(struct print_ctx *x, int64_t id)
{
	int added;
	long i = hmap_intern(&x->cindex, &id, sizeof(id), &added);
	if (i < 0)
		return NULL;
	if (added) {
		if (util_grow(&x->bursts, &x->capbursts, x->nbursts + 1, sizeof(*x->bursts)) < 0)
			return NULL;
		x->bursts[x->nbursts++] = (struct cont_burst){ 0, 0, 0 };
	}
	return &x->bursts[i];
}

/* Each selected container's burst, for the aggregates that follow the walk. */
static int container_note(void *arg, const struct report_container *c)
{
	struct cont_burst *b = burst_of(arg, c->id);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	*b = (struct cont_burst){ 1, c->burst_known, c->burst_end };
	return 0;
}

/* An aggregate into its group. Its connections are after the burst as a whole: with
 * --since-idle it counts when it ends after the burst (README, "Row budget"). */
static int agg_group(void *arg, const struct report_agg *a)
{
	struct print_ctx *x = arg;
	const struct cont_burst *b = burst_of(x, a->container_id);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	if (!b->selected)               /* the walk's filters left it out */
		return 0;
	int after = b->known && a->first_seen >= b->end;
	struct report_row r = {
		.proto = a->proto, .proto_name = a->proto_name, .family = a->family,
		.direction = a->direction, .remote_addr = a->remote_addr,
		.remote_port = a->remote_port, .first_seen = a->first_seen,
		.last_seen = a->last_seen, .bytes_sent = a->bytes_sent,
		.bytes_received = a->bytes_received, .flags = a->flags,
	};
	if (x->q->since_idle) {
		if (!b->known || a->last_seen < b->end)
			return 0;
		after = 1;
		r.flags |= REPORT_F_AFTER_IDLE;
	}
	return group_add(x, a->container, &r, a->count, after ? a->count : 0);
}

static int group_cmp(const void *a, const void *b)
{
	const struct print_group *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static int groups_print(struct print_ctx *x)
{
	util_qsort(x->groups, x->ngroups, sizeof(*x->groups), group_cmp);
	for (size_t i = 0; i < x->ngroups; i++) {
		const struct print_group *g = &x->groups[i];
		struct oval v[GF_N];
		v[GF_CONTAINER] = ov_str(g->container);
		v[GF_REMOTE] = g->remote_addr || g->remote_name || g->remote_port >= 0 ?
			ov_str(report_endpoint(&x->ep1, g->remote_name ? g->remote_name : g->remote_addr,
					g->remote_port)) : ov_null();
		v[GF_REMOTE_NAME] = ov_str(g->remote_name);
		v[GF_REMOTE_ADDR] = ov_str(g->remote_addr);
		v[GF_REMOTE_PORT] = opt_int(g->remote_port);
		v[GF_PROTO] = ov_str(g->proto);
		v[GF_ATTEMPTS] = ov_int(g->attempts);
		v[GF_FIRST] = ov_time(g->first);
		v[GF_LAST] = ov_time(g->last);
		v[GF_SENT] = v[GF_TSENT] = opt_int(g->sent);
		v[GF_RECV] = v[GF_TRECV] = opt_int(g->recv);
		v[GF_AFTER_IDLE] = ov_int(g->after_idle);
		v[GF_FLAGS] = ov_flags(g->flags);
		if (x->ep1.oom) {
			errno = ENOMEM;
			return -1;
		}
		if (g->flags)
			x->flagged = 1;
		if (out_record(x->o, v) < 0)
			return -1;
	}
	return 0;
}

/* html: every row to the page's timelines as well as to the table */
static int row_html(void *arg, const struct report_container *c, const struct report_row *r)
{
	struct print_ctx *x = arg;
	if (html_row(x->html, c, r) < 0)
		return -1;
	return x->by == REPORT_BY_SOCKET ? row_print(arg, c, r) : row_group(arg, c, r);
}

static int container_html(void *arg, const struct report_container *c)
{
	struct print_ctx *x = arg;
	return html_container(x->html, c);
}

/* The host the database was recorded on (meta 'host'), else "". */
static void recorded_host(struct sqlite3 *db, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	if (store_query_prepare(db, STORE_Q_HOST, &st) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static int print(struct sqlite3 *db, const struct report_query *q, enum report_by by,
		 enum out_format fmt, const char *command, FILE *f, char *err, size_t errlen)
{
	struct print_ctx x = { .by = by, .fmt = fmt, .q = q };
	struct report_walker w = { .arg = &x };
	struct ofield gfields[GF_N];
	char *tbuf = NULL, host[256];
	size_t tlen = 0;
	FILE *tf = f;
	int rc;

	if (fmt == OUT_HTML) {
		/* the table is written first, into memory, and goes after the timelines */
		recorded_host(db, host, sizeof(host));
		struct html_meta m = {
			.command = command, .host = host[0] ? host : NULL, .q = q,
			.generated = time_now_ms(),
			.table_title = by == REPORT_BY_SOCKET ? "Connections" :
				       by == REPORT_BY_DESTINATION ? "Destinations" : "Containers",
		};
		if (!(x.html = html_new(&m)) || !(tf = open_memstream(&tbuf, &tlen))) {
			html_free(x.html);
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		w.container = container_html;
	}
	if (by == REPORT_BY_SOCKET) {
		x.o = out_new(tf, fmt, report_row_fields, RF_N);
		w.row = row_print;
	} else {
		group_fields(gfields, by);
		x.o = out_new(tf, fmt, gfields, GF_N);
		w.row = row_group;
		w.container = container_note;
	}
	if (x.html)
		w.row = row_html;
	if (!x.o) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		rc = -1;
		goto out;
	}
	rc = report_walk(db, q, &w, err, errlen);
	if (rc == 0 && by != REPORT_BY_SOCKET)
		rc = report_aggregates(db, q, agg_group, &x, err, errlen);
	if (rc == 0 && by != REPORT_BY_SOCKET && groups_print(&x) < 0) {
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	if (out_end(x.o) < 0 && rc == 0) {
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
		rc = -1;
	}
out:
	if (x.html) {
		if (fclose(tf) != 0 && rc == 0) {
			snprintf(err, errlen, "output: %s", strerror(errno ? errno : ENOMEM));
			rc = -1;
		}
		if (rc == 0 && html_write(x.html, f, tbuf, tlen) < 0) {
			snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
			rc = -1;
		}
		html_free(x.html);
		free(tbuf);
	}
	for (size_t i = 0; i < x.ngroups; i++) {
		free(x.groups[i].container);
		free(x.groups[i].remote_addr);
		free(x.groups[i].remote_name);
		free(x.groups[i].proto);
	}
	free(x.groups);
	free(x.bursts);
	hmap_free(&x.index);
	hmap_free(&x.cindex);
	rbuf_free(&x.ep1);
	rbuf_free(&x.ep2);
	rbuf_free(&x.key);
	return rc < 0 ? -1 : x.flagged;
}

int report_print(struct sqlite3 *db, const struct report_query *q, enum report_by by,
		 enum out_format fmt, FILE *f, char *err, size_t errlen)
{
	return print(db, q, by, fmt, NULL, f, err, errlen);
}

int report_print_html(struct sqlite3 *db, const struct report_query *q, enum report_by by,
		      const char *command, FILE *f, char *err, size_t errlen)
{
	return print(db, q, by, OUT_HTML, command, f, err, errlen);
}
