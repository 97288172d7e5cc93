/* The read commands' work: each walks the store (walk.h) and prints through out.h to
 * the stream it is given. Library style: -1 with a message in err, never exit. */
#ifndef CLAWSS_REPORT_H
#define CLAWSS_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "out.h"
#include "walk.h"

enum report_by { REPORT_BY_SOCKET, REPORT_BY_DESTINATION, REPORT_BY_CONTAINER };

/* report: one row per socket, or one per group. 1 when a printed row or group carries a
 * flag, 0 when none does, -1 on failure. */
int report_print(struct sqlite3 *db, const struct report_query *q, enum report_by by,
		 enum out_format fmt, FILE *f, char *err, size_t errlen);

/* report --dns: one row per DNS query seen (dns.c). 1 when a printed row carries a
 * flag, 0 when none does, -1 on failure. */
int report_dns(struct sqlite3 *db, const struct report_query *q, enum out_format fmt,
	       FILE *f, char *err, size_t errlen);

/* report --format html: the same rows as a page with a header and per container a
 * timeline (report/html.h); command is the command line the header shows (NULL: none).
 * Returns as report_print. */
int report_print_html(struct sqlite3 *db, const struct report_query *q, enum report_by by,
		      const char *command, FILE *f, char *err, size_t errlen);

/* containers: one row per container recorded (burst by idle and burst_max, ms).
 * 0, or -1 on failure. */
int report_containers(struct sqlite3 *db, int64_t idle, int64_t burst_max,
		      enum out_format fmt, FILE *f, char *err, size_t errlen);

/* policy: an allowlist of the destinations the containers matching q->containers[0]
 * used in their burst (until_idle) and the window q->since..q->until. 0, or -1 on
 * failure (no such container included). */
int report_policy(struct sqlite3 *db, const struct report_query *q, int until_idle,
		  FILE *f, char *err, size_t errlen);

#endif
