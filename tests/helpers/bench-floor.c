/* bench-floor: the floor for `make bench`: a bare sock_diag poller with no table, no
 * store, no change detection. One dump socket per namespace, made once by setns (as
 * clawss does); then every INTERVAL_MS, for each namespace, a TCP dump of IPv4 and IPv6
 * with tcp_info, parsed by sampler/diag.c and counted.
 *
 *   bench-floor [-i INTERVAL_MS] [-r ROUNDS] [-k tcp|all] PID...
 *
 * -k all dumps what a clawss poll dumps (TCP and UDP of both families, PACKET, RAW of
 * both families from /proc/net/raw{,6}): the share of a poll that is kernel work.
 * Prints one line: polls (namespace-polls), sockets seen per round, CPU seconds of the
 * rounds (CLOCK_PROCESS_CPUTIME_ID; setup excluded) and microseconds per namespace-poll. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sampler/diag.h"
#include "sampler/procnet.h"

#define PROC_BUF (64 << 10)

struct ns {
	struct diag *d;
	int raw_fd[2];
};

static void die(const char *what)
{
	fprintf(stderr, "bench-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int count_cb(void *arg, const struct sk *s)
{
	(void)s;
	(*(unsigned long *)arg)++;
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int interval_ms = 100, rounds = 10, all = 0, opt;
	while ((opt = getopt(argc, argv, "i:r:k:")) != -1) {
		switch (opt) {
		case 'i': interval_ms = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'k': all = strcmp(optarg, "all") == 0; break;
		default:
			fprintf(stderr, "usage: bench-floor [-i MS] [-r ROUNDS] [-k tcp|all] PID...\n");
			return 2;
		}
	}
	int n = argc - optind;
	if (n < 1 || rounds < 1 || interval_ms < 0) {
		fprintf(stderr, "bench-floor: no namespace given\n");
		return 2;
	}
	struct ns *v = calloc((size_t)n, sizeof(*v));
	char *buf = malloc(PROC_BUF);
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!v || !buf || home < 0)
		die("setup");
	for (int i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%s/ns/net", argv[optind + i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			die(path);
		close(fd);
		v[i].d = diag_open();
		v[i].raw_fd[0] = open("/proc/self/net/raw", O_RDONLY | O_CLOEXEC);
		v[i].raw_fd[1] = open("/proc/self/net/raw6", O_RDONLY | O_CLOEXEC);
		if (setns(home, CLONE_NEWNET) < 0)
			die("setns home");
		if (!v[i].d)
			die("diag_open");
	}
	unsigned long seen = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	double c0 = cpu_now();
	for (int r = 0; r < rounds; r++) {
		seen = 0;
		for (int i = 0; i < n; i++) {
			if (diag_dump(v[i].d, SK_TCP, SKF_IPV4, count_cb, &seen) < 0 ||
			    diag_dump(v[i].d, SK_TCP, SKF_IPV6, count_cb, &seen) < 0)
				die("tcp dump");
			if (!all)
				continue;
			if (diag_dump(v[i].d, SK_UDP, SKF_IPV4, count_cb, &seen) < 0 ||
			    diag_dump(v[i].d, SK_UDP, SKF_IPV6, count_cb, &seen) < 0 ||
			    diag_dump(v[i].d, SK_PACKET, 0, count_cb, &seen) < 0)
				die("udp/packet dump");
			for (int f = 0; f < 2; f++)
				if (v[i].raw_fd[f] >= 0 && procnet_read(v[i].raw_fd[f], buf, PROC_BUF) >= 0)
					procnet_parse_raw(buf, f ? SKF_IPV6 : SKF_IPV4, count_cb, &seen);
		}
		if (r + 1 == rounds || !interval_ms)
			continue;
		next.tv_nsec += (long)(interval_ms % 1000) * 1000000L;
		next.tv_sec += interval_ms / 1000 + next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	double cpu = cpu_now() - c0;
	long polls = (long)rounds * n;
	printf("polls=%ld sockets=%lu cpu=%.6f us_per_poll=%.1f\n", polls, seen, cpu,
	       cpu * 1e6 / (double)polls);
	return 0;
}
