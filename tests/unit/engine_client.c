/* The engine client end to end against a fake engine on a unix socket (a forked child
 * answering canned replies): socket choice, errors, inspect, list, and the event
 * stream's epoll integration, partial reads, disconnect and backoff. No root. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tap.h"
#include "lib/util.h"
#include "sampler/engine.h"

#define ID_GOOD "cc30460f4d9a00d86e4fa0cb6b02d705e2fd78d6fd6bf70419efe77905068b42"
#define ID_GONE "0000000000000000000000000000000000000000000000000000000000000001"

static char dir[64], sock_path[100], log_path[100];
static const char *api_header = "Api-Version: 1.41\r\n";
static int events_mode;           /* 0: the scripted sequence; 1: always HTTP 400 */

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/engine/%s",
		 getenv("CLAWSS_SRC") ? getenv("CLAWSS_SRC") : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static void put(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k <= 0)
			_exit(0);
		c += k;
		n -= (size_t)k;
	}
}

static void reply(int fd, int status, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sContent-Type: application/json"
			 "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
			 api_header, len);
	put(fd, head, (size_t)n);
	put(fd, body, len);
}

/* How long pump waits for events that do not come: a guard against a hang, never a
 * deadline the events must meet (valgrind on a loaded machine is many times slower). */
#define PUMP_GUARD_MS 120000

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* One request on fd; nth_events counts /events requests so far (1-based). */
static void answer(int fd, const char *path, int nth_events)
{
	static const char stream_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Connection: close\r\n\r\n";
	size_t len;
	char *fx;

	if (strcmp(path, "/_ping") == 0) {
		reply(fd, 200, "OK", 2);
	} else if (strcmp(path, "/v1.41/containers/good/json") == 0 ||
		   strcmp(path, "/v1.41/containers/" ID_GOOD "/json") == 0) {
		fx = slurp("docker-inspect.json", &len);
		reply(fd, 200, fx, len);
	} else if (strcmp(path, "/v1.41/containers/boom/json") == 0) {
		const char *b = "{\"message\":\"\\u001b[31mboom\\nsecond line\"}";
		reply(fd, 500, b, strlen(b));
	} else if (strcmp(path, "/v1.41/containers/huge/json") == 0) {
		size_t n = 9u << 20;
		char *b = malloc(n);
		memset(b, ' ', n);
		reply(fd, 200, b, n);
	} else if (strcmp(path, "/v1.41/containers/json") == 0) {
		const char *b = "[{\"Id\":\"" ID_GOOD "\"},{\"Id\":\"bad\"},{\"Id\":\"" ID_GONE
			"\"},{\"Names\":[\"/x\"]},7]";
		reply(fd, 200, b, strlen(b));
	} else if (strncmp(path, "/v1.41/events?", 14) == 0 && events_mode == 1) {
		const char *b = "{\"message\":\"bad filter\"}";
		reply(fd, 400, b, strlen(b));
	} else if (strncmp(path, "/v1.41/events?", 14) == 0 && nth_events == 1) {
		/* The recorded stream, cut at odd places, then the engine goes away. */
		static const size_t cuts[] = { 1, 17, 400, 401, 733, 1200, 2000, 2859 };
		fx = slurp("docker-events.jsonl", &len);
		char *first = malloc(sizeof(stream_head) + len);
		memcpy(first, stream_head, sizeof(stream_head) - 1);
		memcpy(first + sizeof(stream_head) - 1, fx, len);
		put(fd, first, sizeof(stream_head) - 1 + len);  /* one read: all buffered */
		sleep_ms(50);
		size_t at = 0;
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]) && cuts[i] < len; i++) {
			put(fd, fx + at, cuts[i] - at);
			at = cuts[i];
			sleep_ms(15);
		}
		put(fd, fx + at, len - at);
		const char *cut = "{\"Type\":\"container\",\"Action\":\"start\"";
		put(fd, cut, strlen(cut));  /* and a line cut short */
	} else if (strncmp(path, "/v1.41/events?", 14) == 0 && nth_events == 2) {
		const char *b = "{\"message\":\"busy\"}";
		reply(fd, 500, b, strlen(b));
	} else if (strncmp(path, "/v1.41/events?", 14) == 0) {
		static const char ev[] = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":"
			"{\"ID\":\"" ID_GOOD "\",\"Attributes\":{\"name\":\"again\"}},\"time\":1}\n";
		char c;
		put(fd, stream_head, sizeof(stream_head) - 1);
		put(fd, ev, sizeof(ev) - 1);
		/* Hold the stream open until the client leaves (the test kills us at the
		 * end; the bound only keeps a stray server from living for ever). */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, PUMP_GUARD_MS) > 0)
			(void)read(fd, &c, 1);
	} else {
		reply(fd, 404, "{\"message\":\"page not found\"}", 28);
	}
}

/* The fake engine: reads each request line in the parent (to count /events
 * requests), answers in a child so that a held stream blocks nothing. */
static pid_t serve(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		printf("Bail out! fake engine: %s\n", strerror(errno));
		exit(1);
	}
	pid_t pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);  /* never outlive a crashed test */
	if (getppid() == 1)
		_exit(0);
	signal(SIGCHLD, SIG_IGN);
	int nth = 0;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		char req[8192], path[4096];
		size_t n = 0;
		while (n < sizeof(req) - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
			ssize_t k = read(fd, req + n, sizeof(req) - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		req[n] = '\0';
		if (sscanf(req, "GET %4095s HTTP/1.1", path) != 1) {
			close(fd);
			continue;
		}
		FILE *log = fopen(log_path, "a");
		if (log) {
			fprintf(log, "%s\n", path);
			fclose(log);
		}
		if (strncmp(path, "/v1.41/events", 13) == 0)
			nth++;
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			answer(fd, path, nth);
			_exit(0);
		}
		close(fd);
	}
}

static void unserve(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

struct seen {
	int kinds[32], n, stop_on;
	int64_t at[32];
	char names[32][ENGINE_NAME_MAX];
	char detail[32][320];
};

static int collect(const struct engine_event *ev, void *arg)
{
	struct seen *s = arg;
	if (s->n < 32) {
		s->kinds[s->n] = ev->kind;
		s->at[s->n] = time_now_ms();
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", ev->name);
		snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s", ev->detail ? ev->detail : "");
	}
	s->n++;
	return (int)ev->kind == s->stop_on ? 7 : 0;
}

/* Waits on the events fd alone until want events arrived (or the guard ran out). */
static void pump(struct engine *e, struct seen *s, int want, int *stops)
{
	int64_t end = time_now_ms() + PUMP_GUARD_MS;
	while (s->n < want && time_now_ms() < end) {
		struct pollfd p = { .fd = engine_events_fd(e), .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int r = engine_events_dispatch(e);
		if (r == 7) {
			(*stops)++;
			s->stop_on = -1;
			/* Undelivered events keep the fd ready. */
			struct pollfd q = { .fd = engine_events_fd(e), .events = POLLIN };
			ok(poll(&q, 1, 0) == 1, "after a stop the fd is still ready");
		} else if (r != 0) {
			printf("# dispatch: %d %s\n", r, strerror(errno));
			return;
		}
	}
}

static int count_lines_with(const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(log_path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

static int listed;
static int list_cb(const struct engine_container *c, void *arg)
{
	(void)arg;
	listed++;
	ok(strcmp(c->id, ID_GOOD) == 0 && c->pid > 0, "listed the running container");
	return 0;
}

int main(void)
{
	struct engine *e;
	struct engine_container c;
	char err[512], host[160];

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/clawss-engine-unit.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/engine.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/requests.log", dir);
	snprintf(host, sizeof(host), "unix://%s", sock_path);

	/* Choosing the socket. */
	is_int(engine_open(&e, "/nonexistent/engine.sock", err, sizeof(err)), -1, "missing socket");
	ok(errno == ENOENT && strstr(err, "/nonexistent/engine.sock"), "... ENOENT, names it: %s", err);
	is_int(engine_open(&e, "tcp://127.0.0.1:2375", err, sizeof(err)), -1, "tcp:// host");
	ok(errno == EINVAL && strstr(err, "unix://"), "... refused: %s", err);
	setenv("DOCKER_HOST", "ssh://user@host", 1);
	is_int(engine_open(&e, NULL, err, sizeof(err)), -1, "DOCKER_HOST=ssh://");
	ok(strstr(err, "DOCKER_HOST") != NULL, "... says DOCKER_HOST: %s", err);
	is_int(engine_open(&e, log_path, err, sizeof(err)), -1, "a path that is not a socket");
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);  /* a stale socket file: nobody listens */
		is_int(engine_open(&e, host, err, sizeof(err)), -1, "stale socket");
		is_int(errno, ECONNREFUSED, "... ECONNREFUSED (%s)", err);
	}

	/* API version negotiation from /_ping's header. */
	static const struct { const char *hdr, *want, *why; } vers[] = {
		{ "Api-Version: 1.52\r\n", "1.52", "the engine's own" },
		{ "API-VERSION: 1.60\r\n", "1.52", "capped at the newest checked" },
		{ "", "1.41", "no header" },
		{ "Api-Version: 1.12\r\n", "1.41", "ancient" },
		{ "Api-Version: x\r\n", "1.41", "garbage" },
	};
	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		api_header = vers[i].hdr;
		pid_t pid = serve();
		if (engine_open(&e, host, err, sizeof(err)) == 0) {
			is_str(engine_api_version(e), vers[i].want, "api version: %s", vers[i].why);
			engine_close(e);
		} else {
			ok(0, "engine_open: %s", err);
		}
		unserve(pid);
	}
	api_header = "Api-Version: 1.41\r\n";

	pid_t pid = serve();
	setenv("DOCKER_HOST", host, 1);
	if (engine_open(&e, NULL, err, sizeof(err)) < 0) {
		printf("Bail out! engine_open: %s\n", err);
		unserve(pid);
		return 1;
	}
	ok(1, "DOCKER_HOST=unix://... opens");
	is_str(engine_kind(e), "docker", "kind");
	is_str(engine_socket_path(e), sock_path, "socket path");

	is_int(engine_inspect(e, "good", &c), 0, "inspect by name");
	is_str(c.id, ID_GOOD, "... id");
	engine_container_clear(&c);
	is_int(engine_inspect(e, "/" ID_GOOD, &c), 0, "inspect by id with a leading slash");
	engine_container_clear(&c);
	is_int(engine_inspect(e, "gone", &c), 1, "404 is 'not found'");
	is_int(engine_inspect(e, "boom", &c), -1, "HTTP 500 is an error");
	ok(strstr(engine_error(e), "HTTP 500") && strstr(engine_error(e), "boom") &&
	   !strchr(engine_error(e), '\x1b') && !strchr(engine_error(e), '\n'),
	   "... with the engine's words, control bytes defused: %s", engine_error(e));
	is_int(engine_inspect(e, "huge", &c), -1, "an oversized reply is refused");
	is_int(engine_inspect(e, "../images/json", &c), 1, "a path trick is 'not found'");
	is_int(engine_inspect(e, "a b", &c), 1, "a space is 'not found'");
	is_int(engine_inspect(e, "", &c), 1, "empty is 'not found'");
	is_int(count_lines_with("images") + count_lines_with("a b") + count_lines_with("%"), 0,
	       "... and none of them reached the engine");
	is_int(engine_list(e, list_cb, NULL), 0, "list");
	is_int(listed, 1, "... skips bad ids and containers gone since the list");

	/* The event stream. */
	struct seen s = { .stop_on = ENGINE_EV_EXEC_START };
	int stops = 0;
	is_int(engine_events_fd(e), -1, "no fd before start");
	is_int(engine_events_start(e, collect, &s), 0, "events start");
	ok(engine_events_fd(e) >= 0, "an fd to poll");
	is_int(engine_events_start(e, collect, &s), -1, "a second start is refused");
	pump(e, &s, 10, &stops);
	int want1[] = { ENGINE_EV_CONNECTED, ENGINE_EV_EXEC_START, ENGINE_EV_EXEC_DIE,
			ENGINE_EV_START, ENGINE_EV_DIE, ENGINE_EV_EXEC_START, ENGINE_EV_EXEC_DIE,
			ENGINE_EV_START, ENGINE_EV_DIE, ENGINE_EV_DISCONNECTED };
	is_int(s.n, 10, "ten events from the first stream");
	ok(memcmp(s.kinds, want1, sizeof(want1)) == 0, "connected, the recorded events twice "
	   "in order (once whole, once cut at odd places), disconnected; no half event");
	is_int(stops, 1, "a callback's non-zero return stops the dispatch once");
	is_str(s.names[3], "c2", "names come through");
	ok(strstr(s.detail[9], "closed") != NULL, "disconnect detail: %s", s.detail[9]);
	int t = engine_events_timeout_ms(e);
	ok(t >= 0 && t <= 1000, "while waiting to reconnect, a timeout is due (%d ms)", t);
	pump(e, &s, 12, &stops);
	is_int(s.n, 12, "the stream came back");
	ok(s.kinds[10] == ENGINE_EV_CONNECTED && s.kinds[11] == ENGINE_EV_START,
	   "connected, then the new stream's event (the HTTP 500 attempt was silent)");
	is_str(s.names[11], "again", "... from the new stream");
	ok(s.at[10] - s.at[9] >= 1400, "backoff: 0.5 s, then 1 s after the failed attempt "
	   "(%lld ms)", (long long)(s.at[10] - s.at[9]));
	is_int(count_lines_with("/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D"),
	       3, "three attempts, filtered to type=container");
	engine_close(e);  /* with the stream still open */
	unserve(pid);

	/* An engine that refuses the stream: the first failure is reported. */
	events_mode = 1;
	pid = serve();
	struct seen s2 = { .stop_on = -1 };
	if (engine_open(&e, host, err, sizeof(err)) == 0 &&
	    engine_events_start(e, collect, &s2) == 0) {
		pump(e, &s2, 1, &stops);
		ok(s2.n == 1 && s2.kinds[0] == ENGINE_EV_DISCONNECTED &&
		   strstr(s2.detail[0], "HTTP 400: bad filter"),
		   "a refused stream is reported: %s", s2.detail[0]);
		engine_events_stop(e);
		is_int(engine_events_fd(e), -1, "stopped");
		engine_close(e);
	} else {
		ok(0, "engine_open: %s", err);
	}
	unserve(pid);

	unlink(sock_path);
	unlink(log_path);
	rmdir(dir);
	return tap_done_testing();
}
