#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

static void nsh_init(struct nsh *h)
{
	memset(h, 0, sizeof(*h));
	h->raw_fd[0] = h->raw_fd[1] = h->sockstat_fd[0] = h->sockstat_fd[1] = -1;
	h->icmp_fd[0] = h->icmp_fd[1] = -1;
}

void netns_close(struct nsh *h)
{
	diag_close(h->dump);
	diag_close(h->destroy);
	for (int i = 0; i < 2; i++) {
		if (h->raw_fd[i] >= 0)
			close(h->raw_fd[i]);
		if (h->sockstat_fd[i] >= 0)
			close(h->sockstat_fd[i]);
		if (h->icmp_fd[i] >= 0)
			close(h->icmp_fd[i]);
	}
	nsh_init(h);
}

int netns_ino_of(const char *path, uint64_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	*ino = st.st_ino;
	return 0;
}

static int open_inside(struct nsh *h)
{
	static const char *const files[4] = {
		"/proc/self/net/raw", "/proc/self/net/raw6",
		"/proc/self/net/sockstat", "/proc/self/net/sockstat6",
	};
	int *fds[4] = { &h->raw_fd[0], &h->raw_fd[1], &h->sockstat_fd[0], &h->sockstat_fd[1] };

	if (netns_ino_of("/proc/self/ns/net", &h->ino) < 0)
		return -1;
	h->dump = diag_open();
	if (!h->dump)
		return -1;
	h->destroy = diag_open_destroy();
	if (!h->destroy)
		return -1;
	for (int i = 0; i < 4; i++) {
		/* raw6 and sockstat6 are missing when IPv6 is off: not an error */
		*fds[i] = open(files[i], O_RDONLY | O_CLOEXEC);
		if (*fds[i] < 0 && (i == 0 || i == 2))
			return -1;
	}
	/* ping sockets; a kernel without them (or IPv6 off) just has none to show */
	h->icmp_fd[0] = open("/proc/self/net/icmp", O_RDONLY | O_CLOEXEC);
	h->icmp_fd[1] = open("/proc/self/net/icmp6", O_RDONLY | O_CLOEXEC);
	return 0;
}

int netns_open(int home_fd, int nsfd, struct nsh *h, int *stranded)
{
	int rc, err = 0;

	*stranded = 0;
	nsh_init(h);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -1;
	rc = open_inside(h);
	if (rc < 0)
		err = errno;
	if (setns(home_fd, CLONE_NEWNET) < 0) {
		*stranded = 1;
		netns_close(h);
		return -1;
	}
	if (rc < 0) {
		netns_close(h);
		errno = err;
		return -1;
	}
	return 0;
}
