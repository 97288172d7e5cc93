/* The handles clawss keeps for one watched network namespace, all created inside it with
 * one setns in and one back, so no poll ever needs setns again. */
#ifndef CLAWSS_NETNS_H
#define CLAWSS_NETNS_H

#include <stdint.h>
#include "diag.h"

struct nsh {
	struct diag *dump;        /* request/response dumps */
	struct diag *destroy;     /* destroy notifications */
	int raw_fd[2];            /* /proc/self/net/raw, raw6 (used when raw_diag is missing) */
	int sockstat_fd[2];       /* /proc/self/net/sockstat, sockstat6: the change detector */
	int icmp_fd[2];           /* /proc/self/net/icmp, icmp6: ping sockets (icmp.h) */
	uint64_t ino;             /* namespace inode */
};

/* Enters the namespace behind nsfd (a namespace file or a pidfd), opens the handles, and
 * returns to home_fd (this process's own namespace). -1 with errno on failure; if the
 * return to home_fd fails, *stranded is set and the process must not go on. */
int netns_open(int home_fd, int nsfd, struct nsh *h, int *stranded);
void netns_close(struct nsh *h);
/* Inode of the namespace a /proc/PID/ns/net or namespace file refers to (stat). */
int netns_ino_of(const char *path, uint64_t *ino);

#endif
