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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int family;
	char *text = fuzz_proc_text(data, size, &family);
	if (!text)
		return 0;
	procnet_parse_raw(text, family, fuzz_procnet_check, NULL);
	(void)procnet_sockstat_digest(text, text);
	free(text);
	return 0;
}
