/* Private to sampler/table*.c and sampler/flush.c: the socket table's insides. table.c
 * keeps it up to date from dumps, table_fold.c from notifications and through the fold
 * index; flush.c writes it to the store, under the row budget, and undoes its
 * bookkeeping when a transaction fails. */
#ifndef CLAWSS_TABLE_INT_H
#define CLAWSS_TABLE_INT_H

#include "agg.h"
#include "table.h"
#include "../lib/u64map.h"
#include "../lib/util.h"      /* util_grow, for flush.c too */

struct entry {
	uint64_t key;             /* the cookie the kernel shows now */
	uint64_t tuple;           /* tuple hash while in the fold index, else 0 */
	struct store_socket row;  /* row.sk.cookie stays the first cookie seen */
	char comm[16];
	char *rname;              /* remote name that is no address (a unix peer's path) */
	size_t idx;               /* position in table.all */
	uint32_t seen_gen;        /* dump generation that last showed it */
	uint32_t first_gen;       /* dump generation that first showed it (0: seeded) */
	uint32_t close_gen;       /* dump generation when it closed */
	int64_t written_at;
	uint8_t dirty;            /* a hard change: write at the next flush */
	uint8_t soft;             /* last_seen/bytes moved: write at the refresh period */
	uint8_t inserted;
	uint8_t closed;
	uint8_t tw;               /* a TIME_WAIT remnant is still in the kernel's tables */
	uint8_t flow_row;         /* a conntrack flow with no socket: dumps never close it */
	uint32_t pins;            /* flows joined to it that are still alive (flow.c) */
	uint8_t agg;              /* no row: counted in the aggregates (1), or dropped (2) */
	uint8_t jr;               /* written in the open transaction: in table.jrnl */
	uint8_t remove_after;     /* forget it once that transaction commits */
	uint8_t j_inserted, j_dirty, j_soft;   /* as before the transaction */
	int64_t j_rowid, j_written_at;
	uint64_t agg_sent, agg_recv;           /* bytes already counted in its aggregate */
};

struct table {
	int64_t container_id;
	int64_t refresh_ms;
	int64_t now;
	uint32_t gen;
	int listeners_only;          /* this dump shows TCP listeners only */
	struct u64map keys;
	struct u64map tuples;        /* TCP 4-tuple -> closed connection, for TIME_WAIT folding */
	struct entry **all;
	size_t nall, capall;
	struct {
		struct sk sk;
		char *name;       /* its remote name (table_dump_named), or NULL */
	} *scratch;               /* this dump's sockets, processed at table_dump_end */
	size_t nscratch, capscratch;
	struct table_listener *ls;  /* the listeners of the last dump */
	size_t nls, capls;
	table_owner_fn owner;
	void *owner_arg;
	uint64_t created, folded;
	size_t nflowrows;         /* flow rows held: late destroy notifications look there */
	/* budgets (flush.c) */
	struct aggs *aggs;
	int64_t budget;           /* new rows per hour; 0: none */
	int64_t hour, hour_rows;  /* the hour now, rows inserted in it */
	int64_t hour_aggregated;  /* connections aggregated in it past the budget */
	int64_t budget_rowid;     /* its row-budget activity row, once written */
	size_t hold_max;          /* holding: never-written entries kept one by one */
	int holding;              /* the database is full (the watcher's hold.c) */
	uint64_t aggregated, dropped;
	/* the open transaction's writes, undone in memory if it fails */
	struct entry **jrnl;
	size_t njrnl, capjrnl;
	int64_t j_hour, j_hour_rows, j_budget_rowid;
	int flushed;
};

/* table.c */
struct entry *table_entry_add(struct table *t, const struct sk *s);
/* Closed at when (a hard change); close_gen: the generation of the dump that could
 * still show its TIME_WAIT remnant. */
void table_entry_close(struct entry *e, uint32_t close_gen, int64_t when);
void table_entry_remove(struct table *t, struct entry *e);
/* The bytes a dump or notification shows, where they grew. */
void table_take_bytes(struct entry *e, const struct sk *s);
int table_direction_of(const struct table *t, const struct sk *s, uint32_t first_gen);
/* table_fold.c */
/* A TCP socket with both addresses and ports: one the fold index can hold. */
int table_full_tuple(const struct sk *s);
/* Puts a closed (or flow) entry in the fold index under its 4-tuple. */
void table_fold_index(struct table *t, struct entry *e);
/* *out: the entry a dumped socket no cookie matched belongs to (re-keyed to its cookie),
 * or NULL. -1 when out of memory. */
int table_fold_dumped(struct table *t, const struct sk *s, struct entry **out);

#endif
