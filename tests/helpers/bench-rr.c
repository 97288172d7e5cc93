/* bench-rr: a 1-byte TCP request/response loop, for the flow view's cost in `make bench`.
 *   bench-rr serve ADDR PORT        answer each byte with one byte, until killed
 *   bench-rr run ADDR PORT SECONDS  one connection, request/response for SECONDS;
 *                                   prints "rr N" (transactions per second)
 * Only talks to the address it is given (a namespace the bench made). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int addr_of(const char *a, const char *p, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(p));
	return inet_pton(AF_INET, a, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int one = 1;
	char c = 'x';
	if (argc < 4 || addr_of(argv[2], argv[3], &sa) < 0) {
		fprintf(stderr, "usage: bench-rr serve|run ADDR PORT [SECONDS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "serve") == 0) {
		int l = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 16) < 0) {
			perror("bench-rr: listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			int s = accept(l, NULL, NULL);
			if (s < 0)
				continue;
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			while (read(s, &c, 1) == 1 && write(s, &c, 1) == 1)
				;
			close(s);
		}
	}
	if (argc != 5)
		return 2;
	double secs = atof(argv[4]);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("bench-rr: connect");
		return 1;
	}
	long n = 0;
	double t0 = now(), t = t0;
	while (t - t0 < secs) {
		if (write(s, &c, 1) != 1 || read(s, &c, 1) != 1) {
			perror("bench-rr");
			return 1;
		}
		if (++n % 256 == 0)
			t = now();
	}
	t = now();
	printf("rr %.0f\n", n / (t - t0));
	close(s);
	return 0;
}
