/* export: the connections that changed since a cursor, one JSON object a line, for a
 * fleet's log store (clawss-export(8)). The cursor is the store's change sequence
 * (schema.h, version 2): every socket write takes the next value into sockets.updated,
 * so a row that closes or moves its byte counts after it was exported is exported again,
 * with a higher cursor. Library style: -1 with a message in err, never exit. */
#ifndef CLAWSS_REPORT_EXPORT_H
#define CLAWSS_REPORT_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sqlite3;

struct export_query {
	int64_t since;        /* cursor: rows changed after it; 0 for everything */
	int64_t idle;         /* ms: the burst rule behind after_idle, as report --idle */
	const char *host;     /* the "host" field */
};

struct export_result {
	int64_t next;         /* the cursor to continue from */
	int64_t rows;         /* objects written */
	int ahead;            /* since was ahead of this database's sequence (a recreated or
				 restored file): everything was exported */
};

/* Writes, ordered by cursor, one object per report row (report --format json's fields,
 * plus id, cursor, host and boot_id) whose socket changed after q->since, and fills r.
 * The fields are report's as of now: after_idle with q->idle, flags without after-idle
 * and undeclared (no --since-idle, no allowlist). 0, or -1 with err. */
int report_export(struct sqlite3 *db, const struct export_query *q, FILE *f,
		  struct export_result *r, char *err, size_t errlen);

#endif
