/* clawss policy: an allowlist, in the report --allow format, of what a container used. */
#include <getopt.h>
#include <sqlite3.h>
#include "../lib/util.h"
#include "../report/burst.h"
#include "../report/report.h"
#include "../store/store.h"
#include "cmd.h"

static const char synopsis[] =
	"usage: clawss policy --container NAME [--until-idle [--idle DUR] [--burst-max DUR]]\n"
	"                     [--since TIME] [--until TIME]\n";

static void help(void)
{
	fputs(synopsis, stdout);
	fputs("\nPrints an allowlist of the destinations (address, port, protocol) that the\n"
	      "container connected to, each with a comment saying when and how often.\n"
	      "Fed back with 'clawss report --allow FILE', it flags only what is new.\n\n"
	      "  --container NAME   the container (a glob; every record of that name)\n"
	      "  --until-idle       only connections opened in its initial burst\n"
	      "  --idle DUR         quiet time that ends the burst (default 30s)\n"
	      "  --burst-max DUR    the burst ends this long after the start at the latest\n"
	      "                     (default 10m)\n"
	      "  --since TIME       only connections opened at or after TIME\n"
	      "  --until TIME       only connections opened at or before TIME\n"
	      "                     (TIME: RFC 3339, or a duration meaning that long ago)\n"
	      "\nSee clawss-policy(8).\n", stdout);
}

int cmd_policy(int argc, char **argv, const struct global *g)
{
	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("policy", g) != 0)
		return EXIT_TROUBLE;
	enum { O_CONTAINER = 256, O_UNTIL_IDLE, O_IDLE, O_BURST_MAX, O_SINCE, O_UNTIL, O_HELP };
	static const struct option opts[] = {
		{ "container", required_argument, NULL, O_CONTAINER },
		{ "until-idle", no_argument, NULL, O_UNTIL_IDLE },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "burst-max", required_argument, NULL, O_BURST_MAX },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	static const char not_time[] = "not a time (RFC 3339, or a duration meaning that long ago)";
	struct report_query q = { .idle = 30000, .burst_max = BURST_MAX_DEFAULT_MS,
				  .since = REPORT_TIME_MIN,
				  .until = REPORT_TIME_MAX };
	char *name = NULL;
	int until_idle = 0, idle_set = 0, burst_set = 0, c, li = 0;
	int64_t now = time_now_ms();
	struct store *st = NULL;
	char err[512];

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, &li)) != -1) {
		switch (c) {
		case O_CONTAINER:
			if (name)
				return cmd_fail("policy: --container given twice");
			name = optarg;
			break;
		case O_UNTIL_IDLE:
			until_idle = 1;
			break;
		case O_IDLE:
			if (duration_parse(optarg, &q.idle) < 0)
				return cmd_fail("policy: --idle '%s': not a duration "
						"(a number with ms, s, m or h: 30s)", optarg);
			idle_set = 1;
			break;
		case O_BURST_MAX:
			if (duration_parse(optarg, &q.burst_max) < 0 || q.burst_max <= 0)
				return cmd_fail("policy: --burst-max '%s': not a positive duration "
						"(a number with ms, s, m or h: 10m)", optarg);
			burst_set = 1;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (time_parse(optarg, now, c == O_SINCE ? &q.since : &q.until) < 0)
				return cmd_fail("policy: --%s '%s': %s", opts[li].name, optarg,
						not_time);
			break;
		case O_HELP:
			help();
			return EXIT_OK;
		case ':':
			return cmd_fail("policy: %s needs a value (try 'clawss policy --help')",
					argv[optind - 1]);
		default:
			return cmd_fail("policy: unknown option '%s' (try 'clawss policy --help')",
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_fail("policy: unexpected argument '%s' (try 'clawss policy --help')",
				argv[optind]);
	if (!name)
		return cmd_fail("policy: --container NAME is required (try 'clawss policy --help')");
	if (idle_set && !until_idle)
		return cmd_fail("policy: --idle only makes sense with --until-idle");
	if (burst_set && !until_idle)
		return cmd_fail("policy: --burst-max only makes sense with --until-idle");
	if (q.since > q.until)
		return cmd_fail("policy: --since is later than --until");
	q.containers = &name;
	q.ncontainers = 1;
	/* one thread, one connection: no mutex taken per column read (tens of millions in
	 * a big report); possible only before SQLite initialises, which nothing did yet */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	if (store_open(&st, g->db, STORE_READ, err, sizeof(err)) < 0)
		return cmd_fail("%s", err);
	int rc = report_policy(store_db(st), &q, until_idle, stdout, err, sizeof(err));
	store_close(st);
	return rc < 0 ? cmd_fail("policy: %s", err) : EXIT_OK;
}
