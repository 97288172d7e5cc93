/* What every command shares: its error and log lines, the option errors and values the
 * commands have in common, and opening the database around a command's work. */
#include <getopt.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include "../lib/util.h"
#include "../store/store.h"
#include "cmd.h"

int cmd_fail(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("clawss: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_TROUBLE;
}

void cmd_log(const struct global *g, int level, const char *fmt, ...)
{
	va_list ap;
	if (g->verbose < level)
		return;
	fputs("clawss: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_bad_option(const char *cmd, int c, char **argv)
{
	const char *opt = argv[optind - 1];
	char who[32] = "", hint[48] = "clawss --help";
	if (cmd) {
		snprintf(who, sizeof(who), "%s: ", cmd);
		snprintf(hint, sizeof(hint), "clawss %s --help", cmd);
	}
	if (c == ':')
		return cmd_fail("%s%s needs a value (try '%s')", who, opt, hint);
	/* a short option by its letter: argv[optind - 1] is not it when it stands in a
	 * cluster (-qx). A long-only option's value is above a char's: named as written */
	if (optopt > 0 && optopt <= UCHAR_MAX)
		return cmd_fail("%sunknown option '-%c' (try '%s')", who, optopt, hint);
	return cmd_fail("%sunknown option '%s' (try '%s')", who, opt, hint);
}

/* After the options, for a command that takes no operand: 0, or EXIT_TROUBLE after a
 * line naming the first one. */
static int cmd_no_operand(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	return cmd_fail("%s: unexpected argument '%s' (try 'clawss %s --help')", cmd,
			argv[optind], cmd);
}

int cmd_parse(const struct cmd_parse *p, int argc, char **argv, void *arg)
{
	int c, li, rc;

	opterr = 0;  /* one line of our own for a bad option, not getopt's two */
	while ((li = -1, c = getopt_long(argc, argv, p->optstring, p->opts, &li)) != -1) {
		if (c == CMD_O_HELP || c == 'h') {
			p->help();
			return EXIT_OK;
		}
		if (c == '?' || c == ':')
			return cmd_bad_option(p->cmd, c, argv);
		rc = p->option(arg, c, li >= 0 ? p->opts[li].name : NULL, optarg);
		if (rc != 0)
			return rc;
	}
	if (!p->operands && cmd_no_operand(p->cmd, argc, argv) != 0)
		return EXIT_TROUBLE;
	return CMD_GO_ON;
}

int cmd_bad_value(const char *cmd, const char *opt, const char *arg, const char *why)
{
	return cmd_fail("%s: --%s '%s': %s", cmd, opt, arg, why);
}

int cmd_opt_idle(const char *cmd, const char *arg, int64_t *ms)
{
	if (duration_parse(arg, ms) < 0)
		return cmd_bad_value(cmd, "idle", arg,
				     "not a duration (a number with ms, s, m or h: 30s)");
	return 0;
}

int cmd_opt_burst_max(const char *cmd, const char *arg, int64_t *ms)
{
	if (duration_parse(arg, ms) < 0 || *ms <= 0)
		return cmd_bad_value(cmd, "burst-max", arg,
				     "not a positive duration (a number with ms, s, m or h: 10m)");
	return 0;
}

int cmd_opt_time(const char *cmd, const char *opt, const char *arg, int64_t now, int64_t *ms)
{
	if (time_parse(arg, now, ms) < 0)
		return cmd_bad_value(cmd, opt, arg,
				     "not a time (RFC 3339, or a duration meaning that long ago)");
	return 0;
}

int cmd_with_store(const struct global *g, const char *cmd, enum store_mode mode,
		   cmd_store_fn *fn, void *arg)
{
	struct store *st = NULL;
	char err[512] = "";
	/* a reader: one thread, one connection, so no mutex taken per column read (tens of
	 * millions in a big report); possible only before SQLite initialises, which
	 * nothing did yet */
	if (mode == STORE_READ)
		sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	if (store_open(&st, g->db, mode, err, sizeof(err)) < 0)
		return cmd_fail("%s", err);
	int rc = fn(st, arg, err, sizeof(err));
	store_close(st);
	return rc < 0 ? cmd_fail("%s: %s", cmd, err) : rc;
}
