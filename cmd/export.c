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

int cmd_export(int argc, char **argv, const struct global *g)
{
	enum { O_FORMAT = 256, O_SINCE, O_CURSOR_FILE, O_IDLE, O_HELP };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "since", required_argument, NULL, O_SINCE },
		{ "cursor-file", required_argument, NULL, O_CURSOR_FILE },
		{ "idle", required_argument, NULL, O_IDLE },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	struct export_query q = { .idle = 30000 };
	struct export_result res;
	const char *cursor_path = NULL, *why = NULL;
	struct store *st = NULL;
	char err[512], host[256] = "";
	int c, li = 0, since_given = 0, fd = -1, rc = EXIT_TROUBLE;
	long long v;

	opterr = 0;
	while (!why && (c = getopt_long(argc, argv, ":", opts, &li)) != -1) {
		switch (c) {
		case O_FORMAT:
			if (strcmp(optarg, "jsonl") != 0)
				why = "unknown format (jsonl)";
			break;
		case O_SINCE:
			if (util_int_parse(optarg, 0, INT64_MAX, &v) < 0)
				why = "not a cursor (a number a previous export gave)";
			q.since = v;
			since_given = 1;
			break;
		case O_CURSOR_FILE:
			if (!*optarg)
				why = "empty path";
			cursor_path = optarg;
			break;
		case O_IDLE:
			if (duration_parse(optarg, &q.idle) < 0)
				why = "not a duration (a number with ms, s, m or h: 30s)";
			break;
		case O_HELP:
			help();
			return EXIT_OK;
		case ':':
			return cmd_fail("export: %s needs a value (try 'clawss export --help')",
					argv[optind - 1]);
		default:
			return cmd_fail("export: unknown option '%s' (try 'clawss export --help')",
					argv[optind - 1]);
		}
	}
	if (why)
		return cmd_fail("export: --%s '%s': %s", opts[li].name, optarg, why);
	if (optind < argc)
		return cmd_fail("export: unexpected argument '%s' (try 'clawss export --help')",
				argv[optind]);
	/* acquire, then narrow: the host name (uname) and the cursor file first */
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	q.host = host;
	if (cursor_path) {
		/* O_NOFOLLOW: root writing through a planted link would overwrite the file it
		 * names; O_NONBLOCK: a FIFO there must not hang the export */
		fd = open(cursor_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
			  O_NONBLOCK, 0600);
		if (fd < 0 && errno == ELOOP)
			return cmd_fail("export: %s: is a symbolic link: refused (give the file's "
					"real path)", cursor_path);
		if (fd < 0)
			return cmd_fail("export: %s: %s", cursor_path, strerror(errno));
		struct stat sb;
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			cmd_fail("export: %s: not a regular file", cursor_path);
			goto out;
		}
		int64_t from_file;
		if (cursor_read(fd, cursor_path, &from_file) < 0)
			goto out;
		if (!since_given)
			q.since = from_file;
	}
	/* a reader keeps no capability and makes no network call (clawss(8), SECURITY) */
	if (cmd_confine_reader("export", g) != 0)
		goto out;
	if (store_open(&st, g->db, STORE_READ, err, sizeof(err)) < 0) {
		cmd_fail("%s", err);
		goto out;
	}
	if (report_export(store_db(st), &q, stdout, &res, err, sizeof(err)) < 0) {
		cmd_fail("export: %s", err);
		goto out;
	}
	if (res.ahead)
		fprintf(stderr, "clawss: export: cursor %" PRId64 " is ahead of this database "
			"(a recreated or restored file?): exported everything\n", q.since);
	cmd_log(g, 1, "export: %" PRId64 " connections", res.rows);
	/* the output is flushed (report_export checked): only now move the cursor on */
	if (fd >= 0) {
		if (cursor_write(fd, cursor_path, res.next) < 0)
			goto out;
	} else {
		fprintf(stderr, "clawss: cursor %" PRId64 "\n", res.next);
	}
	rc = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	store_close(st);
	return rc;
}
