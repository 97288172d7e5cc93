/* store/: schema 2 (the change sequence behind export, incremental auto_vacuum, the
 * upgrade of a version 1 file) and retention (store_prune_*). No root; everything
 * happens under a mkdtemp directory that is removed at the end. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/tap.h"
#include "lib/util.h"
#include "store/store.h"
#include "store/schema.h"
#include "store/schema.h"

static char top[64];
static char boot[40];

static const char *at(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", top, name);
	return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -999;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
		return v;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		printf("# %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static struct store *open_w(const char *path)
{
	char err[512];
	struct store *st = NULL;
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0)
		printf("# %s\n", err);
	return st;
}

static int64_t sock(struct store *st, int64_t cid, uint64_t cookie, int64_t first, int64_t last,
		    int64_t closed)
{
	struct store_socket s = {
		.container_id = cid, .direction = SKD_OUT, .first_seen = first, .last_seen = last,
		.closed_at = closed, .seen_alive = 1, .comm = "a-process-name-to-fill-pages",
	};
	s.sk.cookie = cookie;
	s.sk.proto = SK_TCP;
	s.sk.family = SKF_IPV4;
	s.sk.state = closed ? 7 : 1;
	s.sk.rport = 443;
	s.sk.raddr[0] = 192, s.sk.raddr[1] = 0, s.sk.raddr[2] = 2, s.sk.raddr[3] = 2;
	s.sk.have = SK_HAVE_RADDR | SK_HAVE_RPORT;
	return store_socket_insert(st, &s) < 0 ? -1 : s.rowid;
}

static int64_t updated(sqlite3 *db, int64_t id)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT updated FROM sockets WHERE id = %lld", (long long)id);
	return q_int(db, sql);
}

static void test_new_file(void)
{
	char p[PATH_MAX];
	int64_t t0 = time_now_ms();
	struct store *st = open_w(at(p, "new.db"));
	ok(st, "a new database");
	if (!st)
		return;
	sqlite3 *db = store_db(st);
	is_int(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION, "schema version is the current one");
	is_int(q_int(db, "PRAGMA auto_vacuum"), 2, "auto_vacuum INCREMENTAL from the start");
	int64_t seq = q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'");
	ok(seq >= (t0 - 1000) * 1000 && seq <= (time_now_ms() + 1000) * 1000,
	   "the sequence starts at the creation time in microseconds (%lld)", (long long)seq);

	struct store_container c = { .name = "seq", .netns_ino = 9 };
	is_int(store_container_attach(st, &c, 1000), 0, "container");
	is_int(store_begin(st), 0, "begin");
	int64_t a = sock(st, c.id, 1, 1000, 1000, 0), b = sock(st, c.id, 2, 1000, 1000, 0);
	is_int(store_commit(st), 0, "commit");
	is_int(updated(db, a), seq + 1, "first row written takes seq + 1");
	is_int(updated(db, b), seq + 2, "the next, seq + 2: one value per row");
	is_int(q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'"), seq + 2,
	       "meta seq written back at commit");

	/* an update moves the row past every value handed out before */
	struct store_socket u = { .rowid = a, .container_id = c.id, .direction = SKD_OUT,
				  .first_seen = 1000, .last_seen = 2000, .closed_at = 2000 };
	u.sk.proto = SK_TCP, u.sk.family = SKF_IPV4, u.sk.state = 7, u.sk.cookie = 1;
	is_int(store_socket_update(st, &u), 0, "update outside a transaction");
	is_int(updated(db, a), seq + 3, "an update takes the next value (own transaction)");
	is_int(q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'"), seq + 3,
	       "and commits it with the row");
	ok(sqlite3_get_autocommit(db), "no transaction left open");

	/* a rolled back transaction hands its values out again */
	is_int(store_begin(st), 0, "begin");
	ok(sock(st, c.id, 3, 1000, 1000, 0) > 0, "insert");
	is_int(store_rollback(st), 0, "rollback");
	is_int(q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'"), seq + 3,
	       "rollback leaves meta seq");
	is_int(store_begin(st), 0, "begin");
	int64_t d = sock(st, c.id, 4, 1000, 1000, 0);
	is_int(store_commit(st), 0, "commit");
	is_int(updated(db, d), seq + 4, "after a rollback, the next row takes seq + 4");

	/* two writers on one file: each transaction reads the sequence again */
	struct store *st2 = open_w(p);
	ok(st2, "a second writer");
	if (st2) {
		is_int(store_begin(st2), 0, "writer 2 begins");
		int64_t e = sock(st2, c.id, 5, 1000, 1000, 0);
		is_int(store_commit(st2), 0, "writer 2 commits");
		is_int(store_begin(st), 0, "writer 1 begins");
		int64_t f = sock(st, c.id, 6, 1000, 1000, 0);
		is_int(store_commit(st), 0, "writer 1 commits");
		is_int(updated(db, e), seq + 5, "writer 2 took seq + 5");
		is_int(updated(db, f), seq + 6, "writer 1 then seq + 6, not a stale value");
		store_close(st2);
	}
	store_close(st);
}

/* A file as clawss 0.1 (schema 1) made it: no auto_vacuum, no sequence. */
static void test_upgrade(void)
{
	char p[PATH_MAX], sql[128];
	sqlite3 *raw;
	at(p, "v1.db");
	ok(sqlite3_open(p, &raw) == SQLITE_OK, "v1 file");
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = 1",
		 STORE_APPLICATION_ID);
	ok(exec(raw, store_schema_v1) == 0 && exec(raw, sql) == 0 &&
	   exec(raw, "INSERT INTO meta VALUES ('schema_version', '1');"
		"INSERT INTO containers (name, netns_ino, boot_id, first_seen, last_seen, ended)"
		" VALUES ('old', 1, 'b', 1000, 2000, 2000);"
		"INSERT INTO sockets (container_id, cookie, proto, family, direction, state,"
		" first_seen, last_seen, closed_at) VALUES (1, 1, 'tcp', 'ipv4', 'out', 7, 1000,"
		" 1500, 1500), (1, 2, 'tcp', 'ipv4', 'out', 7, 1000, 1500, 1500)") == 0,
	   "v1 schema and rows made");
	is_int(q_int(raw, "PRAGMA auto_vacuum"), 0, "v1 file has no auto_vacuum");
	sqlite3_close(raw);

	struct store *st = open_w(p);
	ok(st, "a writer opens the v1 file");
	if (!st)
		return;
	sqlite3 *db = store_db(st);
	is_int(q_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION, "upgraded to the current version");
	int64_t seq = q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'");
	ok(seq > INT64_C(1600000000000000), "the sequence starts at now in microseconds");
	is_int(q_int(db, "SELECT count(*) FROM sockets WHERE updated = "
			 "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq')"), 2,
	       "old rows take the starting value: a first export sends them");

	struct store_prune pr;
	int rc, steps = 0;
	store_prune_init(&pr, time_now_ms());
	while ((rc = store_prune_step(st, &pr, 1)) > 0)
		steps++;
	is_int(rc, 0, "prune of the upgraded file");
	is_int(pr.sockets, 2, "its old sockets go");
	is_int(pr.containers, 1, "its old container goes");
	ok(pr.full_vacuum_needed, "and it says the file needs one full VACUUM");
	is_int(store_prune_vacuum(st, &pr), 0, "store_prune_vacuum");
	is_int(q_int(db, "PRAGMA auto_vacuum"), 2, "the file is now INCREMENTAL");
	ok(!pr.full_vacuum_needed, "and needs nothing more");
	store_close(st);
}

static int64_t container(struct store *st, const char *name, const char *boot_id,
			 int64_t last, int64_t ended)
{
	char sql[256];
	struct store_container c = { .name = name, .netns_ino = 100 };
	if (store_container_attach(st, &c, last) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE containers SET boot_id = '%s', first_seen = %lld, "
		 "last_seen = %lld, ended = %s%lld WHERE id = %lld", boot_id, (long long)last,
		 (long long)last, ended ? "" : "NULL + ", (long long)ended, (long long)c.id);
	return exec(store_db(st), sql) < 0 ? -1 : c.id;
}

static void test_rules(void)
{
	char p[PATH_MAX];
	struct store *st = open_w(at(p, "rules.db"));
	ok(st, "rules database");
	if (!st)
		return;
	sqlite3 *db = store_db(st);
	const int64_t H = 3600 * 1000, now = time_now_ms(), old = now - 48 * H,
		recent = now - H, cutoff = now - 24 * H;

	/* A: ended long ago; everything of it goes */
	int64_t A = container(st, "ended-old", boot, old, old);
	int64_t a1 = sock(st, A, 1, old, old, old), a2 = sock(st, A, 2, old, old, 0);
	/* B: alive now (watched); old closed rows go, its open rows stay however old */
	int64_t B = container(st, "live", boot, now, 0);
	int64_t b1 = sock(st, B, 1, old, old, old), b2 = sock(st, B, 2, old, old, 0),
		b3 = sock(st, B, 3, recent, recent, recent);
	/* C: never ended, but nothing touched it since the cutoff (a killed watch) */
	int64_t C = container(st, "stale", boot, old, 0);
	int64_t c1 = sock(st, C, 1, old, old, 0);
	/* D: an earlier boot, last seen recently: its old open row goes, it stays */
	int64_t D = container(st, "earlier-boot", "another-boot", recent, 0);
	int64_t d1 = sock(st, D, 1, old, old, 0), d2 = sock(st, D, 2, recent, recent, 0);
	/* E: ended long ago, but an activity row ended recently: it stays */
	int64_t E = container(st, "ended-with-activity", boot, old, old);
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO activity (container_id, kind, start, end) VALUES"
		 " (%lld, 'lost-events', %lld, %lld),"   /* B: ended old: goes */
		 " (%lld, 'exec', %lld, NULL),"          /* B: open, live container: stays */
		 " (%lld, 'exec', %lld, NULL),"          /* C: open, dead container: goes */
		 " (%lld, 'exec', %lld, %lld)",          /* E: ended recently: stays */
		 (long long)B, (long long)old, (long long)old, (long long)B, (long long)old,
		 (long long)C, (long long)old, (long long)E, (long long)old, (long long)recent);
	ok(A > 0 && B > 0 && C > 0 && D > 0 && E > 0 && a1 > 0 && a2 > 0 && b1 > 0 && b2 > 0 &&
	   b3 > 0 && c1 > 0 && d1 > 0 && d2 > 0 && exec(db, sql) == 0, "setup");
	/* connections counted per destination (schema 5): by when they were last seen */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aggregates (container_id, hour, proto, family, direction, "
		 "remote_addr, remote_port, count, first_seen, last_seen) VALUES"
		 " (%lld, 0, 'tcp', 'ipv4', 'out', '192.0.2.9', 443, 5, %lld, %lld),"  /* goes */
		 " (%lld, 0, 'tcp', 'ipv4', 'out', '192.0.2.9', 443, 5, %lld, %lld),"  /* goes */
		 " (%lld, 0, 'tcp', 'ipv4', 'out', '192.0.2.9', 80, 5, %lld, %lld)",   /* stays */
		 (long long)A, (long long)old, (long long)old, (long long)B, (long long)old,
		 (long long)old, (long long)B, (long long)old, (long long)recent);
	ok(exec(db, sql) == 0, "aggregates of A and B");

	/* names: B's old query and old name episode go, the recent ones stay; A's go with A */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO dns_queries (container_id, t, proto, qname, qtype) VALUES"
		 " (%lld, %lld, 'udp', 'old.test', 1), (%lld, %lld, 'udp', 'new.test', 1),"
		 " (%lld, %lld, 'udp', 'a.test', 1);"
		 "INSERT INTO names (container_id, name, addr, first_seen, last_seen, ttl) VALUES"
		 " (%lld, 'old.test', '192.0.2.9', %lld, %lld, 30),"
		 " (%lld, 'new.test', '192.0.2.9', %lld, %lld, 30)",
		 (long long)B, (long long)old, (long long)B, (long long)recent, (long long)A,
		 (long long)recent, (long long)B, (long long)old, (long long)old, (long long)B,
		 (long long)old, (long long)recent);
	ok(exec(db, sql) == 0, "setup: names");

	struct store_prune pr;
	int rc;
	store_prune_init(&pr, cutoff);
	while ((rc = store_prune_step(st, &pr, 0)) > 0)
		;
	is_int(rc, 0, "prune");
	is_int(pr.dns, 2, "B's old query and old name episode deleted");
	is_int(q_int(db, "SELECT count(*) FROM dns_queries WHERE qname = 'new.test'") * 10 +
	       q_int(db, "SELECT count(*) FROM dns_queries"), 11,
	       "the recent query is left; A's went with A");
	is_int(q_int(db, "SELECT count(*) FROM names WHERE name = 'new.test'") * 10 +
	       q_int(db, "SELECT count(*) FROM names"), 11, "the recent name episode is left");
	is_int(pr.sockets, 5, "5 sockets deleted (a1 a2 b1 c1 d1)");
	is_int(pr.activity, 2, "2 activity rows deleted");
	is_int(pr.containers, 2, "2 containers deleted (A, C)");
	is_int(pr.aggregates, 2, "2 aggregates last seen before the cutoff deleted");
	is_int(q_int(db, "SELECT count(*) FROM aggregates WHERE remote_port = 80"), 1,
	       "the recent one stays");
	char want[64];
	snprintf(want, sizeof(want), "%lld,%lld,%lld", (long long)b2, (long long)b3, (long long)d2);
	sqlite3_stmt *s;
	char got[128] = "";
	if (sqlite3_prepare_v2(db, "SELECT group_concat(id) FROM (SELECT id FROM sockets ORDER BY id)",
			       -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_text(s, 0))
		snprintf(got, sizeof(got), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	is_str(got, want, "exactly b2 (open, live), b3 (recent), d2 (recent) are left");
	is_int(q_int(db, "SELECT count(*) FROM containers WHERE name IN "
			 "('live', 'earlier-boot', 'ended-with-activity')"), 3, "B, D, E are left");
	is_int(q_int(db, "SELECT count(*) FROM containers"), 3, "and nothing else");
	is_int(q_int(db, "SELECT count(*) FROM activity"), 2, "the open B and recent E activity left");

	store_prune_init(&pr, cutoff);
	while ((rc = store_prune_step(st, &pr, 0)) > 0)
		;
	ok(rc == 0 && pr.sockets + pr.activity + pr.containers == 0, "a second prune finds nothing");
	store_close(st);
}

static void test_space(void)
{
	char p[PATH_MAX];
	struct stat sb0, sb1;
	struct store *st = open_w(at(p, "space.db"));
	ok(st, "space database");
	if (!st)
		return;
	sqlite3 *db = store_db(st);
	int64_t old = time_now_ms() - 48 * 3600 * 1000;
	int64_t A = container(st, "big", boot, old, old), n = 0;
	int bad = A < 0 || store_begin(st) < 0;
	for (uint64_t i = 1; !bad && i <= 20000; i++)
		bad = sock(st, A, i, old, old, old) < 0;
	bad = bad || store_commit(st) < 0;
	ok(!bad, "20000 old sockets");
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	int64_t pages0 = q_int(db, "PRAGMA page_count");
	int st0 = stat(p, &sb0);
	ok(st0 == 0, "file size before: %lld", (long long)sb0.st_size);

	struct store_prune pr;
	int rc, steps = 0;
	store_prune_init(&pr, time_now_ms() - 3600 * 1000);
	while ((rc = store_prune_step(st, &pr, 1)) > 0)
		steps++;
	is_int(rc, 0, "prune");
	is_int(pr.sockets, 20000, "all 20000 deleted");
	ok(steps >= 10, "in many short transactions (%d steps)", steps);
	n = q_int(db, "PRAGMA page_count");
	ok(n < pages0 / 4, "pages %lld -> %lld", (long long)pages0, (long long)n);
	is_int(q_int(db, "PRAGMA freelist_count"), 0, "no free page left in the file");
	ok(pr.freed > 0 && pr.freed == (pages0 - n) * q_int(db, "PRAGMA page_size"),
	   "freed says how much (%lld bytes)", (long long)pr.freed);
	int st1 = stat(p, &sb1);
	ok(st1 == 0 && sb1.st_size < sb0.st_size / 4,
	   "the file shrank: %lld -> %lld bytes", (long long)sb0.st_size, (long long)sb1.st_size);
	struct stat wal;
	char w[PATH_MAX + 8];
	snprintf(w, sizeof(w), "%s-wal", p);
	ok(stat(w, &wal) < 0 || wal.st_size == 0, "the -wal file was truncated");
	store_close(st);
}

static void test_misuse(void)
{
	char p[PATH_MAX];
	struct store *st = open_w(at(p, "misuse.db"));
	struct store_prune pr;
	if (!st) {
		ok(0, "misuse database");
		return;
	}
	store_prune_init(&pr, time_now_ms());
	is_int(store_begin(st), 0, "begin");
	is_int(store_prune_step(st, &pr, 0), -1, "prune inside a transaction is refused");
	ok(strstr(pr.err, "inside a transaction") != NULL, "and says so: %s", pr.err);
	store_rollback(st);
	store_close(st);
}

int main(void)
{
	umask(022);
	snprintf(top, sizeof(top), "/tmp/clawss-prune-XXXXXX");
	if (!mkdtemp(top) || util_boot_id_read(boot, sizeof(boot)) < 0) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	test_new_file();
	test_upgrade();
	test_rules();
	test_space();
	test_misuse();
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done_testing();
}
