/* The command layer: the only code that prints to the user or exits. Each command parses
 * its own options (its getopt_long table, through cmd_parse) and returns the process
 * exit status:
 * 0 success, 1 report flagged something, 2 usage or runtime error (one line
 * "clawss: what: why" on stderr, printed with cmd_fail). */
#ifndef CLAWSS_CMD_H
#define CLAWSS_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "../store/store.h"

enum { EXIT_OK = 0, EXIT_FLAGGED = 1, EXIT_TROUBLE = 2 };
/* What cmd_parse returns to say "carry on"; anything else is the exit status to end
 * with (--help: EXIT_OK). */
#define CMD_GO_ON (-1)

struct global {
	const char *db;      /* --db, else $CLAWSS_DB, else CLAWSS_DEFAULT_DB */
	int verbose;         /* -v count; -q makes it -1 */
};

#define CLAWSS_DEFAULT_DB "/var/lib/clawss/clawss.db"

int cmd_watch(int argc, char **argv, const struct global *g);
int cmd_sample(int argc, char **argv, const struct global *g);
int cmd_report(int argc, char **argv, const struct global *g);
int cmd_containers(int argc, char **argv, const struct global *g);
int cmd_policy(int argc, char **argv, const struct global *g);
int cmd_prune(int argc, char **argv, const struct global *g);
int cmd_export(int argc, char **argv, const struct global *g);

/* Acquire, then narrow (lib/confine.h): read-only commands call cmd_confine_reader
 * once they hold what they read and write (the database; export its cursor file, prune
 * the file's size), before they read a row; watch and sample call cmd_confine_watcher
 * once their namespaces are entered and the store is open. 0, or EXIT_TROUBLE after
 * one line on stderr. */
int cmd_confine_reader(const char *cmd, const struct global *g);
int cmd_confine_watcher(const char *cmd, unsigned flags, const struct global *g);

/* "clawss: " + message + newline on stderr; returns EXIT_TROUBLE. */
int cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The val of a long-only --help (watch and sample also take -h, val 'h'): above every
 * char, as long-only options are, so that a bad "--help=x" is named as written. */
#define CMD_O_HELP 0x10000
/* A command's options: getopt_long over opts with optstring (':' first, so that a
 * missing value is told apart), opterr off. --help prints help and ends with EXIT_OK;
 * a bad option ends with cmd_bad_option's line; every other option goes to
 * option(arg, c, name, value), name its long name (NULL for a short option), which
 * returns 0, or EXIT_TROUBLE after one line. Then operands are refused unless operands
 * is set (they are left at argv[optind]). Returns CMD_GO_ON or the exit status. */
struct option;
struct cmd_parse {
	const char *cmd;
	const char *optstring;
	const struct option *opts;
	void (*help)(void);
	int (*option)(void *arg, int c, const char *name, char *value);
	int operands;
};
int cmd_parse(const struct cmd_parse *p, int argc, char **argv, void *arg);
/* For getopt errors with opterr = 0 and a ':' optstring: one line saying which option is
 * unknown or lacks its value (c is getopt's '?' or ':'), pointing at 'clawss CMD --help'
 * (cmd NULL: main's own options, 'clawss --help'). Returns EXIT_TROUBLE. */
int cmd_bad_option(const char *cmd, int c, char **argv);
/* "CMD: --OPT 'ARG': WHY" (opt without its dashes); returns EXIT_TROUBLE. */
int cmd_bad_value(const char *cmd, const char *opt, const char *arg, const char *why);
/* The values the read commands share, each refused with the same words everywhere:
 * --idle, --burst-max, and a TIME (--since, --until; opt names which). 0, or
 * EXIT_TROUBLE after one line. */
int cmd_opt_idle(const char *cmd, const char *arg, int64_t *ms);
int cmd_opt_burst_max(const char *cmd, const char *arg, int64_t *ms);
int cmd_opt_time(const char *cmd, const char *opt, const char *arg, int64_t now, int64_t *ms);

/* The body of a command that works on the database: an exit status, or -1 with one
 * sentence in err that cmd_with_store prints as "clawss: CMD: err". */
typedef int cmd_store_fn(struct store *st, void *arg, char *err, size_t errlen);
/* Opens the database g->db in mode, runs fn on it, closes it; returns fn's exit status,
 * or EXIT_TROUBLE after one line when the open or fn failed. */
int cmd_with_store(const struct global *g, const char *cmd, enum store_mode mode,
		   cmd_store_fn *fn, void *arg);
/* Log a line to stderr unless quiet; with -v only when verbose >= level. */
void cmd_log(const struct global *g, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
