/* The socket table: writes follow change, TIME_WAIT folding, closes, memory release.
 * Synthetic sockets, a real store in a temporary directory; no root needed. */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>
#include "../tap.h"
#include "sampler/table.h"
#include "store/store.h"

static struct sk tcp(uint64_t cookie, int state, int lport, int rport)
{
	struct sk s = { 0 };
	s.cookie = cookie;
	s.proto = SK_TCP;
	s.family = SKF_IPV4;
	s.state = state;
	s.lport = lport;
	s.rport = rport;
	s.laddr[0] = 192, s.laddr[1] = 0, s.laddr[2] = 2, s.laddr[3] = 1;
	s.raddr[0] = 198, s.raddr[1] = 51, s.raddr[2] = 100, s.raddr[3] = 7;
	s.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT | SK_HAVE_BYTES;
	return s;
}

static long long q(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt;
	long long v = -1;
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int dump(struct table *t, int64_t now, const struct sk *v, int n)
{
	table_dump_begin(t, now);
	for (int i = 0; i < n; i++)
		table_dump_sock(t, &v[i]);
	return table_dump_end(t, 1u << SK_TCP | 1u << SK_UDP);
}

static int flush(struct store *st, struct table *t, int64_t now)
{
	store_begin(st);
	int n = table_flush(t, st, now, 0);
	int ok = n >= 0 && store_commit(st) == 0;
	if (!ok)
		store_rollback(st);
	table_flush_done(t, ok);
	return n;
}

/* n connections seen only at their close, to 198.51.100.7:rport, cookies from base */
static void closes(struct table *t, uint64_t base, int n, int rport, int64_t now)
{
	for (int i = 0; i < n; i++) {
		struct sk s = tcp(base + (uint64_t)i, SKS_CLOSE, 40000 + i, rport);
		s.bytes_sent = 10;
		s.bytes_received = 1;
		table_destroyed(t, &s, now);
	}
}

/* Issue 14, item 1: a failed transaction leaves nothing lost or doubled; past the row
 * budget connections are counted per destination; a full disk holds a bounded number
 * one by one. */
static void test_budget(struct store *st)
{
	struct store_container c = { .name = "budget", .netns_ino = 43 };
	struct table_stats ts;
	store_container_attach(st, &c, 1000);
	struct table *t = table_new(c.id, 10000);
	ok(t && table_set_budget(t, 5, 3, 100) == 0, "a table with a budget of 5 rows an hour");
	char sql[256];
#define Q(fmt) (snprintf(sql, sizeof(sql), fmt, (long long)c.id), q(st, sql))

	/* a transaction that fails: nothing recorded, everything written again next time */
	closes(t, 500000, 4, 443, 3600000);
	store_begin(st);
	is_int(table_flush(t, st, 3600000, 0), 4, "4 rows written in a transaction");
	store_rollback(st);
	table_flush_done(t, 0);
	is_int(Q("SELECT count(*) FROM sockets WHERE container_id = %lld"), 0,
	       "rolled back: none stored");
	table_stats(t, &ts);
	is_int(ts.held, 4, "all 4 held again in memory");
	is_int(flush(st, t, 3600100), 4, "the next flush writes them again");
	is_int(Q("SELECT count(*) FROM sockets WHERE container_id = %lld"), 4,
	       "4 rows, none lost or doubled");
	table_stats(t, &ts);
	is_int(ts.entries, 4, "kept until a dump after their close");

	/* the budget: 5 rows this hour, then per destination */
	closes(t, 600000, 10, 443, 3600200);
	closes(t, 700000, 6, 8443, 3600300);
	flush(st, t, 3600300);
	is_int(Q("SELECT count(*) FROM sockets WHERE container_id = %lld"), 5,
	       "5 rows: the budget");
	is_int(Q("SELECT sum(count) FROM aggregates WHERE container_id = %lld"), 15,
	       "15 connections counted in aggregates");
	is_int(Q("SELECT count FROM aggregates WHERE container_id = %lld AND remote_port = 8443"),
	       6, "per destination: 6 to :8443");
	is_int(Q("SELECT bytes_sent FROM aggregates WHERE container_id = %lld AND "
		 "remote_port = 8443"), 60, "with their bytes");
	is_int(Q("SELECT count FROM activity WHERE container_id = %lld AND kind = 'row-budget'"),
	       15, "a row-budget incident counting them");
	closes(t, 800000, 2, 8443, 3600400);
	flush(st, t, 3600400);
	is_int(Q("SELECT count FROM aggregates WHERE container_id = %lld AND remote_port = 8443"),
	       8, "later ones add to the same aggregate");
	is_int(Q("SELECT count(*) * 1000 + max(count) FROM activity WHERE container_id = %lld "
		 "AND kind = 'row-budget'"), 1017, "still one incident, now counting 17");
	/* a new hour: a new budget */
	closes(t, 900000, 2, 443, 7200000);
	flush(st, t, 7200000);
	is_int(Q("SELECT count(*) FROM sockets WHERE container_id = %lld"), 7,
	       "a new hour, a new budget: 2 more rows");

	/* the disk is full: at most 3 held one by one, the rest counted per destination */
	table_set_holding(t, 1);
	closes(t, 1000000, 7, 22, 7200100);
	store_begin(st);
	table_flush(t, st, 7200100, 0);
	store_rollback(st);
	table_flush_done(t, 0);
	table_stats(t, &ts);
	is_int(ts.held, 3, "holding: 3 held one by one");
	table_set_holding(t, 0);
	flush(st, t, 7200200);
	is_int(Q("SELECT count(*) FROM sockets WHERE container_id = %lld AND remote_port = 22"), 3,
	       "space back: the 3 held are rows");
	is_int(Q("SELECT count FROM aggregates WHERE container_id = %lld AND remote_port = 22"), 4,
	       "the other 4 were counted");
#undef Q
	table_free(t);
}

int main(void)
{
	char dir[] = "/tmp/clawss-table-XXXXXX", path[64], err[256];
	struct store *st;
	struct store_container c = { .name = "unit", .netns_ino = 42 };
	struct table_stats ts;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	/* a store that cannot open is a failure of this test, never a skip */
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0) {
		printf("Bail out! store_open %s: %s\n", path, err);
		return 1;
	}
	if (store_begin(st) != 0 || store_container_attach(st, &c, 1000) != 0 ||
	    store_commit(st) != 0) {
		printf("Bail out! the container row could not be written\n");
		return 1;
	}
	struct table *t = table_new(c.id, 10000);

	/* 100 live connections: written once, then nothing while they do not change */
	struct sk v[100];
	for (int i = 0; i < 100; i++)
		v[i] = tcp(1000 + i, SKS_ESTABLISHED, 40000 + i, 443);
	dump(t, 1000, v, 100);
	is_int(flush(st, t, 1000), 100, "new sockets are written");
	int later = 0;
	for (int tick = 1; tick <= 9; tick++) {
		for (int i = 0; i < 100; i++)
			v[i].bytes_sent += 10;   /* bytes move: a soft change */
		dump(t, 1000 + tick * 1000, v, 100);
		later += flush(st, t, 1000 + tick * 1000);
	}
	is_int(later, 0, "no row written for unchanged sockets before the refresh period");
	dump(t, 11000, v, 100);
	is_int(flush(st, t, 11000), 100, "refresh period writes last_seen and bytes once");
	is_int(q(st, "SELECT bytes_sent FROM sockets WHERE cookie = 1000"), 90,
	       "refreshed byte count stored");

	/* a state change is written at once */
	v[0].state = SKS_CLOSE_WAIT;
	dump(t, 12000, v, 100);
	is_int(flush(st, t, 12000), 1, "a state change is one row");

	/* a socket gone from the dump is closed */
	dump(t, 13000, v + 1, 99);
	is_int(flush(st, t, 13000), 1, "a vanished socket is one close");
	is_int(q(st, "SELECT closed_at FROM sockets WHERE cookie = 1000"), 13000, "closed_at set");
	table_stats(t, &ts);
	is_int(ts.entries, 99, "closed socket forgotten after it is written");

	/* a socket that lived between two polls: only its destroy notification */
	struct sk d = tcp(5000, SKS_CLOSE, 50000, 8443);
	d.bytes_sent = 777;
	table_destroyed(t, &d, 13500);
	is_int(flush(st, t, 13500), 1, "short-lived socket recorded from its notification");
	is_int(q(st, "SELECT seen_alive FROM sockets WHERE cookie = 5000"), 0,
	       "seen_alive 0: only its end was seen");
	is_int(q(st, "SELECT bytes_sent FROM sockets WHERE cookie = 5000"), 777, "final bytes");

	/* its TIME_WAIT remnant with a new (lazy) cookie folds into it */
	struct sk tw = tcp(6000, SKS_TIME_WAIT, 50000, 8443);
	tw.have &= ~SK_HAVE_BYTES;
	struct sk all[101];
	for (int i = 0; i < 99; i++)
		all[i] = v[i + 1];
	all[99] = tw;
	dump(t, 14000, all, 100);
	flush(st, t, 14000);
	is_int(q(st, "SELECT count(*) FROM sockets WHERE local_port = 50000"), 1,
	       "TIME_WAIT remnant is not a second connection");
	is_int(q(st, "SELECT state FROM sockets WHERE cookie = 5000"), SKS_TIME_WAIT,
	       "the connection's last state is TIME_WAIT");
	table_stats(t, &ts);
	is_int(ts.folded, 1, "one fold counted");
	dump(t, 15000, all, 99);  /* remnant expired */
	is_int(flush(st, t, 15000), 0, "an expired remnant writes nothing");
	table_stats(t, &ts);
	is_int(ts.entries, 99, "and is forgotten");

	/* the race the other way: the remnant is dumped before the notification is read */
	struct sk tw2 = tcp(7001, SKS_TIME_WAIT, 50001, 8443);
	all[99] = tw2;
	dump(t, 16000, all, 100);
	struct sk d2 = tcp(7000, SKS_CLOSE, 50001, 8443);
	d2.bytes_sent = 99;
	table_destroyed(t, &d2, 16100);
	flush(st, t, 16100);
	is_int(q(st, "SELECT count(*) FROM sockets WHERE local_port = 50001"), 1,
	       "notification after its remnant: still one connection");
	is_int(q(st, "SELECT bytes_sent FROM sockets WHERE local_port = 50001"), 99,
	       "with the notification's bytes");

	/* RST close of a socket seen alive keeps what the poll knew */
	struct sk r = tcp(1050, SKS_CLOSE, 0, 0);
	r.have = SK_HAVE_RADDR | SK_HAVE_LPORT;
	r.lport = 40050;
	table_destroyed(t, &r, 17000);
	flush(st, t, 17000);
	is_int(q(st, "SELECT remote_port FROM sockets WHERE cookie = 1050"), 443,
	       "RST close keeps the remote port a poll saw");
	is_int(q(st, "SELECT bytes_sent FROM sockets WHERE cookie = 1050"), 90,
	       "and the bytes a poll saw (the reset zeroes them)");

	/* 20000 short connections: all recorded, memory released */
	int64_t before = store_rows_written(st);
	for (int i = 0; i < 20000; i++) {
		struct sk s = tcp(100000 + i, SKS_CLOSE, 0, 0);
		s.have = SK_HAVE_RADDR | SK_HAVE_LPORT;
		s.lport = 30000 + i % 30000;
		table_destroyed(t, &s, 18000);
	}
	flush(st, t, 18000);
	is_int(store_rows_written(st) - before, 20000, "20000 notifications, 20000 rows");
	dump(t, 19000, all, 99);
	flush(st, t, 19000);
	table_stats(t, &ts);
	is_int(ts.entries, 98, "memory released after the next dump (live sockets remain)");

	/* direction: accepted from a listener */
	struct sk lst = tcp(8000, SKS_LISTEN, 8080, 0);
	memset(lst.raddr, 0, 16);
	struct sk acc = tcp(8001, SKS_ESTABLISHED, 8080, 51000);
	struct sk two[2] = { acc, lst };
	dump(t, 20000, two, 2);
	flush(st, t, 20000);
	is_int(q(st, "SELECT direction = 'in' FROM sockets WHERE cookie = 8001"), 1,
	       "accepted connection is 'in' even when dumped before its listener");
	is_int(q(st, "SELECT direction = 'listen' FROM sockets WHERE cookie = 8000"), 1,
	       "listener is 'listen'");

	table_free(t);
	test_budget(st);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done_testing();
}
