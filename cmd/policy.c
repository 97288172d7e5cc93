/* clawss policy: an allowlist, in the report --allow format, of what a container used. */
#include <getopt.h>
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

struct policy_args {
	struct report_query q;
	char *name;
	int until_idle, idle_set, burst_set;
	int64_t now;            /* what a TIME that is a duration counts back from */
};

enum { O_CONTAINER = 256, O_UNTIL_IDLE, O_IDLE, O_BURST_MAX, O_SINCE, O_UNTIL };

static int policy_option(void *arg, int c, const char *name, char *value)
{
	struct policy_args *a = arg;
	switch (c) {
	case O_CONTAINER:
		if (a->name)
			return cmd_fail("policy: --container given twice");
		a->name = value;
		break;
	case O_UNTIL_IDLE:
		a->until_idle = 1;
		break;
	case O_IDLE:
		a->idle_set = 1;
		return cmd_opt_idle("policy", value, &a->q.idle);
	case O_BURST_MAX:
		a->burst_set = 1;
		return cmd_opt_burst_max("policy", value, &a->q.burst_max);
	case O_SINCE:
	case O_UNTIL:
		return cmd_opt_time("policy", name, value, a->now,
				    c == O_SINCE ? &a->q.since : &a->q.until);
	}
	return 0;
}

static int policy_check(const struct policy_args *a)
{
	if (!a->name)
		return cmd_fail("policy: --container NAME is required (try 'clawss policy --help')");
	if (a->idle_set && !a->until_idle)
		return cmd_fail("policy: --idle only makes sense with --until-idle");
	if (a->burst_set && !a->until_idle)
		return cmd_fail("policy: --burst-max only makes sense with --until-idle");
	if (a->q.since > a->q.until)
		return cmd_fail("policy: --since is later than --until");
	return 0;
}

static int policy_run(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct policy_args *a = arg;
	if (report_policy(store_db(st), &a->q, a->until_idle, stdout, err, errlen) < 0)
		return -1;
	return EXIT_OK;
}

int cmd_policy(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "container", required_argument, NULL, O_CONTAINER },
		{ "until-idle", no_argument, NULL, O_UNTIL_IDLE },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "burst-max", required_argument, NULL, O_BURST_MAX },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "help", no_argument, NULL, CMD_O_HELP },
		{ 0 },
	};
	static const struct cmd_parse parser = { "policy", ":", opts, help, policy_option, 0 };
	struct policy_args a = { .q = { .idle = 30000, .burst_max = BURST_MAX_DEFAULT_MS,
					.since = REPORT_TIME_MIN, .until = REPORT_TIME_MAX } };

	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("policy", g) != 0)
		return EXIT_TROUBLE;
	a.now = time_now_ms();
	int rc = cmd_parse(&parser, argc, argv, &a);
	if (rc != CMD_GO_ON)
		return rc;
	if (policy_check(&a) != 0)
		return EXIT_TROUBLE;
	a.q.containers = &a.name;
	a.q.ncontainers = 1;
	return cmd_with_store(g, "policy", STORE_READ, policy_run, &a);
}
