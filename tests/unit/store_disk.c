/* The disk budget (SPEC.md: at most 200 bytes per recorded connection), measured on
 * 100k synthetic closed connections shaped like a container's traffic: page_count *
 * page_size of the checkpointed file over the number of rows. Not timed. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/tap.h"
#include "store/store.h"

#define ROWS 100000
#define BUDGET 200.0

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* v6 percent of the connections are IPv6; the rest IPv4, one in ten of them UDP DNS. */
static double measure(const char *dir, const char *name, int v6)
{
	char path[PATH_MAX], err[512];
	struct store *st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (store_open(&st, path, STORE_WRITE, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		return -1;
	}
	static const char *const comms[] = { "curl", "node", "python3", "npm install", "git" };
	struct store_container c[10];
	int rc = 0;
	for (int i = 0; i < 10; i++) {
		char cname[32];
		snprintf(cname, sizeof(cname), "nano-claw-%d", i);
		c[i] = (struct store_container){ .name = cname, .netns_ino = 4026532000u + i,
						 .engine_id = "0123456789abcdef0123456789abcdef"
							      "0123456789abcdef0123456789abcdef",
						 .image = "nano-busybox:latest",
						 .started = INT64_C(1763805600000) };
		rc |= store_container_attach(st, &c[i], INT64_C(1763805600000));
	}
	int64_t t = INT64_C(1763805600000);
	uint64_t cookie = 0x1b000;
	rc |= store_begin(st);
	for (int i = 0; i < ROWS && rc == 0; i++) {
		struct store_socket s;
		memset(&s, 0, sizeof(s));
		s.container_id = c[next() % 10].id;
		s.sk.cookie = cookie += 1 + next() % 8;
		s.sk.have = SK_HAVE_LADDR | SK_HAVE_RADDR | SK_HAVE_LPORT | SK_HAVE_RPORT |
			    SK_HAVE_BYTES | SK_HAVE_INODE | SK_HAVE_UID;
		s.sk.lport = (uint16_t)(32768 + next() % 28000);
		if ((int)(next() % 100) < v6) {
			s.sk.family = SKF_IPV6;
			inet_pton(AF_INET6, "2001:db8:1::2", s.sk.laddr);
			inet_pton(AF_INET6, "2001:db8:abcd:12::", s.sk.raddr);
			s.sk.raddr[14] = (uint8_t)next();
			s.sk.raddr[15] = (uint8_t)next();
		} else {
			s.sk.family = SKF_IPV4;
			inet_pton(AF_INET, "172.17.0.2", s.sk.laddr);
			inet_pton(AF_INET, "203.0.113.0", s.sk.raddr);
			s.sk.raddr[3] = (uint8_t)next();
		}
		if (next() % 10 == 0) {
			s.sk.proto = SK_UDP;
			s.sk.rport = 53;
			s.sk.state = SKS_ESTABLISHED;
			s.sk.have &= (uint8_t)~SK_HAVE_BYTES;
		} else {
			s.sk.proto = SK_TCP;
			s.sk.rport = next() % 4 ? 443 : 80;
			s.sk.state = SKS_TIME_WAIT;
			s.sk.bytes_sent = 300 + next() % 5000;
			s.sk.bytes_received = 1000 + next() % 200000;
		}
		s.sk.uid = next() % 2 ? 0 : 1000;
		s.sk.inode = 1000000 + next() % 9000000;
		s.direction = SKD_OUT;
		s.first_seen = t += next() % 200;
		s.last_seen = t + next() % 3000;
		s.closed_at = s.last_seen + 1000;
		s.seen_alive = 1;
		s.pid = (int)(100 + next() % 60000);
		s.comm = comms[next() % 5];
		rc |= store_socket_insert(st, &s);
		if (i % 1000 == 999)
			rc |= store_commit(st) | store_begin(st);
	}
	rc |= store_commit(st);
	if (rc) {
		printf("# %s\n", store_errmsg(st));
		store_close(st);
		return -1;
	}
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int64_t pages = 0, size = 0, rows = 0;
	if (sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT (SELECT page_count FROM pragma_page_count), "
			       "(SELECT page_size FROM pragma_page_size), "
			       "(SELECT count(*) FROM sockets)", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW) {
			pages = sqlite3_column_int64(q, 0);
			size = sqlite3_column_int64(q, 1);
			rows = sqlite3_column_int64(q, 2);
		}
		sqlite3_finalize(q);
	}
	store_close(st);
	if (rows != ROWS) {
		printf("# %lld rows, want %d\n", (long long)rows, ROWS);
		return -1;
	}
	return (double)(pages * size) / (double)rows;
}

int main(void)
{
	char dir[] = "/tmp/clawss-disk-XXXXXX";
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	struct { const char *name; int v6; } mixes[] = {
		{ "mixed.db", 20 }, { "ipv6.db", 100 },    /* a likely mix, and the worst case */
	};
	for (size_t i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++) {
		double b = measure(dir, mixes[i].name, mixes[i].v6);
		ok(b > 0 && b <= BUDGET, "%d%% IPv6: %.1f bytes per connection (budget %.0f)",
		   mixes[i].v6, b, BUDGET);
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done_testing();
}
