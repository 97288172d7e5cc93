/* The watcher: one process, one epoll loop, any number of namespaces. Each tick it
 * re-reads every namespace's sockstat counters (microseconds) and dumps only the
 * namespaces where something may have changed; destroy notifications are read as they
 * arrive, so a socket that lives between two ticks is still recorded. */
#ifndef CLAWSS_WATCH_H
#define CLAWSS_WATCH_H

#include <stdint.h>
#include "../store/store.h"
#include "engine.h"
#include "target.h"

enum watch_log { WLOG_INFO = 0, WLOG_VERBOSE = 1, WLOG_WARN = -1 };

struct watch_opts {
	int64_t interval_ms;      /* tick */
	int64_t for_ms;           /* 0: until the targets end or a signal */
	int64_t refresh_ms;       /* dump a quiet namespace at least this often */
	int64_t rescan_ms;        /* --all: look for new namespaces this often */
	int64_t row_budget;       /* new socket rows per namespace and hour; 0: none */
	int once;                 /* sample: one full poll of each target, then stop */
	int all;                  /* every namespace but the host's, now and later */
	int keep_running;         /* do not stop when no target is left (--follow) */
	const char *name_override;/* --name for a single target */
	struct engine *engine;    /* Docker-API engine, or NULL */
	char *const *globs;       /* selector mode: name patterns (engine and /run/netns) */
	int nglobs;
	const char *const *labels;/* selector mode: KEY[=VALUE], all must match */
	int nlabels;
	int select;               /* selector mode: attach what globs/labels match */
	int no_flows;             /* no flow view (--no-flows; sample never has one) */
	uint16_t dns_log_group;   /* nfnetlink_log group for DNS packets, 0 = none */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
	/* called after every tick, outside any transaction, for slow housekeeping in
	 * bounded slices (watch --retain prunes here); NULL for none */
	void (*periodic)(void *arg, int64_t now);
	void *periodic_arg;
};

struct watch_stats {
	uint64_t ticks, dumps, skipped, destroy_events, lost_incidents, rows_written;
	uint64_t targets_added, targets_ended;
	uint64_t forged;          /* netlink datagrams not from the kernel, dropped */
	uint64_t owner_fds_read;  /* /proc/PID/fd links read to find socket owners */
	uint64_t full_incidents;  /* times the database was full (watch kept watching) */
	uint64_t targets_denied;  /* entering refused (EPERM/EACCES): a missing capability */
	uint64_t ct_events, tamper, flow_rows, flows_joined;
	uint64_t flows_recalled;  /* alive before the watch: joined to an earlier run's row */
	uint64_t listener_refreshes; /* quiet refreshes that asked for TCP listeners only */
};

struct watch;

/* Opens this process's own network namespace first: the way back after entering each
 * target's. */
struct watch *watch_new(struct store *st, const struct watch_opts *o, char *err,
			size_t errlen);
/* Takes ownership of t (closed on failure too). */
int watch_add(struct watch *w, struct target *t, char *err, size_t errlen);
/* The first --all / --follow / --label scan, entering every namespace there is now;
 * watch_run does it if it was not done. For entering them before the process narrows
 * its privileges (clawss(8), SECURITY). -1 with err when stranded in another namespace,
 * or (errno EPERM) when a namespace found could not be entered for want of privilege:
 * a watcher started without CAP_SYS_ADMIN must fail, not run blind. */
int watch_scan(struct watch *w, char *err, size_t errlen);
/* Runs until done; 0, or -1 with err (a store failure, or being stranded in another
 * namespace, which is fatal). */
int watch_run(struct watch *w, char *err, size_t errlen);
/* A target_engine lookup over engine_inspect (arg: struct engine *). */
int watch_engine_lookup(void *engine, const char *name, struct target_engine_hit *hit);
void watch_get_stats(const struct watch *w, struct watch_stats *out);
void watch_free(struct watch *w);

#endif
