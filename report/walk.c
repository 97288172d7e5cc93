#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "allow.h"
#include "burst.h"
#include "../lib/escape.h"
#include "hmap.h"
#include "out.h"
#include "walk.h"
#include "walk_int.h"


static int db_fail(struct walk *k, const char *what)
{
	snprintf(k->err, k->errlen, "database: %s: %s", what, sqlite3_errmsg(k->db));
	return -1;
}

int walk_oom(struct walk *k)
{
	snprintf(k->err, k->errlen, "%s", strerror(ENOMEM));
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

/* The store's few words map to static names, so that they outlive the row. */
static const char *word(const char *s, const char *const *words)
{
	if (!s)
		return "unknown";
	for (; *words; words++)
		if (s[0] == (*words)[0] && strcmp(s, *words) == 0)
			return *words;
	return s;
}

static const char *const proto_words[] = { "tcp", "udp", "raw", "packet", "icmp", "unix",
					    NULL };
static const char *const family_words[] = { "ipv4", "ipv6", "packet", "unix", NULL };
static const char *const dir_words[] = { "out", "in", "listen", NULL };

static int has_destination(int proto, const char *raddr, const char *dir)
{
	return (proto == SK_TCP || proto == SK_UDP || proto == SK_ICMP) && raddr &&
	       strcmp(dir, "in") != 0;
}

/* dir_words is indexed by enum sk_dir */
_Static_assert(SKD_OUT == 0 && SKD_IN == 1 && SKD_LISTEN == 2, "sk_dir order");

int report_row_has_destination(const struct report_row *r)
{
	return has_destination(r->proto, r->remote_addr, r->direction);
}

/* Both scans read the whole table in rowid order (free: it is the table's own order),
 * so the second meets the rows in the order the first kept them. Which rows are report
 * rows is decided in C (report_kind), once, for both: cheaper than a WHERE clause. */
static const char pass1_sql[] =
	"SELECT id, container_id, first_seen, proto, direction, remote_addr, remote_port"
	" FROM sockets ORDER BY id";
static const char pass2_sql[] =
	"SELECT id, family, local_addr, local_port, state, last_seen, closed_at, bytes_sent,"
	" bytes_received, pid, comm FROM sockets WHERE id >= ?1 ORDER BY id";

static int unspecified(const char *a)
{
	return !a || !*a || (a[0] == '0' && strcmp(a, "0.0.0.0") == 0) ||
	       (a[0] == ':' && strcmp(a, "::") == 0);
}

/* The protocol of a report row, or 0 when the socket is none: TCP and UDP sockets with
 * a remote peer (an address that is not the unspecified one; not a listener), RAW,
 * PACKET and ICMP (ping) sockets (an unconnected ping socket has no remote address),
 * and unix sockets (only those connected outside their namespace are recorded). */
static int report_kind(sqlite3_stmt *st, const char **dir, const char **raddr)
{
	int proto = sk_proto_parse(word(col_str(st, 3), proto_words));
	if (proto == SK_RAW || proto == SK_PACKET || proto == SK_UNIX) {
		*dir = word(col_str(st, 4), dir_words);
		*raddr = col_str(st, 5);
		return proto;
	}
	if (proto == SK_ICMP) {
		*dir = word(col_str(st, 4), dir_words);
		*raddr = unspecified(col_str(st, 5)) ? NULL : col_str(st, 5);
		return proto;
	}
	if (proto != SK_TCP && proto != SK_UDP)
		return 0;
	*dir = word(col_str(st, 4), dir_words);
	if (*dir == dir_words[SKD_LISTEN])
		return 0;
	*raddr = col_str(st, 5);
	if (unspecified(*raddr))
		return 0;
	return proto;
}

static int selected(const struct report_query *q, const char *name)
{
	int any = 0;
	if (q->ncontainers == 0)
		return 1;
	for (size_t i = 0; i < q->ncontainers; i++) {
		if (util_glob_match(q->containers[i], name)) {
			any = 1;
			if (q->matched)
				q->matched[i]++;
		}
	}
	return any;
}

static const char containers_sql[] =
	"SELECT id, name, engine_id, netns_ino, started, first_seen, last_seen, ended"
	" FROM containers ORDER BY id";

/* Every container, in id order (the order they were first recorded). */
static int load_containers(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	struct rbuf names = { 0 };
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(k->db, containers_sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(k, "containers");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k->ncs == cap) {
			cap = cap ? cap * 2 : 64;
			struct wcont *nc = realloc(k->cs, cap * sizeof(*nc));
			if (!nc)
				goto nomem;
			k->cs = nc;
		}
		const char *name = col_str(st, 1), *id = col_str(st, 2);
		struct wcont *c = &k->cs[k->ncs++];
		*c = (struct wcont){ .pub = {
			.id = sqlite3_column_int64(st, 0),
			.netns = sqlite3_column_int64(st, 3),
			.started = col_i64(st, 4, -1),
			.first_seen = sqlite3_column_int64(st, 5),
			.last_seen = sqlite3_column_int64(st, 6),
			.ended = col_i64(st, 7, -1),
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
		c->selected = selected(k->q, name ? name : "");
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

static const char exec_sql[] =
	"SELECT container_id, start, end FROM activity WHERE kind = 'exec'"
	" ORDER BY container_id, start";


/* The exec windows the sampler recorded from the engine's exec_start/exec_die events. */
static int load_execs(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(k->db, exec_sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(k, "activity");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long c = walk_find_container(k, sqlite3_column_int64(st, 0));
		if (c < 0)
			continue;
		if (k->nxw == cap) {
			cap = cap ? cap * 2 : 16;
			struct report_window *v = realloc(k->xw, cap * sizeof(*v));
			if (!v) {
				sqlite3_finalize(st);
				return walk_oom(k);
			}
			k->xw = v;
		}
		if (!k->cs[c].nxw)
			k->cs[c].xw_off = k->nxw;
		k->cs[c].nxw++;
		k->xw[k->nxw++] = (struct report_window){ sqlite3_column_int64(st, 1),
						  col_i64(st, 2, INT64_MAX) };
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(k, "activity");
	return 0;
}

static const char *addr_text(const struct walk *k, uint32_t a);

/* The container talking to itself: a loopback peer (addresses are stored canonical,
 * v4-mapped as IPv4). */
static int loopback_peer(const struct walk *k, const struct p1row *p)
{
	const char *a = addr_text(k, p->addr);
	return a && (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0);
}

/* The exec rule: in a container that has exec activity (an OpenClaw-style sandbox whose
 * tools run through docker exec), a connection it opened after its first exec began,
 * outside every exec window, came from something other than a tool run. So did one
 * accepted from outside the container then (a listener left behind and used later),
 * but not the accepted end of its own loopback connection, whose opening end is judged. */
int walk_outside_exec(const struct walk *k, const struct p1row *p)
{
	const struct wcont *wc = &k->cs[p->c];
	if (!wc->nxw || (p->proto != SK_TCP && p->proto != SK_UDP))
		return 0;
	if (p->dir != SKD_OUT && (p->dir != SKD_IN || loopback_peer(k, p)))
		return 0;
	const struct report_window *x = k->xw + wc->xw_off;
	if (p->t < x[0].start)
		return 0;  /* before the first exec: the container's own start-up */
	for (size_t i = 0; i < wc->nxw && x[i].start <= p->t; i++)
		if (x[i].end == INT64_MAX || p->t <= x[i].end + EXEC_GRACE_MS)
			return 0;
	return 1;
}

long walk_find_container(const struct walk *k, int64_t id)
{
	size_t lo = 0, hi = k->ncs;
	/* ids are usually dense: try the direct slot first */
	if (k->ncs && id >= k->cs[0].pub.id && (uint64_t)(id - k->cs[0].pub.id) < k->ncs &&
	    k->cs[id - k->cs[0].pub.id].pub.id == id)
		return (long)(id - k->cs[0].pub.id);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->cs[mid].pub.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->ncs && k->cs[lo].pub.id == id ? (long)lo : -1;
}

static uint64_t gslot_hash(uint64_t ka, uint64_t kb)
{
	uint64_t h = ka * 0x9e3779b97f4a7c15ull ^ kb * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

static int gslots_grow(struct walk *k)
{
	size_t n = k->gnslots ? k->gnslots * 2 : 1024;
	struct gslot *t = calloc(n, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < k->gnslots; i++) {
		const struct gslot *g = &k->gslots[i];
		if (!g->gid1)
			continue;
		size_t j = (size_t)gslot_hash(g->ka, g->kb) & (n - 1);
		while (t[j].gid1)
			j = (j + 1) & (n - 1);
		t[j] = *g;
	}
	free(k->gslots);
	k->gslots = t;
	k->gnslots = n;
	return 0;
}

/* Whether a destination is declared, by its address or by the name the container
 * resolved to reach it: decided once per group. */
static int undeclared(const struct allowlist *al, const char *addr, const char *name,
		      int port, int proto)
{
	uint8_t a[16];
	int family;
	if (name && allow_match_name(al, name, port, proto))
		return 0;
	if (allow_addr_parse(addr, &family, a) < 0)
		return 1;
	return !allow_match(al, family, a, port, proto);
}

static const char *addr_text(const struct walk *k, uint32_t a)
{
	size_t len;
	return a == ADDR_NONE ? NULL : hmap_key(&k->addrs, a, &len);
}

static uint64_t key_a(const struct p1row *r)
{
	return (uint64_t)r->c << 32 | r->addr;
}

/* the name is part of a destination: one address may serve two names */
static uint64_t key_b(const struct p1row *r)
{
	return (uint64_t)r->name << 32 | (uint64_t)((uint32_t)(r->rport + 1) & 0xffffff) << 8 |
	       r->proto;
}

/* The destination group of a row (h: gslot_hash of its key), created on first sight. */
static int64_t group_of(struct walk *k, const struct p1row *r, uint64_t h)
{
	uint64_t ka = key_a(r), kb = key_b(r);

	if ((k->ng + 1) * 2 > k->gnslots && gslots_grow(k) < 0)
		return -1;
	size_t mask = k->gnslots - 1, i = (size_t)h & mask;
	for (; k->gslots[i].gid1; i = (i + 1) & mask)
		if (k->gslots[i].ka == ka && k->gslots[i].kb == kb)
			return k->gslots[i].gid1 - 1;
	if (k->ng >= G_PENDING - 1)
		return -1;
	if (k->ng == k->gcap) {
		size_t cap = k->gcap ? k->gcap * 2 : 1024;
		struct group *g = realloc(k->groups, cap * sizeof(*g));
		if (!g)
			return -1;
		k->groups = g;
		k->gcap = cap;
	}
	struct group *g = &k->groups[k->ng];
	*g = (struct group){ .min_gap = INT64_MAX };
	if (k->q->allow && undeclared(k->q->allow, addr_text(k, r->addr),
				      names_text(&k->ni, r->name), r->rport, r->proto))
		g->flags |= REPORT_F_UNDECLARED;
	if (k->ntun && r->rport == 53 && walk_is_tunnel(k, walk_name_key(r->c, r->addr)))
		g->flags |= REPORT_F_DNS_TUNNEL;
	k->gslots[i] = (struct gslot){ .ka = ka, .kb = kb, .gid1 = (uint32_t)++k->ng };
	return (int64_t)k->ng - 1;
}

/* Sums up an open time into its container's burst and its group's gaps. */
static void feed(struct walk *k, uint32_t c, uint32_t g, int64_t t)
{
	struct wcont *wc = &k->cs[c];
	if (wc->pub.connections++ && t < wc->last)
		wc->unsorted = 1;
	else if (!wc->unsorted)
		burst_feed(&wc->burst, t);
	wc->last = t;
	if (g >= k->ng)
		return;
	struct group *gr = &k->groups[g];
	if (gr->count++) {
		int64_t gap = t - gr->last;
		if (gap < 0)
			gr->unsorted = 1;
		if (gap < gr->min_gap)
			gr->min_gap = gap;
		if (gap > gr->max_gap)
			gr->max_gap = gap;
	}
	gr->last = t;
}

/* Groups the rows and sums them up, in recording order. The group table and the
 * groups outgrow the caches when there are many destinations: the slot of a row a few
 * rows ahead is prefetched while this one is placed. */
static int group_rows(struct walk *k)
{
	enum { AHEAD = 8 };
	uint64_t h[AHEAD];

	for (size_t i = 0; i < k->nrows + AHEAD; i++) {
		/* row i - AHEAD is placed (its slot was fetched AHEAD rows ago), then row i's
		 * hash takes the place its own had in h */
		if (i >= AHEAD) {
			struct p1row *r = &k->rows[i - AHEAD];
			if (r->g == G_PENDING) {
				int64_t g = group_of(k, r, h[i % AHEAD]);
				if (g < 0)
					return walk_oom(k);
				r->g = (uint32_t)g;
				__builtin_prefetch(&k->groups[g]);
			}
			if (i >= 2 * AHEAD)
				feed(k, r[-AHEAD].c, r[-AHEAD].g, r[-AHEAD].t);
		}
		if (i < k->nrows && k->rows[i].g == G_PENDING) {
			h[i % AHEAD] = gslot_hash(key_a(&k->rows[i]), key_b(&k->rows[i]));
			if (k->gnslots)
				__builtin_prefetch(&k->gslots[h[i % AHEAD] & (k->gnslots - 1)]);
		}
	}
	for (size_t i = k->nrows > AHEAD ? k->nrows - AHEAD : 0; i < k->nrows; i++)
		feed(k, k->rows[i].c, k->rows[i].g, k->rows[i].t);
	return 0;
}

/* remote_name of every row with an address, before the rows are grouped (the name is
 * part of a destination). Each lookup costs two cache misses (slot, episodes) in a big
 * index: they are fetched two and one steps ahead, as group_rows does. */
static void name_rows(struct walk *k)
{
	enum { AHEAD = 8 };
	if (!k->ni.n)
		return;
	for (size_t i = 0; i < k->nrows; i++) {
		const struct p1row *f = &k->rows[i + 2 * AHEAD < k->nrows ? i + 2 * AHEAD : i];
		const struct p1row *g = &k->rows[i + AHEAD < k->nrows ? i + AHEAD : i];
		if (f->addr != ADDR_NONE)
			names_prefetch(&k->ni, walk_name_key(f->c, f->addr), 0);
		if (g->addr != ADDR_NONE)
			names_prefetch(&k->ni, walk_name_key(g->c, g->addr), 1);
		struct p1row *r = &k->rows[i];
		if (r->addr != ADDR_NONE)
			r->name = names_lookup(&k->ni, walk_name_key(r->c, r->addr), r->t);
	}
}

/* First scan: what the burst and beacon rules need, for the selected containers. */
static int scan_timeline(struct walk *k)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(k->db, pass1_sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(k, "sockets");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long c = walk_find_container(k, sqlite3_column_int64(st, 1));
		if (c < 0 || !k->cs[c].selected)
			continue;
		const char *dir = NULL, *raddr = NULL;
		int proto = report_kind(st, &dir, &raddr);
		if (!proto)
			continue;
		int port = col_port(st, 6), added;
		uint32_t g = G_NONE, a = ADDR_NONE, name = NAMES_NONE;
		if (raddr) {
			long ai = hmap_intern(&k->addrs, raddr, strlen(raddr) + 1, &added);
			if (ai < 0 || (uint32_t)ai >= ADDR_NONE)
				goto nomem;
			a = (uint32_t)ai;
		}
		if (proto == SK_RAW)
			g = G_RAW;
		else if (proto == SK_PACKET)
			g = G_PACKET;
		else if (proto == SK_UNIX)
			g = G_HOST;
		else if (has_destination(proto, raddr, dir))
			g = G_PENDING;   /* grouped after the scan, see group_rows */
		int d = dir == dir_words[SKD_OUT] ? SKD_OUT : dir == dir_words[SKD_IN] ? SKD_IN :
			dir == dir_words[SKD_LISTEN] ? SKD_LISTEN : DIR_OTHER;
		if (k->nrows == k->rows_cap) {
			size_t cap = k->rows_cap ? k->rows_cap * 2 : 4096;
			struct p1row *r = realloc(k->rows, cap * sizeof(*r));
			if (!r)
				goto nomem;
			k->rows = r;
			k->rows_cap = cap;
		}
		int64_t t = sqlite3_column_int64(st, 2);
		k->rows[k->nrows++] = (struct p1row){
			.id = sqlite3_column_int64(st, 0), .t = t, .name = name,
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
	name_rows(k);
	return group_rows(k);
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
	unsigned f = p->g == G_RAW ? REPORT_F_RAW : p->g == G_PACKET ? REPORT_F_PACKET :
		     p->g == G_HOST ? REPORT_F_HOST_SOCKET :
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
	if (sqlite3_prepare_v2(k->db, pass2_sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, k->rows[i].id) != SQLITE_OK) {
		db_fail(k, "sockets");
		sqlite3_finalize(st);
		return -1;
	}
	while (i < end && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* the first scan kept exactly the rows wanted, in this order: a row whose id is
		 * not the next kept one is not a report row of a selected container */
		const struct p1row *p = &k->rows[i];
		int64_t id = sqlite3_column_int64(st, 0);
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
			.remote_addr = addr_text(k, p->addr),
			.remote_name = names_text(&k->ni, p->name),
			.remote_port = p->rport,
			.family = word(col_str(st, 1), family_words),
			.local_addr = col_str(st, 2),
			.local_port = col_port(st, 3),
			.state = sqlite3_column_int(st, 4),
			.last_seen = sqlite3_column_int64(st, 5),
			.closed_at = col_i64(st, 6, -1),
			.bytes_sent = col_i64(st, 7, -1),
			.bytes_received = col_i64(st, 8, -1),
			.pid = (int)col_i64(st, 9, -1),
			.comm = col_str(st, 10),
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
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
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
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
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
