/* Every byte of text that reaches the user from the database goes through here: process
 * and container names come from inside containers and are hostile. One place, so that
 * table, csv and json cannot disagree about what is safe. */
#ifndef CLAWSS_ESCAPE_H
#define CLAWSS_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growable byte buffer. Out of memory is sticky: b->oom is set and later appends are
 * dropped, so callers check once at the end. */
struct rbuf {
	char *p;
	size_t len, cap;
	int oom;
};

/* Makes room for n more bytes and a NUL; -1 (and b->oom) when it cannot. */
int rbuf_grow(struct rbuf *b, size_t n);

static inline void rbuf_put(struct rbuf *b, const void *s, size_t n)
{
	if (n == 0 || (b->len + n + 1 > b->cap && rbuf_grow(b, n) < 0))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void rbuf_puts(struct rbuf *b, const char *s)
{
	rbuf_put(b, s, strlen(s));
}

static inline void rbuf_putc(struct rbuf *b, char c)
{
	if (b->len + 2 > b->cap && rbuf_grow(b, 1) < 0)
		return;
	b->p[b->len++] = c;
}
void rbuf_printf(struct rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A decimal integer: printf is most of the cost of a million-row report or export. */
void rbuf_put_i64(struct rbuf *b, int64_t v);
/* NUL-terminates (not counted in len) and returns b->p, or NULL after an allocation failure. */
const char *rbuf_str(struct rbuf *b);
void rbuf_reset(struct rbuf *b);
void rbuf_free(struct rbuf *b);

/* Terminal-safe text, for table cells, csv fields and comments in policy files.
 * Printable ASCII and valid UTF-8 pass, except:
 *   backslash              -> \\
 *   C0 controls and DEL    -> \xNN   (ESC is \x1b, BEL \x07, newline \x0a)
 *   a byte that is not part of valid UTF-8 (overlong, surrogate, truncated) -> \xNN
 *   C1 controls U+0080-U+009F, bidirectional controls, U+2028/U+2029, zero-width
 *   characters and U+FEFF  -> \uXXXX
 * The result never contains a control byte and the mapping is reversible.
 * Returns the display width of what was appended (columns on a terminal). */
size_t esc_text(struct rbuf *b, const char *s, size_t n);
/* A JSON string literal, quotes included. Control characters and the code points
 * esc_text escapes are \uXXXX; a byte that is not valid UTF-8 becomes U+FFFD, so the
 * output is valid JSON (and valid UTF-8) for any input. */
void esc_json(struct rbuf *b, const char *s, size_t n);
/* A CSV field (RFC 4180): the esc_text form, double-quoted when it holds a comma, a
 * double quote, or leading or trailing blanks, or is empty (an empty field unquoted
 * means null). A field that starts with = + - or @ (a spreadsheet formula) is quoted
 * with a ' before its first character: "'=cmd". */
void esc_csv(struct rbuf *b, const char *s, size_t n);
/* Text for HTML, safe both as element content and inside a double- or single-quoted
 * attribute (SVG's too): the esc_text form (so no control or hidden character reaches
 * the page either), then & < > " ' as character references. */
void esc_html(struct rbuf *b, const char *s, size_t n);
/* Display width of text that esc_text already made safe. */
size_t esc_width(const char *s, size_t n);

#endif
