/* Activity rows (incidents and windows) and aggregates: the store's writes that are
 * not sockets. */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <string.h>
#include "store_int.h"

/* Runs b in the caller's transaction, or in one of its own. */
static int run_own(struct store *st, struct bind *b, const char *what, int64_t *id, int *found)
{
	int own = store_txn_own(st);
	if (own < 0)
		return -1;
	return store_txn_end(st, own, store_run(st, b, what, id, found) < 0 ? -1 : 0);
}

/* end 0 (still going) and a negative count (not counted) are stored as NULL. */
int store_activity_open(struct store *st, int64_t container_id, const char *kind,
			int64_t start, int64_t end, int64_t count, const char *detail,
			int64_t *rowid)
{
	struct bind b = { store_stmt(st, S_ACTIVITY), SQLITE_OK };
	int64_t id = 0;
	int found = 0;
	if (!kind)
		return store_fail(st, "activity: no kind");
	if (!b.s)
		return -1;
	store_bind_int(&b, 1, container_id);
	store_bind_text(&b, 2, kind);
	store_bind_int(&b, 3, start);
	store_bind_opt(&b, 4, end != 0, end);
	store_bind_opt(&b, 5, count >= 0, count);
	store_bind_text(&b, 6, detail);
	if (run_own(st, &b, "activity", &id, &found) < 0)
		return -1;
	if (rowid)
		*rowid = found ? id : 0;
	return 0;
}

int store_activity(struct store *st, int64_t container_id, const char *kind,
		   int64_t start, int64_t end, int64_t count, const char *detail)
{
	return store_activity_open(st, container_id, kind, start, end, count, detail, NULL);
}

int store_activity_close(struct store *st, int64_t rowid, int64_t end)
{
	int own = store_txn_own(st);
	if (own < 0)
		return -1;
	return store_txn_end(st, own, store_container_set(st, S_ACTIVITY_END, rowid, end, "activity end"));
}

int store_activity_count(struct store *st, int64_t rowid, int64_t end, int64_t count)
{
	struct bind b = { store_stmt(st, S_ACTIVITY_COUNT), SQLITE_OK };
	if (!b.s)
		return -1;
	store_bind_int(&b, 1, rowid);
	store_bind_int(&b, 2, end);
	store_bind_int(&b, 3, count);
	return run_own(st, &b, "activity count", NULL, NULL);
}

/* ---- Aggregates (schema v5) -------------------------------------------------------------- */

static void bind_aggregate(struct bind *b, const struct store_aggregate *a, char *ra)
{
	const struct sk *k = &a->sk;
	const char *r = NULL;
	if (k->have & SK_HAVE_RADDR)
		r = *sk_addr_text(k->family, k->raddr, ra, INET6_ADDRSTRLEN) ? ra : NULL;
	store_bind_int(b, 1, a->container_id);
	store_bind_int(b, 2, a->hour);
	store_bind_text(b, 3, sk_proto_name(k->proto));
	store_bind_text(b, 4, sk_family_name(k->family));
	store_bind_text(b, 5, sk_dir_name(a->direction));
	store_bind_text(b, 6, r);
	store_bind_opt(b, 7, k->have & SK_HAVE_RPORT, k->rport);
	store_bind_int(b, 8, a->count);
	store_bind_opt(b, 9, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_sent);
	store_bind_opt(b, 10, k->have & SK_HAVE_BYTES, (int64_t)k->bytes_received);
	store_bind_int(b, 11, a->first_seen);
	store_bind_int(b, 12, a->last_seen);
}

int store_aggregate_add(struct store *st, const struct store_aggregate *a)
{
	char ra[INET6_ADDRSTRLEN];
	if (sk_proto_parse(sk_proto_name(a->sk.proto)) < 0 ||
	    sk_family_parse(sk_family_name(a->sk.family)) < 0 || sk_dir_parse(sk_dir_name(a->direction)) < 0)
		return store_fail(st, "aggregate: unknown protocol, family or direction");
	int own = store_txn_own(st);
	if (own < 0)
		return -1;
	struct bind b = { store_stmt(st, S_AGG_ADD), SQLITE_OK };
	if (!b.s)
		return store_txn_end(st, own, -1);
	bind_aggregate(&b, a, ra);
	if (store_run(st, &b, "aggregate", NULL, NULL) < 0)
		return store_txn_end(st, own, -1);
	if (sqlite3_changes(st->db) == 0) {
		b = (struct bind){ store_stmt(st, S_AGG_NEW), SQLITE_OK };
		if (!b.s)
			return store_txn_end(st, own, -1);
		bind_aggregate(&b, a, ra);
		if (store_run(st, &b, "aggregate", NULL, NULL) < 0)
			return store_txn_end(st, own, -1);
	}
	return store_txn_end(st, own, 0);
}
