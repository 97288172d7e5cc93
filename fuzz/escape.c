/* libFuzzer: the escaping of container-controlled text (lib/escape.h). Whatever the
 * input, esc_text and esc_csv emit no control byte (no terminal escape survives) and
 * esc_json emits a JSON string of valid UTF-8 with no raw control character, and
 * esc_html emits no control byte, no < > " ' and no & that does not start one of the
 * five references it writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/escape.h"

static void fuzz_escape_no_controls(const struct rbuf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->p[i];
		if (c < 0x20 || c == 0x7f)
			abort();
		/* C1 controls as UTF-8 (U+0080..U+009F: C2 80..C2 9F) */
		if (c == 0xc2 && i + 1 < b->len && (unsigned char)b->p[i + 1] >= 0x80 &&
		    (unsigned char)b->p[i + 1] <= 0x9f)
			abort();
	}
}

static size_t fuzz_escape_utf8_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t k = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (!k || k > n || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf b = { 0 };
	const char *s = (const char *)data;

	esc_text(&b, s, size);
	if (!b.oom) {
		fuzz_escape_no_controls(&b);
		(void)esc_width(b.p ? b.p : "", b.len);
	}
	rbuf_reset(&b);
	esc_csv(&b, s, size);
	if (!b.oom)
		fuzz_escape_no_controls(&b);
	rbuf_reset(&b);
	esc_json(&b, s, size);
	if (!b.oom) {
		if (b.len < 2 || b.p[0] != '"' || b.p[b.len - 1] != '"')
			abort();
		for (size_t i = 0; i < b.len;) {
			unsigned char c = (unsigned char)b.p[i];
			if (c < 0x20)
				abort();
			size_t k = fuzz_escape_utf8_len((const unsigned char *)b.p + i, b.len - i);
			if (!k)
				abort();
			i += k;
		}
	}
	rbuf_reset(&b);
	esc_html(&b, s, size);
	if (!b.oom) {
		static const char *const refs[] = { "&amp;", "&lt;", "&gt;", "&#34;", "&#39;" };
		fuzz_escape_no_controls(&b);
		for (size_t i = 0; i < b.len; i++) {
			char c = b.p[i];
			if (c == '<' || c == '>' || c == '"' || c == '\'')
				abort();
			if (c != '&')
				continue;
			int known = 0;
			for (size_t r = 0; r < 5; r++)
				known |= b.len - i >= strlen(refs[r]) &&
					 memcmp(b.p + i, refs[r], strlen(refs[r])) == 0;
			if (!known)
				abort();
		}
	}
	rbuf_free(&b);
	return 0;
}
