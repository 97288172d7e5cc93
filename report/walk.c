#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "burst.h"
#include "../lib/escape.h"
#include "../store/query.h"
#include "hmap.h"
#include "out.h"
#include "walk.h"
#include "walk_int.h"


static int db_fail(struct walk *k, const char *what)
{
	snprintf(k->err, k->errlen, "database: %s: %s", what, sqlite3_errmsg(k->db));
	return -1;
}


/* One API call, not two: the value is only read here, by this one thread (what
 * SQLite asks of an unprotected sqlite3_value). */
static int64_t col_i64(sqlite3_stmt *st, int i, int64_t null)
{
	sqlite3_value *v = sqlite3_column_value(st, i);
	return sqlite3_value_type(v) == SQLITE_NULL ? null : sqlite3_value_int64(v);
}

static int col_port(sqlite3_stmt *st, int i)
{
	int64_t v = col_i64(st, i, -1);
	return v < 0 || v > INT_MAX ? -1 : (int)v;
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* A family as the static name of its enum, so that it outlives the row; text the
 * store should not hold as it is. */
static const char *family_text(const char *s)
{
	int f = sk_family_parse(s);
	return f >= 0 ? sk_family_name(f) : s ? s : "unknown";
}

/* The direction's enum, DIR_OTHER for what the store should not hold. */
static int dir_of(const char *s)
{
	int d = sk_dir_parse(s);
	return d >= 0 ? d : DIR_OTHER;
}

static int has_destination(int proto, const char *raddr, int dir)
{
	return (proto == SK_TCP || proto == SK_UDP || proto == SK_ICMP) && raddr &&
	       dir != SKD_IN;
}

int report_row_has_destination(const struct report_row *r)
{
	return has_destination(r->proto, r->remote_addr, dir_of(r->direction));
}

static int unspecified(const char *a)
{
	return !a || !*a || (a[0] == '0' && strcmp(a, "0.0.0.0") == 0) ||
	       (a[0] == ':' && strcmp(a, "::") == 0);
}

/* The protocol of a report row, or 0 when the socket is none: TCP and UDP sockets with
 * a remote peer (an address that is not the unspecified one; not a listener), RAW,
 * PACKET and ICMP (ping) sockets (an unconnected ping socket has no remote address),
 * and unix sockets (only those connected outside their namespace are recorded). */
static int report_kind(sqlite3_stmt *st, int *dir, const char **raddr)
{
	int proto = sk_proto_parse(col_str(st, QB_PROTO));
	const char *ra = col_str(st, QB_REMOTE_ADDR);
	if (proto == SK_RAW || proto == SK_PACKET || proto == SK_UNIX) {
		*dir = dir_of(col_str(st, QB_DIRECTION));
		*raddr = ra;
		return proto;
	}
	if (proto == SK_ICMP) {
		*dir = dir_of(col_str(st, QB_DIRECTION));
		*raddr = unspecified(ra) ? NULL : ra;
		return proto;
	}
	if (proto != SK_TCP && proto != SK_UDP)
		return 0;
	*dir = dir_of(col_str(st, QB_DIRECTION));
	if (*dir == SKD_LISTEN)
		return 0;
	*raddr = ra;
	if (unspecified(*raddr))
		return 0;
	return proto;
}

int report_selected(const struct report_query *q, const char *name, int count)
{
	int any = 0;
	if (q->ncontainers == 0)
		return 1;
	for (size_t i = 0; name && i < q->ncontainers; i++) {
		if (util_glob_match(q->containers[i], name)) {
			any = 1;
			if (count && q->matched)
				q->matched[i]++;
		}
	}
	return any;
}

/* Every container, in id order (the order they were first recorded). */
static int load_containers(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	struct rbuf names = { 0 };
	size_t cap = 0;
	int rc;

	if (store_query_prepare(k->db, STORE_Q_CONTAINERS, &st) != SQLITE_OK)
		return db_fail(k, "containers");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (util_grow(&k->cs, &cap, k->ncs + 1, sizeof(*k->cs)) < 0)
			goto nomem;
		const char *name = col_str(st, QC_NAME), *id = col_str(st, QC_ENGINE_ID);
		struct wcont *c = &k->cs[k->ncs++];
		*c = (struct wcont){ .pub = {
			.id = sqlite3_column_int64(st, QC_ID),
			.netns = sqlite3_column_int64(st, QC_NETNS),
			.started = col_i64(st, QC_STARTED, -1),
			.first_seen = sqlite3_column_int64(st, QC_FIRST_SEEN),
			.last_seen = sqlite3_column_int64(st, QC_LAST_SEEN),
			.ended = col_i64(st, QC_ENDED, -1),
		} };
		/* offsets into names until it stops moving */
		c->name_off = names.len;
		rbuf_puts(&names, name ? name : "");
		rbuf_putc(&names, '\0');
		c->id_off = SIZE_MAX;
		if (id) {
			c->id_off = names.len;
			rbuf_puts(&names, id);
			rbuf_putc(&names, '\0');
		}
		if (names.oom)
			goto nomem;
		c->selected = report_selected(k->q, name ? name : "", 1);
		if (c->pub.started <= 0)
			c->pub.started = -1;
		c->pub.start = c->pub.started >= 0 ? c->pub.started : c->pub.first_seen;
		burst_init(&c->burst, c->pub.start, k->q->idle, k->q->burst_max);
	}
	if (rc != SQLITE_DONE) {
		db_fail(k, "containers");
		sqlite3_finalize(st);
		rbuf_free(&names);
		return -1;
	}
	sqlite3_finalize(st);
	k->names = names.p;
	for (size_t i = 0; i < k->ncs; i++) {
		struct wcont *c = &k->cs[i];
		c->pub.name = k->names + c->name_off;
		c->pub.engine_id = c->id_off == SIZE_MAX ? NULL : k->names + c->id_off;
	}
	return 0;
nomem:
	sqlite3_finalize(st);
	rbuf_free(&names);
	return walk_oom(k);
}


/* The exec windows the sampler recorded from the engine's exec_start/exec_die events. */
static int load_execs(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if (store_query_prepare(k->db, STORE_Q_EXECS, &st) != SQLITE_OK)
		return db_fail(k, "activity");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long c = walk_find_container(k, sqlite3_column_int64(st, QX_CONTAINER_ID));
		if (c < 0)
			continue;
		if (util_grow(&k->xw, &cap, k->nxw + 1, sizeof(*k->xw)) < 0) {
			sqlite3_finalize(st);
			return walk_oom(k);
		}
		if (!k->cs[c].nxw)
			k->cs[c].xw_off = k->nxw;
		k->cs[c].nxw++;
		k->xw[k->nxw++] = (struct report_window){ sqlite3_column_int64(st, QX_START),
						  col_i64(st, QX_END, INT64_MAX) };
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(k, "activity");
	return 0;
}





/* First scan: what the burst and beacon rules need, for the selected containers. */
static int scan_timeline(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_query_prepare(k->db, STORE_Q_SOCKETS_BRIEF, &st) != SQLITE_OK)
		return db_fail(k, "sockets");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long c = walk_find_container(k, sqlite3_column_int64(st, QB_CONTAINER_ID));
		if (c < 0 || !k->cs[c].selected)
			continue;
		const char *raddr = NULL;
		int d = DIR_OTHER, proto = report_kind(st, &d, &raddr);
		if (!proto)
			continue;
		int port = col_port(st, QB_REMOTE_PORT), added;
		uint32_t g = DEST_NONE, a = ADDR_NONE, name = NAMES_NONE;
		if (raddr) {
			long ai = hmap_intern(&k->addrs, raddr, strlen(raddr) + 1, &added);
			if (ai < 0 || (uint32_t)ai >= ADDR_NONE)
				goto nomem;
			a = (uint32_t)ai;
		}
		if (proto == SK_RAW)
			g = DEST_RAW;
		else if (proto == SK_PACKET)
			g = DEST_PACKET;
		else if (proto == SK_UNIX)
			g = DEST_HOST;
		else if (has_destination(proto, raddr, d))
			g = DEST_PENDING;   /* grouped after the scan, see group.c */
		if (util_grow(&k->rows, &k->rows_cap, k->nrows + 1, sizeof(*k->rows)) < 0)
			goto nomem;
		int64_t t = sqlite3_column_int64(st, QB_FIRST_SEEN);
		k->rows[k->nrows++] = (struct p1row){
			.id = sqlite3_column_int64(st, QB_ID), .t = t, .name = name,
			.c = (uint32_t)c, .g = g, .addr = a, .rport = port,
			.proto = (uint8_t)proto, .dir = (uint8_t)d,
		};
	}
	if (rc != SQLITE_DONE) {
		db_fail(k, "sockets");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return walk_group_rows(k) < 0 ? walk_oom(k) : 0;
nomem:
	sqlite3_finalize(st);
	return walk_oom(k);
}

static int in_window(const struct report_query *q, int64_t t)
{
	return t >= q->since && t <= q->until;
}

/* Whether a kept row is printed, with its after-idle state and flags. */
static int shown(const struct walk *k, const struct p1row *p, int *after, unsigned *flags)
{
	const struct report_container *pc = &k->cs[p->c].pub;
	unsigned f = p->g == DEST_RAW ? REPORT_F_RAW : p->g == DEST_PACKET ? REPORT_F_PACKET :
		     p->g == DEST_HOST ? REPORT_F_HOST_SOCKET :
		     p->g < k->ng ? k->groups[p->g].flags : 0;

	if (!in_window(k->q, p->t))
		return 0;
	*after = pc->burst_known && p->t >= pc->burst_end;
	if (k->q->since_idle) {
		if (walk_outside_exec(k, p))
			f |= REPORT_F_OUTSIDE_EXEC;
		if (!*after && !(f & (REPORT_F_RAW | REPORT_F_PACKET | REPORT_F_OUTSIDE_EXEC |
				      REPORT_F_HOST_SOCKET)))
			return 0;
		if (*after)
			f |= REPORT_F_AFTER_IDLE;
	}
	*flags = f;
	return 1;
}

/* Second scan: the rows printed, in full, flagged, to the callback. It starts at the
 * first of them (a rowid seek) and stops after the last. */
static int scan_rows(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	size_t i = 0, end = 0;
	int rc = SQLITE_DONE, after;
	unsigned f;

	while (i < k->nrows && !shown(k, &k->rows[i], &after, &f))
		i++;
	for (size_t j = k->nrows; j > i; j--) {
		if (shown(k, &k->rows[j - 1], &after, &f)) {
			end = j;
			break;
		}
	}
	if (i >= end)
		return 0;
	if (store_query_prepare(k->db, STORE_Q_SOCKETS_DETAIL, &st) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, k->rows[i].id) != SQLITE_OK) {
		db_fail(k, "sockets");
		sqlite3_finalize(st);
		return -1;
	}
	while (i < end && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* the first scan kept exactly the rows wanted, in this order: a row whose id is
		 * not the next kept one is not a report row of a selected container */
		const struct p1row *p = &k->rows[i];
		int64_t id = sqlite3_column_int64(st, QD_ID);
		if (id < p->id)
			continue;
		if (id > p->id)
			break;   /* a kept row is gone: cannot happen in one read transaction */
		i++;
		if (!shown(k, p, &after, &f))
			continue;
		const struct report_container *pc = &k->cs[p->c].pub;
		struct report_row r = {
			.id = p->id,
			.first_seen = p->t,
			.proto = p->proto,
			.proto_name = sk_proto_name(p->proto),
			.direction = p->dir == DIR_OTHER ? "unknown" : sk_dir_name(p->dir),
			.remote_addr = walk_addr_text(k, p->addr),
			.remote_name = names_text(&k->ni, p->name),
			.remote_port = p->rport,
			.family = family_text(col_str(st, QD_FAMILY)),
			.local_addr = col_str(st, QD_LOCAL_ADDR),
			.local_port = col_port(st, QD_LOCAL_PORT),
			.state = sqlite3_column_int(st, QD_STATE),
			.last_seen = sqlite3_column_int64(st, QD_LAST_SEEN),
			.closed_at = col_i64(st, QD_CLOSED_AT, -1),
			.bytes_sent = col_i64(st, QD_BYTES_SENT, -1),
			.bytes_received = col_i64(st, QD_BYTES_RECEIVED, -1),
			.pid = (int)col_i64(st, QD_PID, -1),
			.comm = col_str(st, QD_COMM),
			.after_idle = after,
			.flags = f,
		};
		if (r.pid <= 0)
			r.pid = -1;
		if (k->w->row(k->w->arg, pc, &r) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	if (i < end && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(k, "sockets");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (i < end) {
		snprintf(k->err, k->errlen, "database: the sockets table changed while read");
		return -1;
	}
	return 0;
}

int report_walk(struct sqlite3 *db, const struct report_query *q,
		const struct report_walker *w, char *err, size_t errlen)
{
	struct walk k = { .db = db, .q = q, .w = w, .err = err, .errlen = errlen };
	int rc = -1;

	err[0] = '\0';
	/* one read transaction: both scans see the same snapshot while watch writes */
	if (store_read_begin(db) != SQLITE_OK)
		return db_fail(&k, "begin");
	if (load_containers(&k) < 0 || load_execs(&k) < 0 || walk_load_names(&k) < 0 ||
	    walk_load_tunnels(&k) < 0 || scan_timeline(&k) < 0 ||
	    walk_timelines(&k) < 0)
		goto out;
	for (size_t i = 0; i < k.ncs; i++) {
		k.cs[i].pub.exec = k.cs[i].nxw ? k.xw + k.cs[i].xw_off : NULL;
		k.cs[i].pub.nexec = k.cs[i].nxw;
	}
	if (w->container) {
		for (size_t i = 0; i < k.ncs; i++) {
			if (k.cs[i].selected && w->container(w->arg, &k.cs[i].pub) != 0)
				goto cb_failed;
		}
	}
	if (w->row && scan_rows(&k) < 0)
		goto cb_failed;
	rc = 0;
	goto out;
cb_failed:
	if (!err[0])
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
out:
	store_read_end(db);
	free(k.cs);
	free(k.names);
	free(k.rows);
	free(k.groups);
	free(k.gslots);
	free(k.xw);
	hmap_free(&k.addrs);
	names_free(&k.ni);
	free(k.tun);
	return rc;
}
