/* A watched namespace's life: attached (watch_add), its destroy notifications read,
 * its exec windows opened and closed, its end noticed and finished. The event loop
 * (watch.c) and what attaches targets on the way (follow.c) both call in here; this
 * file calls neither. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "../lib/util.h"
#include "../store/dns.h"
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

int watch_ep_add(struct watch *w, int fd, struct wev *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = ev };
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e);
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

void watch_target_free(struct wt *wt)
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

/* ---- Attaching ---- */

/* Enters the target's namespace for its sockets and checks that it is the one that was
 * resolved. -1 with err and errno. */
static int wt_enter(struct watch *w, struct wt *wt, char *err, size_t errlen)
{
	int stranded;
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
		errno = ESTALE;
		return -1;
	}
	return 0;
}

static int seed_cb(void *arg, const struct store_socket *s)
{
	return table_seed(arg, s);
}

static int seed_closed_cb(void *arg, const struct store_socket *s)
{
	return table_seed_closed(arg, s);
}

/* Its container row, and its table with the sockets a previous run (or sample) left
 * open and the connections it closed recently (TIME_WAIT folding). -1 on a store
 * failure. */
static int wt_record(struct watch *w, struct wt *wt, int64_t now)
{
	wt->sc.name = wt->t.name;
	wt->sc.engine_id = wt->t.engine_id[0] ? wt->t.engine_id : NULL;
	wt->sc.image = wt->t.image[0] ? wt->t.image : NULL;
	wt->sc.netns_ino = wt->h.ino;
	wt->sc.started = wt->t.started;
	if (store_begin(w->st) < 0)
		return -1;
	if (store_container_attach(w->st, &wt->sc, now) < 0) {
		store_rollback(w->st);
		return -1;
	}
	if (store_commit(w->st) < 0)
		return -1;
	wt->tab = table_new(wt->sc.id, w->o.refresh_ms);
	if (!wt->tab || store_socket_each_open(w->st, wt->sc.id, seed_cb, wt->tab) < 0 ||
	    store_socket_each_closed_tcp(w->st, wt->sc.id, now - FOLD_OPENED_MS,
					 now - FOLD_CLOSED_MS, seed_closed_cb, wt->tab) < 0)
		return -1;
	if (table_set_budget(wt->tab, w->o.row_budget, HOLD_MAX, AGG_MAX) < 0)
		return -1;
	table_set_holding(wt->tab, w->full_since != 0);
	wt->owner = owner_new(wt->h.ino);
	if (!wt->owner)
		return -1;
	table_set_owner(wt->tab, owner_lookup, wt->owner);
	wt->last_container_write = now;
	return 0;
}

/* Its destroy notifications, DNS log and process end, in the event loop. */
static int wt_listen(struct watch *w, struct wt *wt)
{
	wt->ev_destroy = (struct wev){ WEV_DESTROY, wt };
	wt->ev_pid = (struct wev){ WEV_PIDFD, wt };
	wt->ev_dns = (struct wev){ WEV_DNS, wt };
	if (watch_ep_add(w, diag_fd(wt->h.destroy), &wt->ev_destroy) < 0 ||
	    (wt->dns && watch_ep_add(w, dnsw_fd(wt->dns), &wt->ev_dns) < 0) ||
	    (wt->t.pidfd >= 0 && watch_ep_add(w, wt->t.pidfd, &wt->ev_pid) < 0))
		return -1;
	return 0;
}

static int wt_fail(struct wt *wt)
{
	int e = errno;
	watch_target_free(wt);
	errno = e;
	return -1;
}

int watch_add(struct watch *w, struct target *t, char *err, size_t errlen)
{
	struct wt *wt = calloc(1, sizeof(*wt));
	int64_t now = time_now_ms();

	if (!wt) {
		target_close(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wt->w = w;
	wt->t = *t;
	t->nsfd = t->pidfd = -1;
	if (wt_enter(w, wt, err, errlen) < 0)
		return wt_fail(wt);
	watch_flow_attach(w, wt, wt->t.nsfd);
	if (w->fatal) {
		snprintf(err, errlen, "%s", w->fatal_msg);
		return wt_fail(wt);
	}
	watch_dns_attach(w, wt);
	/* a namespace file target's file no longer needed open: the sockets pin it */
	if (wt->t.pidfd < 0 && wt->t.nsfd >= 0) {
		close(wt->t.nsfd);
		wt->t.nsfd = -1;
	}
	if (w->o.name_override)
		snprintf(wt->t.name, sizeof(wt->t.name), "%s", w->o.name_override);
	if (wt_record(w, wt, now) < 0) {
		snprintf(err, errlen, "%s: %s", wt->t.name, store_errmsg(w->st));
		return wt_fail(wt);
	}
	if (wt_listen(w, wt) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return wt_fail(wt);
	}
	wt->next = w->targets;
	w->targets = wt;
	w->ntargets++;
	w->stats.targets_added++;
	watch_log(w, WLOG_INFO, "watching %s (netns %llu)", wt->t.name, (unsigned long long)wt->h.ino);
	return 0;
}

/* ---- Destroy notifications ---- */

struct destroy_ctx {
	struct table *tab;
	int64_t now;
};

static int destroy_cb(void *arg, const struct sk *s)
{
	struct destroy_ctx *c = arg;
	return table_destroyed(c->tab, s, c->now) < 0 ? -1 : 0;
}

void watch_read_destroy(struct watch *w, struct wt *wt, int64_t now)
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

/* Before a last dump (the target ended, or the watch stops): what is queued, a bounded
 * number of batches (a flood that never ends must not hold the exit). */
void watch_drain_destroy(struct watch *w, struct wt *wt, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		watch_read_destroy(w, wt, now);
		if (!diag_more(wt->h.destroy))
			break;
	}
}

/* ---- Exec windows: opened, closed and force-closed here only ---- */

/* Closes window i (inside the caller's transaction). */
static void exec_close(struct watch *w, struct wt *wt, int i, int64_t now)
{
	store_activity_close(w->st, wt->execs[i].rowid, now);
	memmove(wt->execs + i, wt->execs + i + 1,
		sizeof(wt->execs[0]) * (size_t)(wt->nexecs - i - 1));
	wt->nexecs--;
}

static void exec_open(struct watch *w, struct wt *wt, const char *id, int64_t now)
{
	if (wt->nexecs == MAX_EXECS)
		exec_close(w, wt, 0, now);   /* too many open windows: the oldest ends now */
	struct exec_win *x = &wt->execs[wt->nexecs];
	if (store_activity_open(w->st, wt->sc.id, "exec", now, 0, -1, id[0] ? id : NULL,
				&x->rowid) == 0) {
		snprintf(x->id, sizeof(x->id), "%s", id);
		wt->nexecs++;
	}
}

void watch_exec_event(struct watch *w, struct wt *wt, const struct engine_event *ev)
{
	int64_t now = ev->time_ms ? ev->time_ms : time_now_ms();
	if (store_begin(w->st) < 0)
		return;
	if (ev->kind == ENGINE_EV_EXEC_START) {
		exec_open(w, wt, ev->exec_id, now);
	} else {
		/* the window this exec opened; engines that give no exec id close the oldest */
		int i = 0;
		if (ev->exec_id[0])
			for (i = 0; i < wt->nexecs && strcmp(wt->execs[i].id, ev->exec_id); i++)
				;
		if (i < wt->nexecs)
			exec_close(w, wt, i, now);
	}
	if (store_commit(w->st) < 0)
		store_rollback(w->st);
	watch_log(w, WLOG_VERBOSE, "%s: exec %s", wt->t.name,
	     ev->kind == ENGINE_EV_EXEC_START ? "started" : "ended");
}

/* ---- The end ---- */

void watch_end_target(struct wt *wt, int64_t when)
{
	if (wt->ending)
		return;
	wt->ending = 1;
	wt->end_at = when;
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

/* A failed last transaction: tried again at the next tick, or -1 when the failure is
 * not a full disk. */
static int finish_later(struct watch *w, struct wt *wt, int in_txn, int64_t now)
{
	if (watch_txn_failed(w, in_txn, now) < 0)
		return -1;
	wt->end_at = now + w->o.interval_ms;
	return 0;
}

int watch_target_finish(struct watch *w, struct wt *wt, int64_t now)
{
	int rc = 0;
	if (store_begin(w->st) < 0)
		return finish_later(w, wt, 0, now);
	watch_drain_destroy(w, wt, now);
	watch_flow_read_ct(w, wt, now);
	poll_dump(w, wt, now, PROCNET_ALL);
	int in_txn = 1;
	if (watch_flow_tick(w, wt, now, FLOWS_DUMPED | FLOWS_FINAL, &in_txn) < 0)
		return finish_later(w, wt, 1, now);
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
	if (rc < 0)
		return finish_later(w, wt, 1, now);
	wt->nexecs = 0;   /* closed with the rest, now that it is committed */
	w->stats.targets_ended++;
	struct owner_stats os;
	owner_get_stats(wt->owner, &os);
	w->stats.owner_fds_read += os.fds_read;
	watch_log(w, WLOG_INFO, "%s ended", wt->t.name);
	unlink_wt(w, wt);
	watch_target_free(wt);
	return 0;
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
	if (watch_ep_add(w, wt->t.pidfd, &wt->ev_pid) < 0) {
		watch_log(w, WLOG_WARN, "epoll: %s", strerror(errno));
		return -1;
	}
	watch_log(w, WLOG_VERBOSE, "%s: pid %d ended; netns %llu kept through pid %d",
		  wt->t.name, old, (unsigned long long)wt->h.ino, t.pid);
	return 0;
}

void watch_target_exited(struct watch *w, struct wt *wt, int64_t now)
{
	/* the process ended; its sockets' notifications are on their way */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, wt->t.pidfd, NULL);
	if (!wt->by_ino || repin(w, wt) < 0)
		watch_end_target(wt, now + END_GRACE_MS);
}
