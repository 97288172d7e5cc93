/* The flow join: a conntrack flow and a socket are one connection when their 5-tuples
 * match and their lives overlap; one connection is never counted twice. Synthetic
 * sockets and flows, a real store in a temporary directory; no root needed. */
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>
#include "../tap.h"
#include "sampler/flow.h"
#include "sampler/table.h"
#include "store/store.h"

static const uint8_t HERE[4] = { 192, 0, 2, 1 }, THERE[4] = { 198, 51, 100, 7 },
		     OTHER[4] = { 203, 0, 113, 9 };

static struct sk sock(uint64_t cookie, int proto, int state, int lport, const uint8_t *ra,
		      int rport)
{
	struct sk s = { 0 };
	s.cookie = cookie;
	s.proto = proto;
	s.family = SKF_IPV4;
	s.state = state;
	s.lport = lport;
	s.rport = rport;
	memcpy(s.laddr, HERE, 4);
	if (ra)
		memcpy(s.raddr, ra, 4);
	s.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT;
	if (proto == SK_TCP)
		s.have |= SK_HAVE_BYTES;
	return s;
}

static struct ctflow flow(int event, int proto, const uint8_t *src, int sport,
			  const uint8_t *dst, int dport, uint32_t id, int64_t start)
{
	struct ctflow f = { 0 };
	f.event = event;
	f.proto = proto;
	f.family = SKF_IPV4;
	memcpy(f.src, src, 4);
	memcpy(f.dst, dst, 4);
	f.sport = sport;
	f.dport = dport;
	f.id = id;
	f.start_ms = start;
	return f;
}

static struct ctflow ended(struct ctflow f, uint64_t ob, uint64_t rb, int64_t stop)
{
	f.event = CT_DESTROY;
	f.counters = 1;
	f.orig_bytes = ob;
	f.reply_bytes = rb;
	f.stop_ms = stop;
	return f;
}

static long long q(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt;
	long long v = -1;
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -3 : sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

struct ns {
	struct store *st;
	struct table *t;
	struct flows *fs;
	int64_t cid;
};

/* One tick: optionally a dump of v, then the join, then the flush. */
static void tick(struct ns *n, int64_t now, const struct sk *v, int nv, int dumped)
{
	if (dumped) {
		table_dump_begin(n->t, now);
		for (int i = 0; i < nv; i++)
			table_dump_sock(n->t, &v[i]);
		table_dump_end(n->t, 1u << SK_TCP | 1u << SK_UDP);
	}
	flows_join(n->fs, n->t, now, dumped ? FLOWS_DUMPED : 0);
	store_begin(n->st);
	table_flush(n->t, n->st, now, 0);
	table_flush_done(n->t, store_commit(n->st) == 0);
}

static void fresh(struct ns *n, struct store *st, int64_t cid)
{
	if (n->t)
		table_free(n->t);
	if (n->fs)
		flows_free(n->fs);
	n->st = st;
	n->cid = cid;
	n->t = table_new(cid, 10000);
	n->fs = flows_new();
}

static int64_t new_container(struct store *st, const char *name)
{
	static uint64_t ino = 100;
	struct store_container c = { .name = name, .netns_ino = ino++ };
	store_begin(st);
	store_container_attach(st, &c, 1000);
	store_commit(st);
	return c.id;
}

/* What the watcher's recall does (watch_flow.c): the store's row, back in the table. */
static struct table_ref *recall(void *arg, struct table *t, const struct store_socket *probe,
				int64_t from, int64_t to)
{
	struct ns *n = arg;
	struct table_ref *ref;
	table_recall(t, n->st, probe, from, to, &ref);
	return ref;
}

/* A watcher restarted on container cid: a new table, seeded as watch_target.c does. */
static int seed(void *arg, const struct store_socket *s)
{
	return table_seed(arg, s);
}

static void restart(struct ns *n)
{
	fresh(n, n->st, n->cid);
	store_socket_each_open(n->st, n->cid, seed, n->t);
	flows_set_recall(n->fs, recall, n, 10000);
}

#define Q(n, fmt, ...) ({ char sql_[512]; \
	snprintf(sql_, sizeof(sql_), fmt, __VA_ARGS__); q((n)->st, sql_); })

int main(void)
{
	char dir[] = "/tmp/clawss-flow-XXXXXX", path[64], err[256];
	struct store *st;
	struct ns n = { 0 };

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0) {
		printf("1..0 # skip store: %s\n", err);
		return 0;
	}
	tap_plan(43);

	/* flow before socket: the NEW event is read before any dump showed the socket */
	fresh(&n, st, new_container(st, "before"));
	struct ctflow f1 = flow(CT_NEW, SK_TCP, HERE, 40000, THERE, 443, 1, 1000);
	flows_event(n.fs, &f1, 1000);
	tick(&n, 1000, NULL, 0, 0);
	ok(flows_waiting(n.fs), "a flow waits for a dump before it is called socketless");
	struct sk s1 = sock(11, SK_TCP, SKS_ESTABLISHED, 40000, THERE, 443);
	tick(&n, 1200, &s1, 1, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "flow before socket: one row");
	is_int(Q(&n, "SELECT flow FROM sockets WHERE cookie = 11 AND container_id = %lld",
		 (long long)n.cid), STORE_FLOW_JOINED, "the socket's row says its flow joined");

	/* flow after socket */
	fresh(&n, st, new_container(st, "after"));
	struct sk s2 = sock(21, SK_TCP, SKS_ESTABLISHED, 40001, THERE, 443);
	tick(&n, 1000, &s2, 1, 1);
	struct ctflow f2 = flow(CT_NEW, SK_TCP, HERE, 40001, THERE, 443, 2, 1100);
	flows_event(n.fs, &f2, 1100);
	tick(&n, 1200, &s2, 1, 0);
	ok(!flows_waiting(n.fs), "flow after socket: joined at the first pass");
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "flow after socket: one row");

	/* an RST-closed socket seen only at its destruction: remote port, local address and
	 * bytes come from its flow */
	fresh(&n, st, new_container(st, "rst"));
	struct ctflow f3 = flow(CT_NEW, SK_TCP, HERE, 40002, THERE, 9003, 3, 1000);
	flows_event(n.fs, &f3, 1000);
	struct sk s3 = sock(31, SK_TCP, SKS_CLOSE, 40002, THERE, 0);
	s3.have = SK_HAVE_RADDR | SK_HAVE_LPORT;     /* what tcp_disconnect left */
	memset(s3.laddr, 0, 16);
	table_destroyed(n.t, &s3, 1050);
	tick(&n, 1200, NULL, 0, 1);
	is_int(Q(&n, "SELECT remote_port FROM sockets WHERE cookie = 31 AND container_id = %lld",
		 (long long)n.cid), 9003, "RST: remote port from the flow");
	struct ctflow f3e = ended(f3, 300, 200, 1100);
	flows_event(n.fs, &f3e, 1300);
	tick(&n, 1400, NULL, 0, 0);
	tick(&n, 1600, NULL, 0, 1);
	is_int(Q(&n, "SELECT bytes_sent FROM sockets WHERE cookie = 31 AND container_id = %lld",
		 (long long)n.cid), 300, "RST: bytes sent from the flow's counters");
	is_int(Q(&n, "SELECT bytes_source = 'flow' FROM sockets WHERE cookie = 31 AND "
		 "container_id = %lld", (long long)n.cid), 1, "RST: bytes_source says flow");
	is_int(Q(&n, "SELECT local_addr = '192.0.2.1' FROM sockets WHERE cookie = 31 AND "
		 "container_id = %lld", (long long)n.cid), 1, "RST: local address from the flow");
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "RST: one row, not two");

	/* an RST-closed socket a poll saw alive (tcp_info: 0 bytes then): its final counts
	 * are lost, so the flow's counters replace the poll's */
	fresh(&n, st, new_container(st, "rst-seen"));
	struct ctflow f4 = flow(CT_NEW, SK_TCP, HERE, 40010, THERE, 9003, 11, 1000);
	flows_event(n.fs, &f4, 1000);
	struct sk s4 = sock(35, SK_TCP, SKS_ESTABLISHED, 40010, THERE, 9003);
	tick(&n, 1100, &s4, 1, 1);
	struct sk s4d = sock(35, SK_TCP, SKS_CLOSE, 40010, THERE, 0);
	s4d.have = SK_HAVE_RADDR | SK_HAVE_LPORT;
	table_destroyed(n.t, &s4d, 1150);
	struct ctflow f4e = ended(f4, 320, 180, 1150);
	flows_event(n.fs, &f4e, 1200);
	tick(&n, 1300, NULL, 0, 1);
	is_int(Q(&n, "SELECT bytes_sent FROM sockets WHERE cookie = 35 AND container_id = %lld",
		 (long long)n.cid), 320, "RST after a poll: the flow's counters, not the poll's 0");
	is_int(Q(&n, "SELECT bytes_source = 'flow' FROM sockets WHERE cookie = 35 AND "
		 "container_id = %lld", (long long)n.cid), 1, "RST after a poll: bytes_source flow");

	/* the same tuple reused (tcp_tw_reuse): the first connection's TIME_WAIT remnant is
	 * still there when the second one's flow begins, before its socket was dumped */
	fresh(&n, st, new_container(st, "reuse"));
	struct ctflow fa = flow(CT_NEW, SK_TCP, HERE, 40003, THERE, 443, 4, 1000);
	struct sk sa = sock(41, SK_TCP, SKS_ESTABLISHED, 40003, THERE, 443);
	flows_event(n.fs, &fa, 1000);
	tick(&n, 1100, &sa, 1, 1);
	sa.state = SKS_FIN_WAIT1;
	table_destroyed(n.t, &sa, 1500);
	struct sk twa = sock(43, SK_TCP, SKS_TIME_WAIT, 40003, THERE, 443);
	struct ctflow fae = ended(fa, 1000, 2000, 1500);
	flows_event(n.fs, &fae, 1600);
	tick(&n, 1700, &twa, 1, 1);
	struct ctflow fb = flow(CT_NEW, SK_TCP, HERE, 40003, THERE, 443, 5, 3000);
	flows_event(n.fs, &fb, 3000);
	tick(&n, 3100, &twa, 1, 1);
	ok(flows_waiting(n.fs), "reused tuple: the closed connection does not take the new flow");
	struct sk sb = sock(42, SK_TCP, SKS_ESTABLISHED, 40003, THERE, 443);
	struct sk v2[2] = { twa, sb };
	tick(&n, 3200, v2, 2, 1);
	tick(&n, 3400, v2, 2, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 2,
	       "reused tuple: two rows");
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 2 AND container_id = %lld",
		 (long long)n.cid), 2, "reused tuple: each socket has its own flow");
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND container_id = %lld",
		 (long long)n.cid), 0, "reused tuple: no socketless row");
	ok(!flows_waiting(n.fs), "reused tuple: the second flow joined the second socket");

	/* a TIME_WAIT remnant with a new cookie folds into its connection; its flow joins
	 * that one row */
	fresh(&n, st, new_container(st, "timewait"));
	struct ctflow fc = flow(CT_NEW, SK_TCP, HERE, 40004, THERE, 443, 6, 1000);
	flows_event(n.fs, &fc, 1000);
	struct sk sc = sock(51, SK_TCP, SKS_FIN_WAIT1, 40004, THERE, 443);
	table_destroyed(n.t, &sc, 1050);
	struct sk tw = sock(52, SK_TCP, SKS_TIME_WAIT, 40004, THERE, 443);
	tick(&n, 1200, &tw, 1, 1);
	tick(&n, 1400, &tw, 1, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "TIME_WAIT remnant: one row");
	is_int(Q(&n, "SELECT flow FROM sockets WHERE container_id = %lld", (long long)n.cid),
	       STORE_FLOW_JOINED, "TIME_WAIT remnant: the row has its flow");
	/* the remnant goes, the flow lives on in conntrack's TIME_WAIT: the entry stays
	 * pinned and takes the flow's final counters */
	tick(&n, 1600, NULL, 0, 1);
	struct ctflow fce = ended(fc, 700, 800, 120000);
	flows_event(n.fs, &fce, 121000);
	tick(&n, 121000, NULL, 0, 0);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "TIME_WAIT: still one row after the flow ends");

	/* a connection no poll and no notification showed in time: its flow becomes its
	 * own row; a TIME_WAIT remnant or an RST notification that comes later is the same
	 * connection, not a second row */
	fresh(&n, st, new_container(st, "late"));
	struct ctflow fl1 = flow(CT_NEW, SK_TCP, HERE, 40020, THERE, 9000, 21, 1000);
	struct ctflow fl2 = flow(CT_NEW, SK_TCP, HERE, 40021, THERE, 9000, 22, 1000);
	flows_event(n.fs, &fl1, 1000);
	flows_event(n.fs, &fl2, 1000);
	tick(&n, 1100, NULL, 0, 1);
	tick(&n, 1300, NULL, 0, 0);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND container_id = %lld",
		 (long long)n.cid), 2, "late: the flows are rows of their own");
	struct sk lt = sock(81, SK_TCP, SKS_TIME_WAIT, 40020, THERE, 9000);
	tick(&n, 1500, &lt, 1, 1);
	struct sk lr = sock(82, SK_TCP, SKS_CLOSE, 40021, THERE, 0);
	lr.have = SK_HAVE_RADDR | SK_HAVE_LPORT;
	table_destroyed(n.t, &lr, 1600);
	tick(&n, 1700, &lt, 1, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 2,
	       "late: a later TIME_WAIT remnant and RST notification add no row");

	/* a connection that ended before any poll: its flow's row is written closed, and its
	 * socket's destroy notification comes late (RCU and a workqueue delay it; under load
	 * by several ticks, after dumps that forget closed rows): still one row */
	fresh(&n, st, new_container(st, "late-ended"));
	struct ctflow fe = flow(CT_NEW, SK_TCP, HERE, 40025, THERE, 7002, 24, 1000);
	flows_event(n.fs, &fe, 1000);
	struct ctflow fee = ended(fe, 60, 40, 1010);
	flows_event(n.fs, &fee, 1010);
	tick(&n, 1100, NULL, 0, 1);
	tick(&n, 1300, NULL, 0, 0);
	tick(&n, 1500, NULL, 0, 1);
	tick(&n, 1700, NULL, 0, 1);
	struct sk le = sock(83, SK_TCP, SKS_CLOSE, 40025, THERE, 7002);
	table_destroyed(n.t, &le, 2500);
	tick(&n, 2600, NULL, 0, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "late-ended: a destroy notification after the closed flow row was written adds no row");
	tick(&n, 30000, NULL, 0, 1);
	struct table_stats ts;
	table_stats(n.t, &ts);
	is_int((long long)ts.entries, 0, "late-ended: the closed flow row leaves memory after a while");

	/* a refused connection whose process still holds the socket: a dump shows it
	 * (CLOSE, full tuple) after its flow became a row: that row is the socket's */
	fresh(&n, st, new_container(st, "refused-held"));
	struct ctflow fr = flow(CT_NEW, SK_TCP, HERE, 40030, THERE, 7001, 23, 1000);
	flows_event(n.fs, &fr, 1000);
	tick(&n, 1100, NULL, 0, 1);
	tick(&n, 1300, NULL, 0, 0);
	struct sk held = sock(91, SK_TCP, SKS_CLOSE, 40030, THERE, 7001);
	tick(&n, 1500, &held, 1, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "refused, held: one row");
	is_int(Q(&n, "SELECT flow FROM sockets WHERE container_id = %lld", (long long)n.cid),
	       STORE_FLOW_JOINED, "refused, held: the row now has its socket");

	/* unconnected UDP: one row per destination; the UNCONN socket stays as it is */
	fresh(&n, st, new_container(st, "sendto"));
	struct sk u = sock(61, SK_UDP, SKS_CLOSE, 5000, NULL, 0);
	u.have &= ~SK_HAVE_RPORT;
	memset(u.laddr, 0, 16);
	tick(&n, 1000, &u, 1, 1);
	struct ctflow d1 = flow(CT_NEW, SK_UDP, HERE, 5000, THERE, 53, 7, 1100);
	struct ctflow d2 = flow(CT_NEW, SK_UDP, HERE, 5000, OTHER, 5353, 8, 1100);
	flows_event(n.fs, &d1, 1100);
	flows_event(n.fs, &d2, 1100);
	tick(&n, 1200, &u, 1, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND container_id = %lld",
		 (long long)n.cid), 0, "sendto: no row before the tick after a dump");
	tick(&n, 1400, &u, 1, 0);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND container_id = %lld",
		 (long long)n.cid), 2, "sendto: one row per destination");
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND remote_addr = '203.0.113.9' "
		 "AND remote_port = 5353 AND direction = 'out' AND container_id = %lld",
		 (long long)n.cid), 1, "sendto: the row has the full destination");
	is_int(Q(&n, "SELECT flow IS NULL FROM sockets WHERE cookie = 61 AND container_id = %lld",
		 (long long)n.cid), 1, "sendto: the unconnected socket is not joined");
	struct ctflow d1e = ended(d1, 128, 0, 2000);
	flows_event(n.fs, &d1e, 2100);
	tick(&n, 2200, &u, 1, 0);
	is_int(Q(&n, "SELECT bytes_sent FROM sockets WHERE flow = 1 AND remote_port = 53 AND "
		 "container_id = %lld", (long long)n.cid), 128, "sendto: bytes when the flow ends");
	is_int(Q(&n, "SELECT closed_at FROM sockets WHERE flow = 1 AND remote_port = 53 AND "
		 "container_id = %lld", (long long)n.cid), 2000, "sendto: closed at the flow's end");

	/* the original direction decides: a socket that shares a listener's port but
	 * started the flow itself is out */
	fresh(&n, st, new_container(st, "direction"));
	struct sk l = sock(71, SK_TCP, SKS_LISTEN, 8080, NULL, 0);
	memset(l.laddr, 0, 16);
	struct sk o = sock(72, SK_TCP, SKS_ESTABLISHED, 8080, THERE, 443);
	struct sk v[2] = { l, o };
	tick(&n, 1000, v, 2, 1);
	is_int(Q(&n, "SELECT direction = 'in' FROM sockets WHERE cookie = 72 AND container_id = %lld",
		 (long long)n.cid), 1, "without its flow, the listener's port reads in");
	struct ctflow fo = flow(CT_NEW, SK_TCP, HERE, 8080, THERE, 443, 9, 900);
	flows_event(n.fs, &fo, 1100);
	tick(&n, 1200, v, 2, 1);
	ok(!flows_waiting(n.fs), "the flow joined the socket on the listener's port");
	is_int(Q(&n, "SELECT direction = 'out' FROM sockets WHERE cookie = 72 AND container_id = %lld",
		 (long long)n.cid), 1, "with its flow, the container's own connection reads out");
	/* and an accepted connection (the flow came from outside) reads in */
	struct sk a = sock(73, SK_TCP, SKS_ESTABLISHED, 8080, OTHER, 50000);
	struct sk v3[3] = { l, o, a };
	struct ctflow fi = flow(CT_NEW, SK_TCP, OTHER, 50000, HERE, 8080, 10, 1300);
	flows_event(n.fs, &fi, 1300);
	tick(&n, 1400, v3, 3, 1);
	is_int(Q(&n, "SELECT direction = 'in' AND flow = 2 FROM sockets WHERE cookie = 73 AND "
		 "container_id = %lld", (long long)n.cid), 1, "an accepted connection reads in");

	/* a restart: an RST-closed connection one run wrote, its flow's DESTROY read by the
	 * next run (which never saw its NEW): the row is recalled, not written twice */
	fresh(&n, st, new_container(st, "restart"));
	struct ctflow fr1 = flow(CT_NEW, SK_TCP, HERE, 41000, THERE, 443, 20, 0);
	flows_event(n.fs, &fr1, 1000);
	struct sk rs = sock(201, SK_TCP, SKS_CLOSE, 41000, THERE, 0);
	rs.have &= ~(SK_HAVE_RPORT | SK_HAVE_LADDR | SK_HAVE_BYTES);
	table_destroyed(n.t, &rs, 1050);
	tick(&n, 1100, NULL, 0, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE remote_port = 443 AND flow = 2 AND "
		 "bytes_sent IS NULL AND container_id = %lld", (long long)n.cid), 1,
	       "restart: the first run joined the RST-closed socket, bytes not yet known");
	restart(&n);
	struct ctflow fr1e = ended(flow(CT_DESTROY, SK_TCP, HERE, 41000, THERE, 443, 20, 990),
				   300, 60, 11000);
	flows_event(n.fs, &fr1e, 11000);
	tick(&n, 11100, NULL, 0, 1);
	tick(&n, 11300, NULL, 0, 1);
	struct flows_stats fst;
	flows_stats(n.fs, &fst);
	ok(fst.recalled == 1 && fst.own_rows == 0, "restart: the flow recalled the row (%llu, %llu)",
	   (unsigned long long)fst.recalled, (unsigned long long)fst.own_rows);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE container_id = %lld", (long long)n.cid), 1,
	       "restart: still one row");
	is_int(Q(&n, "SELECT bytes_sent FROM sockets WHERE container_id = %lld", (long long)n.cid),
	       300, "restart: the row has its flow's final counters");
	/* one whose row closed before the flow began is another connection of the tuple */
	struct ctflow fr2e = ended(flow(CT_DESTROY, SK_TCP, HERE, 41000, THERE, 443, 21, 9000),
				   10, 10, 12000);
	flows_event(n.fs, &fr2e, 12000);
	tick(&n, 12100, NULL, 0, 1);
	tick(&n, 12300, NULL, 0, 1);
	is_int(Q(&n, "SELECT count(*) FROM sockets WHERE flow = 1 AND container_id = %lld",
		 (long long)n.cid), 1, "restart: a later use of the tuple is a row of its own");
	/* and a flow this run saw begin is never recalled (its socket is in memory, or
	 * it is a row of its own) */
	struct ctflow fr3 = flow(CT_NEW, SK_UDP, HERE, 5300, THERE, 53, 22, 0);
	flows_event(n.fs, &fr3, 12400);
	tick(&n, 12500, NULL, 0, 1);
	tick(&n, 12700, NULL, 0, 1);
	flows_stats(n.fs, &fst);
	ok(fst.recalled == 1 && fst.own_rows == 2, "restart: a flow seen from its NEW is not recalled");
	/* nor one that began after the watch did and came as a DESTROY alone (its NEW was
	 * lost): the row an older use of the tuple left is not where it goes */
	struct ctflow fr4 = flow(CT_NEW, SK_UDP, HERE, 5400, THERE, 53, 23, 0);
	flows_event(n.fs, &fr4, 12800);
	tick(&n, 12900, NULL, 0, 1);
	tick(&n, 13000, NULL, 0, 1);
	struct ctflow fr4d = ended(flow(CT_DESTROY, SK_UDP, HERE, 5400, THERE, 53, 23, 12800),
				   40, 0, 13050);
	flows_event(n.fs, &fr4d, 13100);
	tick(&n, 13100, NULL, 0, 1);
	struct ctflow fr4e = ended(flow(CT_DESTROY, SK_UDP, HERE, 5400, THERE, 53, 24, 13200),
				   40, 0, 14000);
	flows_event(n.fs, &fr4e, 14000);
	tick(&n, 14100, NULL, 0, 1);
	tick(&n, 14300, NULL, 0, 1);
	flows_stats(n.fs, &fst);
	ok(fst.recalled == 1 && fst.own_rows == 4,
	   "restart: a flow that began after the start is not recalled (%llu, %llu)",
	   (unsigned long long)fst.recalled, (unsigned long long)fst.own_rows);

	table_free(n.t);
	flows_free(n.fs);
	store_close(st);
	unlink(path);
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
	return tap_failed ? 1 : 0;
}
