#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "../store/query.h"
#include "aggregates.h"
#include "allow.h"
#include "out.h"

static int64_t opt64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

/* An aggregate counts connections the container opened to one destination: the same
 * rule as a socket row's (group.c) decides whether the allowlist declares it. */
static unsigned agg_flags(const struct report_query *q, const struct report_agg *a)
{
	uint8_t addr[16];
	int family;
	if (!q->allow || !a->remote_addr || strcmp(a->direction, "out") != 0 ||
	    (a->proto != SK_TCP && a->proto != SK_UDP))
		return 0;
	if (allow_addr_parse(a->remote_addr, &family, addr) < 0)
		return REPORT_F_UNDECLARED;
	return allow_match(q->allow, family, addr, a->remote_port, a->proto) ? 0 :
	       REPORT_F_UNDECLARED;
}

int report_aggregates(struct sqlite3 *db, const struct report_query *q,
		      int (*cb)(void *arg, const struct report_agg *a), void *arg, char *err,
		      size_t errlen)
{
	sqlite3_stmt *s;
	int rc = store_query_prepare(db, STORE_Q_AGGREGATES, &s), ret = 0;
	if (errlen)
		*err = '\0';
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 1, q->since);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, q->until);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_agg a = {
			.container_id = sqlite3_column_int64(s, QA_CONTAINER_ID),
			.container = (const char *)sqlite3_column_text(s, QA_CONTAINER),
			.proto_name = (const char *)sqlite3_column_text(s, QA_PROTO),
			.family = (const char *)sqlite3_column_text(s, QA_FAMILY),
			.direction = (const char *)sqlite3_column_text(s, QA_DIRECTION),
			.remote_addr = (const char *)sqlite3_column_text(s, QA_REMOTE_ADDR),
			.remote_port = (int)opt64(s, QA_REMOTE_PORT),
			.count = sqlite3_column_int64(s, QA_COUNT),
			.bytes_sent = opt64(s, QA_BYTES_SENT),
			.bytes_received = opt64(s, QA_BYTES_RECEIVED),
			.first_seen = sqlite3_column_int64(s, QA_FIRST_SEEN),
			.last_seen = sqlite3_column_int64(s, QA_LAST_SEEN),
		};
		if (!a.proto_name || !a.family || !a.direction || !report_selected(q, a.container, 0)) {
			rc = SQLITE_OK;   /* not this report's: on to the next row */
			continue;
		}
		int p = sk_proto_parse(a.proto_name);
		a.proto = p < 0 ? 0 : p;
		a.flags = agg_flags(q, &a);
		if ((ret = cb(arg, &a)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		snprintf(err, errlen, "database: aggregates: %s", sqlite3_errmsg(db));
		ret = -1;
	} else if (ret != 0 && !*err) {
		snprintf(err, errlen, "aggregates: stopped");
	}
	sqlite3_finalize(s);
	return ret ? -1 : 0;
}

struct sum {
	int64_t count, flagged;
};

static int add_up(void *arg, const struct report_agg *a)
{
	struct sum *s = arg;
	s->count += a->count;
	if (a->flags)
		s->flagged += a->count;
	return 0;
}

int report_aggregated(struct sqlite3 *db, const struct report_query *q, int64_t *count,
		      int64_t *flagged, char *err, size_t errlen)
{
	struct sum s = { 0, 0 };
	int rc = report_aggregates(db, q, add_up, &s, err, errlen);
	*count = s.count;
	*flagged = s.flagged;
	return rc;
}
