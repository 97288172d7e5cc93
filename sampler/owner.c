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

/* cache entries: sorted by inode for bsearch, rebuilt on each scan */
struct slot {
	uint32_t inode;
	int pid;
	char comm[16];
};

struct owner {
	uint64_t ino;
	int scanned_this_round;
	struct slot *v;
	size_t n, cap;
	int *pids;            /* processes last found in the namespace */
	size_t npids, cappids;
	struct owner_stats st;
};

struct owner *owner_new(uint64_t netns_ino)
{
	struct owner *o = calloc(1, sizeof(*o));
	if (o)
		o->ino = netns_ino;
	return o;
}

void owner_free(struct owner *o)
{
	if (!o)
		return;
	free(o->v);
	free(o->pids);
	free(o);
}

void owner_round(struct owner *o)
{
	o->scanned_this_round = 0;
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
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct slot *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	struct slot *s = &o->v[o->n++];
	s->inode = inode;
	s->pid = pid;
	memcpy(s->comm, comm, sizeof(s->comm));
	return 0;
}

/* Adds every socket inode process pid holds. */
static void scan_fds(struct owner *o, int pid)
{
	char path[64], link[64], comm[16];
	int have_comm = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		o->st.fds_read++;
		if (n <= 8)
			continue;
		link[n] = '\0';
		unsigned long inode;
		/* "socket:[12345]" */
		if (strncmp(link, "socket:[", 8) != 0 || sscanf(link + 8, "%lu]", &inode) != 1)
			continue;
		if (!have_comm) {
			read_comm(pid, comm);
			have_comm = 1;
		}
		add_slot(o, (uint32_t)inode, pid, comm);
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
		if (int_parse(de->d_name, 1, INT_MAX, &pid) < 0 || !pid_in_ns(o, (int)pid))
			continue;
		if (o->npids == o->cappids) {
			size_t cap = o->cappids ? o->cappids * 2 : 16;
			int *v = realloc(o->pids, cap * sizeof(*v));
			if (!v)
				break;
			o->pids = v;
			o->cappids = cap;
		}
		o->pids[o->npids++] = (int)pid;
	}
	closedir(d);
}

static const struct slot *find(const struct owner *o, uint32_t inode);

/* Rebuilds the cache from the fds of the namespace's processes. Those found last time
 * are tried first: finding them again walks all of /proc with a stat per process on the
 * host, most of a busy namespace's poll (bench), while a new socket mostly belongs to a
 * process already known. The walk is done when the wanted inode is not found so. */
static void rescan(struct owner *o, uint32_t want)
{
	o->st.scans++;
	if (o->npids) {
		o->n = 0;
		for (size_t i = 0; i < o->npids; i++)
			if (pid_in_ns(o, o->pids[i]))
				scan_fds(o, o->pids[i]);
		qsort(o->v, o->n, sizeof(*o->v), cmp_slot);
		if (find(o, want))
			return;
	}
	o->n = 0;
	find_pids(o);
	for (size_t i = 0; i < o->npids; i++)
		scan_fds(o, o->pids[i]);
	qsort(o->v, o->n, sizeof(*o->v), cmp_slot);
}

static const struct slot *find(const struct owner *o, uint32_t inode)
{
	struct slot key = { .inode = inode };
	const struct slot *s = o->n ? bsearch(&key, o->v, o->n, sizeof(*o->v), cmp_inode) : NULL;
	/* several processes may hold it: step back to the first (lowest pid) */
	while (s && s > o->v && (s - 1)->inode == inode)
		s--;
	return s;
}

void owner_lookup(void *owner, uint32_t inode, int *pid, char *comm)
{
	struct owner *o = owner;
	o->st.lookups++;
	const struct slot *s = find(o, inode);
	if (!s && !o->scanned_this_round) {
		o->scanned_this_round = 1;
		rescan(o, inode);
		s = find(o, inode);
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
