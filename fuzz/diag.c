/* libFuzzer: the sock_diag decoder (sampler/diag.h diag_parse) on buffers as recv()
 * returns them. Byte 0 picks what was asked for (0 notifications, 1 TCP, 2 UDP, 3 RAW,
 * 4 PACKET), the rest is the buffer. Every socket decoded must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/diag.h"

static int fuzz_diag_check(void *arg, const struct sk *s)
{
	(void)arg;
	if (s->proto < SK_TCP || s->proto > SK_PACKET)
		abort();
	if (s->family != SKF_IPV4 && s->family != SKF_IPV6 && s->family != SKF_PACKET)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* a netlink buffer as recv() fills it: aligned, in its own allocation */
	void *buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	diag_parse(buf, size - 1, data[0] % 5, fuzz_diag_check, NULL);
	free(buf);
	return 0;
}
