/* The Docker Engine API client: libcurl on a unix socket, json-c for the replies.
 * Docker 20.10+ and Podman 4's compatible service speak the same dialect; the few
 * differences (event names, exec ids) are normalised here so callers see one engine. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "../lib/util.h"
#include "engine.h"
#include "engine_wire.h"

#define INSPECT_MAX (8u << 20)     /* reply caps: a runaway engine cannot exhaust us */
#define LIST_MAX (64u << 20)
#define LIST_COUNT_MAX 100000
#define API_DEFAULT "1.41"         /* Docker 20.10, Podman 4.3's compat service */
#define API_MAX_MINOR 52           /* newest version whose fields we checked (Docker 29) */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define SOCK_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

enum { EV_CONNECTING, EV_UP, EV_WAITING };

struct events {
	CURLM *multi;
	CURL *easy;
	int efd, tfd;
	engine_event_cb cb;
	void *arg;
	struct engine_stream stream;
	int state, attached, reported_down;
	int pend_connected, pend_disconnected;
	int64_t curl_due, retry_due, answer_due;  /* CLOCK_MONOTONIC ms; -1 none */
	int64_t backoff_ms;
	long status;
	char errbody[256];
	size_t errbody_len;
	char detail[320];
	char curl_err[CURL_ERROR_SIZE];
};

struct engine {
	char path[SOCK_MAX];
	char version[16];
	const char *kind;
	CURL *easy;
	char *resp;
	size_t resp_len, resp_cap, resp_max;
	char hdr_api[16];
	int hdr_podman;
	char curl_err[CURL_ERROR_SIZE];
	char err[512];
	struct events *ev;
};

/* Error texts may quote the engine, hence container-made text: no control bytes. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void set_err(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
	sanitize(e->err);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- HTTP over the socket ---- */

static size_t resp_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct engine *e = arg;
	size_t n = size * nmemb;
	if (e->resp_len + n > e->resp_max)
		return 0;  /* CURLE_WRITE_ERROR */
	if (e->resp_len + n + 1 > e->resp_cap) {
		size_t cap = e->resp_cap ? e->resp_cap : 16384;
		while (cap < e->resp_len + n + 1)
			cap *= 2;
		char *b = realloc(e->resp, cap);
		if (!b)
			return 0;
		e->resp = b;
		e->resp_cap = cap;
	}
	memcpy(e->resp + e->resp_len, p, n);
	e->resp_len += n;
	e->resp[e->resp_len] = '\0';
	return n;
}

/* Copies header NAME's value ("Name: value\r\n") into dst; 1 when it was that header. */
static int header_value(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
	size_t k = strlen(name);
	if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	engine_copy_bounded(dst, cap, line, n, 1);
	return 1;
}

static size_t resp_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct engine *e = arg;
	size_t n = size * nmemb;
	char tmp[16];
	header_value(p, n, "Api-Version", e->hdr_api, sizeof(e->hdr_api));
	if (header_value(p, n, "Libpod-Api-Version", tmp, sizeof(tmp)))
		e->hdr_podman = 1;
	return n;
}

static void easy_common(CURL *c, const char *path, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, path);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");  /* $http_proxy must not apply */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
#endif
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
}

static int curl_errno_of(CURL *c, CURLcode rc)
{
	long os = 0;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
		return os > 0 ? (int)os : ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		return EMSGSIZE;
	case CURLE_OUT_OF_MEMORY:
		return ENOMEM;
	default:
		return EIO;
	}
}

/* GET path; 0 with *status set (the body in e->resp), or -1. */
static int http_get(struct engine *e, const char *path, size_t max, long *status)
{
	char url[1024];
	if ((size_t)snprintf(url, sizeof(url), "http://localhost%s", path) >= sizeof(url)) {
		errno = ENAMETOOLONG;
		set_err(e, "request path too long");
		return -1;
	}
	e->resp_len = 0;
	e->resp_max = max;
	e->curl_err[0] = '\0';
	curl_easy_setopt(e->easy, CURLOPT_URL, url);
	CURLcode rc = curl_easy_perform(e->easy);
	if (rc != CURLE_OK) {
		int err = curl_errno_of(e->easy, rc);
		if (rc == CURLE_COULDNT_CONNECT)
			set_err(e, "%s: %s", e->path, strerror(err));
		else
			set_err(e, "%s: GET %s: %s", e->path, path,
				e->curl_err[0] ? e->curl_err : curl_easy_strerror(rc));
		errno = err;
		return -1;
	}
	curl_easy_getinfo(e->easy, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* An HTTP error with the engine's own words ({"message": ...}). */
static int http_fail(struct engine *e, const char *path, long status)
{
	json_object *o = e->resp_len ? engine_json_parse(e->resp, e->resp_len) : NULL;
	const char *msg = engine_jstr(o, "message", NULL);
	set_err(e, "%s: GET %s: HTTP %ld%s%.200s", e->path, path, status, msg ? ": " : "",
		msg ? msg : "");
	json_object_put(o);
	errno = status == 404 ? ENOENT : EPROTO;
	return -1;
}

/* The socket to use, in SPEC.md's order. */
static int socket_resolve(const char *host, char *path, size_t cap, char *err, unsigned errlen)
{
	static const char *const defaults[] = { "/run/docker.sock", "/run/podman/podman.sock" };
	const char *what = host ? "engine host" : "DOCKER_HOST";
	struct stat st;

	if (!host && (host = getenv("DOCKER_HOST")) && !*host)
		host = NULL;
	if (!host) {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			if (stat(defaults[i], &st) == 0) {
				snprintf(path, cap, "%s", defaults[i]);
				goto check;
			}
		}
		snprintf(err, errlen, "no container engine: DOCKER_HOST is unset and neither "
			 "/run/docker.sock nor /run/podman/podman.sock exists");
		errno = ENOENT;
		return -1;
	}
	if (strncmp(host, "unix://", 7) == 0)
		host += 7;
	else if (*host != '/' || strstr(host, "://")) {
		snprintf(err, errlen, "%s %.200s: only unix:// sockets are supported", what, host);
		sanitize(err);
		errno = EINVAL;
		return -1;
	}
	if (!*host || strlen(host) >= cap) {
		snprintf(err, errlen, "%s: bad socket path", what);
		errno = EINVAL;
		return -1;
	}
	snprintf(path, cap, "%s", host);
	if (stat(path, &st) < 0) {
		int saved = errno;
		snprintf(err, errlen, "%.200s: %s", path, strerror(saved));
		sanitize(err);
		errno = saved;
		return -1;
	}
check:
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%.200s: not a socket", path);
		sanitize(err);
		errno = ENOTSOCK;
		return -1;
	}
	return 0;
}

/* Speak the engine's newest version up to the newest we checked: Docker 29 refuses
 * anything below 1.44, Docker 20.10 and Podman 4.3 offer at most 1.41. */
static void version_choose(struct engine *e)
{
	unsigned major, minor;
	char rest;
	if (sscanf(e->hdr_api, "%u.%u%c", &major, &minor, &rest) != 2 || major != 1 ||
	    minor < 24) {
		snprintf(e->version, sizeof(e->version), "%s", API_DEFAULT);
		return;
	}
	snprintf(e->version, sizeof(e->version), "1.%u", minor > API_MAX_MINOR ? API_MAX_MINOR : minor);
}

int engine_open(struct engine **out, const char *host, char *err, unsigned errlen)
{
	char path[SOCK_MAX];
	long status = 0;

	*out = NULL;
	if (socket_resolve(host, path, sizeof(path), err, errlen) < 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl: initialisation failed");
		errno = ENOMEM;
		return -1;
	}
	struct engine *e = calloc(1, sizeof(*e));
	if (!e || !(e->easy = curl_easy_init())) {
		free(e);
		curl_global_cleanup();
		snprintf(err, errlen, "libcurl: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	snprintf(e->path, sizeof(e->path), "%s", path);
	easy_common(e->easy, e->path, e->curl_err);
	curl_easy_setopt(e->easy, CURLOPT_TIMEOUT_MS, (long)ENGINE_TIMEOUT_MS);
	curl_easy_setopt(e->easy, CURLOPT_WRITEFUNCTION, resp_write);
	curl_easy_setopt(e->easy, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->easy, CURLOPT_HEADERFUNCTION, resp_header);
	curl_easy_setopt(e->easy, CURLOPT_HEADERDATA, e);
	if (http_get(e, "/_ping", 4096, &status) < 0 ||
	    (status != 200 && http_fail(e, "/_ping", status) < 0)) {
		int saved = errno;
		snprintf(err, errlen, "%s", e->err);
		engine_close(e);
		errno = saved;
		return -1;
	}
	version_choose(e);
	e->kind = e->hdr_podman ? "podman" : "docker";
	*out = e;
	return 0;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	engine_events_stop(e);
	curl_easy_cleanup(e->easy);
	free(e->resp);
	free(e);
	curl_global_cleanup();
}

const char *engine_error(const struct engine *e) { return e->err; }
const char *engine_socket_path(const struct engine *e) { return e->path; }
const char *engine_kind(const struct engine *e) { return e->kind; }
const char *engine_api_version(const struct engine *e) { return e->version; }

/* Names and ids as the engines accept them ([a-zA-Z0-9][a-zA-Z0-9_.-]*): anything else
 * could only be a mistake or a path trick ("../images/json"), never a container. */
static int name_acceptable(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= ENGINE_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

int engine_inspect(struct engine *e, const char *name_or_id, struct engine_container *out)
{
	char path[512];
	long status = 0;

	memset(out, 0, sizeof(*out));
	if (*name_or_id == '/')
		name_or_id++;
	if (!name_acceptable(name_or_id)) {
		set_err(e, "no such container");
		errno = ENOENT;
		return 1;
	}
	snprintf(path, sizeof(path), "/v%s/containers/%s/json", e->version, name_or_id);
	if (http_get(e, path, INSPECT_MAX, &status) < 0)
		return -1;
	if (status == 404) {
		set_err(e, "no such container");
		errno = ENOENT;
		return 1;
	}
	if (status != 200)
		return http_fail(e, path, status);
	if (engine_container_decode(e->resp, e->resp_len, out) < 0) {
		int saved = errno;
		set_err(e, "%s: GET %s: %s", e->path, path,
			saved == ENOMEM ? strerror(saved) : "unexpected reply");
		errno = saved;
		return -1;
	}
	return 0;
}

int engine_list(struct engine *e, engine_list_cb cb, void *arg)
{
	char path[64];
	long status = 0;
	int ret = 0;

	snprintf(path, sizeof(path), "/v%s/containers/json", e->version);
	if (http_get(e, path, LIST_MAX, &status) < 0)
		return -1;
	if (status != 200)
		return http_fail(e, path, status);
	json_object *arr = engine_json_parse(e->resp, e->resp_len);
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		set_err(e, "%s: GET %s: unexpected reply", e->path, path);
		errno = EPROTO;
		return -1;
	}
	size_t n = json_object_array_length(arr), k = 0;
	if (n > LIST_COUNT_MAX)
		n = LIST_COUNT_MAX;
	/* Copy the ids out: each inspection reuses the reply buffer. */
	char (*ids)[ENGINE_ID_LEN + 1] = n ? calloc(n, sizeof(*ids)) : NULL;
	if (n && !ids) {
		json_object_put(arr);
		set_err(e, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *id = engine_jstr(json_object_array_get_idx(arr, i), "Id", &len);
		if (id && engine_is_hex_id(id, len))
			memcpy(ids[k++], id, len + 1);
	}
	json_object_put(arr);
	for (size_t i = 0; i < k && ret == 0; i++) {
		struct engine_container c;
		int r = engine_inspect(e, ids[i], &c);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (r == 0 && c.running && c.pid > 0)
			ret = cb(&c, arg);
		engine_container_clear(&c);
	}
	free(ids);
	return ret;
}

/* ---- Events: libcurl multi driven by our epoll fd and one timerfd ---- */

static int ev_pending(const struct events *ev)
{
	return ev->pend_connected || ev->pend_disconnected || engine_stream_has_line(&ev->stream);
}

static int64_t ev_next_due(const struct events *ev)
{
	int64_t due = -1, all[3] = { ev->curl_due, ev->retry_due,
				     ev->state == EV_CONNECTING ? ev->answer_due : -1 };
	for (int i = 0; i < 3; i++)
		if (all[i] >= 0 && (due < 0 || all[i] < due))
			due = all[i];
	return due;
}

static void ev_arm(struct events *ev)
{
	int64_t due = -1;
	struct itimerspec its = { 0 };

	if (ev_pending(ev))
		due = 0;
	else
		due = ev_next_due(ev);
	if (due == 0) {
		its.it_value.tv_nsec = 1;  /* absolute 1 ns: already past, fires at once */
	} else if (due > 0) {
		its.it_value.tv_sec = due / 1000;
		its.it_value.tv_nsec = (due % 1000) * 1000000;
	}
	timerfd_settime(ev->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int ev_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct events *ev = userp;
	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(ev->efd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ee = { .data.fd = s };
	if (what & CURL_POLL_IN)
		ee.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ee.events |= EPOLLOUT;
	if (epoll_ctl(ev->efd, EPOLL_CTL_MOD, s, &ee) < 0 &&
	    (errno != ENOENT || epoll_ctl(ev->efd, EPOLL_CTL_ADD, s, &ee) < 0))
		return -1;
	return 0;
}

static int ev_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct events *ev = userp;
	(void)multi;
	ev->curl_due = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

static size_t ev_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct events *ev = arg;
	size_t n = size * nmemb;
	if (n <= 2 && (p[0] == '\r' || p[0] == '\n')) {  /* end of the headers */
		curl_easy_getinfo(ev->easy, CURLINFO_RESPONSE_CODE, &ev->status);
		if (ev->status == 200) {
			ev->state = EV_UP;
			ev->pend_connected = 1;
			ev->reported_down = 0;
			ev->backoff_ms = BACKOFF_MIN_MS;
		}
	}
	return n;
}

static size_t ev_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct events *ev = arg;
	size_t n = size * nmemb;
	if (ev->status != 200) {  /* keep the start of an error reply for the detail */
		size_t room = sizeof(ev->errbody) - 1 - ev->errbody_len;
		size_t k = n < room ? n : room;
		memcpy(ev->errbody + ev->errbody_len, p, k);
		ev->errbody_len += k;
		ev->errbody[ev->errbody_len] = '\0';
		return n;
	}
	return engine_stream_feed(&ev->stream, p, n) < 0 ? 0 : n;
}

static void ev_connect(struct engine *e)
{
	struct events *ev = e->ev;
	ev->status = 0;
	ev->errbody_len = 0;
	ev->errbody[0] = '\0';
	ev->curl_err[0] = '\0';
	ev->stream.off = ev->stream.len = 0;
	ev->stream.skipping = 0;
	ev->state = EV_CONNECTING;
	ev->answer_due = mono_ms() + ENGINE_TIMEOUT_MS;  /* a hung engine is a failure too */
	if (curl_multi_add_handle(ev->multi, ev->easy) == CURLM_OK) {
		ev->attached = 1;
		return;
	}
	snprintf(ev->detail, sizeof(ev->detail), "libcurl: cannot start a transfer");
	ev->state = EV_WAITING;
	ev->retry_due = mono_ms() + ev->backoff_ms;
}

/* The transfer ended: say why, once per outage, and schedule the next attempt. */
static void ev_done(struct engine *e, CURLcode rc)
{
	struct events *ev = e->ev;
	int was_up = ev->state == EV_UP;

	curl_multi_remove_handle(ev->multi, ev->easy);
	ev->attached = 0;
	if (rc != CURLE_OK && rc != CURLE_PARTIAL_FILE && !(was_up && rc == CURLE_RECV_ERROR)) {
		snprintf(ev->detail, sizeof(ev->detail), "%s: %.200s", e->path,
			 rc == CURLE_COULDNT_CONNECT ? strerror(curl_errno_of(ev->easy, rc)) :
			 ev->curl_err[0] ? ev->curl_err : curl_easy_strerror(rc));
	} else if (ev->status != 200) {
		json_object *o = engine_json_parse(ev->errbody, ev->errbody_len);
		const char *msg = engine_jstr(o, "message", NULL);
		snprintf(ev->detail, sizeof(ev->detail), "%s: GET /events: HTTP %ld%s%.200s",
			 e->path, ev->status, msg ? ": " : "", msg ? msg : "");
		json_object_put(o);
	} else {
		snprintf(ev->detail, sizeof(ev->detail), "%s: the engine closed the event stream",
			 e->path);
	}
	sanitize(ev->detail);
	engine_stream_cut(&ev->stream);
	if (was_up || !ev->reported_down) {
		ev->pend_disconnected = 1;
		ev->reported_down = 1;
	}
	ev->state = EV_WAITING;
	ev->retry_due = mono_ms() + ev->backoff_ms;
	ev->backoff_ms = ev->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ev->backoff_ms * 2;
}

static int ev_deliver(struct engine *e)
{
	struct events *ev = e->ev;
	struct engine_event out;
	int r, k;

	if (ev->pend_connected) {
		ev->pend_connected = 0;
		memset(&out, 0, sizeof(out));
		out.kind = ENGINE_EV_CONNECTED;
		out.exit_code = -1;
		out.time_ms = time_now_ms();
		if ((r = ev->cb(&out, ev->arg)))
			return r;
	}
	while ((k = engine_stream_next(&ev->stream, &out)) == 1) {
		r = ev->cb(&out, ev->arg);
		engine_event_clear(&out);
		if (r)
			return r;
	}
	if (k < 0)
		return -1;
	if (ev->pend_disconnected) {
		ev->pend_disconnected = 0;
		memset(&out, 0, sizeof(out));
		out.kind = ENGINE_EV_DISCONNECTED;
		out.exit_code = -1;
		out.time_ms = time_now_ms();
		out.detail = ev->detail;
		if ((r = ev->cb(&out, ev->arg)))
			return r;
	}
	return 0;
}

int engine_events_start(struct engine *e, engine_event_cb cb, void *arg)
{
	char url[128];
	struct events *ev;

	if (e->ev) {
		errno = EBUSY;
		set_err(e, "events: already started");
		return -1;
	}
	if (!(ev = calloc(1, sizeof(*ev))))
		goto fail;
	e->ev = ev;
	ev->efd = ev->tfd = -1;
	ev->cb = cb;
	ev->arg = arg;
	ev->curl_due = ev->retry_due = -1;
	ev->backoff_ms = BACKOFF_MIN_MS;
	if ((ev->efd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (ev->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		goto fail;
	struct epoll_event ee = { .events = EPOLLIN, .data.fd = ev->tfd };
	if (epoll_ctl(ev->efd, EPOLL_CTL_ADD, ev->tfd, &ee) < 0)
		goto fail;
	if (!(ev->multi = curl_multi_init()) || !(ev->easy = curl_easy_init())) {
		errno = ENOMEM;
		goto fail;
	}
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETFUNCTION, ev_socket_cb);
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETDATA, ev);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERFUNCTION, ev_timer_cb);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERDATA, ev);
	/* Only type=container on the wire: Podman filters event names by its internal
	 * spelling ("died"), so a name filter would silently drop its die events. */
	snprintf(url, sizeof(url), "http://localhost/v%s/events?filters="
		 "%%7B%%22type%%22%%3A%%5B%%22container%%22%%5D%%7D", e->version);
	easy_common(ev->easy, e->path, ev->curl_err);
	curl_easy_setopt(ev->easy, CURLOPT_URL, url);
	curl_easy_setopt(ev->easy, CURLOPT_WRITEFUNCTION, ev_write);
	curl_easy_setopt(ev->easy, CURLOPT_WRITEDATA, ev);
	curl_easy_setopt(ev->easy, CURLOPT_HEADERFUNCTION, ev_header);
	curl_easy_setopt(ev->easy, CURLOPT_HEADERDATA, ev);
	ev_connect(e);
	ev_arm(ev);
	return 0;
fail:;
	int saved = errno;
	set_err(e, "events: %s", strerror(saved));
	engine_events_stop(e);
	errno = saved;
	return -1;
}

int engine_events_fd(const struct engine *e)
{
	return e->ev ? e->ev->efd : -1;
}

int engine_events_timeout_ms(const struct engine *e)
{
	const struct events *ev = e->ev;
	if (!ev)
		return -1;
	if (ev_pending(ev))
		return 0;
	int64_t due = ev_next_due(ev);
	if (due < 0)
		return -1;
	int64_t left = due - mono_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int engine_events_dispatch(struct engine *e)
{
	struct events *ev = e->ev;
	struct epoll_event evs[16];
	int running, r, n;

	if (!ev) {
		errno = EINVAL;
		return -1;
	}
	if ((r = ev_deliver(e)))
		goto out;
	n = epoll_wait(ev->efd, evs, 16, 0);
	if (n < 0 && errno != EINTR) {
		r = -1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd, mask = 0;
		if (fd == ev->tfd) {
			uint64_t ticks;
			if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
				r = -1;
				goto out;
			}
			continue;
		}
		if (evs[i].events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(ev->multi, fd, mask, &running);
	}
	if (ev->curl_due >= 0 && ev->curl_due <= mono_ms()) {
		ev->curl_due = -1;
		curl_multi_socket_action(ev->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(ev->multi, &left)))
		if (msg->msg == CURLMSG_DONE && ev->attached)
			ev_done(e, msg->data.result);
	if (ev->state == EV_CONNECTING && ev->attached && ev->answer_due <= mono_ms())
		ev_done(e, CURLE_OPERATION_TIMEDOUT);
	if (ev->state == EV_WAITING && ev->retry_due >= 0 && ev->retry_due <= mono_ms() &&
	    !ev_pending(ev)) {
		ev->retry_due = -1;
		ev_connect(e);
	}
	r = ev_deliver(e);
out:
	ev_arm(ev);
	return r;
}

void engine_events_stop(struct engine *e)
{
	struct events *ev = e->ev;
	if (!ev)
		return;
	if (ev->attached)
		curl_multi_remove_handle(ev->multi, ev->easy);
	curl_easy_cleanup(ev->easy);
	curl_multi_cleanup(ev->multi);
	if (ev->efd >= 0)
		close(ev->efd);
	if (ev->tfd >= 0)
		close(ev->tfd);
	engine_stream_reset(&ev->stream);
	free(ev);
	e->ev = NULL;
}
