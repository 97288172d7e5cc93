/* A client for the Docker Engine API on a unix socket: Docker, or Podman's
 * Docker-compatible service. Library style: functions return 0 on success, 1 for "no
 * such container" where that can happen, -1 on failure with errno set and a message in
 * engine_error(); they never print or exit. Everything from the engine (names, labels,
 * error texts) is container-controlled text: stored bounded, NUL-free, never trusted.
 *
 * Blocking calls (inspect, list) take at most ENGINE_TIMEOUT_MS each. The event
 * stream is non-blocking and thread-free: one pollable fd for the caller's epoll. */
#ifndef CLAWSS_ENGINE_H
#define CLAWSS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct engine;

#define ENGINE_ID_LEN 64          /* hex digits of a full container id */
#define ENGINE_NAME_MAX 256       /* with the NUL; a longer name is refused, not cut */
#define ENGINE_IMAGE_MAX 512      /* image and network mode are informational: cut */
#define ENGINE_NETMODE_MAX 128
#define ENGINE_TIMEOUT_MS 10000

struct engine_label {
	char *key, *value;
};

struct engine_container {
	char id[ENGINE_ID_LEN + 1];
	char name[ENGINE_NAME_MAX];           /* without Docker's leading '/' */
	char image[ENGINE_IMAGE_MAX];         /* as the user named it (Config.Image) */
	char network_mode[ENGINE_NETMODE_MAX]; /* "none", "bridge", "host", "container:ID" */
	int host_network;        /* network_mode "host": shares the host's namespace */
	int running;
	int pid;                 /* init pid on the host; 0 unless running */
	int64_t started_ms;      /* State.StartedAt; 0 = unknown (never started) */
	struct engine_label *labels;
	int nlabels;
};

/* Frees c's labels; c may then be reused. */
void engine_container_clear(struct engine_container *c);

/* host: "unix:///path", "/path", or NULL for $DOCKER_HOST (unix:// only), else
 * /run/docker.sock if it exists, else /run/podman/podman.sock. Connects once (GET
 * /_ping) to learn the API version and the engine's kind. errno ENOENT when no engine
 * socket exists (the caller falls back to /run/netns names); other errno values when
 * one exists but does not answer. err gets "what: why" in both cases. */
int engine_open(struct engine **out, const char *host, char *err, size_t errlen);
void engine_close(struct engine *e);
const char *engine_error(const struct engine *e);
const char *engine_socket_path(const struct engine *e);
const char *engine_kind(const struct engine *e);       /* "docker" or "podman" */
const char *engine_api_version(const struct engine *e); /* e.g. "1.41" */

/* GET /containers/NAME/json. 1 when the engine knows no such container (HTTP 404, or a
 * name no engine could accept). On success the caller owns out (engine_container_clear). */
int engine_inspect(struct engine *e, const char *name_or_id, struct engine_container *out);

/* Each running container, inspected. cb's non-zero return stops the walk and is returned.
 * Containers that vanish between the list and their inspection are skipped. */
typedef int (*engine_list_cb)(const struct engine_container *c, void *arg);
int engine_list(struct engine *e, engine_list_cb cb, void *arg);

/* selectors are "KEY" (present, any value) or "KEY=VALUE" (exact); all must match.
 * n == 0 matches everything. 1 on match, 0 otherwise. */
int engine_labels_match(const struct engine_container *c, const char *const *selectors, int n);
/* The same test over a plain label array (an event's labels). */
int engine_labels_match_list(const struct engine_label *labels, int nlabels,
			     const char *const *selectors, int n);

/* The event stream (GET /events, type=container), normalised across engines. */
enum engine_event_kind {
	ENGINE_EV_START,         /* Docker and Podman "start" */
	ENGINE_EV_DIE,           /* "die" (Podman's native name "died" too) */
	ENGINE_EV_EXEC_START,    /* Docker "exec_start: CMD", Podman "exec" */
	ENGINE_EV_EXEC_DIE,      /* Docker "exec_die", Podman "exec_died" */
	ENGINE_EV_CONNECTED,     /* the stream is up: rescan with engine_list now */
	ENGINE_EV_DISCONNECTED,  /* the stream is down (detail says why); events are being
				  * missed until the next CONNECTED; retries are automatic */
};

struct engine_event {
	enum engine_event_kind kind;
	char id[ENGINE_ID_LEN + 1];         /* container id; empty for (DIS)CONNECTED */
	char name[ENGINE_NAME_MAX];         /* container name; may be empty */
	char exec_id[ENGINE_ID_LEN + 1];    /* Docker exec events only; else empty */
	int64_t time_ms;                    /* engine's time; our clock for (DIS)CONNECTED */
	int exit_code;                      /* DIE, EXEC_DIE when given; else -1 */
	/* Actor.Attributes less the engine's own keys (name, image, exitCode, execID,
	 * containerExitCode, podId, signal): the container's labels, as far as the event
	 * tells. Engine inspect remains the authority. */
	struct engine_label *labels;
	int nlabels;
	const char *detail;                 /* DISCONNECTED: why; else NULL */
};

/* cb runs from engine_events_dispatch only, never from inside libcurl, so it may call
 * engine_inspect and engine_list. It must not call engine_events_stop or engine_close.
 * A non-zero return stops the dispatch (returned by it); undelivered events wait for the
 * next call, and the fd stays ready. */
typedef int (*engine_event_cb)(const struct engine_event *ev, void *arg);

/* Starts connecting (non-blocking). A stream that drops, or that gets no HTTP answer
 * within ENGINE_TIMEOUT_MS, is retried after 0.5 s, doubling to 30 s, back to 0.5 s once
 * connected. DISCONNECTED is delivered when a live stream ends and when the first attempt
 * fails; repeated failures while down are silent. Typical use: add engine_events_fd() to
 * the watch loop's epoll; on EPOLLIN call engine_events_dispatch(); in the callback, on
 * CONNECTED rescan with engine_list (containers that started while the stream was down),
 * on START inspect the id (pid, start time, labels) and match names/labels, on DIE end
 * the target. Podman 4.3 quirks: exec events carry no exec id, a `podman exec` may
 * report its end twice, and a detached exec made through the compatible API reports no
 * end at all: count exec windows defensively (clamp at zero, let DIE close them). */
int engine_events_start(struct engine *e, engine_event_cb cb, void *arg);
/* An epoll fd that turns readable (EPOLLIN) whenever dispatch has work, timeouts
 * included: adding it to the caller's epoll set is enough. -1 before start. */
int engine_events_fd(const struct engine *e);
/* Milliseconds until dispatch is due without the fd turning readable; -1 none. Only for
 * callers that prefer their own timeout; the fd already covers it. */
int engine_events_timeout_ms(const struct engine *e);
/* Runs I/O, timers and reconnects, and delivers events. Never blocks. 0, the callback's
 * non-zero value, or -1 (errno) on an internal failure. */
int engine_events_dispatch(struct engine *e);
void engine_events_stop(struct engine *e);

/* Wire decoding, exposed for the unit tests (tests/unit/engine_*.c). */
int engine_container_decode(const char *json, size_t len, struct engine_container *out);
/* 0 decoded, 1 not an event the module reports (other types and actions), -1 malformed. */
int engine_event_decode(const char *json, size_t len, struct engine_event *out);
void engine_event_clear(struct engine_event *ev);

/* Splits the newline-delimited stream into events, whatever the read boundaries. */
#define ENGINE_LINE_MAX (1 << 20) /* a longer line is dropped and counted */
struct engine_stream {
	char *buf;
	size_t len, cap, off;
	int skipping;                /* inside an over-long line: drop up to its newline */
	unsigned long dropped;       /* over-long lines */
	unsigned long malformed;     /* lines that were not an engine event */
};
int engine_stream_feed(struct engine_stream *s, const void *data, size_t n);
/* 1 with *ev filled (engine_event_clear it after), 0 when no complete line is left. A
 * final line without its newline is left pending: a cut stream does not invent events. */
int engine_stream_next(struct engine_stream *s, struct engine_event *ev);
void engine_stream_reset(struct engine_stream *s);   /* frees; s may then be reused */

#endif
