/* report --format html: one self-contained page for an incident ticket. A header (host,
 * time window, options, how many flagged), per container a timeline in inline SVG
 * (life, burst window and the idle gap that ended it, exec windows, one lane per
 * destination with each connection at its open time, flagged ones marked by flag),
 * a legend, then the rows as out.c's HTML table. Inline CSS and SVG only: no script,
 * nothing fetched (a Content-Security-Policy forbids it), every string from the store
 * through esc_html. The page collects what it draws while the walker streams rows
 * (a mark and its escaped tooltip, about 150 bytes a row) and is written at the end. */
#ifndef CLAWSS_REPORT_HTML_H
#define CLAWSS_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>
#include "walk.h"

struct html_meta {
	const char *command;      /* the command line, as the user typed it; NULL: none */
	const char *host;         /* where the data was recorded; NULL: unknown */
	const char *table_title;  /* heading of the rows: "Connections", "Destinations" */
	int64_t generated;        /* ms */
	const struct report_query *q;
};

struct html_page;

/* NULL when out of memory. meta's strings are copied. */
struct html_page *html_new(const struct html_meta *meta);
/* Walker callbacks (walk.h): 0, or -1 with errno set. */
int html_container(void *page, const struct report_container *c);
int html_row(void *page, const struct report_container *c, const struct report_row *r);
/* The whole page to f, with table (out.c's HTML table, len bytes) after the
 * timelines. 0, or -1 on a write or allocation failure. */
int html_write(struct html_page *h, FILE *f, const char *table, size_t len);
void html_free(struct html_page *h);

#endif
