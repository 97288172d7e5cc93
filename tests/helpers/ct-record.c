/* Records real ctnetlink event messages as fixtures (the fuzz corpus fuzz/corpus/ct and
 * tests/unit/ct.c). Run as root inside a namespace whose conntrack is on (a table with
 * a ct rule) and counting: `ip netns exec NS ct-record DIR N`; it writes the next N
 * buffers exactly as recvmsg returned them, one file each (DIR/event-NN). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ct-record DIR N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK,
				 .nl_groups = (1u << (NFNLGRP_CONNTRACK_NEW - 1)) |
					      (1u << (NFNLGRP_CONNTRACK_DESTROY - 1)) };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("ct-record: socket");
		return 1;
	}
	printf("recording\n");
	fflush(stdout);
	static char buf[65536];
	for (int i = 0; i < n; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0)
			break;
		char path[4096];
		snprintf(path, sizeof(path), "%s/event-%02d", argv[1], i);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}
