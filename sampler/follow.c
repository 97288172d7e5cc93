/* Attaching and detaching targets while watch runs: the engine's events (start, die,
 * exec windows), the --follow and --label selectors, and --all rescans. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "watch_int.h"

int watch_engine_lookup(void *engine, const char *name, struct target_engine_hit *hit)
{
	struct engine_container c = { 0 };
	int rc = engine_inspect(engine, name, &c);
	if (rc != 0)
		return rc;
	memset(hit, 0, sizeof(*hit));
	snprintf(hit->id, sizeof(hit->id), "%s", c.id);
	snprintf(hit->name, sizeof(hit->name), "%s", c.name);
	snprintf(hit->image, sizeof(hit->image), "%s", c.image);
	hit->pid = c.running ? c.pid : 0;
	hit->started = c.started_ms;
	hit->host_network = c.host_network;
	engine_container_clear(&c);
	return 0;
}

static struct wt *find_engine_id(struct watch *w, const char *id)
{
	if (!id[0])
		return NULL;
	for (struct wt *wt = w->targets; wt; wt = wt->next)
		if (strcmp(wt->t.engine_id, id) == 0)
			return wt;
	return NULL;
}

static struct wt *find_ino(struct watch *w, uint64_t ino)
{
	for (struct wt *wt = w->targets; wt; wt = wt->next)
		if (wt->h.ino == ino)
			return wt;
	return NULL;
}

static int name_selected(const struct watch *w, const char *name)
{
	if (!w->o.nglobs)
		return 1;
	for (int i = 0; i < w->o.nglobs; i++)
		if (util_glob_match(w->o.globs[i], name))
			return 1;
	return 0;
}

static int container_selected(const struct watch *w, const struct engine_container *c)
{
	return c->running && c->pid > 0 && !c->host_network && name_selected(w, c->name) &&
	       engine_labels_match(c, w->o.labels, w->o.nlabels);
}

static void attach_engine(struct watch *w, const struct engine_container *c)
{
	struct target t;
	struct target_engine eng = { watch_engine_lookup, w->o.engine };
	char err[512];
	if (find_engine_id(w, c->id))
		return;
	if (target_resolve(c->id, &eng, &t, err, sizeof(err)) < 0) {
		watch_log(w, WLOG_WARN, "%s: %s", c->name, err);
		return;
	}
	if (find_ino(w, t.ns_ino)) {
		/* another container sharing a watched namespace (--network container:) */
		target_close(&t);
		return;
	}
	if (watch_add(w, &t, err, sizeof(err)) < 0)
		watch_log(w, WLOG_WARN, "%s", err);
}

static int engine_scan_cb(const struct engine_container *c, void *arg)
{
	struct watch *w = arg;
	if (container_selected(w, c))
		attach_engine(w, c);
	return w->fatal ? -1 : 0;
}

/* Named namespaces under /run/netns that the name patterns select. */
void follow_netns_scan(struct watch *w)
{
	DIR *d;
	struct dirent *de;
	char err[512];
	if (!w->o.nglobs || w->o.nlabels)
		return;
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((de = readdir(d)) && !w->fatal) {
		struct target t;
		if (de->d_name[0] == '.' || !name_selected(w, de->d_name))
			continue;
		if (target_netns_name(de->d_name, &t, err, sizeof(err)) < 0)
			continue;
		if (find_ino(w, t.ns_ino)) {
			target_close(&t);
			continue;
		}
		if (watch_add(w, &t, err, sizeof(err)) < 0)
			watch_log(w, WLOG_WARN, "%s", err);
	}
	closedir(d);
}

void follow_select_scan(struct watch *w)
{
	if (w->o.engine && engine_list(w->o.engine, engine_scan_cb, w) < 0)
		watch_log(w, WLOG_WARN, "listing containers: %s", engine_error(w->o.engine));
	follow_netns_scan(w);
}


static void exec_event(struct watch *w, struct wt *wt, const struct engine_event *ev)
{
	int64_t now = ev->time_ms ? ev->time_ms : time_now_ms();
	if (store_begin(w->st) < 0)
		return;
	if (ev->kind == ENGINE_EV_EXEC_START) {
		if (wt->nexecs == MAX_EXECS) {
			/* too many open windows: the oldest ends now */
			store_activity_close(w->st, wt->execs[0].rowid, now);
			memmove(wt->execs, wt->execs + 1, sizeof(wt->execs[0]) * (MAX_EXECS - 1));
			wt->nexecs--;
		}
		struct exec_win *x = &wt->execs[wt->nexecs];
		if (store_activity_open(w->st, wt->sc.id, "exec", now, 0, -1,
					ev->exec_id[0] ? ev->exec_id : NULL, &x->rowid) == 0) {
			snprintf(x->id, sizeof(x->id), "%s", ev->exec_id);
			wt->nexecs++;
		}
	} else {
		/* the window this exec opened; engines that give no exec id close the oldest */
		int i = 0;
		if (ev->exec_id[0])
			for (i = 0; i < wt->nexecs && strcmp(wt->execs[i].id, ev->exec_id); i++)
				;
		if (i < wt->nexecs) {
			store_activity_close(w->st, wt->execs[i].rowid, now);
			memmove(wt->execs + i, wt->execs + i + 1,
				sizeof(wt->execs[0]) * (size_t)(wt->nexecs - i - 1));
			wt->nexecs--;
		}
	}
	if (store_commit(w->st) < 0)
		store_rollback(w->st);
	watch_log(w, WLOG_VERBOSE, "%s: exec %s", wt->t.name,
	     ev->kind == ENGINE_EV_EXEC_START ? "started" : "ended");
}

int follow_engine_event(const struct engine_event *ev, void *arg)
{
	struct watch *w = arg;
	struct wt *wt = find_engine_id(w, ev->id);

	switch (ev->kind) {
	case ENGINE_EV_START:
		if (!w->o.select || !w->o.keep_running || wt)
			break;
		if (name_selected(w, ev->name) || !ev->name[0]) {
			struct engine_container c = { 0 };
			if (engine_inspect(w->o.engine, ev->id, &c) == 0 && container_selected(w, &c))
				attach_engine(w, &c);
			engine_container_clear(&c);
		}
		break;
	case ENGINE_EV_DIE:
		if (wt)
			watch_end_target(wt, time_now_ms() + END_GRACE_MS);
		break;
	case ENGINE_EV_EXEC_START:
	case ENGINE_EV_EXEC_DIE:
		if (wt)
			exec_event(w, wt, ev);
		break;
	case ENGINE_EV_CONNECTED:
		watch_log(w, WLOG_VERBOSE, "engine events connected");
		if (w->o.select)
			follow_select_scan(w);
		break;
	case ENGINE_EV_DISCONNECTED:
		watch_log(w, WLOG_WARN, "engine events lost (%s); reconnecting",
		     ev->detail ? ev->detail : "stream closed");
		break;
	}
	return w->fatal ? -1 : 0;
}

static int rescan_known(void *arg, uint64_t ino)
{
	struct watch *w = arg;
	for (struct wt *wt = w->targets; wt; wt = wt->next)
		if (wt->h.ino == ino)
			return 1;
	return 0;
}

struct pidmap {
	uint64_t ino;
	struct target_engine_hit hit;
};

struct rescan_ctx {
	struct watch *w;
	struct pidmap *m;
	size_t n, cap;
};

static int pidmap_cb(const struct engine_container *c, void *arg)
{
	struct rescan_ctx *r = arg;
	char path[64];
	uint64_t ino;
	if (!c->running || c->pid <= 0 || c->host_network)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", c->pid);
	if (netns_ino_of(path, &ino) < 0)
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct pidmap *m = realloc(r->m, cap * sizeof(*m));
		if (!m)
			return 0;
		r->m = m;
		r->cap = cap;
	}
	struct pidmap *p = &r->m[r->n++];
	memset(p, 0, sizeof(*p));
	p->ino = ino;
	snprintf(p->hit.id, sizeof(p->hit.id), "%s", c->id);
	snprintf(p->hit.name, sizeof(p->hit.name), "%s", c->name);
	snprintf(p->hit.image, sizeof(p->hit.image), "%s", c->image);
	p->hit.pid = c->pid;
	p->hit.started = c->started_ms;
	return 0;
}

static int rescan_add(void *arg, struct target *t)
{
	struct rescan_ctx *r = arg;
	struct watch *w = r->w;
	char err[512];
	if (watch_signalled(w)) {
		target_close(t);
		return -1;
	}
	/* a namespace an engine knows is named as the engine names it */
	for (size_t i = 0; t->kind == TARGET_PID && i < r->n; i++) {
		if (r->m[i].ino != t->ns_ino)
			continue;
		t->kind = TARGET_ENGINE;
		snprintf(t->name, sizeof(t->name), "%s", r->m[i].hit.name);
		snprintf(t->engine_id, sizeof(t->engine_id), "%s", r->m[i].hit.id);
		snprintf(t->image, sizeof(t->image), "%s", r->m[i].hit.image);
		if (r->m[i].hit.started)
			t->started = r->m[i].hit.started;
		break;
	}
	int by_ino = t->kind == TARGET_PID;
	if (watch_add(w, t, err, sizeof(err)) < 0)
		watch_log(w, WLOG_WARN, "%s", err);
	else
		w->targets->by_ino = by_ino;   /* watch_add puts it first */
	return w->fatal ? -1 : 0;
}

static int rescan_known_ctx(void *arg, uint64_t ino)
{
	struct rescan_ctx *r = arg;
	return rescan_known(r->w, ino);
}

void follow_rescan_all(struct watch *w, int64_t now)
{
	struct rescan_ctx r = { .w = w };
	w->last_rescan = now;
	if (w->o.engine)
		engine_list(w->o.engine, pidmap_cb, &r);
	target_scan_all(rescan_known_ctx, rescan_add, &r);
	free(r.m);
}
