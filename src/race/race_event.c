/* The events being timed, read from the contract tables and checked row by row. */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/log.h"
#include "race/race_event.h"

static const char race_contract_sql[] =
	"SELECT to_regclass('public.events') IS NOT NULL "
	"AND to_regclass('public.stages') IS NOT NULL "
	"AND to_regclass('public.gates') IS NOT NULL "
	"AND to_regclass('public.entries') IS NOT NULL "
	"AND to_regclass('public.timing_records') IS NOT NULL "
	"AND to_regclass('public.stage_results') IS NOT NULL";

static const char race_stages_sql[] =
	"SELECT s.id, s.event_id, s.name, "
	"coalesce((extract(epoch FROM s.opens_at) * 1000000)::int8, 0), "
	"coalesce((extract(epoch FROM s.closes_at) * 1000000)::int8, 0), s.laps "
	"FROM stages s JOIN events e ON e.id = s.event_id "
	"WHERE e.status <> 'cancelled' AND (s.status IN ('open', 'running') OR "
	"(s.status = 'closed' AND (s.closes_at IS NULL OR "
	"s.closes_at > now() - make_interval(secs => $1::int)))) "
	"ORDER BY s.id";

static const char race_gates_sql[] =
	"SELECT g.id, g.stage_id, g.kind, g.geometry::text, g.direction, "
	"g.speed_limit_kmh, coalesce(g.penalty_rule::text, '') "
	"FROM gates g WHERE g.stage_id = ANY($1::int8[]) "
	"ORDER BY g.stage_id, g.gate_order";

static const char race_entries_sql[] =
	"SELECT id, event_id, car_number, device_id FROM entries "
	"WHERE event_id = ANY($1::int8[]) ORDER BY device_id, id";

/* One gate row as the query returns it. */
struct race_gate_row {
	int64_t		 gr_id;
	const char	*gr_kind;
	const char	*gr_geometry;
	const char	*gr_direction;
	const char	*gr_limit;	/* "" when NULL */
	const char	*gr_rule;	/* "" when NULL */
};

int
race_json_point(const json_t *a, double *lat, double *lon)
{
	if (!json_is_array(a) || json_array_size(a) != 2 ||
	    !json_is_number(json_array_get(a, 0)) ||
	    !json_is_number(json_array_get(a, 1)))
		return -1;
	*lat = json_number_value(json_array_get(a, 0));
	*lon = json_number_value(json_array_get(a, 1));
	return 0;
}

double
race_json_num(const json_t *o, const char *key, double dflt)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static int
race_direction(const char *s)
{
	if (strcmp(s, "left_to_right") == 0)
		return GATE_DIR_LR;
	if (strcmp(s, "right_to_left") == 0)
		return GATE_DIR_RL;
	return GATE_DIR_ANY;
}

static int
race_add_line(struct race_stage *rs, const struct race_gate_row *g, int kind,
    const json_t *geo, const char **why)
{
	struct stage_gate	*sg;
	double			 alat, alon, blat, blon;

	if (rs->rs_stage.st_ngate == STAGE_MAX_GATES) {
		*why = "too many line gates in the stage";
		return -1;
	}
	if (strcmp(json_string_value(json_object_get(geo, "type")) ?
	    json_string_value(json_object_get(geo, "type")) : "", "line") != 0 ||
	    race_json_point(json_object_get(geo, "a"), &alat, &alon) == -1 ||
	    race_json_point(json_object_get(geo, "b"), &blat, &blon) == -1) {
		*why = "a line gate needs {\"type\":\"line\",\"a\":[lat,lon],"
		    "\"b\":[lat,lon]}";
		return -1;
	}
	sg = &rs->rs_stage.st_gate[rs->rs_stage.st_ngate];
	if (gate_init(&sg->sg_gate, alat, alon, blat, blon,
	    race_direction(g->gr_direction),
	    race_json_num(geo, "margin_m", 0.0)) == -1) {
		*why = "endpoints out of range or identical";
		return -1;
	}
	if (sg->sg_gate.g_len < RACE_MIN_GATE_M) {
		*why = "line shorter than 3 m";
		return -1;
	}
	sg->sg_kind = kind;
	rs->rs_gate_id[rs->rs_stage.st_ngate++] = g->gr_id;
	return 0;
}

static int
race_add_waypoint(struct race_stage *rs, const struct race_gate_row *g,
    const json_t *geo, const char **why)
{
	double	lat, lon, clear, open;

	clear = race_json_num(geo, "clear_radius_m", -1.0);
	open = race_json_num(geo, "open_radius_m", clear);
	if (race_json_point(json_object_get(geo, "center"), &lat, &lon) == -1) {
		*why = "a waypoint needs a circle centre [lat,lon]";
		return -1;
	}
	if (!(clear > 0.0) || open < clear) {
		*why = "a waypoint needs clear_radius_m > 0 and open_radius_m >= it";
		return -1;
	}
	if (rs->rs_stage.st_nwp == STAGE_MAX_WP ||
	    stage_add_waypoint(&rs->rs_stage, lat, lon, open, clear) == -1) {
		*why = "centre out of range, or too many waypoints";
		return -1;
	}
	rs->rs_wp_id[rs->rs_stage.st_nwp - 1] = g->gr_id;
	return 0;
}

static int
race_zone_geometry(const json_t *geo, struct zone *z, const char **why)
{
	const char	*type = json_string_value(json_object_get(geo, "type"));
	const json_t	*ring;
	double		 lat[ZONE_RING_MAX], lon[ZONE_RING_MAX], clat, clon;
	size_t		 i, n;

	if (type != NULL && strcmp(type, "circle") == 0) {
		if (race_json_point(json_object_get(geo, "center"), &clat,
		    &clon) == -1 || !(race_json_num(geo, "radius_m", -1) > 0) ||
		    zone_init_circle(z, clat, clon,
		    race_json_num(geo, "radius_m", -1)) == -1) {
			*why = "a circle zone needs a centre and radius_m > 0";
			return -1;
		}
		return 0;
	}
	ring = json_object_get(geo, "ring");
	if (type == NULL || strcmp(type, "polygon") != 0 ||
	    !json_is_array(ring) || (n = json_array_size(ring)) < 3 ||
	    n > ZONE_RING_MAX) {
		*why = "a zone needs a circle, or a polygon ring of 3 to 64 points";
		return -1;
	}
	for (i = 0; i < n; i++)
		if (race_json_point(json_array_get(ring, i), &lat[i],
		    &lon[i]) == -1) {
			*why = "a polygon point is not [lat,lon]";
			return -1;
		}
	if (zone_init_polygon(z, lat, lon, n) == -1) {
		*why = "the polygon is degenerate or out of range";
		return -1;
	}
	return 0;
}

static int
race_penalty_rule(const char *text, struct penalty_rule *pr, const char **why)
{
	json_error_t	 jerr;
	json_t		*o;
	const char	*kind;
	int		 rc = 0;

	memset(pr, 0, sizeof(*pr));
	if (*text == '\0')
		return 0;	/* no rule: evidence without a penalty */
	if ((o = json_loads(text, 0, &jerr)) == NULL)
		return -1;
	kind = json_string_value(json_object_get(o, "kind"));
	pr->pr_factor = race_json_num(o, "factor", 0.0);
	pr->pr_tolerance_kmh = race_json_num(o, "tolerance_kmh", 0.0);
	pr->pr_band_kmh = race_json_num(o, "band_kmh", 0.0);
	pr->pr_band_s = race_json_num(o, "band_s", 0.0);
	if (kind != NULL && strcmp(kind, "time_gained") == 0)
		pr->pr_kind = PEN_TIME_GAINED;
	else if (kind != NULL && strcmp(kind, "banded") == 0 &&
	    pr->pr_band_kmh > 0)
		pr->pr_kind = PEN_BANDED;
	else if (kind != NULL && strcmp(kind, "zone_average") == 0)
		pr->pr_kind = PEN_ZONE_AVERAGE;
	else {
		*why = "penalty_rule kind is not time_gained, banded (with "
		    "band_kmh > 0) or zone_average";
		rc = -1;
	}
	json_decref(o);
	return rc;
}

static int
race_add_speed_zone(struct race_stage *rs, const struct race_gate_row *g,
    const json_t *geo, const char **why)
{
	struct penalty_rule	pr;
	struct zone		z;
	double			limit;

	limit = *g->gr_limit ? strtod(g->gr_limit, NULL) : 0.0;
	if (!(limit > 0.0)) {
		*why = "a speed zone needs speed_limit_kmh";
		return -1;
	}
	if (race_zone_geometry(geo, &z, why) == -1)
		return -1;
	*why = "penalty_rule is not valid JSON";
	if (race_penalty_rule(g->gr_rule, &pr, why) == -1)
		return -1;
	if (stage_add_zone(&rs->rs_stage, &z, limit, &pr) == -1) {
		*why = "too many speed zones in the stage";
		return -1;
	}
	rs->rs_zone_id[rs->rs_stage.st_nzone - 1] = g->gr_id;
	snprintf(rs->rs_zone_rule[rs->rs_stage.st_nzone - 1], RACE_RULE_MAX,
	    "%s", *g->gr_rule ? g->gr_rule : "null");
	return 0;
}

/* Add one gate row to its stage; -1 with why when it cannot be timed. */
static int
race_add_gate(struct race_stage *rs, const struct race_gate_row *g,
    const char **why)
{
	json_error_t	 jerr;
	json_t		*geo;
	int		 rc;

	if ((geo = json_loads(g->gr_geometry, 0, &jerr)) == NULL) {
		*why = "geometry is not JSON";
		return -1;
	}
	if (strcmp(g->gr_kind, "start") == 0)
		rc = race_add_line(rs, g, SG_START, geo, why);
	else if (strcmp(g->gr_kind, "split") == 0)
		rc = race_add_line(rs, g, SG_SPLIT, geo, why);
	else if (strcmp(g->gr_kind, "finish") == 0)
		rc = race_add_line(rs, g, SG_FINISH, geo, why);
	else if (strcmp(g->gr_kind, "waypoint") == 0)
		rc = race_add_waypoint(rs, g, geo, why);
	else if (strcmp(g->gr_kind, "speed_zone") == 0)
		rc = race_add_speed_zone(rs, g, geo, why);
	else {
		*why = "kind zone is not timed (use waypoint or speed_zone)";
		rc = -1;
	}
	json_decref(geo);
	return rc;
}

static int
race_result_ok(PGresult *res, ExecStatusType want, const char *what, char *err,
    size_t errlen)
{
	if (PQresultStatus(res) == want)
		return 0;
	snprintf(err, errlen, "%s: %.*s", what,
	    (int)strcspn(PQresultErrorMessage(res), "\n"),
	    PQresultErrorMessage(res));
	return -1;
}

static int64_t
race_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int
race_load_stages(PGconn *conn, int late_window_s, struct race_event *ev,
    char *err, size_t errlen)
{
	const char	*params[1];
	char		 late[16];
	PGresult	*res;
	int		 i, n;

	snprintf(late, sizeof(late), "%d", late_window_s);
	params[0] = late;
	res = PQexecParams(conn, race_stages_sql, 1, NULL, params, NULL, NULL, 0);
	if (race_result_ok(res, PGRES_TUPLES_OK, "reading stages", err,
	    errlen) == -1) {
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	if (n > 0 && (ev->ev_stages = calloc((size_t)n,
	    sizeof(*ev->ev_stages))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct race_stage *rs = &ev->ev_stages[i];

		stage_init(&rs->rs_stage);
		rs->rs_id = race_int(res, i, 0);
		rs->rs_event = race_int(res, i, 1);
		snprintf(rs->rs_name, sizeof(rs->rs_name), "%s",
		    PQgetvalue(res, i, 2));
		rs->rs_opens_us = race_int(res, i, 3);
		rs->rs_closes_us = race_int(res, i, 4);
		rs->rs_stage.st_close_us = rs->rs_closes_us;
		rs->rs_stage.st_laps = (int)race_int(res, i, 5);
	}
	ev->ev_nstages = (size_t)n;
	PQclear(res);
	return 0;
}

/* "{1,2,3}": the ids of the loaded stages (or their events). */
static int
race_id_array(struct buf *b, const struct race_event *ev, int events)
{
	size_t	i;

	buf_putc(b, '{');
	for (i = 0; i < ev->ev_nstages; i++)
		buf_printf(b, "%s%" PRId64, i ? "," : "", events ?
		    ev->ev_stages[i].rs_event : ev->ev_stages[i].rs_id);
	buf_putc(b, '}');
	return buf_cstr(b) == NULL ? -1 : 0;
}

static struct race_stage *
race_stage_by_id(struct race_event *ev, int64_t id)
{
	size_t	i;

	for (i = 0; i < ev->ev_nstages; i++)
		if (ev->ev_stages[i].rs_id == id)
			return &ev->ev_stages[i];
	return NULL;
}

static void
race_gate_skipped(struct race_event *ev, const struct race_stage *rs,
    const struct race_gate_row *g, const char *why)
{
	struct log_fields	f;

	log_fields_init(&f);
	log_fields_int(&f, "gate_id", g->gr_id);
	log_fields_int(&f, "stage_id", rs->rs_id);
	log_fields_str(&f, "reason", why);
	log_emit(LOG_LVL_ERROR, log_fields_get(&f), "gate %" PRId64 " (%s) of "
	    "stage %" PRId64 " is skipped: %s; the rest of the stage is timed",
	    g->gr_id, g->gr_kind, rs->rs_id, why);
	ev->ev_skipped++;
}

static int
race_load_gates(PGconn *conn, struct race_event *ev, char *err, size_t errlen)
{
	struct race_gate_row	 g;
	struct buf		 ids;
	const char		*params[1], *why;
	PGresult		*res;
	int			 i;

	buf_init(&ids);
	if (race_id_array(&ids, ev, 0) == -1) {
		buf_free(&ids);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	params[0] = buf_cstr(&ids);
	res = PQexecParams(conn, race_gates_sql, 1, NULL, params, NULL, NULL, 0);
	buf_free(&ids);
	if (race_result_ok(res, PGRES_TUPLES_OK, "reading gates", err,
	    errlen) == -1) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < PQntuples(res); i++) {
		struct race_stage *rs = race_stage_by_id(ev, race_int(res, i, 1));

		g.gr_id = race_int(res, i, 0);
		g.gr_kind = PQgetvalue(res, i, 2);
		g.gr_geometry = PQgetvalue(res, i, 3);
		g.gr_direction = PQgetvalue(res, i, 4);
		g.gr_limit = PQgetvalue(res, i, 5);
		g.gr_rule = PQgetvalue(res, i, 6);
		why = "unknown";
		if (rs != NULL && race_add_gate(rs, &g, &why) == -1)
			race_gate_skipped(ev, rs, &g, why);
	}
	PQclear(res);
	return 0;
}

static int
race_load_entries(PGconn *conn, struct race_event *ev, char *err,
    size_t errlen)
{
	struct buf	 ids;
	const char	*params[1];
	PGresult	*res;
	int		 i, n;

	buf_init(&ids);
	if (race_id_array(&ids, ev, 1) == -1) {
		buf_free(&ids);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	params[0] = buf_cstr(&ids);
	res = PQexecParams(conn, race_entries_sql, 1, NULL, params, NULL, NULL,
	    0);
	buf_free(&ids);
	if (race_result_ok(res, PGRES_TUPLES_OK, "reading entries", err,
	    errlen) == -1) {
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	if (n > 0 && (ev->ev_entries = calloc((size_t)n,
	    sizeof(*ev->ev_entries))) == NULL) {
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct race_entry *re = &ev->ev_entries[ev->ev_nentries];

		if (PQgetlength(res, i, 3) > RACE_DEVICE_MAX) {
			log_error("entry %s: device id longer than %d bytes; "
			    "skipped", PQgetvalue(res, i, 0), RACE_DEVICE_MAX);
			ev->ev_skipped++;
			continue;
		}
		re->re_id = race_int(res, i, 0);
		re->re_event = race_int(res, i, 1);
		snprintf(re->re_car, sizeof(re->re_car), "%s",
		    PQgetvalue(res, i, 2));
		snprintf(re->re_device, sizeof(re->re_device), "%s",
		    PQgetvalue(res, i, 3));
		ev->ev_nentries++;
	}
	PQclear(res);
	return 0;
}

static int
race_contract(PGconn *conn, int *has, char *err, size_t errlen)
{
	PGresult	*res = PQexec(conn, race_contract_sql);

	if (race_result_ok(res, PGRES_TUPLES_OK, "looking for the contract "
	    "tables", err, errlen) == -1) {
		PQclear(res);
		return -1;
	}
	*has = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

int
race_event_load(PGconn *conn, int late_window_s, struct race_event *out,
    char *err, size_t errlen)
{
	struct race_event	ev;

	memset(&ev, 0, sizeof(ev));
	if (race_contract(conn, &ev.ev_contract, err, errlen) == -1)
		return -1;
	if (ev.ev_contract && (race_load_stages(conn, late_window_s, &ev, err,
	    errlen) == -1 || (ev.ev_nstages > 0 &&
	    (race_load_gates(conn, &ev, err, errlen) == -1 ||
	    race_load_entries(conn, &ev, err, errlen) == -1)))) {
		race_event_free(&ev);
		return -1;
	}
	race_event_free(out);
	*out = ev;
	return 0;
}

void
race_event_free(struct race_event *ev)
{
	free(ev->ev_stages);
	free(ev->ev_entries);
	memset(ev, 0, sizeof(*ev));
}

const struct race_entry *
race_event_entries(const struct race_event *ev, const char *device, size_t *n)
{
	size_t	lo = 0, hi = ev->ev_nentries, mid, first;

	*n = 0;
	while (lo < hi) {	/* the first entry >= device */
		mid = lo + (hi - lo) / 2;
		if (strcmp(ev->ev_entries[mid].re_device, device) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < ev->ev_nentries &&
	    strcmp(ev->ev_entries[lo].re_device, device) == 0)
		lo++;
	*n = lo - first;
	return *n ? &ev->ev_entries[first] : NULL;
}

int
race_event_publish(PGconn *conn, const struct race_event *ev, char *err,
    size_t errlen)
{
	struct buf	 arr;
	const char	*params[1];
	PGresult	*res;
	size_t		 i;
	int		 rc;

	buf_init(&arr);
	buf_putc(&arr, '{');
	for (i = 0; i < ev->ev_nentries; i++) {
		const char *c;

		buf_puts(&arr, i ? ",\"" : "\"");
		for (c = ev->ev_entries[i].re_device; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(&arr, '\\');
			buf_putc(&arr, *c);
		}
		buf_putc(&arr, '"');
	}
	buf_putc(&arr, '}');
	if ((params[0] = buf_cstr(&arr)) == NULL) {
		buf_free(&arr);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	res = PQexecParams(conn, "WITH d AS (DELETE FROM race_devices "
	    "WHERE device_id <> ALL($1::text[])) "
	    "INSERT INTO race_devices SELECT DISTINCT unnest($1::text[]) "
	    "ON CONFLICT DO NOTHING", 1, NULL, params, NULL, NULL, 0);
	buf_free(&arr);
	rc = race_result_ok(res, PGRES_COMMAND_OK, "publishing race_devices",
	    err, errlen);
	PQclear(res);
	return rc;
}
