/* bench-rst: short-lived connections for `make bench` ("nothing missed"). Only talks to
 * the address it is given, which the bench assigns inside namespaces it made.
 *
 *   bench-rst serve ADDR PORT             accept connections and close them when the
 *                                         peer does, until killed
 *   bench-rst gen ADDR PORT RATE COUNT [LIFE_US]
 *        COUNT connections at RATE per second (paced per millisecond), each closed with
 *        RST (SO_LINGER 0) LIFE_US (default 1000) after it was established. Prints
 *        "generated N failed M seconds S rate R". Bounded: gives up after
 *        COUNT/RATE*3+5 seconds. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bench-rst: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in addr_of(const char *addr, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "bench-rst: bad IPv4 address %s\n", addr);
		exit(2);
	}
	return a;
}

static __attribute__((noreturn)) void serve(const char *addr, const char *port)
{
	struct sockaddr_in a = addr_of(addr, port);
	int one = 1, lst = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lst, 4096) < 0)
		die("listen");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN, .data.fd = lst };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lst, &e) < 0)
		die("epoll");
	printf("serving\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lst) {
				int c;
				while ((c = accept4(lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce) < 0)
						close(c);
				}
				continue;
			}
			char buf[512];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0 && !(r < 0 && errno == EAGAIN))
				close(fd);  /* closing removes it from the epoll set */
		}
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct live {
	int fd;
	double at;
};

static int gen(const char *addr, const char *port, long rate, long count, long life_us)
{
	struct sockaddr_in a = addr_of(addr, port);
	struct linger lg = { 1, 0 };
	long made = 0, failed = 0;
	size_t cap = (size_t)(rate / 100 + 64), head = 0, tail = 0;
	struct live *ring = calloc(cap, sizeof(*ring));
	double life = (double)life_us / 1e6, t0 = mono();
	double limit = t0 + (double)count / (double)rate * 3 + 5;
	if (!ring || rate < 1 || count < 1)
		die("arguments");
	for (long slot = 0; made + failed < count || head != tail; slot++) {
		double now = mono();
		if (now > limit)
			break;
		/* close those whose life is over */
		while (head != tail && now - ring[head].at >= life) {
			setsockopt(ring[head].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(ring[head].fd);
			head = (head + 1) % cap;
		}
		/* open this millisecond's share, keeping to the rate overall */
		long due = (long)((now - t0) * (double)rate) + 1;
		while (made + failed < count && made + failed < due && (tail + 1) % cap != head) {
			int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
				if (c >= 0)
					close(c);
				failed++;
				continue;
			}
			ring[tail].fd = c;
			ring[tail].at = mono();
			tail = (tail + 1) % cap;
			made++;
		}
		struct timespec ts = { 0, 200000 };  /* 0.2 ms */
		nanosleep(&ts, NULL);
	}
	double secs = mono() - t0;
	printf("generated %ld failed %ld seconds %.3f rate %.0f\n", made, failed, secs,
	       (double)made / secs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		serve(argv[2], argv[3]);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], argv[3], atol(argv[4]), atol(argv[5]),
			   argc == 7 ? atol(argv[6]) : 1000);
	fprintf(stderr, "usage: bench-rst serve ADDR PORT | gen ADDR PORT RATE COUNT [LIFE_US]\n");
	return 2;
}
