/* Durations, times, addresses: the parsers every command shares. */
#include <errno.h>
#include "../tap.h"
#include "lib/sock.h"
#include "lib/util.h"

static int64_t dur(const char *s)
{
	int64_t ms;
	return duration_parse(s, &ms) < 0 ? -1 : ms;
}

static int64_t tm(const char *s)
{
	int64_t ms;
	return time_parse(s, 1000000000000LL, &ms) < 0 ? -1 : ms;
}

int main(void)
{
	char buf[64];
	uint8_t a[16] = { 0 };

	is_int(dur("250ms"), 250, "250ms");
	is_int(dur("5s"), 5000, "5s");
	is_int(dur("2m"), 120000, "2m");
	is_int(dur("1h"), 3600000, "1h");
	is_int(dur("1.5s"), 1500, "1.5s");
	is_int(dur("0.25m"), 15000, "0.25m");
	static const char *const bad[] = { "0", "0s", "-5s", "abc", "", "5", "5 s", "s",
					   "5x", "1e3s", "5s ", ".s", "0.0001s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(dur(bad[i]), -1, "bad duration '%s' refused", bad[i]);

	is_int(tm("2026-11-22T10:00:00Z"), 1795341600000LL, "RFC 3339 UTC");
	is_int(tm("2026-11-22T10:00:00.250Z"), 1795341600250LL, "with milliseconds");
	is_int(tm("2026-11-22T11:00:00+01:00"), 1795341600000LL, "with an offset");
	is_int(tm("2026-11-22T10:00:00.123456789Z"), 1795341600123LL, "nanoseconds truncated");
	is_int(tm("2h"), 1000000000000LL - 7200000, "a duration means that long ago");
	static const char *const badt[] = { "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
					    "2026-11-22T10:00:00", "2026-11-22", "yesterday",
					    "2026-11-22T25:00:00Z", "2026-11-22T10:00:00Zjunk" };
	for (size_t i = 0; i < sizeof(badt) / sizeof(badt[0]); i++)
		is_int(tm(badt[i]), -1, "bad time '%s' refused", badt[i]);
	is_str(time_format(1795341600123LL, buf, sizeof(buf)), "2026-11-22T10:00:00.123Z",
	       "time_format");
	is_int(tm(time_format(1795341600123LL, buf, sizeof(buf))), 1795341600123LL,
	       "format and parse round trip");

	/* ::ffff:192.0.2.7 prints as IPv4 */
	a[10] = a[11] = 0xff;
	a[12] = 192, a[13] = 0, a[14] = 2, a[15] = 7;
	is_str(sk_addr_text(SKF_IPV6, a, buf, sizeof(buf)), "192.0.2.7", "v4-mapped shown as IPv4");
	is_str(sk_state_name(SK_UDP, SKS_CLOSE), "UNCONN", "unconnected UDP is UNCONN");
	is_str(sk_state_name(SK_TCP, SKS_TIME_WAIT), "TIME_WAIT", "TCP state names");
	is_str(sk_state_name(SK_TCP, 99), "UNKNOWN", "unknown state");
	/* what prune and the duration options say about a refused duration */
	static const struct { const char *in, *why; } whys[] = {
		{ "0s", "it is zero" }, { "0", "it has no unit" },
		{ "0.0ms", "it is zero" }, { "3", "it has no unit" },
		{ "1w", "its unit is unknown" },
		{ "-5s", "it is negative" }, { "", "it is empty" },
		{ "abc", "it does not start with a number" }, { "0.1ms", "it is shorter than a millisecond" },
		{ "99999999999999999999h", "it is too large" }, { "1..5s", "it is not a number" },
	};
	for (size_t i = 0; i < sizeof(whys) / sizeof(whys[0]); i++)
		is_str(duration_error(whys[i].in), whys[i].why, "duration_error('%s')", whys[i].in);
	ok(duration_error("5s") == NULL, "duration_error: a good duration has no error");
	long long v;
	is_int(util_int_parse("12", 0, 100, &v), 0, "util_int_parse");
	is_int(util_int_parse("12x", 0, 100, &v), -1, "util_int_parse refuses trailing junk");
	is_int(util_int_parse("101", 0, 100, &v), -1, "util_int_parse range");

	/* util_grow: room for what is asked, contents kept, overflow refused */
	int *arr = NULL;
	size_t cap = 0;
	is_int(util_grow(&arr, &cap, 1, sizeof(*arr)), 0, "util_grow: first room");
	ok(arr && cap >= 1, "util_grow: an array with room (%zu)", cap);
	for (int i = 0; i < 1000; i++) {
		if (util_grow(&arr, &cap, (size_t)i + 1, sizeof(*arr)) < 0)
			break;
		arr[i] = i;
	}
	ok(cap >= 1000 && arr[999] == 999 && arr[0] == 0 && arr[500] == 500,
	   "util_grow: 1000 elements kept through the growths");
	int *before = arr;
	size_t cap_before = cap;
	errno = 0;
	is_int(util_grow(&arr, &cap, SIZE_MAX / 2, sizeof(*arr)), -1, "util_grow: overflow refused");
	ok(errno == ENOMEM && arr == before && cap == cap_before, "util_grow: ENOMEM, array unchanged");
	free(arr);
	int64_t xs[] = { 5, -3, INT64_MAX, INT64_MIN, 0 };
	qsort(xs, 5, sizeof(xs[0]), util_cmp_i64);
	ok(xs[0] == INT64_MIN && xs[1] == -3 && xs[2] == 0 && xs[3] == 5 && xs[4] == INT64_MAX,
	   "util_cmp_i64 sorts the extremes without overflow");
	int64_t m0 = time_mono_ms();
	ok(m0 > 0 && time_mono_ms() >= m0, "time_mono_ms does not go back");
	return tap_done_testing();
}
