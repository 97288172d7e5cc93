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

int cmd_prune(int argc, char **argv, const struct global *g)
{
	enum { O_OLDER = 256, O_HELP };
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	struct store_prune p;
	struct store *st = NULL;
	struct stat sb;
	int64_t older = 0;
	char err[512], when[40], freed[32];
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_OLDER:
			if (duration_parse(optarg, &older) < 0)
				return cmd_fail("prune: --older-than '%s': not a duration: %s (a "
						"number above 0 with a unit ms, s, m, h or d: 720h)", optarg,
						duration_error(optarg));
			break;
		case O_HELP:
			help();
			return EXIT_OK;
		case ':':
			return cmd_fail("prune: %s needs a value (try 'clawss prune --help')",
					argv[optind - 1]);
		default:
			return cmd_fail("prune: unknown option '%s' (try 'clawss prune --help')",
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_fail("prune: unexpected argument '%s' (try 'clawss prune --help')",
				argv[optind]);
	if (!older)
		return cmd_fail("prune: --older-than is required (try 'clawss prune --help')");
	/* prune never creates a database: a wrong path is an error, not a new empty file */
	if (stat(g->db, &sb) < 0)
		return cmd_fail("%s: %s", g->db, errno == ENOENT ? "no such database" :
				strerror(errno));
	/* a reader's confinement fits: no capability, no socket, only the database file */
	if (cmd_confine_reader("prune", g) != 0)
		return EXIT_TROUBLE;
	if (store_open(&st, g->db, STORE_WRITE, err, sizeof(err)) < 0)
		return cmd_fail("%s", err);
	store_prune_init(&p, time_now_ms() - older);
	while ((rc = store_prune_step(st, &p, 1)) > 0)
		;
	if (rc == 0 && p.full_vacuum_needed) {
		cmd_log(g, 0, "prune: rewriting the database once to enable incremental vacuum");
		rc = store_prune_vacuum(st, &p);
	}
	store_close(st);
	if (rc < 0)
		return cmd_fail("%s: %s", g->db, p.err);
	if (g->verbose >= 0)
		printf("pruned %" PRId64 " sockets, %" PRId64 " containers, %" PRId64
		       " activity rows that ended before %s; freed %s\n", p.sockets, p.containers,
		       p.activity, time_format(p.cutoff, when, sizeof(when)),
		       size_text(p.freed, freed, sizeof(freed)));
	return EXIT_OK;
}
