/* processor check: an event's stages, gates and entries before the start, as findings with a severity. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "conf/config.h"
#include "domain/geo.h"
#include "domain/zone.h"
#include "race/race_cli.h"
#include "race/race_event.h"
#include "race/race_modes.h"

#define CHECK_TOP_SPEED_KMH	200.0
#define CHECK_RATE_HZ		1.0
#define CHECK_ZONE_FIXES	3.0	/* a speed zone should hold this many fixes */
#define CHECK_SILENT_S		3600	/* a device silent this long is reported */
#define CHECK_RING_MAX		64
#define CHECK_CIRCLE_SAMPLES	32

#define SEV_WARNING	1
#define SEV_ERROR	2

#define CG_BAD		0
#define CG_LINE		1
#define CG_CIRCLE	2
#define CG_POLYGON	3

struct check_gate {
	int64_t		 cg_id;
	int64_t		 cg_stage;
	int		 cg_order;
	char		 cg_kind[16];
	int		 cg_shape;	/* CG_* */
	double		 cg_lat[CHECK_RING_MAX];	/* line a, b; centre; ring */
	double		 cg_lon[CHECK_RING_MAX];
	size_t		 cg_n;
	double		 cg_margin;
	double		 cg_radius;	/* zones */
	double		 cg_clear;	/* waypoints */
	double		 cg_limit;	/* km/h, 0: none */
	struct geo_xy	 cg_xy[CHECK_RING_MAX];	/* in the stage plane */
};

struct check {
	double		 c_top_kmh;
	double		 c_rate_hz;
	double		 c_step_m;	/* metres between two fixes at top speed */
	const char	*c_event;
	int		 c_stage;	/* stage_order being checked, 0: none */
	int		 c_errors;
	int		 c_warnings;
};

static void
check_finding(struct check *c, int sev, const char *what, int64_t id,
    const char *fmt, ...)
{
	va_list	ap;

	if (sev == SEV_ERROR)
		c->c_errors++;
	else
		c->c_warnings++;
	printf("%s\t", sev == SEV_ERROR ? "error" : "warning");
	if (c->c_stage)
		printf("stage %d\t", c->c_stage);
	else
		printf("-\t");
	if (what != NULL)
		printf("%s %" PRId64 "\t", what, id);
	else
		printf("-\t");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
check_usage(FILE *f)
{
	fprintf(f, "usage: processor [-c file] check --event E "
	    "[--top-speed KMH] [--rate HZ]\n");
}

static int
check_args(int argc, char **argv, struct check *c)
{
	static const struct option longopts[] = {
		{ "event", required_argument, NULL, 'e' },
		{ "top-speed", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	double	*v;
	char	*end;
	int	 ch;

	memset(c, 0, sizeof(*c));
	c->c_top_kmh = CHECK_TOP_SPEED_KMH;
	c->c_rate_hz = CHECK_RATE_HZ;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "e:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			c->c_event = optarg;
			break;
		case 't':
		case 'r':
			v = ch == 't' ? &c->c_top_kmh : &c->c_rate_hz;
			errno = 0;
			*v = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(*v > 0) ||
			    *v > 1000) {
				fprintf(stderr, "processor: --%s %s is not a "
				    "number in (0, 1000]\n", ch == 't' ?
				    "top-speed" : "rate", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || c->c_event == NULL) {
		fprintf(stderr, "processor: check needs --event and nothing "
		    "else\n");
		return -1;
	}
	c->c_step_m = c->c_top_kmh / 3.6 / c->c_rate_hz;
	return 0;
}

static PGresult *
check_query(PGconn *conn, const char *sql, const char *param, const char *what)
{
	const char	*p[1] = { param };
	PGresult	*res;

	res = PQexecParams(conn, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, "processor: %s: %.*s\n", what,
	    (int)strcspn(PQresultErrorMessage(res), "\n"),
	    PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

/* The gate's shape from its geometry JSON; CG_BAD when it has none usable. */
static void
check_shape(struct check_gate *g, const char *text)
{
	json_error_t	 jerr;
	json_t		*o, *ring;
	const char	*type;
	size_t		 i;

	g->cg_shape = CG_BAD;
	if ((o = json_loads(text, 0, &jerr)) == NULL)
		return;
	type = json_string_value(json_object_get(o, "type"));
	if (type == NULL)
		type = "";
	if (strcmp(type, "line") == 0 && race_json_point(json_object_get(o, "a"),
	    &g->cg_lat[0], &g->cg_lon[0]) == 0 &&
	    race_json_point(json_object_get(o, "b"), &g->cg_lat[1],
	    &g->cg_lon[1]) == 0) {
		g->cg_shape = CG_LINE;
		g->cg_n = 2;
		g->cg_margin = race_json_num(o, "margin_m", 0.0);
	} else if (strcmp(type, "circle") == 0 &&
	    race_json_point(json_object_get(o, "center"), &g->cg_lat[0],
	    &g->cg_lon[0]) == 0) {
		g->cg_shape = CG_CIRCLE;
		g->cg_n = 1;
		g->cg_radius = race_json_num(o, "radius_m", -1.0);
		g->cg_clear = race_json_num(o, "clear_radius_m", -1.0);
	} else if (strcmp(type, "polygon") == 0 &&
	    json_is_array(ring = json_object_get(o, "ring")) &&
	    json_array_size(ring) >= 3 &&
	    json_array_size(ring) <= CHECK_RING_MAX) {
		g->cg_shape = CG_POLYGON;
		g->cg_n = json_array_size(ring);
		for (i = 0; i < g->cg_n; i++)
			if (race_json_point(json_array_get(ring, i), &g->cg_lat[i],
			    &g->cg_lon[i]) == -1)
				g->cg_shape = CG_BAD;
	}
	json_decref(o);
}

static double
check_dist(struct geo_xy a, struct geo_xy b)
{
	return hypot(a.xy_x - b.xy_x, a.xy_y - b.xy_y);
}

static struct geo_xy
check_ref(const struct check_gate *g)
{
	struct geo_xy	m;

	if (g->cg_shape != CG_LINE)
		return g->cg_xy[0];
	m.xy_x = (g->cg_xy[0].xy_x + g->cg_xy[1].xy_x) / 2.0;
	m.xy_y = (g->cg_xy[0].xy_y + g->cg_xy[1].xy_y) / 2.0;
	return m;
}

/* The speed zone as the domain sees it, for containment tests. */
static int
check_zone(const struct check_gate *g, struct zone *z)
{
	if (g->cg_shape == CG_CIRCLE)
		return g->cg_radius > 0 ? zone_init_circle(z, g->cg_lat[0],
		    g->cg_lon[0], g->cg_radius) : -1;
	return zone_init_polygon(z, g->cg_lat, g->cg_lon, g->cg_n);
}

/* Diameter of a circle, longest chord between two vertices of a polygon. */
static double
check_extent(const struct check_gate *g)
{
	double	d, best = 0.0;
	size_t	i, j;

	if (g->cg_shape == CG_CIRCLE)
		return 2.0 * g->cg_radius;
	for (i = 0; i < g->cg_n; i++)
		for (j = i + 1; j < g->cg_n; j++)
			if ((d = check_dist(g->cg_xy[i], g->cg_xy[j])) > best)
				best = d;
	return best;
}

/* Geometry of each gate on its own: sizes against the fix spacing. */
static void
check_gate_alone(struct check *c, struct check_gate *g)
{
	double	len, ext, fixes;

	if (g->cg_shape == CG_BAD) {
		check_finding(c, SEV_ERROR, "gate", g->cg_id, "%s gate geometry "
		    "is unusable: the evaluator skips it", g->cg_kind);
		return;
	}
	if (strcmp(g->cg_kind, "start") == 0 || strcmp(g->cg_kind, "split") ==
	    0 || strcmp(g->cg_kind, "finish") == 0) {
		if (g->cg_shape != CG_LINE) {
			check_finding(c, SEV_ERROR, "gate", g->cg_id, "%s gate "
			    "is not a line: the evaluator skips it", g->cg_kind);
			return;
		}
		len = check_dist(g->cg_xy[0], g->cg_xy[1]) + 2.0 * g->cg_margin;
		if (len < RACE_MIN_GATE_M)
			check_finding(c, SEV_ERROR, "gate", g->cg_id, "%s line "
			    "is %.1f m long, shorter than %.0f m: the evaluator "
			    "skips it", g->cg_kind, len, RACE_MIN_GATE_M);
		else if (len < c->c_step_m)
			check_finding(c, SEV_WARNING, "gate", g->cg_id, "%s line "
			    "is %.1f m long, shorter than the %.1f m a car "
			    "covers between two fixes at %g km/h and %g Hz",
			    g->cg_kind, len, c->c_step_m, c->c_top_kmh,
			    c->c_rate_hz);
	} else if (strcmp(g->cg_kind, "waypoint") == 0) {
		if (g->cg_shape != CG_CIRCLE || !(g->cg_clear > 0)) {
			check_finding(c, SEV_ERROR, "gate", g->cg_id, "waypoint "
			    "needs a circle with clear_radius_m > 0: the "
			    "evaluator skips it");
			return;
		}
		if (2.0 * g->cg_clear < c->c_step_m)
			check_finding(c, SEV_WARNING, "gate", g->cg_id, "waypoint "
			    "clear radius %.1f m: at %g km/h and %g Hz a car "
			    "covers %.1f m between two fixes and can pass "
			    "through it without a fix inside (validated only by "
			    "the path test)", g->cg_clear, c->c_top_kmh,
			    c->c_rate_hz, c->c_step_m);
	} else if (strcmp(g->cg_kind, "speed_zone") == 0) {
		if (g->cg_shape == CG_LINE || !(g->cg_limit > 0) ||
		    (g->cg_shape == CG_CIRCLE && !(g->cg_radius > 0))) {
			check_finding(c, SEV_ERROR, "gate", g->cg_id, "speed zone "
			    "needs a circle or polygon and a speed limit: the "
			    "evaluator skips it");
			return;
		}
		ext = check_extent(g);
		fixes = ext / (g->cg_limit / 3.6 / c->c_rate_hz);
		if (fixes < CHECK_ZONE_FIXES)
			check_finding(c, SEV_WARNING, "gate", g->cg_id, "speed "
			    "zone is %.0f m across: at its %g km/h limit and "
			    "%g Hz that is %.1f fixes, fewer than %.0f",
			    ext, g->cg_limit, c->c_rate_hz, fixes,
			    CHECK_ZONE_FIXES);
	}
}

/* Distance along the polyline t of the point nearest to p. */
static double
check_along(const struct geo_xy *t, size_t n, struct geo_xy p)
{
	double	best = INFINITY, at = 0.0, s = 0.0, d, f, len;
	size_t	i;

	for (i = 0; i + 1 < n; i++) {
		len = check_dist(t[i], t[i + 1]);
		d = geo_seg_closest(t[i], t[i + 1], p, &f);
		if (d < best) {
			best = d;
			at = s + f * len;
		}
		s += len;
	}
	return at;
}

/*
 * Start first, finish last, one of each; splits in course order, the
 * course being the polyline start -> waypoints (gate_order) -> finish.
 */
static void
check_order(struct check *c, struct check_gate *g, size_t n)
{
	const struct check_gate	*start = NULL, *finish = NULL, *prev = NULL;
	struct geo_xy		*track;
	double			 s, prev_s = 0.0;
	size_t			 i, nt = 0;

	for (i = 0; i < n; i++) {
		if (g[i].cg_shape != CG_LINE)
			continue;
		if (strcmp(g[i].cg_kind, "start") == 0) {
			if (start != NULL)
				check_finding(c, SEV_ERROR, "gate", g[i].cg_id,
				    "a second start line (the first is gate "
				    "%" PRId64 ")", start->cg_id);
			else
				start = &g[i];
		} else if (strcmp(g[i].cg_kind, "finish") == 0) {
			if (finish != NULL)
				check_finding(c, SEV_ERROR, "gate", g[i].cg_id,
				    "a second finish line (the first is gate "
				    "%" PRId64 ")", finish->cg_id);
			else
				finish = &g[i];
		}
	}
	if (start == NULL)
		check_finding(c, SEV_ERROR, NULL, 0, "the stage has no start "
		    "line");
	if (finish == NULL)
		check_finding(c, SEV_ERROR, NULL, 0, "the stage has no finish "
		    "line");
	for (i = 0; i < n; i++) {
		if (start != NULL && g[i].cg_order < start->cg_order)
			check_finding(c, SEV_ERROR, "gate", g[i].cg_id, "%s gate "
			    "(gate_order %d) comes before the start (gate_order "
			    "%d)", g[i].cg_kind, g[i].cg_order, start->cg_order);
		if (finish != NULL && g[i].cg_order > finish->cg_order)
			check_finding(c, SEV_ERROR, "gate", g[i].cg_id, "%s gate "
			    "(gate_order %d) comes after the finish (gate_order "
			    "%d)", g[i].cg_kind, g[i].cg_order, finish->cg_order);
	}
	if (start == NULL || finish == NULL ||
	    (track = calloc(n, sizeof(*track))) == NULL)
		return;
	track[nt++] = check_ref(start);
	for (i = 0; i < n; i++)
		if (strcmp(g[i].cg_kind, "waypoint") == 0 &&
		    g[i].cg_shape == CG_CIRCLE &&
		    g[i].cg_order > start->cg_order &&
		    g[i].cg_order < finish->cg_order)
			track[nt++] = g[i].cg_xy[0];
	track[nt++] = check_ref(finish);
	for (i = 0; i < n; i++) {
		if (strcmp(g[i].cg_kind, "split") != 0 ||
		    g[i].cg_shape != CG_LINE)
			continue;
		s = check_along(track, nt, check_ref(&g[i]));
		if (prev != NULL && s < prev_s)
			check_finding(c, SEV_ERROR, "gate", g[i].cg_id, "split "
			    "(gate_order %d) lies %.0f m along the course, "
			    "before split %" PRId64 " (gate_order %d) at %.0f m",
			    g[i].cg_order, s, prev->cg_id, prev->cg_order,
			    prev_s);
		else {
			prev = &g[i];
			prev_s = s;
		}
	}
	free(track);
}

/* Boundary points of a zone, in degrees. */
static size_t
check_boundary(const struct check_gate *g, const struct geo_plane *pl,
    double *lat, double *lon)
{
	struct geo_xy	p;
	size_t		i, n = 0;
	double		a;

	if (g->cg_shape == CG_CIRCLE) {
		for (i = 0; i < CHECK_CIRCLE_SAMPLES; i++) {
			a = 2.0 * M_PI * (double)i / CHECK_CIRCLE_SAMPLES;
			p.xy_x = g->cg_xy[0].xy_x + g->cg_radius * cos(a);
			p.xy_y = g->cg_xy[0].xy_y + g->cg_radius * sin(a);
			geo_unproject(pl, &p, &lat[n], &lon[n]);
			n++;
		}
		return n;
	}
	for (i = 0; i < g->cg_n; i++) {
		lat[n] = g->cg_lat[i];
		lon[n++] = g->cg_lon[i];
		lat[n] = (g->cg_lat[i] + g->cg_lat[(i + 1) % g->cg_n]) / 2.0;
		lon[n++] = (g->cg_lon[i] + g->cg_lon[(i + 1) % g->cg_n]) / 2.0;
	}
	return n;
}

/* Does a boundary point of one zone lie in the other (either way)? */
static int
check_zones_overlap(const struct check_gate *a, const struct check_gate *b,
    const struct geo_plane *pl)
{
	const struct check_gate	*x[2] = { a, b };
	double			 lat[2 * CHECK_RING_MAX], lon[2 * CHECK_RING_MAX];
	struct zone		 z;
	size_t			 i, k, n;

	for (k = 0; k < 2; k++) {
		if (check_zone(x[1 - k], &z) == -1)
			return 0;
		n = check_boundary(x[k], pl, lat, lon);
		for (i = 0; i < n; i++)
			if (zone_contains(&z, lat[i], lon[i]))
				return 1;
	}
	return 0;
}

static void
check_overlaps(struct check *c, struct check_gate *g, size_t n,
    const struct geo_plane *pl)
{
	double	ta, tb;
	size_t	i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++) {
			if (g[i].cg_shape == CG_BAD || g[j].cg_shape == CG_BAD)
				continue;
			if (g[i].cg_shape == CG_LINE && g[j].cg_shape ==
			    CG_LINE && strcmp(g[i].cg_kind, "speed_zone") &&
			    geo_seg_intersect(g[i].cg_xy[0], g[i].cg_xy[1],
			    g[j].cg_xy[0], g[j].cg_xy[1], &ta, &tb) !=
			    GEO_X_NONE)
				check_finding(c, SEV_ERROR, "gate", g[i].cg_id,
				    "%s line crosses the %s line of gate "
				    "%" PRId64, g[i].cg_kind, g[j].cg_kind,
				    g[j].cg_id);
			else if (strcmp(g[i].cg_kind, "waypoint") == 0 &&
			    strcmp(g[j].cg_kind, "waypoint") == 0 &&
			    g[i].cg_clear > 0 && g[j].cg_clear > 0 &&
			    check_dist(g[i].cg_xy[0], g[j].cg_xy[0]) <
			    g[i].cg_clear + g[j].cg_clear)
				check_finding(c, SEV_WARNING, "gate", g[i].cg_id,
				    "waypoint clear circle overlaps that of "
				    "gate %" PRId64, g[j].cg_id);
			else if (strcmp(g[i].cg_kind, "speed_zone") == 0 &&
			    strcmp(g[j].cg_kind, "speed_zone") == 0 &&
			    g[i].cg_shape != CG_LINE && g[j].cg_shape !=
			    CG_LINE && check_zones_overlap(&g[i], &g[j], pl))
				check_finding(c, SEV_WARNING, "gate", g[i].cg_id,
				    "speed zone overlaps speed zone gate "
				    "%" PRId64, g[j].cg_id);
		}
}

static void
check_stage(struct check *c, struct check_gate *g, size_t n)
{
	struct geo_plane	pl;
	size_t			i, k;

	if (n == 0) {
		check_finding(c, SEV_ERROR, NULL, 0, "the stage has no gates");
		return;
	}
	for (i = 0; i < n && g[i].cg_shape == CG_BAD; i++)
		;
	if (i == n || geo_plane_init(&pl, g[i].cg_lat[0], g[i].cg_lon[0]) ==
	    -1)
		memset(&pl, 0, sizeof(pl));
	for (i = 0; i < n; i++)
		for (k = 0; g[i].cg_shape != CG_BAD && k < g[i].cg_n; k++)
			if (geo_project(&pl, g[i].cg_lat[k], g[i].cg_lon[k],
			    &g[i].cg_xy[k]) == -1)
				g[i].cg_shape = CG_BAD;
	for (i = 0; i < n; i++)
		check_gate_alone(c, &g[i]);
	check_order(c, g, n);
	check_overlaps(c, g, n, &pl);
}

static const char check_event_sql[] =
	"SELECT id FROM events WHERE code = $1 UNION ALL "
	"SELECT id FROM events WHERE $1 ~ '^[0-9]{1,18}$' AND id = $1::int8 "
	"AND NOT EXISTS (SELECT 1 FROM events WHERE code = $1) LIMIT 1";

static const char check_gates_sql[] =
	"SELECT s.stage_order, g.id, g.kind, g.gate_order, g.geometry::text, "
	"coalesce(g.speed_limit_kmh::text, '') "
	"FROM stages s LEFT JOIN gates g ON g.stage_id = s.id "
	"WHERE s.event_id = $1 AND s.status <> 'cancelled' "
	"ORDER BY s.stage_order, g.gate_order";

static int
check_stages(PGconn *conn, struct check *c, const char *event)
{
	struct check_gate	*g;
	PGresult		*res;
	int			 i, n, from;

	if ((res = check_query(conn, check_gates_sql, event, "reading gates")) ==
	    NULL)
		return -1;
	n = PQntuples(res);
	if ((g = calloc((size_t)n + 1, sizeof(*g))) == NULL) {
		PQclear(res);
		fprintf(stderr, "processor: out of memory\n");
		return -1;
	}
	for (from = 0; from < n; from = i) {
		int	order = atoi(PQgetvalue(res, from, 0)), m = 0;

		for (i = from; i < n && atoi(PQgetvalue(res, i, 0)) == order;
		    i++) {
			if (PQgetisnull(res, i, 1))
				continue;	/* a stage without gates */
			memset(&g[m], 0, sizeof(g[m]));
			g[m].cg_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			snprintf(g[m].cg_kind, sizeof(g[m].cg_kind), "%s",
			    PQgetvalue(res, i, 2));
			g[m].cg_order = atoi(PQgetvalue(res, i, 3));
			g[m].cg_limit = strtod(PQgetvalue(res, i, 5), NULL);
			check_shape(&g[m], PQgetvalue(res, i, 4));
			m++;
		}
		c->c_stage = order;
		check_stage(c, g, (size_t)m);
	}
	c->c_stage = 0;
	free(g);
	PQclear(res);
	return 0;
}

static const char check_entries_sql[] =
	"SELECT e.id, e.car_number, e.device_id, "
	"coalesce((SELECT string_agg(format('entry %s (car %s, event %s)', "
	"o.id, o.car_number, v.code), ', ' ORDER BY o.id) FROM entries o "
	"JOIN events v ON v.id = o.event_id WHERE o.device_id = e.device_id "
	"AND o.id <> e.id AND v.status NOT IN ('finished', 'cancelled')), ''), ";
static const char check_entries_tail[] =
	" FROM entries e WHERE e.event_id = $1 ORDER BY e.id";

/* last fix of the device: recent ('t'), and when */
static const char check_fix_cols[] =
	"coalesce((SELECT max(p.ts) FROM positions p WHERE p.device_id = "
	"e.device_id) > now() - make_interval(secs => 3600), false), "
	"coalesce((SELECT to_char(max(p.ts) AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM positions p "
	"WHERE p.device_id = e.device_id), 'never')";

static int
check_entries(PGconn *conn, struct check *c, const char *event)
{
	PGresult	*res;
	char		 sql[2048];
	int		 i, positions;
	const char	*dev;

	if ((res = check_query(conn, "SELECT to_regclass('public.positions') "
	    "IS NOT NULL", NULL, "looking for positions")) == NULL)
		return -1;
	positions = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	snprintf(sql, sizeof(sql), "%s%s%s", check_entries_sql, positions ?
	    check_fix_cols : "true, ''", check_entries_tail);
	if ((res = check_query(conn, sql, event, "reading entries")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		int64_t	id = strtoll(PQgetvalue(res, i, 0), NULL, 10);

		dev = PQgetvalue(res, i, 2);
		if (dev[strspn(dev, " \t")] == '\0') {
			check_finding(c, SEV_ERROR, "entry", id, "car %s has no "
			    "device", PQgetvalue(res, i, 1));
			continue;
		}
		if (*PQgetvalue(res, i, 3) != '\0')
			check_finding(c, SEV_ERROR, "entry", id, "car %s: device "
			    "%s is also that of %s", PQgetvalue(res, i, 1), dev,
			    PQgetvalue(res, i, 3));
		if (strcmp(PQgetvalue(res, i, 4), "t") != 0)
			check_finding(c, SEV_WARNING, "entry", id, "car %s: "
			    "device %s reported no fix in the last hour (last: "
			    "%s)", PQgetvalue(res, i, 1), dev,
			    PQgetvalue(res, i, 5));
	}
	if (!positions)
		check_finding(c, SEV_WARNING, NULL, 0, "no positions table: "
		    "devices not checked for recent fixes");
	PQclear(res);
	return 0;
}

int
race_check_main(const struct config *cf, int argc, char **argv)
{
	struct check	 c;
	PGconn		*conn;
	PGresult	*res;
	char		 event[24];
	int		 rc = RACE_EXIT_TEMPFAIL;

	if (check_args(argc, argv, &c) == -1) {
		check_usage(stderr);
		return RACE_EXIT_USAGE;
	}
	/* connect_timeout and statement_timeout: never wait forever */
	if ((conn = race_cli_connect(cf, "check")) == NULL)
		return RACE_EXIT_TEMPFAIL;
	/* One snapshot for every query. */
	PQclear(PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
	if ((res = check_query(conn, check_event_sql, c.c_event,
	    "reading events")) == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		fprintf(stderr, "processor: no event with code (or id) %s\n",
		    c.c_event);
		PQclear(res);
		rc = RACE_EXIT_DATAERR;
		goto out;
	}
	snprintf(event, sizeof(event), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (check_stages(conn, &c, event) == -1 ||
	    check_entries(conn, &c, event) == -1)
		goto out;
	fflush(stdout);
	fprintf(stderr, "processor: check of event %s: %d errors, %d warnings "
	    "(top speed %g km/h, %g Hz: %.1f m between fixes)\n", c.c_event,
	    c.c_errors, c.c_warnings, c.c_top_kmh, c.c_rate_hz, c.c_step_m);
	rc = c.c_errors ? CHECK_EXIT_ERRORS : c.c_warnings ?
	    CHECK_EXIT_WARNINGS : RACE_EXIT_OK;
out:
	PQfinish(conn);
	return rc;
}
