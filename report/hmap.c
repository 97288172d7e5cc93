#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "hmap.h"

/* 8 bytes at a time, then murmur3's finaliser so that every key bit reaches the low
 * bits the slot index is taken from. The keys are short (a container, a port, an
 * address) and come from our own database; probing bounds any bad luck. */
static uint64_t hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;
	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h = (h << 31 | h >> 33);
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	h ^= w;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

#define TAG(h) ((h) >> 32 << 32)

static long probe(const struct hmap *m, const void *key, size_t len, uint64_t h, size_t *slot)
{
	size_t mask = m->nslots - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		uint64_t s = m->slots[i];
		if (s == 0) {
			*slot = i;
			return -1;
		}
		/* the slot keeps the hash's high half: most misses stop here */
		if (TAG(s) != TAG(h))
			continue;
		size_t k = (uint32_t)s - 1;
		if (m->klen[k] == len && memcmp(m->keys + m->koff[k], key, len) == 0)
			return (long)k;
	}
}

static int rehash(struct hmap *m, size_t nslots)
{
	uint64_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->nslots; i++) {
		uint64_t s = m->slots[i];
		if (!s)
			continue;
		size_t k = (uint32_t)s - 1;
		size_t j = (size_t)hash(m->keys + m->koff[k], m->klen[k]) & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = s;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

long hmap_intern(struct hmap *m, const void *key, size_t len, int *added)
{
	uint64_t h = hash(key, len);
	size_t slot;
	long k;

	*added = 0;
	if (m->n >= UINT32_MAX - 1)
		return -1;
	if ((m->n + 1) * 2 > m->nslots && rehash(m, m->nslots ? m->nslots * 2 : 64) < 0)
		return -1;
	k = probe(m, key, len, h, &slot);
	if (k >= 0)
		return k;
	if (util_grow(&m->koff, &m->koff_cap, m->n + 1, sizeof(*m->koff)) < 0 ||
	    util_grow(&m->klen, &m->klen_cap, m->n + 1, sizeof(*m->klen)) < 0 ||
	    util_grow(&m->keys, &m->keys_cap, m->keys_len + len, 1) < 0)
		return -1;
	if (len)
		memcpy(m->keys + m->keys_len, key, len);
	m->koff[m->n] = m->keys_len;
	m->klen[m->n] = len;
	m->keys_len += len;
	m->slots[slot] = TAG(h) | (uint64_t)(m->n + 1);
	*added = 1;
	return (long)m->n++;
}

const void *hmap_key(const struct hmap *m, size_t i, size_t *len)
{
	*len = m->klen[i];
	return m->keys + m->koff[i];
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	free(m->koff);
	free(m->klen);
	free(m->keys);
	*m = (struct hmap){ 0 };
}
