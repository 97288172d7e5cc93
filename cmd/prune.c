/* clawss prune: retention. Deletes what ended longer ago than DUR and gives the space
 * back to the file system (store.h, store_prune_step). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "../lib/util.h"
#include "../store/store.h"
#include "cmd.h"

static const char synopsis[] = "usage: clawss prune --older-than DUR\n";

static void help(void)
{
	fputs(synopsis, stdout);
	fputs("\nDeletes the sockets that closed (or, in containers nothing watches any more,\n"
	      "were last seen) more than DUR ago, the containers that ended before that and\n"
	      "have nothing left, and activity rows that ended before that; then returns the\n"
	      "space to the file system. Prints one line saying what it deleted.\n\n"
	      "  --older-than DUR   what ended longer ago than DUR (e.g. 720h for 30 days)\n"
	      "\nSee clawss-prune(8).\n", stdout);
}

/* "1.5 MiB" */
static const char *size_text(int64_t bytes, char *buf, size_t len)
{
	if (bytes >= 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
	else if (bytes >= 1024)
		snprintf(buf, len, "%.1f KiB", (double)bytes / 1024.0);
	else
		snprintf(buf, len, "%" PRId64 " bytes", bytes);
	return buf;
}

struct prune_args {
	const struct global *g;
	int64_t older;          /* --older-than, ms */
};

/* A failure's message names the database, not the command: p.err says what failed in it. */
static int prune_run(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct prune_args *a = arg;
	struct store_prune p;
	char when[40], freed[32];
	int rc;

	(void)err;
	(void)errlen;
	store_prune_init(&p, time_now_ms() - a->older);
	while ((rc = store_prune_step(st, &p, 1)) > 0)
		;
	if (rc == 0 && p.full_vacuum_needed) {
		cmd_log(a->g, 0, "prune: rewriting the database once to enable incremental vacuum");
		rc = store_prune_vacuum(st, &p);
	}
	if (rc < 0)
		return cmd_fail("%s: %s", a->g->db, p.err);
	if (a->g->verbose >= 0)
		printf("pruned %" PRId64 " sockets, %" PRId64 " containers, %" PRId64
		       " activity rows that ended before %s; freed %s\n", p.sockets, p.containers,
		       p.activity, time_format(p.cutoff, when, sizeof(when)),
		       size_text(p.freed, freed, sizeof(freed)));
	return EXIT_OK;
}

enum { O_OLDER = 256 };

static int prune_option(void *arg, int c, const char *name, char *value)
{
	struct prune_args *a = arg;
	(void)name;
	if (c == O_OLDER && duration_parse(value, &a->older) < 0)
		return cmd_fail("prune: --older-than '%s': not a duration: %s (a number above 0 "
				"with a unit ms, s, m, h or d: 720h)", value, duration_error(value));
	return 0;
}

int cmd_prune(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "help", no_argument, NULL, CMD_O_HELP },
		{ 0 },
	};
	static const struct cmd_parse parser = { "prune", ":", opts, help, prune_option, 0 };
	struct prune_args a = { .g = g };
	struct stat sb;
	int rc = cmd_parse(&parser, argc, argv, &a);

	if (rc != CMD_GO_ON)
		return rc;
	if (!a.older)
		return cmd_fail("prune: --older-than is required (try 'clawss prune --help')");
	/* prune never creates a database: a wrong path is an error, not a new empty file */
	if (stat(g->db, &sb) < 0)
		return cmd_fail("%s: %s", g->db, errno == ENOENT ? "no such database" :
				strerror(errno));
	/* a reader's confinement fits: no capability, no socket, only the database file */
	if (cmd_confine_reader("prune", g) != 0)
		return EXIT_TROUBLE;
	return cmd_with_store(g, "prune", STORE_WRITE, prune_run, &a);
}
