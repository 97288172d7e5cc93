/* libFuzzer: the conntrack event decoder (sampler/ct.h ct_parse: libnetfilter_conntrack's
 * parse, then clawss's conversion to a struct ctflow) on buffers as recvmsg returns
 * them. Every flow decoded must be self-consistent. libnetfilter_conntrack 1.0.9
 * exit()s on an attribute of the wrong size (it calls that an ABI break; libFuzzer said
 * "fuzz target exited"): it no longer can, since sampler/ct.c gives it only a copy of
 * the attributes clawss reads, each checked first as the library checks it, and skips a
 * message with one of the wrong size (fuzz/regressions/ct/top-attr-wrong-size-lib-exit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/sock.h"
#include "sampler/ct.h"

static int fuzz_ct_check(void *arg, const struct ctflow *f)
{
	(void)arg;
	if (f->proto != SK_TCP && f->proto != SK_UDP && f->proto != SK_ICMP)
		abort();
	if (f->family != SKF_IPV4 && f->family != SKF_IPV6)
		abort();
	if (f->event < CT_NEW || f->event > CT_UPDATE)
		abort();
	if (f->proto == SK_ICMP && f->dport != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a netlink buffer as recvmsg fills it: aligned, in its own allocation */
	void *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ct_parse(buf, size, fuzz_ct_check, NULL);
	free(buf);
	return 0;
}
