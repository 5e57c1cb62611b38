/* Stage evaluation on simulated races and synthetic laps: records, results, determinism, live mode. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/position.h"
#include "sim.h"
#include "domain/stage.h"
#include "tap.h"

#define NVEH	40
#define MAXREC	64

static struct sim_cfg	SC;
static struct sim_stage	SS;

/* The domain stage for the simulated one; the off-course waypoint only if asked. */
static void
mkstage(struct stage *st, int offcourse)
{
	struct penalty_rule	pr;
	struct zone		z;
	int			k;

	stage_init(st);
	st->st_cfg.tc_use_hdop = 0;
	st->st_cfg.tc_sigma = SC.sc_sigma;
	for (k = 0; k < SS.st_ngate; k++)
		if (stage_add_gate(st, SS.st_gate[k].sg_kind, SS.st_gate[k].sg_alat,
		    SS.st_gate[k].sg_alon, SS.st_gate[k].sg_blat,
		    SS.st_gate[k].sg_blon, GATE_DIR_LR) == -1)
			bail("stage_add_gate");
	for (k = 0; k < SS.st_nwp - (offcourse ? 0 : 1); k++)
		stage_add_waypoint(st, SS.st_wp[k].sw_lat, SS.st_wp[k].sw_lon,
		    SS.st_wp[k].sw_open, SS.st_wp[k].sw_clear);
	memset(&pr, 0, sizeof(pr));
	pr.pr_kind = PEN_TIME_GAINED;
	pr.pr_factor = 10;
	for (k = 0; k < SS.st_nzone; k++) {
		zone_init_circle(&z, SS.st_zone[k].sz_lat, SS.st_zone[k].sz_lon,
		    SS.st_zone[k].sz_radius);
		stage_add_zone(st, &z, SS.st_zone[k].sz_limit_kmh, &pr);
	}
	st->st_close_us = INT64_MAX - 1;
}

static double
sec(int64_t us)
{
	return (double)(us - SC.sc_t0_us) / 1e6;
}

static int
cmpd(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_fleet(void)
{
	struct stage		st;
	struct sim_vehicle	sv;
	struct timing_record	tr[MAXREC];
	struct stage_result	sr;
	struct zone_visit	zv[4];
	size_t			ntr, i;
	double			el[NVEH], zin[NVEH], zover[NVEH], zavg[NVEH];
	int			v, k, once = 1, fin = 1, finals = 1, wpok = 1;
	int			startlow = 1, nzone = 0, pen = 0, zsum = 1;

	mkstage(&st, 0);
	for (v = 0; v < NVEH; v++) {
		if (sim_vehicle_run(&SS, &SC, v, &sv) == -1)
			bail("sim");
		if (stage_eval(&st, sv.sv_fix, sv.sv_nfix, INT64_MAX, tr, MAXREC,
		    &ntr, &sr) == -1)
			bail("stage_eval");
		once &= ntr == (size_t)SS.st_ngate;
		for (i = 0; i < ntr; i++) {
			once &= tr[i].tr_pass == 1;
			finals &= (tr[i].tr_flags & TR_FINAL) != 0;
			if (st.st_gate[tr[i].tr_gate].sg_kind == SG_START)
				startlow &= (tr[i].tr_flags & TR_LOWCONF) != 0;
		}
		fin &= sr.sr_status == STATUS_FINISHED;
		el[v] = fabs(sec(sr.sr_elapsed_us + SC.sc_t0_us) -
		    (sv.sv_truth.tt_gate[SS.st_ngate - 1] - sv.sv_truth.tt_gate[0]));
		for (k = 0; k < st.st_nwp; k++)
			wpok &= sr.sr_wp[k] == WP_VALIDATED || sr.sr_wp[k] == WP_NO_DATA;
		pen += sr.sr_penalty_s > 0;
		zsum &= sr.sr_zone[0].zv_time_s > 0 && sr.sr_zone_penalty_s[0] ==
		    sr.sr_penalty_s && sr.sr_penalty_s == 10 * sr.sr_zone[0].zv_gained_s;
		if (zone_visits(&st.st_zone[0].sz_zone, sv.sv_fix, sv.sv_nfix,
		    st.st_zone[0].sz_limit_kmh, &st.st_cfg, zv, 4) == 1) {
			zin[nzone] = fabs(sec(zv[0].zv_in_us) - sv.sv_truth.tt_zone_in[0]);
			zover[nzone] = fabs(zv[0].zv_over_s - sv.sv_truth.tt_zone_over_s[0]);
			zavg[nzone++] = fabs(zv[0].zv_avg_kmh - sv.sv_truth.tt_zone_avg_kmh[0]);
		}
		sim_vehicle_free(&sv);
	}
	ok(once, "every gate of every run recorded exactly once, pass 1");
	ok(fin, "every run finished");
	ok(finals, "all records final once the data is complete");
	ok(startlow, "standing starts are low confidence");
	ok(wpok, "on-course waypoints validated (or no data over a gap)");
	qsort(el, NVEH, sizeof(double), cmpd);
	/* standing starts dominate: the car is slow where the noise is */
	ok(el[NVEH * 95 / 100] < 0.4, "elapsed time p95 error %.3f s at sigma 2 m",
	    el[NVEH * 95 / 100]);
	is_int(nzone, NVEH, "one speed-zone visit per run");
	qsort(zin, nzone, sizeof(double), cmpd);
	qsort(zover, nzone, sizeof(double), cmpd);
	qsort(zavg, nzone, sizeof(double), cmpd);
	ok(zin[nzone / 2] < 0.1, "zone entry median error %.3f s", zin[nzone / 2]);
	ok(zover[nzone / 2] < 0.5, "time over limit median error %.3f s",
	    zover[nzone / 2]);
	ok(zavg[nzone / 2] < 1.0, "zone average speed median error %.2f km/h",
	    zavg[nzone / 2]);
	ok(pen > 0 && pen < NVEH, "some runs penalised, not all (%d)", pen);
	ok(zsum, "results carry the zone visit and its penalty (time gained x 10)");
}

static void
test_statuses(void)
{
	struct stage		st;
	struct sim_vehicle	sv;
	struct timing_record	tr[MAXREC], tr2[MAXREC];
	struct stage_result	sr, sr2;
	struct fix		*sh;
	size_t			ntr, ntr2, i, n, cut;
	double			tg;
	int			v, missed = 0;

	mkstage(&st, 1);
	for (v = 0; v < 10; v++) {
		sim_vehicle_run(&SS, &SC, v, &sv);
		stage_eval(&st, sv.sv_fix, sv.sv_nfix, INT64_MAX, tr, MAXREC, &ntr, &sr);
		missed += sr.sr_status == STATUS_MISSED_WAYPOINT;
		sim_vehicle_free(&sv);
	}
	ok(missed >= 8, "an off-course waypoint gives missed_waypoint (%d of 10)", missed);

	/* the same on-course waypoints in reverse order: out of sequence, missed */
	stage_init(&st);
	st.st_cfg.tc_use_hdop = 0;
	for (v = 0; v < SS.st_ngate; v++)
		stage_add_gate(&st, SS.st_gate[v].sg_kind, SS.st_gate[v].sg_alat,
		    SS.st_gate[v].sg_alon, SS.st_gate[v].sg_blat,
		    SS.st_gate[v].sg_blon, GATE_DIR_LR);
	stage_add_waypoint(&st, SS.st_wp[2].sw_lat, SS.st_wp[2].sw_lon, 100, 30);
	stage_add_waypoint(&st, SS.st_wp[0].sw_lat, SS.st_wp[0].sw_lon, 100, 30);
	sim_vehicle_run(&SS, &SC, 1, &sv);
	stage_eval(&st, sv.sv_fix, sv.sv_nfix, INT64_MAX, tr, MAXREC, &ntr, &sr);
	ok(sr.sr_wp[0] == WP_VALIDATED && sr.sr_wp[1] == WP_MISSED &&
	    sr.sr_status == STATUS_MISSED_WAYPOINT,
	    "waypoints count only in order (%d, %d)", sr.sr_wp[0], sr.sr_wp[1]);
	sim_vehicle_free(&sv);

	mkstage(&st, 0);
	sim_vehicle_run(&SS, &SC, 3, &sv);
	stage_eval(&st, sv.sv_fix, sv.sv_nfix, INT64_MAX, tr, MAXREC, &ntr, &sr);
	n = sv.sv_nfix;
	sh = calloc(2 * n, sizeof(*sh));
	for (i = 0; i < n; i++)
		sh[i] = sv.sv_fix[n - 1 - i];
	for (i = 0; i < n; i += 7)
		sh[n + i / 7] = sv.sv_fix[i];
	for (i = 0; i < n + n / 7; i++) {
		size_t		j = (i * 7919) % (n + n / 7);
		struct fix	t = sh[i];

		sh[i] = sh[j];
		sh[j] = t;
	}
	memset(tr2, 0, sizeof(tr2));
	memset(&sr2, 0, sizeof(sr2));
	stage_eval(&st, sh, n + n / 7, INT64_MAX, tr2, MAXREC, &ntr2, &sr2);
	ok(ntr == ntr2 && memcmp(tr, tr2, ntr * sizeof(*tr)) == 0 &&
	    memcmp(&sr, &sr2, sizeof(sr)) == 0,
	    "shuffled, reversed, duplicated fixes: byte-identical output");

	/* live: data up to 2 s after split 2 */
	tg = sv.sv_truth.tt_gate[2];
	for (cut = 0; cut < n && sec(sv.sv_fix[cut].f_ts_us) < tg + 2; cut++)
		;
	stage_eval(&st, sv.sv_fix, cut, 0, tr2, MAXREC, &ntr2, &sr2);
	ok(ntr2 == 3 && !(tr2[2].tr_flags & TR_FINAL) && sr2.sr_status ==
	    STATUS_RUNNING && !sr2.sr_final, "live: split 2 provisional, stage running");
	ok(fabs(sec(tr2[2].tr_t_us) - tg) < 0.5 && tr2[2].tr_unc_ms > 0,
	    "provisional time %.3f s off, +-%.0f ms", sec(tr2[2].tr_t_us) - tg,
	    tr2[2].tr_unc_ms);
	ok(tr[2].tr_flags & TR_FINAL, "the same crossing final with the full window");
	stage_eval(&st, sv.sv_fix, cut, 0, tr, MAXREC, &ntr, &sr);
	ok(memcmp(tr, tr2, ntr2 * sizeof(*tr)) == 0, "provisional output is deterministic");
	st.st_close_us = sv.sv_fix[cut - 1].f_ts_us + 1;
	stage_eval(&st, sv.sv_fix, cut, st.st_close_us, tr, MAXREC, &ntr, &sr);
	ok(sr.sr_status == STATUS_DNF && (tr[2].tr_flags & TR_FINAL),
	    "closed stage without a finish: dnf, records final");
	stage_eval(&st, sv.sv_fix, 0, st.st_close_us, tr, MAXREC, &ntr, &sr);
	ok(sr.sr_status == STATUS_NO_DATA && ntr == 0, "no fixes: no_data");
	for (i = 0; i < n; i++)
		sh[i] = sv.sv_fix[i], sh[i].f_sats = 0;
	stage_eval(&st, sh, n, st.st_close_us, tr, MAXREC, &ntr, &sr);
	ok(sr.sr_status == STATUS_NO_DATA && ntr == 0, "only no-fix records: no_data");
	free(sh);
	sim_vehicle_free(&sv);
}

/* A 50 m circle driven at 15 m/s: a lap is 20.94 s. */
static void
circle(struct fix *f, int n, double dir, double t0, const struct geo_plane *gp)
{
	struct geo_xy	p;
	double		w = 15.0 / 50.0, a;
	int		i;

	for (i = 0; i < n; i++) {
		a = dir * w * (i + t0) - M_PI / 2;
		p.xy_x = 50 * cos(a);
		p.xy_y = 50 * sin(a);
		memset(&f[i], 0, sizeof(f[i]));
		geo_unproject(gp, &p, &f[i].f_lat, &f[i].f_lon);
		f[i].f_ts_us = INT64_C(1700000000000000) + i * INT64_C(1000000);
		f[i].f_speed = 54;
		f[i].f_heading = fmod(90 - (a + dir * M_PI / 2) * 180 / M_PI + 720,
		    360);
		f[i].f_sats = 9;
		f[i].f_flags = FIX_HAS_SPEED | FIX_HAS_HEADING;
	}
}

static void
test_laps(void)
{
	struct geo_plane	gp;
	struct stage		st;
	struct timing_record	tr[MAXREC];
	struct stage_result	sr;
	struct fix		f[100];
	struct geo_xy		a = { 0, -60 }, b = { 0, -40 };
	double			alat, alon, blat, blon, lap = 2 * M_PI * 50 / 15;
	size_t			ntr, i;
	int			seq = 1, p = 0;

	geo_plane_init(&gp, 45, 15);
	geo_unproject(&gp, &a, &alat, &alon);
	geo_unproject(&gp, &b, &blat, &blon);
	stage_init(&st);
	st.st_laps = 3;
	stage_add_gate(&st, SG_START, alat, alon, blat, blon, GATE_DIR_LR);
	stage_add_gate(&st, SG_FINISH, alat, alon, blat, blon, GATE_DIR_LR);
	circle(f, 80, 1, -0.5, &gp);
	stage_eval(&st, f, 80, INT64_MAX, tr, MAXREC, &ntr, &sr);
	for (i = 0; i < ntr; i++)
		if (tr[i].tr_gate == 1)
			seq &= tr[i].tr_pass == ++p;
	ok(p == 4 && seq, "finish-line passes numbered 1..%d", p);
	ok(sr.sr_status == STATUS_FINISHED, "three laps finish the stage");
	is_double((double)sr.sr_elapsed_us / 1e6, 3 * lap, 0.02,
	    "three laps timed (%.3f s)", (double)sr.sr_elapsed_us / 1e6);
	circle(f, 80, -1, -0.5, &gp);
	stage_eval(&st, f, 80, INT64_MAX, tr, MAXREC, &ntr, &sr);
	ok(ntr == 0 && sr.sr_status == STATUS_RUNNING,
	    "the wrong way round counts nothing");
	/* noise wiggling over the line: forward, back, forward within 2 s */
	circle(f, 80, 1, -0.5, &gp);
	{
		static const double	xs[] = { -12, -2, 3, -1, 14, 29 };
		struct geo_xy		q;

		for (i = 0; i < 6; i++) {
			q.xy_x = xs[i];
			q.xy_y = -50;
			geo_unproject(&gp, &q, &f[i].f_lat, &f[i].f_lon);
			f[i].f_heading = 90;
		}
	}
	stage_eval(&st, f, 80, INT64_MAX, tr, MAXREC, &ntr, &sr);
	for (i = 0, p = 0; i < ntr; i++)
		p += tr[i].tr_gate == 0 && tr[i].tr_t_us < f[6].f_ts_us;
	is_int(p, 1, "noise wiggling over the line within the re-arm time counts once");
}

/*
 * Cost of evaluation: a stage with 20 gates and 5 speed zones, whole runs
 * through stage_eval (sort, crossings, smoothing, zones, waypoints), in ns
 * per fix per gate-or-zone.
 */
static void
test_bench(void)
{
	struct sim_cfg		sc = SC;
	struct sim_stage	ss;
	struct sim_vehicle	sv[20];
	struct stage		st;
	struct timing_record	tr[MAXREC];
	struct stage_result	sr;
	struct penalty_rule	pr = { PEN_TIME_GAINED, 10, 0, 0, 0 };
	struct zone		z;
	struct timespec		t0, t1;
	size_t			ntr, nfix = 0;
	double			ns;
	int			v, k, rep, good = 1;

	sc.sc_gates = 20;
	sc.sc_zones = 5;
	if (sim_stage_build(&ss, &sc) == -1)
		bail("bench stage");
	stage_init(&st);
	st.st_cfg.tc_use_hdop = 0;
	for (k = 0; k < ss.st_ngate; k++)
		stage_add_gate(&st, ss.st_gate[k].sg_kind, ss.st_gate[k].sg_alat,
		    ss.st_gate[k].sg_alon, ss.st_gate[k].sg_blat,
		    ss.st_gate[k].sg_blon, GATE_DIR_LR);
	for (k = 0; k < ss.st_nzone; k++) {
		zone_init_circle(&z, ss.st_zone[k].sz_lat, ss.st_zone[k].sz_lon,
		    ss.st_zone[k].sz_radius);
		stage_add_zone(&st, &z, ss.st_zone[k].sz_limit_kmh, &pr);
	}
	for (v = 0; v < 20; v++)
		sim_vehicle_run(&ss, &sc, v, &sv[v]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rep = 0; rep < 5; rep++)
		for (v = 0; v < 20; v++) {
			stage_eval(&st, sv[v].sv_fix, sv[v].sv_nfix, INT64_MAX, tr,
			    MAXREC, &ntr, &sr);
			good &= ntr == 20;
			nfix += sv[v].sv_nfix;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	    ((double)nfix * 25);
	diag("bench: %zu fixes x (20 gates + 5 zones): %.1f ns per fix per gate",
	    nfix, ns);
	ok(good, "bench: 20 gates each crossed once per run");
	for (v = 0; v < 20; v++)
		sim_vehicle_free(&sv[v]);
}

/* The simulator is deterministic, and its records follow the input contract. */
static void
test_sim(void)
{
	struct sim_vehicle	a, b;
	struct position		p;
	struct fix		f;
	char			line[1024];
	size_t			i, nofix = 0;

	sim_vehicle_run(&SS, &SC, 7, &a);
	sim_vehicle_run(&SS, &SC, 7, &b);
	ok(a.sv_nfix == b.sv_nfix && memcmp(a.sv_fix, b.sv_fix, a.sv_nfix *
	    sizeof(*a.sv_fix)) == 0, "same seed, same fixes");
	ok(sim_fix_json(&a.sv_fix[20], a.sv_id, line, sizeof(line)) > 0 &&
	    strstr(line, "\"device_id\":\"SIM00007\"") &&
	    strstr(line, "\"timestamp\":1777550") && strstr(line, "\"182\":"),
	    "a Position JSON record: %.60s...", line);
	ok(sim_fix_json(&a.sv_fix[20], a.sv_id, line, 40) == -1,
	    "a short buffer is refused");
	for (i = 0; i < a.sv_nfix; i++)
		nofix += a.sv_fix[i].f_sats == 0;
	ok(a.sv_nfix > 200 && nofix < a.sv_nfix / 20, "%zu fixes, %zu without a fix",
	    a.sv_nfix, nofix);
	memset(&p, 0, sizeof(p));
	p.p_ts_us = a.sv_fix[20].f_ts_us;
	p.p_lat = 45.1;
	p.p_lon = 15.2;
	p.p_speed = 87;
	p.p_angle = 270;
	p.p_satellites = 0;
	p.p_has = POS_HAS_SPEED | POS_HAS_ANGLE | POS_HAS_SATELLITES;
	fix_from_position(&f, &p, 0.9);
	ok(f.f_speed == 87 && f.f_heading == 270 && f.f_hdop == 0.9 &&
	    (f.f_flags & FIX_HAS_HDOP) && !fix_valid(&f),
	    "fix from a Position: satellites 0 is no fix");
	p.p_has = 0;
	fix_from_position(&f, &p, 0);
	ok(fix_valid(&f) && f.f_flags == 0, "no satellite count: trusted, no speed");
	sim_vehicle_free(&a);
	sim_vehicle_free(&b);
}

int
main(void)
{
	plan_lazy();
	sim_cfg_default(&SC);
	SC.sc_sigma = 2.0;
	if (sim_stage_build(&SS, &SC) == -1)
		bail("sim_stage_build");
	test_fleet();
	test_statuses();
	test_laps();
	test_sim();
	test_bench();
	return tap_done();
}
