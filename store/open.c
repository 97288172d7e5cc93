/* Opening the database file: refusing, byte-for-byte untouched, any file that is not a
 * clawss database (or is a newer one), creating and migrating the schema, and the
 * pragmas of each role. Works on a bare sqlite3 handle; store.c wraps it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "open.h"
#include "store_int.h"
#include "schema.h"
#include "../lib/util.h"

#define WRITER_BUSY_MS 5000
#define READER_BUSY_MS 2000

/* Migration N turns a version N-1 database into version N; step 1 creates the schema in
 * an empty file. All steps a file needs run in one transaction. */
static const char *const migrations[STORE_SCHEMA_VERSION + 1] = {
	[1] = store_schema_v1,
	[2] = store_schema_v2,
	[3] = store_schema_v3,
	[4] = store_schema_v4,
	[5] = store_schema_v5,
};

/* The "why" of "path: why"; a message cut short at len is still a message. */
static void open_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void open_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

enum file_kind { F_MISSING, F_EMPTY, F_OURS };

static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int exists(const char *path, const char *suffix)
{
	char side[PATH_MAX];
	struct stat sb;
	if (snprintf(side, sizeof(side), "%s%s", path, suffix) >= (int)sizeof(side))
		return 0;
	return lstat(side, &sb) == 0;
}

/* Judges the file from its 100-byte SQLite header and page 1's b-tree header, read with
 * plain pread: SQLite itself would create -wal and -shm files beside a WAL-mode file even
 * when opened read-only, and a refused file must be left exactly as it was. */
static int file_check(const char *path, enum file_kind *kind, char *why, size_t len)
{
	/* O_NOFOLLOW: a link planted where the database goes would have root write
	 * through it to any file (SECURITY in clawss(8)) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		struct stat lsb;
		if (errno == ENOENT) {
			*kind = F_MISSING;
			return 0;
		}
		if (errno == ELOOP && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
			open_why(why, len, "is a symbolic link: refused (give the file's real path)");
		else
			open_why(why, len, "%s", strerror(errno));
		return -1;
	}
	struct stat sb;
	unsigned char h[108];
	ssize_t n = 0;
	if (fstat(fd, &sb) < 0) {
		open_why(why, len, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size >= (off_t)sizeof(h))
		n = pread(fd, h, sizeof(h), 0);
	int saved = errno;
	close(fd);
	if (S_ISDIR(sb.st_mode)) {
		open_why(why, len, "is a directory");
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		open_why(why, len, "not a regular file");
		return -1;
	}
	if (sb.st_size == 0) {
		*kind = F_EMPTY;
		return 0;
	}
	if (n < 0) {
		open_why(why, len, "%s", strerror(saved));
		return -1;
	}
	if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		goto foreign;
	uint32_t page = be16(h + 16) == 1 ? 65536 : be16(h + 16);
	if (page < 512 || page > 65536 || (page & (page - 1)) || h[21] != 64 || h[22] != 32 ||
	    h[23] != 32)
		goto foreign;
	/* With a journal or WAL beside it the file may legitimately be short mid-write. */
	if (!exists(path, "-wal") && !exists(path, "-journal")) {
		/* The header's page count is valid when its two change counters agree. */
		int64_t want = be32(h + 24) == be32(h + 92) ? (int64_t)be32(h + 28) * page : 0;
		if (sb.st_size % page != 0 || sb.st_size < want) {
			open_why(why, len, "truncated database file (%" PRId64 " bytes)",
			    (int64_t)sb.st_size);
			return -1;
		}
	}
	uint32_t app = be32(h + 68), version = be32(h + 60);
	if (app == 0 && version == 0 && h[100] == 0x0d && be16(h + 103) == 0) {
		*kind = F_EMPTY;         /* an SQLite file with nothing in it yet */
		return 0;
	}
	if (app != STORE_APPLICATION_ID)
		goto foreign;
	if (version > STORE_SCHEMA_VERSION) {
		open_why(why, len, "database schema version %" PRIu32 " is newer than this clawss (%d)",
		    version, STORE_SCHEMA_VERSION);
		return -1;
	}
	*kind = F_OURS;
	return 0;
foreign:
	open_why(why, len, "not a clawss database");
	return -1;
}

/* mkdir -p of path's directory; directories made here are mode 0700. */
static int make_parents(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		open_why(why, len, "path too long");
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			open_why(why, len, "cannot create directory %s: %s", dir, strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		open_why(why, len, "%s: not a directory", dir);
		return -1;
	}
	return 0;
}

static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* A writer's directory must be one only root (or we) can change: whoever can write
 * there can swap the database or plant its -wal file (which SQLite replays into it)
 * between our checks and our writes, and a link there sends our writes elsewhere. The
 * directory itself is looked at with lstat: a symbolic link is refused, not followed. */
static int dir_check(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat sb;
	dir_of(path, dir, sizeof(dir));
	if (lstat(dir, &sb) < 0) {
		open_why(why, len, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(sb.st_mode)) {
		open_why(why, len, "directory %s is a symbolic link: refused (give the real path)", dir);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		open_why(why, len, "%s: not a directory", dir);
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		open_why(why, len, "directory %s belongs to uid %u, who could replace the database: "
		    "refused (use a directory of root's, such as /var/lib/clawss)", dir,
		    (unsigned)sb.st_uid);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		open_why(why, len, "directory %s is writable by %s (mode %04o), who could replace the "
		    "database or plant its -wal file: refused (use a directory only root can "
		    "write, such as /var/lib/clawss)", dir,
		    sb.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The new file, mode 0600 whatever the umask, made before SQLite sees the path: SQLite
 * gives the -wal and -shm files the database's mode, so they are 0600 too. O_EXCL with
 * O_NOFOLLOW: nothing planted in between is opened. Another writer creating it at the
 * same moment is fine (the file is then judged as it is). */
static int create_file(const char *path, enum file_kind *kind, char *why, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		      0600);
	if (fd < 0 && errno == EEXIST)
		return file_check(path, kind, why, len);
	if (fd < 0 && (errno == EROFS || errno == EACCES)) {
		char dir[PATH_MAX];
		dir_of(path, dir, sizeof(dir));
		open_why(why, len, "cannot create the database: directory %s is not writable (%s)", dir,
		    strerror(errno));
		return -1;
	}
	if (fd < 0) {
		open_why(why, len, "%s", strerror(errno));
		return -1;
	}
	int rc = fchmod(fd, 0600);
	int e = errno;
	close(fd);
	if (rc < 0) {
		unlink(path);
		open_why(why, len, "chmod 0600: %s", strerror(e));
		return -1;
	}
	*kind = F_EMPTY;
	return 0;
}

static int db_open(struct sqlite3 **db, const char *path, int flags, char *why, size_t len)
{
	char buf[PATH_MAX + 2];
	/* This SQLite reads "file:..." as a URI; a relative path that looks like one is not. */
	if (strncmp(path, "file:", 5) == 0) {
		if (snprintf(buf, sizeof(buf), "./%s", path) >= (int)sizeof(buf)) {
			open_why(why, len, "path too long");
			return -1;
		}
		path = buf;
	}
	/* NOFOLLOW: a link put in place after file_check looked is refused too */
	int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW,
				 NULL);
	if (rc != SQLITE_OK) {
		open_why(why, len, "%s", *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

static int query_int(struct sqlite3 *db, const char *sql, int64_t *out, char *why, size_t len)
{
	if (store_sql_i64(db, sql, out) == SQLITE_ROW)
		return 0;
	open_why(why, len, "%s", sqlite3_errmsg(db));
	return -1;
}

/* The authoritative check, through SQLite (a WAL may hold a newer page 1 than the file):
 * sets *version, 0 for an empty database that may become ours. */
static int db_check(struct sqlite3 *db, int64_t *version, char *why, size_t len)
{
	int64_t app, objects;
	if (query_int(db, "PRAGMA application_id", &app, why, len) < 0 ||
	    query_int(db, "PRAGMA user_version", version, why, len) < 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &objects, why, len) < 0)
		return -1;
	if (app == 0 && *version == 0 && objects == 0)
		return 0;
	if (app != STORE_APPLICATION_ID || *version < 1 || objects == 0) {
		open_why(why, len, "not a clawss database");
		return -1;
	}
	if (*version > STORE_SCHEMA_VERSION) {
		open_why(why, len, "database schema version %" PRId64 " is newer than this clawss (%d)",
		    *version, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int exec(struct sqlite3 *db, const char *sql, char *why, size_t len)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		open_why(why, len, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int meta_put(struct sqlite3 *db, const char *key, const char *value, char *why, size_t len)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
				    -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc != SQLITE_OK)
		open_why(why, len, "meta %s: %s", key, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Brings the file to STORE_SCHEMA_VERSION in one transaction, re-checking inside it, so
 * that two writers opening a new file at once create the schema once. */
static int migrate(struct sqlite3 *db, char *why, size_t len)
{
	int64_t from;
	char sql[64], num[32];
	if (exec(db, "BEGIN IMMEDIATE", why, len) < 0)
		return -1;
	if (db_check(db, &from, why, len) < 0)
		goto rollback;
	if (from == STORE_SCHEMA_VERSION)
		goto commit;            /* another writer got here first */
	for (int64_t v = from + 1; v <= STORE_SCHEMA_VERSION; v++)
		if (exec(db, migrations[v], why, len) < 0)
			goto rollback;
	/* Constants of ours, not data: PRAGMA takes no bound parameters. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (exec(db, sql, why, len) < 0)
		goto rollback;
	snprintf(num, sizeof(num), "%d", STORE_SCHEMA_VERSION);
	if (meta_put(db, "schema_version", num, why, len) < 0)
		goto rollback;
	if (from == 0) {
		char host[256] = "";
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APPLICATION_ID);
		snprintf(num, sizeof(num), "%" PRId64, time_now_ms());
		if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = '\0';
		if (exec(db, sql, why, len) < 0 || meta_put(db, "created", num, why, len) < 0 ||
		    (host[0] && meta_put(db, "host", host, why, len) < 0))
			goto rollback;
#ifdef CLAWSS_VERSION
		if (meta_put(db, "created_by", "clawss " CLAWSS_VERSION, why, len) < 0)
			goto rollback;
#endif
	}
commit:
	if (exec(db, "COMMIT", why, len) < 0)
		goto rollback;
	return 0;
rollback:
	if (!sqlite3_get_autocommit(db)) {
		char ignored[8];
		exec(db, "ROLLBACK", ignored, sizeof(ignored));
	}
	return -1;
}

static int pragma_text(struct sqlite3 *db, const char *sql, const char *want, char *why,
		       size_t len)
{
	sqlite3_stmt *s;
	int ret = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		open_why(why, len, "%s: %s", sql, sqlite3_errmsg(db));
	} else {
		const char *got = (const char *)sqlite3_column_text(s, 0);
		if (got && strcmp(got, want) == 0)
			ret = 0;
		else
			open_why(why, len, "%s gave %s", sql, got ? got : "NULL");
	}
	sqlite3_finalize(s);
	return ret;
}

/* Opens path with flags and a busy timeout and checks that it is ours (db_check sets
 * *version). On failure *db is closed and NULL. */
static int open_checked(struct sqlite3 **db, const char *path, int flags, int busy_ms,
			int64_t *version, char *why, size_t len)
{
	if (db_open(db, path, flags, why, len) < 0)
		return -1;
	if (sqlite3_busy_timeout(*db, busy_ms) != SQLITE_OK)
		open_why(why, len, "%s", sqlite3_errmsg(*db));
	else if (db_check(*db, version, why, len) == 0)
		return 0;
	sqlite3_close(*db);
	*db = NULL;
	return -1;
}

static int open_reader(struct sqlite3 **db, const char *path, enum file_kind kind, char *why,
		       size_t len)
{
	int64_t version;
	if (kind == F_MISSING) {
		open_why(why, len, "no such database");
		return -1;
	}
	if (kind == F_EMPTY) {
		open_why(why, len, "not a clawss database (empty file)");
		return -1;
	}
	if (open_checked(db, path, SQLITE_OPEN_READONLY, READER_BUSY_MS, &version, why, len) < 0)
		return -1;
	if (version == 0) {
		open_why(why, len, "not a clawss database (empty)");
		goto fail;
	}
	if (version < STORE_SCHEMA_VERSION) {
		open_why(why, len, "database schema version %" PRId64 " is older than this clawss (%d): "
		    "open it once for writing to upgrade", version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	return 0;
fail:
	sqlite3_close(*db);
	*db = NULL;
	return -1;
}

static int open_writer(struct sqlite3 **db, const char *path, enum file_kind kind, char *why,
		       size_t len)
{
	int64_t version;
	if (kind == F_MISSING && make_parents(path, why, len) < 0)
		return -1;
	if (dir_check(path, why, len) < 0)
		return -1;
	if (kind == F_MISSING && create_file(path, &kind, why, len) < 0)
		return -1;
	if (kind != F_MISSING) {
		/* Look before touching: read-only, no journal mode switched, nothing written. */
		if (open_checked(db, path, SQLITE_OPEN_READONLY, WRITER_BUSY_MS, &version, why,
				 len) < 0)
			return -1;
		sqlite3_close(*db);
		*db = NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | (kind == F_MISSING ? SQLITE_OPEN_CREATE : 0);
	/* checked again on this connection, in case the file changed since the look */
	if (open_checked(db, path, flags, WRITER_BUSY_MS, &version, why, len) < 0)
		return -1;
	if (exec(*db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", why, len) < 0)
		goto fail;
	/* Space freed by prune goes back to the file system (incremental_vacuum); SQLite
	 * takes this only before the first table exists, and not inside a transaction. */
	if (version == 0 && exec(*db, "PRAGMA auto_vacuum = INCREMENTAL", why, len) < 0)
		goto fail;
	/* Schema first, then WAL: the header naming the file ours reaches the main file at
	 * once, so a reader's header check never sees an unmarked file that is ours. */
	if (version < STORE_SCHEMA_VERSION && migrate(*db, why, len) < 0)
		goto fail;
	if (pragma_text(*db, "PRAGMA journal_mode = WAL", "wal", why, len) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_close(*db);
	*db = NULL;
	return -1;
}

/* SQLite says "unable to open database file" when it cannot make the -wal or -shm beside
 * the database: say why, when the reason is the directory (read-only file system). */
static void explain_cantopen(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];
	if (!strstr(why, "unable to open database file"))
		return;
	dir_of(path, dir, sizeof(dir));
	if (access(dir, W_OK) == 0 || (errno != EROFS && errno != EACCES))
		return;
	size_t n = strlen(why);
	snprintf(why + n, len - n, ": directory %s is not writable (%s)", dir, strerror(errno));
}

int store_open_db(struct sqlite3 **db, const char *path, enum store_mode mode, char *why,
		  size_t len)
{
	enum file_kind kind;
	int rc;
	*db = NULL;
	if (file_check(path, &kind, why, len) < 0)
		return -1;
	if (mode == STORE_WRITE)
		rc = open_writer(db, path, kind, why, len);
	else
		rc = open_reader(db, path, kind, why, len);
	if (rc < 0)
		explain_cantopen(path, why, len);
	return rc;
}
