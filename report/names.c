#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "names.h"

int names_add(struct names_index *ix, uint64_t key, const char *name, int64_t first,
	      int64_t last, uint32_t ttl)
{
	int added;
	long id = hmap_intern(&ix->names, name, strlen(name) + 1, &added);
	if (id < 0 || (uint64_t)id >= NAMES_NONE)
		return -1;
	if (util_grow(&ix->eps, &ix->cap, ix->n + 1, sizeof(*ix->eps)) < 0)
		return -1;
	ix->eps[ix->n++] = (struct names_ep){ .key = key, .first = first,
		.until = last + (int64_t)ttl * 1000 + NAMES_GRACE_MS, .name = (uint32_t)id };
	return 0;
}

static int ep_cmp(const void *a, const void *b)
{
	const struct names_ep *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

static size_t slot_of(uint64_t key, size_t nslots)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ h >> 29) & (nslots - 1);
}

int names_finish(struct names_index *ix)
{
	size_t n = 16;
	if (ix->n)
		qsort(ix->eps, ix->n, sizeof(*ix->eps), ep_cmp);
	if (ix->n >= UINT32_MAX)
		return -1;
	while (n < ix->n * 2)
		n *= 2;
	free(ix->slots);
	ix->slots = calloc(n, sizeof(*ix->slots));
	if (!ix->slots)
		return -1;
	ix->nslots = n;
	for (size_t i = 0, j; i < ix->n; i = j) {
		for (j = i + 1; j < ix->n && ix->eps[j].key == ix->eps[i].key; j++)
			;
		size_t s = slot_of(ix->eps[i].key, n);
		while (ix->slots[s].n)
			s = (s + 1) & (n - 1);
		ix->slots[s] = (struct names_slot){ ix->eps[i].key, (uint32_t)i, (uint32_t)(j - i) };
	}
	return 0;
}

uint32_t names_lookup(const struct names_index *ix, uint64_t key, int64_t t)
{
	if (!ix->nslots)
		return NAMES_NONE;
	size_t s = slot_of(key, ix->nslots);
	for (; ix->slots[s].n; s = (s + 1) & (ix->nslots - 1)) {
		if (ix->slots[s].key != key)
			continue;
		/* the last episode of key that began at or before t */
		const struct names_ep *e = ix->eps + ix->slots[s].first;
		size_t a = 0, b = ix->slots[s].n;
		while (a < b) {
			size_t mid = a + (b - a) / 2;
			if (e[mid].first <= t)
				a = mid + 1;
			else
				b = mid;
		}
		return a && t <= e[a - 1].until ? e[a - 1].name : NAMES_NONE;
	}
	return NAMES_NONE;
}

void names_prefetch(const struct names_index *ix, uint64_t key, int stage)
{
	if (!ix->nslots)
		return;
	size_t s = slot_of(key, ix->nslots);
	if (stage == 0) {
		__builtin_prefetch(&ix->slots[s]);
		return;
	}
	for (; ix->slots[s].n; s = (s + 1) & (ix->nslots - 1)) {
		if (ix->slots[s].key == key) {
			__builtin_prefetch(&ix->eps[ix->slots[s].first]);
			return;
		}
	}
}

const char *names_text(const struct names_index *ix, uint32_t id)
{
	size_t len;
	return id == NAMES_NONE ? NULL : hmap_key(&ix->names, id, &len);
}

void names_free(struct names_index *ix)
{
	hmap_free(&ix->names);
	free(ix->eps);
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}
