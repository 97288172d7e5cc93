/* libFuzzer: the /proc/net/icmp{,6} parser of ping sockets (sampler/icmp.h).
 * The input: proctext.h. */
#include <stdint.h>
#include <stdlib.h>
#include "proctext.h"
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
	return fuzz_proc_table(data, size, icmp_parse, fuzz_icmp_check, NULL);
}
