#include <stddef.h>
#include <sqlite3.h>
#include "query.h"
#include "store_int.h"

#define EXPORT_COLUMNS \
	"SELECT s.updated, c.name, c.boot_id, s.proto, s.family, s.direction, s.local_addr," \
	" s.local_port, s.remote_addr, s.remote_port, s.state, s.first_seen, s.last_seen," \
	" s.closed_at, s.bytes_sent, s.bytes_received, s.pid, s.comm"
#define EXPORT_FROM \
	" FROM sockets s JOIN containers c ON c.id = s.container_id" \
	" WHERE s.id = ?1 AND s.updated = ?2"

static const char *const query_sql[STORE_Q_COUNT] = {
	[STORE_Q_CONTAINERS] =
		"SELECT id, name, engine_id, netns_ino, started, first_seen, last_seen, ended"
		" FROM containers ORDER BY id",
	[STORE_Q_EXECS] =
		"SELECT container_id, start, end FROM activity WHERE kind = 'exec'"
		" ORDER BY container_id, start",
	/* Both socket scans read the whole table in rowid order (free: it is the table's
	 * own order), so the second meets the rows in the order the first kept them.
	 * Which rows are report rows is decided in C, once, for both: cheaper than a
	 * WHERE clause. */
	[STORE_Q_SOCKETS_BRIEF] =
		"SELECT id, container_id, first_seen, proto, direction, remote_addr, remote_port"
		" FROM sockets ORDER BY id",
	[STORE_Q_SOCKETS_DETAIL] =
		"SELECT id, family, local_addr, local_port, state, last_seen, closed_at,"
		" bytes_sent, bytes_received, pid, comm FROM sockets WHERE id >= ?1 ORDER BY id",
	[STORE_Q_NAMES] =
		"SELECT container_id, name, addr, first_seen, last_seen, ttl FROM names",
	[STORE_Q_DNS_QUERIES] =
		"SELECT container_id, t, qname, qtype, resolver_addr, resolver_port, proto,"
		" rcode, answers FROM dns_queries ORDER BY container_id, t, id",
	[STORE_Q_AGGREGATES] =
		"SELECT a.container_id, c.name, a.proto, a.family, a.direction, a.remote_addr, "
		"a.remote_port, a.count, a.bytes_sent, a.bytes_received, a.first_seen, "
		"a.last_seen FROM aggregates a JOIN containers c ON c.id = a.container_id "
		"WHERE a.last_seen >= ?1 AND a.first_seen <= ?2 ORDER BY a.id",
	[STORE_Q_CHANGED] =
		"SELECT id, updated, container_id FROM sockets WHERE updated > ?1 AND updated <= ?2",
	[STORE_Q_CONTAINER_NAME] = "SELECT name FROM containers WHERE id = ?1",
	[STORE_Q_EXPORT_ROW] = EXPORT_COLUMNS ", " STORE_REMOTE_NAME_SQL EXPORT_FROM,
	[STORE_Q_HOST] = "SELECT value FROM meta WHERE key = 'host'",
};

/* a database from before names (schema < 4), read as it is */
static const char export_row_v3[] = EXPORT_COLUMNS ", NULL" EXPORT_FROM;

int store_query_prepare(struct sqlite3 *db, enum store_query q, struct sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, query_sql[q], -1, st, NULL);
	if (rc != SQLITE_OK && q == STORE_Q_EXPORT_ROW)
		rc = sqlite3_prepare_v2(db, export_row_v3, -1, st, NULL);
	return rc;
}

int store_sql_i64(struct sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc;
}

int store_query_seq(struct sqlite3 *db, int64_t *seq)
{
	int rc = store_sql_i64(db, STORE_SEQ_SQL, seq);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -rc;
}

int store_read_begin(struct sqlite3 *db)
{
	return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
}

void store_read_end(struct sqlite3 *db)
{
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}
