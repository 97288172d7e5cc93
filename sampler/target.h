/* Targets: what the user names (a container, a /run/netns name, pid:N, netns:PATH) turned
 * into something clawss can enter: a namespace file descriptor or a pidfd, with the name
 * to record and the moment the container started. */
#ifndef CLAWSS_TARGET_H
#define CLAWSS_TARGET_H

#include <stdint.h>
#include <sys/types.h>

enum target_kind { TARGET_NETNS_NAME = 1, TARGET_PID, TARGET_PATH, TARGET_ENGINE };

struct target {
	int kind;
	char name[256];          /* the container name recorded */
	char path[4096];         /* namespace file (NAME, PATH kinds), watched for removal */
	int nsfd;                /* what setns enters: the namespace file, or the pidfd */
	int pidfd;               /* -1 unless the target is a process (pid:N, engine) */
	int pid;
	int64_t started;         /* ms since the epoch; 0 unknown */
	uint64_t ns_ino;         /* the namespace resolved: checked again once entered, and
				  * the namespace file's identity, for removal checks */
	int follow;              /* PATH kind: the path is a symbolic link (/proc/PID/ns/net) */
	char engine_id[80];      /* engine kinds: container id */
	char image[512];
};

/* What an engine knows of a container (filled by the engine module's lookup). */
struct target_engine_hit {
	char id[80];
	char name[256];
	char image[512];
	int pid;
	int64_t started;
	int host_network;        /* shares the host's namespace: nothing to watch apart */
};

/* lookup returns 0 when found, 1 when the engine does not know the name, -1 on error. */
struct target_engine {
	int (*lookup)(void *arg, const char *name, struct target_engine_hit *hit);
	void *arg;
};

/* Resolves spec: pid:N, netns:PATH, or a NAME tried against the engine (if eng is not
 * NULL) and then /run/netns. -1 with errno ENOENT for "no such container or namespace"
 * (err says which), other errno values for other failures; err always says why. A
 * target in the host's network namespace (pid 1's, or ours) is refused (EINVAL), by
 * whichever route it was named. */
int target_resolve(const char *spec, const struct target_engine *eng, struct target *t,
		   char *err, size_t errlen);
/* A target for the named namespace /run/netns/NAME (symbolic links refused). */
int target_netns_name(const char *name, struct target *t, char *err, size_t errlen);
/* A target for process pid (pidfd first, then its start time, then liveness again). */
int target_from_pid(int pid, struct target *t, char *err, size_t errlen);
/* 1 while the namespace file of a NAME/PATH target still names the same namespace. */
int target_file_alive(const struct target *t);
void target_close(struct target *t);

/* A process other than skip in the namespace ino, as a pid target (pidfd held), for a
 * namespace keyed by its inode (--all) whose process ended: -1 with ENOENT when none. */
int target_pid_in_ns(uint64_t ino, int skip, struct target *t);

/* Every network namespace on the host but ours: /run/netns names first, then one process
 * per other namespace (the lowest pid). cb gets each as a resolved target it then owns;
 * known(arg, ino) lets the caller skip namespaces it already watches. */
int target_scan_all(int (*known)(void *arg, uint64_t ino),
		    int (*cb)(void *arg, struct target *t), void *arg);

#endif
