#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/u64map.h"
#include "../lib/util.h"
#include "flow.h"

/* A socket closed this long before a flow's start cannot be its socket (clocks: the
 * flow's start is the kernel's, the socket's close is when clawss read it). */
#define JOIN_SLACK_MS 2000
#define IPS_SEEN_REPLY_BIT (1u << 1)

struct fl {
	struct ctflow f;          /* the latest event's view */
	uint64_t key;             /* identity across its NEW and DESTROY events */
	int64_t read_ms;          /* when its first event was read */
	struct table_ref *ref;    /* the socket it joined, or its own row; pinned */
	uint8_t side;             /* the socket is the flow's source (0) or destination (1) */
	uint8_t own;              /* ref is the flow's own row */
	uint8_t destroyed;
	uint8_t early;            /* first read as its DESTROY: alive before the watch */
	uint8_t recalled;         /* ref is a row an earlier run wrote (table_recall) */
	uint8_t dumped;           /* a dump ran after it was read */
	uint8_t ticks;            /* join passes since then */
	uint64_t base_sent, base_recvd; /* a UDP socket's bytes from its earlier flows */
	size_t idx;               /* in flows.all */
};

struct flows {
	struct fl **all;
	size_t n, cap;
	struct u64map index;      /* key -> flow */
	flows_local_fn local;
	void *local_arg;
	flows_recall_fn recall;
	void *recall_arg;
	int64_t recall_before;    /* flows that began before this (the watch's start) */
	size_t waiting;           /* flows with no ref, or destroyed with one */
	struct flows_stats st;
};

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t flow_key(const struct ctflow *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = mix(h, &f->id, sizeof(f->id));
	h = mix(h, &f->proto, 1);
	h = mix(h, &f->family, 1);
	h = mix(h, f->src, 16);
	h = mix(h, f->dst, 16);
	h = mix(h, &f->sport, 2);
	h = mix(h, &f->dport, 2);
	return h | 1;   /* never 0: u64map's empty slot */
}

struct flows *flows_new(void)
{
	return calloc(1, sizeof(struct flows));
}

void flows_free(struct flows *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n; i++)
		free(fs->all[i]);
	free(fs->all);
	u64map_free(&fs->index);
	free(fs);
}

void flows_set_local(struct flows *fs, flows_local_fn fn, void *arg)
{
	fs->local = fn;
	fs->local_arg = arg;
}

void flows_set_recall(struct flows *fs, flows_recall_fn fn, void *arg, int64_t before)
{
	fs->recall = fn;
	fs->recall_arg = arg;
	fs->recall_before = before;
}

int flows_waiting(const struct flows *fs)
{
	return fs->waiting != 0;
}

void flows_stats(const struct flows *fs, struct flows_stats *out)
{
	*out = fs->st;
	out->live = fs->n;
}

static struct fl *add(struct flows *fs, const struct ctflow *f, uint64_t key, int64_t now)
{
	if (util_grow(&fs->all, &fs->cap, fs->n + 1, sizeof(*fs->all)) < 0)
		return NULL;
	struct fl *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	if (u64map_put(&fs->index, key, x) < 0) {
		free(x);
		return NULL;
	}
	x->f = *f;
	x->key = key;
	x->read_ms = now;
	x->idx = fs->n;
	fs->all[fs->n++] = x;
	fs->waiting++;
	return x;
}

static void drop(struct flows *fs, struct fl *x)
{
	u64map_del(&fs->index, x->key, x);
	struct fl *last = fs->all[--fs->n];
	last->idx = x->idx;
	fs->all[x->idx] = last;
	free(x);
}

static void fill(struct fl *x, int final);

int flows_event(struct flows *fs, const struct ctflow *f, int64_t now)
{
	uint64_t key = flow_key(f);
	struct fl *x = u64map_get(&fs->index, key);
	fs->st.events++;
	if (f->event == CT_UPDATE) {
		/* fresh counters of a flow we hold; one we do not is gone or not ours */
		if (x && !x->destroyed && f->counters) {
			x->f.counters = 1;
			x->f.orig_bytes = f->orig_bytes;
			x->f.reply_bytes = f->reply_bytes;
			x->f.orig_packets = f->orig_packets;
			x->f.reply_packets = f->reply_packets;
			if (x->ref)
				fill(x, 1);
		}
		return 0;
	}
	if (!x) {
		/* a DESTROY with no NEW: the flow predates the watch, or its NEW was lost */
		x = add(fs, f, key, now);
		if (!x)
			return -1;
		x->early = f->event == CT_DESTROY;
	} else {
		int64_t start = x->f.start_ms;
		x->f = *f;
		if (!x->f.start_ms)
			x->f.start_ms = start;
	}
	if (f->event == CT_DESTROY && !x->destroyed) {
		x->destroyed = 1;
		if (x->ref)
			fs->waiting++;
	}
	return 0;
}

static int zero(const uint8_t *a)
{
	static const uint8_t z[16];
	return memcmp(a, z, 16) == 0;
}

/* Both addresses as IPv4 where they are v4-mapped, then compared whole. */
static int addr_eq(int fam_a, const uint8_t *a, int fam_b, const uint8_t *b)
{
	uint8_t x[16], y[16];
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	fam_a = sk_addr_normalise(fam_a, x);
	fam_b = sk_addr_normalise(fam_b, y);
	if (fam_a == SKF_IPV4)
		memset(x + 4, 0, 12);
	if (fam_b == SKF_IPV4)
		memset(y + 4, 0, 12);
	return fam_a == fam_b && memcmp(x, y, 16) == 0;
}

/* Which side of the flow the socket is: 0 its source, 1 its destination, -1 neither.
 * The socket must know its local port and remote address; what else it knows must
 * agree (an RST-closed socket has lost its remote port and local address). */
static int side_of(const struct ctflow *f, const struct sk *k)
{
	if (k->proto != f->proto || !(k->have & SK_HAVE_LPORT) || !(k->have & SK_HAVE_RADDR) ||
	    zero(k->raddr))
		return -1;
	for (int side = 0; side < 2; side++) {
		const uint8_t *la = side ? f->dst : f->src, *ra = side ? f->src : f->dst;
		uint16_t lp = side ? f->dport : f->sport, rp = side ? f->sport : f->dport;
		if (k->lport != lp || !addr_eq(k->family, k->raddr, f->family, ra))
			continue;
		if ((k->have & SK_HAVE_RPORT) && k->rport != rp)
			continue;
		if ((k->have & SK_HAVE_LADDR) && !zero(k->laddr) &&
		    !addr_eq(k->family, k->laddr, f->family, la))
			continue;
		return side;
	}
	return -1;
}

static int score(void *arg, const struct store_socket *r, int closed, unsigned pins)
{
	const struct fl *x = arg;
	int64_t start = x->f.start_ms ? x->f.start_ms : x->read_ms;
	if (pins || (closed && r->flow) || r->flow == STORE_FLOW_ONLY)
		return 0;    /* it has its flow: one connection, counted once */
	int side = side_of(&x->f, &r->sk);
	if (side < 0)
		return 0;
	if (closed && r->closed_at && r->closed_at + JOIN_SLACK_MS < start)
		return 0;    /* gone before the flow began: an earlier use of the tuple */
	if (x->f.stop_ms && r->first_seen > x->f.stop_ms + JOIN_SLACK_MS)
		return 0;    /* born after the flow ended: a later use of the tuple */
	/* prefer an open socket, then one that knows more; on loopback both ends are
	 * here: the one that started the flow is its socket */
	return 2 + (closed ? 0 : 16) + ((r->sk.have & SK_HAVE_RPORT) ? 8 : 0) +
	       (r->seen_alive ? 4 : 0) + (side == 0 ? 1 : 0);
}

/* What the flow tells the socket: remote port and local address it lost, the original
 * direction, and (once ended) its counters where tcp_info gave none. */
static void fill(struct fl *x, int counters)
{
	struct store_socket *r = table_ref_row(x->ref);
	struct sk *k = &r->sk;
	const struct ctflow *f = &x->f;
	int changed = 0;
	if (!x->own && r->flow != STORE_FLOW_JOINED) {
		changed = 1;
		if (!(k->have & SK_HAVE_RPORT)) {
			k->rport = x->side ? f->sport : f->dport;
			k->have |= SK_HAVE_RPORT;
		}
		if (!(k->have & SK_HAVE_LADDR) || zero(k->laddr)) {
			memcpy(k->laddr, x->side ? f->dst : f->src, 16);
			if (k->family == SKF_IPV6 && f->family == SKF_IPV4) {
				/* the socket's family stays; its address goes v4-mapped */
				memmove(k->laddr + 12, k->laddr, 4);
				memset(k->laddr, 0, 10);
				k->laddr[10] = k->laddr[11] = 0xff;
			}
			k->have |= SK_HAVE_LADDR;
		}
		if (r->direction != SKD_LISTEN)
			r->direction = x->side ? SKD_IN : SKD_OUT;
		r->flow = STORE_FLOW_JOINED;
	}
	/* tcp_info's payload counts win, unless an RST lost the final ones */
	if (counters && f->counters &&
	    (!(k->have & SK_HAVE_BYTES) ||
	     ((r->bytes_flow || r->bytes_partial) && !(x->recalled && !x->own)))) {
		/* a connected UDP socket outlives its flows: its bytes are their sum */
		uint64_t sent = x->base_sent + (x->side ? f->reply_bytes : f->orig_bytes);
		uint64_t recvd = x->base_recvd + (x->side ? f->orig_bytes : f->reply_bytes);
		if (!(k->have & SK_HAVE_BYTES) || k->bytes_sent != sent ||
		    k->bytes_received != recvd) {
			k->bytes_sent = sent;
			k->bytes_received = recvd;
			k->have |= SK_HAVE_BYTES;
			r->bytes_flow = 1;
			changed = 1;
		}
	}
	if (changed)
		table_ref_changed(x->ref);
}

static int is_local(const struct flows *fs, int family, const uint8_t *a)
{
	return fs->local && fs->local(fs->local_arg, family, a) == 1;
}

/* The ping socket an echo flow came from: an ICMP socket of the flow's family whose
 * local port (the echo identifier the kernel gave it) is the flow's identifier and that
 * has no other peer; one alive is preferred to one closed. */
static int score_ping(void *arg, const struct store_socket *r, int closed, unsigned pins)
{
	const struct ctflow *f = arg;
	const struct sk *k = &r->sk;
	(void)pins;
	if (k->proto != SK_ICMP || !(k->have & SK_HAVE_LPORT) || k->lport != f->sport ||
	    k->family != f->family ||
	    ((k->have & SK_HAVE_RADDR) && !zero(k->raddr) &&
	     !addr_eq(k->family, k->raddr, f->family, f->dst)))
		return 0;
	return closed ? 1 : 2;
}

/* The row a flow with no socket is: *in when its destination is ours. */
static void flow_row_build(struct flows *fs, const struct fl *x, int64_t now,
			   struct store_socket *row, int *in_out)
{
	const struct ctflow *f = &x->f;
	struct store_socket r = { 0 };
	struct sk *k = &r.sk;
	/* in only when the destination is ours and the source is not: a container cannot
	 * make what it sends read in */
	int in = !is_local(fs, f->family, f->src) && is_local(fs, f->family, f->dst);
	uint64_t c = (x->key ^ (uint64_t)(f->start_ms ? f->start_ms : x->read_ms) *
		      0x9e3779b97f4a7c15ULL) & (SK_COOKIE_FLOW - 1);
	k->cookie = SK_COOKIE_FLOW | (c ? c : 1);
	k->proto = f->proto;
	k->family = f->family;
	k->state = f->proto != SK_TCP ? SKS_ESTABLISHED :
		   (f->status & IPS_SEEN_REPLY_BIT) ? SKS_ESTABLISHED : SKS_SYN_SENT;
	memcpy(k->laddr, in ? f->dst : f->src, 16);
	memcpy(k->raddr, in ? f->src : f->dst, 16);
	k->lport = in ? f->dport : f->sport;
	k->rport = f->proto == SK_ICMP ? 0 : in ? f->sport : f->dport;
	k->have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT;
	r.direction = in ? SKD_IN : SKD_OUT;
	r.first_seen = f->start_ms ? f->start_ms : x->read_ms;
	r.last_seen = f->stop_ms ? f->stop_ms : now;
	r.flow = STORE_FLOW_ONLY;
	*row = r;
	*in_out = in;
}

static struct table_ref *own_row(struct flows *fs, struct fl *x, struct table *t, int64_t now)
{
	const struct ctflow *f = &x->f;
	struct store_socket r;
	int in;
	flow_row_build(fs, x, now, &r, &in);
	if (f->proto == SK_ICMP && !in) {
		/* an unconnected ping socket sends to many hosts: each echo flow is a row of
		 * its own, with the socket's owner */
		struct table_ref *ping = table_find(t, score_ping, (void *)f);
		if (ping) {
			r.pid = table_ref_row(ping)->pid;
			r.comm = table_ref_row(ping)->comm;
		}
	}
	x->side = (uint8_t)in;
	x->own = 1;
	return table_flow_row(t, &r);
}

/* A flow alive before the watch began (clawss restarted) that no socket in memory
 * matches: the row an earlier run wrote of it, if the store has one, so that a restart
 * does not count the connection twice. Needs the flow's start (its DESTROY has it); one
 * that began later and came as a DESTROY alone lost its NEW (an overflow): it is a row
 * of its own, never folded into an older row of the same tuple. */
static struct table_ref *recall(struct flows *fs, struct fl *x, struct table *t, int64_t now)
{
	struct store_socket probe;
	int in;
	if (!x->early || !fs->recall || !x->f.start_ms || x->f.start_ms >= fs->recall_before)
		return NULL;
	flow_row_build(fs, x, now, &probe, &in);
	struct table_ref *ref = fs->recall(fs->recall_arg, t, &probe, x->f.start_ms - JOIN_SLACK_MS,
					   (x->f.stop_ms ? x->f.stop_ms : now) + JOIN_SLACK_MS);
	if (!ref)
		return NULL;
	const struct store_socket *r = table_ref_row(ref);
	x->recalled = 1;
	x->own = r->flow == STORE_FLOW_ONLY;
	int side = x->own ? -1 : side_of(&x->f, &r->sk);
	x->side = (uint8_t)(side < 0 ? in : side);
	fs->st.recalled++;
	return ref;
}

/* One flow's share of a join pass; 1 when it is done with and can be dropped. */
static int join_one(struct flows *fs, struct fl *x, struct table *t, int64_t now, int how)
{
	if (!x->ref) {
		if (how & FLOWS_DUMPED)
			x->dumped = 1;
		if (x->dumped && x->ticks < 255)
			x->ticks++;
		struct table_ref *ref = table_find(t, score, x);
		if (ref) {
			const struct store_socket *r = table_ref_row(ref);
			x->ref = ref;
			x->side = (uint8_t)side_of(&x->f, &r->sk);
			if (r->bytes_flow) {
				x->base_sent = r->sk.bytes_sent;
				x->base_recvd = r->sk.bytes_received;
			}
			fs->st.joined++;
		} else if (x->ticks >= 2 || (how & FLOWS_FINAL)) {
			if (!(x->ref = recall(fs, x, t, now))) {
				x->ref = own_row(fs, x, t, now);
				if (!x->ref)
					return -1;
				fs->st.own_rows++;
			}
		} else {
			return 0;
		}
		table_ref_pin(x->ref, 1);
		fs->waiting--;
		if (x->own)
			table_ref_changed(x->ref);
		fill(x, 1);
		if (x->destroyed)
			fs->waiting++;
	}
	if (!x->destroyed)
		return 0;
	if (x->own && x->f.proto == SK_TCP) {
		table_ref_row(x->ref)->sk.state = SKS_CLOSE;
		table_ref_changed(x->ref);
	}
	fill(x, 1);
	if (x->own)
		table_ref_close(t, x->ref, x->f.stop_ms ? x->f.stop_ms : now);
	table_ref_pin(x->ref, -1);
	fs->waiting--;
	return 1;
}

int flows_join(struct flows *fs, struct table *t, int64_t now, int how)
{
	int rc = 0;
	if (!fs->waiting)
		return 0;
	for (size_t i = 0; i < fs->n;) {
		struct fl *x = fs->all[i];
		int done = join_one(fs, x, t, now, how);
		if (done < 0)
			rc = -1;
		if (done > 0) {
			drop(fs, x);
			continue;   /* the last flow moved into slot i */
		}
		i++;
	}
	return rc;
}
