/* clawss report: the recorded connections, flagged; exit 1 when a printed row is. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "../report/allow.h"
#include "../report/burst.h"
#include "../report/aggregates.h"
#include "../report/report.h"
#include "../store/store.h"
#include "cmd.h"

static const char synopsis[] =
	"usage: clawss report [--since-idle] [--idle DUR] [--burst-max DUR] [--container NAME]...\n"
	"                     [--since TIME] [--until TIME] [--allow FILE]\n"
	"                     [--format table|json|csv|html] [--by destination|container]\n"
	"                     [--dns]\n";

static void help(void)
{
	fputs(synopsis, stdout);
	fputs("\nOne row per recorded socket with a remote peer, plus every RAW and PACKET\n"
	      "socket. Exit 1 when a printed row is flagged, 0 when none is, 2 on error.\n\n"
	      "  --since-idle       only connections opened after the container's initial\n"
	      "                     burst (RAW and PACKET sockets are always shown)\n"
	      "  --idle DUR         quiet time that ends the burst (default 30s)\n"
	      "  --burst-max DUR    the burst ends this long after the start at the latest\n"
	      "                     (default 10m)\n"
	      "  --container NAME   only containers whose name matches this glob (repeatable)\n"
	      "  --since TIME       only connections opened at or after TIME\n"
	      "  --until TIME       only connections opened at or before TIME\n"
	      "                     (TIME: RFC 3339, or a duration meaning that long ago)\n"
	      "  --allow FILE       declared destinations; others are flagged undeclared\n"
	      "  --format FMT       table (default), json, csv, or html (one self-contained\n"
	      "                     page: per container a timeline, then the rows)\n"
	      "  --by KEY           one summary row per destination or per container\n"
	      "  --dns              the DNS queries seen instead, flagged dns-tunnel by the\n"
	      "                     rule of clawss-report(8)\n"
	      "\nSee clawss-report(8).\n", stdout);
}

/* "clawss report ARGS" for the page's header (raw: the page escapes it). */
static char *command_line(int argc, char **argv)
{
	size_t len = sizeof("clawss report");
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, "clawss report");
	for (int i = 1; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

struct report_args {
	const struct global *g;
	int argc;
	char **argv;
	struct report_query q;
	enum out_format fmt;
	enum report_by by;
	int dns;
	int64_t now;            /* what a TIME that is a duration counts back from */
	const char *allow_path;
	struct allowlist allow;
	char **names;       /* --container patterns (q.containers) */
	size_t *matched;    /* how many containers each matched (q.matched) */
};

enum { O_SINCE_IDLE = 256, O_IDLE, O_BURST_MAX, O_CONTAINER, O_SINCE, O_UNTIL, O_ALLOW, O_FORMAT,
       O_BY, O_DNS };

static int report_option(void *arg, int c, const char *name, char *value)
{
	struct report_args *a = arg;
	switch (c) {
	case O_SINCE_IDLE:
		a->q.since_idle = 1;
		break;
	case O_IDLE:
		return cmd_opt_idle("report", value, &a->q.idle);
	case O_BURST_MAX:
		return cmd_opt_burst_max("report", value, &a->q.burst_max);
	case O_CONTAINER:
		a->names[a->q.ncontainers++] = value;
		break;
	case O_SINCE:
	case O_UNTIL:
		return cmd_opt_time("report", name, value, a->now,
				    c == O_SINCE ? &a->q.since : &a->q.until);
	case O_ALLOW:
		a->allow_path = value;
		break;
	case O_FORMAT:
		if (out_format_parse(value, &a->fmt) < 0)
			return cmd_bad_value("report", name, value,
					     "unknown format (table, json, csv or html)");
		break;
	case O_BY:
		if (strcmp(value, "destination") == 0)
			a->by = REPORT_BY_DESTINATION;
		else if (strcmp(value, "container") == 0)
			a->by = REPORT_BY_CONTAINER;
		else
			return cmd_bad_value("report", name, value,
					     "unknown grouping (destination or container)");
		break;
	case O_DNS:
		a->dns = 1;
		break;
	}
	return 0;
}

/* The rows, in the form asked for: 1 when one is flagged, 0, or -1 with err. */
static int report_rows(struct store *st, const struct report_args *a, char *err,
		       size_t errlen)
{
	if (a->dns)
		return report_dns(store_db(st), &a->q, a->fmt, stdout, err, errlen);
	if (a->fmt != OUT_HTML)
		return report_print(store_db(st), &a->q, a->by, a->fmt, stdout, err, errlen);
	char *line = command_line(a->argc, a->argv);
	int rc = line ? report_print_html(store_db(st), &a->q, a->by, line, stdout, err, errlen) :
			(snprintf(err, errlen, "out of memory"), -1);
	free(line);
	return rc;
}

/* Connections past a row budget (or a full disk) were counted per destination, not
 * recorded one by one: one row per socket cannot show them, so say so, and let them flag
 * the run. rc is what the rows gave; returns it, 1, or -1 with err. */
static int report_counted(struct store *st, const struct report_args *a, int rc, char *err,
			  size_t errlen)
{
	int64_t aggregated = 0, agg_flagged = 0;
	if (a->dns || a->by != REPORT_BY_SOCKET)
		return rc;
	if (report_aggregated(store_db(st), &a->q, &aggregated, &agg_flagged, err, errlen) < 0)
		return -1;
	if (!aggregated)
		return rc;
	cmd_log(a->g, 0, "report: %lld more connections were counted per destination, not "
		"recorded one by one (a row budget or a full disk)%s: see report --by "
		"destination", (long long)aggregated, agg_flagged ? ", some undeclared" : "");
	return agg_flagged ? 1 : rc;
}

static int report_run(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct report_args *a = arg;
	if (a->dns && (a->by != REPORT_BY_SOCKET || a->allow_path))
		return cmd_fail("report: --dns lists queries: it takes neither --by nor --allow");
	if (a->dns && a->fmt == OUT_HTML)
		return cmd_fail("report: --dns has no html format (table, json or csv)");
	int rc = report_rows(st, a, err, errlen);
	if (rc >= 0)
		rc = report_counted(st, a, rc, err, errlen);
	if (rc < 0)
		return -1;
	/* a mistyped name must not pass for "nothing to report" unnoticed */
	for (size_t i = 0; i < a->q.ncontainers; i++)
		if (!a->matched[i])
			cmd_log(a->g, 0, "report: no recorded container matches '%s'", a->names[i]);
	return rc ? EXIT_FLAGGED : EXIT_OK;
}

int cmd_report(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "since-idle", no_argument, NULL, O_SINCE_IDLE },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "burst-max", required_argument, NULL, O_BURST_MAX },
		{ "container", required_argument, NULL, O_CONTAINER },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "allow", required_argument, NULL, O_ALLOW },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "by", required_argument, NULL, O_BY },
		{ "dns", no_argument, NULL, O_DNS },
		{ "help", no_argument, NULL, CMD_O_HELP },
		{ 0 },
	};
	static const struct cmd_parse parser = { "report", ":", opts, help, report_option, 0 };
	struct report_args a = { .g = g, .argc = argc, .argv = argv, .now = time_now_ms(),
				 .q = { .idle = 30000, .burst_max = BURST_MAX_DEFAULT_MS,
					.since = REPORT_TIME_MIN, .until = REPORT_TIME_MAX },
				 .fmt = OUT_TABLE, .by = REPORT_BY_SOCKET };
	char err[512];
	int rc;

	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("report", g) != 0)
		return EXIT_TROUBLE;
	a.names = calloc((size_t)argc + 1, sizeof(*a.names));
	a.matched = calloc((size_t)argc + 1, sizeof(*a.matched));
	if (!a.names || !a.matched) {
		rc = cmd_fail("report: out of memory");
		goto out;
	}
	rc = cmd_parse(&parser, argc, argv, &a);
	if (rc != CMD_GO_ON)
		goto out;
	a.q.containers = a.names;
	a.q.matched = a.matched;
	if (a.q.since > a.q.until) {
		rc = cmd_fail("report: --since is later than --until");
	} else if (a.allow_path && allow_load(&a.allow, a.allow_path, err, sizeof(err)) < 0) {
		rc = cmd_fail("%s", err);
	} else {
		if (a.allow_path)
			a.q.allow = &a.allow;
		rc = cmd_with_store(g, "report", STORE_READ, report_run, &a);
	}
out:
	allow_free(&a.allow);
	free(a.names);
	free(a.matched);
	return rc;
}
