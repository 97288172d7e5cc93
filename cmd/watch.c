/* clawss watch / clawss sample: resolve the targets, open the store, run the watcher. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>
#include "../lib/confine.h"
#include "../lib/util.h"
#include "../lib/escape.h"
#include "../sampler/engine.h"
#include "../sampler/target.h"
#include "../sampler/watch.h"
#include "../store/store.h"
#include "cmd.h"

#define WATCH_SYNOPSIS \
	"usage: clawss watch [--interval DUR] [--for DUR] [--refresh DUR] [--retain DUR]\n" \
	"                    [--row-budget N] [--name NAME] [--follow]\n" \
	"                    [--label KEY[=VALUE]]... [--all] [--no-flows] TARGET...\n"
#define SAMPLE_SYNOPSIS "usage: clawss sample [--name NAME] [--all] [TARGET...]\n"

/* --row-budget: 10000 rows a container an hour is about 2 MB of database (at most 200
 * bytes a row), 48 MB a day for a container that floods on purpose, and 2.8 new
 * connections a second kept for ever; an agent that opens more still has each
 * destination counted (README, "Row budget"). */
#define WATCH_ROW_BUDGET 10000
#define WATCH_ROW_BUDGET_TEXT "10000"

static void watch_help(void)
{
	printf(WATCH_SYNOPSIS "\n"
	       "Records every TCP, UDP, RAW and PACKET socket of each target's network\n"
	       "namespace until the target ends, --for elapses, or SIGINT/SIGTERM, and its\n"
	       "conntrack flows (table inet clawss in the namespace; see clawss-watch(8)).\n\n"
	       "targets:\n"
	       "  NAME          a container (Docker/Podman) or a /run/netns name\n"
	       "  pid:N         the network namespace of process N (ends when it exits)\n"
	       "  netns:PATH    a namespace file (ends when it is removed)\n\n"
	       "options:\n"
	       "  --interval DUR   time between polls (default 1s)\n"
	       "  --for DUR        stop after DUR\n"
	       "  --refresh DUR    re-dump a quiet namespace at least this often, for byte\n"
	       "                   counts and states of long-lived sockets (default 10s)\n"
	       "  --name NAME      record the (single) target under NAME\n"
	       "  --follow         NAME may be a glob; also watch matching containers that\n"
	       "                   start later\n"
	       "  --label KEY[=VALUE]  engine containers carrying that label (repeatable)\n"
	       "  --all            every network namespace but the host's, now and later\n"
	       "  --retain DUR     at start and hourly, delete what ended longer ago than\n"
	       "                   DUR, as clawss prune --older-than DUR (at least 10m)\n"
	       "  --row-budget N   new connections recorded one row each per namespace and\n"
	       "                   clock hour (default " WATCH_ROW_BUDGET_TEXT "; 0: no budget); more are\n"
	       "                   counted per destination (report --by destination)\n"
	       "  --no-flows       no flow view: add no nftables table, read no conntrack\n"
	       "                   events (sockets only)\n"
	       "  --help           this text\n\n"
	       "Durations: a number with a unit: 250ms, 5s, 2m, 1h. See clawss-watch(8).\n");
}

static void sample_help(void)
{
	printf(SAMPLE_SYNOPSIS "\n"
	       "Records one poll of each target, then exits: for cron or a systemd timer.\n"
	       "Sockets recorded by an earlier run that are gone now are marked closed.\n\n"
	       "options:\n"
	       "  --name NAME   record the (single) target under NAME\n"
	       "  --all         every network namespace but the host's\n"
	       "  --help        this text\n\n"
	       "Targets as for watch. See clawss-sample(8).\n");
}

/* Logging: one line per event (a target attached or ended, lost notifications, a
 * prune), no timestamp (journald and syslog add their own). When stderr is the journal
 * stream systemd gave us (JOURNAL_STREAM names its device and inode), each line starts
 * with a syslog priority, <4> warning, <6> info, <7> verbose, which journald takes as
 * the line's priority and strips; the unit's SyslogIdentifier names the program, so the
 * "clawss: " prefix is left out there. Container names in messages come from inside
 * containers: escaped (lib/escape.h) so none can forge a line or a priority. */
struct logctx {
	const struct global *g;
	int journal;
};

static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb) < 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

static void log_line(void *arg, int level, const char *msg)
{
	const struct logctx *lc = arg;
	struct rbuf b = { 0 };
	if (level > lc->g->verbose)
		return;
	if (level < 0 && lc->g->verbose < 0)
		return;
	esc_text(&b, msg, strlen(msg));
	const char *safe = rbuf_str(&b);
	if (lc->journal)
		fprintf(stderr, "<%d>%s\n", level < 0 ? 4 : level == 0 ? 6 : 7,
			safe ? safe : "(out of memory)");
	else
		fprintf(stderr, "clawss: %s\n", safe ? safe : "(out of memory)");
	rbuf_free(&b);
}

/* watch --retain: clawss prune, run by the watcher itself at start and then every
 * RETAIN_EVERY_MS, in slices of at most RETAIN_SLICE_MS per tick so that polls and
 * destroy notifications keep flowing while it works. */
#define RETAIN_EVERY_MS (3600 * 1000)
#define RETAIN_SLICE_MS 50
#define RETAIN_MIN_MS (10 * 60 * 1000)

struct retain {
	struct store *st;
	const struct logctx *lc;
	int64_t keep_ms;
	int64_t next;            /* when the next prune starts; 0: at the first tick */
	int running;
	struct store_prune p;
};

static void retain_tick(void *arg, int64_t now)
{
	struct retain *rt = arg;
	char msg[256], when[40];
	int rc;

	if (!rt->running) {
		if (now < rt->next)
			return;
		store_prune_init(&rt->p, now - rt->keep_ms);
		rt->running = 1;
	}
	int64_t until = time_mono_ms() + RETAIN_SLICE_MS;
	while ((rc = store_prune_step(rt->st, &rt->p, 0)) > 0 && time_mono_ms() < until)
		;
	if (rc > 0)
		return;                  /* more at the next tick */
	rt->running = 0;
	rt->next = now + RETAIN_EVERY_MS;
	if (rc < 0) {
		log_line((void *)rt->lc, -1, rt->p.err);
		return;
	}
	snprintf(msg, sizeof(msg), "retain: pruned %lld sockets, %lld containers, %lld "
		 "activity rows that ended before %s", (long long)rt->p.sockets,
		 (long long)rt->p.containers, (long long)rt->p.activity,
		 time_format(rt->p.cutoff, when, sizeof(when)));
	log_line((void *)rt->lc, rt->p.sockets || rt->p.containers || rt->p.activity ? 0 : 1,
		 msg);
}

/* One watch or sample: its options, then what run() acquires and run_free releases. */
struct run {
	const char *cmd;
	struct watch_opts o;
	char **targets;
	int ntargets;
	const char **labels;
	int nlabels;
	size_t labels_cap;
	int64_t retain_ms;       /* --retain; 0 for none */

	struct target *ts;       /* the targets resolved, not yet handed to the watch */
	int resolved;
	char **globs;            /* NAME patterns of --follow and --label */
	int nglobs;
	struct engine *eng;
	struct store *st;
	struct watch *w;
	struct logctx lc;
	struct retain rt;
};

static int is_selector_free(const char *spec)
{
	return strncmp(spec, "pid:", 4) == 0 || strncmp(spec, "netns:", 6) == 0;
}

/* The engine, when one is there: ENOENT (no socket) is the normal case on a host without
 * Docker or Podman; any other failure is worth a line when a name is not found. */
static struct engine *engine_maybe(const struct global *g, int required, char *why,
				   size_t whylen)
{
	struct engine *e = NULL;
	if (engine_open(&e, NULL, why, whylen) == 0)
		return e;
	if (!required && errno != ENOENT)
		cmd_log(g, 1, "container engine: %s", why);
	return NULL;
}

/* Each watched namespace holds about seven descriptors (two sock_diag sockets, four
 * /proc files, a pidfd): hundreds of containers outgrow the usual 1024 soft limit, so
 * take what the hard limit allows, as daemons do. */
static void raise_nofile(const struct global *g)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		cmd_log(g, 1, "raising the open-file limit: %s", strerror(errno));
}

/* SQLite takes a 64 KiB statement-journal buffer for each write statement of a tick's
 * transaction and frees it at once; with glibc's default 128 KiB trim threshold the heap
 * top was returned to the kernel and grown again (brk, page faults) several times per
 * tick. Keeping up to 1 MiB of free top costs nothing once the watch is warm. */
static void steady_heap(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
}

/* Resolve everything first: a bad target must not create or touch a database.
 * 0, or -1 after one line. */
static int resolve_targets(struct run *r)
{
	struct target_engine te = { watch_engine_lookup, r->eng };
	char err[1024];

	for (int i = 0; i < r->ntargets; i++) {
		if (r->o.select && !is_selector_free(r->targets[i])) {
			r->globs[r->nglobs++] = r->targets[i];
			continue;
		}
		if (target_resolve(r->targets[i], r->eng ? &te : NULL, &r->ts[r->resolved], err,
				   sizeof(err)) < 0) {
			cmd_fail("%s", err);
			return -1;
		}
		r->resolved++;
	}
	return 0;
}

/* The watch over the open store, with the resolved targets handed over to it.
 * 0, or -1 after one line. */
static int start_watch(const struct global *g, struct run *r)
{
	char err[1024];

	r->lc = (struct logctx){ g, stderr_is_journal() };
	r->rt = (struct retain){ .st = r->st, .lc = &r->lc, .keep_ms = r->retain_ms };
	r->o.log = log_line;
	r->o.log_arg = &r->lc;
	if (r->retain_ms) {
		r->o.periodic = retain_tick;
		r->o.periodic_arg = &r->rt;
	}
	r->o.engine = r->eng;
	r->o.globs = r->globs;
	r->o.nglobs = r->nglobs;
	r->o.labels = r->labels;
	r->o.nlabels = r->nlabels;
	r->w = watch_new(r->st, &r->o, err, sizeof(err));
	if (!r->w)
		return cmd_fail("%s", err), -1;
	for (int i = 0; i < r->resolved; i++) {
		if (watch_add(r->w, &r->ts[i], err, sizeof(err)) == 0)
			continue;
		if (errno == EPERM)
			cmd_fail("%s (clawss %s needs root)", err, r->cmd);
		else
			cmd_fail("%s", err);
		/* close the targets not handed over yet */
		for (int j = i + 1; j < r->resolved; j++)
			target_close(&r->ts[j]);
		r->resolved = 0;
		return -1;
	}
	r->resolved = 0;
	return 0;
}

/* Acquire, then narrow: the named targets entered and the store open, keep only what
 * the rest of the run needs (clawss(8), SECURITY). Before the --all and selector scans:
 * what the engine lists (JSON from a socket a container may reach) is parsed confined,
 * and entering those namespaces needs no more than entering the ones that appear
 * later. */
static int narrow(const struct global *g, const struct run *r)
{
	unsigned flags = 0;
	if (r->o.all || r->o.select)
		flags |= CONFINE_ENTER_NS;       /* the scan, and namespaces that appear later */
	if (r->eng && (!r->o.once || r->o.select || r->o.all))
		flags |= CONFINE_ENGINE;         /* the engine's list and event stream */
	if (!r->o.once && !r->o.no_flows)
		flags |= CONFINE_FLOWS;          /* each namespace's table and conntrack */
	return cmd_confine_watcher(r->cmd, flags, g);
}

/* The scan and the watch itself, until the targets end; then the run's counts at -v.
 * 0, or -1 after one line. */
static int watch_until_done(struct run *r)
{
	struct watch_stats s;
	char err[1024];

	if (watch_scan(r->w, err, sizeof(err)) < 0) {
		if (errno == EPERM)
			cmd_fail("%s: %s (clawss %s needs root)", r->cmd, err, r->cmd);
		else
			cmd_fail("%s: %s", r->cmd, err);
		return -1;
	}
	if (watch_run(r->w, err, sizeof(err)) < 0)
		return cmd_fail("%s: %s", r->cmd, err), -1;
	watch_get_stats(r->w, &s);
	if (r->o.select && !r->o.keep_running && s.targets_added == 0)
		return cmd_fail("%s: no container or namespace matches", r->cmd), -1;
	snprintf(err, sizeof(err), "%llu polls, %llu dumps, %llu skipped, %llu destroy "
		 "notifications, %llu lost incidents, %llu disk-full incidents, %llu rows written, "
		 "%llu forged netlink messages dropped, %llu owner fd links read, "
		 "%llu listener-only refreshes, %llu conntrack events, %llu flows joined, "
		 "%llu flow rows, %llu recalled flows",
		 (unsigned long long)s.ticks, (unsigned long long)s.dumps,
		 (unsigned long long)s.skipped, (unsigned long long)s.destroy_events,
		 (unsigned long long)s.lost_incidents, (unsigned long long)s.full_incidents,
		 (unsigned long long)s.rows_written, (unsigned long long)s.forged,
		 (unsigned long long)s.owner_fds_read,
		 (unsigned long long)s.listener_refreshes, (unsigned long long)s.ct_events,
		 (unsigned long long)s.flows_joined, (unsigned long long)s.flow_rows,
		 (unsigned long long)s.flows_recalled);
	log_line(&r->lc, 1, err);
	return 0;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->resolved; i++)
		target_close(&r->ts[i]);
	watch_free(r->w);
	store_close(r->st);
	engine_close(r->eng);
	free(r->ts);
	free(r->globs);
}

static int run(const struct global *g, struct run *r)
{
	char err[1024], why[512] = "";
	int rc = EXIT_TROUBLE;

	raise_nofile(g);
	steady_heap();
	r->ts = calloc((size_t)r->ntargets + 1, sizeof(*r->ts));
	r->globs = calloc((size_t)r->ntargets + 1, sizeof(*r->globs));
	if (!r->ts || !r->globs) {
		cmd_fail("out of memory");
		goto out;
	}
	r->eng = engine_maybe(g, r->o.select, why, sizeof(why));
	if (r->o.select && r->nlabels && !r->eng) {
		cmd_fail("%s: --label needs a container engine: %s", r->cmd, why);
		goto out;
	}
	if (resolve_targets(r) < 0)
		goto out;
	if (store_open(&r->st, g->db, STORE_WRITE, err, sizeof(err)) < 0) {
		cmd_fail("%s", err);
		goto out;
	}
	if (start_watch(g, r) == 0 && narrow(g, r) == 0 && watch_until_done(r) == 0)
		rc = EXIT_OK;
out:
	run_free(r);
	return rc;
}

/* name: the option's long name, without its dashes */
static int duration_opt(const char *cmd, const char *name, const char *arg, int64_t *ms)
{
	if (duration_parse(arg, ms) < 0)
		return cmd_fail("%s: --%s: bad duration '%s' (a positive number with a unit: "
				"250ms, 5s, 2m, 1h)", cmd, name, arg);
	return 0;
}

/* watch's options; sample's are a few of them. */
static int watch_option(void *arg, int c, const char *name, char *value)
{
	struct run *r = arg;
	long long budget;
	switch (c) {
	case 'i':
		return duration_opt(r->cmd, name, value, &r->o.interval_ms);
	case 'f':
		return duration_opt(r->cmd, name, value, &r->o.for_ms);
	case 'r':
		return duration_opt(r->cmd, name, value, &r->o.refresh_ms);
	case 'R':
		return duration_opt(r->cmd, name, value, &r->retain_ms);
	case 'n':
		r->o.name_override = value;
		break;
	case 'F':
		r->o.keep_running = 1;
		break;
	case 'l':
		if (!*value || *value == '=')
			return cmd_fail("%s: --label: expected KEY or KEY=VALUE, got '%s'", r->cmd,
					value);
		if (util_grow(&r->labels, &r->labels_cap, (size_t)r->nlabels + 1,
			      sizeof(*r->labels)) < 0)
			return cmd_fail("out of memory");
		r->labels[r->nlabels++] = value;
		break;
	case 'a':
		r->o.all = 1;
		break;
	case 'B':
		if (util_int_parse(value, 0, INT64_MAX, &budget) < 0)
			return cmd_fail("%s: --row-budget '%s': not a number of rows (0 or more)",
					r->cmd, value);
		r->o.row_budget = budget;
		break;
	case 'N':
		r->o.no_flows = 1;
		break;
	}
	return 0;
}

static int watch_check(struct run *r)
{
	if (r->ntargets == 0 && !r->o.all && !r->nlabels && !r->o.keep_running)
		return cmd_fail("watch: no target given (try 'clawss watch --help')");
	if (r->o.keep_running && r->ntargets == 0 && !r->nlabels)
		return cmd_fail("watch: --follow needs a NAME pattern or --label");
	if (r->o.name_override && (r->ntargets != 1 || r->o.keep_running || r->nlabels))
		return cmd_fail("watch: --name needs exactly one target");
	/* --follow and --label select containers: NAMEs are then patterns */
	r->o.select = r->o.keep_running || r->nlabels;
	if (r->o.interval_ms > r->o.refresh_ms)
		r->o.refresh_ms = r->o.interval_ms;
	/* a watch holds open rows in memory for up to --refresh; pruning must stay clear */
	if (r->retain_ms && (r->retain_ms < RETAIN_MIN_MS || r->retain_ms < 10 * r->o.refresh_ms))
		return cmd_fail("watch: --retain must be at least 10m and 10 times --refresh");
	return 0;
}

int cmd_watch(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "for", required_argument, NULL, 'f' },
		{ "refresh", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'F' },
		{ "label", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "retain", required_argument, NULL, 'R' },
		{ "row-budget", required_argument, NULL, 'B' },
		{ "no-flows", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const struct cmd_parse parser = { "watch", ":h", opts, watch_help, watch_option,
						 1 };
	struct run r = { .cmd = "watch" };

	r.o.interval_ms = 1000;
	r.o.refresh_ms = 10000;
	r.o.rescan_ms = 5000;
	r.o.row_budget = WATCH_ROW_BUDGET;
	int rc = cmd_parse(&parser, argc, argv, &r);
	r.targets = argv + optind;
	r.ntargets = argc - optind;
	if (rc == CMD_GO_ON)
		rc = watch_check(&r) != 0 ? EXIT_TROUBLE : run(g, &r);
	free(r.labels);
	return rc;
}

int cmd_sample(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const struct cmd_parse parser = { "sample", ":h", opts, sample_help,
						 watch_option, 1 };
	struct run r = { .cmd = "sample" };

	r.o.once = 1;
	r.o.interval_ms = r.o.refresh_ms = r.o.rescan_ms = 1000;
	r.o.row_budget = WATCH_ROW_BUDGET;
	int rc = cmd_parse(&parser, argc, argv, &r);
	if (rc != CMD_GO_ON)
		return rc;
	r.targets = argv + optind;
	r.ntargets = argc - optind;
	if (r.ntargets == 0 && !r.o.all)
		return cmd_fail("sample: no target given, nor --all (try 'clawss sample --help')");
	if (r.o.name_override && r.ntargets != 1)
		return cmd_fail("sample: --name needs exactly one target");
	return run(g, &r);
}
