/* clawss report: the recorded connections, flagged; exit 1 when a printed row is. */
#include <getopt.h>
#include <sqlite3.h>
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

int cmd_report(int argc, char **argv, const struct global *g)
{
	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("report", g) != 0)
		return EXIT_TROUBLE;
	enum { O_SINCE_IDLE = 256, O_IDLE, O_BURST_MAX, O_CONTAINER, O_SINCE, O_UNTIL, O_ALLOW, O_FORMAT,
	       O_BY, O_DNS, O_HELP };
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
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	struct report_query q = { .idle = 30000, .burst_max = BURST_MAX_DEFAULT_MS,
				  .since = REPORT_TIME_MIN,
				  .until = REPORT_TIME_MAX };
	enum out_format fmt = OUT_TABLE;
	enum report_by by = REPORT_BY_SOCKET;
	const char *allow_path = NULL, *why = NULL;
	struct allowlist allow = { 0 };
	struct store *st = NULL;
	int64_t now = time_now_ms();
	char err[512];
	int c, li = 0, rc = EXIT_TROUBLE, dns = 0;
	char **names = calloc((size_t)argc + 1, sizeof(*names));
	size_t *matched = calloc((size_t)argc + 1, sizeof(*matched));

	if (!names || !matched) {
		free(names);
		free(matched);
		return cmd_fail("report: out of memory");
	}
	opterr = 0;
	while (!why && (c = getopt_long(argc, argv, ":", opts, &li)) != -1) {
		switch (c) {
		case O_SINCE_IDLE:
			q.since_idle = 1;
			break;
		case O_IDLE:
			if (duration_parse(optarg, &q.idle) < 0)
				why = "not a duration (a number with ms, s, m or h: 30s)";
			break;
		case O_BURST_MAX:
			if (duration_parse(optarg, &q.burst_max) < 0 || q.burst_max <= 0)
				why = "not a positive duration (a number with ms, s, m or h: 10m)";
			break;
		case O_CONTAINER:
			names[q.ncontainers++] = optarg;
			break;
		case O_SINCE:
			if (time_parse(optarg, now, &q.since) < 0)
				why = "not a time (RFC 3339, or a duration meaning that long ago)";
			break;
		case O_UNTIL:
			if (time_parse(optarg, now, &q.until) < 0)
				why = "not a time (RFC 3339, or a duration meaning that long ago)";
			break;
		case O_ALLOW:
			allow_path = optarg;
			break;
		case O_FORMAT:
			if (out_format_parse(optarg, &fmt) < 0)
				why = "unknown format (table, json, csv or html)";
			break;
		case O_BY:
			if (strcmp(optarg, "destination") == 0)
				by = REPORT_BY_DESTINATION;
			else if (strcmp(optarg, "container") == 0)
				by = REPORT_BY_CONTAINER;
			else
				why = "unknown grouping (destination or container)";
			break;
		case O_DNS:
			dns = 1;
			break;
		case O_HELP:
			free(names);
			free(matched);
			help();
			return EXIT_OK;
		case ':':
			free(names);
			free(matched);
			return cmd_fail("report: %s needs a value (try 'clawss report --help')",
					argv[optind - 1]);
		default:
			free(names);
			free(matched);
			return cmd_fail("report: unknown option '%s' (try 'clawss report --help')",
					argv[optind - 1]);
		}
	}
	if (why) {
		rc = cmd_fail("report: --%s '%s': %s", opts[li].name, optarg, why);
		goto out;
	}
	if (optind < argc) {
		rc = cmd_fail("report: unexpected argument '%s' (try 'clawss report --help')",
			      argv[optind]);
		goto out;
	}
	if (q.since > q.until) {
		rc = cmd_fail("report: --since is later than --until");
		goto out;
	}
	q.containers = names;
	q.matched = matched;
	if (allow_path) {
		if (allow_load(&allow, allow_path, err, sizeof(err)) < 0) {
			rc = cmd_fail("%s", err);
			goto out;
		}
		q.allow = &allow;
	}
	/* one thread, one connection: no mutex taken per column read (tens of millions in
	 * a big report); possible only before SQLite initialises, which nothing did yet */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	if (store_open(&st, g->db, STORE_READ, err, sizeof(err)) < 0) {
		rc = cmd_fail("%s", err);
		goto out;
	}
	if (dns && (by != REPORT_BY_SOCKET || allow_path)) {
		rc = cmd_fail("report: --dns lists queries: it takes neither --by nor --allow");
		goto out;
	}
	if (dns && fmt == OUT_HTML) {
		rc = cmd_fail("report: --dns has no html format (table, json or csv)");
		goto out;
	}
	if (dns) {
		rc = report_dns(store_db(st), &q, fmt, stdout, err, sizeof(err));
	} else if (fmt == OUT_HTML) {
		char *line = command_line(argc, argv);
		rc = line ? report_print_html(store_db(st), &q, by, line, stdout, err, sizeof(err)) :
			    (snprintf(err, sizeof(err), "out of memory"), -1);
		free(line);
	} else {
		rc = report_print(store_db(st), &q, by, fmt, stdout, err, sizeof(err));
	}
	int64_t aggregated = 0, agg_flagged = 0;
	if (rc >= 0 && !dns && by == REPORT_BY_SOCKET &&
	    report_aggregated(store_db(st), &q, &aggregated, &agg_flagged, err, sizeof(err)) < 0)
		rc = -1;
	if (rc >= 0 && aggregated) {
		/* one row per socket cannot show them: say so, and let them flag the run */
		cmd_log(g, 0, "report: %lld more connections were counted per destination, not "
			"recorded one by one (a row budget or a full disk)%s: see report --by "
			"destination", (long long)aggregated, agg_flagged ? ", some undeclared" : "");
		if (agg_flagged)
			rc = 1;
	}
	if (rc < 0) {
		rc = cmd_fail("report: %s", err);
	} else {
		rc = rc ? EXIT_FLAGGED : EXIT_OK;
		/* a mistyped name must not pass for "nothing to report" unnoticed */
		for (size_t i = 0; i < q.ncontainers; i++)
			if (!matched[i])
				cmd_log(g, 0, "report: no recorded container matches '%s'", names[i]);
	}
out:
	store_close(st);
	allow_free(&allow);
	free(names);
	free(matched);
	return rc;
}
