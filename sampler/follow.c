/* Attaching and detaching targets while watch runs: the engine's events (start, die,
 * exec windows), the --follow and --label selectors, and --all rescans. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "watch_int.h"

/* What target.c needs to know of a container. */
static void hit_of(const struct engine_container *c, struct target_engine_hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	snprintf(hit->id, sizeof(hit->id), "%s", c->id);
	snprintf(hit->name, sizeof(hit->name), "%s", c->name);
	snprintf(hit->image, sizeof(hit->image), "%s", c->image);
	hit->pid = c->running ? c->pid : 0;
	hit->started = c->started_ms;
	hit->host_network = c->host_network;
}

int watch_engine_lookup(void *engine, const char *name, struct target_engine_hit *hit)
{
	struct engine_container c = { 0 };
	int rc = engine_inspect(engine, name, &c);
	if (rc != 0)
		return rc;
	hit_of(&c, hit);
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

/* Attaches t unless its namespace is watched already (another container sharing a
 * watched one: --network container:). */
static void attach_new(struct watch *w, struct target *t)
{
	char err[512];
	if (find_ino(w, t->ns_ino)) {
		target_close(t);
		return;
	}
	if (watch_add(w, t, err, sizeof(err)) < 0)
		watch_log(w, WLOG_WARN, "%s", err);
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
	attach_new(w, &t);
}

static int engine_scan_cb(const struct engine_container *c, void *arg)
{
	struct watch *w = arg;
	if (container_selected(w, c))
		attach_engine(w, c);
	return w->fatal ? -1 : 0;
}

/* Named namespaces under /run/netns that the name patterns select. */
static void netns_scan(struct watch *w)
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
		if (target_netns_name(de->d_name, &t, err, sizeof(err)) == 0)
			attach_new(w, &t);
	}
	closedir(d);
}

/* What the --follow/--label selectors match now: engine containers, then /run/netns
 * names. */
static void select_scan(struct watch *w)
{
	if (w->o.engine && engine_list(w->o.engine, engine_scan_cb, w) < 0)
		watch_log(w, WLOG_WARN, "listing containers: %s", engine_error(w->o.engine));
	netns_scan(w);
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
			watch_exec_event(w, wt, ev);
		break;
	case ENGINE_EV_CONNECTED:
		watch_log(w, WLOG_VERBOSE, "engine events connected");
		if (w->o.select)
			select_scan(w);
		break;
	case ENGINE_EV_DISCONNECTED:
		watch_log(w, WLOG_WARN, "engine events lost (%s); reconnecting",
		     ev->detail ? ev->detail : "stream closed");
		break;
	}
	return w->fatal ? -1 : 0;
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
	if (util_grow(&r->m, &r->cap, r->n + 1, sizeof(*r->m)) < 0)
		return 0;
	struct pidmap *p = &r->m[r->n++];
	p->ino = ino;
	hit_of(c, &p->hit);
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

static int rescan_known(void *arg, uint64_t ino)
{
	struct rescan_ctx *r = arg;
	return find_ino(r->w, ino) != NULL;
}

/* --all: every namespace but the host's, named by the engine where it knows them. */
static void rescan_all(struct watch *w)
{
	struct rescan_ctx r = { .w = w };
	if (w->o.engine)
		engine_list(w->o.engine, pidmap_cb, &r);
	target_scan_all(rescan_known, rescan_add, &r);
	free(r.m);
}

void follow_rescan(struct watch *w, int64_t now, int first)
{
	/* named namespaces have no event stream: looked for again while following */
	int names = w->o.select && (first || (w->o.keep_running && !w->o.all));
	if (!first && (now - w->last_rescan < w->o.rescan_ms || (!w->o.all && !names)))
		return;
	w->last_rescan = now;
	if (w->o.all)
		rescan_all(w);
	if (names && first)
		select_scan(w);
	else if (names)
		netns_scan(w);
}
