#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "../lib/escape.h"
#include "out.h"

/* A table keeps its first TABLE_WINDOW rows to measure the columns; past them the widths
 * are frozen and rows stream, so that a million-row table neither waits for its end
 * nor holds it in memory (a wider cell then pushes the rest of its line right). */
#define TABLE_WINDOW 1000

struct out {
	FILE *f;
	enum out_format fmt;
	const struct ofield *schema;
	size_t *col;               /* the schema fields this format shows */
	size_t ncol;
	char **key;                /* json: ', "name": ' per shown field (the first without
				      the comma); csv: unused */
	size_t *keylen;
	size_t nrec;
	struct rbuf line;
	int failed;
	int64_t day;               /* put_time's cache: the date of this day number */
	char date[11];
	/* table */
	struct rbuf cells;         /* buffered rows: cells separated by NUL bytes */
	size_t *row_off;
	size_t *cellw;             /* display width and length of each buffered cell */
	size_t row_cap, cellw_cap, nbuf;
	size_t *width;             /* per shown column */
	int frozen;
};

static const char *const flag_names[REPORT_F_COUNT] = {
	"after-idle", "undeclared", "raw", "packet", "beacon", "outside-exec", "dns-tunnel",
	"host-socket",
};

const char *report_flag_name(unsigned bit_index)
{
	return bit_index < REPORT_F_COUNT ? flag_names[bit_index] : "unknown";
}

int out_format_parse(const char *s, enum out_format *fmt)
{
	if (strcmp(s, "table") == 0)
		*fmt = OUT_TABLE;
	else if (strcmp(s, "json") == 0)
		*fmt = OUT_JSON;
	else if (strcmp(s, "csv") == 0)
		*fmt = OUT_CSV;
	else if (strcmp(s, "html") == 0)
		*fmt = OUT_HTML;
	else
		return -1;
	return 0;
}

static void flags_text(struct rbuf *b, unsigned flags)
{
	int first = 1;
	for (unsigned i = 0; i < REPORT_F_COUNT; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			rbuf_putc(b, ',');
		rbuf_puts(b, flag_names[i]);
		first = 0;
	}
}

static void two_digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* RFC 3339 UTC with milliseconds, as time_format() writes it, by hand: printf is most
 * of the cost of a million-row report. The date is worked out once a day (Howard
 * Hinnant's civil_from_days); years 0-9999, else time_format(). */
static void put_time(struct out *o, struct rbuf *b, int64_t ms)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t sod = secs - days * 86400, frac = ms - secs * 1000;
	char t[24];

	if (days != o->day || !o->date[0]) {
		int64_t z = days + 719468;
		int64_t era = (z >= 0 ? z : z - 146096) / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153;
		int64_t d = doy - (153 * mp + 2) / 5 + 1;
		int64_t m = mp < 10 ? mp + 3 : mp - 9;
		int64_t y = yoe + era * 400 + (m <= 2);
		if (y < 0 || y > 9999) {
			char tmp[40];
			rbuf_puts(b, time_format(ms, tmp, sizeof(tmp)));
			return;
		}
		memcpy(o->date, "0000-00-00", 10);
		two_digits(o->date, (unsigned)(y / 100));
		two_digits(o->date + 2, (unsigned)(y % 100));
		two_digits(o->date + 5, (unsigned)m);
		two_digits(o->date + 8, (unsigned)d);
		o->date[10] = 'T';
		o->day = days;
	}
	memcpy(t, o->date, 11);
	two_digits(t + 11, (unsigned)(sod / 3600));
	t[13] = ':';
	two_digits(t + 14, (unsigned)(sod / 60 % 60));
	t[16] = ':';
	two_digits(t + 17, (unsigned)(sod % 60));
	t[19] = '.';
	t[20] = (char)('0' + frac / 100);
	two_digits(t + 21, (unsigned)(frac % 100));
	t[23] = 'Z';
	rbuf_put(b, t, sizeof(t));
}

/* A value as text for the table or csv; returns its display width. */
static size_t text_value(struct out *o, struct rbuf *b, const struct oval *v)
{
	size_t start = b->len;
	switch (v->type) {
	case OV_NULL:
		if (o->fmt == OUT_TABLE)
			rbuf_putc(b, '-');
		break;
	case OV_LIST:
		if (v->n == 0 && o->fmt == OUT_TABLE) {
			rbuf_putc(b, '-');
			break;
		}
		/* fall through */
	case OV_STR:
		if (o->fmt == OUT_CSV) {
			esc_csv(b, v->s, v->n);
			break;
		}
		return esc_text(b, v->s, v->n);
	case OV_INT:
		rbuf_put_i64(b, v->i);
		break;
	case OV_BOOL:
		rbuf_puts(b, v->i ? "true" : "false");
		break;
	case OV_TIME:
		put_time(o, b, v->i);
		break;
	case OV_FLAGS:
		if (v->i == 0 && o->fmt == OUT_TABLE) {
			rbuf_putc(b, '-');
		} else if (o->fmt == OUT_CSV && (v->i & (v->i - 1))) {
			rbuf_putc(b, '"');   /* two flags or more hold a comma */
			flags_text(b, (unsigned)v->i);
			rbuf_putc(b, '"');
		} else {
			flags_text(b, (unsigned)v->i);
		}
		break;
	}
	return b->len - start;   /* all ASCII */
}

static void json_value(struct out *o, struct rbuf *b, const struct oval *v)
{
	switch (v->type) {
	case OV_NULL:
		rbuf_put(b, "null", 4);
		break;
	case OV_STR:
		esc_json(b, v->s, v->n);
		break;
	case OV_LIST:
		rbuf_putc(b, '[');
		for (size_t i = 0; i < v->n;) {
			size_t w = i;
			while (w < v->n && v->s[w] != ' ')
				w++;
			if (w > i) {
				if (b->len && b->p[b->len - 1] != '[')
					rbuf_put(b, ", ", 2);
				esc_json(b, v->s + i, w - i);
			}
			i = w + 1;
		}
		rbuf_putc(b, ']');
		break;
	case OV_INT:
		rbuf_put_i64(b, v->i);
		break;
	case OV_BOOL:
		if (v->i)
			rbuf_put(b, "true", 4);
		else
			rbuf_put(b, "false", 5);
		break;
	case OV_TIME:
		rbuf_putc(b, '"');
		put_time(o, b, v->i);
		rbuf_putc(b, '"');
		break;
	case OV_FLAGS:
		rbuf_putc(b, '[');
		for (unsigned i = 0, first = 1; i < REPORT_F_COUNT; i++) {
			if (!(v->i & (1 << i)))
				continue;
			if (!first)
				rbuf_put(b, ", ", 2);
			rbuf_putc(b, '"');
			rbuf_puts(b, flag_names[i]);
			rbuf_putc(b, '"');
			first = 0;
		}
		rbuf_putc(b, ']');
		break;
	}
}

static int flush_line(struct out *o)
{
	/* an empty line has no buffer yet: fwrite(NULL, ...) is undefined */
	if (o->line.oom ||
	    (o->line.len && fwrite(o->line.p, 1, o->line.len, o->f) != o->line.len))
		o->failed = 1;
	rbuf_reset(&o->line);
	return o->failed ? -1 : 0;
}

/* ---- html: the table's columns; every string through esc_html ---- */

static void html_head(struct out *o)
{
	rbuf_puts(&o->line, "<table class=\"rows\">\n<thead><tr>");
	for (size_t j = 0; j < o->ncol; j++) {
		const struct ofield *fd = &o->schema[o->col[j]];
		rbuf_puts(&o->line, fd->where & OF_RIGHT ? "<th class=\"n\">" : "<th>");
		rbuf_puts(&o->line, fd->name);   /* ours, not container text */
		rbuf_puts(&o->line, "</th>");
	}
	rbuf_puts(&o->line, "</tr></thead>\n<tbody>\n");
	flush_line(o);
}

static void html_value(struct out *o, struct rbuf *b, const struct oval *v)
{
	switch (v->type) {
	case OV_NULL:
		rbuf_puts(b, "<span class=\"null\">-</span>");
		break;
	case OV_STR:
		esc_html(b, v->s, v->n);
		break;
	case OV_FLAGS:
		for (unsigned i = 0; i < REPORT_F_COUNT; i++) {
			if (!(v->i & (1 << i)))
				continue;
			/* flag names are ours: safe as text and as a class name */
			rbuf_printf(b, "<span class=\"flag f-%s\">%s</span> ", flag_names[i],
				    flag_names[i]);
		}
		break;
	default:
		text_value(o, b, v);
	}
}

static void html_record(struct out *o, const struct oval *vals)
{
	int flagged = 0;
	for (size_t j = 0; j < o->ncol; j++)
		if (vals[o->col[j]].type == OV_FLAGS && vals[o->col[j]].i)
			flagged = 1;
	rbuf_puts(&o->line, flagged ? "<tr class=\"flagged\">" : "<tr>");
	for (size_t j = 0; j < o->ncol; j++) {
		rbuf_puts(&o->line, o->schema[o->col[j]].where & OF_RIGHT ? "<td class=\"n\">" :
			  "<td>");
		html_value(o, &o->line, &vals[o->col[j]]);
		rbuf_puts(&o->line, "</td>");
	}
	rbuf_puts(&o->line, "</tr>\n");
}

static void out_free(struct out *o)
{
	if (o->key)
		for (size_t j = 0; j < o->ncol; j++)
			free(o->key[j]);
	free(o->key);
	free(o->keylen);
	free(o->col);
	rbuf_free(&o->line);
	rbuf_free(&o->cells);
	free(o->row_off);
	free(o->cellw);
	free(o->width);
	free(o);
}

struct out *out_new(FILE *f, enum out_format fmt, const struct ofield *schema, size_t n)
{
	struct out *o = calloc(1, sizeof(*o));
	unsigned mask = fmt == OUT_TABLE || fmt == OUT_HTML ? OF_TABLE :
			fmt == OUT_JSON ? OF_JSON : fmt == OUT_JSONL ? OF_JSON | OF_EXPORT : OF_CSV;

	if (!o)
		return NULL;
	*o = (struct out){ .f = f, .fmt = fmt, .schema = schema };
	o->col = calloc(n ? n : 1, sizeof(*o->col));
	o->width = calloc(n ? n : 1, sizeof(*o->width));
	if (!o->col || !o->width)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (schema[i].where & mask)
			o->col[o->ncol++] = i;
	if (fmt == OUT_JSON || fmt == OUT_JSONL) {
		o->key = calloc(o->ncol ? o->ncol : 1, sizeof(*o->key));
		o->keylen = calloc(o->ncol ? o->ncol : 1, sizeof(*o->keylen));
		if (!o->key || !o->keylen)
			goto fail;
		for (size_t j = 0; j < o->ncol; j++) {
			const char *name = schema[o->col[j]].name;
			size_t len = strlen(name) + (j ? 6 : 4);
			if (!(o->key[j] = malloc(len + 1)))
				goto fail;
			snprintf(o->key[j], len + 1, "%s\"%s\": ", j ? ", " : "", name);
			o->keylen[j] = len;
		}
	} else if (fmt == OUT_TABLE) {
		for (size_t j = 0; j < o->ncol; j++)
			o->width[j] = strlen(schema[o->col[j]].name);
	} else if (fmt == OUT_HTML) {
		html_head(o);
	} else {
		for (size_t j = 0; j < o->ncol; j++) {
			if (j)
				rbuf_putc(&o->line, ',');
			rbuf_puts(&o->line, schema[o->col[j]].name);
		}
		rbuf_puts(&o->line, "\r\n");
		flush_line(o);
	}
	return o;
fail:
	out_free(o);
	return NULL;
}

static void pad(struct rbuf *b, size_t n)
{
	static const char spaces[] = "                                ";
	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		rbuf_put(b, spaces, k);
		n -= k;
	}
}

/* One table line from NUL-separated cells, with each cell's display width and length
 * in w (w[2j], w[2j + 1]); the last column is not padded. */
static void table_line(struct out *o, const char *cells, const size_t *w)
{
	for (size_t j = 0; j < o->ncol; j++) {
		unsigned where = o->schema[o->col[j]].where;
		size_t len = w[2 * j + 1];
		size_t fill = o->width[j] > w[2 * j] ? o->width[j] - w[2 * j] : 0;
		if (where & OF_RIGHT)
			pad(&o->line, fill);
		rbuf_put(&o->line, cells, len);
		if (j + 1 < o->ncol) {
			if (!(where & OF_RIGHT))
				pad(&o->line, fill);
			rbuf_put(&o->line, "  ", 2);
		}
		cells += len + 1;
	}
	rbuf_putc(&o->line, '\n');
}

static void table_head(struct out *o)
{
	struct rbuf head = { 0 };
	size_t *w = calloc(o->ncol ? 2 * o->ncol : 1, sizeof(*w));
	for (size_t j = 0; w && j < o->ncol; j++) {
		const char *p = o->schema[o->col[j]].name;
		for (w[2 * j] = 0; p[w[2 * j]]; w[2 * j]++)
			rbuf_putc(&head, (char)toupper((unsigned char)p[w[2 * j]]));
		w[2 * j + 1] = w[2 * j];
		rbuf_putc(&head, '\0');
	}
	if (!w || head.oom)
		o->failed = 1;
	else
		table_line(o, head.p, w);
	free(w);
	rbuf_free(&head);
}

/* Appends the row's cells to o->cells, NUL after each, their widths and lengths to w. */
static int table_cells(struct out *o, const struct oval *vals, size_t *w)
{
	for (size_t j = 0; j < o->ncol; j++) {
		size_t start = o->cells.len;
		w[2 * j] = text_value(o, &o->cells, &vals[o->col[j]]);
		w[2 * j + 1] = o->cells.len - start;
		rbuf_putc(&o->cells, '\0');
	}
	return o->cells.oom ? -1 : 0;
}

static int table_record(struct out *o, const struct oval *vals)
{
	if (o->frozen) {
		size_t w[128];
		if (2 * o->ncol > sizeof(w) / sizeof(w[0]))
			return -1;
		rbuf_reset(&o->cells);
		if (table_cells(o, vals, w) < 0)
			return -1;
		table_line(o, o->cells.p, w);
		return o->line.len >= 65536 ? flush_line(o) : 0;
	}
	if (util_grow(&o->row_off, &o->row_cap, o->nbuf + 1, sizeof(*o->row_off)) < 0 ||
	    util_grow(&o->cellw, &o->cellw_cap, (o->nbuf + 1) * 2 * o->ncol,
		      sizeof(*o->cellw)) < 0)
		return -1;
	size_t *w = o->cellw + o->nbuf * 2 * o->ncol;
	o->row_off[o->nbuf++] = o->cells.len;
	if (table_cells(o, vals, w) < 0)
		return -1;
	for (size_t j = 0; j < o->ncol; j++)
		if (w[2 * j] > o->width[j])
			o->width[j] = w[2 * j];
	if (o->nbuf < TABLE_WINDOW)
		return 0;
	/* the window is full: print it and stream from now on */
	table_head(o);
	for (size_t r = 0; r < o->nbuf; r++)
		table_line(o, o->cells.p + o->row_off[r], o->cellw + r * 2 * o->ncol);
	o->nbuf = 0;
	o->frozen = 1;
	return flush_line(o);
}

int out_record(struct out *o, const struct oval *vals)
{
	if (o->failed)
		return -1;
	o->nrec++;
	if (o->fmt == OUT_TABLE) {
		if (table_record(o, vals) < 0)
			return o->failed = 1, -1;
		return 0;
	}
	if (o->fmt == OUT_HTML) {
		html_record(o, vals);
	} else if (o->fmt == OUT_JSON || o->fmt == OUT_JSONL) {
		if (o->fmt == OUT_JSONL)
			rbuf_putc(&o->line, '{');
		else
			rbuf_put(&o->line, o->nrec > 1 ? ",\n  {" : "[\n  {", 5);
		for (size_t j = 0; j < o->ncol; j++) {
			rbuf_put(&o->line, o->key[j], o->keylen[j]);
			json_value(o, &o->line, &vals[o->col[j]]);
		}
		rbuf_puts(&o->line, o->fmt == OUT_JSONL ? "}\n" : "}");
	} else {
		for (size_t j = 0; j < o->ncol; j++) {
			if (j)
				rbuf_putc(&o->line, ',');
			text_value(o, &o->line, &vals[o->col[j]]);
		}
		rbuf_put(&o->line, "\r\n", 2);
	}
	return o->line.len >= 65536 ? flush_line(o) : 0;
}

int out_end(struct out *o)
{
	int rc = 0;
	if (!o->failed) {
		if (o->fmt == OUT_TABLE) {
			if (!o->frozen)
				table_head(o);
			for (size_t r = 0; r < o->nbuf && !o->failed; r++) {
				table_line(o, o->cells.p + o->row_off[r], o->cellw + r * 2 * o->ncol);
				if (o->line.len >= 65536)
					flush_line(o);
			}
		} else if (o->fmt == OUT_JSON) {
			rbuf_puts(&o->line, o->nrec ? "\n]\n" : "[]\n");
		} else if (o->fmt == OUT_HTML) {
			rbuf_puts(&o->line, "</tbody>\n</table>\n");
		}
		rc = flush_line(o);
	}
	if (o->failed)
		rc = -1;
	out_free(o);
	return rc;
}
