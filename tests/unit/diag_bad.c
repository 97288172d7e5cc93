/* The sock_diag decoder on malformed and hostile buffers (a container's root can send
 * netlink messages to clawss's sockets in its namespace; diag.c drops any not from the
 * kernel, and the decoder must hold anyway): never a crash, never a made-up socket. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include "tests/tap.h"
#include "sampler/diag.h"

static int nsocks;

static int count(void *arg, const struct sk *s)
{
	(void)arg, (void)s;
	nsocks++;
	return 0;
}

/* diag_parse over a heap copy of exactly len bytes: a read past the message is a read
 * past the allocation, which ASan and valgrind report (inside a large static buffer it
 * would read zeros and pass). Counts the sockets into nsocks. */
static int parse_exact(const void *msg, size_t len, int proto)
{
	void *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, msg, len);
	nsocks = 0;
	int rc = diag_parse(copy, len, proto, count, NULL);
	free(copy);
	return rc;
}

/* An inet_diag message for a TCP socket, as a dump reply or a notification has it. */
static size_t put_inet(uint8_t *buf, uint32_t nlmsg_len_override, int with_proto_attr)
{
	struct nlmsghdr *h = (void *)buf;
	struct inet_diag_msg *m = (void *)(buf + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*m));
	memset(buf, 0, len + 8);
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->idiag_family = AF_INET;
	m->idiag_state = 1;
	m->id.idiag_sport = htons(40000);
	m->id.idiag_dport = htons(443);
	m->id.idiag_cookie[0] = 7;
	m->idiag_inode = 99;
	if (with_proto_attr) {
		struct nlattr *a = (void *)(buf + len);
		a->nla_len = NLA_HDRLEN + 1;
		a->nla_type = INET_DIAG_PROTOCOL;
		buf[len + NLA_HDRLEN] = IPPROTO_TCP;
		len += NLA_ALIGN(a->nla_len);
	}
	h->nlmsg_len = nlmsg_len_override ? nlmsg_len_override : (uint32_t)len;
	return len;
}

int main(void)
{
	static uint8_t buf[8192] __attribute__((aligned(8)));
	size_t n;
	int rc;

	tap_plan(12);

	n = put_inet(buf, 0, 0);
	rc = parse_exact(buf, n, SK_TCP);
	ok(rc == 0 && nsocks == 1, "a well-formed message decodes (the control)");

	rc = parse_exact(buf, n, 0);
	ok(rc < 0 && nsocks == 0, "a notification without INET_DIAG_PROTOCOL is refused");

	n = put_inet(buf, 0, 1);
	rc = parse_exact(buf, n, 0);
	ok(rc == 0 && nsocks == 1, "a notification with INET_DIAG_PROTOCOL decodes");

	/* lengths libmnl 1.0.4 casts to int: 2 GiB and more would step out of the buffer.
	 * The first message still decodes; the second is not walked, so the result is
	 * exactly one socket (a walk past the end would be seen by ASan/valgrind). */
	static const uint32_t huge[] = { 0x80000000u, 0x90000000u, 0x96969696u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		size_t first = put_inet(buf, 0, 1);
		put_inet(buf + first, huge[i], 1);
		rc = parse_exact(buf, first + 64, 0);
		ok(rc == 0 && nsocks == 1, "a second header claiming %#x bytes is not walked (rc %d, %d sockets)",
		   huge[i], rc, nsocks);
	}

	n = put_inet(buf, 8, 0);
	rc = parse_exact(buf, n, SK_TCP);
	ok(rc == 0 && nsocks == 0, "an nlmsg_len shorter than the header makes no socket (rc %d)", rc);

	n = put_inet(buf, NLMSG_HDRLEN + 4, 0);
	rc = parse_exact(buf, NLMSG_HDRLEN + 4, SK_TCP);
	ok(rc < 0 && nsocks == 0, "a payload shorter than inet_diag_msg is refused");

	/* an attribute claiming more than the message holds: the attribute walk stops, so
	 * INET_DIAG_PROTOCOL is never found and the notification is refused */
	n = put_inet(buf, 0, 1);
	((struct nlattr *)(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg))))->nla_len = 4000;
	rc = parse_exact(buf, n, 0);
	ok(rc < 0 && nsocks == 0, "an attribute longer than its message is not read past the end (rc %d, %d sockets)",
	   rc, nsocks);

	/* NLMSG_ERROR and a DONE carrying an error: errors, not "no sockets" */
	struct { struct nlmsghdr h; int err; } done = { { sizeof(done), NLMSG_DONE, 0, 0, 0 }, -ENOENT };
	errno = 0;
	rc = diag_parse(&done, sizeof(done), SK_RAW, count, NULL);
	ok(rc < 0 && errno == ENOENT, "a DONE carrying ENOENT is an error (no raw_diag)");

	struct { struct nlmsghdr h; int err; } trunc = { { sizeof(struct nlmsghdr) + 2, NLMSG_ERROR, 0, 0, 0 }, 0 };
	rc = parse_exact(&trunc, sizeof(trunc.h) + 2, SK_TCP);
	ok(rc < 0, "a truncated NLMSG_ERROR is refused");

	return tap_done();
}
