/* The printers every read command shares: records of typed fields, written as an
 * aligned table, one JSON array, or RFC 4180 CSV with a header. All text goes through
 * escape.h. Fields are declared once (a schema) so that csv prints its header and the
 * table its column titles even when there is no record. */
#ifndef CLAWSS_REPORT_OUT_H
#define CLAWSS_REPORT_OUT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* OUT_HTML: the table's fields as an HTML <table> (report/html.c builds the page
 * around it). OUT_JSONL: export's, one object a line with the OF_JSON and OF_EXPORT
 * fields. */
enum out_format { OUT_TABLE, OUT_JSON, OUT_CSV, OUT_HTML, OUT_JSONL };

/* Where a field appears, and how the table aligns it. */
enum {
	OF_JSON = 1, OF_CSV = 2, OF_TABLE = 4, OF_DATA = OF_JSON | OF_CSV,
	OF_ALL = OF_DATA | OF_TABLE, OF_RIGHT = 8, OF_EXPORT = 16,
};

enum oval_type {
	OV_NULL,    /* json null; empty in csv; "-" in the table */
	OV_STR,     /* s, n bytes of untrusted text */
	OV_INT,
	OV_BOOL,
	OV_TIME,    /* i ms since the epoch, RFC 3339 UTC with milliseconds */
	OV_FLAGS,   /* i a mask of REPORT_F_*; json array, "a,b" elsewhere, "-" if none */
	OV_LIST,    /* s, n: words separated by single spaces; json array of strings,
		       the text as it is elsewhere, "-" in the table when empty */
};

struct ofield {
	const char *name;   /* json key and csv column; the table title is it in capitals */
	unsigned where;
};

struct oval {
	int type;
	const char *s;
	size_t n;
	int64_t i;
};

static inline struct oval ov_null(void) { return (struct oval){ .type = OV_NULL }; }
static inline struct oval ov_int(int64_t i) { return (struct oval){ .type = OV_INT, .i = i }; }
static inline struct oval ov_bool(int b) { return (struct oval){ .type = OV_BOOL, .i = !!b }; }
static inline struct oval ov_time(int64_t t) { return (struct oval){ .type = OV_TIME, .i = t }; }
static inline struct oval ov_flags(unsigned f) { return (struct oval){ .type = OV_FLAGS, .i = f }; }
/* The same, written in place: a million-row report builds a row of them per socket,
 * and whole-struct temporaries cost more than the fields. */
static inline void ov_set_null(struct oval *v) { v->type = OV_NULL; }
static inline void ov_set_int(struct oval *v, int64_t i) { v->type = OV_INT; v->i = i; }
static inline void ov_set_opt(struct oval *v, int64_t i)   /* negative: null */
{
	v->type = i < 0 ? OV_NULL : OV_INT;
	v->i = i;
}
static inline void ov_set_bool(struct oval *v, int b) { v->type = OV_BOOL; v->i = !!b; }
static inline void ov_set_time(struct oval *v, int64_t t) { v->type = OV_TIME; v->i = t; }
static inline void ov_set_flags(struct oval *v, unsigned f) { v->type = OV_FLAGS; v->i = f; }
static inline void ov_set_str(struct oval *v, const char *s)
{
	v->type = s ? OV_STR : OV_NULL;
	v->s = s;
	v->n = s ? strlen(s) : 0;
}

static inline void ov_set_list(struct oval *v, const char *s)
{
	v->type = OV_LIST;
	v->s = s ? s : "";
	v->n = s ? strlen(s) : 0;
}

/* NULL gives ov_null() */
static inline struct oval ov_str(const char *s)
{
	return s ? (struct oval){ .type = OV_STR, .s = s, .n = strlen(s) } : ov_null();
}

/* Flag bits of report rows and groups, in the order they are printed. */
enum {
	REPORT_F_AFTER_IDLE = 1u << 0,
	REPORT_F_UNDECLARED = 1u << 1,
	REPORT_F_RAW = 1u << 2,
	REPORT_F_PACKET = 1u << 3,
	REPORT_F_BEACON = 1u << 4,
	REPORT_F_OUTSIDE_EXEC = 1u << 5,
	REPORT_F_DNS_TUNNEL = 1u << 6,
	REPORT_F_HOST_SOCKET = 1u << 7,   /* a unix socket whose peer is outside */
	REPORT_F_COUNT = 8,
};
const char *report_flag_name(unsigned bit_index);

struct out;
/* NULL when out of memory. */
struct out *out_new(FILE *f, enum out_format fmt, const struct ofield *schema, size_t n);
/* One record: vals[i] is schema[i]'s value. -1 on a write or allocation failure. */
int out_record(struct out *o, const struct oval *vals);
/* Ends the output (the table is printed here). -1 on failure. Frees o either way. */
int out_end(struct out *o);
int out_format_parse(const char *s, enum out_format *fmt);

#endif
