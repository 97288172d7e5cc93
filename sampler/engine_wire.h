/* Private to sampler/engine*.c: the engine's wire decoding (JSON with json-c, the
 * newline-delimited event stream), shared by the requests (engine.c) and the event
 * stream (engine_events.c). */
#ifndef CLAWSS_ENGINE_WIRE_H
#define CLAWSS_ENGINE_WIRE_H

#include <stddef.h>
#include <json-c/json.h>
#include "engine.h"

json_object *engine_json_parse(const char *buf, size_t len);
const char *engine_jstr(json_object *o, const char *key, size_t *len);
int engine_copy_bounded(char *dst, size_t cap, const char *s, size_t len, int cut);
int engine_is_hex_id(const char *s, size_t len);
int engine_stream_has_line(const struct engine_stream *s);
void engine_stream_cut(struct engine_stream *s);

#endif
