/* clawss containers: one row per container recorded, with its burst. */
#include <getopt.h>
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

struct containers_args {
	int64_t idle, burst_max;
	enum out_format fmt;
};

static int containers_run(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct containers_args *a = arg;
	if (report_containers(store_db(st), a->idle, a->burst_max, a->fmt, stdout, err,
			      errlen) < 0)
		return -1;
	return EXIT_OK;
}

enum { O_IDLE = 256, O_BURST_MAX, O_FORMAT };

static int containers_option(void *arg, int c, const char *name, char *value)
{
	struct containers_args *a = arg;
	(void)name;
	switch (c) {
	case O_IDLE:
		return cmd_opt_idle("containers", value, &a->idle);
	case O_BURST_MAX:
		return cmd_opt_burst_max("containers", value, &a->burst_max);
	case O_FORMAT:
		if (out_format_parse(value, &a->fmt) < 0 || a->fmt == OUT_HTML)
			return cmd_bad_value("containers", "format", value,
					     "unknown format (table, json or csv)");
	}
	return 0;
}

int cmd_containers(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "idle", required_argument, NULL, O_IDLE },
		{ "burst-max", required_argument, NULL, O_BURST_MAX },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "help", no_argument, NULL, CMD_O_HELP },
		{ 0 },
	};
	static const struct cmd_parse parser = { "containers", ":", opts, help,
						 containers_option, 0 };
	struct containers_args a = { .idle = 30000, .burst_max = BURST_MAX_DEFAULT_MS,
				     .fmt = OUT_TABLE };

	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("containers", g) != 0)
		return EXIT_TROUBLE;
	int rc = cmd_parse(&parser, argc, argv, &a);
	if (rc != CMD_GO_ON)
		return rc;
	return cmd_with_store(g, "containers", STORE_READ, containers_run, &a);
}
