/* libFuzzer: unix_diag replies (sampler/unixdiag.h): each netlink message of the input
 * is decoded as a dump's would be, and the decoded sockets go through the outside rule.
 * The input is a buffer as recv() returns it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include "sampler/unixdiag.h"

static int fuzz_unixdiag_check(void *arg, const struct ux *s, const struct ux *p)
{
	(void)arg;
	if (!s->peer || (p && p->ino != s->peer) || strlen(s->name) >= sizeof(s->name))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ux v[64];
	size_t n = 0, off = 0;
	/* an aligned copy of exactly size bytes, as recv() would fill */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	while (size - off >= sizeof(struct nlmsghdr) && n < 64) {
		const struct nlmsghdr *nlh = (const void *)(buf + off);
		if (off % 4)
			break;
		int rc = unixdiag_decode(nlh, size - off, &v[n]);
		if (rc < 0 || nlh->nlmsg_len < sizeof(*nlh))
			break;
		n += (size_t)rc;
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step > size - off)
			break;
		off += step;
	}
	unixdiag_outside(v, n, fuzz_unixdiag_check, NULL);
	free(buf);
	return 0;
}
