#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <libmnl/libmnl.h>
#include "unixdiag.h"

/* TCP state numbers, as af_unix uses them */
#define UX_ESTABLISHED 1
#define UX_LISTEN 10

static void name_text(struct ux *u, const char *p, size_t n)
{
	/* sun_path bytes, not NUL-terminated; an abstract name starts with a NUL and may
	 * hold any byte (printers escape text from containers) */
	size_t o = 0;
	if (n > sizeof(u->name) - 2)
		n = sizeof(u->name) - 2;
	if (n && p[0] == '\0') {
		u->name[o++] = '@';
		p++;
		n--;
	}
	for (size_t i = 0; i < n && p[i]; i++)
		u->name[o++] = p[i];
	u->name[o] = '\0';
}

/* A u32 attribute's value; -1 with EBADMSG when it is not one. */
static int attr_u32(const struct nlattr *attr, uint32_t *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
		errno = EBADMSG;
		return -1;
	}
	*out = mnl_attr_get_u32(attr);
	return 0;
}

int unixdiag_decode(const void *buf, size_t len, struct ux *u)
{
	const struct nlmsghdr *nlh = buf;
	const struct unix_diag_msg *m;

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || nlh->nlmsg_len < sizeof(*nlh)) {
		errno = EBADMSG;
		return -1;
	}
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	if (!(m = diag_msg_header(nlh, sizeof(*m))))
		return -1;
	if (m->udiag_family != AF_UNIX) {
		errno = EBADMSG;
		return -1;
	}
	memset(u, 0, sizeof(*u));
	u->ino = m->udiag_ino;
	u->cookie = diag_cookie(m->udiag_cookie);
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	const struct nlattr *attr;
	const void *attrs;
	size_t span = diag_attrs_span(nlh, sizeof(*m), &attrs);
	mnl_attr_for_each_payload(attrs, span) {
		if (mnl_attr_type_valid(attr, UNIX_DIAG_MAX) <= 0)
			continue;
		switch (mnl_attr_get_type(attr)) {
		case UNIX_DIAG_NAME:
			name_text(u, mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
			break;
		case UNIX_DIAG_VFS:
			if (mnl_attr_get_payload_len(attr) < sizeof(struct unix_diag_vfs)) {
				errno = EBADMSG;
				return -1;
			} else {
				struct unix_diag_vfs v;
				memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
				u->vfs_ino = v.udiag_vfs_ino;
				u->vfs_dev = v.udiag_vfs_dev;
				u->have_vfs = 1;
			}
			break;
		case UNIX_DIAG_PEER:
			if (attr_u32(attr, &u->peer) < 0)
				return -1;
			break;
		case UNIX_DIAG_UID:
			if (attr_u32(attr, &u->uid) < 0)
				return -1;
			u->have_uid = 1;
			break;
		}
	}
	return 1;
}

struct walk_ctx {
	unixdiag_cb cb;
	void *arg;
	struct ux *one;
};

static int msg_cb(void *arg, const void *nlh, size_t len)
{
	struct walk_ctx *c = arg;
	struct ux u;
	int rc = unixdiag_decode(nlh, len, &u);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (c->one) {
		*c->one = u;
		return 0;
	}
	return c->cb(c->arg, &u);
}

static void request(struct unix_diag_req *r, uint32_t ino)
{
	memset(r, 0, sizeof(*r));
	r->sdiag_family = AF_UNIX;
	r->udiag_states = ~0u;
	r->udiag_ino = ino;
	r->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_UID;
	/* an exact request by inode alone */
	r->udiag_cookie[0] = r->udiag_cookie[1] = ~0u;
}

int unixdiag_dump(struct diag *d, unixdiag_cb cb, void *arg)
{
	struct unix_diag_req r;
	struct walk_ctx c = { cb, arg, NULL };
	request(&r, 0);
	return diag_request(d, &r, sizeof(r), 1, msg_cb, &c);
}

int unixdiag_lookup(struct diag *d, uint32_t ino, struct ux *out)
{
	struct unix_diag_req r;
	struct walk_ctx c = { NULL, NULL, out };
	memset(out, 0, sizeof(*out));
	request(&r, ino);
	if (diag_request(d, &r, sizeof(r), 0, msg_cb, &c) < 0)
		return -1;
	if (out->ino != ino) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int by_ino(const void *a, const void *b)
{
	uint32_t x = ((const struct ux *)a)->ino, y = ((const struct ux *)b)->ino;
	return x < y ? -1 : x > y;
}

static const struct ux *find(const struct ux *v, size_t n, uint32_t ino)
{
	struct ux key;
	key.ino = ino;
	return bsearch(&key, v, n, sizeof(*v), by_ino);
}

static uint64_t vfs_key(const struct ux *u)
{
	return (uint64_t)u->vfs_dev << 32 | u->vfs_ino;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The files the namespace's listeners are bound to, sorted: a container may hold
 * thousands of listeners and connections, and each candidate looks here once. */
struct listeners {
	uint64_t *keys;
	size_t n;
};

static int listened(const struct listeners *l, const struct ux *p)
{
	uint64_t k = vfs_key(p);
	return l->n && bsearch(&k, l->keys, l->n, sizeof(k), by_key) != NULL;
}

/* P is the server end of a connection to a listener outside: a stream pair, and P's
 * bound file is no listener's here. */
static int server_end(const struct listeners *l, const struct ux *s, const struct ux *p)
{
	return s->type != SOCK_DGRAM && p->type == s->type && p->peer == s->ino &&
	       p->state == UX_ESTABLISHED && p->have_vfs && !listened(l, p);
}

int unixdiag_outside(struct ux *v, size_t n, unixdiag_outside_cb cb, void *arg)
{
	struct listeners l = { NULL, 0 };
	int rc = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), by_ino);
	for (size_t i = 0; i < n; i++)
		l.n += v[i].state == UX_LISTEN && v[i].have_vfs;
	if (l.n) {
		l.keys = malloc(l.n * sizeof(*l.keys));
		if (!l.keys)
			return -1;
		l.n = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i].state == UX_LISTEN && v[i].have_vfs)
				l.keys[l.n++] = vfs_key(&v[i]);
		qsort(l.keys, l.n, sizeof(*l.keys), by_key);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ux *s = &v[i];
		if (!s->peer || s->state != UX_ESTABLISHED)
			continue;
		const struct ux *p = find(v, n, s->peer);
		if (!p)
			rc = cb(arg, s, NULL);
		else if (server_end(&l, s, p) && !(server_end(&l, p, s) && p->ino < s->ino))
			rc = cb(arg, s, p);
	}
	free(l.keys);
	return rc;
}
