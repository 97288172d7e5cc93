/* Private to sampler/engine.c and sampler/engine_events.c: the engine client's state,
 * and the parts of its HTTP transport that the event stream shares. */
#ifndef CLAWSS_ENGINE_INT_H
#define CLAWSS_ENGINE_INT_H

#include <stddef.h>
#include <sys/un.h>
#include <curl/curl.h>
#include "engine.h"

#define SOCK_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct events;

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

/* e->err, formatted and escaped (engine_text_copy). */
void engine_set_err(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text that may quote the engine (container-made) into dst, escaped by lib/escape's
 * esc_text and cut to cap bytes at a character's start. */
void engine_text_copy(char *dst, size_t cap, const char *s);
/* The options every request of ours takes: the socket, no proxy, http only. */
void engine_easy_common(CURL *c, const char *path, char *errbuf);
/* The errno a failed transfer stands for. */
int engine_curl_errno(CURL *c, CURLcode rc);

#endif
