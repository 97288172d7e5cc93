/* One container's timeline as inline SVG, and the legend. Every number is ours; every
 * string (container name, lane label, tooltip) goes through esc_html. */
#include <stdlib.h>
#include <string.h>
#include "../lib/util.h"
#include "html_int.h"
#include "out.h"

#define W 1160.0                 /* viewBox width */
#define PLOT_X 260.0
#define PLOT_W (W - PLOT_X - 24.0)
#define AXIS_H 18.0
#define BAND_Y 22.0
#define BAND_H 14.0
#define LANES_Y (BAND_Y + BAND_H + 6.0)
#define LANE_H 20.0
#define MAX_TICKS 9
#define CLUSTER_PX 8.0           /* marks closer than this on screen are one cluster */
#define LABEL_MAX 40             /* bytes of a lane label shown; the tooltip has it all */

enum shape { SH_CIRCLE, SH_SQUARE, SH_DIAMOND, SH_TRI_UP, SH_TRI_DOWN, SH_HEXAGON,
	     SH_BAR, SH_CROSS };

/* Known flags, most telling first: a mark with several is drawn as the first of them,
 * outlined in the colour of the second. A flag not listed here (a kind added later)
 * gets the generic style below, so it still shows and still has a legend entry. */
static const struct fstyle {
	const char *name;
	enum shape shape;
	const char *colour;
} fstyles[] = {
	{ "dns-tunnel", SH_TRI_DOWN, "#00838f" },
	{ "host-socket", SH_HEXAGON, "#ad1457" },
	{ "beacon", SH_TRI_UP, "#7b3fbf" },
	{ "after-idle", SH_CIRCLE, "#d62728" },
	{ "undeclared", SH_DIAMOND, "#e65100" },
	{ "outside-exec", SH_BAR, "#2e7d32" },
	{ "raw", SH_SQUARE, "#6d4c41" },
	{ "packet", SH_SQUARE, "#455a64" },
};
static const struct fstyle generic = { NULL, SH_CROSS, "#9e9e9e" };
#define NSTYLES (sizeof(fstyles) / sizeof(fstyles[0]))

static const struct fstyle *style_of(unsigned bit)
{
	const char *name = report_flag_name(bit);
	for (size_t i = 0; i < NSTYLES; i++)
		if (strcmp(fstyles[i].name, name) == 0)
			return &fstyles[i];
	return &generic;
}

/* The flags of a mark in drawing order: known ones by fstyles, then the rest. */
static size_t ranked(unsigned flags, const struct fstyle **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < NSTYLES && n < cap; i++)
		for (unsigned bit = 0; bit < REPORT_F_COUNT; bit++)
			if ((flags & (1u << bit)) && style_of(bit) == &fstyles[i])
				out[n++] = &fstyles[i];
	for (unsigned bit = 0; bit < REPORT_F_COUNT && n < cap; bit++)
		if ((flags & (1u << bit)) && style_of(bit) == &generic)
			out[n++] = &generic;
	return n;
}

static void shape(struct rbuf *b, enum shape s, double x, double y, double r,
		  const char *fill, const char *stroke)
{
	const char *cls = fill ? "" : " class=\"plain\"";
	if (s == SH_CIRCLE) {
		rbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"%s", x, y, r, cls);
	} else {
		static const double pts[][12] = {
			[SH_SQUARE] = { -0.9, -0.9, 0.9, -0.9, 0.9, 0.9, -0.9, 0.9 },
			[SH_DIAMOND] = { 0, -1.25, 1.25, 0, 0, 1.25, -1.25, 0 },
			[SH_TRI_UP] = { 0, -1.3, 1.2, 0.9, -1.2, 0.9 },
			[SH_TRI_DOWN] = { 0, 1.3, 1.2, -0.9, -1.2, -0.9 },
			[SH_HEXAGON] = { -0.55, -1, 0.55, -1, 1.1, 0, 0.55, 1, -0.55, 1, -1.1, 0 },
			[SH_BAR] = { -0.45, -1.3, 0.45, -1.3, 0.45, 1.3, -0.45, 1.3 },
			[SH_CROSS] = { -1, -1, 0, -0.3, 1, -1, 0.3, 0, 1, 1, 0, 0.3 },
		};
		static const int npts[] = { [SH_SQUARE] = 4, [SH_DIAMOND] = 4, [SH_TRI_UP] = 3,
					    [SH_TRI_DOWN] = 3, [SH_HEXAGON] = 6, [SH_BAR] = 4,
					    [SH_CROSS] = 6 };
		rbuf_puts(b, "<polygon points=\"");
		for (int i = 0; i < npts[s]; i++)
			rbuf_printf(b, "%s%.1f,%.1f", i ? " " : "", x + r * pts[s][2 * i],
				    y + r * pts[s][2 * i + 1]);
		rbuf_printf(b, "\"%s", cls);
	}
	if (fill)
		rbuf_printf(b, " fill=\"%s\"", fill);
	if (stroke)
		rbuf_printf(b, " stroke=\"%s\" stroke-width=\"1.2\"", stroke);
	rbuf_puts(b, "/>");
}

/* A mark's shape for its flags: plain circle when none. */
static void mark_shape(struct rbuf *b, unsigned flags, double x, double y, double r)
{
	const struct fstyle *f[2];
	size_t n = ranked(flags, f, 2);
	if (n == 0)
		shape(b, SH_CIRCLE, x, y, r, NULL, NULL);
	else   /* a flagged mark stays big enough to show its shape */
		shape(b, f[0]->shape, x, y, r < 4.5 ? 4.5 : r, f[0]->colour,
		      n > 1 ? f[1]->colour : NULL);
}

static void swatch(struct rbuf *b, const char *cls, const char *text)
{
	rbuf_printf(b, "<li><svg viewBox=\"0 0 14 14\"><rect x=\"0\" y=\"2\" width=\"14\" "
		    "height=\"10\" class=\"%s\"/></svg>%s</li>\n", cls, text);
}

void html_svg_legend(struct rbuf *b, unsigned flags, int any_exec)
{
	rbuf_puts(b, "<ul class=\"legend\">\n<li><svg viewBox=\"0 0 14 14\">");
	shape(b, SH_CIRCLE, 7, 7, 5, NULL, NULL);
	rbuf_puts(b, "</svg>connection at its open time (size: bytes sent)</li>\n");
	for (unsigned bit = 0; bit < REPORT_F_COUNT; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		const struct fstyle *s = style_of(bit);
		rbuf_puts(b, "<li><svg viewBox=\"0 0 14 14\">");
		shape(b, s->shape, 7, 7, 5, s->colour, NULL);
		rbuf_printf(b, "</svg>%s</li>\n", report_flag_name(bit));   /* our names */
	}
	rbuf_puts(b, "<li><svg viewBox=\"0 0 14 14\"><rect x=\"0\" y=\"3\" width=\"14\" "
		  "height=\"8\" rx=\"4\" class=\"plain\" opacity=\".5\"/></svg>"
		  "connections too close to tell apart (count above)</li>\n");
	swatch(b, "burst", "burst window");
	swatch(b, "idle", "idle gap that ended it");
	if (any_exec)
		swatch(b, "exec", "exec window");
	rbuf_puts(b, "</ul>\n");
}

/* Label text cut at a character boundary (the tooltip keeps all of it), escaped. */
static void label_text(struct rbuf *b, const char *s, size_t n)
{
	if (n <= LABEL_MAX) {
		esc_html(b, s, n);
		return;
	}
	size_t k = LABEL_MAX;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	esc_html(b, s, k);
	rbuf_puts(b, "&#8230;");
}

struct frame {
	int64_t t0, t1;
	double y1;      /* bottom of the last lane */
};

static double X(const struct frame *fr, int64_t t)
{
	return tl_x(t, fr->t0, fr->t1, PLOT_X, PLOT_W);
}

static void band(struct rbuf *b, const struct frame *fr, int64_t from, int64_t to,
		 const char *cls, double y, double h, const char *title)
{
	double x0 = X(fr, from), x1 = X(fr, to);
	rbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s\">",
		    x0, y, x1 - x0 > 1 ? x1 - x0 : 1, h, cls);
	if (title)
		rbuf_printf(b, "<title>%s</title>", title);   /* ours */
	rbuf_puts(b, "</rect>\n");
}

static void axis(struct rbuf *b, const struct frame *fr)
{
	int64_t ticks[64], step = tl_tick_step(fr->t1 - fr->t0, MAX_TICKS);
	size_t n = tl_ticks(fr->t0, fr->t1, step, ticks, 64);
	char lab[48];
	for (size_t i = 0; i < n && i < 64; i++) {
		double x = X(fr, ticks[i]);
		/* a label near the right edge ends at its tick rather than past the edge */
		rbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
			    "<text x=\"%.1f\" y=\"12\" text-anchor=\"%s\" class=\"mute\">%s</text>\n",
			    x, AXIS_H, x, fr->y1, x, x > W - 45 ? "end" : "middle",
			    tl_tick_label(ticks[i], step, i == 0, lab, sizeof(lab)));
	}
}

/* The container's life, its burst window and the idle gap, its exec windows: a band
 * under the axis, and the same windows shaded faintly behind the lanes. */
static void windows(struct rbuf *b, const struct frame *fr, const struct hcont *c,
		    int64_t idle)
{
	int64_t end = c->ended >= 0 ? c->ended : c->last_seen;
	double lh = fr->y1 - LANES_Y;
	band(b, fr, c->start, end, "life", BAND_Y, BAND_H,
	     c->ended >= 0 ? "life: start to end" : "life: start to last seen (still watched)");
	if (c->burst_known) {
		/* the quiet stretch that ended the burst: idle long, up to its end (with a
		 * burst cut short by a maximum length this would be that cap instead) */
		int64_t gap0 = c->burst_end - idle > c->start ? c->burst_end - idle : c->start;
		band(b, fr, c->start, c->burst_end, "burst", BAND_Y, BAND_H, "burst window");
		band(b, fr, gap0, c->burst_end, "idle", BAND_Y, BAND_H, "idle gap that ended the burst");
		rbuf_puts(b, "<g opacity=\".35\">");
		band(b, fr, c->start, c->burst_end, "burst", LANES_Y, lh, NULL);
		band(b, fr, gap0, c->burst_end, "idle", LANES_Y, lh, NULL);
		rbuf_puts(b, "</g>\n");
	} else {
		band(b, fr, c->start, end, "burst", BAND_Y, BAND_H, "burst: never went idle");
	}
	for (size_t i = 0; i < c->nexec; i++) {
		int64_t xe = c->exec[i].end == INT64_MAX ? end : c->exec[i].end;
		band(b, fr, c->exec[i].start, xe, "exec", BAND_Y + BAND_H - 5, 5, "exec window");
		rbuf_puts(b, "<g opacity=\".3\">");
		band(b, fr, c->exec[i].start, xe, "exec", LANES_Y, lh, NULL);
		rbuf_puts(b, "</g>\n");
	}
	rbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"edge\"/>\n",
		    X(fr, c->start), BAND_Y, X(fr, c->start), fr->y1);
	if (c->ended >= 0)
		rbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"edge\"/>\n",
			    X(fr, c->ended), BAND_Y, X(fr, c->ended), fr->y1);
}

/* Median gap between the beacon-flagged marks of lane in the sorted slice m, or -1. */
static int64_t beacon_period(const struct tl_mark *m, size_t n, uint32_t lane, unsigned bflag,
			     int64_t *first, int64_t *last)
{
	int64_t *gaps = malloc((n ? n : 1) * sizeof(*gaps)), prev = -1, med = -1;
	size_t k = 0;
	if (!gaps)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (m[i].lane != lane || !(m[i].flags & bflag))
			continue;
		if (prev >= 0)
			gaps[k++] = m[i].t - prev;
		else
			*first = m[i].t;
		prev = *last = m[i].t;
	}
	if (k) {
		qsort(gaps, k, sizeof(*gaps), util_cmp_i64);
		med = gaps[k / 2];
	}
	free(gaps);
	return med;
}

static unsigned beacon_bit(void)
{
	for (unsigned bit = 0; bit < REPORT_F_COUNT; bit++)
		if (strcmp(report_flag_name(bit), "beacon") == 0)
			return 1u << bit;
	return 0;
}

/* A beacon's period, to two or three figures: "850ms", "3.0s", "1.0m", "2.5h". */
static void period(struct rbuf *b, int64_t ms)
{
	static const struct html_unit units[] = {
		{ 1000, 1, "ms" }, { 60000, 1e3, "s" }, { 3600000, 6e4, "m" }, { 0, 3.6e6, "h" },
	};
	html_scaled(b, ms, units);
}

/* Every other lane shaded, under everything else. */
static void lane_bgs(struct rbuf *b, const struct html_page *h, size_t ci)
{
	for (size_t l = 0; l < h->lanes.n; l++) {
		const struct tl_lane *ln = &h->lanes.v[l];
		if (ln->container == ci && ln->nrow && ln->slot % 2 == 0)
			rbuf_printf(b, "<rect x=\"0\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				    "class=\"lanebg\"/>\n", LANES_Y + ln->slot * LANE_H, W, LANE_H);
	}
}

/* Lane labels; a beacon's lane says its period and joins its marks. */
static void lanes(struct rbuf *b, struct html_page *h, const struct frame *fr, size_t ci,
		  const struct tl_mark *m, size_t nm)
{
	unsigned bflag = beacon_bit();
	for (size_t l = 0; l < h->lanes.n; l++) {
		const struct tl_lane *ln = &h->lanes.v[l];
		if (ln->container != ci || !ln->nrow)
			continue;
		double y = LANES_Y + ln->slot * LANE_H;
		size_t len;
		const char *s = tl_lane_label(&h->lanes, l, &len);
		if (ln->nrow > 1) {
			rbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
				    "class=\"mute\">%s (%u)<tspan> %u&#215;</tspan></text>\n",
				    PLOT_X - 8, y + 14, TL_OTHER, ln->nrow, ln->rowcount);
			continue;
		}
		rbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"><title>",
			    PLOT_X - 8, y + 14);
		esc_html(b, s, len);
		rbuf_puts(b, "</title>");
		label_text(b, s, len);
		rbuf_printf(b, "<tspan class=\"mute\"> %u&#215;</tspan>", ln->rowcount);
		int64_t first = 0, last = 0, per = bflag && (ln->flags & bflag) ?
			beacon_period(m, nm, (uint32_t)l, bflag, &first, &last) : -1;
		if (per > 0) {
			rbuf_puts(b, "<tspan fill=\"#7b3fbf\"> every ~");
			period(b, per);
			rbuf_puts(b, "</tspan>");
		}
		rbuf_puts(b, "</text>\n");
		if (per > 0)
			rbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				    "class=\"beaconline\"/>\n", X(fr, first), y + LANE_H / 2,
				    X(fr, last), y + LANE_H / 2);
	}
}

static void cluster(struct rbuf *b, struct html_page *h, const struct frame *fr,
		    const struct tl_cluster *k)
{
	double y = LANES_Y + h->lanes.v[k->lane].slot * LANE_H + LANE_H / 2;
	double x0 = X(fr, k->t0), x1 = X(fr, k->t1), r = tl_radius(k->bytes);
	const char *tip = h->tips.p + k->ref;
	char t0[40], t1[40];

	rbuf_puts(b, "<g><title>");
	if (k->count > 1) {
		size_t len;
		const char *s = tl_lane_label(&h->lanes, k->lane, &len);
		rbuf_printf(b, "%u connections %s &#8211; %s  ", k->count,
			    time_format(k->t0, t0, sizeof(t0)), time_format(k->t1, t1, sizeof(t1)));
		if (h->lanes.v[k->lane].nrow > 1)
			rbuf_puts(b, TL_OTHER);
		else
			esc_html(b, s, len);
		if (k->bytes >= 0) {
			rbuf_puts(b, "  sent ");
			html_bytes(b, k->bytes);
			rbuf_puts(b, " in all");
		}
		rbuf_puts(b, "&#10;first: ");
	}
	rbuf_puts(b, tip);   /* escaped when collected */
	rbuf_puts(b, "</title>");
	if (k->count > 1) {
		const struct fstyle *f[1];
		const char *col = ranked(k->flags, f, 1) ? f[0]->colour : NULL;
		rbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"%.1f\""
			    " opacity=\".5\"%s%s%s/>", x0 - r, y - r, x1 - x0 + 2 * r, 2 * r, r,
			    col ? " fill=\"" : " class=\"plain\"", col ? col : "", col ? "\"" : "");
		rbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" class=\"mute\">%u</text>",
			    x1 + r + 1, y - r + 1, k->count);
	}
	mark_shape(b, k->flags, x0, y, r);
	rbuf_puts(b, "</g>\n");
}

static void caption(struct rbuf *b, const struct hcont *c, int64_t idle)
{
	char t[40], d[32];
	rbuf_printf(b, "<p class=\"cmeta\">started %s", time_format(c->start, t, sizeof(t)));
	if (c->ended >= 0)
		rbuf_printf(b, ", ended %s", time_format(c->ended, t, sizeof(t)));
	else
		rbuf_printf(b, ", last seen %s", time_format(c->last_seen, t, sizeof(t)));
	if (c->burst_known)
		rbuf_printf(b, "; burst ended %s (idle %s)", time_format(c->burst_end, t, sizeof(t)),
			    duration_format(idle, d, sizeof(d)));
	else
		rbuf_printf(b, "; never idle for %s", duration_format(idle, d, sizeof(d)));
	rbuf_printf(b, "; %zu shown, <b%s>%zu flagged</b></p>\n", c->rows,
		    c->flagged ? " class=\"bad\"" : "", c->flagged);
}

void html_svg_container(struct rbuf *b, struct html_page *h, const struct hcont *c,
			struct tl_cluster *scratch)
{
	size_t ci = (size_t)(c - h->cs), nlanes = 0;
	int64_t idle = h->meta.q ? h->meta.q->idle : 30000;
	int64_t end = c->ended >= 0 ? c->ended : c->last_seen;
	struct tl_mark *m = h->marks + c->moff;
	struct frame fr = { c->start, end };

	for (size_t i = 0; i < c->nm; i++) {
		fr.t0 = m[i].t < fr.t0 ? m[i].t : fr.t0;
		fr.t1 = m[i].t > fr.t1 ? m[i].t : fr.t1;
	}
	if (c->burst_known && c->burst_end > fr.t1)
		fr.t1 = c->burst_end;
	if (fr.t1 - fr.t0 < 1000)
		fr.t1 = fr.t0 + 1000;
	int64_t pad = (fr.t1 - fr.t0) / 40;
	fr.t0 -= pad;
	fr.t1 += pad;
	for (size_t l = 0; l < h->lanes.n; l++)
		nlanes += h->lanes.v[l].container == ci && h->lanes.v[l].nrow;
	fr.y1 = LANES_Y + (double)(nlanes ? nlanes : 1) * LANE_H;

	rbuf_puts(b, "<section class=\"c\">\n<h3>");
	esc_html(b, c->name, strlen(c->name));
	rbuf_puts(b, "</h3>\n");
	caption(b, c, idle);
	rbuf_printf(b, "<svg class=\"tl\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		    "aria-label=\"timeline\"><title>timeline of ", W, fr.y1 + 6);
	esc_html(b, c->name, strlen(c->name));
	rbuf_puts(b, "</title>\n");
	lane_bgs(b, h, ci);
	windows(b, &fr, c, idle);
	axis(b, &fr);
	int64_t gap = (int64_t)((double)(fr.t1 - fr.t0) * CLUSTER_PX / PLOT_W);
	size_t nk = tl_cluster(m, c->nm, gap > 0 ? gap : 1, scratch);
	lanes(b, h, &fr, ci, m, c->nm);
	if (!nlanes)
		rbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"mute\">no connection shown"
			    "</text>\n", PLOT_X + 4, LANES_Y + 14);
	for (size_t i = 0; i < nk; i++)
		cluster(b, h, &fr, &scratch[i]);
	rbuf_puts(b, "</svg>\n</section>\n");
}
