/* Private to the watcher (sampler/watch*.c, follow.c, poll.c, hold.c): its state. The
 * calls go one way: the event loop (watch.c) calls follow.c (scans, engine events),
 * and both call watch_target.c (a target's life), which calls neither. */
#ifndef CLAWSS_WATCH_INT_H
#define CLAWSS_WATCH_INT_H

#include <signal.h>
#include <stdint.h>
#include "dnsw.h"
#include "engine.h"
#include "flowns.h"
#include "netns.h"
#include "owner.h"
#include "procnet.h"
#include "table.h"
#include "unixdiag.h"
#include "watch.h"

/* After a target's process exits, its sockets' destroy notifications are still on their
 * way (the kernel sends them from a work queue): wait this long before the last read. */
#define END_GRACE_MS 200
#define PROC_BUF (64 << 10)     /* sockstat: a few lines */

#define MAX_INCIDENTS 8        /* incidents noted between two writes, per namespace */

/* A TIME_WAIT remnant lives 60 s after its connection closed: connections an earlier
 * run (watch, sample) recorded closed this recently may still show one, which is folded
 * into their row rather than counted again. Only connections opened within
 * FOLD_OPENED_MS are looked at, so that the lookup walks a bounded part of the index;
 * a longer one that closed just before the new run starts is recorded twice (README,
 * limits). */
#define FOLD_CLOSED_MS (120 * 1000)
#define FOLD_OPENED_MS (3600 * 1000)

/* Memory while the database is full (issue 14): per namespace, this many connections
 * not yet written are held one by one (about 250 bytes each); more are counted per
 * destination, and past AGG_MAX destinations dropped with a count. The same bound on
 * destinations holds for connections past the row budget between two commits. */
#define HOLD_MAX 10000
#define AGG_MAX 4096

#define MAX_EXECS 32           /* open exec windows tracked per container */

/* What an epoll event of the watch's is about. */
enum wev_kind { WEV_TIMER = 1, WEV_SIGNAL, WEV_DESTROY, WEV_PIDFD, WEV_ENGINE, WEV_CT, WEV_NFT,
	WEV_DNS };

struct exec_win {
	char id[ENGINE_ID_LEN + 1];
	int64_t rowid;
};

/* An incident waiting for the next transaction of its namespace (an activity row). */
struct incident {
	int64_t at;
	const char *kind;         /* static text */
	char detail[160];
};

struct wev {
	int kind;
	struct wt *wt;
};

/* One watched namespace. */
struct wt {
	struct watch *w;          /* its watcher (for callbacks that get only the wt) */
	struct target t;
	struct nsh h;
	struct table *tab;
	struct owner *owner;
	struct store_container sc;
	struct wev ev_destroy, ev_pid;
	struct dnsw *dns;         /* DNS seen in the namespace (names), or NULL */
	struct wev ev_dns;
	int64_t last_dump;
	int64_t last_look;          /* last dump, or refresh that found nothing to dump */
	int64_t last_container_write;
	unsigned long long sockstat;  /* digest of its sockstat counters */
	unsigned long long extra_digest;  /* and of its ping socket tables (watch_extra) */
	unsigned procnet_kinds;   /* PROCNET_* kinds sockstat last said may exist */
	int dumped;               /* at least one dump done */
	int pending;              /* destroy notifications since the last dump */
	int need_dump;            /* resynchronise (lost notifications) */
	int ending;               /* the target ended; finish at end_at */
	int by_ino;               /* --all found it through a process: outlives that one */
	int64_t end_at;
	unsigned failing_sk;      /* 1 << SK_*: kinds whose last dump failed */
	struct incident inc[MAX_INCIDENTS];
	int ninc;
	uint64_t forged;          /* netlink datagrams dropped: not from the kernel */
	int tick_rows;            /* rows its last flush wrote */
	uint64_t full_agg0, full_drop0;   /* aggregated, dropped when the disk filled */
	struct exec_win execs[MAX_EXECS];   /* watch_target.c's alone */
	int nexecs;
	/* the flow view (watch_flow.c); flows_on 0 when off for this namespace */
	struct flowns fl;
	struct wev ev_ct, ev_nft;
	int flows_on;
	int flow_activity;        /* conntrack events since the last dump */
	int nft_check;            /* nftables changed in the namespace: look at our table */
	struct wt *next;
};

struct watch {
	struct store *st;
	struct watch_opts o;
	int home_fd;
	uint64_t home_ino;        /* our own namespace: no flow view there */
	int epfd, timerfd, sigfd;
	sigset_t oldmask;
	struct wev ev_timer, ev_signal, ev_engine;
	struct wt *targets;
	int ntargets;
	int stop;
	int raw_diag;             /* 1 works, 0 untried, -1 missing: use /proc */
	int tcp_both;             /* DIAG_BOTH_FAMILIES: 1 works, 0 untried, -1 refused */
	int64_t started;
	int64_t last_rescan;      /* set by follow_rescan alone */
	int scanned;              /* the first --all / selector scan is done */
	char *procbuf[2];         /* sockstat, sockstat6 */
	struct procnet_buf rawbuf[2];  /* raw, raw6: as large as they are */
	struct procnet_buf icmpbuf;   /* watch_extra.c: /proc/net/icmp{,6} */
	struct ux *uxv;           /* a namespace's unix sockets, during its dump */
	size_t nux, capux;
	struct diag *home_unix;   /* unix_diag in our own namespace: host peers' names */
	struct watch_stats stats;
	int flows_said_off;       /* "flows are off" said once */
	struct store_dns *sdns;   /* the DNS writes (names); NULL for sample */
	int dns_warned;
	int fatal;
	char fatal_msg[256];
	int64_t full_since;       /* the database is full since then (holding); 0: not */
	char full_why[200];
};

/* watch_target.c: a target's life */
void watch_log(struct watch *w, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int watch_ep_add(struct watch *w, int fd, struct wev *ev);
/* A stop signal arrived (read without blocking from the signalfd): long scans ask this
 * between attaches, so SIGTERM is answered while hundreds of namespaces are entered. */
int watch_signalled(struct watch *w);
void watch_target_free(struct wt *wt);
/* Reads the destroy notifications that are queued (a batch); lost ones are an incident
 * and a dump. */
void watch_read_destroy(struct watch *w, struct wt *wt, int64_t now);
void watch_drain_destroy(struct watch *w, struct wt *wt, int64_t now);
/* An engine's exec start or end: the container's exec window opens or closes. */
void watch_exec_event(struct watch *w, struct wt *wt, const struct engine_event *ev);
/* The target ended (or its container died): finish it at when. */
void watch_end_target(struct wt *wt, int64_t when);
/* Its process ended: held on through another in the namespace (--all), or ended. */
void watch_target_exited(struct watch *w, struct wt *wt, int64_t now);
/* The target ended: last dump, last notifications, close what is left (its exec
 * windows too), record the end, free it. On a full disk it stays, ending, and is tried
 * again at the next tick. -1 on a store failure. */
int watch_target_finish(struct watch *w, struct wt *wt, int64_t now);

/* poll.c */
/* Dumps every kind procnet_kinds (PROCNET_*) says may have a socket into the namespace's
 * table; a kind that could not be dumped completely is an incident, and its sockets are
 * not taken as closed. */
void poll_dump(struct watch *w, struct wt *wt, int64_t now, unsigned procnet_kinds);
void poll_refresh_listeners(struct watch *w, struct wt *wt, int64_t now);
/* An incident: a warning line now, an activity row (kind: static text) at the
 * namespace's next poll_incidents_write, inside the caller's transaction. */
void poll_incident(struct watch *w, struct wt *wt, int64_t at, const char *kind,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int poll_incidents_write(struct watch *w, struct wt *wt);
/* hold.c: a full database. */
/* The database was found full: hold, say so once. */
void watch_hold_start(struct watch *w, int64_t now);
/* The disk-full incident of wt, inside the transaction that wrote what it held. */
int watch_hold_incident(struct watch *w, struct wt *wt, int64_t now);
/* Space is back: what was held is written. */
void watch_hold_end(struct watch *w, int64_t now);
/* The transaction (open when in_txn) failed: rolled back; 0 when the disk is full
 * (held through), -1 for any other failure. */
int watch_txn_failed(struct watch *w, int in_txn, int64_t now);
/* Stopping while still full: err says what is lost. */
void watch_hold_lost(struct watch *w, char *err, size_t errlen);
/* watch_flow.c: the flow view's hooks in the event loop */
/* Inside nsfd's namespace: the table, the event sockets; says once when flows are off. */
void watch_flow_attach(struct watch *w, struct wt *wt, int nsfd);
void watch_flow_detach(struct watch *w, struct wt *wt, int remove_table);
void watch_flow_read_ct(struct watch *w, struct wt *wt, int64_t now);
void watch_flow_read_nft(struct watch *w, struct wt *wt);
/* 1 when the namespace had no conntrack event since its last dump and is not due: its
 * sockstat counters need no reading (events over polling). */
int watch_flow_quiet(struct watch *w, struct wt *wt, int64_t now);
/* In the tick, after the dump (if any), before the flush: puts a changed table back
 * (a tamper incident), joins flows (how: FLOWS_DUMPED, FLOWS_FINAL as flows_join).
 * *in_txn as in poll_one. -1 on a store failure. */
int watch_flow_tick(struct watch *w, struct wt *wt, int64_t now, int how, int *in_txn);
/* watch_dns.c: the namespace's DNS log (names); without one clawss goes on with
 * sockets, and says so once. */
void watch_dns_attach(struct watch *w, struct wt *wt);
void watch_dns_read(struct watch *w, struct wt *wt);
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
/* --all and the --follow/--label selectors: the first scan (first: watch_scan), then
 * at most one every rescan_ms (at the ticks). */
void follow_rescan(struct watch *w, int64_t now, int first);
/* An engine_event_cb (arg: the watch). */
int follow_engine_event(const struct engine_event *ev, void *arg);

#endif
