/* The flow view in the watcher's event loop: per namespace, the `inet clawss` table and
 * the conntrack and nftables event sockets (flowns.h); conntrack events feed the flow
 * join (flow.h) and are the "something happened" signal that lets a quiet namespace
 * skip its sockstat reads; an nftables change makes the next tick look at the table
 * and put it back if the container deleted or changed it. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include "../lib/util.h"
#include "../store/store.h"
#include "watch_int.h"

static void say_off(struct watch *w, struct wt *wt, const char *why)
{
	if (!w->flows_said_off++)
		watch_log(w, WLOG_WARN, "%s: flows are off (%s); recording sockets only",
			  wt->t.name, why);
	else
		watch_log(w, WLOG_VERBOSE, "%s: flows are off (%s)", wt->t.name, why);
}

/* flows_recall_fn: the store's row of a connection this watch did not see begin. A
 * store failure is said and taken as "none": the flow is then a row of its own. */
static struct table_ref *recall_cb(void *arg, struct table *t, const struct store_socket *probe,
				   int64_t from, int64_t to)
{
	struct wt *wt = arg;
	struct table_ref *ref;
	if (table_recall(t, wt->w->st, probe, from, to, &ref) < 0)
		watch_log(wt->w, WLOG_WARN, "%s: %s", wt->t.name, store_errmsg(wt->w->st));
	return ref;
}

void watch_flow_attach(struct watch *w, struct wt *wt, int nsfd)
{
	char why[160];
	struct nft_opts o = { .dns_log_group = w->o.dns_log_group };
	int rc, err;

	if (w->o.no_flows || w->o.once || nsfd < 0)
		return;
	if (wt->h.ino == w->home_ino) {
		/* the host's own namespace: clawss changes nothing there */
		say_off(w, wt, "the host's own namespace");
		return;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		say_off(w, wt, strerror(errno));
		return;
	}
	rc = flowns_open(&wt->fl, &o, why, sizeof(why));
	err = errno;
	if (setns(w->home_fd, CLONE_NEWNET) < 0) {
		w->fatal = 1;
		snprintf(w->fatal_msg, sizeof(w->fatal_msg),
			 "setns back to our own namespace: %s", strerror(errno));
		if (rc == 0)
			flowns_close(&wt->fl, 1);
		return;
	}
	if (rc < 0) {
		(void)err;
		say_off(w, wt, why);
		return;
	}
	wt->ev_ct.kind = WEV_CT;
	wt->ev_ct.wt = wt;
	wt->ev_nft.kind = WEV_NFT;
	wt->ev_nft.wt = wt;
	if (watch_ep_add(w, ct_fd(wt->fl.ct), &wt->ev_ct) < 0 ||
	    watch_ep_add(w, wt->fl.nft_events, &wt->ev_nft) < 0) {
		say_off(w, wt, strerror(errno));
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, ct_fd(wt->fl.ct), NULL);
		flowns_close(&wt->fl, 1);
		return;
	}
	flows_set_recall(wt->fl.flows, recall_cb, wt, time_now_ms());
	wt->flows_on = 1;
	wt->nft_check = 0;
	watch_log(w, WLOG_VERBOSE, "%s: flows on (table inet %s)", wt->t.name, NFT_TABLE_NAME);
}

void watch_flow_detach(struct watch *w, struct wt *wt, int remove_table)
{
	if (!wt->flows_on)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, ct_fd(wt->fl.ct), NULL);
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, wt->fl.nft_events, NULL);
	flowns_close(&wt->fl, remove_table);
	wt->flows_on = 0;
}

struct ct_ctx {
	struct flows *flows;
	int64_t now;
};

static int ct_cb_flow(void *arg, const struct ctflow *f)
{
	struct ct_ctx *c = arg;
	return flows_event(c->flows, f, c->now);
}

void watch_flow_read_ct(struct watch *w, struct wt *wt, int64_t now)
{
	struct ct_ctx c = { wt->fl.flows, now };
	struct ct_read_info info;
	if (!wt->flows_on)
		return;
	int n = ct_read(wt->fl.ct, ct_cb_flow, &c, &info);
	if (n > 0) {
		/* any event, even of a kind not recorded (a raw protocol), means activity */
		wt->flow_activity = 1;
		w->stats.ct_events += (uint64_t)n;
	}
	if (info.lost) {
		/* flows whose events were dropped are missing (their sockets are not) */
		wt->flow_activity = 1;
		wt->need_dump = 1;
		w->stats.lost_incidents++;
		watch_log(w, WLOG_WARN, "%s: conntrack events lost (receive buffer overflow)",
			  wt->t.name);
		if (store_begin(w->st) == 0) {
			if (store_activity(w->st, wt->sc.id, "lost-events", now, now, 1,
					   "conntrack event buffer overflowed (ENOBUFS)") < 0)
				store_rollback(w->st);
			else
				store_commit(w->st);
		}
	}
	if (n < 0)
		watch_log(w, WLOG_WARN, "%s: reading conntrack events: %s", wt->t.name,
			  strerror(errno));
	else if (info.err)
		watch_log(w, WLOG_WARN, "%s: conntrack events: %s", wt->t.name,
			  strerror(info.err));
	if (n >= 0 && info.dump_err)
		watch_log(w, WLOG_VERBOSE, "%s: conntrack dump refused: %s", wt->t.name,
			  strerror(info.dump_err));
}

void watch_flow_read_nft(struct watch *w, struct wt *wt)
{
	(void)w;
	if (wt->flows_on && nft_events_drain(wt->fl.nft_events) != 0)
		wt->nft_check = 1;
}

int watch_flow_quiet(struct watch *w, struct wt *wt, int64_t now)
{
	return wt->flows_on && wt->dumped && !wt->flow_activity && !wt->nft_check &&
	       !wt->pending && !wt->need_dump && now - wt->last_look < w->o.refresh_ms;
}

static int txn(struct watch *w, int *in_txn)
{
	if (*in_txn)
		return 0;
	if (store_begin(w->st) < 0)
		return -1;
	*in_txn = 1;
	return 0;
}

/* The table is missing or not as we made it: put it back, and say so. */
static int restore(struct watch *w, struct wt *wt, int64_t now, int *in_txn)
{
	int ok = nft_install(wt->fl.nft) == 0;
	int e = errno;
	w->stats.tamper++;
	watch_log(w, WLOG_WARN, "%s: table inet %s was deleted or changed inside the "
		  "namespace; %s", wt->t.name, NFT_TABLE_NAME,
		  ok ? "put it back" : strerror(e));
	if (txn(w, in_txn) < 0)
		return -1;
	if (store_activity(w->st, wt->sc.id, "tamper", now, now, 1,
			   ok ? "table inet " NFT_TABLE_NAME " deleted or changed; put back"
			      : "table inet " NFT_TABLE_NAME " deleted or changed; could not "
				"put it back") < 0)
		return -1;
	/* flows in the gap were not tracked: look at the sockets now */
	wt->need_dump = 1;
	return 0;
}

int watch_flow_tick(struct watch *w, struct wt *wt, int64_t now, int how, int *in_txn)
{
	if (!wt->flows_on)
		return 0;
	if (wt->nft_check) {
		wt->nft_check = 0;
		int rc = nft_check(wt->fl.nft);
		if (rc == 0 && restore(w, wt, now, in_txn) < 0)
			return -1;
		if (rc < 0)
			watch_log(w, WLOG_VERBOSE, "%s: checking table inet %s: %s", wt->t.name,
				  NFT_TABLE_NAME, strerror(errno));
	}
	struct flows_stats before, after;
	flows_stats(wt->fl.flows, &before);
	if (before.live && now - wt->fl.ct_dump_at >= w->o.refresh_ms) {
		/* live flows' counters at the refresh period, as sockets get theirs: the
		 * answers come back with the events */
		wt->fl.ct_dump_at = now;
		if (ct_request_dump(wt->fl.ct) < 0)
			watch_log(w, WLOG_VERBOSE, "%s: conntrack dump: %s", wt->t.name,
				  strerror(errno));
	}
	if (!flows_waiting(wt->fl.flows))
		return 0;
	if (flows_join(wt->fl.flows, wt->tab, now, how) < 0)
		watch_log(w, WLOG_WARN, "%s: out of memory joining flows", wt->t.name);
	flows_stats(wt->fl.flows, &after);
	w->stats.flow_rows += after.own_rows - before.own_rows;
	w->stats.flows_joined += after.joined - before.joined;
	w->stats.flows_recalled += after.recalled - before.recalled;
	return 0;
}
