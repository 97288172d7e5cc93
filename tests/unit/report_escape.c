/* Hostile text in table, json and csv; the printers built on it. */
#include <stdlib.h>
#include "../tap.h"
#include "../../lib/escape.h"
#include "../../report/out.h"
#include "../../lib/util.h"

static struct rbuf b;

static const char *text(const char *s, size_t n)
{
	rbuf_reset(&b);
	esc_text(&b, s, n);
	return rbuf_str(&b);
}

static const char *json(const char *s, size_t n)
{
	rbuf_reset(&b);
	esc_json(&b, s, n);
	return rbuf_str(&b);
}

static const char *csv(const char *s, size_t n)
{
	rbuf_reset(&b);
	esc_csv(&b, s, n);
	return rbuf_str(&b);
}

static const char *html(const char *s, size_t n)
{
	rbuf_reset(&b);
	esc_html(&b, s, n);
	return rbuf_str(&b);
}

#define T(s) text(s, sizeof(s) - 1)
#define HT(s) html(s, sizeof(s) - 1)
#define J(s) json(s, sizeof(s) - 1)
#define C(s) csv(s, sizeof(s) - 1)

static void test_text(void)
{
	is_str(T("curl"), "curl", "plain text passes");
	is_str(T("ev\x1b[31mil"), "ev\\x1b[31mil", "ESC is shown as \\x1b");
	is_str(T("ding\a"), "ding\\x07", "BEL is shown as \\x07");
	is_str(T("a\nb\rc\td"), "a\\x0ab\\x0dc\\x09d", "newline, CR and tab are escaped");
	is_str(T("a\\x1b"), "a\\\\x1b", "a backslash is doubled: the mapping is reversible");
	is_str(T("nul\0byte"), "nul\\x00byte", "a NUL inside the text is escaped");
	is_str(T("del\x7f"), "del\\x7f", "DEL is escaped");
	is_str(T("say \"hi\", ok"), "say \"hi\", ok", "quotes and commas pass in the table");
	is_str(T("caf\xc3\xa9"), "caf\xc3\xa9", "valid UTF-8 passes");
	is_str(T("\xff\xfe"), "\\xff\\xfe", "bytes that are never UTF-8 are \\xNN");
	is_str(T("cut\xc3"), "cut\\xc3", "a truncated sequence is \\xNN");
	is_str(T("\xc0\xaf"), "\\xc0\\xaf", "an overlong form is \\xNN");
	is_str(T("\xed\xa0\x80"), "\\xed\\xa0\\x80", "a UTF-16 surrogate is \\xNN");
	is_str(T("\xc2\x9b" "31m"), "\\u009b31m", "C1 CSI (U+009B) is escaped");
	is_str(T("\xc2\x85"), "\\u0085", "C1 NEL is escaped");
	is_str(T("abc\xe2\x80\xae" "fed"), "abc\\u202efed", "a bidi override is escaped");
	is_str(T("\xe2\x80\x8b"), "\\u200b", "a zero-width space is escaped");
	is_str(T("\xf3\xa0\x81\x81"), "\\U000e0041", "an invisible tag character is escaped");
	is_str(T("\x9b"), "\\x9b", "a lone C1 byte is escaped");
	rbuf_reset(&b);
	is_int(esc_text(&b, "\xe6\x97\xa5\xe6\x9c\xac", 6), 4, "two wide characters take 4 columns");
	rbuf_reset(&b);
	is_int(esc_text(&b, "e\xcc\x81", 3), 1, "a combining accent takes none");
	rbuf_reset(&b);
	is_int(esc_text(&b, "\x1b", 1), 4, "an escaped byte takes its 4 columns");
	is_int(esc_width("\\x1b\xe6\x97\xa5", 7), 6, "esc_width measures escaped text");
}

static void test_json(void)
{
	is_str(J("curl"), "\"curl\"", "plain string");
	is_str(J("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"", "quotes and backslash");
	is_str(J("\x1b[2J\a"), "\"\\u001b[2J\\u0007\"", "ESC and BEL as \\u00XX");
	is_str(J("a\nb\tc\r\b\f"), "\"a\\nb\\tc\\r\\b\\f\"", "short escapes");
	is_str(J("\x7f"), "\"\\u007f\"", "DEL");
	is_str(J("nul\0"), "\"nul\\u0000\"", "NUL");
	is_str(J("caf\xc3\xa9"), "\"caf\xc3\xa9\"", "valid UTF-8 passes");
	is_str(J("\xff" "x\xc3"), "\"\\ufffdx\\ufffd\"", "invalid UTF-8 becomes U+FFFD");
	is_str(J("\xc2\x9b"), "\"\\u009b\"", "C1 escaped");
	is_str(J("\xe2\x80\xa8"), "\"\\u2028\"", "line separator escaped");
	is_str(J("\xf3\xa0\x81\x81"), "\"\\udb40\\udc41\"", "tag character as a surrogate pair");
	is_str(J(""), "\"\"", "empty string");
}

static void test_csv(void)
{
	is_str(C("curl"), "curl", "plain field unquoted");
	is_str(C("a,b"), "\"a,b\"", "comma: quoted");
	is_str(C("say \"hi\""), "\"say \"\"hi\"\"\"", "quotes doubled inside quotes");
	is_str(C(""), "\"\"", "empty string quoted (unquoted empty is null)");
	is_str(C(" lead"), "\" lead\"", "leading blank quoted");
	is_str(C("line\nbreak"), "line\\x0abreak", "newline escaped: one record per line");
	is_str(C("ev\x1b,\a\""), "\"ev\\x1b,\\x07\"\"\"", "ESC, BEL, comma and quote together");
	is_str(C("\xff"), "\\xff", "invalid UTF-8 escaped");
	is_str(C("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"",
	       "formula: quoted, a ' before it, quotes doubled");
	is_str(C("+1"), "\"'+1\"", "leading + neutralised");
	is_str(C("-2+3"), "\"'-2+3\"", "leading - neutralised");
	is_str(C("@SUM(A1)"), "\"'@SUM(A1)\"", "leading @ neutralised");
	is_str(C("\tcmd"), "\\x09cmd", "leading tab is escaped text already");
	is_str(C("a=b"), "a=b", "= elsewhere is plain text");
}

/* Property: whatever the bytes, the output holds no control byte, is valid UTF-8,
 * and json has no unescaped quote inside. */
static int clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 0;   /* a C1 control encoded in UTF-8 */
	}
	/* valid UTF-8: decode strictly */
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

static void test_random(void)
{
	unsigned seed = 12345;
	int text_ok = 1, json_ok = 1, csv_ok = 1;
	char in[64];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 40);
		for (size_t i = 0; i < n; i++) {
			int r = rand_r(&seed);
			/* mostly interesting bytes: controls, C1 lead bytes, high bytes */
			in[i] = (char)(r % 4 == 0 ? 0xc2 : r % 4 == 1 ? (r >> 8) % 0x20 : r >> 8);
		}
		rbuf_reset(&b);
		esc_text(&b, in, n);
		text_ok &= clean(b.p ? b.p : "", b.len);
		rbuf_reset(&b);
		esc_json(&b, in, n);
		json_ok &= clean(b.p, b.len) && b.p[0] == '"' && b.p[b.len - 1] == '"';
		for (size_t i = 1; i + 1 < b.len; i++)
			if (b.p[i] == '"' && b.p[i - 1] != '\\')
				json_ok = 0;
		rbuf_reset(&b);
		esc_csv(&b, in, n);
		csv_ok &= clean(b.p ? b.p : "", b.len) && !memchr(b.p ? b.p : "", '\n', b.len);
	}
	ok(text_ok, "20000 random strings: table text has no control byte, valid UTF-8");
	ok(json_ok, "20000 random strings: json strings are clean and closed");
	ok(csv_ok, "20000 random strings: csv fields are clean, one line");
}

static char *capture(enum out_format fmt, int nrec)
{
	static const struct ofield f[] = {
		{ "name", OF_ALL }, { "count", OF_ALL | OF_RIGHT }, { "note", OF_DATA },
		{ "flags", OF_ALL },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out *o = out_new(fp, fmt, f, 4);
	struct oval v[4];
	for (int i = 0; i < nrec; i++) {
		v[0] = ov_str(i == 0 ? "ev\x1b]0;pwned\ail" : "x");
		v[1] = ov_int(i == 0 ? 7 : 12345);
		v[2] = i == 0 ? ov_str("a,\"b\"") : ov_null();
		v[3] = ov_flags(i == 0 ? REPORT_F_RAW | REPORT_F_BEACON : 0);
		out_record(o, v);
	}
	out_end(o);
	fclose(fp);
	return buf;
}

static void test_out(void)
{
	char *s = capture(OUT_TABLE, 2);
	is_str(s, "NAME                  COUNT  FLAGS\n"
		  "ev\\x1b]0;pwned\\x07il      7  raw,beacon\n"
		  "x                     12345  -\n", "table: escaped, aligned, numbers right");
	free(s);
	s = capture(OUT_TABLE, 0);
	is_str(s, "NAME  COUNT  FLAGS\n", "table with no row: the header");
	free(s);
	s = capture(OUT_JSON, 2);
	is_str(s, "[\n  {\"name\": \"ev\\u001b]0;pwned\\u0007il\", \"count\": 7, \"note\": \"a,\\\"b\\\"\", "
		  "\"flags\": [\"raw\", \"beacon\"]},\n"
		  "  {\"name\": \"x\", \"count\": 12345, \"note\": null, \"flags\": []}\n]\n",
	       "json: one array, nulls, flags as arrays");
	free(s);
	s = capture(OUT_JSON, 0);
	is_str(s, "[]\n", "json with no row: an empty array");
	free(s);
	s = capture(OUT_CSV, 2);
	is_str(s, "name,count,note,flags\r\nev\\x1b]0;pwned\\x07il,7,\"a,\"\"b\"\"\",\"raw,beacon\"\r\n"
		  "x,12345,,\r\n", "csv: header, RFC 4180 quoting, CRLF, empty null");
	free(s);
	s = capture(OUT_CSV, 0);
	is_str(s, "name,count,note,flags\r\n", "csv with no row: the header");
	free(s);
}

static void test_html(void)
{
	is_str(HT("curl"), "curl", "html: plain text passes");
	is_str(HT("<svg/onload=alert(1)>"), "&lt;svg/onload=alert(1)&gt;",
	       "html: markup becomes text");
	is_str(HT("</text><script>"), "&lt;/text&gt;&lt;script&gt;",
	       "html: closing an SVG text element is text too");
	is_str(HT("a\"b'c&d"), "a&#34;b&#39;c&amp;d", "html: quotes and & for attributes");
	is_str(HT("&amp;"), "&amp;amp;", "html: a reference is escaped, not passed");
	is_str(HT("ev\x1b[31m\xe2\x80\xaeil"), "ev\\x1b[31m\\u202eil",
	       "html: controls and bidi overrides shown as in the table");
	is_str(HT(""), "", "html: empty");
	/* random bytes: nothing that could open a tag, close an attribute or be a control */
	int clean_ok = 1;
	unsigned seed = 7;
	for (int i = 0; i < 20000; i++) {
		char in[24];
		size_t n = (size_t)(i % 24);
		for (size_t j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			in[j] = "<>\"'&a\x1b\xe2\x80\xae\x00/ =x"[(seed >> 16) % 15];
		}
		const char *o = html(in, n);
		for (const char *p = o; p && *p; p++)
			if (*p == '<' || *p == '>' || *p == '"' || *p == '\'' ||
			    (unsigned char)*p < 0x20 || *p == 0x7f)
				clean_ok = 0;
		for (const char *p = o; p && (p = strchr(p, '&')); p++)
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
			    strncmp(p, "&gt;", 4) && strncmp(p, "&#34;", 5) && strncmp(p, "&#39;", 5))
				clean_ok = 0;
	}
	ok(clean_ok, "html: 20000 random strings hold no < > quote, control or bare &");
	char *s = capture(OUT_HTML, 1);
	is_str(s, "<table class=\"rows\">\n<thead><tr><th>name</th><th class=\"n\">count</th>"
		  "<th>flags</th></tr></thead>\n<tbody>\n<tr class=\"flagged\"><td>"
		  "ev\\x1b]0;pwned\\x07il</td><td class=\"n\">7</td><td><span class=\"flag "
		  "f-raw\">raw</span> <span class=\"flag f-beacon\">beacon</span> </td></tr>\n"
		  "</tbody>\n</table>\n", "html table: the table's fields, escaped, flags marked");
	free(s);
}

/* The printers format times by hand; they must agree with time_format() everywhere. */
static void test_times(void)
{
	static const struct ofield f[] = { { "t", OF_ALL } };
	static const int64_t t[] = {
		0, 1, 999, 1000, -1, -1000, -1001, INT64_C(951782400000) /* 2000-02-29 */,
		INT64_C(951868799999), INT64_C(4107542400000) /* 2100-03-01 */,
		INT64_C(1700000000123), INT64_C(253402300799999) /* 9999-12-31T23:59:59.999 */,
		INT64_C(1583020800000) - 1 /* 2020-02-29T23:59:59.999 */,
	};
	int bad = 0;
	unsigned seed = 7;
	for (int i = 0; i < 10000 + (int)(sizeof(t) / sizeof(t[0])); i++) {
		int64_t ms = i < (int)(sizeof(t) / sizeof(t[0])) ? t[i] :
			     ((int64_t)rand_r(&seed) << 20 ^ rand_r(&seed)) % INT64_C(253402300800000);
		char want[64], line[96], *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		struct out *o = out_new(fp, OUT_CSV, f, 1);
		struct oval v = ov_time(ms);
		out_record(o, &v);
		out_end(o);
		fclose(fp);
		snprintf(line, sizeof(line), "t\r\n%s\r\n", time_format(ms, want, sizeof(want)));
		if (strcmp(buf, line) != 0) {
			if (bad++ < 3)
				printf("# %lld: got %s want %s", (long long)ms, buf, line);
		}
		free(buf);
	}
	is_int(bad, 0, "times print as time_format() prints them (10000 random, edge dates)");
}

/* A long table streams after its first 1000 rows, with the widths they set. */
static void test_window(void)
{
	static const struct ofield f[] = { { "a", OF_ALL }, { "b", OF_ALL } };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out *o = out_new(fp, OUT_TABLE, f, 2);
	int lines = 0, aligned = 1, wide_ok = 0;
	for (int i = 0; i < 2500; i++) {
		struct oval v[2] = { ov_str(i == 10 ? "wider" : i == 1500 ? "muchwiderstill" : "x"),
				     ov_int(i) };
		out_record(o, v);
	}
	ok(out_end(o) == 0, "a 2500-row table ends well");
	fclose(fp);
	for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		lines++;
		if (strncmp(p, "muchwiderstill  1500", 20) == 0)
			wide_ok = 1;
		else if (nl - p < 7 || p[5] != ' ' || p[6] != ' ')
			aligned = 0;   /* "A      B": column a is 5 wide ("wider") */
	}
	is_int(lines, 2501, "header and every row");
	ok(aligned, "rows in and past the window share the widths the window set");
	ok(wide_ok, "a wider cell past the window is printed whole");
	free(buf);
}

int main(void)
{
	test_text();
	test_json();
	test_csv();
	test_random();
	test_out();
	test_html();
	test_times();
	test_window();
	rbuf_free(&b);
	return tap_done_testing();
}
