/* Which process holds a socket: socket inode -> pid and comm, from /proc/PID/fd of the
 * processes in the watched namespace only. Looked up only for sockets seen alive for the
 * first time, cached; each poll round reads the known processes' fds until the socket
 * turns up (where the last new sockets were first), and walks /proc for new processes
 * at most once. */
#ifndef CLAWSS_OWNER_H
#define CLAWSS_OWNER_H

#include <stdint.h>

struct owner;

struct owner *owner_new(uint64_t netns_ino);
void owner_free(struct owner *o);
/* A new poll round: allows one rescan on a cache miss, and reading up to a budget of fd
 * links (a sweep that runs out pauses and resumes in the next round). An inode whose
 * owner a whole sweep did not find is not looked up again for a number of rounds that
 * doubles with each miss (8 to 256). */
void owner_round(struct owner *o);
/* A table_owner_fn: fills *pid and comm (16 bytes), or leaves them 0 and "". */
void owner_lookup(void *owner, uint32_t inode, int *pid, char *comm);

struct owner_stats {
	uint64_t lookups, hits, scans, fds_read;
	uint64_t negative;        /* lookups answered by the negative cache */
	size_t cached;
};
void owner_get_stats(const struct owner *o, struct owner_stats *out);

#endif
