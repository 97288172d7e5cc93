/* bench-ns: stand-in containers for `make bench`. Makes N network namespaces, each with
 * one process (the "container's init") that holds S TCP sockets on its own loopback: a
 * listener on 127.0.0.1:7000 and S/2 connections to it, both ends; with -6 also a
 * listener on [::1]:7000, and every other connection goes to it. Traffic never leaves
 * those namespaces (the network rule).
 *
 *   bench-ns -n N -s S [-6] [-c CHURN] [-t TICK_MS] [-f SECONDS]
 *
 * Prints each process's pid, one a line, then "sockets K" (sockets per namespace), then
 * "ready". On SIGUSR1, or a line "churn MS" on stdin, every process starts "churning":
 * every TICK_MS (-t, default 50, or MS) it closes with RST the CHURN connections
 * (default 1) it opened the tick before and opens CHURN new ones, so that something
 * changes in each namespace every tick. Ends on SIGTERM/SIGINT, when stdin (if a pipe)
 * closes, or after -f SECONDS (default 600): the processes die with it
 * (PR_SET_PDEATHSIG), and their namespaces with them, so nothing is left behind even if
 * the bench is killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 7000

static volatile sig_atomic_t churning;
static volatile int *shared_tick_ms;  /* shared with the children: set before SIGUSR1 */

static void die(const char *what)
{
	fprintf(stderr, "bench-ns: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_usr1(int sig)
{
	(void)sig;
	churning = 1;
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo");
	close(s);
}

static socklen_t addr_of(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(PORT);
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(PORT);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a);
}

static int tcp_listen(int family, int backlog)
{
	struct sockaddr_storage a;
	socklen_t len = addr_of(family, &a);
	int lst = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (lst < 0)
		die("socket");
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(lst, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(lst, (struct sockaddr *)&a, len) < 0 || listen(lst, backlog) < 0)
		die("listen");
	return lst;
}

/* one connection to our own listener lst of family; the accepted end in *acc */
static int connect_pair(int family, int lst, int *acc)
{
	struct sockaddr_storage a;
	socklen_t len = addr_of(family, &a);
	int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, len) < 0)
		die("connect");
	*acc = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	if (*acc < 0)
		die("accept");
	return c;
}

/* Each tick, the n connections of the last tick are closed with RST and n new ones
 * opened and held until the next: a poll in between sees new sockets alive (and looks
 * up their owner) and gets destroy notifications. */
static void churn(int lst, int n)
{
	static int held[2 * 64];
	static int nheld;
	struct linger lg = { 1, 0 };
	for (int i = 0; i < nheld; i++) {
		setsockopt(held[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(held[i]);
	}
	nheld = 0;
	for (int i = 0; i < n && i < 64; i++) {
		int acc, c = connect_pair(AF_INET, lst, &acc);
		held[nheld++] = c;
		held[nheld++] = acc;
	}
}

/* The container's init: its own namespace, its sockets, then wait (and churn). */
static void child(int nsock, int dual, int nchurn, int ready_fd)
{
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)");
	lo_up();
	int lst = tcp_listen(AF_INET, nsock + 64);
	int lst6 = dual ? tcp_listen(AF_INET6, nsock + 64) : -1;
	for (int i = 0; i < nsock / 2; i++) {
		int acc;
		if (dual && i % 2)
			(void)connect_pair(AF_INET6, lst6, &acc);
		else
			(void)connect_pair(AF_INET, lst, &acc);
	}
	if (write(ready_fd, "r", 1) != 1)
		die("ready");
	close(ready_fd);
	sigset_t wait_mask;
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	for (;;) {
		if (!churning) {
			sigsuspend(&wait_mask);  /* SIGUSR1 stays blocked outside: no lost wakeup */
			continue;
		}
		churn(lst, nchurn);
		int tick_ms = *shared_tick_ms;
		struct timespec ts = { tick_ms / 1000, (long)(tick_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	int nns = 1, nsock = 10, nchurn = 1, tick_ms = 50, secs = 600, dual = 0, opt;
	while ((opt = getopt(argc, argv, "n:s:6c:t:f:")) != -1) {
		switch (opt) {
		case '6': dual = 1; break;
		case 'n': nns = atoi(optarg); break;
		case 's': nsock = atoi(optarg); break;
		case 'c': nchurn = atoi(optarg); break;
		case 't': tick_ms = atoi(optarg); break;
		case 'f': secs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-ns -n N -s S [-6] [-c CHURN] [-t TICK_MS] "
				"[-f SECONDS]\n");
			return 2;
		}
	}
	if (nns < 1 || nns > 4096 || nsock < 0 || nsock > 60000 || tick_ms < 1 || secs < 1) {
		fprintf(stderr, "bench-ns: bad arguments\n");
		return 2;
	}
	struct rlimit rl = { (rlim_t)nsock + 256, (rlim_t)nsock + 256 };
	if (rl.rlim_cur > 1024 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit(RLIMIT_NOFILE)");

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask");
	shared_tick_ms = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_tick_ms == MAP_FAILED)
		die("mmap");
	*shared_tick_ms = tick_ms;
	pid_t self = getpid(), *pids = calloc((size_t)nns, sizeof(*pids));
	int ready[2];
	if (!pids || pipe2(ready, O_CLOEXEC) < 0)
		die("pipe");
	for (int i = 0; i < nns; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self)
				_exit(1);
			close(ready[0]);
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
			}
			signal(SIGUSR1, on_usr1);
			child(nsock, dual, nchurn, ready[1]);
			_exit(0);
		}
		pids[i] = p;
	}
	close(ready[1]);
	for (int got = 0; got < nns;) {
		char c;
		ssize_t n = read(ready[0], &c, 1);
		if (n == 1) {
			got++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		fprintf(stderr, "bench-ns: a namespace process failed to start\n");
		for (int i = 0; i < nns; i++)
			kill(pids[i], SIGKILL);
		return 1;
	}
	for (int i = 0; i < nns; i++)
		printf("%d\n", (int)pids[i]);
	printf("sockets %d\nready\n", 1 + dual + nsock / 2 * 2);
	fflush(stdout);

	struct stat st;
	int watch_stdin = fstat(0, &st) == 0 && S_ISFIFO(st.st_mode);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	for (int done = 0; !done;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (long)(end.tv_sec - now.tv_sec) * 1000 +
			    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0)
			break;
		/* stdin: the bench's pipe; its end (the bench died) ends us too */
		struct pollfd pf[2] = { { sfd, POLLIN, 0 }, { watch_stdin ? 0 : -1, POLLIN, 0 } };
		int n = poll(pf, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			die("poll");
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[64];
			ssize_t r = read(0, buf, sizeof(buf) - 1);
			if (r <= 0)
				break;
			buf[r] = '\0';
			int ms;
			if (sscanf(buf, "churn %d", &ms) == 1 && ms > 0) {
				*shared_tick_ms = ms;
				for (int i = 0; i < nns; i++)
					kill(pids[i], SIGUSR1);
			}
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1) {
				for (int i = 0; i < nns; i++)
					kill(pids[i], SIGUSR1);
			} else if (si.ssi_signo != SIGCHLD) {
				done = 1;
			}
		}
	}
	for (int i = 0; i < nns; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < nns; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}
