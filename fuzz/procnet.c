/* libFuzzer: the /proc/net/raw{,6} parser and the sockstat digest (sampler/procnet.h).
 * The input: proctext.h. */
#include <stdint.h>
#include <stdlib.h>
#include "proctext.h"
#include "sampler/procnet.h"

static int fuzz_procnet_check(void *arg, const struct sk *s)
{
	(void)arg;
	if (s->proto != SK_RAW || !(s->cookie & SK_COOKIE_INODE))
		abort();
	return 0;
}

static void fuzz_procnet_digest(const char *text)
{
	(void)procnet_sockstat_digest(text, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_proc_table(data, size, procnet_parse_raw, fuzz_procnet_check,
			       fuzz_procnet_digest);
}
