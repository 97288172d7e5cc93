/* Private to sampler/watch.c and sampler/follow.c: the watcher's state, shared by the
 * event loop (watch.c) and what attaches and detaches targets on the way (follow.c:
 * engine events, --follow and --label selectors, --all rescans). */
#ifndef CLAWSS_WATCH_INT_H
#define CLAWSS_WATCH_INT_H

#include <signal.h>
#include <stdint.h>
#include "engine.h"
#include "netns.h"
#include "owner.h"
#include "table.h"
#include "unixdiag.h"
#include "watch.h"

/* After a target's process exits, its sockets' destroy notifications are still on their
 * way (the kernel sends them from a work queue): wait this long before the last read. */
#define END_GRACE_MS 200
#define PROC_BUF (64 << 10)

#define MAX_EXECS 32           /* open exec windows tracked per container */

enum ev_kind { EV_TIMER = 1, EV_SIGNAL, EV_DESTROY, EV_PIDFD, EV_ENGINE };

struct exec_win {
	char id[ENGINE_ID_LEN + 1];
	int64_t rowid;
};

struct ev {
	int kind;
	struct wt *wt;
};

/* One watched namespace. */
struct wt {
	struct target t;
	struct nsh h;
	struct table *tab;
	struct owner *owner;
	struct store_container sc;
	struct ev ev_destroy, ev_pid;
	int64_t last_dump;
	int64_t last_container_write;
	unsigned long long sockstat;
	unsigned kinds;           /* PROCNET_* kinds sockstat last said may exist */
	int dumped;               /* at least one dump done */
	int pending;              /* destroy notifications since the last dump */
	int need_dump;            /* resynchronise (lost notifications) */
	int ending;               /* the target ended; finish at end_at */
	int64_t end_at;
	int dump_errors;
	struct exec_win execs[MAX_EXECS];
	int nexecs;
	struct wt *next;
};

struct watch {
	struct store *st;
	struct watch_opts o;
	int home_fd;
	int epfd, timerfd, sigfd;
	sigset_t oldmask;
	struct ev ev_timer, ev_signal, ev_engine;
	struct wt *targets;
	int ntargets;
	int stop;
	int raw_diag;             /* 1 works, 0 untried, -1 missing: use /proc */
	int tcp_both;             /* DIAG_BOTH_FAMILIES: 1 works, 0 untried, -1 refused */
	int64_t started, last_rescan;
	int scanned;              /* the first --all / selector scan is done */
	char *procbuf[2];
	char *icmpbuf;            /* watch_extra.c: /proc/net/icmp{,6}, grown as needed */
	size_t icmpcap;
	struct ux *uxv;           /* a namespace's unix sockets, during its dump */
	size_t nux, capux;
	struct diag *home_unix;   /* unix_diag in our own namespace: host peers' names */
	struct watch_stats stats;
	int fatal;
	char fatal_msg[256];
};

void watch_log(struct watch *w, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A stop signal arrived (read without blocking from the signalfd): long scans ask this
 * between attaches, so SIGTERM is answered while hundreds of namespaces are entered. */
int watch_signalled(struct watch *w);
/* The target ended (or its container died): finish it at when. */
void watch_end_target(struct wt *wt, int64_t when);

/* watch_extra.c: ping sockets and unix sockets to the outside */
/* The ping socket tables' digest, part of the change detector; 0 when unreadable. */
unsigned long long watch_extra_digest(struct watch *w, struct wt *wt);
/* Dumps both into wt's table (within its dump); returns the complete kinds
 * (1 << SK_ICMP | 1 << SK_UNIX). */
unsigned watch_extra_dump(struct watch *w, struct wt *wt);
/* At watch_new, in this process's own namespace. */
void watch_extra_init(struct watch *w);
void watch_extra_free(struct watch *w);

/* follow.c */
/* Attach what the --follow/--label selectors match now: engine containers, then
 * /run/netns names. */
void follow_select_scan(struct watch *w);
/* Named namespaces under /run/netns that the name patterns select. */
void follow_netns_scan(struct watch *w);
/* --all: every namespace but the host's, named by the engine where it knows them. */
void follow_rescan_all(struct watch *w, int64_t now);
/* An engine_event_cb (arg: the watch). */
int follow_engine_event(const struct engine_event *ev, void *arg);

#endif
