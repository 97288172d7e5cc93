/* bench-sockx: what ping and unix sockets add to a namespace's poll, for `make bench`.
 * Makes NS namespaces (children that unshare their network namespace), each holding
 * UNIX socketpairs and PING ping sockets (bound by a first send to 127.0.0.1), opens
 * the handles clawss opens (one setns in, one back), then times ROUNDS rounds over all
 * namespaces of:
 *   sockstat   the existing change detector (sockstat + sockstat6 read)
 *   icmp       /proc/net/icmp + icmp6 read whole and digested (read every tick)
 *   icmp-parse the same, parsed (what a dump adds)
 *   unix       a unix_diag dump and the outside rule (what a dump adds)
 *   tcp+udp    a TCP and a UDP dump of both families (the dump it rides along with)
 * and prints microseconds per namespace for each.
 *
 *   bench-sockx [-n NS] [-u UNIX_PAIRS] [-p PING] [-r ROUNDS] */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sampler/diag.h"
#include "sampler/icmp.h"
#include "sampler/procnet.h"
#include "sampler/unixdiag.h"

struct ns {
	pid_t pid;
	struct diag *d;
	int ss[2], icmp[2];
};

static void die(const char *what)
{
	fprintf(stderr, "bench-sockx: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int count_sk(void *arg, const struct sk *s) { (void)s; (*(long *)arg)++; return 0; }
static struct ux uxv[4096];
static size_t nux;
static int collect(void *arg, const struct ux *u)
{
	(void)arg;
	if (nux < 4096)
		uxv[nux++] = *u;
	return 0;
}
static int outside(void *arg, const struct ux *s, const struct ux *p)
{
	(void)s; (void)p;
	(*(long *)arg)++;
	return 0;
}

static void child(int ready, int pairs, int pings)
{
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare");
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0 2147483647", 12) < 0)
			die("ping_group_range");
		close(fd);
	}
	for (int i = 0; i < pairs; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			die("socketpair");
	}
	for (int i = 0; i < pings; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
		struct sockaddr_in a = { .sin_family = AF_INET };
		unsigned char echo[8] = { 8, 0, 0, 0, 0, 0, 0, 1 };
		if (s < 0)
			die("ping socket");
		/* binding is what makes it show in /proc/net/icmp; lo may be down: no send */
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			(void)sendto(s, echo, sizeof(echo), 0, (struct sockaddr *)&a, sizeof(a));
	}
	if (write(ready, "x", 1) < 0)
		die("ready");
	pause();
	_exit(0);
}

int main(int argc, char **argv)
{
	int n = 50, pairs = 10, pings = 2, rounds = 200, opt;
	while ((opt = getopt(argc, argv, "n:u:p:r:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'u': pairs = atoi(optarg); break;
		case 'p': pings = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		default: return 2;
		}
	}
	struct ns *v = calloc((size_t)n, sizeof(*v));
	int home = open("/proc/self/ns/net", O_RDONLY);
	for (int i = 0; i < n; i++) {
		int p[2];
		char c, path[64];
		if (pipe(p) < 0)
			die("pipe");
		v[i].pid = fork();
		if (v[i].pid == 0)
			child(p[1], pairs, pings);
		if (read(p[0], &c, 1) != 1)
			die("child");
		close(p[0]);
		close(p[1]);
		snprintf(path, sizeof(path), "/proc/%d/ns/net", v[i].pid);
		int nsfd = open(path, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			die("setns");
		v[i].d = diag_open();
		v[i].ss[0] = open("/proc/self/net/sockstat", O_RDONLY);
		v[i].ss[1] = open("/proc/self/net/sockstat6", O_RDONLY);
		v[i].icmp[0] = open("/proc/self/net/icmp", O_RDONLY);
		v[i].icmp[1] = open("/proc/self/net/icmp6", O_RDONLY);
		if (setns(home, CLONE_NEWNET) < 0)
			die("setns home");
		close(nsfd);
		if (!v[i].d)
			die("diag");
	}
	struct procnet_buf pb = { 0 };
	static const char *const names[] = { "sockstat", "icmp", "icmp-parse", "unix", "tcp+udp" };
	double us[5];
	long seen[5] = { 0 };
	for (int k = 0; k < 5; k++) {
		/* the inet dumps walk the host-wide tables (milliseconds on a busy host):
		 * a tenth of the rounds is enough for scale */
		int nr = k == 4 ? (rounds + 9) / 10 : rounds;
		double t0 = cpu_now();
		for (int r = 0; r < nr; r++) {
			for (int i = 0; i < n; i++) {
				switch (k) {
				case 0:
					procnet_read_all(v[i].ss[0], &pb, ICMP_READ_MAX);
					procnet_read_all(v[i].ss[1], &pb, ICMP_READ_MAX);
					break;
				case 1:
				case 2:
					for (int f = 0; f < 2; f++) {
						long len = procnet_read_all(v[i].icmp[f], &pb, ICMP_READ_MAX);
						unsigned long long h = 0xcbf29ce484222325ULL;
						for (long b = 0; b < len; b++)
							h = (h ^ (unsigned char)pb.p[b]) * 0x100000001b3ULL;
						seen[k] += h == 1;
						if (k == 2)
							icmp_parse(pb.p, f ? SKF_IPV6 : SKF_IPV4, count_sk,
								   &seen[k]);
					}
					break;
				case 3:
					nux = 0;
					unixdiag_dump(v[i].d, collect, NULL);
					unixdiag_outside(uxv, nux, outside, &seen[k]);
					seen[k] += (long)nux;
					break;
				case 4:
					diag_dump(v[i].d, SK_TCP, SKF_IPV4, count_sk, &seen[k]);
					diag_dump(v[i].d, SK_TCP, SKF_IPV6, count_sk, &seen[k]);
					diag_dump(v[i].d, SK_UDP, SKF_IPV4, count_sk, &seen[k]);
					diag_dump(v[i].d, SK_UDP, SKF_IPV6, count_sk, &seen[k]);
					break;
				}
			}
		}
		us[k] = (cpu_now() - t0) / ((double)nr * n) * 1e6;
		seen[k] = seen[k] * rounds / nr;
	}
	printf("namespaces %d, unix socketpairs/ns %d, ping sockets/ns %d, rounds %d\n", n, pairs,
	       pings, rounds);
	for (int k = 0; k < 5; k++)
		printf("%-10s %8.2f us/ns   (%ld items per round)\n", names[k], us[k],
		       seen[k] / rounds);
	for (int i = 0; i < n; i++) {
		kill(v[i].pid, SIGKILL);
		waitpid(v[i].pid, NULL, 0);
	}
	procnet_buf_free(&pb);
	return 0;
}
