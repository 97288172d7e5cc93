/* The command layer: the only code that prints to the user or exits. Each command parses
 * its own options with getopt_long and returns the process exit status:
 * 0 success, 1 report flagged something, 2 usage or runtime error (one line
 * "clawss: what: why" on stderr, printed with cmd_fail). */
#ifndef CLAWSS_CMD_H
#define CLAWSS_CMD_H

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_FLAGGED = 1, EXIT_TROUBLE = 2 };

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
 * first thing; watch and sample call cmd_confine_watcher once their namespaces are
 * entered and the store is open. 0, or EXIT_TROUBLE after one line on stderr. */
int cmd_confine_reader(const char *cmd, const struct global *g);
int cmd_confine_watcher(const char *cmd, unsigned flags, const struct global *g);

/* "clawss: " + message + newline on stderr; returns EXIT_TROUBLE. */
int cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For getopt errors with opterr = 0 and a ':' optstring: one line saying which option is
 * unknown or lacks its value (c is getopt's '?' or ':'). Returns EXIT_TROUBLE. */
int cmd_bad_option(const char *cmd, int c, char **argv);
/* Log a line to stderr unless quiet; with -v only when verbose >= level. */
void cmd_log(const struct global *g, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
