#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "allow.h"
#include "../lib/escape.h"
#include "hmap.h"
#include "report.h"

struct dest {
	char addr[256];     /* the name the container resolved, else canonical address text
			       re-made from the parsed address */
	int by_name;
	char first_addr[64];
	int64_t naddrs;     /* by name: addresses it was met at (counted as they change) */
	int port;           /* -1: unknown */
	int proto;
	int64_t first, last, count;
	size_t order;
};

struct policy_ctx {
	int until_idle;
	struct hmap index;
	struct dest *d;
	size_t n, cap;
	size_t containers, skipped;
	struct rbuf key, head;
};

/* What allow_parse_line reads back as a NAME rule. */
static int policy_name_ok(const char *name)
{
	struct allowlist al = { 0 };
	char why[8];
	int ok = allow_parse_line(&al, name, 1, why, sizeof(why)) == 0 && al.n == 1 &&
		 al.rules[0].name && !al.rules[0].wild;
	allow_free(&al);
	return ok;
}

static int dest_row(void *arg, const struct report_container *c, const struct report_row *r)
{
	struct policy_ctx *x = arg;
	uint8_t addr[16];
	char text[64];
	int family, added;

	(void)c;
	if (!report_row_has_destination(r) || (x->until_idle && r->after_idle))
		return 0;
	/* only an address that parses becomes a rule: the file must stay well-formed */
	if (allow_addr_parse(r->remote_addr, &family, addr) < 0) {
		x->skipped++;
		return 0;
	}
	sk_addr_text(family, addr, text, sizeof(text));
	/* by name where the container resolved one (a CDN's next address is declared
	 * too); a name the allowlist parser would refuse stays an address */
	const char *name = r->remote_name && policy_name_ok(r->remote_name) ? r->remote_name : NULL;
	int32_t port = r->remote_port;
	rbuf_reset(&x->key);
	rbuf_putc(&x->key, (char)r->proto);
	rbuf_put(&x->key, &port, sizeof(port));
	rbuf_putc(&x->key, name ? 'n' : 'a');
	rbuf_puts(&x->key, name ? name : text);
	long g = x->key.oom ? -1 : hmap_intern(&x->index, x->key.p, x->key.len, &added);
	if (g < 0)
		goto nomem;
	if (added) {
		if (util_grow(&x->d, &x->cap, x->n + 1, sizeof(*x->d)) < 0)
			goto nomem;
		struct dest *d = &x->d[x->n];
		*d = (struct dest){ .port = r->remote_port, .proto = r->proto, .by_name = !!name,
				    .first = r->first_seen, .last = r->last_seen, .order = x->n };
		snprintf(d->addr, sizeof(d->addr), "%s", name ? name : text);
		memcpy(d->first_addr, text, sizeof(text));
		x->n++;
	}
	struct dest *d = &x->d[g];
	if (d->by_name && (!d->naddrs || strcmp(d->first_addr, text) != 0)) {
		d->naddrs++;
		memcpy(d->first_addr, text, sizeof(text));
	}
	d->count++;
	if (r->first_seen < d->first)
		d->first = r->first_seen;
	if (r->last_seen > d->last)
		d->last = r->last_seen;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

/* One comment line per container record: which burst the rules come from. */
static int dest_container(void *arg, const struct report_container *c)
{
	struct policy_ctx *x = arg;
	char t[40];

	x->containers++;
	rbuf_puts(&x->head, "# container ");
	esc_text(&x->head, c->name, strlen(c->name));
	rbuf_printf(&x->head, " (netns %lld): %s %s", (long long)c->netns,
		    c->started >= 0 ? "started" : "first seen", time_format(c->start, t, sizeof(t)));
	if (c->burst_known)
		rbuf_printf(&x->head, ", burst ended %s\n", time_format(c->burst_end, t, sizeof(t)));
	else
		rbuf_puts(&x->head, ", never went idle\n");
	return x->head.oom ? (errno = ENOMEM, -1) : 0;
}

static int dest_cmp(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static void print_policy(struct policy_ctx *x, const struct report_query *q, FILE *f)
{
	char t1[40], t2[40], idle[32];
	struct rbuf b = { 0 };
	int aw = 1;

	rbuf_puts(&b, "# clawss policy: destinations used by container ");
	esc_text(&b, q->containers[0], strlen(q->containers[0]));
	if (x->until_idle)
		rbuf_printf(&b, " in its burst (idle %s)", duration_format(q->idle, idle, sizeof(idle)));
	if (q->since != REPORT_TIME_MIN)
		rbuf_printf(&b, " from %s", time_format(q->since, t1, sizeof(t1)));
	if (q->until != REPORT_TIME_MAX)
		rbuf_printf(&b, " until %s", time_format(q->until, t1, sizeof(t1)));
	rbuf_puts(&b, "\n# format: ADDR[/PREFIX]|NAME [PORT[-PORT]] [tcp|udp|icmp]; use with: clawss report --allow FILE\n");
	rbuf_put(&b, x->head.p, x->head.len);
	if (x->skipped)
		rbuf_printf(&b, "# skipped %zu connection(s) whose remote address did not parse\n",
			    x->skipped);
	if (x->n == 0)
		rbuf_puts(&b, "# no destinations\n");
	util_qsort(x->d, x->n, sizeof(*x->d), dest_cmp);
	for (size_t i = 0; i < x->n; i++) {
		int w = (int)strlen(x->d[i].addr);
		if (w > aw)
			aw = w;
	}
	for (size_t i = 0; i < x->n; i++) {
		const struct dest *d = &x->d[i];
		char port[16] = "";
		if (d->port >= 0 && d->proto != SK_ICMP)  /* an echo has no port to allow */
			snprintf(port, sizeof(port), "%d", d->port);
		rbuf_printf(&b, "%-*s %5s %s  # %lld connection%s, first %s, last %s%s", aw,
			    d->addr, port, sk_proto_name(d->proto), (long long)d->count,
			    d->count == 1 ? "" : "s", time_format(d->first, t1, sizeof(t1)),
			    time_format(d->last, t2, sizeof(t2)),
			    d->port < 0 ? "; remote port unknown (reset before a poll saw it)" : "");
		if (d->by_name)
			rbuf_puts(&b, "; the name the container resolved");
		rbuf_putc(&b, '\n');
	}
	if (!b.oom)
		fwrite(b.p, 1, b.len, f);
	else
		errno = ENOMEM;
	rbuf_free(&b);
}

int report_policy(struct sqlite3 *db, const struct report_query *q, int until_idle,
		  FILE *f, char *err, size_t errlen)
{
	struct policy_ctx x = { .until_idle = until_idle };
	struct report_walker w = { .row = dest_row, .container = dest_container, .arg = &x };
	struct report_query wq = *q;
	int rc;

	wq.since_idle = 0;
	wq.allow = NULL;
	rc = report_walk(db, &wq, &w, err, errlen);
	if (rc == 0 && x.containers == 0) {
		snprintf(err, errlen, "no such container: %s", q->containers[0]);
		rc = -1;
	}
	if (rc == 0) {
		errno = 0;
		print_policy(&x, q, f);
		if (ferror(f) || errno == ENOMEM) {
			snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
			rc = -1;
		}
	}
	free(x.d);
	hmap_free(&x.index);
	rbuf_free(&x.key);
	rbuf_free(&x.head);
	return rc;
}
