/* The walker and the three reports over a database built here through the store API:
 * no root, and under -fsanitize=address it checks the read paths for leaks. */
#include <stdlib.h>
#include <unistd.h>
#include "../tap.h"
#include "../../lib/sock.h"
#include "../../report/allow.h"
#include "../../report/report.h"
#include "../../store/store.h"

#define T0 INT64_C(1700000000000)

static struct store *st;

static int64_t container(const char *name, uint64_t netns)
{
	struct store_container c = { .name = name, .netns_ino = netns, .started = T0 };
	if (store_container_attach(st, &c, T0) < 0)
		return -1;
	return c.id;
}

static int sock(int64_t cid, int proto, const char *raddr, int rport, int64_t first,
		const char *comm)
{
	static uint64_t cookie = 1;
	struct store_socket s = { .container_id = cid, .first_seen = first, .last_seen = first,
				  .seen_alive = 1, .comm = comm, .pid = 42 };
	s.sk.cookie = cookie++;
	s.sk.proto = (uint8_t)proto;
	s.sk.family = proto == SK_PACKET ? SKF_PACKET : SKF_IPV4;
	s.sk.state = SKS_ESTABLISHED;
	s.sk.have = SK_HAVE_LADDR | SK_HAVE_LPORT;
	s.sk.laddr[0] = 10, s.sk.laddr[3] = 1;
	s.sk.lport = (uint16_t)(40000 + cookie);
	if (raddr) {
		unsigned a, b, c, d;
		sscanf(raddr, "%u.%u.%u.%u", &a, &b, &c, &d);
		s.sk.raddr[0] = (uint8_t)a, s.sk.raddr[1] = (uint8_t)b;
		s.sk.raddr[2] = (uint8_t)c, s.sk.raddr[3] = (uint8_t)d;
		s.sk.have |= SK_HAVE_RADDR;
	}
	if (rport >= 0) {
		s.sk.rport = (uint16_t)rport;
		s.sk.have |= SK_HAVE_RPORT;
	}
	return store_socket_insert(st, &s);
}

struct call {
	struct report_query q;
	enum report_by by;
	enum out_format fmt;
	int until_idle, which;
	FILE *f;
	char err[256];
};

static char *call(struct call *c, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	c->f = open_memstream(&buf, &len);
	if (c->which == 0)
		*rc = report_print(store_db(st), &c->q, c->by, c->fmt, c->f, c->err, sizeof(c->err));
	else if (c->which == 1)
		*rc = report_containers(store_db(st), c->q.idle, c->q.burst_max, c->fmt, c->f, c->err, sizeof(c->err));
	else
		*rc = report_policy(store_db(st), &c->q, c->until_idle, c->f, c->err, sizeof(c->err));
	fclose(c->f);
	return buf;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

int main(void)
{
	char path[] = "/tmp/clawss-walk-XXXXXX", dbpath[64], err[512] = "";
	int rc;

	if (!mkdtemp(path))
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/db", path);
	ok(store_open(&st, dbpath, STORE_WRITE, err, sizeof(err)) == 0, "open for writing: %s", err);
	ok(store_begin(st) == 0, "begin");
	int64_t a = container("alpha", 1), b = container("beta", 2);
	ok(a > 0 && b > 0, "two containers");
	/* interleaved as watch writes them: alpha's burst, beta's, alpha's late upload, a
	 * beacon from beta every 60 s */
	int bad = 0;
	bad |= sock(a, SK_TCP, "198.51.100.7", 443, T0 + 1000, "fetch");
	bad |= sock(b, SK_TCP, "198.51.100.7", 443, T0 + 1500, "init");
	bad |= sock(a, SK_UDP, "192.0.2.53", 53, T0 + 2000, "fetch");
	bad |= sock(b, SK_RAW, NULL, -1, T0 + 2500, "ping");
	bad |= sock(a, SK_TCP, "203.0.113.66", 4444, T0 + 100000, "ev\x1bil");
	for (int i = 0; i < 5; i++)
		bad |= sock(b, SK_TCP, "203.0.113.50", 443, T0 + 200000 + i * 60000, "beacon");
	bad |= sock(a, SK_TCP, "0.0.0.0", -1, T0 + 3000, NULL);   /* not a report row */
	/* ten destinations polled in turn, each every 60 s: rows of one group lie further
	 * apart than the walker's prefetch distance */
	int64_t m = container("many", 3);
	for (int j = 0; j < 4; j++) {
		for (int d = 0; d < 10; d++) {
			char addr[32];
			snprintf(addr, sizeof(addr), "198.51.100.%d", 10 + d);
			bad |= sock(m, SK_TCP, addr, 443, T0 + d * 1000 + j * 60000, "poll");
		}
	}
	/* recorded out of time order (a destroy event dated before a poll, a restarted
	 * watch): the rules must see the times sorted */
	int64_t o = container("late", 4);
	static const int at[] = { 100, 1, 5, 340, 160, 220, 280 };
	for (size_t j = 0; j < sizeof(at) / sizeof(at[0]); j++)
		bad |= sock(o, SK_TCP, j < 3 ? "192.0.2.80" : "192.0.2.81", 443,
			    T0 + at[j] * 1000, "late");
	ok(!bad, "sockets inserted");
	ok(store_container_seen(st, a, T0 + 600000) == 0 && store_container_seen(st, b, T0 + 600000) == 0 &&
	   store_container_seen(st, m, T0 + 600000) == 0 &&
	   store_container_seen(st, o, T0 + 600000) == 0, "last seen");
	ok(store_commit(st) == 0, "commit");
	store_close(st);
	ok(store_open(&st, dbpath, STORE_READ, err, sizeof(err)) == 0, "open read-only: %s", err);

	struct call c = { .q = { .idle = 30000, .since = REPORT_TIME_MIN, .until = REPORT_TIME_MAX } };
	char *out = call(&c, &rc);
	is_int(rc, 1, "report: flagged (raw, beacon)");
	is_int(count(out, "\n") - 1, 10 + 40 + 7, "report: every row, the unconnected socket left out");
	ok(strstr(out, "ev\\x1bil") && !strchr(out, '\x1b'), "report: hostile comm escaped");
	is_int(count(out, "beacon\n"), 5 + 40 + 4, "report: every beacon row");
	free(out);

	c.q.since_idle = 1;
	c.fmt = OUT_JSON;
	out = call(&c, &rc);
	is_int(rc, 1, "since-idle: flagged");
	/* many: opens at 0-9 s, then 60 s later: the burst ends at 39 s, 30 rows after it */
	is_int(count(out, "\"after_idle\": true"), 6 + 30 + 5,
	       "since-idle: alpha's upload, beta's beacons, many's and late's later rows");
	is_int(count(out, "\"proto\": \"raw\""), 1, "since-idle: the raw socket too");
	free(out);

	size_t matched[1] = { 0 };
	char *names[] = { "alp*" };
	c.q.containers = names;
	c.q.ncontainers = 1;
	c.q.matched = matched;
	c.q.since_idle = 0;
	c.by = REPORT_BY_DESTINATION;
	c.fmt = OUT_CSV;
	out = call(&c, &rc);
	is_int(rc, 0, "alpha by destination: nothing flagged");
	is_int(count(out, "\r\n"), 4, "alpha by destination: header and three destinations");
	is_int((int)matched[0], 1, "the glob matched one container");
	free(out);

	struct allowlist al = { 0 };
	ok(allow_parse_line(&al, "198.51.100.0/24 443 tcp", 1, err, sizeof(err)) == 0, "allow rule");
	c.q.allow = &al;
	c.by = REPORT_BY_SOCKET;
	c.fmt = OUT_JSON;
	out = call(&c, &rc);
	is_int(rc, 1, "alpha with an allowlist: flagged");
	is_int(count(out, "undeclared"), 2, "the dns query and the upload are undeclared");
	free(out);
	allow_free(&al);
	c.q.allow = NULL;

	char *many[] = { "many" };
	c.q.containers = many;
	c.q.matched = NULL;
	c.by = REPORT_BY_DESTINATION;
	c.fmt = OUT_CSV;
	out = call(&c, &rc);
	is_int(rc, 1, "interleaved groups: flagged");
	is_int(count(out, ",443,,tcp,4,"), 10, "interleaved groups: ten destinations of 4 attempts");
	is_int(count(out, ",beacon\r\n"), 10, "interleaved groups: all ten beacons");
	free(out);
	c.by = REPORT_BY_SOCKET;
	c.fmt = OUT_JSON;
	c.q.containers = names;

	c.which = 2;
	c.until_idle = 1;
	out = call(&c, &rc);
	is_int(rc, 0, "policy until idle");
	ok(strstr(out, "\n198.51.100.7   443 tcp  # 1 connection") && strstr(out, "\n192.0.2.53      53 udp") &&
	   !strstr(out, "203.0.113.66"), "policy: the burst's destinations only");
	free(out);
	char *none[] = { "gamma" };
	c.q.containers = none;
	out = call(&c, &rc);
	is_int(rc, -1, "policy of an unknown container fails");
	is_str(c.err, "no such container: gamma", "and says so");
	free(out);

	char *late[] = { "late" };
	c.q.containers = late;
	c.which = 0;
	c.by = REPORT_BY_SOCKET;
	c.fmt = OUT_JSON;
	out = call(&c, &rc);
	is_int(count(out, "\"after_idle\": true"), 5, "out of order: the burst is 1 s and 5 s");
	is_int(count(out, "\"beacon\"]"), 4, "out of order: the 60 s series is a beacon");
	free(out);
	c.q.containers = none;

	c.which = 1;
	out = call(&c, &rc);
	is_int(rc, 0, "containers");
	ok(strstr(out, "\"name\": \"late\"") && strstr(out, "\"burst_end\": \"2023-11-14T22:13:55.000Z\", "
		       "\"connections\": 7, \"flagged\": 5, \"dns_queries\": 0, \"dns_tunnel\": 0}"), "containers: burst of rows recorded out of order");
	ok(strstr(out, "\"name\": \"alpha\"") && strstr(out, "\"burst_end\": \"2023-11-14T22:13:52.000Z\", "
		       "\"connections\": 3, \"flagged\": 1, \"dns_queries\": 0, \"dns_tunnel\": 0}"), "containers: alpha's burst and counts");
	ok(strstr(out, "\"name\": \"beta\"") && strstr(out, "\"burst_end\": \"2023-11-14T22:13:52.500Z\", "
		       "\"connections\": 7, \"flagged\": 6, \"dns_queries\": 0, \"dns_tunnel\": 0}"), "containers: beta's burst and counts");
	free(out);

	store_close(st);
	unlink(dbpath);
	snprintf(dbpath, sizeof(dbpath), "%s/db-wal", path);
	unlink(dbpath);
	snprintf(dbpath, sizeof(dbpath), "%s/db-shm", path);
	unlink(dbpath);
	rmdir(path);
	return tap_done_testing();
}
