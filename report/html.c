/* The HTML page: what it collects from the walk, its head (style, CSP) and header. The
 * timelines themselves are drawn by html_svg.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/sock.h"
#include "../lib/util.h"
#include "html_int.h"
#include "out.h"

static char *dup_opt(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*bad = 1;
	return d;
}

struct html_page *html_new(const struct html_meta *meta)
{
	struct html_page *h = calloc(1, sizeof(*h));
	int bad = 0;
	if (!h)
		return NULL;
	h->meta = *meta;
	h->command = dup_opt(meta->command, &bad);
	h->host = dup_opt(meta->host, &bad);
	h->table_title = dup_opt(meta->table_title ? meta->table_title : "Connections", &bad);
	h->lo = INT64_MAX;
	h->hi = INT64_MIN;
	tl_lanes_init(&h->lanes, HTML_MAX_LANES);
	if (bad) {
		html_free(h);
		return NULL;
	}
	return h;
}

void html_free(struct html_page *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->ncs; i++) {
		free(h->cs[i].name);
		free(h->cs[i].exec);
	}
	free(h->cs);
	free(h->command);
	free(h->host);
	free(h->table_title);
	tl_lanes_free(&h->lanes);
	free(h->marks);
	rbuf_free(&h->tips);
	rbuf_free(&h->lab);
	rbuf_free(&h->tip);
	free(h);
}

int html_container(void *page, const struct report_container *c)
{
	struct html_page *h = page;
	if (util_grow(&h->cs, &h->ccap, h->ncs + 1, sizeof(*h->cs)) < 0)
		return -1;
	struct hcont *n = &h->cs[h->ncs];
	*n = (struct hcont){
		.id = c->id, .start = c->start, .last_seen = c->last_seen, .ended = c->ended,
		.burst_known = c->burst_known, .burst_end = c->burst_end,
	};
	n->name = strdup(c->name ? c->name : "");
	if (c->nexec)
		n->exec = malloc(c->nexec * sizeof(*n->exec));
	if (!n->name || (c->nexec && !n->exec)) {
		free(n->name);
		free(n->exec);
		return errno = ENOMEM, -1;
	}
	if (c->nexec)
		memcpy(n->exec, c->exec, c->nexec * sizeof(*n->exec));
	n->nexec = c->nexec;
	h->ncs++;
	return 0;
}

/* Containers come in id order (walk.h): a binary search. */
static long find_cont(const struct html_page *h, int64_t id)
{
	size_t lo = 0, hi = h->ncs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->cs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->ncs && h->cs[lo].id == id ? (long)lo : -1;
}

static void endpoint(struct rbuf *b, const char *addr, int port)
{
	int v6 = addr && strchr(addr, ':');
	rbuf_puts(b, v6 ? "[" : "");
	rbuf_puts(b, addr ? addr : "*");
	rbuf_puts(b, v6 ? "]" : "");
	if (port >= 0)
		rbuf_printf(b, ":%d", port);
	else
		rbuf_puts(b, ":*");
}

/* THE place a lane's label is chosen: one lane per destination. When report_row gets
 * a remote_name (DNS name the container resolved), put it first here: that is all the
 * timeline needs to speak names. Labels are raw text; the drawing escapes them. */
static const char *lane_label(struct rbuf *b, const struct report_row *r)
{
	rbuf_reset(b);
	if (r->proto == SK_RAW || r->proto == SK_PACKET) {
		rbuf_puts(b, r->proto_name);
		rbuf_puts(b, " socket");
	} else if (!r->remote_addr && r->remote_port < 0) {
		rbuf_puts(b, r->proto_name);
		rbuf_puts(b, " (peer unknown)");
	} else if (r->remote_name) {
		/* by name where the container resolved one: a CDN's rotating addresses
		 * share one lane (escaped where the label is printed) */
		rbuf_puts(b, r->remote_name);
		if (r->remote_port >= 0)
			rbuf_printf(b, ":%d", (int)r->remote_port);
		rbuf_putc(b, ' ');
		rbuf_puts(b, r->proto_name);
		if (r->direction && strcmp(r->direction, "in") == 0)
			rbuf_puts(b, " (in)");
	} else {
		endpoint(b, r->remote_addr, r->remote_port);
		rbuf_putc(b, ' ');
		rbuf_puts(b, r->proto_name);
		if (r->direction && strcmp(r->direction, "in") == 0)
			rbuf_puts(b, " (in)");
	}
	return rbuf_str(b);
}

static void flag_list(struct rbuf *b, unsigned flags)
{
	for (unsigned i = 0, first = 1; i < REPORT_F_COUNT; i++) {
		if (!(flags & (1u << i)))
			continue;
		rbuf_puts(b, first ? "" : ", ");
		rbuf_puts(b, report_flag_name(i));
		first = 0;
	}
}

/* A mark's tooltip, escaped once here: time, destination, owner, bytes, flags. */
static void tooltip(struct html_page *h, const char *lane, const struct report_row *r)
{
	char t[40];
	struct rbuf *b = &h->tip;
	rbuf_reset(b);
	rbuf_puts(b, time_format(r->first_seen, t, sizeof(t)));
	rbuf_puts(b, "  ");
	rbuf_puts(b, lane);
	if (r->comm || r->pid >= 0) {
		rbuf_puts(b, "  by ");
		rbuf_puts(b, r->comm ? r->comm : "?");
		if (r->pid >= 0)
			rbuf_printf(b, " (pid %d)", r->pid);
	}
	if (r->bytes_sent >= 0 || r->bytes_received >= 0) {
		rbuf_puts(b, "  sent ");
		html_bytes(b, r->bytes_sent);
		rbuf_puts(b, ", received ");
		html_bytes(b, r->bytes_received);
	}
	if (r->flags) {
		rbuf_puts(b, "  flagged: ");
		flag_list(b, r->flags);
	}
	esc_html(&h->tips, b->p ? b->p : "", b->len);
	rbuf_putc(&h->tips, '\0');
}

int html_row(void *page, const struct report_container *c, const struct report_row *r)
{
	struct html_page *h = page;
	long ci = find_cont(h, c->id);
	if (ci < 0)
		return 0;   /* cannot happen: the walker announced every container first */
	const char *label = lane_label(&h->lab, r);
	long lane = label ? tl_lane(&h->lanes, (uint32_t)ci, label) : -1;
	if (lane < 0)
		return errno = ENOMEM, -1;
	h->lanes.v[lane].flags |= r->flags;
	if (util_grow(&h->marks, &h->mcap, h->nm + 1, sizeof(*h->marks)) < 0)
		return -1;
	h->marks[h->nm++] = (struct tl_mark){ .t = r->first_seen, .lane = (uint32_t)lane,
					      .flags = r->flags, .bytes = r->bytes_sent,
					      .ref = h->tips.len };
	tooltip(h, label, r);
	if (h->tips.oom || h->tip.oom)
		return errno = ENOMEM, -1;
	h->cs[ci].rows++;
	h->rows++;
	if (r->flags) {
		h->cs[ci].flagged++;
		h->flagged++;
	}
	h->allflags |= r->flags;
	if (r->first_seen < h->lo)
		h->lo = r->first_seen;
	if (r->first_seen > h->hi)
		h->hi = r->first_seen;
	return 0;
}

void html_scaled(struct rbuf *b, int64_t v, const struct html_unit *u)
{
	size_t i = 0;
	while (u[i].below && v >= u[i].below)
		i++;
	if (i == 0)
		rbuf_printf(b, "%lld%s", (long long)v, u[0].name);
	else
		rbuf_printf(b, "%.1f%s", (double)v / u[i].div, u[i].name);
}

void html_bytes(struct rbuf *b, int64_t v)
{
	static const struct html_unit bytes[] = {
		{ 1000, 1, " B" }, { 1000000, 1e3, " kB" }, { 1000000000, 1e6, " MB" },
		{ 0, 1e9, " GB" },
	};
	if (v < 0)
		rbuf_puts(b, "?");
	else
		html_scaled(b, v, bytes);
}

/* Colours by role in CSS variables, so dark mode and print only redefine them; flag
 * colours are fixed (they read on both backgrounds). */
static const char style[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1d2329;--mute:#5f6b77;--grid:#dde2e7;"
	"--life:#eef1f4;--burst:#cfe2ff;--idle:#ffe3a3;--exec:#c9efcf;--lane:#f7f8fa;"
	"--plain:#7d8a97;--row:#fff1f0}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#14181c;--fg:#e3e7eb;--mute:#9aa5b1;"
	"--grid:#2b3238;--life:#1c2227;--burst:#1e3a5f;--idle:#5a4512;--exec:#1d4a2a;"
	"--lane:#181d22;--plain:#8996a3;--row:#3a1f22}}\n"
	"body{background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,sans-serif;"
	"margin:1.5em auto;max-width:1200px;padding:0 1em}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .3em}\n"
	"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}\n"
	"dl.meta dt{color:var(--mute)}dl.meta dd{margin:0}\n"
	"code{font:12px ui-monospace,monospace;overflow-wrap:anywhere}\n"
	".verdict{font-size:1.1em;font-weight:600}.bad{color:#c62828}.good{color:#2e7d32}\n"
	".cmeta{color:var(--mute);margin:.1em 0 .4em}\n"
	"svg.tl{width:100%;height:auto;display:block;font:11px system-ui,sans-serif}\n"
	"svg.tl text{fill:var(--fg)}svg.tl .mute{fill:var(--mute)}\n"
	".life{fill:var(--life)}.burst{fill:var(--burst)}.idle{fill:var(--idle)}"
	".exec{fill:var(--exec)}.lanebg{fill:var(--lane)}.grid{stroke:var(--grid)}\n"
	".edge{stroke:var(--fg);stroke-width:1.5}.plain{fill:var(--plain)}\n"
	".beaconline{stroke:#7b3fbf;stroke-dasharray:3 3;fill:none}\n"
	"ul.legend{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.3em 1.2em}\n"
	"ul.legend svg{width:14px;height:14px;vertical-align:-2px;margin-right:.3em}\n"
	"table.rows{border-collapse:collapse;width:100%;font:12px ui-monospace,monospace}\n"
	"table.rows th{text-align:left;border-bottom:2px solid var(--grid);padding:2px 6px;"
	"text-transform:uppercase;color:var(--mute)}\n"
	"table.rows td{border-bottom:1px solid var(--grid);padding:2px 6px;overflow-wrap:anywhere}\n"
	"table.rows .n{text-align:right}table.rows tr.flagged{background:var(--row)}\n"
	".flag{display:inline-block;border-radius:3px;padding:0 4px;margin-right:2px;"
	"color:#fff;background:#9e9e9e;font-size:11px}\n"
	".f-after-idle{background:#d62728}.f-undeclared{background:#e65100}"
	".f-beacon{background:#7b3fbf}.f-dns-tunnel{background:#00838f}"
	".f-host-socket{background:#ad1457}.f-raw{background:#6d4c41}"
	".f-packet{background:#455a64}.f-outside-exec{background:#2e7d32}\n"
	".null{color:var(--mute)}\n"
	"@media print{:root{--bg:#fff;--fg:#000;--mute:#444;--grid:#ccc;--life:#f3f3f3;"
	"--burst:#dbe9ff;--idle:#ffeab8;--exec:#d7f3dc;--lane:#fafafa;--row:#fff0ef}"
	"body{max-width:none;margin:0;font-size:11px}section.c{break-inside:avoid}"
	"thead{display:table-header-group}tr{break-inside:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void head(struct rbuf *b)
{
	rbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		  /* nothing may be fetched, nothing run: only the inline style applies */
		  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		  "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
		  "<meta name=\"referrer\" content=\"no-referrer\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		  "<meta name=\"generator\" content=\"clawss " CLAWSS_VERSION "\">\n"
		  "<title>clawss report</title>\n<style>\n");
	rbuf_puts(b, style);
	rbuf_puts(b, "</style>\n</head>\n<body>\n");
}

static void put_esc(struct rbuf *b, const char *s)
{
	esc_html(b, s, strlen(s));
}

static void dt(struct rbuf *b, const char *term)
{
	rbuf_puts(b, "<dt>");
	rbuf_puts(b, term);
	rbuf_puts(b, "</dt><dd>");
}

static void window(struct rbuf *b, const struct html_page *h)
{
	const struct report_query *q = h->meta.q;
	char t1[40], t2[40];
	if (h->rows)
		rbuf_printf(b, "%s &#8211; %s (first and last connection shown)",
			    time_format(h->lo, t1, sizeof(t1)), time_format(h->hi, t2, sizeof(t2)));
	else
		rbuf_puts(b, "nothing shown");
	if (q && q->since != REPORT_TIME_MIN)
		rbuf_printf(b, "; since %s", time_format(q->since, t1, sizeof(t1)));
	if (q && q->until != REPORT_TIME_MAX)
		rbuf_printf(b, "; until %s", time_format(q->until, t1, sizeof(t1)));
}

static void header(struct rbuf *b, const struct html_page *h)
{
	const struct report_query *q = h->meta.q;
	char t[40];
	rbuf_puts(b, "<header>\n<h1>clawss report</h1>\n");
	rbuf_printf(b, "<p class=\"verdict %s\">%zu of %zu %s flagged</p>\n",
		    h->flagged ? "bad" : "good", h->flagged, h->rows,
		    h->rows == 1 ? "row" : "rows");
	rbuf_puts(b, "<dl class=\"meta\">\n");
	dt(b, "host");
	put_esc(b, h->host ? h->host : "unknown");
	rbuf_puts(b, "</dd>\n");
	dt(b, "time window");
	window(b, h);
	rbuf_puts(b, "</dd>\n");
	dt(b, "options");
	rbuf_puts(b, "<code>");
	put_esc(b, h->command ? h->command : "clawss report --format html");
	rbuf_puts(b, "</code>");
	if (q) {
		char d[32];
		rbuf_printf(b, " (idle %s%s%s)", duration_format(q->idle, d, sizeof(d)),
			    q->since_idle ? ", only after-idle connections" : "",
			    q->allow ? ", with an allowlist" : "");
	}
	rbuf_puts(b, "</dd>\n");
	dt(b, "containers");
	rbuf_printf(b, "%zu</dd>\n", h->ncs);
	dt(b, "generated");
	rbuf_printf(b, "%s by clawss %s</dd>\n</dl>\n</header>\n",
		    time_format(h->meta.generated, t, sizeof(t)), CLAWSS_VERSION);
}

/* Marks grouped by container (a stable counting sort), so each timeline has a slice. */
static int bucket(struct html_page *h)
{
	struct tl_mark *v = malloc((h->nm ? h->nm : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < h->ncs; i++)
		h->cs[i].nm = 0;
	for (size_t i = 0; i < h->nm; i++)
		h->cs[h->lanes.v[h->marks[i].lane].container].nm++;
	for (size_t i = 0, off = 0; i < h->ncs; i++) {
		h->cs[i].moff = off;
		off += h->cs[i].nm;
		h->cs[i].nm = 0;
	}
	for (size_t i = 0; i < h->nm; i++) {
		struct hcont *c = &h->cs[h->lanes.v[h->marks[i].lane].container];
		v[c->moff + c->nm++] = h->marks[i];
	}
	free(h->marks);
	h->marks = v;
	return 0;
}

static int flush(struct rbuf *b, FILE *f)
{
	if (b->oom || fwrite(b->p ? b->p : "", 1, b->len, f) != b->len)
		return -1;
	rbuf_reset(b);
	return 0;
}

int html_write(struct html_page *h, FILE *f, const char *table, size_t len)
{
	struct rbuf b = { 0 };
	struct tl_cluster *scratch = malloc((h->nm ? h->nm : 1) * sizeof(*scratch));
	int any_exec = 0, rc = -1;

	if (!scratch || tl_lanes_layout(&h->lanes) < 0 || bucket(h) < 0)
		goto out;
	/* a mark of a folded lane is drawn, and clustered, in the row it is folded into */
	for (size_t i = 0; i < h->nm; i++)
		h->marks[i].lane = h->lanes.v[h->marks[i].lane].row;
	head(&b);
	header(&b, h);
	for (size_t i = 0; i < h->ncs; i++)
		any_exec |= h->cs[i].nexec > 0;
	rbuf_puts(&b, "<h2>Timelines</h2>\n");
	html_svg_legend(&b, h->allflags, any_exec);
	for (size_t i = 0; i < h->ncs; i++) {
		html_svg_container(&b, h, &h->cs[i], scratch);
		if (flush(&b, f) < 0)
			goto out;
	}
	if (!h->ncs)
		rbuf_puts(&b, "<p>No container recorded matches.</p>\n");
	rbuf_puts(&b, "<h2>");
	put_esc(&b, h->table_title);
	rbuf_puts(&b, "</h2>\n");
	if (flush(&b, f) < 0 || fwrite(table, 1, len, f) != len)
		goto out;
	rbuf_puts(&b, "</body>\n</html>\n");
	rc = flush(&b, f);
out:
	if (rc < 0 && !errno)
		errno = ENOMEM;
	free(scratch);
	rbuf_free(&b);
	return rc;
}
