/* clawss watch / clawss sample: resolve the targets, open the store, run the watcher. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/util.h"
#include "../sampler/target.h"
#include "../sampler/watch.h"
#include "../store/store.h"
#include "cmd.h"

#define WATCH_SYNOPSIS \
	"usage: clawss watch [--interval DUR] [--for DUR] [--refresh DUR] [--name NAME]\n" \
	"                    [--follow] [--label KEY[=VALUE]]... [--all] TARGET...\n"
#define SAMPLE_SYNOPSIS "usage: clawss sample [--name NAME] [--all] [TARGET...]\n"

static void watch_help(void)
{
	printf(WATCH_SYNOPSIS "\n"
	       "Records every TCP, UDP, RAW and PACKET socket of each target's network\n"
	       "namespace until the target ends, --for elapses, or SIGINT/SIGTERM.\n\n"
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

static void log_line(void *arg, int level, const char *msg)
{
	const struct global *g = arg;
	if (level > g->verbose)
		return;
	if (level < 0 && g->verbose < 0)
		return;
	fprintf(stderr, "clawss: %s\n", msg);
}

struct run {
	const char *cmd;
	struct watch_opts o;
	char **targets;
	int ntargets;
};

static int run(const struct global *g, struct run *r)
{
	struct target *ts = calloc((size_t)r->ntargets + 1, sizeof(*ts));
	struct store *st = NULL;
	struct watch *w = NULL;
	char err[1024];
	int rc = EXIT_TROUBLE, resolved = 0;

	if (!ts)
		return cmd_fail("out of memory");
	/* resolve everything first: a bad target must not create or touch a database */
	for (int i = 0; i < r->ntargets; i++) {
		if (target_resolve(r->targets[i], NULL, &ts[i], err, sizeof(err)) < 0) {
			cmd_fail("%s", err);
			goto out;
		}
		resolved++;
	}
	if (store_open(&st, g->db, STORE_WRITE, err, sizeof(err)) < 0) {
		cmd_fail("%s", err);
		goto out;
	}
	r->o.log = log_line;
	r->o.log_arg = (void *)g;
	w = watch_new(st, &r->o, err, sizeof(err));
	if (!w) {
		cmd_fail("%s", err);
		goto out;
	}
	for (int i = 0; i < r->ntargets; i++) {
		resolved--;
		if (watch_add(w, &ts[i], err, sizeof(err)) < 0) {
			if (errno == EPERM)
				cmd_fail("%s (clawss %s needs root)", err, r->cmd);
			else
				cmd_fail("%s", err);
			/* close the targets not handed over yet */
			for (int j = i + 1; j < r->ntargets; j++)
				target_close(&ts[j]);
			resolved = 0;
			goto out;
		}
	}
	resolved = 0;
	if (watch_run(w, err, sizeof(err)) < 0) {
		cmd_fail("%s: %s", r->cmd, err);
		goto out;
	}
	struct watch_stats s;
	watch_get_stats(w, &s);
	if (g->verbose > 0)
		fprintf(stderr, "clawss: %llu polls, %llu dumps, %llu skipped, %llu destroy "
			"notifications, %llu lost incidents, %llu rows written\n",
			(unsigned long long)s.ticks, (unsigned long long)s.dumps,
			(unsigned long long)s.skipped, (unsigned long long)s.destroy_events,
			(unsigned long long)s.lost_incidents, (unsigned long long)s.rows_written);
	rc = EXIT_OK;
out:
	for (int i = 0; i < resolved; i++)
		target_close(&ts[i]);
	watch_free(w);
	store_close(st);
	free(ts);
	return rc;
}

static int duration_opt(const char *cmd, const char *opt, const char *arg, int64_t *ms)
{
	if (duration_parse(arg, ms) < 0) {
		cmd_fail("%s: %s: bad duration '%s' (a positive number with a unit: 250ms, "
			 "5s, 2m, 1h)", cmd, opt, arg);
		return -1;
	}
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run r = { .cmd = "watch" };
	int c, nlabels = 0;

	r.o.interval_ms = 1000;
	r.o.refresh_ms = 10000;
	r.o.rescan_ms = 5000;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (duration_opt("watch", "--interval", optarg, &r.o.interval_ms) < 0)
				return EXIT_TROUBLE;
			break;
		case 'f':
			if (duration_opt("watch", "--for", optarg, &r.o.for_ms) < 0)
				return EXIT_TROUBLE;
			break;
		case 'r':
			if (duration_opt("watch", "--refresh", optarg, &r.o.refresh_ms) < 0)
				return EXIT_TROUBLE;
			break;
		case 'n':
			r.o.name_override = optarg;
			break;
		case 'F':
			r.o.keep_running = 1;
			break;
		case 'l':
			nlabels++;
			break;
		case 'a':
			r.o.all = 1;
			break;
		case 'h':
			watch_help();
			return EXIT_OK;
		default:
			return cmd_usage_error("watch");
		}
	}
	r.targets = argv + optind;
	r.ntargets = argc - optind;
	if (r.ntargets == 0 && !r.o.all && !nlabels) {
		fputs(WATCH_SYNOPSIS, stderr);
		return cmd_fail("watch: no target given");
	}
	if (r.o.keep_running || nlabels)
		return cmd_fail("watch: --follow and --label need a container engine, which "
				"this build does not talk to yet");
	if (r.o.name_override && r.ntargets != 1)
		return cmd_fail("watch: --name needs exactly one target");
	if (r.o.interval_ms > r.o.refresh_ms)
		r.o.refresh_ms = r.o.interval_ms;
	return run(g, &r);
}

int cmd_sample(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run r = { .cmd = "sample" };
	int c;

	r.o.once = 1;
	r.o.interval_ms = r.o.refresh_ms = r.o.rescan_ms = 1000;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			r.o.name_override = optarg;
			break;
		case 'a':
			r.o.all = 1;
			break;
		case 'h':
			sample_help();
			return EXIT_OK;
		default:
			return cmd_usage_error("sample");
		}
	}
	r.targets = argv + optind;
	r.ntargets = argc - optind;
	if (r.ntargets == 0 && !r.o.all) {
		fputs(SAMPLE_SYNOPSIS, stderr);
		return cmd_fail("sample: no target given (or --all)");
	}
	if (r.o.name_override && r.ntargets != 1)
		return cmd_fail("sample: --name needs exactly one target");
	return run(g, &r);
}
