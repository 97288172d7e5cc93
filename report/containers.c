#include <errno.h>
#include <string.h>
#include "report.h"

enum {
	C_NAME, C_ID, C_SHORT_ID, C_NETNS, C_STARTED, C_FIRST, C_LAST, C_ENDED, C_BURST_END,
	C_CONNECTIONS, C_FLAGGED, C_DNS_QUERIES, C_DNS_TUNNEL, C_N,
};

static const struct ofield cont_fields[C_N] = {
	[C_NAME] = { "name", OF_ALL },
	[C_ID] = { "id", OF_DATA },
	[C_SHORT_ID] = { "id", OF_TABLE },
	[C_NETNS] = { "netns", OF_ALL | OF_RIGHT },
	[C_STARTED] = { "started", OF_ALL },
	[C_FIRST] = { "first_seen", OF_ALL },
	[C_LAST] = { "last_seen", OF_ALL },
	[C_ENDED] = { "ended", OF_ALL },
	[C_BURST_END] = { "burst_end", OF_ALL },
	[C_CONNECTIONS] = { "connections", OF_ALL | OF_RIGHT },
	[C_FLAGGED] = { "flagged", OF_ALL | OF_RIGHT },
	[C_DNS_QUERIES] = { "dns_queries", OF_DATA },
	[C_DNS_TUNNEL] = { "dns_tunnel", OF_DATA },
};

/* The table shows an engine id the way `docker ps` does: its first 12 characters. */
#define SHORT_ID 12

static int container_print(void *arg, const struct report_container *c)
{
	struct out *o = arg;
	struct oval v[C_N];

	v[C_NAME] = ov_str(c->name);
	v[C_ID] = ov_str(c->engine_id);
	v[C_SHORT_ID] = v[C_ID];
	if (v[C_SHORT_ID].type == OV_STR && v[C_SHORT_ID].n > SHORT_ID)
		v[C_SHORT_ID].n = SHORT_ID;
	v[C_NETNS] = ov_int(c->netns);
	v[C_STARTED] = c->started >= 0 ? ov_time(c->started) : ov_null();
	v[C_FIRST] = ov_time(c->first_seen);
	v[C_LAST] = ov_time(c->last_seen);
	v[C_ENDED] = ov_bool(c->ended >= 0);
	v[C_BURST_END] = c->burst_known ? ov_time(c->burst_end) : ov_null();
	v[C_CONNECTIONS] = ov_int(c->connections);
	v[C_FLAGGED] = ov_int(c->flagged);
	v[C_DNS_QUERIES] = ov_int(c->dns_queries);
	v[C_DNS_TUNNEL] = ov_int(c->dns_tunnel);
	return out_record(o, v);
}

int report_containers(struct sqlite3 *db, int64_t idle, int64_t burst_max,
		      enum out_format fmt, FILE *f, char *err, size_t errlen)
{
	struct report_query q = {
		.idle = idle, .burst_max = burst_max, .since = REPORT_TIME_MIN, .until = REPORT_TIME_MAX,
	};
	struct out *o = out_new(f, fmt, cont_fields, C_N);
	struct report_walker w = { .container = container_print, .arg = o };

	if (!o) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	int rc = report_walk(db, &q, &w, err, errlen);
	if (out_end(o) < 0 && rc == 0) {
		snprintf(err, errlen, "output: %s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	return rc;
}
