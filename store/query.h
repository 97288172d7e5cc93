/* The schema's reads for report/: the SQL of every query the read commands run, and
 * the columns each returns. Only store/ writes SQL against the schema (schema.h);
 * report/ prepares a query by its id, binds the parameters named here, steps it and
 * reads the columns by these indices. Library style: SQLite codes, never print. */
#ifndef CLAWSS_STORE_QUERY_H
#define CLAWSS_STORE_QUERY_H

#include <stdint.h>

struct sqlite3;
struct sqlite3_stmt;

enum store_query {
	STORE_Q_CONTAINERS,      /* every container, by id: QC_* */
	STORE_Q_EXECS,           /* exec windows by container and start: QX_* */
	STORE_Q_SOCKETS_BRIEF,   /* every socket, by id: QB_* (the first scan's columns) */
	STORE_Q_SOCKETS_DETAIL,  /* sockets from id ?1 on, by id: QD_* (the rest) */
	STORE_Q_NAMES,           /* name episodes: QN_* (schema 4; fails to prepare before) */
	STORE_Q_DNS_QUERIES,     /* by container, time: QQ_* (schema 4; likewise) */
	STORE_Q_AGGREGATES,      /* meeting [?1, ?2], in the order written: QA_* */
	STORE_Q_CHANGED,         /* sockets with ?1 < updated <= ?2: QU_* */
	STORE_Q_CONTAINER_NAME,  /* container ?1: its name (column 0) */
	STORE_Q_EXPORT_ROW,      /* socket ?1 if its updated is still ?2: QE_* (remote_name
				    null before schema 4) */
	STORE_Q_HOST,            /* the host the database was recorded on (column 0) */
	STORE_Q_COUNT
};

enum { QC_ID, QC_NAME, QC_ENGINE_ID, QC_NETNS, QC_STARTED, QC_FIRST_SEEN, QC_LAST_SEEN,
       QC_ENDED };
enum { QX_CONTAINER_ID, QX_START, QX_END };
enum { QB_ID, QB_CONTAINER_ID, QB_FIRST_SEEN, QB_PROTO, QB_DIRECTION, QB_REMOTE_ADDR,
       QB_REMOTE_PORT };
enum { QD_ID, QD_FAMILY, QD_LOCAL_ADDR, QD_LOCAL_PORT, QD_STATE, QD_LAST_SEEN,
       QD_CLOSED_AT, QD_BYTES_SENT, QD_BYTES_RECEIVED, QD_PID, QD_COMM };
enum { QN_CONTAINER_ID, QN_NAME, QN_ADDR, QN_FIRST_SEEN, QN_LAST_SEEN, QN_TTL };
enum { QQ_CONTAINER_ID, QQ_T, QQ_QNAME, QQ_QTYPE, QQ_RESOLVER_ADDR, QQ_RESOLVER_PORT,
       QQ_PROTO, QQ_RCODE, QQ_ANSWERS };
enum { QA_CONTAINER_ID, QA_CONTAINER, QA_PROTO, QA_FAMILY, QA_DIRECTION, QA_REMOTE_ADDR,
       QA_REMOTE_PORT, QA_COUNT, QA_BYTES_SENT, QA_BYTES_RECEIVED, QA_FIRST_SEEN,
       QA_LAST_SEEN };
enum { QU_ID, QU_UPDATED, QU_CONTAINER_ID };
enum { QE_UPDATED, QE_CONTAINER, QE_BOOT_ID, QE_PROTO, QE_FAMILY, QE_DIRECTION,
       QE_LOCAL_ADDR, QE_LOCAL_PORT, QE_REMOTE_ADDR, QE_REMOTE_PORT, QE_STATE,
       QE_FIRST_SEEN, QE_LAST_SEEN, QE_CLOSED_AT, QE_BYTES_SENT, QE_BYTES_RECEIVED, QE_PID,
       QE_COMM, QE_REMOTE_NAME };

/* Prepares query q on db into *st (the caller finalizes it). An SQLite code. */
int store_query_prepare(struct sqlite3 *db, enum store_query q, struct sqlite3_stmt **st);
/* The committed change sequence (meta 'seq', schema 2): 1 and *seq, 0 when the store
 * has none (older than 2), or an SQLite error code negated. */
int store_query_seq(struct sqlite3 *db, int64_t *seq);
/* A read transaction, so that several queries see one snapshot while watch writes;
 * store_read_end ends it whatever happened. SQLite code. */
int store_read_begin(struct sqlite3 *db);
void store_read_end(struct sqlite3 *db);

#endif
