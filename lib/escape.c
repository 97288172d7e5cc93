#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"

int rbuf_grow(struct rbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void rbuf_put_i64(struct rbuf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	rbuf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void rbuf_printf(struct rbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		rbuf_put(b, tmp, (size_t)n);
		return;
	}
	if (rbuf_grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *rbuf_str(struct rbuf *b)
{
	if (rbuf_grow(b, 0) < 0)
		return NULL;
	b->p[b->len] = '\0';
	return b->p;
}

void rbuf_reset(struct rbuf *b)
{
	b->len = 0;
}

void rbuf_free(struct rbuf *b)
{
	free(b->p);
	*b = (struct rbuf){ 0 };
}

/* Length (1..4) of the valid UTF-8 sequence at s and its code point, or 0 when the byte
 * at s starts none (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Code points that are valid UTF-8 but act on a terminal or hide or reorder text:
 * C1 controls (U+009B is CSI to a UTF-8 terminal), bidirectional overrides (the
 * "trojan source" trick), line separators, zero-width characters, and the invisible
 * tag characters used to smuggle text past a human reader. */
static int cp_hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f);
}

/* Columns a code point takes on a terminal: a small wcwidth() that does not depend on
 * the locale (clawss never calls setlocale). */
static int cp_width(uint32_t c)
{
	static const uint32_t zero[][2] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x1ab0, 0x1aff },
		{ 0x1dc0, 0x1dff }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
		{ 0xe0100, 0xe01ef },
	};
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff }, { 0x3400, 0x4dbf },
		{ 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
		{ 0xfe30, 0xfe4f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
	};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (c >= zero[i][0] && c <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return 2;
	return 1;
}

static const char hex[] = "0123456789abcdef";

size_t esc_text(struct rbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t width = 0;

	while (p < end) {
		const unsigned char *run = p;
		/* the common case: a run of printable ASCII copied at once */
		while (p < end && *p >= 0x20 && *p < 0x7f && *p != '\\')
			p++;
		rbuf_put(b, run, (size_t)(p - run));
		width += (size_t)(p - run);
		if (p == end)
			break;
		uint32_t cp;
		size_t len = utf8_decode(p, (size_t)(end - p), &cp);
		if (*p == '\\') {
			rbuf_put(b, "\\\\", 2);
			width += 2;
			p++;
		} else if (len == 1 || len == 0) {
			/* a C0 control, DEL, or a byte that is not valid UTF-8 */
			char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };
			rbuf_put(b, e, 4);
			width += 4;
			p++;
		} else if (cp_hidden(cp)) {
			rbuf_printf(b, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
			width += cp > 0xffff ? 10 : 6;
			p += len;
		} else {
			rbuf_put(b, p, len);
			width += (size_t)cp_width(cp);
			p += len;
		}
	}
	return width;
}

void esc_json(struct rbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	rbuf_putc(b, '"');
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
			p++;
		rbuf_put(b, run, (size_t)(p - run));
		if (p == end)
			break;
		uint32_t cp;
		size_t len = utf8_decode(p, (size_t)(end - p), &cp);
		switch (len ? cp : 0xfffd) {
		case '"': rbuf_put(b, "\\\"", 2); break;
		case '\\': rbuf_put(b, "\\\\", 2); break;
		case '\b': rbuf_put(b, "\\b", 2); break;
		case '\f': rbuf_put(b, "\\f", 2); break;
		case '\n': rbuf_put(b, "\\n", 2); break;
		case '\r': rbuf_put(b, "\\r", 2); break;
		case '\t': rbuf_put(b, "\\t", 2); break;
		default:
			if (len == 0) {
				rbuf_put(b, "\\ufffd", 6);   /* not UTF-8: the replacement character */
				len = 1;
			} else if (cp < 0x20 || cp == 0x7f || (cp_hidden(cp) && cp <= 0xffff)) {
				rbuf_printf(b, "\\u%04x", (unsigned)cp);
			} else if (cp_hidden(cp)) {
				/* a tag character: a UTF-16 surrogate pair, as JSON spells it */
				uint32_t v = cp - 0x10000;
				rbuf_printf(b, "\\u%04x\\u%04x", 0xd800 + (unsigned)(v >> 10),
					    0xdc00 + (unsigned)(v & 0x3ff));
			} else {
				rbuf_put(b, p, len);
			}
		}
		p += len ? len : 1;
	}
	rbuf_putc(b, '"');
}

/* Room for extra more bytes after the field that starts at start (the field is then
 * rewritten from the back, in place); NULL when out of memory. */
static char *widen(struct rbuf *b, size_t start, size_t extra)
{
	for (size_t i = 0; i < extra; i++)
		rbuf_putc(b, ' ');
	return b->oom ? NULL : b->p + start;
}

void esc_csv(struct rbuf *b, const char *s, size_t n)
{
	size_t start = b->len;
	esc_text(b, s, n);
	if (b->oom)
		return;
	size_t flen = b->len - start;
	const char *f = flen ? b->p + start : "";   /* b->p is NULL while nothing was put */
	/* A spreadsheet reads a cell that starts with = + - @ (or tab, CR: esc_text has
	 * already escaped those) as a formula, and a container chooses its process and
	 * container names: such a cell gets a leading ' inside quotes (OWASP, "CSV
	 * Injection"), which spreadsheets show as text. Only text goes through here; our
	 * numbers (a negative cookie) are printed as numbers and left alone. */
	int formula = flen && strchr("=+-@\t\r", f[0]);
	int quote = formula || flen == 0 || f[0] == ' ' || f[flen - 1] == ' ' ||
		    memchr(f, ',', flen) || memchr(f, '"', flen);
	if (!quote)
		return;
	size_t quotes = 0;
	for (size_t i = 0; i < flen; i++)
		quotes += f[i] == '"';
	/* grow in place: shift the field right and double its quotes from the back */
	size_t extra = 2 + quotes + (size_t)formula;
	char *q = widen(b, start, extra);
	if (!q)
		return;
	size_t w = flen + extra;
	q[--w] = '"';
	for (size_t i = flen; i-- > 0;) {
		q[--w] = q[i];
		if (q[i] == '"')
			q[--w] = '"';
	}
	if (formula)
		q[--w] = '\'';
	q[0] = '"';
}

void esc_html(struct rbuf *b, const char *s, size_t n)
{
	size_t start = b->len;
	esc_text(b, s, n);
	if (b->oom)
		return;
	size_t flen = b->len - start, extra = 0;
	for (size_t i = 0; i < flen; i++) {
		switch (b->p[start + i]) {
		case '&': extra += 4; break;   /* &amp; */
		case '<': case '>': extra += 3; break;   /* &lt; &gt; */
		case '"': case '\'': extra += 4; break;   /* &#34; &#39; */
		}
	}
	if (!extra)
		return;
	/* grow in place and rewrite from the back, as esc_csv does */
	char *q = widen(b, start, extra);
	if (!q)
		return;
	size_t w = flen + extra;
	for (size_t i = flen; i-- > 0;) {
		const char *rep = NULL;
		switch (q[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&#34;"; break;
		case '\'': rep = "&#39;"; break;
		}
		if (!rep) {
			q[--w] = q[i];
			continue;
		}
		size_t rl = strlen(rep);
		w -= rl;
		memcpy(q + w, rep, rl);
	}
}

size_t esc_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t width = 0;
	while (p < end) {
		if (*p < 0x80) {
			width++;
			p++;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_decode(p, (size_t)(end - p), &cp);
		if (len == 0) {
			width++;
			p++;
			continue;
		}
		width += len == 1 ? 1 : (size_t)cp_width(cp);
		p += len;
	}
	return width;
}
