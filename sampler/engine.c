/* The Docker Engine API client: libcurl on a unix socket, json-c for the replies.
 * Docker 20.10+ and Podman 4's compatible service speak the same dialect; the few
 * differences (event names, exec ids) are normalised here so callers see one engine.
 * This file: the socket, GET requests, inspect and list; the event stream is
 * engine_events.c's, the JSON's decoding engine_wire.c's. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "../lib/escape.h"
#include "../lib/util.h"
#include "engine_int.h"
#include "engine_wire.h"

#define INSPECT_MAX (8u << 20)     /* reply caps: a runaway engine cannot exhaust us */
#define LIST_MAX (64u << 20)
#define LIST_COUNT_MAX 100000
#define API_DEFAULT "1.41"         /* Docker 20.10, Podman 4.3's compat service */
#define API_MAX_MINOR 52           /* newest version whose fields we checked (Docker 29) */


/* Error texts may quote the engine, hence container-made text: escaped as all text
 * clawss shows is (lib/escape.h), then cut to fit, never inside a character. */
void engine_text_copy(char *dst, size_t cap, const char *s)
{
	struct rbuf b = { 0 };
	esc_text(&b, s, strlen(s));
	const char *t = rbuf_str(&b);
	size_t n = t ? b.len : 0;
	if (n >= cap)
		for (n = cap - 1; n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80; n--)
			;
	memcpy(dst, t ? t : "", n);
	dst[n] = '\0';
	rbuf_free(&b);
}

static void text_vprintf(char *dst, size_t cap, const char *fmt, va_list ap)
{
	char raw[512];
	vsnprintf(raw, sizeof(raw), fmt, ap);
	engine_text_copy(dst, cap, raw);
}

void engine_set_err(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	text_vprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
}

/* err says why (escaped: the text may be DOCKER_HOST's); -1 with errno e. */
static int resolve_fail(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int resolve_fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	text_vprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/* ---- HTTP over the socket ---- */

static size_t resp_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct engine *e = arg;
	size_t n = size * nmemb;
	if (e->resp_len + n > e->resp_max)
		return 0;  /* CURLE_WRITE_ERROR */
	if (util_grow(&e->resp, &e->resp_cap, e->resp_len + n + 1, 1) < 0)
		return 0;
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

void engine_easy_common(CURL *c, const char *path, char *errbuf)
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

int engine_curl_errno(CURL *c, CURLcode rc)
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
		engine_set_err(e, "request path too long");
		return -1;
	}
	e->resp_len = 0;
	e->resp_max = max;
	e->curl_err[0] = '\0';
	curl_easy_setopt(e->easy, CURLOPT_URL, url);
	CURLcode rc = curl_easy_perform(e->easy);
	if (rc != CURLE_OK) {
		int err = engine_curl_errno(e->easy, rc);
		if (rc == CURLE_COULDNT_CONNECT)
			engine_set_err(e, "%s: %s", e->path, strerror(err));
		else
			engine_set_err(e, "%s: GET %s: %s", e->path, path,
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
	engine_set_err(e, "%s: GET %s: HTTP %ld%s%.200s", e->path, path, status, msg ? ": " : "",
		msg ? msg : "");
	json_object_put(o);
	errno = status == 404 ? ENOENT : EPROTO;
	return -1;
}

/* The socket to use: the one named (host, else $DOCKER_HOST; unix:// or a path), else
 * Docker's, else Podman's. */
static int socket_resolve(const char *host, char *path, size_t cap, char *err, size_t errlen)
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
		return resolve_fail(err, errlen, EINVAL, "%s %.200s: only unix:// sockets are "
				    "supported", what, host);
	}
	if (!*host || strlen(host) >= cap) {
		snprintf(err, errlen, "%s: bad socket path", what);
		errno = EINVAL;
		return -1;
	}
	snprintf(path, cap, "%s", host);
	if (stat(path, &st) < 0)
		return resolve_fail(err, errlen, errno, "%.200s: %s", path, strerror(errno));
check:
	if (!S_ISSOCK(st.st_mode))
		return resolve_fail(err, errlen, ENOTSOCK, "%.200s: not a socket", path);
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

int engine_open(struct engine **out, const char *host, char *err, size_t errlen)
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
	engine_easy_common(e->easy, e->path, e->curl_err);
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
		engine_set_err(e, "no such container");
		errno = ENOENT;
		return 1;
	}
	snprintf(path, sizeof(path), "/v%s/containers/%s/json", e->version, name_or_id);
	if (http_get(e, path, INSPECT_MAX, &status) < 0)
		return -1;
	if (status == 404) {
		engine_set_err(e, "no such container");
		errno = ENOENT;
		return 1;
	}
	if (status != 200)
		return http_fail(e, path, status);
	if (engine_container_decode(e->resp, e->resp_len, out) < 0) {
		int saved = errno;
		engine_set_err(e, "%s: GET %s: %s", e->path, path,
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
		engine_set_err(e, "%s: GET %s: unexpected reply", e->path, path);
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
		engine_set_err(e, "%s", strerror(ENOMEM));
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
