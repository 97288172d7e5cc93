/* store/: opening and refusing files, schema, containers, sockets, activity. No root;
 * everything happens under a mkdtemp directory that is removed at the end. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/tap.h"
#include "store/store.h"
#include "store/schema.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static char top[64];

static const char *at(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", top, name);
	return buf;
}

static int exists(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];
	struct stat sb;
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return lstat(p, &sb) == 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	*len = 0;
	if (!f)
		return NULL;
	size_t cap = 0, n;
	do {
		cap += 65536;
		buf = realloc(buf, cap);
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

static int spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* One row of a query with ?1 bound to id (when the query has one); NULL when none. */
static sqlite3_stmt *row(sqlite3 *db, const char *sql, int64_t id)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		printf("# prepare %s: %s\n", sql, sqlite3_errmsg(db));
		return NULL;
	}
	if (sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return NULL;
	}
	return q;
}

static int64_t q_int(sqlite3 *db, const char *sql, int64_t id)
{
	sqlite3_stmt *q = row(db, sql, id);
	int64_t v = q ? sqlite3_column_int64(q, 0) : -999;
	sqlite3_finalize(q);
	return v;
}

static const char *q_text(sqlite3 *db, const char *sql, int64_t id, char *buf, size_t len)
{
	sqlite3_stmt *q = row(db, sql, id);
	const char *t = q ? (const char *)sqlite3_column_text(q, 0) : NULL;
	if (!t) {
		sqlite3_finalize(q);
		return NULL;
	}
	snprintf(buf, len, "%s", t);
	sqlite3_finalize(q);
	return buf;
}

static struct store *open_ok(const char *path, enum store_mode mode, const char *what)
{
	struct store *st;
	char err[512] = "";
	int rc = store_open(&st, path, mode, err, sizeof(err));
	if (!ok(rc == 0 && st, "%s", what))
		printf("#   %s\n", err);
	return rc == 0 ? st : NULL;
}

static void addr(int family, const char *text, uint8_t *out)
{
	memset(out, 0, 16);
	inet_pton(family == SKF_IPV4 ? AF_INET : AF_INET6, text, out);
}

static struct store_socket sock_full(int64_t cid, uint64_t cookie)
{
	struct store_socket s;
	memset(&s, 0, sizeof(s));
	s.container_id = cid;
	s.sk.cookie = cookie;
	s.sk.proto = SK_TCP;
	s.sk.family = SKF_IPV4;
	s.sk.state = SKS_ESTABLISHED;
	s.sk.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT |
		    SK_HAVE_BYTES | SK_HAVE_INODE | SK_HAVE_UID;
	s.sk.lport = 43210;
	s.sk.rport = 443;
	addr(SKF_IPV4, "10.0.0.2", s.sk.laddr);
	addr(SKF_IPV4, "192.0.2.10", s.sk.raddr);
	s.sk.uid = 1000;
	s.sk.inode = 123456;
	s.sk.bytes_sent = 1234;
	s.sk.bytes_received = 5678;
	s.direction = SKD_OUT;
	s.first_seen = INT64_C(1700000000123);
	s.last_seen = s.first_seen + 1000;
	s.seen_alive = 1;
	s.pid = 4242;
	s.comm = "curl";
	return s;
}

#define SOCK_COLS "SELECT container_id, cookie, proto, family, direction, local_addr, " \
	"local_port, remote_addr, remote_port, state, first_seen, last_seen, closed_at, " \
	"bytes_sent, bytes_received, pid, comm, uid, inode, seen_alive FROM sockets WHERE id = ?1"

static void col_is_int(sqlite3_stmt *q, int i, int64_t want, const char *what)
{
	if (!q) {
		ok(0, "%s: no row", what);
		return;
	}
	int null = sqlite3_column_type(q, i) == SQLITE_NULL;
	is_int(null ? -999999 : sqlite3_column_int64(q, i), want, "%s", what);
}

static void col_is_text(sqlite3_stmt *q, int i, const char *want, const char *what)
{
	is_str(q ? (const char *)sqlite3_column_text(q, i) : "(no row)", want, "%s", what);
}

static void col_is_null(sqlite3_stmt *q, int i, const char *what)
{
	ok(q && sqlite3_column_type(q, i) == SQLITE_NULL, "%s is NULL", what);
}

/* Every column of a fully known socket, as stored. */
static void check_full_row(sqlite3 *db, const struct store_socket *s, const char *la,
			   const char *ra, const char *family, const char *what)
{
	char w[128];
	sqlite3_stmt *q = row(db, SOCK_COLS, s->rowid);
#define W(x) (snprintf(w, sizeof(w), "%s: %s", what, x), w)
	col_is_int(q, 0, s->container_id, W("container_id"));
	col_is_int(q, 1, (int64_t)s->sk.cookie, W("cookie"));
	col_is_text(q, 2, "tcp", W("proto"));
	col_is_text(q, 3, family, W("family"));
	col_is_text(q, 4, sk_dir_name(s->direction), W("direction"));
	col_is_text(q, 5, la, W("local_addr"));
	col_is_int(q, 6, s->sk.lport, W("local_port"));
	col_is_text(q, 7, ra, W("remote_addr"));
	col_is_int(q, 8, s->sk.rport, W("remote_port"));
	col_is_int(q, 9, s->sk.state, W("state"));
	col_is_int(q, 10, s->first_seen, W("first_seen"));
	col_is_int(q, 11, s->last_seen, W("last_seen"));
	if (s->closed_at)
		col_is_int(q, 12, s->closed_at, W("closed_at"));
	else
		col_is_null(q, 12, W("closed_at"));
	col_is_int(q, 13, (int64_t)s->sk.bytes_sent, W("bytes_sent"));
	col_is_int(q, 14, (int64_t)s->sk.bytes_received, W("bytes_received"));
	col_is_int(q, 15, s->pid, W("pid"));
	col_is_text(q, 16, s->comm, W("comm"));
	col_is_int(q, 17, s->sk.uid, W("uid"));
	col_is_int(q, 18, s->sk.inode, W("inode"));
	col_is_int(q, 19, s->seen_alive, W("seen_alive"));
#undef W
	sqlite3_finalize(q);
}

static void test_create(void)
{
	char p[PATH_MAX], buf[256], host[256] = "";
	struct stat sb;

	struct store *st = open_ok(at(p, "new/a/b/clawss.db"), STORE_WRITE,
				   "write: creates a missing database and its directories");
	if (!st)
		return;
	char d[PATH_MAX];
	ok(stat(at(d, "new"), &sb) == 0 && (sb.st_mode & 07777) == 0700, "new directory is 0700");
	ok(stat(at(d, "new/a/b"), &sb) == 0 && (sb.st_mode & 07777) == 0700,
	   "innermost new directory is 0700");
	sqlite3 *db = store_db(st);
	is_int(q_int(db, "PRAGMA application_id", 0), STORE_APPLICATION_ID, "application_id set");
	is_int(q_int(db, "PRAGMA user_version", 0), STORE_SCHEMA_VERSION, "user_version set");
	is_str(q_text(db, "PRAGMA journal_mode", 0, buf, sizeof(buf)), "wal", "journal_mode wal");
	is_int(q_int(db, "PRAGMA synchronous", 0), 1, "synchronous NORMAL");
	is_int(q_int(db, "PRAGMA foreign_keys", 0), 1, "foreign_keys on");
	is_int(q_int(db, "PRAGMA busy_timeout", 0), 5000, "writer busy timeout 5 s");
	is_str(q_text(db, "SELECT value FROM meta WHERE key = 'schema_version'", 0, buf,
		      sizeof(buf)), STR(STORE_SCHEMA_VERSION), "meta schema_version");
	gethostname(host, sizeof(host) - 1);
	is_str(q_text(db, "SELECT value FROM meta WHERE key = 'host'", 0, buf, sizeof(buf)), host,
	       "meta host");
	int64_t created = q_int(db, "SELECT value FROM meta WHERE key = 'created'", 0);
	ok(created > INT64_C(1600000000000), "meta created is a time in ms (%lld)",
	   (long long)created);
	is_int(q_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('containers', "
			 "'sockets', 'activity', 'meta', 'connections')", 0), 5, "tables and view made");

	struct store_container c = { .name = "keep", .netns_ino = 7 };
	is_int(store_container_attach(st, &c, 1000), 0, "attach before reopen");
	store_close(st);
	ok(!exists(p, "-wal") && !exists(p, "-shm"), "closing the last writer removes -wal, -shm");

	st = open_ok(p, STORE_WRITE, "write: reopens its own database");
	if (!st)
		return;
	db = store_db(st);
	is_int(q_int(db, "SELECT value FROM meta WHERE key = 'created'", 0), created,
	       "reopen does not re-create (meta created unchanged)");
	is_int(q_int(db, "SELECT count(*) FROM containers", 0), 1, "reopen keeps the rows");

	/* A reader while the writer is open: WAL lets both in. */
	struct store *rd = open_ok(p, STORE_READ, "read: opens while a writer has it open");
	if (rd) {
		sqlite3 *rdb = store_db(rd);
		is_int(q_int(rdb, "SELECT count(*) FROM containers", 0), 1, "reader sees the rows");
		ok(sqlite3_exec(rdb, "INSERT INTO meta VALUES ('x', 'y')", NULL, NULL, NULL) ==
		   SQLITE_READONLY, "reader connection is read-only");
		ok(q_int(rdb, "PRAGMA busy_timeout", 0) > 0, "reader has a busy timeout");
		store_close(rd);
	}
	store_close(st);

	/* A zero-length file is a new database. */
	at(p, "empty.db");
	ok(spit(p, "", 0) == 0, "zero-length file made");
	char err[512] = "";
	struct store *bad = (struct store *)1;
	is_int(store_open(&bad, p, STORE_READ, err, sizeof(err)), -1,
	       "read: a zero-length file is not a clawss database");
	ok(bad == NULL, "read: *out NULL on failure");
	st = open_ok(p, STORE_WRITE, "write: a zero-length file becomes a database");
	if (st) {
		is_int(q_int(store_db(st), "PRAGMA application_id", 0), STORE_APPLICATION_ID,
		       "zero-length file now marked ours");
		store_close(st);
	}

	/* An SQLite file with nothing in it is also new. */
	sqlite3 *raw;
	at(p, "blank.db");
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_exec(raw, "VACUUM", NULL, NULL, NULL) == SQLITE_OK, "blank SQLite file made");
	sqlite3_close(raw);
	st = open_ok(p, STORE_WRITE, "write: an empty SQLite file becomes a database");
	if (st) {
		is_int(q_int(store_db(st), "PRAGMA user_version", 0), STORE_SCHEMA_VERSION,
		       "empty SQLite file migrated");
		store_close(st);
	}

	/* SQLite reads "file:..." as a URI; clawss must take it as a file name. */
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) && chdir(top) == 0) {
		st = open_ok("file:rel.db?mode=ro", STORE_WRITE, "write: a 'file:' name is a path");
		store_close(st);
		ok(exists(at(p, "file:rel.db?mode=ro"), ""), "file named literally was created");
		if (chdir(cwd) < 0)
			ok(0, "chdir back: %s", strerror(errno));
	}
}

/* The refusals: each case lives alone in its own directory, to see that nothing appears. */
static void refused(const char *what, const char *path, const char *want)
{
	size_t n0, n1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	char *before = slurp(path, &n0);
	int ents = entries(dir);
	static const enum store_mode modes[] = { STORE_WRITE, STORE_READ };
	for (int i = 0; i < 2; i++) {
		const char *m = modes[i] == STORE_WRITE ? "write" : "read";
		struct store *st = (struct store *)1;
		char err[512] = "";
		int rc = store_open(&st, path, modes[i], err, sizeof(err));
		is_int(rc, -1, "%s: %s refuses it", what, m);
		ok(st == NULL, "%s: %s leaves *out NULL", what, m);
		if (!ok(strncmp(err, path, strlen(path)) == 0 && strstr(err, want),
			"%s: %s says \"...%s\"", what, m, want))
			printf("#   got: %s\n", err);
		store_close(rc == 0 ? st : NULL);
	}
	char *after = slurp(path, &n1);
	ok(before && after && n0 == n1 && memcmp(before, after, n0) == 0,
	   "%s: file byte-for-byte unchanged (%zu bytes)", what, n0);
	ok(!exists(path, "-wal") && !exists(path, "-shm") && !exists(path, "-journal"),
	   "%s: no -wal, -shm or -journal made", what);
	is_int(entries(dir), ents, "%s: nothing new in its directory", what);
	free(before);
	free(after);
}

static int make_real(const char *path)
{
	struct store *st;
	char err[512];
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0)
		return -1;
	struct store_container c = { .name = "real", .netns_ino = 99 };
	int rc = store_container_attach(st, &c, 1);
	rc |= store_begin(st);
	for (int i = 0; i < 300; i++) {
		struct store_socket s = sock_full(c.id, 1000 + i);
		rc |= store_socket_insert(st, &s);
	}
	rc |= store_commit(st);
	store_close(st);
	return rc;
}

static void test_refuse(void)
{
	char p[PATH_MAX], q[PATH_MAX], real[PATH_MAX];
	size_t n;

	at(real, "real/clawss.db");
	ok(make_real(real) == 0, "a real clawss database to copy from");
	char *img = slurp(real, &n);
	ok(img && n > 8192, "it has several pages (%zu bytes)", n);
	if (!img || n <= 8192)
		return;

	mkdir(at(p, "random"), 0700);
	unsigned char noise[8192];
	srand(42);
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)rand();
	spit(at(p, "random/clawss.db"), noise, sizeof(noise));
	refused("random bytes", p, "not a clawss database");

	mkdir(at(p, "trunc1000"), 0700);
	spit(at(p, "trunc1000/clawss.db"), img, 1000);
	refused("first 1000 bytes of a real one", p, "truncated");

	mkdir(at(p, "trunc4096"), 0700);
	spit(at(p, "trunc4096/clawss.db"), img, 4096);
	refused("first page of a real one", p, "truncated");

	/* Another program's database, in WAL mode so SQLite would make side files. */
	sqlite3 *raw;
	mkdir(at(p, "other"), 0700);
	at(p, "other/app.db");
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_exec(raw, "PRAGMA journal_mode = WAL; CREATE TABLE notes (x);"
			"INSERT INTO notes VALUES ('mine')", NULL, NULL, NULL) == SQLITE_OK,
	   "another program's database made");
	sqlite3_close(raw);
	refused("another program's WAL database", p, "not a clawss database");

	mkdir(at(p, "otherid"), 0700);
	at(p, "otherid/app.db");
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_exec(raw, "PRAGMA application_id = 1234; CREATE TABLE t (x)", NULL, NULL,
			NULL) == SQLITE_OK, "a database with another application_id made");
	sqlite3_close(raw);
	refused("another application_id", p, "not a clawss database");

	/* Empty schema but marked: someone else's empty file that set user_version. */
	mkdir(at(p, "marked"), 0700);
	at(p, "marked/app.db");
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_exec(raw, "PRAGMA user_version = 3; VACUUM", NULL, NULL, NULL) == SQLITE_OK,
	   "an empty database with a user_version made");
	sqlite3_close(raw);
	refused("empty but user_version 3", p, "not a clawss database");

	mkdir(at(p, "newer"), 0700);
	spit(at(p, "newer/clawss.db"), img, n);
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK,
	   "a clawss database with user_version 99 made");
	sqlite3_close(raw);
	refused("schema version 99", p, "database schema version 99 is newer than this clawss ("
		STR(STORE_SCHEMA_VERSION) ")");

	/* Version 99 still in the WAL only: the header looks fine, SQLite must catch it. */
	mkdir(at(p, "newerwal"), 0700);
	spit(at(p, "newerwal/clawss.db"), img, n);
	ok(sqlite3_open(p, &raw) == SQLITE_OK &&
	   sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) == SQLITE_OK &&
	   sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK,
	   "version 99 left in a WAL");
	sqlite3_close(raw);
	size_t m0, w0, m1, w1;
	char *main0 = slurp(p, &m0), *wal0 = slurp(at(q, "newerwal/clawss.db-wal"), &w0);
	ok(wal0 && w0 > 0, "the WAL holds it (%zu bytes)", w0);
	for (int mode = STORE_READ; mode <= STORE_WRITE; mode++) {
		struct store *st;
		char err[512] = "";
		is_int(store_open(&st, p, mode, err, sizeof(err)), -1, "WAL-only version 99 refused");
		ok(strstr(err, "newer than this clawss"), "WAL-only version 99: %s", err);
	}
	char *main1 = slurp(p, &m1), *wal1 = slurp(q, &w1);
	ok(main0 && main1 && m0 == m1 && !memcmp(main0, main1, m0) && wal1 && w0 == w1 &&
	   !memcmp(wal0, wal1, w0), "WAL-only version 99: file and WAL unchanged");
	free(main0), free(main1), free(wal0), free(wal1);

	char err[512] = "";
	struct store *st = (struct store *)1;
	is_int(store_open(&st, at(p, "real"), STORE_WRITE, err, sizeof(err)), -1,
	       "a directory is refused");
	ok(st == NULL && strstr(err, "is a directory"), "it says: %s", err);

	is_int(store_open(&st, at(p, "nothere/sub/x.db"), STORE_READ, err, sizeof(err)), -1,
	       "read: a missing file fails");
	ok(strstr(err, "no such database"), "it says: %s", err);
	ok(!exists(at(q, "nothere"), ""), "read: nothing created");

	mkfifo(at(p, "fifo"), 0600);
	is_int(store_open(&st, p, STORE_WRITE, err, sizeof(err)), -1, "a FIFO is refused");

	/* The real one is still accepted after all that. */
	st = open_ok(real, STORE_READ, "read: the real database opens");
	if (st)
		is_int(q_int(store_db(st), "SELECT count(*) FROM sockets", 0), 300,
		       "read: its rows are there");
	store_close(st);
	free(img);
}

static int mode_of(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];
	struct stat sb;
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return lstat(p, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static int write_refused(const char *path, const char *want)
{
	struct store *st = (struct store *)1;
	char err[512] = "";
	int rc = store_open(&st, path, STORE_WRITE, err, sizeof(err));
	if (rc == 0)
		store_close(st);
	if (rc == -1 && st == NULL && strstr(err, want))
		return 1;
	printf("#   got %d: %s\n", rc, err);
	return 0;
}

/* Issue 14, item 5: modes under any umask, links and shared directories refused. */
static void test_modes_links(void)
{
	char p[PATH_MAX], q[PATH_MAX], real[PATH_MAX];
	at(real, "real/clawss.db");

	static const mode_t masks[] = { 022, 0, 077 };
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "modes%zu/clawss.db", i);
		mode_t old = umask(masks[i]);
		struct store *st = open_ok(at(p, name), STORE_WRITE, "write under a umask");
		struct store_container c = { .name = "m", .netns_ino = 5 };
		ok(st && store_container_attach(st, &c, 1) == 0, "a row written (WAL files made)");
		is_int(mode_of(p, ""), 0600, "umask %03o: the database is 0600", (unsigned)masks[i]);
		is_int(mode_of(p, "-wal"), 0600, "umask %03o: -wal is 0600", (unsigned)masks[i]);
		is_int(mode_of(p, "-shm"), 0600, "umask %03o: -shm is 0600", (unsigned)masks[i]);
		store_close(st);
		umask(old);
	}

	mkdir(at(p, "links"), 0700);
	ok(symlink(real, at(p, "links/clawss.db")) == 0, "a link to the real database");
	refused("a symbolic link as the database", p, "symbolic link");
	ok(symlink(at(q, "links/target.db"), at(p, "links/dangling.db")) == 0, "a dangling link");
	ok(write_refused(p, "symbolic link"), "write: a dangling link is refused");
	ok(!exists(q, ""), "and nothing is created where it points");

	ok(symlink(at(q, "real"), at(p, "linkdir")) == 0, "a link to the real directory");
	ok(write_refused(at(p, "linkdir/clawss.db"), "directory"),
	   "write: a database in a linked directory is refused");
	ok(write_refused(at(p, "linkdir/new.db"), "is a symbolic link"),
	   "write: a new database in a linked directory is refused");
	ok(!exists(at(q, "real/new.db"), ""), "and nothing is created");

	static const struct { mode_t mode; const char *want; } shared[] = {
		{ 0777, "writable by others" }, { 01777, "writable by others" },
		{ 0770, "writable by its group" },
	};
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "shared%zu", i);
		mkdir(at(p, name), 0700);
		chmod(p, shared[i].mode);
		snprintf(name, sizeof(name), "shared%zu/clawss.db", i);
		ok(write_refused(at(p, name), shared[i].want), "write: a directory of mode %04o is "
		   "refused", (unsigned)shared[i].mode);
		ok(!exists(p, ""), "and no database is made there");
	}
	if (geteuid() == 0) {
		mkdir(at(p, "nobody"), 0700);
		ok(chown(p, 65534, 65534) == 0, "a directory of another user's");
		ok(write_refused(at(p, "nobody/clawss.db"), "belongs to uid 65534"),
		   "write: refused");
	}
}

/* A database that cannot grow says so: store_disk_full (the watcher holds through it). */
static void test_full(void)
{
	char p[PATH_MAX];
	struct store *st = open_ok(at(p, "full/clawss.db"), STORE_WRITE, "a database to fill");
	if (!st)
		return;
	struct store_container c = { .name = "full", .netns_ino = 7 };
	ok(store_container_attach(st, &c, 1) == 0, "its container");
	ok(store_disk_full(st) == 0, "not full yet");
	int64_t pages = q_int(store_db(st), "PRAGMA page_count", 0);
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages + 2);
	sqlite3_exec(store_db(st), sql, NULL, NULL, NULL);
	int rc = 0, i;
	store_begin(st);
	for (i = 0; i < 5000 && rc == 0; i++) {
		struct store_socket s = sock_full(c.id, 90000 + (uint64_t)i);
		rc = store_socket_insert(st, &s);
	}
	if (rc == 0)
		rc = store_commit(st);
	ok(rc < 0, "writes fail once it cannot grow (after %d rows)", i);
	ok(store_disk_full(st), "store_disk_full says so: %s", store_errmsg(st));
	store_rollback(st);
	store_begin(st);
	ok(store_disk_full(st) == 0, "a new transaction starts afresh");
	store_rollback(st);
	store_close(st);
}

static void test_containers(struct store *st)
{
	sqlite3 *db = store_db(st);
	char buf[256];
	struct store_container c = { .name = "web", .netns_ino = UINT64_C(4026532001) };
	is_int(store_container_attach(st, &c, 1000), 0, "attach a new container");
	int64_t id = c.id;
	ok(id > 0, "it has an id");
	ok(q_int(db, "SELECT engine_id IS NULL AND image IS NULL AND started IS NULL "
		     "FROM containers WHERE id = ?1", id) == 1, "unknowns are NULL");

	struct store_container c2 = { .name = "web", .netns_ino = UINT64_C(4026532001),
				      .engine_id = "abc123", .image = "busybox", .started = 500 };
	is_int(store_container_attach(st, &c2, 2000), 0, "attach it again");
	is_int(c2.id, id, "same container, same id");
	is_str(q_text(db, "SELECT engine_id FROM containers WHERE id = ?1", id, buf, sizeof(buf)),
	       "abc123", "engine_id filled in when it was NULL");
	is_str(q_text(db, "SELECT image FROM containers WHERE id = ?1", id, buf, sizeof(buf)),
	       "busybox", "image filled in");
	is_int(q_int(db, "SELECT started FROM containers WHERE id = ?1", id), 500, "started filled in");
	is_int(q_int(db, "SELECT first_seen FROM containers WHERE id = ?1", id), 1000,
	       "first_seen kept");
	is_int(q_int(db, "SELECT last_seen FROM containers WHERE id = ?1", id), 2000,
	       "last_seen moved");

	struct store_container c3 = { .name = "web", .netns_ino = UINT64_C(4026532001),
				      .engine_id = "zzz", .started = 7 };
	is_int(store_container_attach(st, &c3, 1500), 0, "attach with other details");
	is_int(c3.id, id, "still the same id");
	is_str(q_text(db, "SELECT engine_id FROM containers WHERE id = ?1", id, buf, sizeof(buf)),
	       "abc123", "a known engine_id is not overwritten");
	is_int(q_int(db, "SELECT last_seen FROM containers WHERE id = ?1", id), 2000,
	       "last_seen never goes back");

	struct store_container other = { .name = "db", .netns_ino = UINT64_C(4026532001) };
	is_int(store_container_attach(st, &other, 2000), 0, "attach another name, same netns");
	ok(other.id != id && other.id > 0, "another name is another container");
	struct store_container ns2 = { .name = "web", .netns_ino = UINT64_C(4026532002) };
	is_int(store_container_attach(st, &ns2, 2000), 0, "attach same name, other netns");
	ok(ns2.id != id && ns2.id != other.id, "another netns is another container");

	is_int(store_container_seen(st, id, 3000), 0, "container seen");
	is_int(q_int(db, "SELECT last_seen FROM containers WHERE id = ?1", id), 3000,
	       "seen moves last_seen");
	is_int(store_container_seen(st, 999999, 3000), -1, "seen of an unknown id fails");
	ok(strstr(store_errmsg(st), "999999"), "it says which: %s", store_errmsg(st));

	is_int(store_container_end(st, id, 4000), 0, "container end");
	is_int(q_int(db, "SELECT ended FROM containers WHERE id = ?1", id), 4000, "ended set");
	is_int(store_container_end(st, 999999, 4000), -1, "end of an unknown id fails");
	struct store_container again = { .name = "web", .netns_ino = UINT64_C(4026532001) };
	is_int(store_container_attach(st, &again, 5000), 0, "attach after end");
	ok(again.id != id && again.id > 0, "after end a new row (%lld, was %lld)",
	   (long long)again.id, (long long)id);
	is_int(q_int(db, "SELECT first_seen FROM containers WHERE id = ?1", again.id), 5000,
	       "new row first_seen is now");

	/* Same netns inode and name in another boot is another container. */
	sqlite3_stmt *u;
	ok(sqlite3_prepare_v2(db, "UPDATE containers SET boot_id = 'other-boot' WHERE id = ?1", -1,
			      &u, NULL) == SQLITE_OK && sqlite3_bind_int64(u, 1, again.id) == SQLITE_OK &&
	   sqlite3_step(u) == SQLITE_DONE, "move a row to another boot");
	sqlite3_finalize(u);
	struct store_container boot = { .name = "web", .netns_ino = UINT64_C(4026532001) };
	is_int(store_container_attach(st, &boot, 6000), 0, "attach in this boot");
	ok(boot.id != again.id, "a row of another boot is not reused");
	ok(strlen(q_text(db, "SELECT boot_id FROM containers WHERE id = ?1", boot.id, buf,
			 sizeof(buf)) ?: "") == 36, "boot_id recorded (%s)", buf);
	is_int(store_container_attach(st, &(struct store_container){ .netns_ino = 1 }, 1), -1,
	       "attach without a name fails");
}

struct seen {
	int n, stop_after, nested_rc, update_rc;
	struct store *st;
	struct store_socket s[8];
	char comm[8][32];
};

static int collect(void *arg, const struct store_socket *s)
{
	struct seen *v = arg;
	if (v->n < 8) {
		v->s[v->n] = *s;
		snprintf(v->comm[v->n], sizeof(v->comm[0]), "%s", s->comm ? s->comm : "(null)");
	}
	v->n++;
	if (v->st) {
		static struct seen inner;
		v->nested_rc = store_socket_each_open(v->st, s->container_id, collect, &inner);
		struct store_socket u = *s;
		u.last_seen += 1;
		v->update_rc = store_socket_update(v->st, &u);
	}
	return v->stop_after && v->n >= v->stop_after ? v->stop_after : 0;
}

static void test_sockets(struct store *st)
{
	sqlite3 *db = store_db(st);
	struct store_container c = { .name = "sock", .netns_ino = 11 };
	struct store_container c2 = { .name = "sock2", .netns_ino = 12 };
	if (!ok(store_container_attach(st, &c, 1) == 0 &&
		store_container_attach(st, &c2, 1) == 0, "containers for sockets"))
		return;
	int64_t w0 = store_rows_written(st);

	/* Full round trip of every field. */
	struct store_socket s = sock_full(c.id, UINT64_C(0x1b008));
	is_int(store_socket_insert(st, &s), 0, "insert a fully known socket");
	ok(s.rowid > 0, "insert sets rowid");
	check_full_row(db, &s, "10.0.0.2", "192.0.2.10", "ipv4", "full v4");

	s.sk.state = SKS_TIME_WAIT;
	s.sk.bytes_sent = UINT64_C(9999999999);
	s.sk.bytes_received = 8888;
	s.sk.rport = 8443;
	addr(SKF_IPV4, "10.0.0.3", s.sk.laddr);
	addr(SKF_IPV4, "198.51.100.7", s.sk.raddr);
	s.last_seen += 5000;
	s.closed_at = s.last_seen + 1;
	s.pid = 777;
	s.comm = "wget";
	s.sk.uid = 0;
	s.sk.inode = 654321;
	int64_t first = s.first_seen;
	s.first_seen = 1;              /* update does not move first_seen */
	is_int(store_socket_update(st, &s), 0, "update it");
	s.first_seen = first;
	check_full_row(db, &s, "10.0.0.3", "198.51.100.7", "ipv4", "updated v4");

	/* A NULL in an update means "not told this time", not "forget". */
	struct store_socket blank = s;
	blank.sk.have = 0;
	blank.pid = 0;
	blank.comm = NULL;
	blank.closed_at = 0;
	is_int(store_socket_update(st, &blank), 0, "update with nothing known");
	check_full_row(db, &s, "10.0.0.3", "198.51.100.7", "ipv4", "unknowns keep values");

	struct store_socket ghost = s;
	ghost.rowid = 987654;
	int64_t w = store_rows_written(st);
	/* a row a prune deleted under a watch that still holds its connection */
	is_int(store_socket_update(st, &ghost), 1, "update of a missing (pruned) row: 1");
	is_int(store_rows_written(st), w, "... writes nothing and is not counted");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE id = ?", 987654), 0, "... and brings nothing back");

	/* IPv6, and v4-mapped IPv6 stored as IPv4 text. */
	struct store_socket s6 = sock_full(c.id, 0x2000);
	s6.sk.family = SKF_IPV6;
	s6.direction = SKD_IN;
	addr(SKF_IPV6, "2001:db8::2", s6.sk.laddr);
	addr(SKF_IPV6, "2001:db8:0:0:0:0:1:443", s6.sk.raddr);
	is_int(store_socket_insert(st, &s6), 0, "insert IPv6");
	check_full_row(db, &s6, "2001:db8::2", "2001:db8::1:443", "ipv6", "v6");
	struct store_socket sm = sock_full(c.id, 0x2001);
	sm.sk.family = SKF_IPV6;
	addr(SKF_IPV6, "::ffff:127.0.0.1", sm.sk.laddr);
	addr(SKF_IPV6, "::ffff:127.0.0.2", sm.sk.raddr);
	is_int(store_socket_insert(st, &sm), 0, "insert v4-mapped IPv6");
	check_full_row(db, &sm, "127.0.0.1", "127.0.0.2", "ipv6", "v4-mapped");

	/* An RST-closed socket seen only at its destruction. */
	struct store_socket rst;
	memset(&rst, 0, sizeof(rst));
	rst.container_id = c.id;
	rst.sk.cookie = 0x3000;
	rst.sk.proto = SK_TCP;
	rst.sk.family = SKF_IPV4;
	rst.sk.state = SKS_CLOSE;
	rst.sk.have = SK_HAVE_RADDR | SK_HAVE_LPORT;
	rst.sk.lport = 54976;
	addr(SKF_IPV4, "127.0.0.1", rst.sk.raddr);
	rst.first_seen = rst.last_seen = 5000;
	rst.closed_at = 5000;
	is_int(store_socket_insert(st, &rst), 0, "insert an RST-closed socket");
	sqlite3_stmt *q = row(db, SOCK_COLS, rst.rowid);
	col_is_null(q, 5, "rst local_addr");
	col_is_int(q, 6, 54976, "rst local_port");
	col_is_text(q, 7, "127.0.0.1", "rst remote_addr");
	col_is_null(q, 8, "rst remote_port");
	col_is_int(q, 9, SKS_CLOSE, "rst state");
	col_is_int(q, 12, 5000, "rst closed_at");
	col_is_null(q, 13, "rst bytes_sent");
	col_is_null(q, 14, "rst bytes_received");
	col_is_null(q, 15, "rst pid");
	col_is_null(q, 16, "rst comm");
	col_is_null(q, 17, "rst uid");
	col_is_null(q, 18, "rst inode");
	col_is_int(q, 19, 0, "rst seen_alive");
	sqlite3_finalize(q);

	/* A live UDP socket with no peer and nothing else: open means closed_at NULL. */
	struct store_socket udp;
	memset(&udp, 0, sizeof(udp));
	udp.container_id = c.id;
	udp.sk.cookie = 0x4000;
	udp.sk.proto = SK_UDP;
	udp.sk.family = SKF_IPV4;
	udp.sk.state = SKS_CLOSE;
	udp.sk.have = SK_HAVE_LADDR | SK_HAVE_LPORT;
	udp.sk.lport = 5353;
	udp.first_seen = udp.last_seen = 6000;
	udp.seen_alive = 1;
	is_int(store_socket_insert(st, &udp), 0, "insert an unconnected UDP socket");
	q = row(db, SOCK_COLS, udp.rowid);
	col_is_text(q, 2, "udp", "udp proto");
	col_is_text(q, 5, "0.0.0.0", "udp local_addr");
	col_is_null(q, 7, "udp remote_addr");
	col_is_null(q, 12, "udp closed_at");
	sqlite3_finalize(q);

	/* The same cookie again merges into the existing row. */
	struct store_socket dup = sock_full(c.id, 0x3000);
	dup.first_seen = 4000;
	dup.last_seen = 7000;
	dup.sk.state = SKS_FIN_WAIT2;
	is_int(store_socket_insert(st, &dup), 0, "insert of a stored cookie succeeds");
	is_int(dup.rowid, rst.rowid, "and returns the existing row's id");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE cookie = ?1", 0x3000), 1,
	       "still one row for that cookie");
	q = row(db, SOCK_COLS, rst.rowid);
	col_is_int(q, 8, 443, "upsert fills the unknown remote_port");
	col_is_int(q, 9, SKS_FIN_WAIT2, "upsert takes the new state");
	col_is_int(q, 10, 4000, "upsert keeps the earliest first_seen");
	col_is_int(q, 11, 7000, "upsert keeps the latest last_seen");
	col_is_int(q, 12, 5000, "upsert keeps closed_at");
	col_is_int(q, 19, 1, "upsert keeps seen_alive once set");
	sqlite3_finalize(q);
	struct store_socket same = sock_full(c2.id, 0x3000);
	is_int(store_socket_insert(st, &same), 0, "same cookie in another container");
	ok(same.rowid != rst.rowid, "is another row");

	/* 7 inserts + 2 successful updates so far (container writes are not counted). */
	is_int(store_rows_written(st) - w0, 9, "rows_written counts socket inserts and updates");

	struct store_socket orphan = sock_full(424242, 1);
	is_int(store_socket_insert(st, &orphan), -1, "a socket of an unknown container fails");
	ok(strstr(store_errmsg(st), "FOREIGN KEY"), "foreign keys enforced: %s", store_errmsg(st));
	struct store_socket weird = sock_full(c.id, 2);
	weird.sk.proto = 99;
	is_int(store_socket_insert(st, &weird), -1, "an unknown protocol is refused");

	/* each_open: the open sockets of one container, fields restored. Open in c: s6, sm,
	 * udp (s, rst are closed; "same" is in c2). */
	struct seen v = { 0 };
	is_int(store_socket_each_open(st, c.id, collect, &v), 0, "each_open walks");
	is_int(v.n, 3, "each_open: only the open sockets of that container");
	if (v.n == 3) {
		const struct store_socket *want[3] = { &s6, &sm, &udp };
		for (int i = 0; i < 3; i++) {
			const struct sk *g = &v.s[i].sk, *x = &want[i]->sk;
			is_int(v.s[i].rowid, want[i]->rowid, "each_open %d: rowid", i);
			is_int(g->have, x->have, "each_open %d: have bits", i);
			ok(memcmp(g->laddr, x->laddr, 16) == 0 && memcmp(g->raddr, x->raddr, 16) == 0,
			   "each_open %d: addresses restored", i);
			ok(g->cookie == x->cookie && g->proto == x->proto && g->family == x->family &&
			   g->state == x->state && g->lport == x->lport && g->rport == x->rport &&
			   g->uid == x->uid && g->inode == x->inode &&
			   g->bytes_sent == x->bytes_sent && g->bytes_received == x->bytes_received,
			   "each_open %d: kernel fields restored", i);
			ok(v.s[i].direction == want[i]->direction && v.s[i].pid == want[i]->pid &&
			   v.s[i].first_seen == want[i]->first_seen &&
			   v.s[i].last_seen == want[i]->last_seen && v.s[i].closed_at == 0 &&
			   v.s[i].seen_alive == want[i]->seen_alive &&
			   v.s[i].container_id == c.id, "each_open %d: record fields restored", i);
			is_str(v.comm[i], want[i]->comm ? want[i]->comm : "(null)", "each_open %d: comm", i);
			ok(memcmp(g, x, sizeof(*g)) == 0, "each_open %d: struct sk identical", i);
		}
	}
	struct seen one = { .stop_after = 1 };
	is_int(store_socket_each_open(st, c.id, collect, &one), 0, "each_open stopped by cb");
	is_int(one.n, 1, "cb returning non-zero stops the walk");
	struct seen nest = { .st = st };
	is_int(store_socket_each_open(st, c.id, collect, &nest), 0, "each_open with writes in cb");
	is_int(nest.n, 3, "updates during the walk do not disturb it");
	is_int(nest.nested_rc, -1, "a nested walk is refused");
	is_int(nest.update_rc, 0, "an update from the callback works");
	struct seen none = { 0 };
	is_int(store_socket_each_open(st, 999999, collect, &none), 0, "each_open of nothing");
	is_int(none.n, 0, "calls nothing");
}

static int fail_cb(void *arg, const struct store_socket *s)
{
	(void)arg, (void)s;
	return -1;
}

static void test_txn_activity(struct store *st)
{
	sqlite3 *db = store_db(st);
	char buf[64];
	struct store_container c = { .name = "txn", .netns_ino = 21 };
	if (!ok(store_container_attach(st, &c, 1) == 0, "container for transactions"))
		return;
	is_int(store_rollback(st), 0, "rollback outside a transaction is a no-op");
	is_int(store_begin(st), 0, "begin");
	struct store_socket s = sock_full(c.id, 0x5000);
	is_int(store_socket_insert(st, &s), 0, "insert inside");
	is_int(store_rollback(st), 0, "rollback");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE id = ?1", s.rowid), 0,
	       "rolled-back insert is gone");
	is_int(store_begin(st), 0, "begin again");
	is_int(store_socket_insert(st, &s), 0, "insert inside");
	is_int(store_commit(st), 0, "commit");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE id = ?1", s.rowid), 1,
	       "committed insert stays");
	is_int(store_commit(st), -1, "commit outside a transaction fails");

	is_int(store_socket_each_open(st, c.id, fail_cb, NULL), -1, "cb < 0 fails the walk");

	/* One owner (issue 14, item 2): an incident recorded while the tick's transaction is
	 * open, as read_destroy does, joins it; it neither fails nor resets the change
	 * sequence under the rows the tick is writing. */
	struct store_socket s1 = sock_full(c.id, 0x5101), s2 = sock_full(c.id, 0x5102);
	is_int(store_begin(st), 0, "tick: begin");
	is_int(store_socket_insert(st, &s1), 0, "tick: first row");
	is_int(store_begin(st), 0, "nested begin inside the tick succeeds");
	is_int(store_activity(st, c.id, "lost-events", 300, 300, 1, NULL), 0,
	       "incident inside the nested level");
	is_int(store_commit(st), 0, "nested commit");
	is_int(store_socket_insert(st, &s2), 0, "tick: second row");
	is_int(store_activity(st, c.id, "lost-events", 301, 301, 1, NULL), 0,
	       "incident straight into the tick's transaction");
	is_int(store_commit(st), 0, "tick: commit");
	is_int(q_int(db, "SELECT count(*) FROM activity WHERE kind = 'lost-events' AND start "
		     "BETWEEN 300 AND 301 AND container_id = ?1", c.id), 2,
	       "both incidents recorded");
	is_int(q_int(db, "SELECT count(DISTINCT updated) FROM sockets WHERE cookie IN "
		     "(20737, 20738) AND container_id = ?1", c.id), 2,
	       "the two rows took distinct change sequence values");
	is_int(q_int(db, "SELECT max(updated) = (SELECT CAST(value AS INTEGER) FROM meta WHERE "
		     "key = 'seq') FROM sockets WHERE container_id = ?1", c.id), 1,
	       "meta seq is the last value handed out");
	struct store_socket s3 = sock_full(c.id, 0x5103), s4 = sock_full(c.id, 0x5104);
	is_int(store_begin(st), 0, "begin");
	is_int(store_socket_insert(st, &s3), 0, "outer row");
	is_int(store_begin(st), 0, "savepoint");
	is_int(store_socket_insert(st, &s4), 0, "inner row");
	is_int(store_rollback(st), 0, "roll the savepoint back");
	is_int(store_commit(st), 0, "the outer transaction still commits");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE container_id = ?1 AND cookie = 20739",
		     c.id), 1, "outer row kept");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE container_id = ?1 AND cookie = 20740",
		     c.id), 0, "inner row rolled back");
	is_int(store_commit(st), -1, "commit with nothing open fails");

	is_int(store_activity(st, c.id, "lost-events", 100, 0, 5, NULL), 0, "activity");
	int64_t id = sqlite3_last_insert_rowid(db);
	is_str(q_text(db, "SELECT kind FROM activity WHERE id = ?1", id, buf, sizeof(buf)),
	       "lost-events", "activity kind");
	is_int(q_int(db, "SELECT start FROM activity WHERE id = ?1", id), 100, "activity start");
	is_int(q_int(db, "SELECT end IS NULL AND detail IS NULL FROM activity WHERE id = ?1", id), 1,
	       "activity end 0 and no detail are NULL");
	is_int(q_int(db, "SELECT count FROM activity WHERE id = ?1", id), 5, "activity count");
	is_int(store_activity(st, c.id, "exec", 100, 200, -1, "sh -c x"), 0, "activity window");
	id = sqlite3_last_insert_rowid(db);
	is_int(q_int(db, "SELECT end FROM activity WHERE id = ?1", id), 200, "activity end");
	is_int(q_int(db, "SELECT count IS NULL FROM activity WHERE id = ?1", id), 1,
	       "activity count < 0 is NULL");
	is_str(q_text(db, "SELECT detail FROM activity WHERE id = ?1", id, buf, sizeof(buf)),
	       "sh -c x", "activity detail");
	is_int(store_activity(st, 999999, "exec", 1, 2, 3, NULL), -1, "activity of no container");
}

int main(void)
{
	char p[PATH_MAX];
	umask(022);
	snprintf(top, sizeof(top), "/tmp/clawss-store-XXXXXX");
	if (!mkdtemp(top)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_create();
	test_refuse();
	test_modes_links();
	test_full();
	struct store *st = open_ok(at(p, "work/clawss.db"), STORE_WRITE, "work database");
	if (st) {
		test_containers(st);
		test_sockets(st);
		test_txn_activity(st);
		store_close(st);
	}
	store_close(NULL);
	ok(strcmp(store_errmsg(NULL), "") != 0, "store_close(NULL) and store_errmsg(NULL) are safe");
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(!exists(top, ""), "temporary directory removed");
	return tap_done_testing();
}
