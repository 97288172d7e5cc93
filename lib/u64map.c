#include <stdlib.h>
#include <string.h>
#include "u64map.h"

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}


static int grow(struct u64map *m)
{
	struct u64map bigger = { 0 };
	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			u64map_put(&bigger, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = bigger;
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, void *e)
{
	if ((m->n + 1) * 10 > m->cap * 7 && grow(m) < 0)
		return -1;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = e;
			return 0;
		}
		if (m->keys[i] == 0) {
			m->keys[i] = key;
			m->vals[i] = e;
			m->n++;
			return 0;
		}
	}
}

/* Deletes key if it maps to e (backward-shift deletion keeps probe chains intact). */
void u64map_del(struct u64map *m, uint64_t key, const void *e)
{
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = slot_of(key, m->cap);
	while (m->keys[i] != key) {
		if (m->keys[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	if (m->vals[i] != e)
		return;
	m->n--;
	for (size_t j = i;;) {
		m->keys[i] = 0;
		m->vals[i] = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (m->keys[j] == 0)
				return;
			size_t home = slot_of(m->keys[j], m->cap);
			/* move j back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
