/* The engine's wire: container and event JSON decoded with json-c into clawss's own
 * structs, the newline-delimited event stream split into events, and label selectors.
 * Everything here is container-controlled text: bounded, NUL-free, never trusted. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "../lib/util.h"
#include "engine.h"
#include "engine_wire.h"

#define LABELS_MAX 1024                   /* labels kept per container */
#define STREAM_MAX (16u * ENGINE_LINE_MAX)  /* buffered stream, at most */

/* ---- JSON ---- */

/* One complete JSON value spanning buf (trailing whitespace allowed), or NULL. */
json_object *engine_json_parse(const char *buf, size_t len)
{
	if (len == 0 || len > INT_MAX || memchr(buf, '\0', len))
		return NULL;
	json_tokener *tok = json_tokener_new_ex(32);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (!isspace((unsigned char)buf[i])) {
				json_object_put(o);
				o = NULL;
				break;
			}
		}
	} else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static json_object *jget(json_object *o, const char *key, json_type type)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* A string value without NUL bytes (which would let "a\u0000b" pass for "a"). */
static const char *jstr_of(json_object *v, size_t *len)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (!s || strlen(s) != n)
		return NULL;
	if (len)
		*len = n;
	return s;
}

const char *engine_jstr(json_object *o, const char *key, size_t *len)
{
	return jstr_of(jget(o, key, json_type_string), len);
}

/* Copies s into dst; a string too long for dst is cut when cut, else refused (-1). */
int engine_copy_bounded(char *dst, size_t cap, const char *s, size_t len, int cut)
{
	if (len >= cap) {
		if (!cut)
			return -1;
		len = cap - 1;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int engine_is_hex_id(const char *s, size_t len)
{
	if (len != ENGINE_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

static void labels_free(struct engine_label *l, int n)
{
	for (int i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static int in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* A JSON object of string values into a label array; other values are skipped. */
static int labels_decode(json_object *obj, const char *const *skip,
			 struct engine_label **out, int *n)
{
	*out = NULL;
	*n = 0;
	if (!obj || !json_object_is_type(obj, json_type_object))
		return 0;
	int cap = json_object_object_length(obj);
	if (cap > LABELS_MAX)
		cap = LABELS_MAX;
	if (cap <= 0)
		return 0;
	struct engine_label *l = calloc((size_t)cap, sizeof(*l));
	if (!l)
		return -1;
	int k = 0;
	json_object_object_foreach(obj, key, val) {
		size_t vlen;
		const char *v = jstr_of(val, &vlen);
		if (k == cap)
			break;
		if (!v || in_list(skip, key))
			continue;
		l[k].key = strdup(key);
		l[k].value = strndup(v, vlen);
		if (!l[k].key || !l[k].value) {
			labels_free(l, k + 1);
			errno = ENOMEM;
			return -1;
		}
		k++;
	}
	*out = l;
	*n = k;
	return 0;
}

void engine_container_clear(struct engine_container *c)
{
	labels_free(c->labels, c->nlabels);
	memset(c, 0, sizeof(*c));
}

/* "0001-01-01T00:00:00Z" (never started) and anything unparseable read as 0. */
static int64_t started_decode(const char *s, size_t len)
{
	int64_t ms;
	if (!s || len < 20 || s[4] != '-' || time_parse(s, 0, &ms) < 0 || ms <= 0)
		return 0;
	return ms;
}

int engine_container_decode(const char *json, size_t len, struct engine_container *c)
{
	json_object *root = engine_json_parse(json, len), *state, *config, *hc, *pid, *run;
	const char *s;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (!root || !json_object_is_type(root, json_type_object))
		goto bad;
	if (!(s = engine_jstr(root, "Id", &n)) || !engine_is_hex_id(s, n))
		goto bad;
	memcpy(c->id, s, n + 1);
	if (!(s = engine_jstr(root, "Name", &n)))
		goto bad;
	if (n && *s == '/')
		s++, n--;
	if (n == 0 || engine_copy_bounded(c->name, sizeof(c->name), s, n, 0) < 0)
		goto bad;
	state = jget(root, "State", json_type_object);
	pid = jget(state, "Pid", json_type_int);
	run = jget(state, "Running", json_type_boolean);
	if (!pid || !run)
		goto bad;
	int64_t p = json_object_get_int64(pid);
	if (p < 0 || p > INT_MAX)
		goto bad;
	c->running = json_object_get_boolean(run);
	c->pid = c->running ? (int)p : 0;
	s = engine_jstr(state, "StartedAt", &n);
	c->started_ms = started_decode(s, n);
	config = jget(root, "Config", json_type_object);
	if ((s = engine_jstr(config, "Image", &n)) || (s = engine_jstr(root, "Image", &n)))
		engine_copy_bounded(c->image, sizeof(c->image), s, n, 1);
	hc = jget(root, "HostConfig", json_type_object);
	if ((s = engine_jstr(hc, "NetworkMode", &n)))
		engine_copy_bounded(c->network_mode, sizeof(c->network_mode), s, n, 1);
	c->host_network = strcmp(c->network_mode, "host") == 0;
	if (labels_decode(jget(config, "Labels", json_type_object), NULL,
			  &c->labels, &c->nlabels) < 0) {
		json_object_put(root);
		memset(c, 0, sizeof(*c));
		return -1;
	}
	json_object_put(root);
	return 0;
bad:
	json_object_put(root);
	memset(c, 0, sizeof(*c));
	errno = EPROTO;
	return -1;
}

void engine_event_clear(struct engine_event *ev)
{
	labels_free(ev->labels, ev->nlabels);
	memset(ev, 0, sizeof(*ev));
}

static int event_kind(const char *a)
{
	if (strcmp(a, "start") == 0)
		return ENGINE_EV_START;
	if (strcmp(a, "die") == 0 || strcmp(a, "died") == 0)
		return ENGINE_EV_DIE;
	/* Docker appends the command: "exec_start: sh -c ..."; Podman says "exec". */
	if (strcmp(a, "exec") == 0 || strcmp(a, "exec_start") == 0 ||
	    strncmp(a, "exec_start:", 11) == 0)
		return ENGINE_EV_EXEC_START;
	if (strcmp(a, "exec_die") == 0 || strcmp(a, "exec_died") == 0)
		return ENGINE_EV_EXEC_DIE;
	return -1;
}

int engine_event_decode(const char *json, size_t len, struct engine_event *ev)
{
	static const char *const engine_keys[] = {
		"name", "image", "exitCode", "execID", "containerExitCode", "podId", "signal", NULL,
	};
	json_object *root = engine_json_parse(json, len), *actor, *attrs, *t;
	const char *s;
	size_t n;
	int kind, ret = -1;
	long long code;

	memset(ev, 0, sizeof(*ev));
	ev->exit_code = -1;
	errno = EPROTO;
	if (!root || !json_object_is_type(root, json_type_object))
		goto out;
	if (!(s = engine_jstr(root, "Type", NULL)) || strcmp(s, "container") != 0) {
		ret = s ? 1 : -1;
		goto out;
	}
	if (!(s = engine_jstr(root, "Action", NULL)) && !(s = engine_jstr(root, "status", NULL)))
		goto out;
	if ((kind = event_kind(s)) < 0) {
		ret = 1;
		goto out;
	}
	ev->kind = kind;
	actor = jget(root, "Actor", json_type_object);
	if (!(s = engine_jstr(actor, "ID", &n)) && !(s = engine_jstr(root, "id", &n)))
		goto out;
	if (!engine_is_hex_id(s, n))
		goto out;
	memcpy(ev->id, s, n + 1);
	attrs = jget(actor, "Attributes", json_type_object);
	if ((s = engine_jstr(attrs, "name", &n)) &&
	    engine_copy_bounded(ev->name, sizeof(ev->name), s, n, 0) < 0)
		goto out;
	if ((s = engine_jstr(attrs, "execID", &n)) && engine_is_hex_id(s, n))
		memcpy(ev->exec_id, s, n + 1);
	if ((s = engine_jstr(attrs, "exitCode", NULL)) && util_int_parse(s, INT_MIN, INT_MAX, &code) == 0)
		ev->exit_code = (int)code;
	if ((t = jget(root, "timeNano", json_type_int)) && json_object_get_int64(t) > 0)
		ev->time_ms = json_object_get_int64(t) / 1000000;
	else if ((t = jget(root, "time", json_type_int)) && json_object_get_int64(t) > 0 &&
		 json_object_get_int64(t) < INT64_MAX / 1000)
		ev->time_ms = json_object_get_int64(t) * 1000;
	if (labels_decode(attrs, engine_keys, &ev->labels, &ev->nlabels) < 0)
		goto out;  /* errno ENOMEM */
	ret = 0;
out:
	json_object_put(root);
	if (ret < 0) {
		int saved = errno;
		engine_event_clear(ev);
		errno = saved;
	}
	return ret;
}

/* ---- The newline-delimited stream ---- */

int engine_stream_feed(struct engine_stream *s, const void *data, size_t n)
{
	const char *p = data;

	if (s->skipping) {
		const char *nl = memchr(p, '\n', n);
		if (!nl)
			return 0;
		s->skipping = 0;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	if (s->off && (s->off == s->len || s->off > s->cap / 2)) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (n == 0)
		return 0;
	if (s->len + n > STREAM_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (util_grow(&s->buf, &s->cap, s->len + n, 1) < 0)
		return -1;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	/* The unfinished tail: over the limit, drop it and the rest of its line. */
	const char *nl = memrchr(s->buf + s->off, '\n', s->len - s->off);
	size_t tail_start = nl ? (size_t)(nl + 1 - s->buf) : s->off;
	if (s->len - tail_start > ENGINE_LINE_MAX) {
		s->len = tail_start;
		s->skipping = 1;
		s->dropped++;
	}
	return 0;
}

int engine_stream_has_line(const struct engine_stream *s)
{
	return s->len > s->off && memchr(s->buf + s->off, '\n', s->len - s->off) != NULL;
}

int engine_stream_next(struct engine_stream *s, struct engine_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	while (s->len > s->off) {
		char *line = s->buf + s->off;
		char *nl = memchr(line, '\n', s->len - s->off);
		if (!nl)
			return 0;
		size_t n = (size_t)(nl - line);
		s->off += n + 1;
		while (n && isspace((unsigned char)line[n - 1]))
			n--;
		if (n == 0)
			continue;
		int r = engine_event_decode(line, n, ev);
		if (r == 0)
			return 1;
		if (r < 0 && errno == ENOMEM)
			return -1;
		if (r < 0)
			s->malformed++;
	}
	return 0;
}

void engine_stream_reset(struct engine_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* Forgets the unfinished tail (a stream cut mid-line) and any skipping state. */
void engine_stream_cut(struct engine_stream *s)
{
	const char *nl = s->len > s->off ? memrchr(s->buf + s->off, '\n', s->len - s->off) : NULL;
	s->len = nl ? (size_t)(nl + 1 - s->buf) : s->off;
	s->skipping = 0;
}

/* ---- Labels ---- */

int engine_labels_match_list(const struct engine_label *labels, int nlabels,
			     const char *const *selectors, int n)
{
	for (int i = 0; i < n; i++) {
		const char *sel = selectors[i], *eq = strchr(sel, '=');
		size_t klen = eq ? (size_t)(eq - sel) : strlen(sel);
		int found = 0;
		for (int j = 0; j < nlabels && !found; j++)
			found = strlen(labels[j].key) == klen &&
				memcmp(labels[j].key, sel, klen) == 0 &&
				(!eq || strcmp(labels[j].value, eq + 1) == 0);
		if (!found)
			return 0;
	}
	return 1;
}

int engine_labels_match(const struct engine_container *c, const char *const *selectors, int n)
{
	return engine_labels_match_list(c->labels, c->nlabels, selectors, n);
}

