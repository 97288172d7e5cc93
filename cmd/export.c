/* clawss export: the connections that changed since a cursor, as JSON lines, and the
 * cursor to continue from (report/export.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../lib/util.h"
#include "../report/export.h"
#include "../store/store.h"
#include "cmd.h"

static const char synopsis[] =
	"usage: clawss export [--format jsonl] [--since CURSOR] [--cursor-file FILE]\n"
	"                     [--idle DUR]\n";

static void help(void)
{
	fputs(synopsis, stdout);
	fputs("\nOne JSON object a line per connection (report --format json's fields, plus\n"
	      "id, cursor, host and boot_id) that was recorded or changed after CURSOR, in\n"
	      "cursor order; a connection that closes or moves bytes later comes again.\n"
	      "The cursor to continue from goes to FILE, else to stderr as 'clawss: cursor N'.\n\n"
	      "  --format FMT         jsonl (the only one, and the default)\n"
	      "  --since CURSOR       only what changed after CURSOR (default 0: everything)\n"
	      "  --cursor-file FILE   start from the cursor in FILE (missing: 0), unless\n"
	      "                       --since is given; store the next one there once the\n"
	      "                       output is written\n"
	      "  --idle DUR           quiet time that ends the burst, for after_idle (30s)\n"
	      "\nSee clawss-export(8).\n", stdout);
}

#define CURSOR_WIDTH 20   /* digits: int64 fits, so a rewrite never leaves a tail */

/* The cursor file: read before the export, rewritten in place after it (one pwrite of a
 * fixed-width record: a crash leaves the old or the new cursor, never an empty file that
 * would restart from 0, nor a torn one). Opened before confinement narrows us. */
static int cursor_read(int fd, const char *path, int64_t *cursor)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long long v;
	if (n < 0)
		return cmd_fail("export: %s: %s", path, strerror(errno)), -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (n == 0) {
		*cursor = 0;
		return 0;
	}
	if (util_int_parse(buf, 0, INT64_MAX, &v) < 0) {
		cmd_fail("export: %s: not a cursor (one decimal number)", path);
		return -1;
	}
	*cursor = v;
	return 0;
}

static int cursor_write(int fd, const char *path, int64_t cursor)
{
	char buf[CURSOR_WIDTH + 2];
	int n = snprintf(buf, sizeof(buf), "%0*" PRId64 "\n", CURSOR_WIDTH, cursor);
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) < 0 || fsync(fd) < 0)
		return cmd_fail("export: %s: %s", path, strerror(errno ? errno : EIO)), -1;
	return 0;
}

struct export_args {
	const struct global *g;
	struct export_query q;
	int since_given;
	const char *cursor_path;
	int fd;                 /* the cursor file, or -1 */
	char host[256];
};

enum { O_FORMAT = 256, O_SINCE, O_CURSOR_FILE, O_IDLE };

static int export_option(void *arg, int c, const char *name, char *value)
{
	struct export_args *a = arg;
	long long v;
	switch (c) {
	case O_FORMAT:
		if (strcmp(value, "jsonl") != 0)
			return cmd_bad_value("export", name, value, "unknown format (jsonl)");
		break;
	case O_SINCE:
		if (util_int_parse(value, 0, INT64_MAX, &v) < 0)
			return cmd_bad_value("export", name, value,
					     "not a cursor (a number a previous export gave)");
		a->q.since = v;
		a->since_given = 1;
		break;
	case O_CURSOR_FILE:
		if (!*value)
			return cmd_bad_value("export", name, value, "empty path");
		a->cursor_path = value;
		break;
	case O_IDLE:
		return cmd_opt_idle("export", value, &a->q.idle);
	}
	return 0;
}

/* Opens the cursor file and starts from its cursor unless --since said otherwise.
 * 0, or -1 after one line. */
static int cursor_open(struct export_args *a)
{
	const char *path = a->cursor_path;
	struct stat sb;
	int64_t from_file;

	/* O_NOFOLLOW: root writing through a planted link would overwrite the file it
	 * names; O_NONBLOCK: a FIFO there must not hang the export */
	a->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
		     0600);
	if (a->fd < 0 && errno == ELOOP)
		return cmd_fail("export: %s: is a symbolic link: refused (give the file's "
				"real path)", path), -1;
	if (a->fd < 0)
		return cmd_fail("export: %s: %s", path, strerror(errno)), -1;
	if (fstat(a->fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return cmd_fail("export: %s: not a regular file", path), -1;
	if (cursor_read(a->fd, path, &from_file) < 0)
		return -1;
	if (!a->since_given)
		a->q.since = from_file;
	return 0;
}

static int export_run(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct export_args *a = arg;
	struct export_result res;

	if (report_export(store_db(st), &a->q, stdout, &res, err, errlen) < 0)
		return -1;
	if (res.ahead)
		fprintf(stderr, "clawss: export: cursor %" PRId64 " is ahead of this database "
			"(a recreated or restored file?): exported everything\n", a->q.since);
	cmd_log(a->g, 1, "export: %" PRId64 " connections", res.rows);
	/* the output is flushed (report_export checked): only now move the cursor on */
	if (a->fd < 0)
		fprintf(stderr, "clawss: cursor %" PRId64 "\n", res.next);
	else if (cursor_write(a->fd, a->cursor_path, res.next) < 0)
		return EXIT_TROUBLE;
	return EXIT_OK;
}

int cmd_export(int argc, char **argv, const struct global *g)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "since", required_argument, NULL, O_SINCE },
		{ "cursor-file", required_argument, NULL, O_CURSOR_FILE },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "help", no_argument, NULL, CMD_O_HELP },
		{ 0 },
	};
	static const struct cmd_parse parser = { "export", ":", opts, help, export_option, 0 };
	struct export_args a = { .g = g, .q = { .idle = 30000 }, .fd = -1 };
	int rc = cmd_parse(&parser, argc, argv, &a);

	if (rc != CMD_GO_ON)
		return rc;
	/* acquire, then narrow: the host name (uname) and the cursor file first */
	if (gethostname(a.host, sizeof(a.host) - 1) < 0 || !a.host[0])
		snprintf(a.host, sizeof(a.host), "localhost");
	a.q.host = a.host;
	rc = EXIT_TROUBLE;
	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if ((!a.cursor_path || cursor_open(&a) == 0) && cmd_confine_reader("export", g) == 0)
		rc = cmd_with_store(g, "export", STORE_READ, export_run, &a);
	if (a.fd >= 0)
		close(a.fd);
	return rc;
}
