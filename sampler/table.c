#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"

/* u64 -> entry map, open addressing with linear probing; key 0 is the empty slot
 * (the kernel never hands out cookie 0, and tuple hashes are forced odd). */
struct map {
	uint64_t *keys;
	struct entry **vals;
	size_t cap, n;
};

struct entry {
	uint64_t key;             /* the cookie the kernel shows now */
	uint64_t tuple;           /* tuple hash while in the fold index, else 0 */
	struct store_socket row;  /* row.sk.cookie stays the first cookie seen */
	char comm[16];
	char *rname;              /* remote name that is no address (a unix peer's path) */
	size_t idx;               /* position in table.all */
	uint32_t seen_gen;        /* dump generation that last showed it */
	uint32_t close_gen;       /* dump generation when it closed */
	int64_t written_at;
	uint8_t dirty;            /* a hard change: write at the next flush */
	uint8_t soft;             /* last_seen/bytes moved: write at the refresh period */
	uint8_t inserted;
	uint8_t closed;
	uint8_t tw;               /* a TIME_WAIT remnant is still in the kernel's tables */
};

struct table {
	int64_t container_id;
	int64_t refresh_ms;
	int64_t now;
	uint32_t gen;
	struct map keys;
	struct map tuples;        /* TCP 4-tuple -> closed connection, for TIME_WAIT folding */
	struct entry **all;
	size_t nall, capall;
	struct sk *scratch;       /* this dump's sockets, processed at table_dump_end */
	char **scratch_name;      /* and their remote names (table_dump_named), or NULL */
	size_t nscratch, capscratch;
	uint16_t *listen_tcp, *listen_udp;
	size_t nlisten_tcp, nlisten_udp, caplisten_tcp, caplisten_udp;
	table_owner_fn owner;
	void *owner_arg;
	uint16_t eph_lo, eph_hi;
	uint64_t created, folded;
};

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static struct entry *map_get(const struct map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static int map_put(struct map *m, uint64_t key, struct entry *e);

static int map_grow(struct map *m)
{
	struct map bigger = { 0 };
	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			map_put(&bigger, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = bigger;
	return 0;
}

static int map_put(struct map *m, uint64_t key, struct entry *e)
{
	if ((m->n + 1) * 10 > m->cap * 7 && map_grow(m) < 0)
		return -1;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = e;
			return 0;
		}
		if (m->keys[i] == 0) {
			m->keys[i] = key;
			m->vals[i] = e;
			m->n++;
			return 0;
		}
	}
}

/* Deletes key if it maps to e (backward-shift deletion keeps probe chains intact). */
static void map_del(struct map *m, uint64_t key, const struct entry *e)
{
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = slot_of(key, m->cap);
	while (m->keys[i] != key) {
		if (m->keys[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	if (m->vals[i] != e)
		return;
	m->n--;
	for (size_t j = i;;) {
		m->keys[i] = 0;
		m->vals[i] = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (m->keys[j] == 0)
				return;
			size_t home = slot_of(m->keys[j], m->cap);
			/* move j back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int full_tuple(const struct sk *s)
{
	unsigned need = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT;
	return s->proto == SK_TCP && (s->have & need) == need && s->rport != 0;
}

static uint64_t tuple_hash(const struct sk *s)
{
	/* FNV-1a over the 4-tuple, addresses normalised so v4-mapped == v4 */
	uint8_t la[16], ra[16];
	uint64_t h = 0xcbf29ce484222325ULL;
	memcpy(la, s->laddr, 16);
	memcpy(ra, s->raddr, 16);
	sk_addr_normalise(s->family, la);
	sk_addr_normalise(s->family, ra);
	const uint8_t *parts[2] = { la, ra };
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 16; i++)
			h = (h ^ parts[p][i]) * 0x100000001b3ULL;
	h = (h ^ s->lport) * 0x100000001b3ULL;
	h = (h ^ s->rport) * 0x100000001b3ULL;
	return h | 1;
}

struct table *table_new(int64_t container_id, int64_t refresh_ms)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->container_id = container_id;
	t->refresh_ms = refresh_ms;
	t->eph_lo = 32768;
	t->eph_hi = 60999;
	return t;
}

void table_set_owner(struct table *t, table_owner_fn fn, void *arg)
{
	t->owner = fn;
	t->owner_arg = arg;
}

void table_set_ephemeral(struct table *t, uint16_t lo, uint16_t hi)
{
	t->eph_lo = lo;
	t->eph_hi = hi;
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
		free(t->scratch_name[i]);
	free(t->scratch_name);
	map_free(&t->keys);
	map_free(&t->tuples);
	free(t->scratch);
	free(t->listen_tcp);
	free(t->listen_udp);
	free(t);
}

static struct entry *entry_add(struct table *t, const struct sk *s)
{
	if (t->nall == t->capall) {
		size_t cap = t->capall ? t->capall * 2 : 64;
		struct entry **all = realloc(t->all, cap * sizeof(*all));
		if (!all)
			return NULL;
		t->all = all;
		t->capall = cap;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = s->cookie;
	e->row.sk = *s;
	e->row.container_id = t->container_id;
	if (map_put(&t->keys, e->key, e) < 0) {
		free(e);
		return NULL;
	}
	e->idx = t->nall;
	t->all[t->nall++] = e;
	return e;
}

static void entry_remove(struct table *t, struct entry *e)
{
	map_del(&t->keys, e->key, e);
	if (e->tuple)
		map_del(&t->tuples, e->tuple, e);
	struct entry *last = t->all[--t->nall];
	last->idx = e->idx;
	t->all[e->idx] = last;
	free(e->rname);
	free(e);
}

static void fold_index(struct table *t, struct entry *e)
{
	if (!full_tuple(&e->row.sk))
		return;
	if (e->tuple)
		map_del(&t->tuples, e->tuple, e);
	e->tuple = tuple_hash(&e->row.sk);
	if (map_put(&t->tuples, e->tuple, e) < 0)
		e->tuple = 0;
}

static void fold_unindex(struct table *t, struct entry *e)
{
	if (e->tuple)
		map_del(&t->tuples, e->tuple, e);
	e->tuple = 0;
}

static int port_in(const uint16_t *v, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == port)
			return 1;
	return 0;
}

static int port_add(uint16_t **v, size_t *n, size_t *cap, uint16_t port)
{
	if (port_in(*v, *n, port))
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		uint16_t *nv = realloc(*v, c * sizeof(**v));
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = port;
	return 0;
}

static int is_udp_server(const struct sk *s)
{
	static const uint8_t zero[16];
	return s->proto == SK_UDP && s->state == SKS_CLOSE && s->lport &&
	       memcmp(s->raddr, zero, 16) == 0;
}

/* Direction rule: a TCP socket whose local port is a listener's in this namespace was
 * accepted from it (in); a connected UDP socket sharing its local port with an
 * unconnected bound UDP socket answers that server (in); everything else the container
 * opened itself (out). A listener is "listen". Sockets seen only at their destruction
 * get a second chance in table_destroyed (ephemeral ports). */
static int direction_of(const struct table *t, const struct sk *s)
{
	if (s->proto == SK_TCP) {
		if (s->state == SKS_LISTEN)
			return SKD_LISTEN;
		if ((s->have & SK_HAVE_LPORT) && port_in(t->listen_tcp, t->nlisten_tcp, s->lport))
			return SKD_IN;
	} else if (s->proto == SK_UDP && !is_udp_server(s) && (s->have & SK_HAVE_LPORT) &&
		   port_in(t->listen_udp, t->nlisten_udp, s->lport)) {
		return SKD_IN;
	}
	return SKD_OUT;
}

static void listeners_note(struct table *t, const struct sk *s)
{
	if (s->proto == SK_TCP && s->state == SKS_LISTEN)
		port_add(&t->listen_tcp, &t->nlisten_tcp, &t->caplisten_tcp, s->lport);
	else if (is_udp_server(s))
		port_add(&t->listen_udp, &t->nlisten_udp, &t->caplisten_udp, s->lport);
}

static void owner_fill(struct table *t, struct entry *e)
{
	if (!t->owner || !(e->row.sk.have & SK_HAVE_INODE) || e->row.pid)
		return;
	t->owner(t->owner_arg, e->row.sk.inode, &e->row.pid, e->comm);
	e->comm[sizeof(e->comm) - 1] = '\0';
	e->row.comm = e->comm[0] ? e->comm : NULL;
}

int table_seed(struct table *t, const struct store_socket *s)
{
	if (map_get(&t->keys, s->sk.cookie))
		return 0;
	struct entry *e = entry_add(t, &s->sk);
	if (!e)
		return -1;
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
	listeners_note(t, &e->row.sk);
	return 0;
}

void table_dump_begin(struct table *t, int64_t now)
{
	t->now = now;
	t->gen++;
	for (size_t i = 0; i < t->nscratch; i++)
		free(t->scratch_name[i]);
	t->nscratch = 0;
}

int table_dump_named(struct table *t, const struct sk *s, const char *rname)
{
	if (t->nscratch == t->capscratch) {
		size_t cap = t->capscratch ? t->capscratch * 2 : 32;
		struct sk *v = realloc(t->scratch, cap * sizeof(*v));
		if (!v)
			return -1;
		t->scratch = v;
		char **nv = realloc(t->scratch_name, cap * sizeof(*nv));
		if (!nv)
			return -1;
		t->scratch_name = nv;
		t->capscratch = cap;
	}
	char *name = NULL;
	if (rname && !(name = strdup(rname)))
		return -1;
	t->scratch_name[t->nscratch] = name;
	t->scratch[t->nscratch++] = *s;
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

static void take_bytes(struct entry *e, const struct sk *s)
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

static int dump_one(struct table *t, const struct sk *s, char **name)
{
	struct entry *e = map_get(&t->keys, s->cookie);

	if (!e && s->proto == SK_TCP && s->state == SKS_TIME_WAIT && full_tuple(s)) {
		/* a TIME_WAIT remnant may carry a new cookie (cookies are lazy): it belongs
		 * to the connection whose destroy notification we already have */
		struct entry *c = map_get(&t->tuples, tuple_hash(s));
		if (c && c->closed) {
			map_del(&t->keys, c->key, c);
			c->key = s->cookie;
			if (map_put(&t->keys, c->key, c) < 0)
				return -1;
			fold_unindex(t, c);
			e = c;
			t->folded++;
		}
	}
	if (!e) {
		e = entry_add(t, s);
		if (!e)
			return -1;
		e->row.direction = direction_of(t, s);
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
			fold_index(t, e);
			e->closed = 1;
			e->tw = 1;
			e->close_gen = t->gen;
			e->row.closed_at = t->now;
		}
		return 0;
	}
	e->seen_gen = t->gen;
	if (e->closed) {
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
	e->row.last_seen = t->now;
	e->soft = 1;
	if (s->proto == SK_TCP && s->state == SKS_TIME_WAIT) {
		/* closed without a notification we read (sample, or lost ones) */
		e->row.sk.state = SKS_TIME_WAIT;
		e->closed = 1;
		e->tw = 1;
		e->close_gen = t->gen - 1;
		e->row.closed_at = t->now;
		e->dirty = 1;
		return 0;
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
			e->row.direction = direction_of(t, s);
		e->dirty = 1;
	}
	if (!e->row.seen_alive) {
		e->row.seen_alive = 1;
		e->dirty = 1;
	}
	take_name(e, name);
	owner_fill(t, e);
	take_bytes(e, s);
	return 0;
}

int table_dump_end(struct table *t, unsigned kinds_complete)
{
	int rc = 0;

	/* listeners first, so that connections accepted from them read as "in" */
	t->nlisten_tcp = t->nlisten_udp = 0;
	for (size_t i = 0; i < t->nscratch; i++)
		listeners_note(t, &t->scratch[i]);
	for (size_t i = 0; i < t->nscratch; i++) {
		if (dump_one(t, &t->scratch[i], &t->scratch_name[i]) < 0)
			rc = -1;
		free(t->scratch_name[i]);
	}
	t->nscratch = 0;
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		if (e->seen_gen == t->gen || !(kinds_complete & (1u << e->row.sk.proto)))
			continue;
		if (e->closed) {
			e->tw = 0;  /* its TIME_WAIT remnant (if any) is gone too */
			continue;
		}
		/* gone between two dumps without a notification (RAW, PACKET, TIME_WAIT
		 * expiry, or notifications the kernel dropped) */
		e->closed = 1;
		e->close_gen = t->gen - 1;  /* a remnant would have been in this dump */
		e->row.closed_at = t->now;
		e->dirty = 1;
	}
	return rc;
}

int table_destroyed(struct table *t, const struct sk *s, int64_t now)
{
	struct entry *e = map_get(&t->keys, s->cookie);

	if (!e && full_tuple(s)) {
		struct entry *c = map_get(&t->tuples, tuple_hash(s));
		/* a TIME_WAIT remnant dumped before its connection's notification arrived */
		if (c && c->tw && c->row.sk.state == SKS_TIME_WAIT) {
			fold_unindex(t, c);
			take_bytes(c, s);
			c->dirty = 1;
			t->folded++;
			return 0;
		}
	}
	if (!e) {
		e = entry_add(t, s);
		if (!e)
			return -1;
		e->row.direction = direction_of(t, s);
		/* never seen alive, its listener perhaps neither: a local port outside the
		 * ephemeral range talking to a peer's ephemeral port was accepted */
		if (e->row.direction == SKD_OUT && (s->have & SK_HAVE_LPORT) &&
		    (s->have & SK_HAVE_RPORT) && (s->lport < t->eph_lo || s->lport > t->eph_hi) &&
		    s->rport >= t->eph_lo && s->rport <= t->eph_hi)
			e->row.direction = SKD_IN;
		e->row.first_seen = now;
		e->row.seen_alive = 0;
		t->created++;
	} else if (e->closed) {
		take_bytes(e, s);
		return 0;
	} else {
		if (e->row.sk.state != SKS_TIME_WAIT)
			e->row.sk.state = s->state;
		/* what the notification still knows: an RST close keeps only part of it */
		if ((s->have & SK_HAVE_RPORT) && !(e->row.sk.have & SK_HAVE_RPORT)) {
			e->row.sk.rport = s->rport;
			e->row.sk.have |= SK_HAVE_RPORT;
		}
		take_bytes(e, s);
	}
	e->closed = 1;
	e->close_gen = t->gen;
	e->row.last_seen = now;
	e->row.closed_at = now;
	e->dirty = 1;
	fold_index(t, e);
	return 0;
}

void table_close_all(struct table *t, int64_t when)
{
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		e->tw = 0;
		if (e->closed)
			continue;
		e->closed = 1;
		e->close_gen = t->gen - 1;  /* nothing can fold into it any more */
		e->row.closed_at = when;
		if (e->row.last_seen < when && e->row.seen_alive)
			e->row.last_seen = when;
		e->dirty = 1;
	}
}

/* Whether an entry is written now: a hard change at once; moved bytes and last_seen at
 * the refresh period (or when forced), and with its close. */
static int entry_due(const struct table *t, const struct entry *e, int64_t now, int force)
{
	return e->dirty ||
	       (e->soft && (e->closed || force || now - e->written_at >= t->refresh_ms));
}

int table_flush(struct table *t, struct store *st, int64_t now, int force)
{
	int written = 0;

	for (size_t i = 0; i < t->nall;) {
		struct entry *e = t->all[i];
		if (entry_due(t, e, now, force)) {
			int rc = e->inserted ? store_socket_update(st, &e->row)
					     : store_socket_insert(st, &e->row);
			if (rc < 0)
				return -1;
			e->inserted = 1;
			e->dirty = e->soft = 0;
			e->written_at = now;
			written++;
		}
		/* a closed connection stays until a dump after its close has had the chance
		 * to show its TIME_WAIT remnant, and while that remnant lives */
		if (e->closed && !e->tw && e->close_gen < t->gen) {
			entry_remove(t, e);
			continue;  /* the last entry moved into slot i */
		}
		i++;
	}
	return written;
}

int table_flush_pending(const struct table *t, int64_t now, int force)
{
	for (size_t i = 0; i < t->nall; i++)
		if (entry_due(t, t->all[i], now, force))
			return 1;
	return 0;
}

void table_stats(const struct table *t, struct table_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->entries = t->nall;
	for (size_t i = 0; i < t->nall; i++)
		out->live += !t->all[i]->closed;
	out->created = t->created;
	out->folded = t->folded;
}
