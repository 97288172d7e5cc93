#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "../lib/util.h"
#include "../store/dns.h"
#include "netns.h"
#include "owner.h"
#include "procnet.h"
#include "table.h"
#include "watch.h"
#include "dnslog.h"
#include "watch_int.h"

void watch_log(struct watch *w, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!w->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->o.log(w->o.log_arg, level, msg);
}

static int ep_add(struct watch *w, int fd, struct ev *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = ev };
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e);
}

struct watch *watch_new(struct store *st, const struct watch_opts *o, char *err,
			unsigned errlen)
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
	w->ev_timer.kind = EV_TIMER;
	w->ev_signal.kind = EV_SIGNAL;
	if (ep_add(w, w->timerfd, &w->ev_timer) < 0 || ep_add(w, w->sigfd, &w->ev_signal) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		watch_free(w);
		return NULL;
	}
	return w;
}

static int seed_cb(void *arg, const struct store_socket *s)
{
	return table_seed(arg, s);
}

static int seed_closed_cb(void *arg, const struct store_socket *s)
{
	return table_seed_closed(arg, s);
}

static void wt_free(struct wt *wt)
{
	dnsw_free(wt->dns);
	/* the namespace may live on: leave no table behind */
	if (wt->flows_on)
		flowns_close(&wt->fl, 1);
	netns_close(&wt->h);
	target_close(&wt->t);
	table_free(wt->tab);
	owner_free(wt->owner);
	free(wt);
}

int watch_add(struct watch *w, struct target *t, char *err, unsigned errlen)
{
	struct wt *wt = calloc(1, sizeof(*wt));
	int stranded;
	int64_t now = time_now_ms();

	if (!wt) {
		target_close(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wt->t = *t;
	t->nsfd = t->pidfd = -1;
	if (netns_open(w->home_fd, wt->t.nsfd, &wt->h, &stranded) < 0) {
		int e = errno;
		if (stranded) {
			w->fatal = 1;
			snprintf(w->fatal_msg, sizeof(w->fatal_msg),
				 "setns back to our own namespace: %s", strerror(e));
		}
		if (e == EPERM || e == EACCES)
			w->stats.targets_denied++;
		snprintf(err, errlen, "%s: entering its network namespace: %s", wt->t.name,
			 strerror(e));
		wt_free(wt);
		errno = e;
		return -1;
	}
	if (wt->t.ns_ino && wt->h.ino != wt->t.ns_ino) {
		/* setns entered another namespace than the one resolved: the process
		 * moved (an init that unshares, leaving clawss an empty namespace) or the
		 * file was replaced. Watching that one would record nothing true. */
		snprintf(err, errlen, "%s: its network namespace changed while attaching "
			 "(netns %llu resolved, %llu entered): not watching it", wt->t.name,
			 (unsigned long long)wt->t.ns_ino, (unsigned long long)wt->h.ino);
		wt_free(wt);
		errno = ESTALE;
		return -1;
	}
	watch_flow_attach(w, wt, wt->t.nsfd);
	if (w->fatal) {
		snprintf(err, errlen, "%s", w->fatal_msg);
		wt_free(wt);
		return -1;
	}
	watch_dns_attach(w, wt);
	/* a namespace file target's file no longer needed open: the sockets pin it */
	if (wt->t.pidfd < 0 && wt->t.nsfd >= 0) {
		close(wt->t.nsfd);
		wt->t.nsfd = -1;
	}
	if (w->o.name_override)
		snprintf(wt->t.name, sizeof(wt->t.name), "%s", w->o.name_override);
	wt->sc.name = wt->t.name;
	wt->sc.engine_id = wt->t.engine_id[0] ? wt->t.engine_id : NULL;
	wt->sc.image = wt->t.image[0] ? wt->t.image : NULL;
	wt->sc.netns_ino = wt->h.ino;
	wt->sc.started = wt->t.started;
	if (store_begin(w->st) < 0)
		goto store_fail;
	if (store_container_attach(w->st, &wt->sc, now) < 0) {
		store_rollback(w->st);
		goto store_fail;
	}
	if (store_commit(w->st) < 0)
		goto store_fail;
	/* pick up the sockets a previous run (or sample) left open */
	wt->tab = table_new(wt->sc.id, w->o.refresh_ms);
	if (!wt->tab || store_socket_each_open(w->st, wt->sc.id, seed_cb, wt->tab) < 0 ||
	    store_socket_each_closed_tcp(w->st, wt->sc.id, now - FOLD_OPENED_MS,
					 now - FOLD_CLOSED_MS, seed_closed_cb, wt->tab) < 0)
		goto store_fail;
	if (table_set_budget(wt->tab, w->o.row_budget, HOLD_MAX, AGG_MAX) < 0)
		goto store_fail;
	table_set_holding(wt->tab, w->full_since != 0);
	wt->owner = owner_new(wt->h.ino);
	if (!wt->owner)
		goto store_fail;
	table_set_owner(wt->tab, owner_lookup, wt->owner);
	wt->last_container_write = now;
	wt->ev_destroy.kind = EV_DESTROY;
	wt->ev_destroy.wt = wt;
	wt->ev_pid.kind = EV_PIDFD;
	wt->ev_pid.wt = wt;
	wt->ev_dns.kind = EV_DNS;
	wt->ev_dns.wt = wt;
	if (ep_add(w, diag_fd(wt->h.destroy), &wt->ev_destroy) < 0 ||
	    (wt->dns && ep_add(w, dnsw_fd(wt->dns), &wt->ev_dns) < 0) ||
	    (wt->t.pidfd >= 0 && ep_add(w, wt->t.pidfd, &wt->ev_pid) < 0)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		wt_free(wt);
		return -1;
	}
	wt->next = w->targets;
	w->targets = wt;
	w->ntargets++;
	w->stats.targets_added++;
	watch_log(w, WLOG_INFO, "watching %s (netns %llu)", wt->t.name, (unsigned long long)wt->h.ino);
	return 0;

store_fail:
	snprintf(err, errlen, "%s: %s", wt->t.name, store_errmsg(w->st));
	wt_free(wt);
	return -1;
}

struct destroy_ctx {
	struct table *tab;
	int64_t now;
};

static int destroy_cb(void *arg, const struct sk *s)
{
	struct destroy_ctx *c = arg;
	return table_destroyed(c->tab, s, c->now) < 0 ? -1 : 0;
}

static void read_destroy(struct watch *w, struct wt *wt, int64_t now)
{
	struct destroy_ctx c = { wt->tab, now };
	int lost = 0;
	int n = diag_read_destroy(wt->h.destroy, destroy_cb, &c, &lost);
	if (n > 0) {
		wt->pending += n;
		w->stats.destroy_events += (uint64_t)n;
	}
	if (lost) {
		/* the kernel dropped notifications: say so, and resynchronise with a dump */
		w->stats.lost_incidents++;
		wt->need_dump = 1;
		poll_incident(w, wt, now, "lost-events", "socket-destroy notifications lost "
			      "(receive buffer overflow); resynchronising");
	}
	if (n < 0 && errno != EAGAIN)
		watch_log(w, WLOG_WARN, "%s: reading destroy notifications: %s", wt->t.name,
		     strerror(errno));
	uint64_t forged = diag_forged(wt->h.destroy) + diag_forged(wt->h.dump);
	if (forged != wt->forged) {
		if (!wt->forged)
			watch_log(w, WLOG_WARN, "%s: dropping netlink messages that the kernel "
				  "did not send (forged inside the namespace)", wt->t.name);
		w->stats.forged += forged - wt->forged;
		wt->forged = forged;
	}
}

/* Also sets wt->kinds: every kind when the counters cannot be read. */
static unsigned long long sockstat_digest(struct watch *w, struct wt *wt)
{
	const char *v6 = "";
	wt->kinds = PROCNET_ALL;
	if (procnet_read(wt->h.sockstat_fd[0], w->procbuf[0], PROC_BUF) < 0)
		return 0;
	if (wt->h.sockstat_fd[1] >= 0 &&
	    procnet_read(wt->h.sockstat_fd[1], w->procbuf[1], PROC_BUF) >= 0)
		v6 = w->procbuf[1];
	wt->kinds = procnet_sockstat_kinds(w->procbuf[0], v6);
	return procnet_sockstat_digest(w->procbuf[0], v6);
}

/* One namespace's share of a tick. Dump only what may have changed: a namespace whose
 * counters did not move and that sent no destroy notification has no new socket. The
 * tick's transaction begins at its first write (*in_txn): a quiet tick takes no lock and
 * costs SQLite nothing. */
static void drain_destroy(struct watch *w, struct wt *wt, int64_t now);

static int poll_one(struct watch *w, struct wt *wt, int64_t now, int force, int *in_txn)
{
	int how = force ? FLOWS_FINAL : 0;
	/* with flows on, no conntrack event and nothing pending: nothing new to look for
	 * (events over polling); the destroy and DNS sockets were read when epoll said */
	int quiet = !force && watch_flow_quiet(w, wt, now);
	if (force) {
		drain_destroy(w, wt, now);
		watch_flow_read_ct(w, wt, now);
	} else if (!quiet) {
		read_destroy(w, wt, now);
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
			poll_dump(w, wt, now, wt->kinds);
			wt->last_look = now;
			how |= FLOWS_DUMPED;
		} else {
			w->stats.skipped++;
		}
	}
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

static void unlink_wt(struct watch *w, struct wt *wt)
{
	for (struct wt **p = &w->targets; *p; p = &(*p)->next) {
		if (*p == wt) {
			*p = wt->next;
			break;
		}
	}
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, diag_fd(wt->h.destroy), NULL);
	if (wt->t.pidfd >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, wt->t.pidfd, NULL);
	if (wt->dns)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, dnsw_fd(wt->dns), NULL);
	w->ntargets--;
}

/* Before a last dump (the target ended, or the watch stops): what is queued, a bounded
 * number of batches (a flood that never ends must not hold the exit). */
static void drain_destroy(struct watch *w, struct wt *wt, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		read_destroy(w, wt, now);
		if (!diag_more(wt->h.destroy))
			break;
	}
}

/* The target ended: last dump, last notifications, close what is left, record the end.
 * On a full disk it stays, ending, and is tried again at the next tick. */
static int finish(struct watch *w, struct wt *wt, int64_t now)
{
	int rc = 0;
	if (store_begin(w->st) < 0) {
		if (watch_txn_failed(w, 0, now) < 0)
			return -1;
		wt->end_at = now + w->o.interval_ms;
		return 0;
	}
	drain_destroy(w, wt, now);
	watch_flow_read_ct(w, wt, now);
	poll_dump(w, wt, now, PROCNET_ALL);
	int in_txn = 1;
	if (watch_flow_tick(w, wt, now, FLOWS_DUMPED | FLOWS_FINAL, &in_txn) < 0) {
		if (watch_txn_failed(w, 1, now) < 0)
			return -1;
		wt->end_at = now + w->o.interval_ms;
		return 0;
	}
	table_close_all(wt->tab, now);
	if (wt->dns) {
		watch_dns_read(w, wt);
		if (dnsw_flush(wt->dns, w->sdns, wt->sc.id) < 0)
			watch_log(w, WLOG_WARN, "%s: DNS: %s", wt->t.name,
				  store_dns_errmsg(w->sdns));
	}
	for (int i = 0; i < wt->nexecs; i++)
		store_activity_close(w->st, wt->execs[i].rowid, now);
	wt->tick_rows = table_flush(wt->tab, w->st, now, 1);
	if (wt->tick_rows < 0 || poll_incidents_write(w, wt) < 0 ||
	    store_container_end(w->st, wt->sc.id, now) < 0 ||
	    (w->full_since && watch_hold_incident(w, wt, now) < 0) || store_commit(w->st) < 0)
		rc = -1;
	table_flush_done(wt->tab, rc == 0);
	if (rc < 0) {
		if (watch_txn_failed(w, 1, now) < 0)
			return -1;
		wt->end_at = now + w->o.interval_ms;
		return 0;
	}
	wt->nexecs = 0;
	w->stats.targets_ended++;
	struct owner_stats os;
	owner_get_stats(wt->owner, &os);
	w->stats.owner_fds_read += os.fds_read;
	watch_log(w, WLOG_INFO, "%s ended", wt->t.name);
	unlink_wt(w, wt);
	wt_free(wt);
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

void watch_end_target(struct wt *wt, int64_t when)
{
	if (wt->ending)
		return;
	wt->ending = 1;
	wt->end_at = when;
}

int watch_scan(struct watch *w, char *err, unsigned errlen)
{
	int64_t now = time_now_ms();
	w->scanned = 1;
	if (w->o.all)
		follow_rescan_all(w, now);
	if (w->o.select) {
		follow_select_scan(w);
		w->last_rescan = now;
	}
	if (w->fatal) {
		snprintf(err, errlen, "%s", w->fatal_msg);
		return -1;
	}
	if (w->stats.targets_denied) {
		snprintf(err, errlen, "%llu namespace%s could not be entered: %s",
			 (unsigned long long)w->stats.targets_denied,
			 w->stats.targets_denied == 1 ? "" : "s", strerror(EPERM));
		errno = EPERM;
		return -1;
	}
	return 0;
}

int watch_signalled(struct watch *w)
{
	struct signalfd_siginfo si;

	if (!w->stop && w->sigfd >= 0 && read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		watch_log(w, WLOG_VERBOSE, "signal %u: stopping", si.ssi_signo);
		w->stop = 1;
	}
	return w->stop;
}

/* A namespace found by --all is keyed by its inode, not by the process it was found
 * through: when that process ends and another is still in the namespace, the watch
 * holds on through that one (it used to end the target, and the next rescan attached
 * the same namespace again as a new container). */
static int repin(struct watch *w, struct wt *wt)
{
	struct target t;
	int old = wt->t.pid;
	if (target_pid_in_ns(wt->h.ino, old, &t) < 0)
		return -1;
	close(wt->t.pidfd);
	wt->t.pidfd = wt->t.nsfd = t.pidfd;
	wt->t.pid = t.pid;
	if (ep_add(w, wt->t.pidfd, &wt->ev_pid) < 0) {
		watch_log(w, WLOG_WARN, "epoll: %s", strerror(errno));
		return -1;
	}
	watch_log(w, WLOG_VERBOSE, "%s: pid %d ended; netns %llu kept through pid %d",
		  wt->t.name, old, (unsigned long long)wt->h.ino, t.pid);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int watch_run(struct watch *w, char *err, unsigned errlen)
{
	struct epoll_event evs[64];
	int64_t deadline = w->o.for_ms ? mono_ms() + w->o.for_ms : 0;

	w->started = time_now_ms();
	if (!w->scanned)
		watch_scan(w, err, errlen);
	if (w->o.engine && !w->o.once) {
		/* container ends and exec windows (and, following, new containers) */
		if (engine_events_start(w->o.engine, follow_engine_event, w) == 0) {
			w->ev_engine.kind = EV_ENGINE;
			if (ep_add(w, engine_events_fd(w->o.engine), &w->ev_engine) < 0)
				watch_log(w, WLOG_WARN, "engine events: %s", strerror(errno));
		} else {
			watch_log(w, WLOG_WARN, "engine events: %s", engine_error(w->o.engine));
		}
	}
	if (w->fatal)
		goto fatal;
	if (w->o.once) {
		int rc = tick(w, time_now_ms(), 1);
		if (rc < 0 || w->full_since)
			snprintf(err, errlen, "%s", store_errmsg(w->st));
		return rc < 0 || w->full_since ? -1 : 0;
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
		int timeout = -1;
		int64_t mnow = mono_ms();
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
		int n = epoll_wait(w->epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		int64_t now = time_now_ms();
		for (int i = 0; i < n; i++) {
			struct ev *ev = evs[i].data.ptr;
			switch (ev->kind) {
			case EV_TIMER: {
				uint64_t expirations;
				if (read(w->timerfd, &expirations, sizeof(expirations)) < 0)
					break;
				if (tick(w, now, 0) < 0) {
					snprintf(err, errlen, "%s", store_errmsg(w->st));
					return -1;
				}
				if (w->o.all && now - w->last_rescan >= w->o.rescan_ms)
					follow_rescan_all(w, now);
				else if (w->o.select && w->o.keep_running &&
					 now - w->last_rescan >= w->o.rescan_ms) {
					/* named namespaces have no event stream: look again */
					w->last_rescan = now;
					follow_netns_scan(w);
				}
				if (w->o.periodic)
					w->o.periodic(w->o.periodic_arg, now);
				break;
			}
			case EV_ENGINE:
				if (engine_events_dispatch(w->o.engine) < 0)
					watch_log(w, WLOG_WARN, "engine events: %s",
					     engine_error(w->o.engine));
				break;
			case EV_SIGNAL:
				watch_signalled(w);
				w->stop = 1;
				break;
			case EV_DESTROY:
				read_destroy(w, ev->wt, now);
				break;
			case EV_CT:
				watch_flow_read_ct(w, ev->wt, now);
				break;
			case EV_NFT:
				watch_flow_read_nft(w, ev->wt);
				break;
			case EV_DNS:
				watch_dns_read(w, ev->wt);
				break;
			case EV_PIDFD:
				/* the process ended; its sockets' notifications are on their way */
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, ev->wt->t.pidfd, NULL);
				if (!ev->wt->by_ino || repin(w, ev->wt) < 0)
					watch_end_target(ev->wt, now + END_GRACE_MS);
				break;
			}
		}
		if (w->fatal)
			goto fatal;
		now = time_now_ms();
		for (struct wt *wt = w->targets, *next; wt; wt = next) {
			next = wt->next;
			if (wt->ending && now >= wt->end_at && finish(w, wt, now) < 0) {
				snprintf(err, errlen, "%s", store_errmsg(w->st));
				return -1;
			}
		}
		if (deadline && mono_ms() >= deadline)
			break;
		if (!w->targets && !w->o.keep_running && !w->o.all)
			break;
	}
	/* stopping (signal, --for): the containers live on; write what we know */
	if (w->targets && tick(w, time_now_ms(), 1) < 0) {
		snprintf(err, errlen, "%s", store_errmsg(w->st));
		return -1;
	}
	if (w->full_since) {
		watch_hold_lost(w, err, errlen);
		return -1;
	}
	return 0;
fatal:
	snprintf(err, errlen, "%s", w->fatal_msg);
	return -1;
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
		wt_free(wt);
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
