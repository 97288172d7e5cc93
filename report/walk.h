/* The one row walker behind report, containers and policy. It reads the store in two
 * sequential scans of the sockets table, in the order rows were recorded, inside one
 * read transaction: the first reads only what the timeline rules need (container,
 * open time, destination; 40 bytes kept per row) and computes each container's burst
 * end and its beacons; the second streams every row, with its flags, to a callback.
 * No query per row or per container, and memory does not hold the rows themselves.
 * (Walking the index sockets_first instead costs a random table lookup per row: over a
 * million rows written by many containers at once that alone took longer than a
 * second, against about 0.1 s for a sequential scan.)
 *
 * Report rows: TCP and UDP sockets with a remote peer (remote_addr set and not the
 * unspecified address, not a listener), plus every RAW and PACKET socket. */
#ifndef CLAWSS_REPORT_WALK_H
#define CLAWSS_REPORT_WALK_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct allowlist;

/* A window of time; end INT64_MAX while it lasts. */
struct report_window {
	int64_t start, end;
};

struct report_container {
	int64_t id;
	const char *name;        /* untrusted text */
	const char *engine_id;   /* NULL when not an engine container */
	int64_t netns;
	int64_t started;         /* ms, or -1 when unknown */
	int64_t first_seen, last_seen;
	int64_t ended;           /* ms, or -1 while not ended */
	int64_t start;           /* started, else first_seen: where the burst begins */
	int burst_known;         /* its burst ended (idle gap or burst_max); burst_end set */
	int64_t burst_end;
	int64_t connections;     /* report rows over its whole life */
	int64_t flagged;         /* those carrying a flag, after-idle counted (as
				    report --since-idle would flag them) */
	const struct report_window *exec;   /* its exec windows, by start (valid during
					       the walk) */
	size_t nexec;
	int64_t dns_queries;     /* DNS queries recorded (names, schema 4) */
	int64_t dns_tunnel;      /* those the dns-tunnel rule flags */
};

struct report_row {
	int64_t id;
	int proto;               /* enum sk_proto, 0 if the store holds something else */
	const char *proto_name, *family, *direction;
	const char *local_addr, *remote_addr;   /* NULL: unknown */
	const char *remote_name; /* the name resolved to reach remote_addr, or NULL */
	int local_port, remote_port;            /* -1: unknown */
	int state;
	int64_t first_seen, last_seen;
	int64_t closed_at;       /* -1 while open */
	int64_t bytes_sent, bytes_received;     /* -1: unknown */
	int pid;                 /* -1: unknown */
	const char *comm;        /* NULL: unknown; untrusted text */
	int after_idle;
	unsigned flags;          /* REPORT_F_*, after-idle only with since_idle */
};

#define REPORT_TIME_MIN INT64_MIN
#define REPORT_TIME_MAX INT64_MAX

struct report_query {
	int64_t idle;                    /* ms */
	int64_t burst_max;               /* ms the burst lasts at most; 0: 10 minutes */
	int since_idle;                  /* show only after-idle rows (and RAW/PACKET) */
	char *const *containers;         /* globs on the name; none = every container */
	size_t ncontainers;
	size_t *matched;                 /* NULL, or per glob: how many containers it matched */
	int64_t since, until;            /* on first_seen, inclusive */
	const struct allowlist *allow;   /* NULL: nothing is undeclared */
};

struct report_walker {
	/* every selected container, in the order they were first recorded, once its burst
	 * is known and before any row; NULL to skip */
	int (*container)(void *arg, const struct report_container *c);
	/* every row that passes the filters, in the order rows were recorded (about the
	 * order they were opened); text pointers are valid during the call; NULL to skip */
	int (*row)(void *arg, const struct report_container *c, const struct report_row *r);
	void *arg;
};

/* 0 on success. -1 on failure with err set ("database: why"), or when a callback
 * returned nonzero (err left as the callback set it, else a generic message). */
/* Whether the container called name is one q selects (every one when q names none);
 * count: add it to q->matched (once per container: the walk does). name NULL: no. */
int report_selected(const struct report_query *q, const char *name, int count);
int report_walk(struct sqlite3 *db, const struct report_query *q,
		const struct report_walker *w, char *err, size_t errlen);

/* True when the row is a connection an allowlist speaks about: TCP or UDP, opened by
 * the container (not accepted from a listener), remote address known. */
int report_row_has_destination(const struct report_row *r);

#endif
