/* The engine's event stream (GET /events, which never ends): a libcurl multi transfer
 * driven by our own epoll fd and one timerfd, so that the watcher's loop waits on a
 * single fd; reconnects with a backoff, and says when it is down and up again. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <json-c/json.h>
#include "../lib/util.h"
#include "engine_int.h"
#include "engine_wire.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

/* Where the event stream is. */
enum { STREAM_CONNECTING, STREAM_UP, STREAM_WAITING };

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

static int ev_pending(const struct events *ev)
{
	return ev->pend_connected || ev->pend_disconnected || engine_stream_has_line(&ev->stream);
}

static int64_t ev_next_due(const struct events *ev)
{
	int64_t due = -1, all[3] = { ev->curl_due, ev->retry_due,
				     ev->state == STREAM_CONNECTING ? ev->answer_due : -1 };
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
	ev->curl_due = timeout_ms < 0 ? -1 : time_mono_ms() + timeout_ms;
	return 0;
}

static size_t ev_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct events *ev = arg;
	size_t n = size * nmemb;
	if (n <= 2 && (p[0] == '\r' || p[0] == '\n')) {  /* end of the headers */
		curl_easy_getinfo(ev->easy, CURLINFO_RESPONSE_CODE, &ev->status);
		if (ev->status == 200) {
			ev->state = STREAM_UP;
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
	ev->state = STREAM_CONNECTING;
	ev->answer_due = time_mono_ms() + ENGINE_TIMEOUT_MS;  /* a hung engine is a failure too */
	if (curl_multi_add_handle(ev->multi, ev->easy) == CURLM_OK) {
		ev->attached = 1;
		return;
	}
	snprintf(ev->detail, sizeof(ev->detail), "libcurl: cannot start a transfer");
	ev->state = STREAM_WAITING;
	ev->retry_due = time_mono_ms() + ev->backoff_ms;
}

/* The transfer ended: say why, once per outage, and schedule the next attempt. */
static void ev_done(struct engine *e, CURLcode rc)
{
	struct events *ev = e->ev;
	int was_up = ev->state == STREAM_UP;
	char why[sizeof(ev->detail)];

	curl_multi_remove_handle(ev->multi, ev->easy);
	ev->attached = 0;
	if (rc != CURLE_OK && rc != CURLE_PARTIAL_FILE && !(was_up && rc == CURLE_RECV_ERROR)) {
		snprintf(why, sizeof(why), "%s: %.200s", e->path,
			 rc == CURLE_COULDNT_CONNECT ? strerror(engine_curl_errno(ev->easy, rc)) :
			 ev->curl_err[0] ? ev->curl_err : curl_easy_strerror(rc));
	} else if (ev->status != 200) {
		json_object *o = engine_json_parse(ev->errbody, ev->errbody_len);
		const char *msg = engine_jstr(o, "message", NULL);
		snprintf(why, sizeof(why), "%s: GET /events: HTTP %ld%s%.200s",
			 e->path, ev->status, msg ? ": " : "", msg ? msg : "");
		json_object_put(o);
	} else {
		snprintf(why, sizeof(why), "%s: the engine closed the event stream",
			 e->path);
	}
	engine_text_copy(ev->detail, sizeof(ev->detail), why);
	engine_stream_cut(&ev->stream);
	if (was_up || !ev->reported_down) {
		ev->pend_disconnected = 1;
		ev->reported_down = 1;
	}
	ev->state = STREAM_WAITING;
	ev->retry_due = time_mono_ms() + ev->backoff_ms;
	ev->backoff_ms = ev->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ev->backoff_ms * 2;
}

/* The stream's own news (connected, lost) as an event. */
static int ev_say(struct events *ev, enum engine_event_kind kind, const char *detail)
{
	struct engine_event out = { .kind = kind, .exit_code = -1, .time_ms = time_now_ms(),
				    .detail = detail };
	return ev->cb(&out, ev->arg);
}

static int ev_deliver(struct engine *e)
{
	struct events *ev = e->ev;
	struct engine_event out;
	int r, k;

	if (ev->pend_connected) {
		ev->pend_connected = 0;
		if ((r = ev_say(ev, ENGINE_EV_CONNECTED, NULL)))
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
		return ev_say(ev, ENGINE_EV_DISCONNECTED, ev->detail);
	}
	return 0;
}

int engine_events_start(struct engine *e, engine_event_cb cb, void *arg)
{
	char url[128];
	struct events *ev;

	if (e->ev) {
		errno = EBUSY;
		engine_set_err(e, "events: already started");
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
	engine_easy_common(ev->easy, e->path, ev->curl_err);
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
	engine_set_err(e, "events: %s", strerror(saved));
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
	int64_t left = due - time_mono_ms();
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
	if (ev->curl_due >= 0 && ev->curl_due <= time_mono_ms()) {
		ev->curl_due = -1;
		curl_multi_socket_action(ev->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(ev->multi, &left)))
		if (msg->msg == CURLMSG_DONE && ev->attached)
			ev_done(e, msg->data.result);
	if (ev->state == STREAM_CONNECTING && ev->attached && ev->answer_due <= time_mono_ms())
		ev_done(e, CURLE_OPERATION_TIMEDOUT);
	if (ev->state == STREAM_WAITING && ev->retry_due >= 0 && ev->retry_due <= time_mono_ms() &&
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
