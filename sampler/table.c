#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "table.h"
#include "table_int.h"

struct table *table_new(int64_t container_id, int64_t refresh_ms)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->container_id = container_id;
	t->refresh_ms = refresh_ms;
	return t;
}

void table_set_owner(struct table *t, table_owner_fn fn, void *arg)
{
	t->owner = fn;
	t->owner_arg = arg;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nall; i++) {
		free(t->all[i]->rname);
		free(t->all[i]);
	}
	free(t->all);
	for (size_t i = 0; i < t->nscratch; i++)
		free(t->scratch[i].name);
	u64map_free(&t->keys);
	u64map_free(&t->tuples);
	aggs_free(t->aggs);
	free(t->jrnl);
	free(t->scratch);
	free(t->ls);
	free(t);
}

struct entry *table_entry_add(struct table *t, const struct sk *s)
{
	if (util_grow(&t->all, &t->capall, t->nall + 1, sizeof(*t->all)) < 0)
		return NULL;
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = s->cookie;
	e->row.sk = *s;
	e->row.container_id = t->container_id;
	if (u64map_put(&t->keys, e->key, e) < 0) {
		free(e);
		return NULL;
	}
	e->idx = t->nall;
	t->all[t->nall++] = e;
	return e;
}

void table_entry_close(struct entry *e, uint32_t close_gen, int64_t when)
{
	e->closed = 1;
	e->close_gen = close_gen;
	e->row.closed_at = when;
	e->dirty = 1;
}

void table_entry_remove(struct table *t, struct entry *e)
{
	if (e->flow_row && t->nflowrows)
		t->nflowrows--;
	u64map_del(&t->keys, e->key, e);
	if (e->tuple)
		u64map_del(&t->tuples, e->tuple, e);
	struct entry *last = t->all[--t->nall];
	last->idx = e->idx;
	t->all[e->idx] = last;
	free(e->rname);
	free(e);
}

/* Normalised local address (v4-mapped folded) and whether it is the unspecified one. */
static int local_of(const struct sk *s, uint8_t *addr)
{
	static const uint8_t zero[16];
	memcpy(addr, s->laddr, 16);
	sk_addr_normalise(s->family, addr);
	return memcmp(addr, zero, 16) == 0;
}

int table_direction(const struct table_listener *ls, size_t n, const struct sk *s,
		    uint32_t first_gen)
{
	uint8_t la[16];

	if (s->proto != SK_TCP)
		return SKD_OUT;  /* UDP has no accept: a connected UDP socket is its own connect() */
	if (s->state == SKS_LISTEN)
		return SKD_LISTEN;
	if (!(s->have & SK_HAVE_LPORT))
		return SKD_OUT;
	int la_known = (s->have & SK_HAVE_LADDR) && !local_of(s, la);
	for (size_t i = 0; i < n; i++) {
		const struct table_listener *l = &ls[i];
		if (l->port != s->lport || l->first_gen > first_gen)
			continue;
		if (l->wildcard ? l->family == s->family :
		    la_known && memcmp(l->addr, la, 16) == 0)
			return SKD_IN;
	}
	return SKD_OUT;
}

int table_direction_of(const struct table *t, const struct sk *s, uint32_t first_gen)
{
	return table_direction(t->ls, t->nls, s, first_gen);
}

/* A listener of this dump, with the generation its entry was first seen in. */
static void listeners_note(struct table *t, const struct sk *s)
{
	if (s->proto != SK_TCP || s->state != SKS_LISTEN || !(s->have & SK_HAVE_LPORT))
		return;
	if (util_grow(&t->ls, &t->capls, t->nls + 1, sizeof(*t->ls)) < 0)
		return;
	const struct entry *e = u64map_get(&t->keys, s->cookie);
	struct table_listener *l = &t->ls[t->nls++];
	l->family = s->family;
	l->port = s->lport;
	l->wildcard = local_of(s, l->addr);
	l->first_gen = e ? e->first_gen : t->gen;
}

static void owner_fill(struct table *t, struct entry *e)
{
	if (!t->owner || !(e->row.sk.have & SK_HAVE_INODE) || e->row.pid)
		return;
	t->owner(t->owner_arg, e->row.sk.inode, &e->row.pid, e->comm);
	e->comm[sizeof(e->comm) - 1] = '\0';
	e->row.comm = e->comm[0] ? e->comm : NULL;
}

/* An entry for a row the store has already: inserted, written when it was last seen. */
static struct entry *entry_from_row(struct table *t, const struct store_socket *s)
{
	struct entry *e = table_entry_add(t, &s->sk);
	if (!e)
		return NULL;
	e->row = *s;
	e->row.comm = NULL;
	if (s->comm) {
		strncpy(e->comm, s->comm, sizeof(e->comm) - 1);
		e->row.comm = e->comm;
	}
	e->row.remote_text = NULL;
	if (s->remote_text) {
		e->rname = strdup(s->remote_text);
		e->row.remote_text = e->rname;
	}
	e->inserted = 1;
	e->written_at = s->last_seen;
	return e;
}

int table_seed(struct table *t, const struct store_socket *s)
{
	if (u64map_get(&t->keys, s->sk.cookie))
		return 0;
	struct entry *e = entry_from_row(t, s);
	if (!e)
		return -1;
	listeners_note(t, &e->row.sk);
	return 0;
}

int table_seed_closed(struct table *t, const struct store_socket *s)
{
	if (!table_full_tuple(&s->sk) || u64map_get(&t->keys, s->sk.cookie))
		return 0;
	struct entry *e = entry_from_row(t, s);
	if (!e)
		return -1;
	/* written and closed: it stays only if the first dump shows its remnant */
	e->closed = 1;
	e->close_gen = t->gen;
	table_fold_index(t, e);
	return 0;
}

void table_dump_begin(struct table *t, int64_t now)
{
	t->now = now;
	t->gen++;
	t->listeners_only = 0;
	for (size_t i = 0; i < t->nscratch; i++)
		free(t->scratch[i].name);
	t->nscratch = 0;
}

int table_dump_named(struct table *t, const struct sk *s, const char *rname)
{
	if (util_grow(&t->scratch, &t->capscratch, t->nscratch + 1, sizeof(*t->scratch)) < 0)
		return -1;
	char *name = NULL;
	if (rname && !(name = strdup(rname)))
		return -1;
	t->scratch[t->nscratch].name = name;
	t->scratch[t->nscratch++].sk = *s;
	return 0;
}

int table_dump_sock(void *table, const struct sk *s)
{
	return table_dump_named(table, s, NULL);
}

/* A remote name learnt (or changed): the entry owns name from now on. */
static void take_name(struct entry *e, char **name)
{
	if (!*name || (e->rname && strcmp(e->rname, *name) == 0)) {
		free(*name);
		*name = NULL;
		return;
	}
	free(e->rname);
	e->rname = *name;
	*name = NULL;
	e->row.remote_text = e->rname;
	e->dirty = 1;
}

static int same_endpoints(const struct sk *a, const struct sk *b)
{
	return a->state == b->state && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, 16) == 0 && memcmp(a->raddr, b->raddr, 16) == 0;
}

void table_take_bytes(struct entry *e, const struct sk *s)
{
	if (!(s->have & SK_HAVE_BYTES))
		return;
	struct sk *k = &e->row.sk;
	if (!(k->have & SK_HAVE_BYTES) || s->bytes_sent > k->bytes_sent ||
	    s->bytes_received > k->bytes_received) {
		/* counters only grow; an RST-reset socket reads 0, keep what we saw */
		if (!(k->have & SK_HAVE_BYTES) || s->bytes_sent > k->bytes_sent)
			k->bytes_sent = s->bytes_sent;
		if (!(k->have & SK_HAVE_BYTES) || s->bytes_received > k->bytes_received)
			k->bytes_received = s->bytes_received;
		k->have |= SK_HAVE_BYTES;
		e->soft = 1;
	}
}

/* A socket no entry knows: a new one. */
static int dump_new(struct table *t, const struct sk *s, char **name)
{
	struct entry *e = table_entry_add(t, s);
	if (!e)
		return -1;
	e->first_gen = t->gen;
	e->row.direction = table_direction_of(t, s, e->first_gen);
	e->row.first_seen = e->row.last_seen = t->now;
	e->row.seen_alive = 1;
	e->seen_gen = t->gen;
	e->dirty = 1;
	t->created++;
	take_name(e, name);
	owner_fill(t, e);
	if (s->proto == SK_TCP && s->state == SKS_TIME_WAIT) {
		/* only a remnant is left: the connection itself is already closed
		 * (its notification may still be on its way: keep it foldable) */
		table_fold_index(t, e);
		e->closed = 1;
		e->tw = 1;
		e->close_gen = t->gen;
		e->row.closed_at = t->now;
	}
	return 0;
}

/* A socket an open entry knows: still alive, closed into TIME_WAIT, or changed. */
static void dump_seen(struct table *t, struct entry *e, const struct sk *s, char **name)
{
	e->row.last_seen = t->now;
	e->soft = 1;
	if (s->proto == SK_TCP && s->state == SKS_TIME_WAIT) {
		/* closed without a notification we read (sample, or lost ones) */
		e->row.sk.state = SKS_TIME_WAIT;
		e->tw = 1;
		table_entry_close(e, t->gen - 1, t->now);
		return;
	}
	if (!same_endpoints(&e->row.sk, s)) {
		/* a state change, or a UDP socket that connected: a hard change */
		uint64_t cookie = e->row.sk.cookie;
		uint64_t sent = e->row.sk.bytes_sent, recvd = e->row.sk.bytes_received;
		unsigned had = e->row.sk.have & SK_HAVE_BYTES;
		e->row.sk = *s;
		e->row.sk.cookie = cookie;
		e->row.sk.have = (s->have & ~SK_HAVE_BYTES) | had;
		e->row.sk.bytes_sent = sent;
		e->row.sk.bytes_received = recvd;
		if (e->row.direction != SKD_IN)
			e->row.direction = table_direction_of(t, s, e->first_gen);
		e->dirty = 1;
	}
	if (!e->row.seen_alive) {
		e->row.seen_alive = 1;
		e->dirty = 1;
	}
	take_name(e, name);
	owner_fill(t, e);
	table_take_bytes(e, s);
}

static int dump_one(struct table *t, const struct sk *s, char **name)
{
	struct entry *e = u64map_get(&t->keys, s->cookie);

	if (!e && table_fold_dumped(t, s, &e) < 0)
		return -1;
	if (!e)
		return dump_new(t, s, name);
	e->seen_gen = t->gen;
	if (!e->closed) {
		dump_seen(t, e, s, name);
		return 0;
	}
	/* the TIME_WAIT remnant of a connection that is already closed */
	if (s->state == SKS_TIME_WAIT) {
		e->tw = 1;
		if (e->row.sk.state != SKS_TIME_WAIT) {
			e->row.sk.state = SKS_TIME_WAIT;
			e->dirty = 1;
		}
	}
	return 0;
}

void table_dump_listeners_only(struct table *t)
{
	t->listeners_only = 1;
}

int table_dump_end(struct table *t, unsigned sk_complete)
{
	int rc = 0;

	/* listeners first, so that connections accepted from them read as "in" */
	t->nls = 0;
	for (size_t i = 0; i < t->nscratch; i++)
		listeners_note(t, &t->scratch[i].sk);
	for (size_t i = 0; i < t->nscratch; i++) {
		if (dump_one(t, &t->scratch[i].sk, &t->scratch[i].name) < 0)
			rc = -1;
		free(t->scratch[i].name);
	}
	t->nscratch = 0;
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		if (e->seen_gen == t->gen || !(sk_complete & (1u << e->row.sk.proto)) ||
		    e->flow_row || (t->listeners_only && e->row.sk.state != SKS_LISTEN))
			continue;
		if (e->closed) {
			e->tw = 0;  /* its TIME_WAIT remnant (if any) is gone too */
			continue;
		}
		/* gone between two dumps without a notification (RAW, PACKET, TIME_WAIT
		 * expiry, or notifications the kernel dropped); a remnant would have been
		 * in this dump */
		table_entry_close(e, t->gen - 1, t->now);
	}
	return rc;
}

void table_close_all(struct table *t, int64_t when)
{
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		e->tw = 0;
		if (e->closed)
			continue;
		if (e->row.last_seen < when && e->row.seen_alive)
			e->row.last_seen = when;
		table_entry_close(e, t->gen - 1, when);  /* nothing can fold into it any more */
	}
}

/* ---- The flow join's doors (flow.c) ------------------------------------------------- */

struct table_ref *table_find(struct table *t, table_score_fn score, void *arg)
{
	struct entry *best = NULL;
	int top = 0;
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		if (e->flow_row)
			continue;
		int s = score(arg, &e->row, e->closed, e->pins);
		if (s > top) {
			top = s;
			best = e;
		}
	}
	return (struct table_ref *)best;
}

struct store_socket *table_ref_row(struct table_ref *r)
{
	return &((struct entry *)r)->row;
}

void table_ref_changed(struct table_ref *r)
{
	((struct entry *)r)->dirty = 1;
}

void table_ref_pin(struct table_ref *r, int delta)
{
	struct entry *e = (struct entry *)r;
	if (delta > 0)
		e->pins++;
	else if (e->pins)
		e->pins--;
}

struct table_ref *table_flow_row(struct table *t, const struct store_socket *row)
{
	struct entry *e = u64map_get(&t->keys, row->sk.cookie);
	if (e)
		return (struct table_ref *)e;
	e = table_entry_add(t, &row->sk);
	if (!e)
		return NULL;
	e->row = *row;
	e->row.container_id = t->container_id;
	e->row.comm = NULL;
	if (row->comm) {
		/* the owner of the socket it came from (a ping socket's echo flows) */
		snprintf(e->comm, sizeof(e->comm), "%s", row->comm);
		e->row.comm = e->comm;
	}
	e->flow_row = 1;
	e->dirty = 1;
	table_fold_index(t, e);   /* a TIME_WAIT remnant or late notification finds it */
	t->nflowrows++;
	e->seen_gen = t->gen;
	t->created++;
	return (struct table_ref *)e;
}

struct recall_ctx {
	struct table *t;
	struct table_ref *ref;
};

static struct table_ref *recall_row(struct table *t, const struct store_socket *row)
{
	struct entry *e = u64map_get(&t->keys, row->sk.cookie);
	if (e)
		return e->pins ? NULL : (struct table_ref *)e;   /* seeded, still held */
	e = entry_from_row(t, row);
	if (!e)
		return NULL;
	e->seen_gen = t->gen;
	if (row->flow == STORE_FLOW_ONLY) {
		/* an earlier run's row of this flow: as if this run had made it (a dump
		 * closed it as gone at the start, before its flow ended) */
		e->flow_row = 1;
		t->nflowrows++;
		e->row.closed_at = 0;
		table_fold_index(t, e);
	} else if (row->closed_at) {
		e->closed = 1;
		e->close_gen = t->gen;
	}
	return (struct table_ref *)e;
}

static int recall_cb(void *arg, const struct store_socket *row)
{
	struct recall_ctx *c = arg;
	c->ref = recall_row(c->t, row);
	return 1;
}

int table_recall(struct table *t, struct store *st, const struct store_socket *probe,
		 int64_t from, int64_t to, struct table_ref **out)
{
	struct recall_ctx c = { t, NULL };
	int rc = store_socket_recall(st, t->container_id, probe, from, to, recall_cb, &c);
	*out = c.ref;
	return rc;
}

void table_ref_close(struct table *t, struct table_ref *r, int64_t when)
{
	struct entry *e = (struct entry *)r;
	if (e->closed)
		return;
	if (e->row.last_seen < when)
		e->row.last_seen = when;
	table_entry_close(e, t->gen - 1, when);   /* no TIME_WAIT remnant to wait for */
}
