/* engine-probe: a small CLI over sampler/engine for the real-engine tests.
 *
 *   engine-probe [-H HOST] info
 *   engine-probe [-H HOST] inspect NAME            key=value lines; exit 1 if not found
 *   engine-probe [-H HOST] list [-l SELECTOR]...   one line per running container
 *   engine-probe [-H HOST] events [-n N] [-u KIND] [-t SECS] [-L]
 *                                                   one line per normalised event; ends
 *                                                   after N events, or the first KIND;
 *                                                   -L: on each "connected", rescan with
 *                                                   engine_list from the callback and
 *                                                   print "listed COUNT" (watch's way)
 *
 * Exit status: 0 ok, 1 not found (inspect) or timeout (events), 2 error. Names and
 * labels are printed with bytes outside printable ASCII as \xHH, one record per line. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/util.h"
#include "sampler/engine.h"

static void put_safe(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void put_labels(const struct engine_label *l, int n)
{
	for (int i = 0; i < n; i++) {
		printf(" label:");
		put_safe(l[i].key);
		putchar('=');
		put_safe(l[i].value);
	}
}

static int do_inspect(struct engine *e, const char *name)
{
	struct engine_container c;
	int r = engine_inspect(e, name, &c);
	if (r == 1) {
		printf("not found\n");
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "engine-probe: %s\n", engine_error(e));
		return 2;
	}
	printf("id=%s\nname=", c.id);
	put_safe(c.name);
	printf("\nimage=");
	put_safe(c.image);
	printf("\npid=%d\nrunning=%d\nstarted_ms=%lld\nnetwork_mode=", c.pid, c.running,
	       (long long)c.started_ms);
	put_safe(c.network_mode);
	printf("\nhost_network=%d\n", c.host_network);
	for (int i = 0; i < c.nlabels; i++) {
		printf("label.");
		put_safe(c.labels[i].key);
		putchar('=');
		put_safe(c.labels[i].value);
		putchar('\n');
	}
	engine_container_clear(&c);
	return 0;
}

struct list_arg {
	const char *const *sel;
	int nsel;
};

static int list_one(const struct engine_container *c, void *arg)
{
	const struct list_arg *la = arg;
	if (!engine_labels_match(c, la->sel, la->nsel))
		return 0;
	printf("%s ", c->id);
	put_safe(c->name);
	printf(" pid=%d started_ms=%lld\n", c->pid, (long long)c->started_ms);
	return 0;
}

static const char *const kinds[] = {
	[ENGINE_EV_START] = "start", [ENGINE_EV_DIE] = "die",
	[ENGINE_EV_EXEC_START] = "exec_start", [ENGINE_EV_EXEC_DIE] = "exec_die",
	[ENGINE_EV_CONNECTED] = "connected", [ENGINE_EV_DISCONNECTED] = "disconnected",
};

struct events_arg {
	long seen, max;
	const char *until;
	struct engine *e;
	int rescan;
};

static int count_one(const struct engine_container *c, void *arg)
{
	(void)c;
	++*(int *)arg;
	return 0;
}

static int event_one(const struct engine_event *ev, void *arg)
{
	struct events_arg *ea = arg;
	printf("%s", kinds[ev->kind]);
	if (ev->kind == ENGINE_EV_DISCONNECTED) {
		printf(" ");
		put_safe(ev->detail);
	} else if (ev->kind != ENGINE_EV_CONNECTED) {
		printf(" %s ", ev->id);
		put_safe(ev->name[0] ? ev->name : "-");
		printf(" time_ms=%lld", (long long)ev->time_ms);
		if (ev->exec_id[0])
			printf(" exec=%s", ev->exec_id);
		if (ev->exit_code >= 0)
			printf(" exit=%d", ev->exit_code);
		put_labels(ev->labels, ev->nlabels);
	}
	putchar('\n');
	if (ev->kind == ENGINE_EV_CONNECTED && ea->rescan) {
		int n = 0;
		if (engine_list(ea->e, count_one, &n) < 0)
			printf("list failed: %s\n", engine_error(ea->e));
		else
			printf("listed %d\n", n);
	}
	fflush(stdout);
	ea->seen++;
	return ea->seen >= ea->max || (ea->until && strcmp(ea->until, kinds[ev->kind]) == 0);
}

static int do_events(struct engine *e, long max, const char *until, long secs, int rescan)
{
	struct events_arg ea = { 0, max, until, e, rescan };
	int64_t end = time_now_ms() + secs * 1000;

	if (engine_events_start(e, event_one, &ea) < 0) {
		fprintf(stderr, "engine-probe: %s\n", engine_error(e));
		return 2;
	}
	for (;;) {
		int64_t left = end - time_now_ms();
		if (left <= 0) {
			fprintf(stderr, "engine-probe: timeout after %ld events\n", ea.seen);
			return 1;
		}
		/* Only the fd: it must turn readable for timeouts and retries too. */
		struct pollfd p = { .fd = engine_events_fd(e), .events = POLLIN };
		int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR) {
			perror("engine-probe: poll");
			return 2;
		}
		if (n <= 0)
			continue;
		int r = engine_events_dispatch(e);
		if (r < 0) {
			perror("engine-probe: dispatch");
			return 2;
		}
		if (r > 0)
			return 0;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: engine-probe [-H HOST] info|inspect NAME|list [-l SEL]...|"
		"events [-n N] [-u KIND] [-t SECS] [-L]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *host = NULL, *sel[32], *until = NULL;
	char err[512];
	struct engine *e;
	long max = 1000000, secs = 60;
	int nsel = 0, opt, ret, rescan = 0;

	while ((opt = getopt(argc, argv, "+H:")) != -1) {
		if (opt != 'H')
			return usage();
		host = optarg;
	}
	if (optind >= argc)
		return usage();
	const char *cmd = argv[optind];
	optind++;
	while ((opt = getopt(argc, argv, "l:n:t:u:L")) != -1) {
		if (opt == 'l' && nsel < 32)
			sel[nsel++] = optarg;
		else if (opt == 'n')
			max = atol(optarg);
		else if (opt == 't')
			secs = atol(optarg);
		else if (opt == 'u')
			until = optarg;
		else if (opt == 'L')
			rescan = 1;
		else
			return usage();
	}
	if (engine_open(&e, host, err, sizeof(err)) < 0) {
		fprintf(stderr, "engine-probe: %s (%s)\n", err, strerror(errno));
		return 2;
	}
	if (strcmp(cmd, "info") == 0) {
		printf("socket=%s\nkind=%s\napi=%s\n", engine_socket_path(e), engine_kind(e),
		       engine_api_version(e));
		ret = 0;
	} else if (strcmp(cmd, "inspect") == 0 && optind + 1 == argc) {
		ret = do_inspect(e, argv[optind]);
	} else if (strcmp(cmd, "list") == 0 && optind == argc) {
		struct list_arg la = { sel, nsel };
		ret = engine_list(e, list_one, &la) < 0 ? 2 : 0;
		if (ret)
			fprintf(stderr, "engine-probe: %s\n", engine_error(e));
	} else if (strcmp(cmd, "events") == 0 && optind == argc && max > 0 && secs > 0) {
		ret = do_events(e, max, until, secs, rescan);
	} else {
		ret = usage();
	}
	engine_close(e);
	if (fflush(stdout) || ferror(stdout))
		ret = 2;
	return ret;
}
