/* Safety alerts on a running stage: stopped on stage, silent in stage. */
#include "autoconf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "domain/geo.h"
#include "race/race_alert.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_pg.h"


static double	race_stopped_kmh = 5.0;
static int64_t	race_stopped_us = INT64_C(60000000);
static int	race_silent_s = 60;

void
race_alert_setup(int stopped_kmh, int stopped_s, int silent_s)
{
	race_stopped_kmh = stopped_kmh;
	race_stopped_us = (int64_t)stopped_s * 1000000;
	race_silent_s = silent_s;
}

/* km/h at fix i: its own speed, else from the previous fix. */
static double
race_alert_kmh(const struct fix *f, size_t i)
{
	double	dt;

	if (f[i].f_flags & FIX_HAS_SPEED)
		return f[i].f_speed;
	if (i == 0 || (dt = (f[i].f_ts_us - f[i - 1].f_ts_us) / 1e6) <= 0.0)
		return 0.0;
	return geo_haversine(f[i - 1].f_lat, f[i - 1].f_lon, f[i].f_lat,
	    f[i].f_lon) / dt * 3.6;
}

/* Metres from (lat, lon) to the nearest start or finish line. */
static double
race_alert_line_m(const struct race_stage *rs, double lat, double lon)
{
	const struct stage_gate	*sg;
	struct geo_xy		 p;
	double			 t, d, best = INFINITY;
	int			 k;

	for (k = 0; k < rs->rs_stage.st_ngate; k++) {
		sg = &rs->rs_stage.st_gate[k];
		if (sg->sg_kind != SG_START && sg->sg_kind != SG_FINISH)
			continue;
		if (geo_project(&sg->sg_gate.g_plane, lat, lon, &p) == -1)
			continue;	/* very far away */
		d = geo_seg_closest(sg->sg_gate.g_a, sg->sg_gate.g_b, p, &t);
		if (d < best)
			best = d;
	}
	return best;
}

static void
race_alert_ts(char *s, size_t len, int64_t us)
{
	snprintf(s, len, "%" PRId64, us);
}

int
race_alert_input(const struct race_stage *rs, const struct race_rules *ru,
    struct race_alert_in *in)
{
	const struct stage_result	*sr = &ru->ru_res;
	const struct fix		*f = ru->ru_fix;
	size_t				 i, n = ru->ru_nfix;

	memset(in, 0, sizeof(*in));
	if (n == 0)
		return 0;
	in->ai_running = sr->sr_status == STATUS_RUNNING && sr->sr_start_us != 0;
	in->ai_slow = race_alert_kmh(f, n - 1) < race_stopped_kmh;
	in->ai_last_us = f[n - 1].f_ts_us;
	in->ai_lat = f[n - 1].f_lat;
	in->ai_lon = f[n - 1].f_lon;
	if (in->ai_running && in->ai_slow) {
		/* the newest run of slow fixes, after the start */
		for (i = n - 1; i > 0 && f[i - 1].f_ts_us >= sr->sr_start_us &&
		    race_alert_kmh(f, i - 1) < race_stopped_kmh; i--)
			;
		if (f[n - 1].f_ts_us - f[i].f_ts_us >= race_stopped_us &&
		    race_alert_line_m(rs, f[n - 1].f_lat, f[n - 1].f_lon) >
		    RACE_ALERT_LINE_M) {
			in->ai_stopped = 1;
			in->ai_since_us = f[i].f_ts_us;
		}
	}
	return 1;
}

int
race_alert_stage(PGconn *conn, int64_t entry, const struct race_stage *rs,
    const char *device, const struct race_rules *ru, char *err, size_t errlen)
{
	struct race_alert_in		 in;
	char				 e[24], s[24], last[24], since[24];
	char				 lat[32], lon[32];
	const char			*params[9] = { e, s, device, NULL, last,
					    NULL, NULL, lat, lon };
	PGresult			*res;
	int				 rc;

	if (race_alert_input(rs, ru, &in) == 0)
		return 0;
	snprintf(e, sizeof(e), "%" PRId64, entry);
	snprintf(s, sizeof(s), "%" PRId64, rs->rs_id);
	race_alert_ts(last, sizeof(last), in.ai_last_us);
	snprintf(lat, sizeof(lat), "%.7f", in.ai_lat);
	snprintf(lon, sizeof(lon), "%.7f", in.ai_lon);
	params[3] = in.ai_running ? "t" : "f";
	params[6] = in.ai_slow ? "t" : "f";
	if (in.ai_stopped) {
		race_alert_ts(since, sizeof(since), in.ai_since_us);
		params[5] = since;
	}
	res = PQexecParams(conn, "SELECT processor_race_alerts($1, $2, $3, $4, "
	    "'epoch'::timestamptz + $5::int8 * interval '1 microsecond', "
	    "'epoch'::timestamptz + $6::int8 * interval '1 microsecond', $7, $8, "
	    "$9)", 9, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return race_pg_fail(res, conn, "alerts", err, errlen);
	rc = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int
race_alert_scan(PGconn *conn, const struct race_event *ev, int64_t now_us,
    char *err, size_t errlen)
{
	const struct race_stage	*rs;
	struct buf		 stages;
	char			 secs[16];
	const char		*params[2] = { secs, NULL };
	PGresult		*res;
	size_t			 i;
	int			 n = 0, rc;

	buf_init(&stages);
	buf_puts(&stages, "{");
	for (i = 0; i < ev->ev_nstages; i++) {
		rs = &ev->ev_stages[i];
		if (rs->rs_closes_us != 0 && rs->rs_closes_us < now_us)
			continue;	/* closed: no car is running there */
		buf_printf(&stages, "%s%" PRId64, n++ ? "," : "", rs->rs_id);
	}
	buf_puts(&stages, "}");
	if (n == 0 || (params[1] = buf_cstr(&stages)) == NULL) {
		buf_free(&stages);
		return 0;
	}
	snprintf(secs, sizeof(secs), "%d", race_silent_s);
	res = PQexecParams(conn, "SELECT processor_race_silent($1, $2)", 2, NULL,
	    params, NULL, NULL, 0);
	buf_free(&stages);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return race_pg_fail(res, conn, "scanning for silent cars", err,
		    errlen);
	rc = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
