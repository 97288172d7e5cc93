/* The name index (report/names.h): TTL with its grace, an address reused by two names,
 * and NAME / *.DOMAIN allowlist rules at label boundaries (report/allow.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report/allow.h"
#include "report/names.h"
#include "store/dns.h"
#include "store/store.h"
#include "tests/tap.h"

static int64_t q1(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The store's side: episodes begin when another name takes the address. */
static void test_store(void)
{
	char dir[] = "/tmp/clawss-names-XXXXXX", path[64], err[256] = "";
	struct store *st = NULL;
	struct store_container c = { .name = "app", .netns_ino = 1 };
	int ins;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/db", dir);
	ok(store_open(&st, path, STORE_WRITE, err, sizeof(err)) == 0, "store: open %s", err);
	struct store_dns *d = store_dns_new(st);
	ok(d && store_begin(st) == 0 && store_container_attach(st, &c, 1) == 0, "store: container");
	ok(store_dns_name(d, c.id, "a.test", "192.0.2.7", 1000, 30, "192.0.2.53", 1, &ins) == 0 &&
	   ins, "store: a first answer begins an episode");
	ok(store_dns_name(d, c.id, "a.test", "192.0.2.7", 2000, 60, NULL, 1, &ins) == 0 && !ins,
	   "store: the same name again extends it");
	is_int((long)q1(st, "SELECT last_seen * 1000 + ttl FROM names"), 2000060,
	       "store: last_seen and TTL follow the last answer");
	ok(store_dns_name(d, c.id, "b.test", "192.0.2.7", 3000, 30, NULL, 1, &ins) == 0 && ins,
	   "store: another name takes the address: a new episode");
	ok(store_dns_name(d, c.id, "a.test", "192.0.2.7", 4000, 30, NULL, 1, &ins) == 0 && ins,
	   "store: the first name back: a third episode, not the first extended");
	ok(store_dns_name(d, c.id, "c.test", "192.0.2.8", 5000, 30, NULL, 0, &ins) == 0 && !ins,
	   "store: past the budget nothing new is stored");
	is_int((long)q1(st, "SELECT count(*) FROM names"), 3, "store: three episodes");
	struct store_dns_query q = { .container_id = c.id, .t = 1000, .resolver_addr = "192.0.2.53",
		.resolver_port = 53, .proto = "udp", .qname = "a.test", .qtype = 1, .rcode = -1 };
	int64_t row = 0, budget = 0;
	ok(store_dns_query(d, &q, &row) == 0 && row > 0, "store: a query");
	ok(store_dns_answer(d, row, 3, NULL, 1005) == 0 &&
	   q1(st, "SELECT rcode FROM dns_queries") == 3, "store: its answer");
	ok(store_dns_budget(d, c.id, 6000, 5, "x", &budget) == 0 && budget > 0 &&
	   store_dns_budget(d, c.id, 7000, 9, "y", &budget) == 0 &&
	   q1(st, "SELECT count * 10000 + \"end\" FROM activity WHERE kind = 'dns-budget'") ==
	   97000, "store: the dns-budget row, created then updated");
	int64_t nq, nn;
	ok(store_dns_count(d, c.id, &nq, &nn) == 0 && nq == 1 && nn == 3, "store: counts");
	ok(store_commit(st) == 0, "store: commit");
	store_dns_free(d);
	store_close(st);
	unlink(path);
	rmdir(dir);
}

static const char *at(struct names_index *ix, uint64_t key, int64_t t)
{
	const char *n = names_text(ix, names_lookup(ix, key, t));
	return n ? n : "(none)";
}

static int covers(const char *rule, const char *name)
{
	struct allowlist al = { 0 };
	char why[160];
	int r = allow_parse_line(&al, rule, 1, why, sizeof(why)) == 0 &&
		allow_match_name(&al, name, 443, 1);
	allow_free(&al);
	return r;
}

int main(void)
{
	struct names_index ix = { 0 };
	const uint64_t A = 1, B = 2;

	/* address A: cdn.example answered at 1000 (TTL 30 s), then evil.example took the
	 * address at 50000 (TTL 5 s); B: given out of order */
	ok(names_add(&ix, A, "evil.example", 50000, 52000, 5) == 0, "add");
	ok(names_add(&ix, A, "cdn.example", 1000, 20000, 30) == 0, "add");
	ok(names_add(&ix, B, "b.example", 5000, 5000, 0) == 0, "add");
	ok(names_finish(&ix) == 0, "finish");

	is_str(at(&ix, A, 999), "(none)", "before any answer: no name");
	is_str(at(&ix, A, 1000), "cdn.example", "at the answer");
	is_str(at(&ix, A, 49999), "cdn.example", "within last + TTL + grace");
	is_str(at(&ix, A, 50000), "evil.example", "reuse: the most recent resolution wins");
	is_str(at(&ix, A, 60000), "evil.example", "the later name, within its TTL");
	/* 52000 + 5 s + 60 s grace = 117000 */
	is_str(at(&ix, A, 117000), "evil.example", "the grace's last millisecond");
	is_str(at(&ix, A, 117001), "(none)", "past TTL and grace: no name");
	is_str(at(&ix, B, 65000), "b.example", "TTL 0 still has the grace");
	is_str(at(&ix, B, 65001), "(none)", "...and no more");
	is_str(at(&ix, 3, 5000), "(none)", "an address never resolved");
	names_free(&ix);
	is_str(at(&ix, A, 1000), "(none)", "an empty index names nothing");

	ok(covers("api.example.test", "api.example.test"), "NAME covers itself");
	ok(covers("API.Example.Test.", "api.example.test"), "case and a final dot do not matter");
	ok(!covers("api.example.test", "x.api.example.test"), "NAME does not cover names under it");
	ok(covers("*.example.test", "a.example.test"), "*.d covers a.d");
	ok(covers("*.example.test", "a.b.example.test"), "*.d covers a.b.d");
	ok(!covers("*.example.test", "example.test"), "*.d does not cover d");
	ok(!covers("*.example.test", "badexample.test"), "*.d: only at a label boundary");
	ok(!covers("*.example.test 80", "a.example.test"), "the port still applies");
	ok(covers("*.example.test 443 tcp", "a.example.test"), "port and protocol");

	struct allowlist al = { 0 };
	char why[160];
	ok(allow_parse_line(&al, "198.51.100.7 443", 1, why, sizeof(why)) == 0 &&
	   al.n == 1 && al.rules[0].family && !al.rules[0].name, "an address stays an address");
	ok(allow_parse_line(&al, "1password.com", 2, why, sizeof(why)) == 0 &&
	   al.n == 2 && al.rules[1].name, "a name may begin with a digit");
	ok(allow_parse_line(&al, "999.1.2.3", 3, why, sizeof(why)) < 0, "a bad address is refused");
	ok(allow_parse_line(&al, "a..b", 4, why, sizeof(why)) < 0, "an empty label is refused");
	ok(allow_parse_line(&al, "a$b.test", 5, why, sizeof(why)) < 0, "a bad character is refused");
	ok(allow_parse_line(&al, "*.", 6, why, sizeof(why)) < 0, "*. alone is refused");
	allow_free(&al);
	test_store();
	return tap_done_testing();
}
