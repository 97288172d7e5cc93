/* The state of one report walk, shared by the files that do its parts: walk.c (the
 * two scans; it calls the others), group.c (destination groups), timeline.c (bursts,
 * beacons, exec windows) and dns.c (names, tunnels). Not for other files. */
#ifndef CLAWSS_WALK_INT_H
#define CLAWSS_WALK_INT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "burst.h"
#include "hmap.h"
#include "names.h"
#include "walk.h"

struct sqlite3;

/* What the first scan keeps of a row. g is its destination group, or one of: */
#define DEST_NONE UINT32_MAX          /* no destination (accepted, or address unknown) */
#define DEST_RAW (UINT32_MAX - 1)
#define DEST_PACKET (UINT32_MAX - 2)
#define DEST_PENDING (UINT32_MAX - 3)   /* during the first scan: to be grouped */
#define DEST_HOST (UINT32_MAX - 4)      /* a unix socket connected outside: host-socket */

/* 40 bytes a row: everything the second scan would otherwise read again (reading a
 * column costs SQLite about 25 ns a row; a million rows, twice, is most of a second). */
struct p1row {
	int64_t id, t;
	uint32_t c, g;
	uint32_t addr;            /* remote address: index into walk.addrs, ADDR_NONE */
	uint32_t name;            /* remote_name: id in walk.ni, NAMES_NONE */
	int32_t rport;            /* -1: unknown */
	uint8_t proto, dir;       /* enum sk_proto, enum sk_dir (DIR_OTHER: not ours) */
};

#define ADDR_NONE UINT32_MAX
#define DIR_OTHER 3

/* An exec window (docker exec) is a struct report_window: end INT64_MAX while it runs. */

/* A connection opened up to this long after an exec ended still belongs to it: the
 * sampler first sees a socket up to one poll after it opened. */
#define EXEC_GRACE_MS 2000

struct wcont {
	struct report_container pub;
	int selected;
	size_t xw_off, nxw;       /* its exec windows in walk.xw, by start */
	size_t name_off, id_off;  /* into walk.names; id_off SIZE_MAX: no engine id */
	/* the burst, fed while the first scan reads rows in recording order; a container
	 * whose rows come out of time order is done again from its sorted times */
	struct burst burst;
	int64_t last;
	int unsorted;
};

/* A destination group: (container, protocol, remote address, remote port). The open
 * times of its rows are summed up as they come; only a group whose gaps could be
 * regular enough needs its times gathered and sorted for the exact beacon rule. */
struct dest_group {
	int64_t last, min_gap, max_gap;
	uint32_t count;
	uint8_t flags;            /* REPORT_F_UNDECLARED, REPORT_F_BEACON */
	uint8_t unsorted;
};

struct gslot {
	uint64_t ka, kb;          /* container << 32 | address, port << 8 | protocol */
	uint32_t gid1;            /* group index + 1; 0: empty */
};

struct walk {
	struct sqlite3 *db;
	const struct report_query *q;
	const struct report_walker *w;
	char *err;
	size_t errlen;
	struct wcont *cs;
	size_t ncs;
	char *names;              /* container names and ids, NUL-separated */
	struct p1row *rows;
	size_t nrows, rows_cap;
	struct hmap addrs;        /* remote address text (with its NUL) -> index */
	struct gslot *gslots;     /* open addressing, at most half full */
	size_t gnslots;
	struct dest_group *groups;
	size_t ng, gcap;
	struct report_window *xw;          /* every container's exec windows, grouped by container */
	size_t nxw;
	struct names_index ni;    /* remote_name (names.h), keyed by walk_name_key */
	uint64_t *tun;            /* resolvers a container tunnelled through, sorted keys */
	size_t ntun, tun_cap;
};

/* The key of (container index, address index) in the name index and k->tun. */
static inline uint64_t walk_name_key(uint32_t c, uint32_t a)
{
	return (uint64_t)c << 32 | a;
}

/* dns.c: k->ni, from the store's names (none before schema 4); */
int walk_load_names(struct walk *k);
/* k->tun, from the queries the tunnel rule flags; */
int walk_load_tunnels(struct walk *k);
/* whether (container, resolver address) is in k->tun. */
int walk_is_tunnel(const struct walk *k, uint64_t key);

/* Index of the container with this id, or -1 (a row of a container since pruned). */
static inline long walk_find_container(const struct walk *k, int64_t id)
{
	size_t lo = 0, hi = k->ncs;
	/* ids are usually dense: try the direct slot first */
	if (k->ncs && id >= k->cs[0].pub.id && (uint64_t)(id - k->cs[0].pub.id) < k->ncs &&
	    k->cs[id - k->cs[0].pub.id].pub.id == id)
		return (long)(id - k->cs[0].pub.id);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->cs[mid].pub.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->ncs && k->cs[lo].pub.id == id ? (long)lo : -1;
}

/* Sets k's error to "out of memory"; -1. */
static inline int walk_oom(struct walk *k)
{
	snprintf(k->err, k->errlen, "%s", strerror(ENOMEM));
	return -1;
}

/* The remote address text of index a, NULL for ADDR_NONE. */
static inline const char *walk_addr_text(const struct walk *k, uint32_t a)
{
	size_t len;
	return a == ADDR_NONE ? NULL : hmap_key(&k->addrs, a, &len);
}

/* group.c: names the kept rows (remote_name), puts each in its destination group and
 * feeds the bursts and the groups' gaps. -1 when out of memory. */
int walk_group_rows(struct walk *k);

/* timeline.c: a row opened outside every exec window of a container that has exec
 * activity; */
int walk_outside_exec(const struct walk *k, const struct p1row *p);
/* burst end of every selected container, beacon groups, and the flagged counts. */
int walk_timelines(struct walk *k);

#endif
