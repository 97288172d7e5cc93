/* Between report/html.c (collecting, the page) and report/html_svg.c (drawing one
 * container's timeline). Not for other files. */
#ifndef CLAWSS_REPORT_HTML_INT_H
#define CLAWSS_REPORT_HTML_INT_H

#include <stdint.h>
#include "../lib/escape.h"
#include "html.h"
#include "tlayout.h"

/* lanes a container's timeline shows, the last one gathering the rest */
#define HTML_MAX_LANES 40

struct hcont {
	int64_t id;
	char *name;
	int64_t start, last_seen, ended;   /* ended -1: still watched */
	int burst_known;
	int64_t burst_end;
	struct report_window *exec;
	size_t nexec;
	size_t rows, flagged;              /* shown rows */
	size_t moff, nm;                   /* its marks, once bucketed */
};

struct html_page {
	struct html_meta meta;
	char *command, *host, *table_title;
	struct hcont *cs;
	size_t ncs, ccap;
	struct tl_lanes lanes;
	struct tl_mark *marks;
	size_t nm, mcap;
	struct rbuf tips;                  /* each mark's tooltip, escaped, NUL after */
	unsigned allflags;                 /* union over the shown rows */
	size_t rows, flagged;
	int64_t lo, hi;                    /* open times of the shown rows */
	struct rbuf lab, tip;              /* scratch */
};

/* A container's timeline: an inline SVG and its caption. The container's marks (sorted
 * in place) are marks[moff .. moff + nm). */
void html_svg_container(struct rbuf *b, struct html_page *h, const struct hcont *c,
			struct tl_cluster *scratch);
/* The legend for these flags: shapes and colours as the timelines draw them. */
void html_svg_legend(struct rbuf *b, unsigned flags, int any_exec);
/* "12 B", "3.4 kB", "5.0 MB" */
void html_bytes(struct rbuf *b, int64_t bytes);
/* A unit of a scale: values below `below` (0: any) are in it, divided by div. */
struct html_unit {
	int64_t below;
	double div;
	const char *name;
};
/* v in the first unit of u it is below: a whole number in the first, else to one
 * decimal ("850ms", "3.4 kB"). */
void html_scaled(struct rbuf *b, int64_t v, const struct html_unit *u);

#endif
