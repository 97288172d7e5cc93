/* The name index: which DNS name a container resolved to reach an address, at a time.
 * Built from the store's names table (schema.h: one row per resolution episode; the
 * episodes of one address do not overlap). The rule, also in the connections view:
 * the episode that began last at or before the connection names it, while the
 * connection opened no later than its last answer + TTL + NAMES_GRACE_MS (clients
 * cache a little past the TTL; a poll sees a connection up to an interval late).
 * Another name that took the address later begins its own episode, so a name never
 * covers connections made after the address went to someone else. */
#ifndef CLAWSS_REPORT_NAMES_H
#define CLAWSS_REPORT_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include "hmap.h"

#define NAMES_GRACE_MS 60000
#define NAMES_NONE UINT32_MAX

struct names_ep {
	uint64_t key;          /* the caller's: container and address */
	int64_t first, until;  /* until: last answer + TTL + grace */
	uint32_t name;
};

/* One probe reads one slot: the key and where its episodes are. */
struct names_slot {
	uint64_t key;
	uint32_t first, n;
};

struct names_index {
	struct hmap names;     /* name text -> id */
	struct names_ep *eps;
	size_t n, cap;
	struct names_slot *slots;  /* key -> its episodes (open addressing, n 0: empty) */
	size_t nslots;
};

/* Episodes may come in any order; names_finish sorts them. -1: out of memory. */
int names_add(struct names_index *ix, uint64_t key, const char *name, int64_t first,
	      int64_t last, uint32_t ttl);
int names_finish(struct names_index *ix);
/* The name id for key at time t, or NAMES_NONE. */
uint32_t names_lookup(const struct names_index *ix, uint64_t key, int64_t t);
const char *names_text(const struct names_index *ix, uint32_t id);
/* Cache hints for a lookup of key soon: stage 0 fetches its slot, stage 1 (later, the
 * slot in cache) its episodes. A million-row report looks up every row. */
void names_prefetch(const struct names_index *ix, uint64_t key, int stage);
void names_free(struct names_index *ix);

#endif
