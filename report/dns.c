/* report --dns: the queries seen, flagged dns-tunnel by the rule of tunnel.h; and the
 * resolvers that carried a tunnel, for the walk to flag the connections to them. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/dnsname.h"
#include "../lib/util.h"
#include "../store/query.h"
#include "hmap.h"
#include "report.h"
#include "tunnel.h"
#include "walk_int.h"

/* What a query has beside what the tunnel rule reads. */
struct qmore {
	char *resolver, *answers, *proto;
	int port, rcode;
};

/* One container's queries, read together (the rule looks at them as a whole). */
struct qbuf {
	struct tunnel_q *q;
	struct qmore *m;          /* m[i] goes with q[i] */
	size_t n, qcap, mcap;
};

static void qbuf_clear(struct qbuf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((char *)b->q[i].qname);
		free(b->m[i].resolver);
		free(b->m[i].answers);
		free(b->m[i].proto);
	}
	b->n = 0;
}

static void qbuf_free(struct qbuf *b)
{
	qbuf_clear(b);
	free(b->q);
	free(b->m);
}

static char *dup_col(sqlite3_stmt *st, int i, int *bad)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*bad = 1;
	return d;
}

/* An integer column; -1 when NULL. */
static int col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

static int qbuf_add(struct qbuf *b, sqlite3_stmt *st)
{
	int bad = 0;
	if (util_grow(&b->q, &b->qcap, b->n + 1, sizeof(*b->q)) < 0 ||
	    util_grow(&b->m, &b->mcap, b->n + 1, sizeof(*b->m)) < 0)
		return -1;
	size_t i = b->n;
	const char *qn = (const char *)sqlite3_column_text(st, QQ_QNAME);
	b->q[i] = (struct tunnel_q){ .t = sqlite3_column_int64(st, QQ_T),
				     .qname = qn ? strdup(qn) : strdup(""),
				     .qtype = sqlite3_column_int(st, QQ_QTYPE) };
	b->m[i] = (struct qmore){
		.resolver = dup_col(st, QQ_RESOLVER_ADDR, &bad),
		.port = col_int(st, QQ_RESOLVER_PORT),
		.proto = dup_col(st, QQ_PROTO, &bad),
		.rcode = col_int(st, QQ_RCODE),
		.answers = dup_col(st, QQ_ANSWERS, &bad),
	};
	b->n++;
	return bad || !b->q[i].qname ? -1 : 0;
}

/* Calls done(arg, container id, buffer) for each container's queries, flagged. A store
 * from before names (no table) has none. */
static int each_container(sqlite3 *db, int (*want)(void *, int64_t),
			  int (*done)(void *, int64_t, struct qbuf *), void *arg, char *err,
			  size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct qbuf b = { 0 };
	int64_t cur = -1;
	int rc, ret = 0;

	if (store_query_prepare(db, STORE_Q_DNS_QUERIES, &st) != SQLITE_OK)
		return 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(st, QQ_CONTAINER_ID);
		if (cid != cur) {
			if (b.n && (tunnel_flag(b.q, b.n) < 0 || done(arg, cur, &b) < 0))
				goto fail;
			qbuf_clear(&b);
			cur = cid;
		}
		if (want(arg, cid) && qbuf_add(&b, st) < 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "database: dns_queries: %s", sqlite3_errmsg(db));
		ret = -1;
	} else if (b.n && (tunnel_flag(b.q, b.n) < 0 || done(arg, cur, &b) < 0)) {
		goto fail;
	}
	goto out;
fail:
	if (!err[0])
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	ret = -1;
out:
	sqlite3_finalize(st);
	qbuf_free(&b);
	return ret;
}

/* ---- the walk's names and resolvers ---- */

/* The names the containers resolved (schema 4), keyed as the rows will look them up.
 * A database from before names has no table: then no names. */
int walk_load_names(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	int rc, added;

	if (store_query_prepare(k->db, STORE_Q_NAMES, &st) != SQLITE_OK)
		return 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long c = walk_find_container(k, sqlite3_column_int64(st, QN_CONTAINER_ID));
		const char *name = (const char *)sqlite3_column_text(st, QN_NAME),
			   *addr = (const char *)sqlite3_column_text(st, QN_ADDR);
		if (c < 0 || !k->cs[c].selected || !name || !addr)
			continue;
		long a = hmap_intern(&k->addrs, addr, strlen(addr) + 1, &added);
		if (a < 0 || (uint32_t)a >= ADDR_NONE ||
		    names_add(&k->ni, walk_name_key((uint32_t)c, (uint32_t)a), name,
			      sqlite3_column_int64(st, QN_FIRST_SEEN),
			      sqlite3_column_int64(st, QN_LAST_SEEN),
			      (uint32_t)sqlite3_column_int64(st, QN_TTL)) < 0) {
			sqlite3_finalize(st);
			return walk_oom(k);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(k->err, k->errlen, "database: names: %s", sqlite3_errmsg(k->db));
		return -1;
	}
	return names_finish(&k->ni) < 0 ? walk_oom(k) : 0;
}

int walk_is_tunnel(const struct walk *k, uint64_t key)
{
	size_t lo = 0, hi = k->ntun;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->tun[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->ntun && k->tun[lo] == key;
}


static long walk_container(struct walk *k, int64_t id)
{
	return walk_find_container(k, id);
}

static int walk_want(void *arg, int64_t cid)
{
	struct walk *k = arg;
	long c = walk_container(k, cid);
	return c >= 0 && k->cs[c].selected;
}

static int walk_done(void *arg, int64_t cid, struct qbuf *b)
{
	struct walk *k = arg;
	long c = walk_container(k, cid);
	int added;
	k->cs[c].pub.dns_queries = (int64_t)b->n;
	for (size_t i = 0; i < b->n; i++) {
		k->cs[c].pub.dns_tunnel += b->q[i].flagged;
		if (!b->q[i].flagged || !b->m[i].resolver)
			continue;
		long a = hmap_intern(&k->addrs, b->m[i].resolver, strlen(b->m[i].resolver) + 1, &added);
		if (a < 0)
			return -1;
		uint64_t key = walk_name_key((uint32_t)c, (uint32_t)a);
		if (k->ntun && k->tun[k->ntun - 1] == key)
			continue;
		if (util_grow(&k->tun, &k->tun_cap, k->ntun + 1, sizeof(*k->tun)) < 0)
			return -1;
		k->tun[k->ntun++] = key;
	}
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int walk_load_tunnels(struct walk *k)
{
	if (each_container(k->db, walk_want, walk_done, k, k->err, k->errlen) < 0)
		return -1;
	if (k->ntun)
		qsort(k->tun, k->ntun, sizeof(*k->tun), key_cmp);
	return 0;
}

/* ---- report --dns ---- */

enum {
	D_CONTAINER, D_TIME, D_RESOLVER_ADDR, D_RESOLVER_PORT, D_PROTO, D_QNAME, D_QTYPE,
	D_RCODE, D_ANSWERS, D_AFTER_IDLE, D_FLAGS, D_N,
};

static const struct ofield dns_fields[D_N] = {
	[D_CONTAINER] = { "container", OF_ALL },
	[D_TIME] = { "time", OF_ALL },
	[D_RESOLVER_ADDR] = { "resolver_addr", OF_ALL },
	[D_RESOLVER_PORT] = { "resolver_port", OF_DATA },
	[D_PROTO] = { "proto", OF_ALL },
	[D_QNAME] = { "qname", OF_ALL },
	[D_QTYPE] = { "qtype", OF_ALL },
	[D_RCODE] = { "rcode", OF_ALL },
	[D_ANSWERS] = { "answers", OF_ALL },
	[D_AFTER_IDLE] = { "after_idle", OF_DATA },
	[D_FLAGS] = { "flags", OF_ALL },
};

struct dns_ctx {
	const struct report_query *q;
	struct out *o;
	struct report_container *cs;   /* the selected containers, copied (names owned) */
	size_t ncs, cs_cap;
	int flagged;
};

static int dns_container(void *arg, const struct report_container *c)
{
	struct dns_ctx *x = arg;
	if (util_grow(&x->cs, &x->cs_cap, x->ncs + 1, sizeof(*x->cs)) < 0)
		return -1;
	struct report_container *v = x->cs;
	v[x->ncs] = *c;
	v[x->ncs].name = strdup(c->name);
	v[x->ncs].engine_id = NULL;
	return v[x->ncs++].name ? 0 : -1;
}

static const struct report_container *dns_find(const struct dns_ctx *x, int64_t id)
{
	for (size_t i = 0; i < x->ncs; i++)
		if (x->cs[i].id == id)
			return &x->cs[i];
	return NULL;
}

static int dns_want(void *arg, int64_t cid)
{
	return dns_find(arg, cid) != NULL;
}

static int dns_print(void *arg, int64_t cid, struct qbuf *b)
{
	struct dns_ctx *x = arg;
	const struct report_container *c = dns_find(x, cid);
	for (size_t i = 0; i < b->n; i++) {
		const struct tunnel_q *q = &b->q[i];
		int after = c->burst_known && q->t >= c->burst_end;
		unsigned f = q->flagged ? REPORT_F_DNS_TUNNEL : 0;
		if (q->t < x->q->since || q->t > x->q->until || (x->q->since_idle && !after && !f))
			continue;
		if (x->q->since_idle && after)
			f |= REPORT_F_AFTER_IDLE;
		struct oval v[D_N];
		const char *tn = dns_type_name((unsigned)q->qtype);
		const char *rn = b->m[i].rcode >= 0 ? dns_rcode_name((unsigned)b->m[i].rcode) : NULL;
		ov_set_str(&v[D_CONTAINER], c->name);
		ov_set_time(&v[D_TIME], q->t);
		ov_set_str(&v[D_RESOLVER_ADDR], b->m[i].resolver);
		ov_set_opt(&v[D_RESOLVER_PORT], b->m[i].port);
		ov_set_str(&v[D_PROTO], b->m[i].proto);
		ov_set_str(&v[D_QNAME], q->qname);
		/* a type or code without a common name is its number (clawss-report(8)) */
		if (tn)
			ov_set_str(&v[D_QTYPE], tn);
		else
			ov_set_int(&v[D_QTYPE], q->qtype);
		if (b->m[i].rcode >= 0 && !rn)
			ov_set_int(&v[D_RCODE], b->m[i].rcode);
		else
			ov_set_str(&v[D_RCODE], rn);
		ov_set_list(&v[D_ANSWERS], b->m[i].answers);
		ov_set_bool(&v[D_AFTER_IDLE], after);
		ov_set_flags(&v[D_FLAGS], f);
		if (f)
			x->flagged = 1;
		if (out_record(x->o, v) < 0)
			return -1;
	}
	return 0;
}

int report_dns(struct sqlite3 *db, const struct report_query *q, enum out_format fmt,
	       FILE *f, char *err, size_t errlen)
{
	struct dns_ctx x = { .q = q };
	struct report_walker w = { .container = dns_container, .arg = &x };
	int rc;

	x.o = out_new(f, fmt, dns_fields, D_N);
	if (!x.o) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	rc = report_walk(db, q, &w, err, errlen);
	if (rc == 0) {
		err[0] = '\0';
		store_read_begin(db);
		rc = each_container(db, dns_want, dns_print, &x, err, errlen);
		store_read_end(db);
		if (rc < 0 && !err[0])
			snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
	}
	if (out_end(x.o) < 0 && rc == 0) {
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	for (size_t i = 0; i < x.ncs; i++)
		free((char *)x.cs[i].name);
	free(x.cs);
	return rc < 0 ? -1 : x.flagged;
}
