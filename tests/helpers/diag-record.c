/* Records real sock_diag replies as fixtures for tests/unit/diag.c (the ss -D idea).
 * Run as root inside a fresh namespace: `ip netns exec NS diag-record DIR`. It makes a
 * known set of sockets, dumps them, then closes two connections (one with FIN, one with
 * RST) and records the destroy notifications. Files: DIR/{tcp4,tcp6,udp4,packet,destroy}.bin,
 * each a sequence of (u32 length, bytes) records exactly as recv() returned them. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sampler/diag.h"

static void tap(void *arg, const void *buf, size_t len)
{
	FILE *f = arg;
	uint32_t l = (uint32_t)len;
	fwrite(&l, sizeof(l), 1, f);
	fwrite(buf, 1, len, f);
}

static int count_cb(void *arg, const struct sk *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "diag-record: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int tcp_listen(int family, const char *addr, int port)
{
	int s = socket(family, SOCK_STREAM, 0), one = 1;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (bind(s, (void *)&ss, len) < 0 || listen(s, 16) < 0)
		die("listen");
	return s;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, addr, &a.sin_addr);
	if (connect(s, (void *)&a, sizeof(a)) < 0)
		die("connect");
	return s;
}

static void record(const char *dir, const char *name, struct diag *d, int proto, int fam)
{
	char path[512];
	int n = 0;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path);
	diag_set_tap(d, tap, f);
	if (diag_dump(d, proto, fam, count_cb, &n) < 0)
		die(name);
	diag_set_tap(d, NULL, NULL);
	fclose(f);
	printf("%s: %d sockets\n", name, n);
}

int main(int argc, char **argv)
{
	char buf[5000];
	if (argc != 2) {
		fprintf(stderr, "usage: diag-record DIR\n");
		return 2;
	}
	struct diag *d = diag_open(), *ev = diag_open_destroy();
	if (!d || !ev)
		die("sock_diag");
	int l4 = tcp_listen(AF_INET, "127.0.0.1", 7000);
	int l6 = tcp_listen(AF_INET6, "::1", 7001);
	int c1 = tcp_connect("127.0.0.1", 7000), a1 = accept(l4, NULL, NULL);
	int c2 = tcp_connect("127.0.0.1", 7000), a2 = accept(l4, NULL, NULL);
	memset(buf, 'x', sizeof(buf));
	if (write(c1, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    read(a1, buf, sizeof(buf)) <= 0)
		die("transfer");
	usleep(100000);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(5353) };
	inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
	if (connect(u, (void *)&ua, sizeof(ua)) < 0)
		die("udp connect");
	int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (p < 0)
		die("packet socket");

	record(argv[1], "tcp4", d, SK_TCP, SKF_IPV4);
	record(argv[1], "tcp6", d, SK_TCP, SKF_IPV6);
	record(argv[1], "udp4", d, SK_UDP, SKF_IPV4);
	record(argv[1], "packet", d, SK_PACKET, 0);

	/* c1 closes with FIN after sending 5000 bytes; c2 with RST (SO_LINGER 0) */
	struct linger lg = { 1, 0 };
	setsockopt(c2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c2);
	close(a2);
	close(c1);
	close(a1);
	close(u);
	usleep(300000);
	char path[512];
	snprintf(path, sizeof(path), "%s/destroy.bin", argv[1]);
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path);
	diag_set_tap(ev, tap, f);
	int n = 0, lost = 0;
	struct pollfd pfd = { diag_fd(ev), POLLIN, 0 };
	while (poll(&pfd, 1, 200) > 0) {
		int k = diag_read_destroy(ev, count_cb, &n, &lost);
		if (k <= 0)
			break;
	}
	fclose(f);
	printf("destroy: %d notifications\n", n);
	close(p);
	close(l4);
	close(l6);
	diag_close(d);
	diag_close(ev);
	return 0;
}
