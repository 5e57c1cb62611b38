/* processor evidence: one crossing for a protest: the fixes, the method, the time and its bound. */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "domain/geo.h"
#include "race/race_cli.h"
#include "race/race_eval.h"
#include "race/race_event.h"

#define EVIDENCE_AROUND	3	/* fixes shown each side of the bracket */
#define EVIDENCE_KMH	(1.0 / 3.6)

/* What is printed and drawn about one crossing. */
struct evidence {
	const struct race_stage		*ev_rs;
	const struct race_entry		*ev_re;
	const struct gate		*ev_gate;
	int				 ev_kind;
	const struct fix		*ev_fix;
	size_t				 ev_nfix;
	size_t				 ev_i0;		/* the fix before the crossing */
	size_t				 ev_lo, ev_hi;	/* fixes shown */
	const struct timing_record	*ev_tr;
};

/* The square the drawing shows, in metres of the gate's plane, and its unit. */
struct evidence_view {
	double	vw_minx, vw_miny;	/* lower left corner */
	double	vw_w, vw_h;		/* width; height, with the caption */
	double	vw_u;			/* one drawing unit: a 400th of the width */
};

static const char *
evidence_kind(int kind)
{
	return kind == SG_START ? "start" : kind == SG_FINISH ? "finish" :
	    "split";
}

static void
evidence_xy(const struct evidence *e, const struct fix *f, struct geo_xy *p)
{
	if (geo_project(&e->ev_gate->g_plane, f->f_lat, f->f_lon, p) == -1)
		p->xy_x = p->xy_y = NAN;
}

/* Signed distance from the gate line, metres, positive left of A->B. */
static double
evidence_side(const struct evidence *e, const struct fix *f)
{
	struct geo_xy	p;

	evidence_xy(e, f, &p);
	return p.xy_x * e->ev_gate->g_n.xy_x + p.xy_y * e->ev_gate->g_n.xy_y;
}

/*
 * The path between the bracketing fixes at s in [0, 1]: the cubic Hermite
 * through both positions and velocities (speed and heading) when both
 * fixes carry them, the straight chord otherwise.
 */
static void
evidence_path(const struct evidence *e, double s, struct geo_xy *out)
{
	const struct fix	*f0 = &e->ev_fix[e->ev_i0];
	const struct fix	*f1 = &e->ev_fix[e->ev_i0 + 1];
	struct geo_xy		 p0, p1;
	double			 T, h00, h10, h01, h11, v0x, v0y, v1x, v1y;
	unsigned		 need = FIX_HAS_SPEED | FIX_HAS_HEADING;

	evidence_xy(e, f0, &p0);
	evidence_xy(e, f1, &p1);
	if ((f0->f_flags & need) != need || (f1->f_flags & need) != need) {
		out->xy_x = p0.xy_x + s * (p1.xy_x - p0.xy_x);
		out->xy_y = p0.xy_y + s * (p1.xy_y - p0.xy_y);
		return;
	}
	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6;
	v0x = f0->f_speed * EVIDENCE_KMH * sin(f0->f_heading * M_PI / 180);
	v0y = f0->f_speed * EVIDENCE_KMH * cos(f0->f_heading * M_PI / 180);
	v1x = f1->f_speed * EVIDENCE_KMH * sin(f1->f_heading * M_PI / 180);
	v1y = f1->f_speed * EVIDENCE_KMH * cos(f1->f_heading * M_PI / 180);
	h00 = 2 * s * s * s - 3 * s * s + 1;
	h10 = s * s * s - 2 * s * s + s;
	h01 = -2 * s * s * s + 3 * s * s;
	h11 = s * s * s - s * s;
	out->xy_x = h00 * p0.xy_x + h10 * T * v0x + h01 * p1.xy_x + h11 * T * v1x;
	out->xy_y = h00 * p0.xy_y + h10 * T * v0y + h01 * p1.xy_y + h11 * T * v1y;
}

/* The crossing point: where the chord between the bracketing fixes meets the line. */
static void
evidence_cross(const struct evidence *e, struct geo_xy *x)
{
	struct geo_xy	p0, p1;
	double		f = e->ev_tr->tr_frac;

	evidence_xy(e, &e->ev_fix[e->ev_i0], &p0);
	evidence_xy(e, &e->ev_fix[e->ev_i0 + 1], &p1);
	x->xy_x = p0.xy_x + f * (p1.xy_x - p0.xy_x);
	x->xy_y = p0.xy_y + f * (p1.xy_y - p0.xy_y);
}

static void
evidence_fix_line(FILE *out, const struct evidence *e, size_t i)
{
	const struct fix	*f = &e->ev_fix[i];
	char			 ts[40], sp[16], hd[16], hp[16], sat[16];

	snprintf(sp, sizeof(sp), (f->f_flags & FIX_HAS_SPEED) ? "%.0f" : "-",
	    f->f_speed);
	snprintf(hd, sizeof(hd), (f->f_flags & FIX_HAS_HEADING) ? "%.0f" : "-",
	    f->f_heading);
	snprintf(hp, sizeof(hp), (f->f_flags & FIX_HAS_HDOP) ? "%.1f" : "-",
	    f->f_hdop);
	snprintf(sat, sizeof(sat), f->f_sats >= 0 ? "%d" : "-", f->f_sats);
	fprintf(out, "%c %s  %11.7f %12.7f %6s %7s %5s %4s %+9.2f\n",
	    i == e->ev_i0 || i == e->ev_i0 + 1 ? '*' : ' ',
	    race_cli_ts(f->f_ts_us, ts, sizeof(ts)), f->f_lat, f->f_lon, sp, hd,
	    hp, sat, evidence_side(e, f));
}

static void
evidence_svg_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* A round length for the scale bar, about a fifth of the width. */
static double
evidence_scale_len(double w)
{
	double	p = pow(10, floor(log10(w / 5)));

	return w / 5 >= 5 * p ? 5 * p : w / 5 >= 2 * p ? 2 * p : p;
}

/* The square around the gate and the fixes shown, a tenth wider each side. */
static void
evidence_svg_view(const struct evidence *e, struct evidence_view *vw)
{
	const struct gate	*g = e->ev_gate;
	struct geo_xy		 p;
	double			 minx, maxx, miny, maxy, w;
	size_t			 i;

	minx = fmin(g->g_a.xy_x, g->g_b.xy_x);
	maxx = fmax(g->g_a.xy_x, g->g_b.xy_x);
	miny = fmin(g->g_a.xy_y, g->g_b.xy_y);
	maxy = fmax(g->g_a.xy_y, g->g_b.xy_y);
	for (i = e->ev_lo; i <= e->ev_hi; i++) {
		evidence_xy(e, &e->ev_fix[i], &p);
		if (!isfinite(p.xy_x))
			continue;
		minx = fmin(minx, p.xy_x);
		maxx = fmax(maxx, p.xy_x);
		miny = fmin(miny, p.xy_y);
		maxy = fmax(maxy, p.xy_y);
	}
	w = fmax(maxx - minx, maxy - miny) * 1.2 + 2;
	vw->vw_minx = (minx + maxx) / 2 - w / 2;
	vw->vw_miny = (miny + maxy) / 2 - w / 2;
	vw->vw_w = w;
	vw->vw_h = w * 1.15;	/* room for the caption below */
	vw->vw_u = w / 400;
}

/* The XML prologue, the title, the background and the gate line A-B. */
static void
evidence_svg_head(FILE *f, const struct evidence *e,
    const struct evidence_view *vw, const char *title)
{
	const struct gate	*g = e->ev_gate;
	double			 u = vw->vw_u;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"180mm\" "
	    "height=\"%.0fmm\" viewBox=\"%.3f %.3f %.3f %.3f\">\n",
	    180 * vw->vw_h / vw->vw_w, vw->vw_minx, -(vw->vw_miny + vw->vw_w),
	    vw->vw_w, vw->vw_h);
	fputs("<title>", f);
	evidence_svg_text(f, title);
	fputs("</title>\n", f);
	fprintf(f, "<rect id=\"background\" x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" "
	    "height=\"%.3f\" fill=\"white\"/>\n", vw->vw_minx,
	    -(vw->vw_miny + vw->vw_w), vw->vw_w, vw->vw_h);
	fprintf(f, "<line id=\"gate\" x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" "
	    "y2=\"%.3f\" stroke=\"black\" stroke-width=\"%.3f\"/>\n",
	    g->g_a.xy_x, -g->g_a.xy_y, g->g_b.xy_x, -g->g_b.xy_y, 2 * u);
	fprintf(f, "<text x=\"%.3f\" y=\"%.3f\" font-size=\"%.3f\">A</text>\n"
	    "<text x=\"%.3f\" y=\"%.3f\" font-size=\"%.3f\">B</text>\n",
	    g->g_a.xy_x + 3 * u, -g->g_a.xy_y, 12 * u, g->g_b.xy_x + 3 * u,
	    -g->g_b.xy_y, 12 * u);
}

/* The fixes shown, the bracketing two in blue, each labelled with its time. */
static void
evidence_svg_fixes(FILE *f, const struct evidence *e, double u)
{
	struct geo_xy	p;
	char		ts[40];
	size_t		i;
	int		bracket;

	fprintf(f, "<g id=\"fixes\">\n");
	for (i = e->ev_lo; i <= e->ev_hi; i++) {
		evidence_xy(e, &e->ev_fix[i], &p);
		if (!isfinite(p.xy_x))
			continue;
		bracket = i == e->ev_i0 || i == e->ev_i0 + 1;
		fprintf(f, "<circle class=\"fix%s\" cx=\"%.3f\" cy=\"%.3f\" "
		    "r=\"%.3f\" fill=\"%s\"><title>%s</title></circle>\n",
		    bracket ? " bracket" : "", p.xy_x, -p.xy_y, 4 * u,
		    bracket ? "blue" : "grey", race_cli_ts(e->ev_fix[i].f_ts_us,
		    ts, sizeof(ts)));
		fprintf(f, "<text x=\"%.3f\" y=\"%.3f\" font-size=\"%.3f\">%s"
		    "</text>\n", p.xy_x + 6 * u, -p.xy_y - 2 * u, 9 * u, ts + 11);
	}
	fprintf(f, "</g>\n");
}

/* The path between the bracketing fixes, as 32 straight pieces. */
static void
evidence_svg_path(FILE *f, const struct evidence *e, double u)
{
	struct geo_xy	p;
	int		k;

	fprintf(f, "<polyline id=\"path\" fill=\"none\" stroke=\"blue\" "
	    "stroke-width=\"%.3f\" points=\"", u);
	for (k = 0; k <= 32; k++) {
		evidence_path(e, k / 32.0, &p);
		fprintf(f, "%s%.3f,%.3f", k ? " " : "", p.xy_x, -p.xy_y);
	}
	fputs("\"/>\n", f);
}

/*
 * The crossing and its 95 % bound: the length of chord the car covers in
 * the time bound, each side of the crossing along the chord.
 */
static void
evidence_svg_crossing(FILE *f, const struct evidence *e, double u)
{
	struct geo_xy	p, x, q;
	double		len, dx, dy, d;
	char		ts[40];

	evidence_cross(e, &x);
	evidence_xy(e, &e->ev_fix[e->ev_i0], &p);
	evidence_xy(e, &e->ev_fix[e->ev_i0 + 1], &q);
	dx = q.xy_x - p.xy_x;
	dy = q.xy_y - p.xy_y;
	d = hypot(dx, dy);
	len = e->ev_tr->tr_speed_kmh * EVIDENCE_KMH * e->ev_tr->tr_unc_ms / 1000;
	if (d > 0) {
		dx /= d;
		dy /= d;
	}
	fprintf(f, "<line id=\"bound\" x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" "
	    "y2=\"%.3f\" stroke=\"red\" stroke-opacity=\"0.5\" "
	    "stroke-width=\"%.3f\"><title>95 %% bound: %.1f ms, %.2f m"
	    "</title></line>\n", x.xy_x - dx * len, -(x.xy_y - dy * len),
	    x.xy_x + dx * len, -(x.xy_y + dy * len), 6 * u,
	    e->ev_tr->tr_unc_ms, len);
	fprintf(f, "<circle id=\"crossing\" cx=\"%.3f\" cy=\"%.3f\" r=\"%.3f\" "
	    "fill=\"red\"><title>%s</title></circle>\n", x.xy_x, -x.xy_y, 3 * u,
	    race_cli_ts(e->ev_tr->tr_t_us, ts, sizeof(ts)));
}

/* The scale bar and north arrow, the caption below the square, the end. */
static void
evidence_svg_foot(FILE *f, const struct evidence_view *vw, const char *title)
{
	double	minx = vw->vw_minx, miny = vw->vw_miny, w = vw->vw_w;
	double	u = vw->vw_u, len = evidence_scale_len(w);

	fprintf(f, "<g id=\"scale\"><line x1=\"%.3f\" y1=\"%.3f\" x2=\"%.3f\" "
	    "y2=\"%.3f\" stroke=\"black\" stroke-width=\"%.3f\"/>"
	    "<text x=\"%.3f\" y=\"%.3f\" font-size=\"%.3f\">%g m</text>"
	    "<text x=\"%.3f\" y=\"%.3f\" font-size=\"%.3f\">N ^</text></g>\n",
	    minx + 10 * u, -miny - 10 * u, minx + 10 * u + len, -miny - 10 * u,
	    2 * u, minx + 10 * u, -miny - 14 * u, 10 * u, len,
	    minx + w - 40 * u, -(miny + w) + 16 * u, 12 * u);
	fprintf(f, "<text id=\"caption\" x=\"%.3f\" y=\"%.3f\" "
	    "font-size=\"%.3f\">", minx + 10 * u, -miny + 0.07 * w, 11 * u);
	evidence_svg_text(f, title);
	fprintf(f, "</text>\n</svg>\n");
}

/*
 * A to-scale drawing in the gate's local plane (metres east and north of
 * its end A; SVG y grows down, so north is -y): the line, the fixes shown,
 * the path between the bracketing fixes, the crossing and its 95 % bound
 * as a length of path (speed x time bound).
 */
static int
evidence_svg(const struct evidence *e, const char *path, const char *title)
{
	struct evidence_view	 vw;
	FILE			*f;

	evidence_svg_view(e, &vw);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	evidence_svg_head(f, e, &vw, title);
	evidence_svg_fixes(f, e, vw.vw_u);
	evidence_svg_path(f, e, vw.vw_u);
	evidence_svg_crossing(f, e, vw.vw_u);
	evidence_svg_foot(f, &vw, title);
	return fclose(f) == 0 ? 0 : -1;
}

/* Every revision of the record (race_timing_history); 0, or -1 on error. */
static int
evidence_history(PGconn *conn, const struct evidence *e, int pass)
{
	char		 q[768];
	PGresult	*res;
	int		 i;

	snprintf(q, sizeof(q), "SELECT revision, to_char(crossing_time, "
	    "'YYYY-MM-DD HH24:MI:SS.US'), uncertainty_ms, source, "
	    "to_char(recorded_at, 'YYYY-MM-DD HH24:MI:SS'), final "
	    "FROM race_timing_history WHERE entry_id = %" PRId64 " AND "
	    "stage_id = %" PRId64 " AND gate_id = %" PRId64 " AND "
	    "pass_number = %d ORDER BY id", e->ev_re->re_id, e->ev_rs->rs_id,
	    e->ev_rs->rs_gate_id[e->ev_tr->tr_gate], pass);
	res = PQexec(conn, q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "processor evidence: reading race_timing_history: "
		    "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	printf("history:   %d revision%s\n", PQntuples(res),
	    PQntuples(res) == 1 ? "" : "s");
	for (i = 0; i < PQntuples(res); i++)
		printf("  r%-3s %s UTC +/- %s ms  %-6s %s at %s\n",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		    *PQgetvalue(res, i, 5) == 't' ? "final" : "provisional",
		    PQgetvalue(res, i, 4));
	PQclear(res);
	return 0;
}

/* The stored record and its revision; 0 none, 1 printed, -1 error. */
static int
evidence_stored(PGconn *conn, const struct evidence *e, int pass)
{
	char		 q[768];
	PGresult	*res;
	int64_t		 t;
	int		 same;

	snprintf(q, sizeof(q), "SELECT to_char(crossing_time, "
	    "'YYYY-MM-DD HH24:MI:SS.US'), uncertainty_ms, revision, source, "
	    "updated_at, final, low_confidence, "
	    "(extract(epoch FROM crossing_time) * 1000000)::int8 "
	    "FROM timing_records WHERE entry_id = %" PRId64 " AND stage_id = "
	    "%" PRId64 " AND gate_id = %" PRId64 " AND pass_number = %d",
	    e->ev_re->re_id, e->ev_rs->rs_id,
	    e->ev_rs->rs_gate_id[e->ev_tr->tr_gate], pass);
	res = PQexec(conn, q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "processor evidence: reading timing_records: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0) {
		printf("stored:    none (the evaluator has not written this pass; "
		    "processor replay --apply writes it)\n");
		PQclear(res);
		return 0;
	}
	t = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	same = t == e->ev_tr->tr_t_us;
	printf("stored:    %s UTC +/- %s ms, revision %s (source %s, updated %s)"
	    "%s%s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4),
	    *PQgetvalue(res, 0, 5) == 't' ? ", final" : ", provisional",
	    *PQgetvalue(res, 0, 6) == 't' ? ", low confidence" : "");
	printf("check:     %s\n", same ? "the rules on the stored fixes give the "
	    "stored time" : "the rules on the stored fixes give another time: "
	    "processor replay lists the change");
	PQclear(res);
	return evidence_history(conn, e, pass) == -1 ? -1 : 1;
}

static void
evidence_print(const struct evidence *e, int pass)
{
	const struct timing_record	*tr = e->ev_tr;
	char				 ts[40];
	size_t				 i;

	printf("entry %" PRId64 " (car %s, device %s), stage %" PRId64 " (%s), "
	    "gate %" PRId64 " (%s), pass %d\n", e->ev_re->re_id,
	    e->ev_re->re_car, e->ev_re->re_device, e->ev_rs->rs_id,
	    e->ev_rs->rs_name, e->ev_rs->rs_gate_id[tr->tr_gate],
	    evidence_kind(e->ev_kind), pass);
	printf("crossing:  %s UTC +/- %.1f ms (95 %%)\n",
	    race_cli_ts(tr->tr_t_us, ts, sizeof(ts)), tr->tr_unc_ms);
	printf("method:    %s%s%s\n", stage_method_name(tr->tr_flags),
	    (tr->tr_flags & TR_FINAL) ? ", final" : ", provisional (smoothing "
	    "window not yet filled)", (tr->tr_flags & TR_LOWCONF) ?
	    ", low confidence" : "");
	printf("bracket:   %s -> ", race_cli_ts(tr->tr_fix0_us, ts, sizeof(ts)));
	printf("%s, fraction %.4f, %.1f km/h, %s\n", race_cli_ts(tr->tr_fix1_us,
	    ts, sizeof(ts)), tr->tr_frac, tr->tr_speed_kmh, tr->tr_dir > 0 ?
	    "left to right of A->B" : "right to left of A->B");
	printf("fixes (* the two bracketing the crossing; side: metres left of "
	    "A->B):\n  %-26s  %11s %12s %6s %7s %5s %4s %9s\n", "time (UTC)",
	    "latitude", "longitude", "km/h", "heading", "hdop", "sats", "side");
	for (i = e->ev_lo; i <= e->ev_hi; i++)
		evidence_fix_line(stdout, e, i);
}

static void
evidence_usage(void)
{
	fprintf(stderr, "usage: processor [-c file] evidence --entry E "
	    "--stage S --gate G [--pass N] [--svg FILE]\n");
}

/* Entry and gate line into e: the gate's index, or -1 having said why. */
static int
evidence_find(const struct race_event *ev, const struct race_stage *rs,
    int64_t entry, int64_t gate, struct evidence *e)
{
	size_t	i;
	int	k;

	memset(e, 0, sizeof(*e));
	e->ev_rs = rs;
	for (i = 0; i < ev->ev_nentries; i++)
		if (ev->ev_entries[i].re_id == entry &&
		    ev->ev_entries[i].re_event == rs->rs_event)
			e->ev_re = &ev->ev_entries[i];
	if (e->ev_re == NULL) {
		fprintf(stderr, "processor evidence: entry %" PRId64 ": no such "
		    "entry in the event of stage %" PRId64 "\n", entry, rs->rs_id);
		return -1;
	}
	for (k = 0; k < rs->rs_stage.st_ngate; k++)
		if (rs->rs_gate_id[k] == gate)
			break;
	if (k == rs->rs_stage.st_ngate) {
		fprintf(stderr, "processor evidence: gate %" PRId64 ": not a "
		    "timed start, split or finish line of stage %" PRId64 "\n",
		    gate, rs->rs_id);
		return -1;
	}
	e->ev_gate = &rs->rs_stage.st_gate[k].sg_gate;
	e->ev_kind = rs->rs_stage.st_gate[k].sg_kind;
	return k;
}

/*
 * The record of the pass at gate k and the fixes shown around it into e; 0,
 * or -1 having said there is none.
 */
static int
evidence_crossing(struct evidence *e, const struct race_rules *ru, int k,
    int pass)
{
	size_t	i;

	for (i = 0; i < ru->ru_nrec; i++)
		if (ru->ru_rec[i].tr_gate == k && ru->ru_rec[i].tr_pass == pass)
			e->ev_tr = &ru->ru_rec[i];
	if (e->ev_tr == NULL) {
		fprintf(stderr, "processor evidence: entry %" PRId64 " has no pass "
		    "%d of gate %" PRId64 " in the %zu stored fixes of stage %"
		    PRId64 "\n", e->ev_re->re_id, pass, e->ev_rs->rs_gate_id[k],
		    ru->ru_nfix, e->ev_rs->rs_id);
		return -1;
	}
	e->ev_fix = ru->ru_fix;
	e->ev_nfix = ru->ru_nfix;
	for (i = 0; i + 1 < ru->ru_nfix; i++)
		if (ru->ru_fix[i].f_ts_us == e->ev_tr->tr_fix0_us)
			break;
	e->ev_i0 = i;
	e->ev_lo = i > EVIDENCE_AROUND ? i - EVIDENCE_AROUND : 0;
	e->ev_hi = i + 1 + EVIDENCE_AROUND < ru->ru_nfix ?
	    i + 1 + EVIDENCE_AROUND : ru->ru_nfix - 1;
	return 0;
}

/* The drawing into the file svg, captioned; 0, or -1 having said why. */
static int
evidence_draw(const struct evidence *e, int pass, const char *svg)
{
	char	title[512], ts[40];

	snprintf(title, sizeof(title), "Car %s, stage %s, %s gate %" PRId64
	    " pass %d: %s UTC +/- %.1f ms (%s)", e->ev_re->re_car,
	    e->ev_rs->rs_name, evidence_kind(e->ev_kind),
	    e->ev_rs->rs_gate_id[e->ev_tr->tr_gate], pass,
	    race_cli_ts(e->ev_tr->tr_t_us, ts, sizeof(ts)), e->ev_tr->tr_unc_ms,
	    stage_method_name(e->ev_tr->tr_flags));
	if (evidence_svg(e, svg, title) == -1) {
		fprintf(stderr, "processor evidence: %s: cannot write the "
		    "drawing\n", svg);
		return -1;
	}
	printf("drawing:   %s\n", svg);
	return 0;
}

static int
evidence_run(PGconn *conn, const struct race_event *ev,
    const struct race_stage *rs, int64_t entry, int64_t gate, int pass,
    const char *svg)
{
	struct evidence		 e;
	struct race_rules	*ru;
	char			 err[512];
	int			 k, rc = RACE_CLI_FAIL;

	if ((k = evidence_find(ev, rs, entry, gate, &e)) == -1)
		return RACE_CLI_FAIL;
	if ((ru = calloc(1, sizeof(*ru))) == NULL) {
		fprintf(stderr, "processor evidence: out of memory\n");
		return RACE_CLI_FAIL;
	}
	if (race_rules_eval(conn, rs, e.ev_re->re_device, race_cli_now_us(), ru,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "processor evidence: %s\n", err);
		goto done;
	}
	if (evidence_crossing(&e, ru, k, pass) == -1)
		goto done;
	evidence_print(&e, pass);
	if (evidence_stored(conn, &e, pass) == -1)
		goto done;
	if (svg != NULL && evidence_draw(&e, pass, svg) == -1)
		goto done;
	rc = RACE_CLI_OK;
done:
	race_rules_free(ru);
	free(ru);
	return rc;
}

int
race_evidence_main(const struct config *cf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "entry", required_argument, NULL, 'e' },
		{ "stage", required_argument, NULL, 's' },
		{ "gate", required_argument, NULL, 'g' },
		{ "pass", required_argument, NULL, 'p' },
		{ "svg", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct race_event	 ev;
	const struct race_stage	*rs;
	const char		*stage = NULL, *svg = NULL;
	int64_t			 entry = 0, gate = 0, pass = 1;
	PGconn			*conn;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "e:s:g:p:o:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'e':
			if (race_cli_number(optarg, 1, INT64_MAX, &entry) == -1)
				goto usage;
			break;
		case 's':
			stage = optarg;
			break;
		case 'g':
			if (race_cli_number(optarg, 1, INT64_MAX, &gate) == -1)
				goto usage;
			break;
		case 'p':
			if (race_cli_number(optarg, 1, 100000, &pass) == -1)
				goto usage;
			break;
		case 'o':
			svg = optarg;
			break;
		case 'h':
			evidence_usage();
			return RACE_CLI_OK;
		default:
			goto usage;
		}
	}
	if (stage == NULL || entry == 0 || gate == 0 || optind != argc)
		goto usage;
	if ((conn = race_cli_connect(cf, "evidence")) == NULL)
		return RACE_CLI_FAIL;
	memset(&ev, 0, sizeof(ev));
	if (race_cli_stage(conn, cf, "evidence", stage, &ev, &rs) == -1)
		rc = RACE_CLI_FAIL;
	else
		rc = evidence_run(conn, &ev, rs, entry, gate, (int)pass, svg);
	race_event_free(&ev);
	PQfinish(conn);
	return rc;
usage:
	evidence_usage();
	return RACE_CLI_USAGE;
}
