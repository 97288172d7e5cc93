/* The engine client's wire decoding against replies recorded from Docker 20.10 and
 * Podman 4.3 (tests/fixtures/engine/), plus hostile and broken variants. No root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "../tap.h"
#include "lib/util.h"
#include "sampler/engine.h"

#define ID_A "8f9aeacda2d96b9c222b68c2a43d4f7b752c0308a22fd539d3ca133d767827fd"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/engine/%s",
		 getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("# cannot open %s\n", path);
		exit(1);
	}
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int64_t rfc3339(const char *s)
{
	int64_t ms = -1;
	time_parse(s, 0, &ms);
	return ms;
}

/* An inspect reply with the given pieces; everything else well-formed. */
static int inspect_with(const char *id, const char *name, const char *state,
			const char *rest, struct engine_container *c)
{
	char buf[8192];
	snprintf(buf, sizeof(buf), "{\"Id\":\"%s\",\"Name\":%s,\"State\":%s%s}", id, name, state,
		 rest);
	return engine_container_decode(buf, strlen(buf), c);
}

#define STATE_OK "{\"Running\":true,\"Pid\":4242,\"StartedAt\":\"2026-11-22T14:32:21.861955234Z\"}"

static void inspect_tests(void)
{
	struct engine_container c;
	size_t len;
	char *json = slurp("docker-inspect.json", &len);

	is_int(engine_container_decode(json, len, &c), 0, "docker inspect decodes");
	is_int(strspn(c.id, "0123456789abcdef"), 64, "docker: 64-hex id");
	is_str(c.name, "fx", "docker: name without the leading slash");
	is_str(c.image, "nano-busybox", "docker: image as the user named it (Config.Image)");
	ok(c.running && c.pid > 1, "docker: running with a pid (%d)", c.pid);
	is_int(c.started_ms, rfc3339("2026-11-22T14:38:54.245Z"), "docker: StartedAt to ms");
	is_str(c.network_mode, "none", "docker: network mode");
	is_int(c.host_network, 0, "docker: not the host's namespace");
	is_int(c.nlabels, 3, "docker: three labels");
	const char *sel1[] = { "nanoclaw-install" }, *sel2[] = { "openclaw.sandbox=1" },
		   *sel3[] = { "note=a b=c" }, *sel4[] = { "note=a b" }, *sel5[] = { "missing" },
		   *sel6[] = { "nanoclaw-install=slug-1", "openclaw.sandbox=1" },
		   *sel7[] = { "nanoclaw-install=slug-1", "openclaw.sandbox=0" },
		   *sel8[] = { "nanoclaw" }, *sel9[] = { "nanoclaw-install=" };
	is_int(engine_labels_match(&c, sel1, 1), 1, "label KEY present");
	is_int(engine_labels_match(&c, sel2, 1), 1, "label KEY=VALUE");
	is_int(engine_labels_match(&c, sel3, 1), 1, "VALUE may hold '='");
	is_int(engine_labels_match(&c, sel4, 1), 0, "VALUE matches exactly, not as a prefix");
	is_int(engine_labels_match(&c, sel5, 1), 0, "absent KEY");
	is_int(engine_labels_match(&c, sel6, 2), 1, "all selectors match");
	is_int(engine_labels_match(&c, sel7, 2), 0, "one failing selector fails all");
	is_int(engine_labels_match(&c, sel8, 1), 0, "KEY matches exactly, not as a prefix");
	is_int(engine_labels_match(&c, sel9, 1), 0, "KEY= wants an empty value");
	is_int(engine_labels_match(&c, NULL, 0), 1, "no selectors: everything matches");
	engine_container_clear(&c);
	free(json);

	json = slurp("podman-inspect.json", &len);
	is_int(engine_container_decode(json, len, &c), 0, "podman inspect decodes");
	is_str(c.name, "fx", "podman: name");
	is_str(c.image, "localhost/nano-busybox:latest", "podman: image");
	ok(c.running && c.pid > 1, "podman: running with a pid");
	is_int(c.started_ms, rfc3339("2026-11-22T14:38:54.538Z"), "podman: StartedAt to ms");
	is_int(engine_labels_match(&c, sel6, 2), 1, "podman: labels");
	engine_container_clear(&c);
	free(json);

	is_int(inspect_with(ID_A, "\"/x\"", "{\"Running\":false,\"Pid\":0,"
			    "\"StartedAt\":\"0001-01-01T00:00:00Z\"}", "", &c), 0, "created, never started");
	ok(!c.running && c.pid == 0 && c.started_ms == 0, "never started: no pid, no start time");
	is_int(inspect_with(ID_A, "\"/x\"", "{\"Running\":false,\"Pid\":77}", "", &c), 0,
	       "stopped with a stale pid");
	is_int(c.pid, 0, "a stopped container has no pid");
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK, ",\"HostConfig\":{\"NetworkMode\":\"host\"}",
			    &c), 0, "host network decodes");
	is_int(c.host_network, 1, "NetworkMode host is flagged");
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK, ",\"Image\":\"sha256:1\",\"Config\":null", &c),
	       0, "Config null");
	is_str(c.image, "sha256:1", "image falls back to the top-level Image");
	is_int(c.nlabels, 0, "no labels");
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK,
			    ",\"Config\":{\"Labels\":{\"a\":1,\"b\":null,\"c\":\"ok\",\"d\":\"x\\u0000y\"}}",
			    &c), 0, "labels with wrong types decode");
	ok(c.nlabels == 1 && strcmp(c.labels[0].key, "c") == 0,
	   "non-string and NUL-carrying label values are dropped");
	engine_container_clear(&c);
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK, ",\"Config\":{\"Labels\":[\"a=b\"]}", &c), 0,
	       "Labels of the wrong type");
	is_int(c.nlabels, 0, "... are ignored");

	/* Container-made text is kept byte for byte (printers escape it), but bounded. */
	is_int(inspect_with(ID_A, "\"/\\u001b[31mevil\\u0007\\n\"", STATE_OK, "", &c), 0,
	       "escape sequences in a name");
	is_str(c.name, "\x1b[31mevil\x07\n", "... are kept verbatim for the printers to escape");
	is_int(inspect_with(ID_A, "\"/ab\\u0000cd\"", STATE_OK, "", &c), -1,
	       "a NUL inside a name is refused, not cut");
	char name[400], quoted[420];
	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	is_int(inspect_with(ID_A, quoted, STATE_OK, "", &c), 0, "a 255-byte name fits");
	is_int(strlen(c.name), 255, "... whole");
	name[255] = 'n';
	name[300] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	is_int(inspect_with(ID_A, quoted, STATE_OK, "", &c), -1, "a longer name is refused");
	char image[700], rest[760];
	memset(image, 'i', sizeof(image));
	image[sizeof(image) - 1] = '\0';
	snprintf(rest, sizeof(rest), ",\"Config\":{\"Image\":\"%s\"}", image);
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK, rest, &c), 0, "a long image name");
	is_int(strlen(c.image), ENGINE_IMAGE_MAX - 1, "... is cut to its buffer");

	static const struct { const char *id, *name, *state, *why; } bad[] = {
		{ "abc", "\"/x\"", STATE_OK, "short id" },
		{ ID_A "0", "\"/x\"", STATE_OK, "long id" },
		{ "8F9AEACDA2D96B9C222B68C2A43D4F7B752C0308A22FD539D3CA133D767827FD", "\"/x\"",
		  STATE_OK, "upper-case id" },
		{ ID_A, "null", STATE_OK, "name null" },
		{ ID_A, "\"/\"", STATE_OK, "empty name" },
		{ ID_A, "7", STATE_OK, "name a number" },
		{ ID_A, "\"/x\"", "null", "State null" },
		{ ID_A, "\"/x\"", "{\"Running\":true}", "no Pid" },
		{ ID_A, "\"/x\"", "{\"Running\":true,\"Pid\":\"42\"}", "Pid a string" },
		{ ID_A, "\"/x\"", "{\"Running\":true,\"Pid\":42.5}", "Pid a float" },
		{ ID_A, "\"/x\"", "{\"Running\":true,\"Pid\":-1}", "Pid negative" },
		{ ID_A, "\"/x\"", "{\"Running\":true,\"Pid\":4294967297}", "Pid too large" },
		{ ID_A, "\"/x\"", "{\"Running\":\"true\",\"Pid\":42}", "Running a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(inspect_with(bad[i].id, bad[i].name, bad[i].state, "", &c), -1,
		       "refused: %s", bad[i].why);
	is_int(inspect_with(ID_A, "\"/x\"", STATE_OK, ",\"StartedAt\":5", &c), 0,
	       "unrelated junk is ignored");
	is_int(inspect_with(ID_A, "\"/x\"", "{\"Running\":true,\"Pid\":1,\"StartedAt\":\"5s\"}",
			    "", &c), 0, "a StartedAt that is not a time");
	is_int(c.started_ms, 0, "... reads as unknown, not as a duration");

	static const char *const broken[] = {
		"", "{", "[]", "null", "\"x\"", "{\"Id\":\"" ID_A "\"", "{} x", "{}{}",
		"{'Id':1}", "{\"Id\":\"" ID_A "\",}",
	};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		is_int(engine_container_decode(broken[i], strlen(broken[i]), &c), -1,
		       "malformed reply %zu refused", i);
	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	is_int(engine_container_decode(deep, sizeof(deep), &c), -1, "deep nesting refused");
	json = slurp("docker-inspect.json", &len);
	json[len / 2] = '\0';
	is_int(engine_container_decode(json, len, &c), -1, "a raw NUL inside the reply refused");
	free(json);
}

static int decode_line(const char *s, struct engine_event *ev)
{
	return engine_event_decode(s, strlen(s), ev);
}

static void event_tests(void)
{
	struct engine_event ev;
	size_t len;
	char *all = slurp("docker-events.jsonl", &len), *line, *save = NULL;
	int kinds[16], n = 0, r;
	struct engine_event got[16];

	for (line = strtok_r(all, "\n", &save); line && n < 16; line = strtok_r(NULL, "\n", &save)) {
		r = decode_line(line, &got[n]);
		kinds[n] = r == 0 ? (int)got[n].kind : 100 + r;
		n++;
	}
	is_int(n, 7, "docker: seven recorded lines");
	int want[] = { 101, ENGINE_EV_EXEC_START, ENGINE_EV_EXEC_DIE, 101, ENGINE_EV_START,
		       ENGINE_EV_DIE, 101 };
	for (int i = 0; i < 7; i++)
		is_int(kinds[i], want[i], "docker line %d normalised", i + 1);
	is_str(got[1].id, ID_A, "exec_start: container id");
	is_str(got[1].name, "c1", "exec_start: name");
	is_int(strlen(got[1].exec_id), 64, "exec_start: Docker's exec id");
	is_str(got[1].exec_id, got[2].exec_id, "exec_die: the same exec id");
	is_int(got[2].exit_code, 0, "exec_die: exit code");
	is_int(got[1].time_ms, 1795357944930LL, "time from timeNano, in ms");
	is_int(got[1].nlabels, 2, "labels: attributes less the engine's own");
	is_int(engine_labels_match_list(got[1].labels, got[1].nlabels,
					(const char *[]){ "nanoclaw-install=slug1", "weird=a b" }, 2),
	       1, "event labels match");
	is_int(engine_labels_match_list(got[1].labels, got[1].nlabels,
					(const char *[]){ "execID" }, 1), 0,
	       "execID is not a label");
	is_str(got[4].name, "c2", "start: name");
	is_int(got[4].exit_code, -1, "start: no exit code");
	is_int(got[5].exit_code, 0, "die: exit code");
	for (int i = 0; i < n; i++)
		if (kinds[i] < 100)
			engine_event_clear(&got[i]);
	free(all);

	all = slurp("podman-events.jsonl", &len);
	n = 0;
	save = NULL;
	for (line = strtok_r(all, "\n", &save); line && n < 16; line = strtok_r(NULL, "\n", &save)) {
		r = decode_line(line, &got[n]);
		kinds[n] = r == 0 ? (int)got[n].kind : 100 + r;
		n++;
	}
	int pwant[] = { 101, ENGINE_EV_START, ENGINE_EV_EXEC_START, ENGINE_EV_EXEC_DIE,
			ENGINE_EV_EXEC_DIE, 101, ENGINE_EV_START, ENGINE_EV_DIE, 101 };
	is_int(n, 9, "podman: nine recorded lines");
	for (int i = 0; i < 9; i++)
		is_int(kinds[i], pwant[i], "podman line %d normalised", i + 1);
	is_str(got[2].name, "p1", "podman exec: name");
	is_str(got[2].exec_id, "", "podman exec: no exec id (Podman 4.3 gives none)");
	is_int(got[2].nlabels, 1, "podman: podId and containerExitCode are not labels");
	is_int(got[7].exit_code, 0, "podman die: exit code");
	for (int i = 0; i < n; i++)
		if (kinds[i] < 100)
			engine_event_clear(&got[i]);
	free(all);

#define EV(type, action, id, attrs, time) \
	"{\"Type\":\"" type "\",\"Action\":\"" action "\",\"Actor\":{\"ID\":\"" id \
	"\",\"Attributes\":{" attrs "}}" time "}"
	is_int(decode_line(EV("image", "start", ID_A, "", ""), &ev), 1, "image events ignored");
	is_int(decode_line(EV("container", "died", ID_A, "", ",\"time\":1700000000"), &ev), 0,
	       "Podman's native 'died'");
	ok(ev.kind == ENGINE_EV_DIE && ev.time_ms == 1700000000000LL, "is DIE; time in seconds");
	engine_event_clear(&ev);
	is_int(decode_line(EV("container", "exec_start: sh -c 'x'", ID_A, "", ""), &ev), 0,
	       "exec_start with a command");
	is_int(ev.kind, ENGINE_EV_EXEC_START, "... is EXEC_START");
	is_int(ev.time_ms, 0, "no time: 0");
	engine_event_clear(&ev);
	is_int(decode_line(EV("container", "exec_started", ID_A, "", ""), &ev), 1,
	       "unknown actions ignored");
	is_int(decode_line(EV("container", "start", "xyz", "", ""), &ev), -1, "bad actor id");
	is_int(decode_line("{\"Action\":\"start\",\"Actor\":{\"ID\":\"" ID_A "\"}}", &ev), -1,
	       "no Type");
	is_int(decode_line("{\"Type\":\"container\",\"status\":\"start\",\"id\":\"" ID_A "\"}", &ev),
	       0, "old-style status/id without Action/Actor");
	engine_event_clear(&ev);
	is_int(decode_line(EV("container", "start", ID_A, "\"name\":\"\\u001b]0;pwn\\u0007\"",
			      ",\"timeNano\":\"1\",\"time\":2"), &ev), 0, "hostile name, odd times");
	is_str(ev.name, "\x1b]0;pwn\x07", "name kept verbatim for the printers");
	is_int(ev.time_ms, 2000, "timeNano of the wrong type: time used");
	engine_event_clear(&ev);
	is_int(decode_line(EV("container", "die", ID_A, "\"exitCode\":\"99999999999\",\"k\":\"v\"",
			      ""), &ev), 0, "exit code out of range");
	ok(ev.exit_code == -1 && ev.nlabels == 1, "... reads as unknown; the label stays");
	engine_event_clear(&ev);
	is_int(decode_line(EV("container", "die", ID_A, "\"name\":\"a\\u0000b\"", ""), &ev), 0,
	       "a NUL inside an event's name");
	is_str(ev.name, "", "... is not taken");
	engine_event_clear(&ev);
}

/* Feeds the stream in the given pieces and collects the kinds it yields. */
static int stream_run(struct engine_stream *s, const char *data, size_t len,
		      const size_t *cuts, int ncuts, int *kinds, int max)
{
	struct engine_event ev;
	size_t at = 0;
	int n = 0;
	for (int i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		if (engine_stream_feed(s, data + at, end - at) < 0)
			return -1;
		at = end;
		while (engine_stream_next(s, &ev) == 1) {
			if (n < max)
				kinds[n] = ev.kind;
			n++;
			engine_event_clear(&ev);
		}
	}
	return n;
}

static void stream_tests(void)
{
	struct engine_stream s = { 0 };
	size_t len;
	char *all = slurp("docker-events.jsonl", &len);
	int kinds[8], want[] = { ENGINE_EV_EXEC_START, ENGINE_EV_EXEC_DIE, ENGINE_EV_START,
				 ENGINE_EV_DIE };
	int bad = 0;

	/* Every single split point, and every pair of split points 37 bytes apart. */
	for (size_t k = 0; k <= len; k++) {
		size_t cuts[2] = { k, k + 37 < len ? k + 37 : len };
		int n = stream_run(&s, all, len, cuts, 2, kinds, 8);
		if (n != 4 || memcmp(kinds, want, sizeof(want)) != 0)
			bad++;
		engine_stream_reset(&s);
	}
	is_int(bad, 0, "the same four events whatever the read boundaries");

	size_t cuts[4096];
	for (size_t k = 0; k < len && k < 4096; k++)
		cuts[k] = k + 1;
	is_int(stream_run(&s, all, len, cuts, (int)(len < 4096 ? len : 4096), kinds, 8), 4,
	       "byte by byte");
	engine_stream_reset(&s);

	/* A stream cut mid-line keeps the tail pending: no half event. */
	char buf[8192];
	snprintf(buf, sizeof(buf), "%s\n%s", EV("container", "start", ID_A, "", ""),
		 EV("container", "die", ID_A, "", ""));
	is_int(stream_run(&s, buf, strlen(buf), NULL, 0, kinds, 8), 1,
	       "an unfinished last line is not delivered");
	is_int(stream_run(&s, "\n", 1, NULL, 0, kinds, 8), 1, "... until its newline comes");
	is_int(kinds[0], ENGINE_EV_DIE, "... whole");
	engine_stream_reset(&s);

	snprintf(buf, sizeof(buf), "\r\n\n%s\r\nnot json\n{\"Type\":\"container\"}\n%s\n",
		 EV("container", "start", ID_A, "", ""), EV("container", "die", ID_A, "", ""));
	is_int(stream_run(&s, buf, strlen(buf), NULL, 0, kinds, 8), 2,
	       "CRLF, blank and malformed lines");
	is_int(s.malformed, 2, "malformed lines counted");
	engine_stream_reset(&s);

	/* An over-long line is dropped whole, in however many pieces it comes. */
	char *big = malloc(ENGINE_LINE_MAX + 100);
	memset(big, 'x', ENGINE_LINE_MAX + 100);
	int n = 0;
	for (int i = 0; i < 3; i++)
		n += stream_run(&s, big, ENGINE_LINE_MAX / 2 + 50, NULL, 0, kinds, 8);
	snprintf(buf, sizeof(buf), "xx\n%s\n", EV("container", "start", ID_A, "", ""));
	n += stream_run(&s, buf, strlen(buf), NULL, 0, kinds, 8);
	is_int(n, 1, "the line after an over-long one is decoded");
	is_int(s.dropped, 1, "the over-long line is counted");
	ok(s.cap <= 4u * ENGINE_LINE_MAX, "the buffer stayed bounded (%zu)", s.cap);
	free(big);
	engine_stream_reset(&s);

	/* A long quiet stream does not grow the buffer. */
	snprintf(buf, sizeof(buf), "%s\n", EV("container", "start", ID_A, "\"k\":\"v\"", ""));
	for (int i = 0; i < 10000; i++)
		stream_run(&s, buf, strlen(buf), NULL, 0, kinds, 8);
	ok(s.cap <= 8192, "10000 events through a small buffer (%zu)", s.cap);
	engine_stream_reset(&s);
	free(all);
}

int main(void)
{
	inspect_tests();
	event_tests();
	stream_tests();
	return tap_done_testing();
}
