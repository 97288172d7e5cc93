/* Sockets whose remote is a name, not an address (a unix socket's peer path): through
 * the table into the store, back out as a restarted watch seeds them, and closed when a
 * complete unix dump no longer shows them. Also ping sockets: connected later, kept
 * open across dumps that show them. No root needed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "../tap.h"
#include "sampler/table.h"
#include "store/store.h"

static char text[256];

static const char *qs(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt;
	text[0] = '\0';
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK)
		return "(prepare failed)";
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		snprintf(text, sizeof(text), "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return text;
}

static struct sk unix_sk(uint64_t cookie, uint32_t ino)
{
	struct sk s = { 0 };
	s.cookie = cookie;
	s.proto = SK_UNIX;
	s.family = SKF_UNIX;
	s.state = SKS_ESTABLISHED;
	s.inode = ino;
	s.have = SK_HAVE_INODE;
	return s;
}

static void flush(struct store *st, struct table *t, int64_t now)
{
	store_begin(st);
	table_flush(t, st, now, 0);
	store_commit(st);
}

static int seed_cb(void *arg, const struct store_socket *s)
{
	return table_seed(arg, s);
}

static int seen_text(void *arg, const struct store_socket *s)
{
	if (s->sk.proto == SK_UNIX)
		snprintf(arg, 128, "%s", s->remote_text ? s->remote_text : "(null)");
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/clawss-named-XXXXXX", path[64], err[256] = "";
	struct store *st;
	struct store_container c = { .name = "unit", .netns_ino = 43 };
	unsigned kinds = 1u << SK_UNIX | 1u << SK_ICMP;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ok(store_open(&st, path, STORE_WRITE, err, sizeof(err)) == 0, "store opens: %s", err);
	store_begin(st);
	store_container_attach(st, &c, 1000);
	store_commit(st);

	struct table *t = table_new(c.id, 10000);
	struct sk u = unix_sk(77, 5001);
	table_dump_begin(t, 2000);
	ok(table_dump_named(t, &u, "/run/docker.sock") == 0, "a named socket into the dump");
	table_dump_end(t, kinds);
	flush(st, t, 2000);
	is_str(qs(st, "SELECT proto || ' ' || family || ' ' || remote_addr || ' ' || "
		  "coalesce(remote_port, 'null') FROM sockets"), "unix unix /run/docker.sock null",
	       "stored: proto unix, family unix, the path as remote_addr, no port");

	/* the next dump does not know the name (its peer went): the path stays */
	table_dump_begin(t, 3000);
	table_dump_named(t, &u, NULL);
	table_dump_end(t, kinds);
	flush(st, t, 3000);
	is_str(qs(st, "SELECT remote_addr FROM sockets"), "/run/docker.sock",
	       "a dump without the name keeps it");

	/* a restarted watch seeds it back, name and all */
	char seeded[128] = "";
	ok(store_socket_each_open(st, c.id, seen_text, seeded) == 0, "open sockets read back");
	is_str(seeded, "/run/docker.sock", "the path comes back as remote_text");
	struct table *t2 = table_new(c.id, 10000);
	ok(store_socket_each_open(st, c.id, seed_cb, t2) == 0, "seeded into a new table");

	/* a complete unix dump without it: closed */
	table_dump_begin(t2, 4000);
	table_dump_end(t2, kinds);
	flush(st, t2, 4000);
	is_str(qs(st, "SELECT closed_at FROM sockets WHERE proto = 'unix'"), "4000",
	       "gone from a complete unix dump: closed");
	is_str(qs(st, "SELECT remote_addr FROM sockets"), "/run/docker.sock",
	       "and the closing write keeps the path");

	/* a ping socket: unconnected (no remote), then connected */
	struct sk p = { 0 };
	p.cookie = SK_COOKIE_INODE | 6001;
	p.proto = SK_ICMP;
	p.family = SKF_IPV4;
	p.state = SKS_CLOSE;
	p.lport = 0x474c;
	p.inode = 6001;
	p.have = SK_HAVE_LADDR | SK_HAVE_LPORT | SK_HAVE_RPORT | SK_HAVE_INODE;
	table_dump_begin(t2, 5000);
	table_dump_sock(t2, &p);
	table_dump_end(t2, kinds);
	flush(st, t2, 5000);
	is_str(qs(st, "SELECT coalesce(remote_addr, 'null') || ' ' || local_port || ' ' || state "
		  "FROM sockets WHERE proto = 'icmp'"), "null 18252 7",
	       "an unconnected ping socket: no remote address, the identifier, CLOSE");
	p.state = SKS_ESTABLISHED;
	p.raddr[0] = 192, p.raddr[1] = 0, p.raddr[2] = 2, p.raddr[3] = 2;
	p.have |= SK_HAVE_RADDR;
	table_dump_begin(t2, 6000);
	table_dump_sock(t2, &p);
	table_dump_end(t2, kinds);
	flush(st, t2, 6000);
	is_str(qs(st, "SELECT remote_addr || ' ' || state || ' ' || (closed_at IS NULL) "
		  "FROM sockets WHERE proto = 'icmp'"), "192.0.2.2 1 1",
	       "connected later: the same row gains its remote address, still open");
	table_dump_begin(t2, 7000);
	table_dump_end(t2, 1u << SK_UNIX);
	flush(st, t2, 7000);
	is_str(qs(st, "SELECT closed_at IS NULL FROM sockets WHERE proto = 'icmp'"), "1",
	       "a dump whose icmp part failed closes no ping socket");
	table_dump_begin(t2, 8000);
	table_dump_end(t2, kinds);
	flush(st, t2, 8000);
	is_str(qs(st, "SELECT closed_at FROM sockets WHERE proto = 'icmp'"), "8000",
	       "a complete one does");

	table_free(t);
	table_free(t2);
	store_close(st);
	unlink(path);
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
	return tap_done_testing();
}
