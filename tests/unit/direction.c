/* The socket-side direction rule (issue 13): a container must not be able to make an
 * outgoing connection read "in". Pure cases on table_direction, then the same rule
 * through a table across dumps and destroy notifications. */
#include <sqlite3.h>
#include "../tap.h"
#include "../../sampler/table.h"
#include "../../store/store.h"

static struct sk tcp4(const char *la, int lport, int state)
{
	struct sk s = { 0 };
	unsigned a, b, c, d;
	sscanf(la, "%u.%u.%u.%u", &a, &b, &c, &d);
	s.cookie = 1;
	s.proto = SK_TCP;
	s.family = SKF_IPV4;
	s.state = state;
	s.lport = lport;
	s.rport = state == SKS_LISTEN ? 0 : 443;
	s.laddr[0] = a, s.laddr[1] = b, s.laddr[2] = c, s.laddr[3] = d;
	if (state != SKS_LISTEN)
		s.raddr[0] = 198, s.raddr[1] = 51, s.raddr[2] = 100, s.raddr[3] = 7;
	s.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT | SK_HAVE_INODE;
	return s;
}

static struct table_listener lsn(const char *la, int port, int family, uint32_t gen)
{
	struct sk s = tcp4(la, port, SKS_LISTEN);
	struct table_listener l = { .family = (uint8_t)family, .port = (uint16_t)port,
				    .first_gen = gen };
	memcpy(l.addr, s.laddr, 16);
	l.wildcard = strcmp(la, "0.0.0.0") == 0;
	return l;
}

static void pure(void)
{
	struct table_listener lo = lsn("127.0.0.1", 5000, SKF_IPV4, 1);
	struct sk s = tcp4("10.0.0.2", 5000, SKS_ESTABLISHED);

	is_int(table_direction(&lo, 1, &s, 2), SKD_OUT,
	       "127.0.0.1:P listener, connection from 10.x:P (SO_REUSEADDR spoof): out");
	s = tcp4("127.0.0.1", 5000, SKS_ESTABLISHED);
	is_int(table_direction(&lo, 1, &s, 2), SKD_IN, "same exact address and port: in");
	is_int(table_direction(&lo, 1, &s, 1), SKD_IN, "listener first seen in the same dump: in");
	is_int(table_direction(&lo, 1, &s, 0), SKD_OUT,
	       "listener first seen after the socket: out");
	s = tcp4("127.0.0.1", 5001, SKS_ESTABLISHED);
	is_int(table_direction(&lo, 1, &s, 2), SKD_OUT, "another port: out");

	struct table_listener any = lsn("0.0.0.0", 80, SKF_IPV4, 1);
	s = tcp4("192.0.2.1", 80, SKS_ESTABLISHED);
	is_int(table_direction(&any, 1, &s, 2), SKD_IN, "wildcard listener of its family: in");
	s.family = SKF_IPV6;  /* ::ffff:192.0.2.1 as an IPv6 socket shows it, folded */
	is_int(table_direction(&any, 1, &s, 2), SKD_OUT,
	       "an IPv4 wildcard listener says nothing about an IPv6 socket");
	struct table_listener any6 = any;
	any6.family = SKF_IPV6;
	is_int(table_direction(&any6, 1, &s, 2), SKD_IN, "IPv6 wildcard, IPv6 socket: in");

	s = tcp4("192.0.2.1", 80, SKS_ESTABLISHED);
	s.have &= ~SK_HAVE_LADDR;  /* RST-closed: local address lost */
	is_int(table_direction(&lo, 1, &s, 2), SKD_OUT,
	       "local address unknown: an exact listener cannot vouch for it");
	is_int(table_direction(&any, 1, &s, 2), SKD_IN, "but a wildcard listener can");

	s = tcp4("0.0.0.0", 80, SKS_LISTEN);
	is_int(table_direction(NULL, 0, &s, 2), SKD_LISTEN, "a listener is listen");
	s = tcp4("127.0.0.1", 5000, SKS_ESTABLISHED);
	s.proto = SK_UDP;
	is_int(table_direction(&lo, 1, &s, 2), SKD_OUT, "connected UDP: always out");
	s.proto = SK_TCP;
	s.have &= ~SK_HAVE_LPORT;
	is_int(table_direction(&lo, 1, &s, 2), SKD_OUT, "local port unknown: out");
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

static void dump(struct table *t, int64_t now, const struct sk *v, int n)
{
	table_dump_begin(t, now);
	for (int i = 0; i < n; i++)
		table_dump_sock(t, &v[i]);
	table_dump_end(t, 1u << SK_TCP | 1u << SK_UDP);
}

static void flush(struct store *st, struct table *t, int64_t now)
{
	store_begin(st);
	table_flush(t, st, now, 0);
	store_commit(st);
}

static void through_table(struct store *st, int64_t cid)
{
	struct table *t = table_new(cid, 10000);
	struct sk l = tcp4("127.0.0.1", 5000, SKS_LISTEN);
	l.cookie = 100;
	struct sk spoof = tcp4("10.0.0.2", 5000, SKS_ESTABLISHED);
	spoof.cookie = 101;
	struct sk two[2] = { spoof, l };
	dump(t, 1000, two, 2);
	flush(st, t, 1000);
	is_int(q(st, "SELECT direction = 'out' FROM sockets WHERE cookie = 101"), 1,
	       "table: the spoofed connection is out");

	/* a socket seen before its listener stays out when the listener shows up */
	struct sk early = tcp4("192.0.2.1", 8080, SKS_SYN_SENT);
	early.cookie = 200;
	dump(t, 2000, &early, 1);
	struct sk late = tcp4("0.0.0.0", 8080, SKS_LISTEN);
	late.cookie = 201;
	early.state = SKS_ESTABLISHED;
	struct sk both[2] = { late, early };
	dump(t, 3000, both, 2);
	flush(st, t, 3000);
	is_int(q(st, "SELECT direction = 'out' FROM sockets WHERE cookie = 200"), 1,
	       "table: a listener that appeared after the socket does not make it in");

	/* seen only at its destruction: the last dump's listeners decide */
	struct sk gone = tcp4("192.0.2.1", 8080, SKS_CLOSE);
	gone.cookie = 300;
	gone.have &= ~SK_HAVE_INODE;
	table_destroyed(t, &gone, 3500);
	struct sk gone2 = tcp4("192.0.2.1", 80, SKS_CLOSE);
	gone2.cookie = 301;
	gone2.rport = 50000;  /* a peer's ephemeral port: not evidence any more */
	table_destroyed(t, &gone2, 3500);
	flush(st, t, 3500);
	is_int(q(st, "SELECT direction = 'in' FROM sockets WHERE cookie = 300"), 1,
	       "destroyed, never dumped, under a known wildcard listener: in");
	is_int(q(st, "SELECT direction = 'out' FROM sockets WHERE cookie = 301"), 1,
	       "destroyed from port 80 to an ephemeral port, no listener: out");
	table_free(t);
}

int main(void)
{
	char dir[] = "/tmp/clawss-direction-XXXXXX", path[64], err[256];
	struct store *st;
	struct store_container c = { .name = "unit", .netns_ino = 42 };

	pure();
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0) {
		ok(0, "store: %s", err);
		return tap_done_testing();
	}
	store_begin(st);
	store_container_attach(st, &c, 1000);
	store_commit(st);
	through_table(st, c.id);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done_testing();
}
