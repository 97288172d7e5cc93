/* sock_diag against the running kernel, in a network namespace of the test's own
 * (unshare): the one-walk dump of both TCP families (DIAG_BOTH_FAMILIES, the old
 * TCPDIAG_GETSOCK request) must return exactly what the two one-family dumps return.
 * Needs root (CAP_SYS_ADMIN for unshare); skips when not root. As root a failing
 * unshare is a failure, not a skip. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tests/tap.h"
#include "sampler/diag.h"

#define MAXS 256

struct got {
	struct sk v[MAXS];
	int n;
};

static int collect(void *arg, const struct sk *s)
{
	struct got *g = arg;
	if (g->n < MAXS)
		g->v[g->n++] = *s;
	return 0;
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;
	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

/* a listener on the loopback of family af, a connection to it, the accepted end */
static int pair(int af, int fds[3])
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (af == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	fds[0] = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds[1] = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || fds[1] < 0 || bind(fds[0], (void *)&ss, len) < 0 ||
	    listen(fds[0], 8) < 0 || getsockname(fds[0], (void *)&ss, &len) < 0 ||
	    connect(fds[1], (void *)&ss, len) < 0)
		return -1;
	fds[2] = accept(fds[0], NULL, NULL);
	return fds[2] < 0 ? -1 : 0;
}

static int has_cookie(const struct got *g, uint64_t cookie)
{
	for (int i = 0; i < g->n; i++)
		if (g->v[i].cookie == cookie)
			return 1;
	return 0;
}

int main(void)
{
	struct got both = { 0 }, one = { 0 };
	int fds4[3], fds6[3];

	tap_plan(7);
	if (geteuid() != 0) {
		tap_skip(7, "needs root to make a network namespace");
		return tap_done();
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("Bail out! unshare(CLONE_NEWNET) as root: %s\n", strerror(errno));
		return 1;
	}
	if (lo_up() < 0 || pair(AF_INET, fds4) < 0 || pair(AF_INET6, fds6) < 0) {
		perror("loopback sockets");
		return 1;
	}
	struct diag *d = diag_open();
	ok(d != NULL, "dump socket in the test's namespace");
	if (!d)
		return 1;
	is_int(diag_dump(d, SK_TCP, DIAG_BOTH_FAMILIES, collect, &both), 0,
	       "one dump for both TCP families");
	is_int(diag_dump(d, SK_TCP, SKF_IPV4, collect, &one), 0, "IPv4 TCP dump");
	is_int(diag_dump(d, SK_TCP, SKF_IPV6, collect, &one), 0, "IPv6 TCP dump");
	is_int(both.n, 6, "both families: three IPv4 and three IPv6 sockets");
	int same = both.n == one.n, v4 = 0, v6 = 0, bytes = 0;
	for (int i = 0; i < both.n; i++) {
		same &= has_cookie(&one, both.v[i].cookie);
		v4 += both.v[i].family == SKF_IPV4;
		v6 += both.v[i].family == SKF_IPV6;
		bytes += both.v[i].proto == SK_TCP && !!(both.v[i].have & SK_HAVE_BYTES);
	}
	ok(same && v4 == 3 && v6 == 3, "the same sockets as the two one-family dumps");
	is_int(bytes, 6, "tcp_info (byte counters) for every socket, as in one-family dumps");
	diag_close(d);
	return tap_done();
}
