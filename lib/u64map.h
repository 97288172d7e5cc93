/* u64 -> pointer map, open addressing with linear probing; key 0 is the empty slot
 * (the kernel never hands out cookie 0; callers force their hashes odd). Used by the
 * socket table (cookies, 4-tuples), its aggregates (destinations) and the flows of a
 * namespace (conntrack ids). */
#ifndef CLAWSS_U64MAP_H
#define CLAWSS_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys;
	void **vals;
	size_t cap, n;
};

void *u64map_get(const struct u64map *m, uint64_t key);
/* Sets key to v (replacing what it mapped to); -1 when out of memory. */
int u64map_put(struct u64map *m, uint64_t key, void *v);
/* Deletes key if it maps to v. */
void u64map_del(struct u64map *m, uint64_t key, const void *v);
void u64map_free(struct u64map *m);

#endif
