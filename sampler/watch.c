/* The watcher's event loop: the tick (each namespace's share of a poll, one transaction
 * for them all) and what epoll hands over between ticks. Targets come and go through
 * follow.c (scans, engine events) and watch_target.c (their life), which call nothing
 * here. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "../lib/util.h"
#include "../store/dns.h"
#include "dnslog.h"
#include "watch_int.h"

struct watch *watch_new(struct store *st, const struct watch_opts *o, char *err,
			size_t errlen)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->st = st;
	w->o = *o;
	w->epfd = w->timerfd = w->sigfd = w->home_fd = -1;
	w->procbuf[0] = malloc(PROC_BUF);
	w->procbuf[1] = malloc(PROC_BUF);
	w->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (w->home_fd < 0 || !w->procbuf[0] || !w->procbuf[1] ||
	    netns_ino_of("/proc/self/ns/net", &w->home_ino) < 0) {
		snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
		watch_free(w);
		return NULL;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &w->oldmask) == 0)
		w->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->epfd < 0 || w->timerfd < 0 || w->sigfd < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		watch_free(w);
		return NULL;
	}
	/* names need a watch with flows: sample (one poll) adds no table, and the DNS log
	 * rules live in the flow view's table (clawss-sample(8), nft.h) */
	if (!o->once && !o->no_flows) {
		if (!(w->sdns = store_dns_new(st))) {
			snprintf(err, errlen, "out of memory");
			watch_free(w);
			return NULL;
		}
		w->o.dns_log_group = DNSLOG_GROUP;
	}
	watch_extra_init(w);
	w->ev_timer.kind = WEV_TIMER;
	w->ev_signal.kind = WEV_SIGNAL;
	if (watch_ep_add(w, w->timerfd, &w->ev_timer) < 0 ||
	    watch_ep_add(w, w->sigfd, &w->ev_signal) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		watch_free(w);
		return NULL;
	}
	return w;
}

/* Also sets wt->procnet_kinds: every kind when the counters cannot be read. */
static unsigned long long sockstat_digest(struct watch *w, struct wt *wt)
{
	const char *v6 = "";
	wt->procnet_kinds = PROCNET_ALL;
	if (procnet_read(wt->h.sockstat_fd[0], w->procbuf[0], PROC_BUF) < 0)
		return 0;
	if (wt->h.sockstat_fd[1] >= 0 &&
	    procnet_read(wt->h.sockstat_fd[1], w->procbuf[1], PROC_BUF) >= 0)
		v6 = w->procbuf[1];
	wt->procnet_kinds = procnet_sockstat_kinds(w->procbuf[0], v6);
	return procnet_sockstat_digest(w->procbuf[0], v6);
}

/* One namespace's share of a tick. Dump only what may have changed: a namespace whose
 * counters did not move and that sent no destroy notification has no new socket. The
 * tick's transaction begins at its first write (*in_txn): a quiet tick takes no lock and
 * costs SQLite nothing. */
static int poll_one(struct watch *w, struct wt *wt, int64_t now, int force, int *in_txn)
{
	int how = force ? FLOWS_FINAL : 0;
	/* with flows on, no conntrack event and nothing pending: nothing new to look for
	 * (events over polling); the destroy and DNS sockets were read when epoll said */
	int quiet = !force && watch_flow_quiet(w, wt, now);
	if (force) {
		watch_drain_destroy(w, wt, now);
	} else if (!quiet) {
		watch_read_destroy(w, wt, now);
	}
	if (quiet) {
		w->stats.skipped++;
	} else {
		int refresh = now - wt->last_look >= w->o.refresh_ms;
		int quiet_refresh = refresh && wt->flows_on && !force && wt->dumped &&
				    !wt->pending && !wt->need_dump && !wt->flow_activity;
		/* ping sockets move no sockstat counter at their first send: their tables are
		 * read too, except where flows are on (that send is a conntrack event) */
		unsigned long long d = sockstat_digest(w, wt);
		unsigned long long x = quiet_refresh ? wt->extra_digest : watch_extra_digest(w, wt);
		int moved = d != wt->sockstat || x != wt->extra_digest || d == 0 || x == 0;
		wt->sockstat = d;
		wt->extra_digest = x;
		int listeners = 0;
		if (quiet_refresh && !moved && (!table_live(wt->tab, &listeners) || listeners)) {
			/* a quiet namespace's refresh: nothing new (no event, counters still),
			 * and nothing to refresh but listeners, if those */
			if (listeners)
				poll_refresh_listeners(w, wt, now);
			else
				w->stats.skipped++;
			wt->last_look = now;
		} else if (force || moved || !wt->dumped || wt->pending || wt->need_dump ||
			   wt->flow_activity || refresh) {
			wt->flow_activity = 0;   /* the dump sees what the events said */
			poll_dump(w, wt, now, wt->procnet_kinds);
			wt->last_look = now;
			how |= FLOWS_DUMPED;
		} else {
			w->stats.skipped++;
		}
	}
	/* the flows of every socket this tick has, before the join: a flow's NEW comes
	 * before its socket's close, so once the notifications are read its event is in
	 * the conntrack socket, and read here it cannot wait in epoll's order behind this
	 * tick (whose flush lets a closed, unjoined socket go: the flow would then be a
	 * second row of the one connection). What it reads after the dump is activity
	 * for the next tick. */
	if (!quiet)
		watch_flow_read_ct(w, wt, now);
	if (watch_flow_tick(w, wt, now, how, in_txn) < 0)
		return -1;
	int container_due = force || now - wt->last_container_write >= w->o.refresh_ms;
	if (wt->dns && !quiet)
		watch_dns_read(w, wt);
	int dns_due = wt->dns && dnsw_pending(wt->dns);
	if (!*in_txn && (container_due || dns_due || wt->ninc ||
			  table_flush_pending(wt->tab, now, force))) {
		if (store_begin(w->st) < 0)
			return -1;
		*in_txn = 1;
	}
	if (poll_incidents_write(w, wt) < 0)
		return -1;
	int rc = table_flush(wt->tab, w->st, now, force);
	if (rc < 0)
		return -1;
	wt->tick_rows = rc;
	w->stats.rows_written += (uint64_t)rc;
	/* names before the next tick's sockets: an answer is written no later than the
	 * connection that follows it */
	if (dns_due && dnsw_flush(wt->dns, w->sdns, wt->sc.id) < 0)
		watch_log(w, WLOG_WARN, "%s: DNS: %s", wt->t.name, store_dns_errmsg(w->sdns));
	if (container_due) {
		if (store_container_seen(w->st, wt->sc.id, now) < 0)
			return -1;
		wt->last_container_write = now;
	}
	return 0;
}

/* One transaction for the tick's writes of every namespace (begun at the first). */
static int tick(struct watch *w, int64_t now, int force)
{
	int in_txn = 0, rc = 0;
	for (struct wt *wt = w->targets; wt; wt = wt->next) {
		wt->tick_rows = 0;
		if (wt->ending)
			continue;
		if (wt->t.path[0] && wt->t.pidfd < 0 && !target_file_alive(&wt->t)) {
			/* the namespace file went away (ip netns delete): the target ended */
			wt->ending = 1;
			wt->end_at = now;
		}
		if (poll_one(w, wt, now, force, &in_txn) < 0) {
			rc = -1;
			break;
		}
	}
	w->stats.ticks++;
	/* space came back: the incident goes with what was held */
	for (struct wt *wt = w->targets; rc == 0 && in_txn && w->full_since && wt; wt = wt->next)
		if (!wt->ending && watch_hold_incident(w, wt, now) < 0)
			rc = -1;
	if (rc == 0 && in_txn)
		rc = store_commit(w->st);
	for (struct wt *wt = w->targets; wt; wt = wt->next)
		table_flush_done(wt->tab, rc == 0);
	if (rc < 0)
		return watch_txn_failed(w, in_txn, now);
	if (in_txn && w->full_since)
		watch_hold_end(w, now);
	return 0;
}

static int fatal(struct watch *w, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", w->fatal_msg);
	return -1;
}

static int store_failed(struct watch *w, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", store_errmsg(w->st));
	return -1;
}

int watch_scan(struct watch *w, char *err, size_t errlen)
{
	w->scanned = 1;
	follow_rescan(w, time_now_ms(), 1);
	if (w->fatal)
		return fatal(w, err, errlen);
	if (w->stats.targets_denied) {
		snprintf(err, errlen, "%llu namespace%s could not be entered: %s",
			 (unsigned long long)w->stats.targets_denied,
			 w->stats.targets_denied == 1 ? "" : "s", strerror(EPERM));
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Container ends and exec windows (and, following, new containers) from the engine. */
static void engine_events_begin(struct watch *w)
{
	if (!w->o.engine || w->o.once)
		return;
	if (engine_events_start(w->o.engine, follow_engine_event, w) < 0) {
		watch_log(w, WLOG_WARN, "engine events: %s", engine_error(w->o.engine));
		return;
	}
	w->ev_engine.kind = WEV_ENGINE;
	if (watch_ep_add(w, engine_events_fd(w->o.engine), &w->ev_engine) < 0)
		watch_log(w, WLOG_WARN, "engine events: %s", strerror(errno));
}

/* How long epoll may wait: until --for's deadline or the first ending target's end,
 * whichever comes first; -1 for no limit. */
static int wait_timeout(struct watch *w, int64_t deadline)
{
	int timeout = -1;
	int64_t mnow = time_mono_ms();
	if (deadline)
		timeout = deadline > mnow ? (int)(deadline - mnow) : 0;
	for (struct wt *wt = w->targets; wt; wt = wt->next) {
		if (!wt->ending)
			continue;
		int64_t left = wt->end_at - time_now_ms();
		if (left < 0)
			left = 0;
		if (timeout < 0 || left < timeout)
			timeout = (int)left;
	}
	return timeout;
}

/* The timer: a tick, the rescans that are due, the caller's housekeeping. */
static int on_timer(struct watch *w, int64_t now)
{
	uint64_t expirations;
	if (read(w->timerfd, &expirations, sizeof(expirations)) < 0)
		return 0;
	if (tick(w, now, 0) < 0)
		return -1;
	follow_rescan(w, now, 0);
	if (w->o.periodic)
		w->o.periodic(w->o.periodic_arg, now);
	return 0;
}

/* One event epoll reported; -1 on a store failure. */
static int dispatch(struct watch *w, const struct wev *ev, int64_t now)
{
	switch (ev->kind) {
	case WEV_TIMER:
		return on_timer(w, now);
	case WEV_ENGINE:
		if (engine_events_dispatch(w->o.engine) < 0)
			watch_log(w, WLOG_WARN, "engine events: %s", engine_error(w->o.engine));
		break;
	case WEV_SIGNAL:
		watch_signalled(w);
		w->stop = 1;
		break;
	case WEV_DESTROY:
		watch_read_destroy(w, ev->wt, now);
		break;
	case WEV_CT:
		watch_flow_read_ct(w, ev->wt, now);
		break;
	case WEV_NFT:
		watch_flow_read_nft(w, ev->wt);
		break;
	case WEV_DNS:
		watch_dns_read(w, ev->wt);
		break;
	case WEV_PIDFD:
		watch_target_exited(w, ev->wt, now);
		break;
	}
	return 0;
}

/* One turn of the loop: wait, dispatch, finish the targets whose end came. -1 with err;
 * 1 when the watch is done (--for ran out, or no target is left to wait for). */
static int turn(struct watch *w, int64_t deadline, char *err, size_t errlen)
{
	struct epoll_event evs[64];
	int n = epoll_wait(w->epfd, evs, 64, wait_timeout(w, deadline));
	if (n < 0 && errno != EINTR) {
		snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	int64_t now = time_now_ms();
	for (int i = 0; i < n; i++)
		if (dispatch(w, evs[i].data.ptr, now) < 0)
			return store_failed(w, err, errlen);
	if (w->fatal)
		return fatal(w, err, errlen);
	now = time_now_ms();
	for (struct wt *wt = w->targets, *next; wt; wt = next) {
		next = wt->next;
		if (wt->ending && now >= wt->end_at && watch_target_finish(w, wt, now) < 0)
			return store_failed(w, err, errlen);
	}
	if (deadline && time_mono_ms() >= deadline)
		return 1;
	return !w->targets && !w->o.keep_running && !w->o.all;
}

int watch_run(struct watch *w, char *err, size_t errlen)
{
	int64_t deadline = w->o.for_ms ? time_mono_ms() + w->o.for_ms : 0;

	w->started = time_now_ms();
	if (!w->scanned)
		watch_scan(w, err, errlen);
	engine_events_begin(w);
	if (w->fatal)
		return fatal(w, err, errlen);
	if (w->o.once) {
		int rc = tick(w, time_now_ms(), 1);
		if (rc < 0 || w->full_since)
			return store_failed(w, err, errlen);
		return 0;
	}
	struct itimerspec its = {
		.it_interval = { w->o.interval_ms / 1000, (w->o.interval_ms % 1000) * 1000000 },
		.it_value = { 0, 1 },  /* first poll at once */
	};
	if (timerfd_settime(w->timerfd, 0, &its, NULL) < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		return -1;
	}
	while (!w->stop) {
		int rc = turn(w, deadline, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
	}
	/* stopping (signal, --for): the containers live on; write what we know */
	if (w->targets && tick(w, time_now_ms(), 1) < 0)
		return store_failed(w, err, errlen);
	if (w->full_since) {
		watch_hold_lost(w, err, errlen);
		return -1;
	}
	return 0;
}

void watch_get_stats(const struct watch *w, struct watch_stats *out)
{
	*out = w->stats;
	for (const struct wt *wt = w->targets; wt; wt = wt->next) {
		struct owner_stats os;
		owner_get_stats(wt->owner, &os);
		out->owner_fds_read += os.fds_read;
	}
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	if (w->o.engine && w->ev_engine.kind)
		engine_events_stop(w->o.engine);
	while (w->targets) {
		struct wt *wt = w->targets;
		w->targets = wt->next;
		watch_target_free(wt);
	}
	if (w->sigfd >= 0) {
		close(w->sigfd);
		sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
	}
	if (w->timerfd >= 0)
		close(w->timerfd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->home_fd >= 0)
		close(w->home_fd);
	store_dns_free(w->sdns);
	free(w->procbuf[0]);
	free(w->procbuf[1]);
	procnet_buf_free(&w->rawbuf[0]);
	procnet_buf_free(&w->rawbuf[1]);
	watch_extra_free(w);
	free(w);
}
