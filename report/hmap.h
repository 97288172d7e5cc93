/* A small map from byte-string keys to dense indices 0, 1, 2, ... in order of first
 * insertion: how report groups rows by destination or container without a query per
 * group. Keys are copied. */
#ifndef CLAWSS_REPORT_HMAP_H
#define CLAWSS_REPORT_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint64_t *slots;     /* (hash >> 32) << 32 | (index + 1); 0 = empty */
	size_t nslots;
	size_t n;            /* keys held */
	size_t *koff;        /* key i starts at keys.p + koff[i] */
	size_t *klen;
	char *keys;
	size_t keys_len, keys_cap;
	size_t koff_cap, klen_cap;
};

/* Index of key, added if new (*added = 1). -1 when out of memory. */
long hmap_intern(struct hmap *m, const void *key, size_t len, int *added);
const void *hmap_key(const struct hmap *m, size_t i, size_t *len);
void hmap_free(struct hmap *m);

#endif
