#include <errno.h>
#include <string.h>
#include "../lib/sock.h"
#include "fields.h"

const struct ofield report_row_fields[RF_N] = {
	[RF_ID] = { "id", OF_EXPORT },
	[RF_CURSOR] = { "cursor", OF_EXPORT },
	[RF_HOST] = { "host", OF_EXPORT },
	[RF_BOOT_ID] = { "boot_id", OF_EXPORT },
	[RF_CONTAINER] = { "container", OF_ALL },
	[RF_PROTO] = { "proto", OF_ALL },
	[RF_FAMILY] = { "family", OF_DATA },
	[RF_DIRECTION] = { "direction", OF_DATA },
	[RF_DIR] = { "dir", OF_TABLE },
	[RF_LOCAL_ADDR] = { "local_addr", OF_DATA },
	[RF_LOCAL_PORT] = { "local_port", OF_DATA },
	[RF_REMOTE_ADDR] = { "remote_addr", OF_DATA },
	[RF_REMOTE_PORT] = { "remote_port", OF_DATA },
	[RF_LOCAL] = { "local", OF_TABLE },
	[RF_REMOTE] = { "remote", OF_TABLE },
	[RF_NAME] = { "name", OF_TABLE },
	[RF_REMOTE_NAME] = { "remote_name", OF_DATA },
	[RF_STATE] = { "state", OF_ALL },
	[RF_FIRST] = { "first_seen", OF_ALL },
	[RF_LAST] = { "last_seen", OF_DATA },
	[RF_CLOSED] = { "closed", OF_DATA },
	[RF_SENT] = { "bytes_sent", OF_DATA },
	[RF_RECV] = { "bytes_received", OF_DATA },
	[RF_TSENT] = { "sent", OF_TABLE | OF_RIGHT },
	[RF_TRECV] = { "recv", OF_TABLE | OF_RIGHT },
	[RF_PID] = { "pid", OF_ALL | OF_RIGHT },
	[RF_COMM] = { "comm", OF_ALL },
	[RF_AFTER_IDLE] = { "after_idle", OF_DATA },
	[RF_FLAGS] = { "flags", OF_ALL },
};

const char *report_endpoint(struct rbuf *b, const char *addr, int port)
{
	int v6 = addr && strchr(addr, ':');

	rbuf_reset(b);
	if (v6)
		rbuf_putc(b, '[');
	rbuf_puts(b, addr ? addr : "*");
	if (v6)
		rbuf_putc(b, ']');
	rbuf_putc(b, ':');
	if (port < 0)
		rbuf_putc(b, '*');
	else
		rbuf_put_i64(b, port);
	return rbuf_str(b);
}

/* The table's columns: endpoints joined, bytes by their short names. */
static int table_values(struct oval *v, const struct report_row *r, struct rbuf *ep1,
			struct rbuf *ep2)
{
	ov_set_str(&v[RF_DIR], r->direction);
	if (r->proto == SK_UNIX) {
		/* no ports: the peer's path alone (a path may hold ':') */
		ov_set_str(&v[RF_LOCAL], r->local_addr);
		ov_set_str(&v[RF_REMOTE], r->remote_addr);
	} else {
		ov_set_str(&v[RF_LOCAL], report_endpoint(ep1, r->local_addr, r->local_port));
		if (r->remote_addr || r->remote_port >= 0)
			ov_set_str(&v[RF_REMOTE], report_endpoint(ep2, r->remote_addr,
								r->remote_port));
		else
			ov_set_null(&v[RF_REMOTE]);
	}
	ov_set_opt(&v[RF_TSENT], r->bytes_sent);
	ov_set_opt(&v[RF_TRECV], r->bytes_received);
	ov_set_str(&v[RF_NAME], r->remote_name);
	if (ep1->oom || ep2->oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int report_row_values(struct oval *v, enum out_format fmt, const char *cname,
		      const struct report_row *r, const struct report_row_export *e,
		      struct rbuf *ep1, struct rbuf *ep2)
{
	ov_set_str(&v[RF_CONTAINER], cname);
	ov_set_str(&v[RF_PROTO], r->proto_name);
	ov_set_str(&v[RF_STATE], sk_state_name(r->proto, r->state));
	ov_set_time(&v[RF_FIRST], r->first_seen);
	ov_set_opt(&v[RF_PID], r->pid);
	ov_set_str(&v[RF_COMM], r->comm);
	ov_set_flags(&v[RF_FLAGS], r->flags);
	if (fmt == OUT_TABLE || fmt == OUT_HTML)
		return table_values(v, r, ep1, ep2);
	if (fmt == OUT_JSONL) {
		ov_set_int(&v[RF_ID], e->id);
		ov_set_int(&v[RF_CURSOR], e->cursor);
		ov_set_str(&v[RF_HOST], e->host);
		ov_set_str(&v[RF_BOOT_ID], e->boot_id);
	}
	ov_set_str(&v[RF_FAMILY], r->family);
	ov_set_str(&v[RF_DIRECTION], r->direction);
	ov_set_str(&v[RF_LOCAL_ADDR], r->local_addr);
	ov_set_opt(&v[RF_LOCAL_PORT], r->local_port);
	ov_set_str(&v[RF_REMOTE_ADDR], r->remote_addr);
	ov_set_opt(&v[RF_REMOTE_PORT], r->remote_port);
	ov_set_str(&v[RF_REMOTE_NAME], r->remote_name);
	ov_set_time(&v[RF_LAST], r->last_seen);
	ov_set_bool(&v[RF_CLOSED], r->closed_at >= 0);
	ov_set_opt(&v[RF_SENT], r->bytes_sent);
	ov_set_opt(&v[RF_RECV], r->bytes_received);
	ov_set_bool(&v[RF_AFTER_IDLE], r->after_idle);
	return 0;
}
