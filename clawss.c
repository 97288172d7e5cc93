/* clawss: what leaves a container. main(): global options, the command table, and the
 * final check that everything written to stdout reached it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, const struct global *);
	const char *summary;
} commands[] = {
	{ "watch", cmd_watch, "record the sockets of containers until they end" },
	{ "sample", cmd_sample, "record one poll of each target, then exit" },
	{ "report", cmd_report, "list recorded connections; exit 1 if any is flagged" },
	{ "containers", cmd_containers, "list the containers seen" },
	{ "policy", cmd_policy, "print an allowlist of what a container used" },
	{ "prune", cmd_prune, "delete old records" },
	{ "export", cmd_export, "write records as JSON lines for a log store" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clawss [--db PATH] [-q|-v] COMMAND [OPTIONS] [ARGS]\n\n"
		   "Records the sockets of containers' network namespaces and reports what\n"
		   "they opened after their initial task burst.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\noptions:\n"
		   "  --db PATH   database (default $CLAWSS_DB, else %s)\n"
		   "  -q, --quiet     log nothing but errors\n"
		   "  -v, --verbose   log more (repeatable)\n"
		   "  --help      this text; 'clawss COMMAND --help' for a command\n"
		   "  --version   print the version\n\n"
		   "See clawss(8).\n", CLAWSS_DEFAULT_DB);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct global g = { .db = getenv("CLAWSS_DB") };
	int c;

	if (!g.db || !*g.db)
		g.db = CLAWSS_DEFAULT_DB;
	/* '+': stop at the command name; the command parses the rest */
	opterr = 0;  /* one line of our own for a bad option, not getopt's two */
	while ((c = getopt_long(argc, argv, "+:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				return cmd_fail("--db: empty path");
			g.db = optarg;
			break;
		case 'q':
			g.verbose = -1;
			break;
		case 'v':
			if (g.verbose >= 0)
				g.verbose++;
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) || ferror(stdout) ? EXIT_TROUBLE : EXIT_OK;
		case 'V':
			printf("clawss %s\n", CLAWSS_VERSION);
			return fflush(stdout) || ferror(stdout) ? EXIT_TROUBLE : EXIT_OK;
		default:
			return cmd_bad_option(NULL, c, argv);
		}
	}
	if (optind >= argc)
		return cmd_fail("no command given (try 'clawss --help')");
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		argv += optind;
		argc -= optind;
		optind = 0;  /* reset getopt for the command's own parse */
		int rc = commands[i].fn(argc, argv, &g);
		/* a full disk or a closed pipe is an error, not a silent truncation */
		if (fflush(stdout) != 0 || ferror(stdout)) {
			if (rc != EXIT_TROUBLE)
				cmd_fail("stdout: write error");
			return EXIT_TROUBLE;
		}
		return rc;
	}
	return cmd_fail("unknown command: %s (try 'clawss --help')", name);
}
