/* unix_diag: decoding replies built as the kernel builds them (sk_diag_fill), bad
 * lengths, and the rule that tells a unix socket connected outside its namespace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <libmnl/libmnl.h>
#include "../tap.h"
#include "sampler/unixdiag.h"

#define EST 1
#define LISTEN 10
#define CLOSE 7

struct spec {
	uint32_t ino, peer, vfs_ino;
	uint8_t type, state;
	const char *name;        /* NULL: unbound; a leading '@' is an abstract name */
	int uid;                 /* -1: no UNIX_DIAG_UID */
};

static size_t build(char *buf, const struct spec *s)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	struct unix_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->udiag_family = AF_UNIX;
	m->udiag_type = s->type;
	m->udiag_state = s->state;
	m->udiag_ino = s->ino;
	m->udiag_cookie[0] = s->ino * 16 + 1;
	m->udiag_cookie[1] = 0;
	if (s->name) {
		char path[108];
		size_t n = strlen(s->name);
		memcpy(path, s->name, n);
		if (path[0] == '@')
			path[0] = '\0';
		mnl_attr_put(nlh, UNIX_DIAG_NAME, n, path);
	}
	if (s->vfs_ino) {
		struct unix_diag_vfs v = { .udiag_vfs_ino = s->vfs_ino, .udiag_vfs_dev = 0x803 };
		mnl_attr_put(nlh, UNIX_DIAG_VFS, sizeof(v), &v);
	}
	if (s->peer)
		mnl_attr_put_u32(nlh, UNIX_DIAG_PEER, s->peer);
	if (s->uid >= 0)
		mnl_attr_put_u32(nlh, UNIX_DIAG_UID, (uint32_t)s->uid);
	return nlh->nlmsg_len;
}

static void decode(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct ux u;
	struct spec s = { .ino = 1234, .peer = 99, .vfs_ino = 55, .type = SOCK_STREAM,
			  .state = EST, .name = "/run/docker.sock", .uid = 1000 };
	size_t n = build(buf, &s);
	is_int(unixdiag_decode(buf, n, &u), 1, "a reply decodes");
	ok(u.ino == 1234 && u.peer == 99 && u.type == SOCK_STREAM && u.state == EST,
	   "inode, peer, type, state");
	is_int((long long)u.cookie, 1234 * 16 + 1, "cookie");
	is_str(u.name, "/run/docker.sock", "path name");
	ok(u.have_vfs && u.vfs_ino == 55 && u.vfs_dev == 0x803, "vfs inode and device");
	ok(u.have_uid && u.uid == 1000, "uid");

	struct spec a = { .ino = 7, .type = SOCK_STREAM, .state = LISTEN, .name = "@abs\001x",
			  .uid = -1 };
	n = build(buf, &a);
	is_int(unixdiag_decode(buf, n, &u), 1, "an abstract listener decodes");
	is_str(u.name, "@abs\001x", "abstract name shown with @ (printers escape the rest)");
	ok(!u.have_uid && !u.have_vfs && !u.peer, "no uid, vfs, peer");

	/* a 108-byte path, the longest sun_path: kept whole */
	char longp[109];
	memset(longp, 'p', 108);
	longp[0] = '/';
	longp[108] = '\0';
	struct spec l = { .ino = 8, .type = SOCK_DGRAM, .state = CLOSE, .name = longp, .uid = 0 };
	n = build(buf, &l);
	is_int(unixdiag_decode(buf, n, &u), 1, "the longest path decodes");
	is_int((long long)strlen(u.name), 108, "and is kept whole");

	/* bad lengths */
	n = build(buf, &s);
	is_int(unixdiag_decode(buf, 8, &u), -1, "shorter than a netlink header");
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)n + 4;
	is_int(unixdiag_decode(buf, n, &u), -1, "nlmsg_len beyond the buffer");
	nlh->nlmsg_len = sizeof(*nlh) + 4;
	is_int(unixdiag_decode(buf, n, &u), -1, "payload shorter than unix_diag_msg");
	/* a VFS attribute too short to hold struct unix_diag_vfs */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	struct unix_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->udiag_family = AF_UNIX;
	mnl_attr_put_u32(nlh, UNIX_DIAG_VFS, 5);
	is_int(unixdiag_decode(buf, nlh->nlmsg_len, &u), -1, "short UNIX_DIAG_VFS refused");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->udiag_family = AF_UNIX;
	mnl_attr_put_u16(nlh, UNIX_DIAG_PEER, 5);
	is_int(unixdiag_decode(buf, nlh->nlmsg_len, &u), -1, "a 2-byte UNIX_DIAG_PEER refused");
	/* an attribute whose length runs past the message: not read */
	n = build(buf, &s);
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len -= 6;
	ok(unixdiag_decode(buf, nlh->nlmsg_len, &u) == 1 && !u.have_uid,
	   "a truncated last attribute is not read");
	m = mnl_nlmsg_get_payload(build(buf, &s) ? (struct nlmsghdr *)buf : NULL);
	m->udiag_family = AF_INET;
	is_int(unixdiag_decode(buf, ((struct nlmsghdr *)buf)->nlmsg_len, &u), -1,
	       "another family refused");
	((struct nlmsghdr *)buf)->nlmsg_type = NLMSG_DONE;
	is_int(unixdiag_decode(buf, ((struct nlmsghdr *)buf)->nlmsg_len, &u), 0,
	       "not a sock_diag message: skipped");
}

static uint32_t seen[16];
static uint32_t seen_peer_name[16];
static int nseen;

static int outside_cb(void *arg, const struct ux *s, const struct ux *p)
{
	(void)arg;
	if (nseen < 16) {
		seen[nseen] = s->ino;
		seen_peer_name[nseen] = p ? p->ino : 0;
	}
	nseen++;
	return 0;
}

static int run(const struct spec *specs, size_t n)
{
	struct ux v[16];
	char buf[512] __attribute__((aligned(8)));
	for (size_t i = 0; i < n; i++) {
		size_t len = build(buf, &specs[i]);
		if (unixdiag_decode(buf, len, &v[i]) != 1)
			return -1;
	}
	nseen = 0;
	return unixdiag_outside(v, n, outside_cb, NULL);
}

static void rule(void)
{
	/* a container client connected to a host listener: its dump holds the client and
	 * the server's end (created in the client's namespace, carrying the listener's
	 * name and file), not the listener */
	struct spec host[] = {
		{ 31, 0, 0, SOCK_STREAM, CLOSE, NULL, 0 },          /* unrelated */
		{ 20, 21, 0, SOCK_STREAM, EST, NULL, 0 },           /* client */
		{ 21, 20, 500, SOCK_STREAM, EST, "/run/docker.sock", 0 },
	};
	is_int(run(host, 3), 0, "host listener case runs");
	ok(nseen == 1 && seen[0] == 20 && seen_peer_name[0] == 21,
	   "the client is outside, its peer (the server end) gives the path");

	/* a socketpair inside: neither */
	struct spec pair[] = {
		{ 40, 41, 0, SOCK_STREAM, EST, NULL, 0 },
		{ 41, 40, 0, SOCK_STREAM, EST, NULL, 0 },
	};
	run(pair, 2);
	is_int(nseen, 0, "a socketpair is not outside");

	/* a connection to a listener of the namespace itself: neither end */
	struct spec own[] = {
		{ 50, 0, 600, SOCK_STREAM, LISTEN, "/tmp/own.sock", 0 },
		{ 52, 51, 600, SOCK_STREAM, EST, "/tmp/own.sock", 0 }, /* accepted */
		{ 51, 52, 0, SOCK_STREAM, EST, NULL, 0 },             /* client */
	};
	run(own, 3);
	is_int(nseen, 0, "a connection to the namespace's own listener is not outside");

	/* the same path name, but the listener here is another file: outside */
	struct spec other[] = {
		{ 60, 0, 601, SOCK_STREAM, LISTEN, "/tmp/x.sock", 0 },
		{ 61, 62, 0, SOCK_STREAM, EST, NULL, 0 },
		{ 62, 61, 700, SOCK_STREAM, EST, "/tmp/x.sock", 0 },
	};
	run(other, 3);
	ok(nseen == 1 && seen[0] == 61, "matched by file (vfs), not by name");

	/* a datagram socket connected to a host socket (/dev/log): the peer is not here */
	struct spec dgram[] = {
		{ 70, 9999, 0, SOCK_DGRAM, EST, NULL, 0 },
		{ 71, 72, 0, SOCK_DGRAM, EST, NULL, 0 },
		{ 72, 0, 800, SOCK_DGRAM, CLOSE, "/dev/log", 0 },   /* a receiver of its own */
	};
	run(dgram, 3);
	ok(nseen == 1 && seen[0] == 70 && seen_peer_name[0] == 0,
	   "a datagram socket whose peer is elsewhere is outside; one to a receiver here not");

	/* a client bound to a file of its own: only the older end (the client) is a row */
	struct spec bound[] = {
		{ 90, 91, 901, SOCK_STREAM, EST, "/tmp/client.sock", 0 },
		{ 91, 90, 900, SOCK_STREAM, EST, "/run/agent.sock", 0 },
	};
	run(bound, 2);
	ok(nseen == 1 && seen[0] == 90, "both ends bound: the client alone");

	/* not yet accepted: the server end has no inode yet, the client no peer */
	struct spec pending[] = {
		{ 95, 0, 0, SOCK_STREAM, EST, NULL, 0 },
		{ 0, 95, 910, SOCK_STREAM, EST, "/run/agent.sock", 0 },
	};
	run(pending, 2);
	is_int(nseen, 0, "before accept nothing is told");
	is_int(run(NULL, 0), 0, "an empty namespace");
	is_int(nseen, 0, "has nothing outside");

	/* thousands of listeners and connections of its own, and one to the outside: the
	 * listeners' files are looked up sorted, once per candidate */
	size_t n = 3 * 3000 + 2;
	struct ux *v = calloc(n, sizeof(*v));
	for (uint32_t i = 0; i < 3000; i++) {
		uint32_t base = 1000 + i * 3;
		v[i * 3] = (struct ux){ .ino = base, .type = SOCK_STREAM, .state = LISTEN,
					.vfs_ino = 50000 + i, .have_vfs = 1 };
		v[i * 3 + 1] = (struct ux){ .ino = base + 1, .peer = base + 2, .type = SOCK_STREAM,
					    .state = EST };
		v[i * 3 + 2] = (struct ux){ .ino = base + 2, .peer = base + 1, .type = SOCK_STREAM,
					    .state = EST, .vfs_ino = 50000 + (2999 - i),
					    .have_vfs = 1 };
	}
	v[n - 2] = (struct ux){ .ino = 900, .peer = 901, .type = SOCK_STREAM, .state = EST };
	v[n - 1] = (struct ux){ .ino = 901, .peer = 900, .type = SOCK_STREAM, .state = EST,
				.vfs_ino = 99999, .have_vfs = 1 };
	nseen = 0;
	is_int(unixdiag_outside(v, n, outside_cb, NULL), 0, "9002 sockets walk");
	ok(nseen == 1 && seen[0] == 900, "only the one to a listener outside (%d)", nseen);
	free(v);
}

static int rec_cb(void *arg, const struct ux *s, const struct ux *p)
{
	(void)s;
	snprintf(arg, 128, "%s", p ? p->name : "?");
	nseen++;
	return 0;
}

/* A dump recorded in a namespace whose process was connected to a listener outside
 * it (fuzz/corpus/unixdiag/dump-0: also a socketpair and an abstract datagram socket). */
static void recorded(void)
{
	const char *src = getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".";
	char path[512], name[128] = "";
	static char buf[65536] __attribute__((aligned(8)));
	struct ux v[16];
	size_t n = 0, len = 0, off = 0;
	snprintf(path, sizeof(path), "%s/fuzz/corpus/unixdiag/dump-0", src);
	FILE *f = fopen(path, "rb");
	if (f) {
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	ok(len > 0, "recorded dump read (%zu bytes)", len);
	while (len - off >= sizeof(struct nlmsghdr) && n < 16) {
		const struct nlmsghdr *nlh = (const void *)(buf + off);
		if (unixdiag_decode(nlh, len - off, &v[n]) == 1)
			n++;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	is_int(n, 5, "five sockets: client, server end, a pair, a datagram socket");
	nseen = 0;
	unixdiag_outside(v, n, rec_cb, name);
	is_int(nseen, 1, "one is connected outside");
	ok(strstr(name, "/u.sock") != NULL, "its peer is the host listener's path (%s)", name);
}

int main(void)
{
	decode();
	rule();
	recorded();
	return tap_done_testing();
}
