/* The socket table's fold index: closed TCP connections by 4-tuple, so that what comes
 * later under another cookie (a TIME_WAIT remnant, a late destroy notification, the
 * socket of a flow that became a row first) folds into the row that is there instead
 * of counting the connection twice. And the destroy notifications, which lean on it. */
#include <string.h>
#include "table.h"
#include "table_int.h"

int table_full_tuple(const struct sk *s)
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

void table_fold_index(struct table *t, struct entry *e)
{
	if (!table_full_tuple(&e->row.sk))
		return;
	if (e->tuple)
		u64map_del(&t->tuples, e->tuple, e);
	e->tuple = tuple_hash(&e->row.sk);
	if (u64map_put(&t->tuples, e->tuple, e) < 0)
		e->tuple = 0;
}

static void fold_unindex(struct table *t, struct entry *e)
{
	if (e->tuple)
		u64map_del(&t->tuples, e->tuple, e);
	e->tuple = 0;
}

int table_fold_dumped(struct table *t, const struct sk *s, struct entry **out)
{
	*out = NULL;
	if (s->proto != SK_TCP || !table_full_tuple(s))
		return 0;
	int tw = s->state == SKS_TIME_WAIT;
	struct entry *c = u64map_get(&t->tuples, tuple_hash(s));
	/* a TIME_WAIT remnant may carry a new cookie (cookies are lazy): it belongs to the
	 * connection whose destroy notification we already have, or to the row its flow
	 * made when no poll or notification showed it; and a socket a dump shows only
	 * after its flow became a row of its own (a refused connection whose process
	 * still holds it) is that row */
	if (!c || !(c->flow_row || (tw && c->closed)))
		return 0;
	u64map_del(&t->keys, c->key, c);
	c->key = s->cookie;
	if (u64map_put(&t->keys, c->key, c) < 0)
		return -1;
	fold_unindex(t, c);
	if (!tw) {
		c->flow_row = 0;
		if (t->nflowrows)
			t->nflowrows--;
		c->row.flow = STORE_FLOW_JOINED;
		c->dirty = 1;
	}
	t->folded++;
	*out = c;
	return 0;
}

/* The flow row of the connection a partial notification (RST: no remote port, no local
 * address) comes from: same protocol, local port and remote address. */
static struct entry *flow_row_of(const struct table *t, const struct sk *s)
{
	if (!t->nflowrows || !(s->have & SK_HAVE_LPORT) || !(s->have & SK_HAVE_RADDR))
		return NULL;
	for (size_t i = 0; i < t->nall; i++) {
		struct entry *e = t->all[i];
		const struct sk *k = &e->row.sk;
		if (!e->flow_row || k->proto != s->proto || k->lport != s->lport ||
		    e->row.direction != SKD_OUT)
			continue;
		uint8_t a[16], b[16];
		memcpy(a, k->raddr, 16);
		memcpy(b, s->raddr, 16);
		if (sk_addr_normalise(k->family, a) != sk_addr_normalise(s->family, b) ||
		    memcmp(a, b, 16) != 0)
			continue;
		if ((s->have & SK_HAVE_RPORT) && s->rport && k->rport != s->rport)
			continue;
		return e;
	}
	return NULL;
}

int table_destroyed(struct table *t, const struct sk *s, int64_t now)
{
	struct entry *e = u64map_get(&t->keys, s->cookie);

	if (!e && table_full_tuple(s)) {
		struct entry *c = u64map_get(&t->tuples, tuple_hash(s));
		/* a TIME_WAIT remnant dumped before its connection's notification arrived */
		if (c && c->tw && c->row.sk.state == SKS_TIME_WAIT) {
			fold_unindex(t, c);
			table_take_bytes(c, s);
			c->dirty = 1;
			t->folded++;
			return 0;
		}
	}
	if (!e && (e = flow_row_of(t, s)) != NULL) {
		/* its flow was written as socketless before this notification came: one
		 * connection, one row (the flow's, which knows more) */
		t->folded++;
		return 0;
	}
	if (!e) {
		e = table_entry_add(t, s);
		if (!e)
			return -1;
		/* never seen alive: it appeared after the last dump, so every listener that
		 * dump showed held its port before it (a port-range guess would be the
		 * container's to steer: a socket bound to port 80 that connects out) */
		e->first_gen = t->gen + 1;
		e->row.direction = table_direction_of(t, s, e->first_gen);
		e->row.first_seen = now;
		e->row.seen_alive = 0;
		t->created++;
	} else if (e->closed) {
		table_take_bytes(e, s);
		return 0;
	} else {
		if (e->row.sk.state != SKS_TIME_WAIT)
			e->row.sk.state = s->state;
		/* what the notification still knows: an RST close keeps only part of it */
		if ((s->have & SK_HAVE_RPORT) && !(e->row.sk.have & SK_HAVE_RPORT)) {
			e->row.sk.rport = s->rport;
			e->row.sk.have |= SK_HAVE_RPORT;
		}
		if (s->proto == SK_TCP && !(s->have & SK_HAVE_BYTES))
			e->row.bytes_partial = 1;   /* a flow's counters are better (flow.c) */
		table_take_bytes(e, s);
	}
	e->row.last_seen = now;
	table_entry_close(e, t->gen, now);
	table_fold_index(t, e);
	return 0;
}
