/* clawss containers: one row per container recorded, with its burst. */
#include <getopt.h>
#include <sqlite3.h>
#include "../lib/util.h"
#include "../report/burst.h"
#include "../report/report.h"
#include "../store/store.h"
#include "cmd.h"

static const char synopsis[] =
	"usage: clawss containers [--idle DUR] [--burst-max DUR] [--format table|json|csv]\n";

static void help(void)
{
	fputs(synopsis, stdout);
	fputs("\nOne row per container recorded: when it started, was first and last seen,\n"
	      "whether it ended, when its initial burst ended, how many connections it\n"
	      "opened and how many of those report --since-idle would flag.\n\n"
	      "  --idle DUR         quiet time that ends the burst (default 30s)\n"
	      "  --burst-max DUR    the burst ends this long after the start at the latest\n"
	      "                     (default 10m)\n"
	      "  --format FMT       table (default), json or csv\n"
	      "\nSee clawss-containers(8).\n", stdout);
}

int cmd_containers(int argc, char **argv, const struct global *g)
{
	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("containers", g) != 0)
		return EXIT_TROUBLE;
	enum { O_IDLE = 256, O_BURST_MAX, O_FORMAT, O_HELP };
	static const struct option opts[] = {
		{ "idle", required_argument, NULL, O_IDLE },
		{ "burst-max", required_argument, NULL, O_BURST_MAX },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	enum out_format fmt = OUT_TABLE;
	int64_t idle = 30000, burst_max = BURST_MAX_DEFAULT_MS;
	struct store *st = NULL;
	char err[512];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_IDLE:
			if (duration_parse(optarg, &idle) < 0)
				return cmd_fail("containers: --idle '%s': not a duration "
						"(a number with ms, s, m or h: 30s)", optarg);
			break;
		case O_BURST_MAX:
			if (duration_parse(optarg, &burst_max) < 0 || burst_max <= 0)
				return cmd_fail("containers: --burst-max '%s': not a positive duration "
						"(a number with ms, s, m or h: 10m)", optarg);
			break;
		case O_FORMAT:
			if (out_format_parse(optarg, &fmt) < 0 || fmt == OUT_HTML)
				return cmd_fail("containers: --format '%s': unknown format "
						"(table, json or csv)", optarg);
			break;
		case O_HELP:
			help();
			return EXIT_OK;
		case ':':
			return cmd_fail("containers: %s needs a value (try 'clawss containers --help')",
					argv[optind - 1]);
		default:
			return cmd_fail("containers: unknown option '%s' (try 'clawss containers --help')",
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_fail("containers: unexpected argument '%s' (try 'clawss containers --help')",
				argv[optind]);
	/* one thread, one connection: no mutex taken per column read (tens of millions in
	 * a big report); possible only before SQLite initialises, which nothing did yet */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	if (store_open(&st, g->db, STORE_READ, err, sizeof(err)) < 0)
		return cmd_fail("%s", err);
	int rc = report_containers(store_db(st), idle, burst_max, fmt, stdout, err, sizeof(err));
	store_close(st);
	return rc < 0 ? cmd_fail("containers: %s", err) : EXIT_OK;
}
