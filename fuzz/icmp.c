/* libFuzzer: the /proc/net/icmp{,6} parser of ping sockets (sampler/icmp.h).
 * Byte 0: bit 0 picks IPv4 or IPv6; the rest is the file's text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/icmp.h"

static int fuzz_icmp_check(void *arg, const struct sk *s)
{
	(void)arg;
	if (s->proto != SK_ICMP || !(s->cookie & SK_COOKIE_INODE) || !s->state ||
	    s->state > SKS_NEW_SYN_RECV)
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
	icmp_parse(text, data[0] & 1 ? SKF_IPV6 : SKF_IPV4, fuzz_icmp_check, NULL);
	free(text);
	return 0;
}
