/* The name index (report/names.h): TTL with its grace, an address reused by two names,
 * and NAME / *.DOMAIN allowlist rules at label boundaries (report/allow.h). */
#include <stdio.h>
#include <string.h>
#include "report/allow.h"
#include "report/names.h"
#include "tests/tap.h"

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
	return tap_done_testing();
}
