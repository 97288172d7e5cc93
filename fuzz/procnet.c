/* libFuzzer: the /proc/net/raw{,6} parser and the sockstat digest (sampler/procnet.h).
 * Byte 0: bit 0 picks IPv4 or IPv6; the rest is the file's text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	procnet_parse_raw(text, data[0] & 1 ? SKF_IPV6 : SKF_IPV4, fuzz_procnet_check, NULL);
	(void)procnet_sockstat_digest(text, text);
	free(text);
	return 0;
}
