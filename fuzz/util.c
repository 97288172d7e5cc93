/* libFuzzer: the duration, time and integer parsers (lib/util.h). A duration accepted is
 * positive; a time accepted formats back to RFC 3339 and parses to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t ms, back;
	long long v;
	char buf[64];
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (duration_parse(s, &ms) == 0) {
		if (ms <= 0)
			abort();
		duration_format(ms, buf, sizeof(buf));
		if (duration_parse(buf, &back) != 0 || back != ms)
			abort();
	}
	/* a fixed "now", so that "2h" is a time too and nothing depends on the clock */
	if (time_parse(s, INT64_C(1795000000000), &ms) == 0 && ms >= 0 &&
	    ms < INT64_C(253402300800000)) {
		time_format(ms, buf, sizeof(buf));
		if (time_parse(buf, 0, &back) != 0 || back != ms)
			abort();
	}
	(void)util_int_parse(s, -1000, 1000, &v);
	(void)util_glob_match(s, "nano-claw-1");
	free(s);
	return 0;
}
