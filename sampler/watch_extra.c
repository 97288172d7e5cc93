/* The watcher's sockets that the inet and packet dumps do not show: ping sockets
 * (/proc/net/icmp{,6}: icmp.h) and unix sockets connected outside the namespace
 * (unix_diag: unixdiag.h). Kept apart from poll.c's dump, which calls in here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "icmp.h"
#include "procnet.h"
#include "table.h"
#include "unixdiag.h"
#include "watch_int.h"

/* A digest of the ping socket tables (about a microsecond a file, as sockstat: a
 * ping socket is bound, and shows, at its first send, which no sockstat counter tells;
 * so the files themselves are the change detector, read every tick). */
unsigned long long watch_extra_digest(struct watch *w, struct wt *wt)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < 2; i++) {
		if (wt->h.icmp_fd[i] < 0)
			continue;
		long n = procnet_read_all(wt->h.icmp_fd[i], &w->icmpbuf, ICMP_READ_MAX);
		if (n < 0)
			return 0;   /* unreadable: "moved", so the dump tries again */
		for (long k = 0; k < n; k++)
			h = (h ^ (unsigned char)w->icmpbuf.p[k]) * 0x100000001b3ULL;
		h = (h ^ (unsigned)i) * 0x100000001b3ULL;
	}
	return h | 1;
}

static unsigned dump_icmp(struct watch *w, struct wt *wt)
{
	static const int fams[2] = { SKF_IPV4, SKF_IPV6 };
	for (int i = 0; i < 2; i++) {
		if (wt->h.icmp_fd[i] < 0)
			continue;
		if (procnet_read_all(wt->h.icmp_fd[i], &w->icmpbuf, ICMP_READ_MAX) < 0 ||
		    icmp_parse(w->icmpbuf.p, fams[i], table_dump_sock, wt->tab) != 0) {
			/* said once until it works again; its sockets are kept meanwhile
			 * (the kind is not complete) */
			if (!(wt->failing_sk & (1u << SK_ICMP)))
				watch_log(w, WLOG_WARN, "%s: ping sockets: %s", wt->t.name,
					  strerror(errno));
			wt->failing_sk |= 1u << SK_ICMP;
			return 0;
		}
	}
	wt->failing_sk &= ~(1u << SK_ICMP);
	return 1u << SK_ICMP;
}

static int collect_ux(void *arg, const struct ux *u)
{
	struct watch *w = arg;
	if (util_grow(&w->uxv, &w->capux, w->nux + 1, sizeof(*w->uxv)) < 0)
		return -1;
	w->uxv[w->nux++] = *u;
	return 0;
}

struct outside_ctx {
	struct watch *w;
	struct wt *wt;
};

static int outside_cb(void *arg, const struct ux *s, const struct ux *p)
{
	struct outside_ctx *c = arg;
	struct ux found;
	struct sk k = { 0 };
	const char *name = p && p->name[0] ? p->name : NULL;

	if (!p && c->w->home_unix && unixdiag_lookup(c->w->home_unix, s->peer, &found) == 0 &&
	    found.name[0])
		name = found.name;  /* a peer in the host's own namespace: its bound name */
	k.cookie = s->cookie;
	k.proto = SK_UNIX;
	k.family = SKF_UNIX;
	k.state = SKS_ESTABLISHED;
	k.inode = s->ino;
	k.uid = s->uid;
	k.have = SK_HAVE_INODE | (s->have_uid ? SK_HAVE_UID : 0);
	return table_dump_named(c->wt->tab, &k, name);
}

static unsigned dump_unix(struct watch *w, struct wt *wt)
{
	struct outside_ctx c = { w, wt };
	w->nux = 0;
	if (unixdiag_dump(wt->h.dump, collect_ux, w) < 0) {
		/* a kernel without unix_diag: no unix rows, said once */
		if (errno != ENOENT && !(wt->failing_sk & (1u << SK_UNIX)))
			watch_log(w, WLOG_WARN, "%s: unix dump: %s", wt->t.name, strerror(errno));
		wt->failing_sk |= 1u << SK_UNIX;
		return 0;
	}
	wt->failing_sk &= ~(1u << SK_UNIX);
	int rc = unixdiag_outside(w->uxv, w->nux, outside_cb, &c);
	if (w->capux > 4096) {
		/* a namespace with many unix sockets: do not keep its buffer for all */
		free(w->uxv);
		w->uxv = NULL;
		w->capux = 0;
	}
	w->nux = 0;
	return rc ? 0 : 1u << SK_UNIX;
}

unsigned watch_extra_dump(struct watch *w, struct wt *wt)
{
	return dump_icmp(w, wt) | dump_unix(w, wt);
}

void watch_extra_init(struct watch *w)
{
	/* unix_diag in the watcher's own namespace, for the names of peers there; opened
	 * now, before the process narrows what it may do (clawss(8), SECURITY). Without
	 * it, such peers go nameless. */
	w->home_unix = diag_open();
}

void watch_extra_free(struct watch *w)
{
	procnet_buf_free(&w->icmpbuf);
	free(w->uxv);
	diag_close(w->home_unix);
}
