/* libFuzzer: decoding what a container engine sends (sampler/engine.h): inspect
 * replies, event lines, and the newline-delimited stream split at every boundary.
 * Byte 0 picks which; all of it is container-controlled text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sampler/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *json = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 3) {
	case 0: {
		struct engine_container c;
		memset(&c, 0, sizeof(c));
		if (engine_container_decode(json, len, &c) == 0) {
			if (memchr(c.name, '\0', sizeof(c.name)) == NULL || c.pid < 0)
				abort();
			const char *sel[] = { "a", "a=b" };
			(void)engine_labels_match(&c, sel, 2);
		}
		engine_container_clear(&c);
		break;
	}
	case 1: {
		struct engine_event ev;
		memset(&ev, 0, sizeof(ev));
		if (engine_event_decode(json, len, &ev) == 0 &&
		    memchr(ev.id, '\0', sizeof(ev.id)) == NULL)
			abort();
		engine_event_clear(&ev);
		break;
	}
	default: {
		/* the stream, fed in pieces whose sizes come from the input itself */
		struct engine_stream st;
		struct engine_event ev;
		memset(&st, 0, sizeof(st));
		size_t off = 0;
		while (off < len) {
			size_t n = 1 + (size_t)(uint8_t)json[off] % 64;
			if (n > len - off)
				n = len - off;
			if (engine_stream_feed(&st, json + off, n) < 0)
				break;
			off += n;
			memset(&ev, 0, sizeof(ev));
			while (engine_stream_next(&st, &ev) == 1) {
				engine_event_clear(&ev);
				memset(&ev, 0, sizeof(ev));
			}
		}
		engine_stream_reset(&st);
		break;
	}
	}
	return 0;
}
