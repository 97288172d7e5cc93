/* Sockets read back from the store: what a new watch or sample starts from. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>
#include "store_int.h"

/* Address text back to bytes; the same text that sk_addr_text gave (an IPv4 address of an
 * IPv6 socket comes back v4-mapped). */
static void addr_restore(int family, const unsigned char *text, uint8_t *addr, uint8_t *have,
			 uint8_t bit)
{
	const char *t = (const char *)text;
	if (!t)
		return;
	if (strchr(t, ':')) {
		if (inet_pton(AF_INET6, t, addr) == 1)
			*have |= bit;
	} else if (inet_pton(AF_INET, t, addr) == 1) {
		if (family == SKF_IPV6) {
			memmove(addr + 12, addr, 4);
			memset(addr, 0, 10);
			addr[10] = addr[11] = 0xff;
		}
		*have |= bit;
	}
}

static int col_null(sqlite3_stmt *q, int i) { return sqlite3_column_type(q, i) == SQLITE_NULL; }

static int row_socket(sqlite3_stmt *q, int64_t container_id, struct store_socket *s)
{
	struct sk *k = &s->sk;
	int proto = sk_proto_parse((const char *)sqlite3_column_text(q, 2));
	int family = sk_family_parse((const char *)sqlite3_column_text(q, 3));
	int dir = sk_dir_parse((const char *)sqlite3_column_text(q, 4));
	if (proto < 0 || family < 0 || dir < 0)
		return -1;
	memset(s, 0, sizeof(*s));
	s->rowid = sqlite3_column_int64(q, 0);
	s->container_id = container_id;
	k->cookie = (uint64_t)sqlite3_column_int64(q, 1);
	k->proto = (uint8_t)proto;
	k->family = (uint8_t)family;
	s->direction = dir;
	addr_restore(family, sqlite3_column_text(q, 5), k->laddr, &k->have, SK_HAVE_LADDR);
	if (!col_null(q, 6))
		k->lport = (uint16_t)sqlite3_column_int(q, 6), k->have |= SK_HAVE_LPORT;
	if (family == SKF_UNIX)
		s->remote_text = (const char *)sqlite3_column_text(q, 7);
	else
		addr_restore(family, sqlite3_column_text(q, 7), k->raddr, &k->have,
			     SK_HAVE_RADDR);
	if (!col_null(q, 8))
		k->rport = (uint16_t)sqlite3_column_int(q, 8), k->have |= SK_HAVE_RPORT;
	k->state = (uint8_t)sqlite3_column_int(q, 9);
	s->first_seen = sqlite3_column_int64(q, 10);
	s->last_seen = sqlite3_column_int64(q, 11);
	if (!col_null(q, 12) || !col_null(q, 13)) {
		k->bytes_sent = (uint64_t)sqlite3_column_int64(q, 12);
		k->bytes_received = (uint64_t)sqlite3_column_int64(q, 13);
		k->have |= SK_HAVE_BYTES;
	}
	s->pid = sqlite3_column_int(q, 14);
	s->comm = (const char *)sqlite3_column_text(q, 15);
	if (!col_null(q, 16))
		k->uid = (uint32_t)sqlite3_column_int64(q, 16), k->have |= SK_HAVE_UID;
	if (!col_null(q, 17))
		k->inode = (uint32_t)sqlite3_column_int64(q, 17), k->have |= SK_HAVE_INODE;
	s->seen_alive = sqlite3_column_int(q, 18);
	s->closed_at = col_null(q, 19) ? 0 : sqlite3_column_int64(q, 19);
	s->flow = col_null(q, 20) ? 0 : (uint8_t)sqlite3_column_int(q, 20);
	const unsigned char *src = sqlite3_column_text(q, 21);
	s->bytes_flow = src && strcmp((const char *)src, "flow") == 0;
	return 0;
}

/* A callback result > 0 stops the walk with success, < 0 stops it with failure. */
static int socket_walk(struct store *st, struct bind b, int64_t container_id,
		       int (*cb)(void *arg, const struct store_socket *s), void *arg)
{
	int rc = SQLITE_OK, stop = 0, ret = 0;
	if (!b.s)
		return -1;
	if (b.rc != SQLITE_OK) {
		store_stmt_done(b.s);
		return store_fail_db(st, "open sockets");
	}
	st->walking = 1;
	while (!stop && (rc = sqlite3_step(b.s)) == SQLITE_ROW) {
		struct store_socket s;
		if (row_socket(b.s, container_id, &s) < 0) {
			ret = store_fail(st, "open sockets: row %" PRId64 " has an unknown protocol, family "
				   "or direction", (int64_t)sqlite3_column_int64(b.s, 0));
			break;
		}
		stop = cb(arg, &s);
		if (stop < 0)
			ret = store_fail(st, "open sockets: stopped by the callback");
	}
	if (!stop && ret == 0 && rc != SQLITE_DONE)
		ret = store_fail_db(st, "open sockets");
	store_stmt_done(b.s);
	st->walking = 0;
	return ret;
}

int store_socket_each_open(struct store *st, int64_t container_id,
			   int (*cb)(void *arg, const struct store_socket *s), void *arg)
{
	if (st->walking)
		return store_fail(st, "open sockets: walk already in progress");
	struct bind b = { store_stmt(st, S_SOCK_OPEN), SQLITE_OK };
	if (b.s)
		store_bind_int(&b, 1, container_id);
	return socket_walk(st, b, container_id, cb, arg);
}

int store_socket_each_closed_tcp(struct store *st, int64_t container_id,
				 int64_t opened_since, int64_t closed_since,
				 int (*cb)(void *arg, const struct store_socket *s), void *arg)
{
	if (st->walking)
		return store_fail(st, "closed sockets: walk already in progress");
	struct bind b = { store_stmt(st, S_SOCK_CLOSED), SQLITE_OK };
	if (b.s) {
		store_bind_int(&b, 1, container_id);
		store_bind_int(&b, 2, opened_since);
		store_bind_int(&b, 3, closed_since);
	}
	return socket_walk(st, b, container_id, cb, arg);
}


int store_socket_recall(struct store *st, int64_t container_id, const struct store_socket *probe,
			int64_t from, int64_t to,
			int (*cb)(void *arg, const struct store_socket *s), void *arg)
{
	const struct sk *k = &probe->sk;
	char ra[INET6_ADDRSTRLEN];
	if (st->walking)
		return store_fail(st, "recall a socket: walk already in progress");
	if (!(k->have & SK_HAVE_RADDR) || !*sk_addr_text(k->family, k->raddr, ra, sizeof(ra)))
		return 0;
	struct bind b = { store_stmt(st, S_SOCK_RECALL), SQLITE_OK };
	if (b.s) {
		store_bind_int(&b, 1, container_id);
		store_bind_int(&b, 2, from - STORE_RECALL_BACK_MS);
		store_bind_int(&b, 3, to);
		store_bind_text(&b, 4, sk_proto_name(k->proto));
		store_bind_int(&b, 5, k->lport);
		store_bind_text(&b, 6, ra);
		store_bind_int(&b, 7, k->rport);
		store_bind_int(&b, 8, from);
	}
	return socket_walk(st, b, container_id, cb, arg);
}
