/* Connections a watch counted per destination instead of recording one row each (past
 * a row budget, or held through a full disk: the aggregates table, schema v5). Report
 * shows them honestly: in --by destination and --by container they add to the groups'
 * attempts and bytes; one row per socket cannot show them, so cmd/report.c says how
 * many there are. */
#ifndef CLAWSS_REPORT_AGGREGATES_H
#define CLAWSS_REPORT_AGGREGATES_H

#include <stddef.h>
#include <stdint.h>
#include "walk.h"

struct report_agg {
	int64_t container_id;
	const char *container;               /* untrusted text */
	const char *proto_name, *family, *direction;
	int proto;                           /* enum sk_proto, 0 if unknown */
	const char *remote_addr;             /* NULL: unknown */
	int remote_port;                     /* -1: unknown */
	int64_t count;
	int64_t bytes_sent, bytes_received;  /* -1: unknown */
	int64_t first_seen, last_seen;
	unsigned flags;                      /* REPORT_F_UNDECLARED when q->allow says so */
};

/* Calls cb for every aggregate of a container q selects (its name globs) whose time
 * span meets [q->since, q->until], in the order written. Text is valid during the
 * call. 0, or -1 with err (or cb's nonzero). */
int report_aggregates(struct sqlite3 *db, const struct report_query *q,
		      int (*cb)(void *arg, const struct report_agg *a), void *arg, char *err,
		      size_t errlen);

/* How many connections those aggregates count, and how many of them are flagged
 * (undeclared by q->allow). 0 or -1 with err. */
int report_aggregated(struct sqlite3 *db, const struct report_query *q, int64_t *count,
		      int64_t *flagged, char *err, size_t errlen);

#endif
