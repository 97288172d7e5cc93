#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../lib/util.h"
#include "owner.h"

/* cache entries: sorted by inode for bsearch (what a sweep appends is searched linearly
 * until it is sorted in), rebuilt by each round's first sweep */
struct slot {
	uint32_t inode;
	int pid;
	char comm[16];
};

/* fd links read per poll round at most: a namespace whose processes hold 100 000 fds is
 * swept over several rounds, not in one (the sweep resumes where it paused) */
#define OWNER_BUDGET 16384
/* inodes whose owner was not found, remembered so that each is not looked up again on
 * every dump (each miss read every fd of every process in the namespace) */
#define NEG_MAX 4096
#define NEG_BACKOFF_MIN 8      /* rounds before the first retry, doubling each miss */
#define NEG_BACKOFF_MAX 256

struct neg {
	uint32_t inode;
	uint32_t misses;
	uint64_t retry_round;
};

struct owner {
	uint64_t ino;
	uint64_t round;
	long budget;          /* fd links this round may still read */
	int paused;           /* the sweep ran out of budget: resume it next round */
	struct neg *neg;      /* ring of NEG_MAX */
	size_t nneg, negnext;
	struct slot *v;
	size_t n, cap;
	size_t nsorted;       /* v[0..nsorted) sorted; the sweep appends the rest */
	int *pids;            /* processes last found in the namespace */
	size_t npids, cappids;
	/* this round's sweep over the known processes' fds, highest fd first */
	int sweeping;         /* a sweep began this round (the cache holds what it read) */
	int swept_all;        /* the /proc walk and a full rescan were done this round */
	size_t sweep_pid;     /* index in pids of the process being read */
	DIR *sweep_dir;       /* its /proc/PID/fd, or NULL before it is opened */
	size_t sweep_recent;  /* next entry of recent to try for it */
	int listed;           /* its fds are listed in fds */
	int *fds;             /* its fd numbers, ascending as /proc lists them */
	size_t nfds, capfds;  /* nfds: those not read yet (the lowest ones) */
	char sweep_comm[16];
	int sweep_have_comm;
	/* where the last sockets looked up were found: a closed socket's fd number is the
	 * next one its process gets, so a new socket mostly sits where an old one did */
	struct { int pid, fd; } recent[16];
	unsigned recent_next;
	struct owner_stats st;
};

struct owner *owner_new(uint64_t netns_ino)
{
	struct owner *o = calloc(1, sizeof(*o));
	if (o) {
		o->ino = netns_ino;
		o->budget = OWNER_BUDGET;
	}
	return o;
}

void owner_free(struct owner *o)
{
	if (!o)
		return;
	if (o->sweep_dir)
		closedir(o->sweep_dir);
	free(o->v);
	free(o->pids);
	free(o->fds);
	free(o->neg);
	free(o);
}

void owner_round(struct owner *o)
{
	o->round++;
	o->budget = OWNER_BUDGET;
	o->swept_all = 0;
	if (o->paused) {
		/* go on where the budget stopped it, cache and position kept */
		o->paused = 0;
		return;
	}
	if (o->sweep_dir)
		closedir(o->sweep_dir);
	o->sweep_dir = NULL;
	o->sweeping = o->swept_all = 0;
}

/* by inode, then pid: the lowest pid holding a shared socket (usually the parent that
 * passed it on) comes first */
static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_inode(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	return (x->inode > y->inode) - (x->inode < y->inode);
}

static void read_comm(int pid, char *comm)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	comm[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, comm, 15);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	if (comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

static int add_slot(struct owner *o, uint32_t inode, int pid, const char *comm)
{
	if (util_grow(&o->v, &o->cap, o->n + 1, sizeof(*o->v)) < 0)
		return -1;
	struct slot *s = &o->v[o->n++];
	s->inode = inode;
	s->pid = pid;
	memcpy(s->comm, comm, sizeof(s->comm));
	return 0;
}

/* The socket inode fd name (in the fd directory dfd) is a link to: 1, or 0 when it is
 * no socket. Counted as a link read. */
static int socket_inode(struct owner *o, int dfd, const char *name, uint32_t *inode)
{
	char link[64];
	unsigned long ino;
	ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);
	o->st.fds_read++;
	if (n <= 8)
		return 0;
	link[n] = '\0';
	/* "socket:[12345]" */
	if (strncmp(link, "socket:[", 8) != 0 || sscanf(link + 8, "%lu]", &ino) != 1)
		return 0;
	*inode = (uint32_t)ino;
	return 1;
}

/* Adds every socket inode process pid holds. */
static void scan_fds(struct owner *o, int pid)
{
	char path[64], comm[16];
	int have_comm = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint32_t inode;
		if (de->d_name[0] == '.' || !socket_inode(o, dirfd(d), de->d_name, &inode))
			continue;
		if (!have_comm) {
			read_comm(pid, comm);
			have_comm = 1;
		}
		add_slot(o, inode, pid, comm);
	}
	closedir(d);
}

static int pid_in_ns(const struct owner *o, int pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	return stat(path, &st) == 0 && st.st_ino == o->ino;
}

/* Finds the processes in the namespace: a walk of /proc's pid directories with one stat
 * of ns/net each (no fd is read for processes elsewhere). */
static void find_pids(struct owner *o)
{
	DIR *d = opendir("/proc");
	o->npids = 0;
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		long long pid;
		if (util_int_parse(de->d_name, 1, INT_MAX, &pid) < 0 || !pid_in_ns(o, (int)pid))
			continue;
		if (util_grow(&o->pids, &o->cappids, o->npids + 1, sizeof(*o->pids)) < 0)
			break;
		o->pids[o->npids++] = (int)pid;
	}
	closedir(d);
}

#define NRECENT (sizeof(((struct owner *)0)->recent) / sizeof(((struct owner *)0)->recent[0]))

/* Opens the fd directory of the process the sweep is at; -1 when it is gone or has left
 * the namespace. */
static int sweep_open(struct owner *o)
{
	char path[64];
	int pid = o->pids[o->sweep_pid];
	o->nfds = 0;
	o->listed = 0;
	o->sweep_recent = 0;
	o->sweep_have_comm = 0;
	if (!pid_in_ns(o, pid))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	o->sweep_dir = opendir(path);
	return o->sweep_dir ? 0 : -1;
}

static void sweep_list(struct owner *o)
{
	struct dirent *de;
	o->listed = 1;
	while ((de = readdir(o->sweep_dir))) {
		long long fd;
		if (util_int_parse(de->d_name, 0, INT_MAX, &fd) < 0)
			continue;
		if (util_grow(&o->fds, &o->capfds, o->nfds + 1, sizeof(*o->fds)) < 0)
			break;
		o->fds[o->nfds++] = (int)fd;
	}
}

static int is_recent(const struct owner *o, int pid, int fd)
{
	for (size_t i = 0; i < NRECENT; i++)
		if (o->recent[i].pid == pid && o->recent[i].fd == fd)
			return 1;
	return 0;
}

/* Reads fd of the process the sweep is at into the cache; 1 when it is want. */
static int sweep_read(struct owner *o, int fd, uint32_t want)
{
	char name[16];
	uint32_t inode;
	int pid = o->pids[o->sweep_pid];
	snprintf(name, sizeof(name), "%d", fd);
	if (!socket_inode(o, dirfd(o->sweep_dir), name, &inode))
		return 0;
	if (!o->sweep_have_comm) {
		read_comm(pid, o->sweep_comm);
		o->sweep_have_comm = 1;
	}
	add_slot(o, inode, pid, o->sweep_comm);
	if (inode != want)
		return 0;
	if (!is_recent(o, pid, fd)) {
		o->recent[o->recent_next].pid = pid;
		o->recent[o->recent_next].fd = fd;
		o->recent_next = (o->recent_next + 1) % NRECENT;
	}
	return 1;
}

/* Reads on in this round's sweep over the known processes' fds until want turns up: 1,
 * 0 when every known process has been read, -1 when the round's budget ran out first
 * (the sweep pauses there and resumes next round). Each process's fds where the last new
 * sockets were found are read first, then the others, highest first. A new socket
 * mostly belongs to a process already known and sits where a closed one did, so a busy
 * namespace's poll reads a few links instead of every fd of every process after a walk
 * of all of /proc (a stat per process on the host): that was most of its cost (bench/).
 * What the sweep reads stays in the cache for the round's other lookups, and the next
 * lookup that misses goes on where it stopped. */
static int sweep(struct owner *o, uint32_t want)
{
	if (!o->sweeping) {
		o->sweeping = 1;
		o->sweep_pid = 0;
		o->n = o->nsorted = 0;
	}
	for (; o->sweep_pid < o->npids; o->sweep_pid++) {
		int pid = o->pids[o->sweep_pid];
		if (!o->sweep_dir && sweep_open(o) < 0)
			continue;
		while (o->sweep_recent < NRECENT) {
			size_t i = o->sweep_recent++;
			if (o->recent[i].pid == pid && sweep_read(o, o->recent[i].fd, want))
				return 1;
		}
		if (!o->listed)
			sweep_list(o);
		while (o->nfds > 0) {
			if (o->budget <= 0) {
				o->paused = 1;
				return -1;
			}
			o->budget--;
			int fd = o->fds[--o->nfds];
			if (!is_recent(o, pid, fd) && sweep_read(o, fd, want))
				return 1;
		}
		closedir(o->sweep_dir);
		o->sweep_dir = NULL;
	}
	return 0;
}

static void sort_cache(struct owner *o)
{
	util_qsort(o->v, o->n, sizeof(*o->v), cmp_slot);
	o->nsorted = o->n;
}

/* Not in this round's sweep, which has read every known process: the namespace's
 * processes are found again, and those that started since are read too. */
static void rescan(struct owner *o)
{
	size_t nold = o->npids;
	int *old = nold ? malloc(nold * sizeof(*old)) : NULL;
	o->st.scans++;
	o->swept_all = 1;
	if (old)
		memcpy(old, o->pids, nold * sizeof(*old));
	else
		o->n = o->nsorted = nold = 0;   /* cannot tell new from known: read them all */
	find_pids(o);
	for (size_t i = 0; i < o->npids; i++) {
		size_t j = 0;
		while (j < nold && old[j] != o->pids[i])
			j++;
		if (j == nold)
			scan_fds(o, o->pids[i]);
	}
	free(old);
	sort_cache(o);
}

static const struct slot *find(const struct owner *o, uint32_t inode)
{
	struct slot key = { .inode = inode };
	const struct slot *s = o->nsorted ?
		bsearch(&key, o->v, o->nsorted, sizeof(*o->v), cmp_inode) : NULL;
	/* several processes may hold it: step back to the first (lowest pid) */
	while (s && s > o->v && (s - 1)->inode == inode)
		s--;
	for (size_t i = o->nsorted; i < o->n; i++)
		if (o->v[i].inode == inode && (!s || o->v[i].pid < s->pid))
			s = &o->v[i];
	return s;
}

static struct neg *neg_find(struct owner *o, uint32_t inode)
{
	for (size_t i = 0; i < o->nneg; i++)
		if (o->neg[i].inode == inode)
			return &o->neg[i];
	return NULL;
}

/* Not found after a whole sweep and a rescan: not again before a backoff that doubles
 * with each miss (a process may still receive it, over a unix socket). */
static void neg_note(struct owner *o, uint32_t inode)
{
	struct neg *n = neg_find(o, inode);
	if (!n) {
		if (!o->neg && !(o->neg = calloc(NEG_MAX, sizeof(*o->neg))))
			return;
		n = &o->neg[o->negnext];
		o->negnext = (o->negnext + 1) % NEG_MAX;
		if (o->nneg < NEG_MAX)
			o->nneg++;
		memset(n, 0, sizeof(*n));
		n->inode = inode;
	}
	uint64_t wait = (uint64_t)NEG_BACKOFF_MIN << (n->misses < 6 ? n->misses : 6);
	if (wait > NEG_BACKOFF_MAX)
		wait = NEG_BACKOFF_MAX;
	n->misses++;
	n->retry_round = o->round + wait;
}

void owner_lookup(void *owner, uint32_t inode, int *pid, char *comm)
{
	struct owner *o = owner;
	o->st.lookups++;
	const struct slot *s = find(o, inode);
	const struct neg *n = s ? NULL : neg_find(o, inode);
	if (n && o->round < n->retry_round) {
		o->st.negative++;
	} else if (!s && !o->swept_all && !o->paused) {
		int rc = sweep(o, inode);
		if (rc == 0)
			rescan(o);
		else if (o->n - o->nsorted > 64 && o->n - o->nsorted > o->nsorted)
			sort_cache(o);   /* what a sweep appends is searched linearly until then */
		s = find(o, inode);
		if (!s && rc == 0)
			neg_note(o, inode);
	} else if (!s && o->swept_all) {
		neg_note(o, inode);   /* not in this round's complete cache either */
	} else if (s) {
		o->st.hits++;
	}
	if (!s) {
		*pid = 0;
		comm[0] = '\0';
		return;
	}
	*pid = s->pid;
	memcpy(comm, s->comm, 16);
}

void owner_get_stats(const struct owner *o, struct owner_stats *out)
{
	*out = o->st;
	out->cached = o->n;
}
