/* mkdb DB < description: builds a clawss database through the store API, so that the
 * report tests need neither root nor a live namespace. One record a line:
 *
 *   # comment
 *   base MS                       added to every time below (default 0)
 *   container NAME [id=ENGINE_ID] [netns=N] [started=T] [first=T] [last=T] [ended=T]
 *   activity KIND START [END]     an activity row (exec window, incident) of the
 *   activity KIND start=T [end=T] container above; no end: still open (Podman's exec
 *                                 without an end)
 *   PROTO DIR LOCAL REMOTE [first=T] [last=T] [closed=T] [sent=N] [recv=N] [pid=N]
 *         [comm=TEXT] [state=N] [cookie=N] [family=ipv4|ipv6|packet] [alive=0|1]
 *
 * PROTO tcp|udp|raw|packet, DIR out|in|listen. LOCAL and REMOTE: ADDR:PORT,
 * [V6ADDR]:PORT, with * for an unknown address or port, or - for nothing. Times T are
 * milliseconds or a duration (5s, 2m), plus base. Text values take \xNN, \s (space)
 * and \\ escapes. A socket belongs to the container line above it (repeat a container
 * line, with the same netns, to come back to it); a container's last_seen defaults to
 * its latest socket time. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/sock.h"
#include "../../lib/util.h"
#include "../../store/store.h"

static unsigned lineno;

static void die(const char *what)
{
	fprintf(stderr, "mkdb: line %u: %s\n", lineno, what);
	exit(2);
}

static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		die("out of memory");
	while (*s) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		if (*s == 'x' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], 0 };
			*o++ = (char)strtol(h, NULL, 16);
			s += 3;
		} else if (*s == 's') {
			*o++ = ' ';
			s++;
		} else if (*s == '\\') {
			*o++ = '\\';
			s++;
		} else {
			die("bad escape");
		}
	}
	*o = '\0';
	return out;
}

static int64_t base;

static int64_t num(const char *v)
{
	long long n;
	int64_t ms;
	if (util_int_parse(v, INT64_MIN, INT64_MAX, &n) == 0)
		return n;
	if (duration_parse(v, &ms) == 0)
		return ms;
	die("bad number");
	return 0;
}

static int64_t when(const char *v)
{
	return base + num(v);
}

/* ADDR:PORT, [V6]:PORT, *:PORT, ADDR:*, or - */
static void endpoint(const char *text, uint8_t *addr, uint16_t *port, uint8_t *have,
		     uint8_t abit, uint8_t pbit, int *family)
{
	char buf[128];
	if (strcmp(text, "-") == 0)
		return;
	if (strlen(text) >= sizeof(buf))
		die("endpoint too long");
	strcpy(buf, text);
	char *colon = strrchr(buf, ':');
	if (!colon)
		die("endpoint needs ADDR:PORT");
	*colon = '\0';
	char *a = buf, *p = colon + 1;
	if (*a == '[') {
		size_t n = strlen(a);
		if (n < 2 || a[n - 1] != ']')
			die("bad [v6] address");
		a[n - 1] = '\0';
		a++;
	}
	if (strcmp(a, "*") != 0) {
		if (inet_pton(AF_INET, a, addr) == 1) {
			*family = SKF_IPV4;
		} else if (inet_pton(AF_INET6, a, addr) == 1) {
			*family = SKF_IPV6;
		} else {
			die("bad address");
		}
		*have |= abit;
	}
	if (strcmp(p, "*") != 0) {
		long long v;
		if (util_int_parse(p, 0, 65535, &v) < 0)
			die("bad port");
		*port = (uint16_t)v;
		*have |= pbit;
	}
}

/* Every container named so far: a repeated container line (same name and netns) picks
 * the record up again, so that tests can interleave the sockets of several containers
 * the way watch writes them. */
struct cont {
	int64_t id;
	int64_t latest;
	int last_given;
};

static struct cont *conts;
static size_t nconts;

static struct cont *cont_for(int64_t id, int64_t first)
{
	for (size_t i = 0; i < nconts; i++)
		if (conts[i].id == id)
			return &conts[i];
	struct cont *c = realloc(conts, (nconts + 1) * sizeof(*c));
	if (!c)
		die("out of memory");
	conts = c;
	conts[nconts] = (struct cont){ .id = id, .latest = first };
	return &conts[nconts++];
}

static void finish(struct store *st)
{
	for (size_t i = 0; i < nconts; i++) {
		struct cont *c = &conts[i];
		if (!c->last_given && store_container_seen(st, c->id, c->latest) < 0)
			die(store_errmsg(st));
	}
}

int main(int argc, char **argv)
{
	struct store *st;
	char err[512], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct cont *cur = NULL;
	uint64_t cookie = 1;
	unsigned ncont = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkdb DB < description\n");
		return 2;
	}
	if (store_open(&st, argv[1], STORE_WRITE, err, sizeof(err)) < 0) {
		fprintf(stderr, "mkdb: %s\n", err);
		return 2;
	}
	if (store_begin(st) < 0)
		die(store_errmsg(st));
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		char *tok[32], *save = NULL;
		int nt = 0;
		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && nt < 32;
		     t = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = t;
		if (nt == 0 || tok[0][0] == '#')
			continue;
		if (strcmp(tok[0], "base") == 0) {
			if (nt != 2)
				die("base MS");
			base = num(tok[1]);
			continue;
		}
		if (strcmp(tok[0], "container") == 0) {
			if (nt < 2)
				die("container NAME");
			char *name = unescape(tok[1]), *id = NULL, *image = NULL;
			struct store_container c = { .name = name, .netns_ino = 4026532000u + ncont++ };
			int64_t first = base, last = 0, ended = 0;
			int has_last = 0, has_ended = 0;
			for (int i = 2; i < nt; i++) {
				char *eq = strchr(tok[i], '=');
				if (!eq)
					die("expected key=value");
				*eq++ = '\0';
				if (strcmp(tok[i], "id") == 0)
					c.engine_id = id = unescape(eq);
				else if (strcmp(tok[i], "image") == 0)
					c.image = image = unescape(eq);
				else if (strcmp(tok[i], "netns") == 0)
					c.netns_ino = (uint64_t)num(eq);
				else if (strcmp(tok[i], "started") == 0)
					c.started = when(eq);
				else if (strcmp(tok[i], "first") == 0)
					first = when(eq);
				else if (strcmp(tok[i], "last") == 0)
					last = when(eq), has_last = 1;
				else if (strcmp(tok[i], "ended") == 0)
					ended = when(eq), has_ended = 1;
				else
					die("unknown container key");
			}
			if (store_container_attach(st, &c, first) < 0)
				die(store_errmsg(st));
			if (has_last && store_container_seen(st, c.id, last) < 0)
				die(store_errmsg(st));
			if (has_ended && store_container_end(st, c.id, ended) < 0)
				die(store_errmsg(st));
			cur = cont_for(c.id, first);
			cur->last_given |= has_last;
			free(name);
			free(id);
			free(image);
			continue;
		}
		if (strcmp(tok[0], "activity") == 0) {
			int64_t start = -1, end = 0, rowid;
			if (nt < 3 || nt > 4 || !cur)
				die("activity KIND START [END] (or start=T [end=T]), after a container line");
			for (int i = 2; i < nt; i++) {
				char *eq = strchr(tok[i], '=');
				int is_end = i == 3;
				if (eq) {
					*eq++ = '\0';
					if (strcmp(tok[i], "start") == 0)
						is_end = 0;
					else if (strcmp(tok[i], "end") == 0)
						is_end = 1;
					else
						die("unknown activity key");
				} else {
					eq = tok[i];
				}
				if (is_end)
					end = when(eq);
				else
					start = when(eq);
			}
			if (start < 0)
				die("activity needs a start");
			int rc = end ? store_activity(st, cur->id, tok[1], start, end, 1, NULL)
				: store_activity_open(st, cur->id, tok[1], start, 0, 1, NULL, &rowid);
			if (rc < 0)
				die(store_errmsg(st));
			continue;
		}
		int proto = sk_proto_parse(tok[0]);
		if (proto < 0)
			die("unknown record (base, container, activity, tcp, udp, raw, packet)");
		if (!cur)
			die("socket before any container line");
		if (nt < 4)
			die("PROTO DIR LOCAL REMOTE [key=value]...");
		struct store_socket s = { .container_id = cur->id, .first_seen = base,
					  .seen_alive = 1 };
		int family = proto == SK_PACKET ? SKF_PACKET : SKF_IPV4, fam_set = 0;
		char *comm = NULL;
		s.sk.proto = (uint8_t)proto;
		s.sk.state = proto == SK_TCP || proto == SK_UDP ? SKS_ESTABLISHED : SKS_CLOSE;
		s.sk.cookie = cookie++;
		if (strcmp(tok[1], "out") == 0)
			s.direction = SKD_OUT;
		else if (strcmp(tok[1], "in") == 0)
			s.direction = SKD_IN;
		else if (strcmp(tok[1], "listen") == 0)
			s.direction = SKD_LISTEN;
		else
			die("DIR is out, in or listen");
		endpoint(tok[2], s.sk.laddr, &s.sk.lport, &s.sk.have, SK_HAVE_LADDR, SK_HAVE_LPORT,
			 &family);
		endpoint(tok[3], s.sk.raddr, &s.sk.rport, &s.sk.have, SK_HAVE_RADDR, SK_HAVE_RPORT,
			 &family);
		s.last_seen = -1;
		for (int i = 4; i < nt; i++) {
			char *eq = strchr(tok[i], '=');
			if (!eq)
				die("expected key=value");
			*eq++ = '\0';
			if (strcmp(tok[i], "first") == 0)
				s.first_seen = when(eq);
			else if (strcmp(tok[i], "last") == 0)
				s.last_seen = when(eq);
			else if (strcmp(tok[i], "closed") == 0)
				s.closed_at = when(eq);
			else if (strcmp(tok[i], "sent") == 0)
				s.sk.bytes_sent = (uint64_t)num(eq), s.sk.have |= SK_HAVE_BYTES;
			else if (strcmp(tok[i], "recv") == 0)
				s.sk.bytes_received = (uint64_t)num(eq), s.sk.have |= SK_HAVE_BYTES;
			else if (strcmp(tok[i], "pid") == 0)
				s.pid = (int)num(eq);
			else if (strcmp(tok[i], "comm") == 0)
				s.comm = comm = unescape(eq);
			else if (strcmp(tok[i], "state") == 0)
				s.sk.state = (uint8_t)num(eq);
			else if (strcmp(tok[i], "cookie") == 0)
				s.sk.cookie = (uint64_t)num(eq);
			else if (strcmp(tok[i], "alive") == 0)
				s.seen_alive = (int)num(eq);
			else if (strcmp(tok[i], "family") == 0) {
				if (strcmp(eq, "ipv4") == 0)
					family = SKF_IPV4;
				else if (strcmp(eq, "ipv6") == 0)
					family = SKF_IPV6;
				else if (strcmp(eq, "packet") == 0)
					family = SKF_PACKET;
				else
					die("family is ipv4, ipv6 or packet");
				fam_set = 1;
			} else {
				die("unknown socket key");
			}
		}
		(void)fam_set;
		s.sk.family = (uint8_t)family;
		if (s.last_seen < 0)
			s.last_seen = s.closed_at ? s.closed_at : s.first_seen;
		if (store_socket_insert(st, &s) < 0)
			die(store_errmsg(st));
		if (s.last_seen > cur->latest)
			cur->latest = s.last_seen;
		free(comm);
	}
	finish(st);
	free(line);
	free(conts);
	if (store_commit(st) < 0)
		die(store_errmsg(st));
	store_close(st);
	return 0;
}
