/* The fields of a report row (one socket): the one table that report (table, json,
 * csv, html) and export (json lines, with id, cursor, host and boot_id in front) print
 * from, and the one function that gives their values. */
#ifndef CLAWSS_REPORT_FIELDS_H
#define CLAWSS_REPORT_FIELDS_H

#include <stdint.h>
#include "../lib/escape.h"
#include "out.h"
#include "walk.h"

enum {
	RF_ID, RF_CURSOR, RF_HOST, RF_BOOT_ID,   /* export's, in front */
	RF_CONTAINER, RF_PROTO, RF_FAMILY, RF_DIRECTION, RF_DIR, RF_LOCAL_ADDR, RF_LOCAL_PORT,
	RF_REMOTE_ADDR, RF_REMOTE_PORT, RF_LOCAL, RF_REMOTE, RF_NAME, RF_REMOTE_NAME, RF_STATE,
	RF_FIRST, RF_LAST, RF_CLOSED, RF_SENT, RF_RECV, RF_TSENT, RF_TRECV, RF_PID, RF_COMM,
	RF_AFTER_IDLE, RF_FLAGS, RF_N,
};
extern const struct ofield report_row_fields[RF_N];

/* What export adds in front of a row. */
struct report_row_export {
	int64_t id, cursor;
	const char *host, *boot_id;   /* boot_id NULL: unknown */
};

/* Fills the values of the fields fmt shows (only those: a million rows make it count)
 * of row r of container cname; e for OUT_JSONL. The table's endpoints are written into
 * ep1 and ep2. -1 (errno ENOMEM) when they could not be. */
int report_row_values(struct oval *v, enum out_format fmt, const char *cname,
		      const struct report_row *r, const struct report_row_export *e,
		      struct rbuf *ep1, struct rbuf *ep2);

/* An endpoint for the table: "addr:port", "[v6]:port", "*" for what is unknown. */
const char *report_endpoint(struct rbuf *b, const char *addr, int port);

#endif
