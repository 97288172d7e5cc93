#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "../store/dns.h"
#include "dns.h"
#include "dnslog.h"
#include "dnsw.h"

#define RING 64   /* recent queries an answer is matched against */

struct dnsw_ev {
	int64_t t;
	uint8_t proto, family;
	uint8_t resolver[16];
	uint16_t resolver_port, client_port;
	struct dns_msg m;
};

struct recent {
	uint64_t qhash;
	int64_t rowid, t;
	uint16_t id, client_port, resolver_port, qtype;
	uint8_t family, resolver[16];
};

struct dnsw {
	struct dnslog *log;
	struct dnsw_ev *q;
	size_t n, cap;
	struct recent ring[RING];
	unsigned ring_pos;
	int counted;               /* budget counts read from the store */
	int64_t nq, nn;            /* rows stored for this container */
	int64_t over_q, over_n, over_queue, reported;
	int64_t budget_row;
	int lost;
};

struct dnsw *dnsw_new(struct dnslog *log)
{
	struct dnsw *w = calloc(1, sizeof(*w));
	if (!w) {
		dnslog_close(log);
		return NULL;
	}
	w->log = log;
	return w;
}

int dnsw_fd(const struct dnsw *w)
{
	return dnslog_fd(w->log);
}

int dnsw_pending(const struct dnsw *w)
{
	return w->n > 0 || w->over_queue + w->over_q + w->over_n != w->reported;
}

static void on_packet(void *arg, const uint8_t *pkt, size_t len, int64_t t)
{
	struct dnsw *w = arg;
	struct dns_pkt p;
	struct dns_msg m;

	if (dns_packet(pkt, len, &p) < 0 || dns_parse(p.payload, p.len, &m) < 0)
		return;
	/* queries the container sends, answers it receives: nothing else was logged */
	int answer = p.sport == 53 && m.qr;
	if (!answer && !(p.dport == 53 && !m.qr))
		return;
	if (w->n == w->cap && (w->cap >= DNSW_QUEUE_MAX ||
			       util_grow(&w->q, &w->cap, w->n + 1, sizeof(*w->q)) < 0)) {
		w->over_queue++;
		return;
	}
	struct dnsw_ev *e = &w->q[w->n++];
	e->t = t;
	e->proto = p.proto;
	e->family = p.family;
	memcpy(e->resolver, answer ? p.saddr : p.daddr, 16);
	e->resolver_port = answer ? p.sport : p.dport;
	e->client_port = answer ? p.dport : p.sport;
	e->m = m;
}

int dnsw_read(struct dnsw *w, int *lost)
{
	int klost = 0;
	int64_t before = w->over_queue;
	int n = dnslog_read(w->log, on_packet, w, &klost);
	if (klost)
		w->over_queue++;   /* at least one: the kernel does not say how many */
	*lost = klost || w->over_queue != before;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct recent *ring_find(struct dnsw *w, const struct dnsw_ev *e, uint64_t h)
{
	for (unsigned i = 0; i < RING; i++) {
		struct recent *r = &w->ring[i];
		if (r->rowid && r->id == e->m.id && r->client_port == e->client_port &&
		    r->qhash == h && r->qtype == e->m.qtype && r->family == e->family &&
		    r->resolver_port == e->resolver_port && !memcmp(r->resolver, e->resolver, 16))
			return r;
	}
	return NULL;
}

static void answers_text(const struct dns_msg *m, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < m->nanswers && off + 47 < len; i++) {
		char a[64];
		sk_addr_text(m->an[i].family, m->an[i].addr, a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", a);
	}
}

static int write_names(struct dnsw *w, struct store_dns *sd, int64_t cid,
		       const struct dnsw_ev *e, const char *resolver)
{
	for (unsigned i = 0; i < e->m.nanswers; i++) {
		char a[64];
		int inserted;
		sk_addr_text(e->m.an[i].family, e->m.an[i].addr, a, sizeof(a));
		int room = w->nn < DNSW_NAME_BUDGET;
		if (store_dns_name(sd, cid, e->m.qname, a, e->t, e->m.an[i].ttl, resolver,
				   room, &inserted) < 0)
			return -1;
		if (inserted)
			w->nn++;
		else if (!room)
			w->over_n++;   /* counted even when it only extended an episode: cheap */
	}
	return 0;
}

static int write_one(struct dnsw *w, struct store_dns *sd, int64_t cid, const struct dnsw_ev *e)
{
	char resolver[64], answers[DNS_MAX_ANSWERS * 48];
	uint64_t h = name_hash(e->m.qname);
	struct recent *r;

	sk_addr_text(e->family, e->resolver, resolver, sizeof(resolver));
	answers_text(&e->m, answers, sizeof(answers));
	if (e->m.qr && (r = ring_find(w, e, h))) {
		if (store_dns_answer(sd, r->rowid, e->m.rcode, answers[0] ? answers : NULL,
				     e->t) < 0)
			return -1;
		r->rowid = 0;   /* one answer per query */
		return write_names(w, sd, cid, e, resolver);
	}
	if (w->nq >= DNSW_QUERY_BUDGET) {
		w->over_q++;
	} else {
		struct store_dns_query q = {
			.container_id = cid, .t = e->t, .resolver_addr = resolver,
			.resolver_port = e->resolver_port,
			.proto = sk_proto_name(e->proto), .qname = e->m.qname, .qtype = e->m.qtype,
			.rcode = e->m.qr ? e->m.rcode : -1,
			.answers = e->m.qr && answers[0] ? answers : NULL,
			.answered_at = e->m.qr ? e->t : 0,
		};
		int64_t rowid;
		if (store_dns_query(sd, &q, &rowid) < 0)
			return -1;
		w->nq++;
		if (!e->m.qr) {
			r = &w->ring[w->ring_pos++ % RING];
			*r = (struct recent){ .qhash = h, .rowid = rowid, .t = e->t, .id = e->m.id,
					      .client_port = e->client_port,
					      .resolver_port = e->resolver_port,
					      .qtype = e->m.qtype, .family = e->family };
			memcpy(r->resolver, e->resolver, 16);
		}
	}
	return e->m.qr ? write_names(w, sd, cid, e, resolver) : 0;
}

int dnsw_flush(struct dnsw *w, struct store_dns *sd, int64_t cid)
{
	if (!w->counted) {
		if (store_dns_count(sd, cid, &w->nq, &w->nn) < 0)
			return -1;
		w->counted = 1;
	}
	int64_t last = w->n ? w->q[w->n - 1].t : time_now_ms();
	for (size_t i = 0; i < w->n; i++)
		if (write_one(w, sd, cid, &w->q[i]) < 0)
			return -1;
	w->n = 0;
	if (w->cap > 8) {
		/* a burst's queue (about 700 bytes a packet) is not kept for ever: a quiet
		 * namespace holds 8 at most */
		free(w->q);
		w->q = NULL;
		w->cap = 0;
	}
	int64_t over = w->over_queue + w->over_q + w->over_n;
	if (over != w->reported) {
		char detail[200];
		snprintf(detail, sizeof(detail), "not stored: %lld queries past the budget of %d,"
			 " %lld answers past %d names, %lld packets past the queue of %d",
			 (long long)w->over_q, DNSW_QUERY_BUDGET, (long long)w->over_n,
			 DNSW_NAME_BUDGET, (long long)w->over_queue, DNSW_QUEUE_MAX);
		if (store_dns_budget(sd, cid, last, over, detail, &w->budget_row) < 0)
			return -1;
		w->reported = over;
	}
	return 0;
}

void dnsw_free(struct dnsw *w)
{
	if (!w)
		return;
	dnslog_close(w->log);
	free(w->q);
	free(w);
}
