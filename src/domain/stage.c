/* Stage evaluation: one device's fixes against a stage's gates, waypoints and zones. */
#include <stdlib.h>
#include <string.h>

#include "domain/noise.h"
#include "domain/stage.h"

void
stage_init(struct stage *st)
{
	memset(st, 0, sizeof(*st));
	st->st_laps = 1;
	st->st_rearm_s = 5.0;
	timing_cfg_default(&st->st_cfg);
}

int
stage_add_gate(struct stage *st, int kind, double alat, double alon,
    double blat, double blon, int dir)
{
	struct stage_gate	*sg;

	if (st->st_ngate == STAGE_MAX_GATES || kind < SG_START || kind > SG_FINISH)
		return -1;
	sg = &st->st_gate[st->st_ngate];
	if (gate_init(&sg->sg_gate, alat, alon, blat, blon, dir, 0.0) == -1)
		return -1;
	sg->sg_kind = kind;
	st->st_ngate++;
	return 0;
}

int
stage_add_waypoint(struct stage *st, double lat, double lon, double open,
    double clear)
{
	if (st->st_nwp == STAGE_MAX_WP ||
	    waypoint_init(&st->st_wp[st->st_nwp], lat, lon, open, clear) == -1)
		return -1;
	st->st_nwp++;
	return 0;
}

int
stage_add_zone(struct stage *st, const struct zone *z, double limit_kmh,
    const struct penalty_rule *pr)
{
	struct stage_zone	*sz;

	if (st->st_nzone == STAGE_MAX_ZONES || !(limit_kmh > 0))
		return -1;
	sz = &st->st_zone[st->st_nzone++];
	sz->sz_zone = *z;
	sz->sz_limit_kmh = limit_kmh;
	sz->sz_rule = *pr;
	return 0;
}

const char *
stage_status_name(int status)
{
	static const char *const names[] = { "running", "finished", "dnf",
	    "missed_waypoint", "no_data" };

	return status >= 0 && status <= STATUS_NO_DATA ? names[status] : "?";
}

/* Which computation produced tr_t_us, from a record's tr_flags. */
const char *
stage_method_name(unsigned flags)
{
	if (flags & TR_SMOOTHED)
		return "fitted path";
	if (flags & TR_TWOPOINT)
		return "two-point";
	return "constant acceleration";
}

/* The records out, sorted by time then gate, so output never depends on input order. */
static int
stage_rec_cmp(const void *va, const void *vb)
{
	const struct timing_record	*a = va, *b = vb;

	if (a->tr_t_us != b->tr_t_us)
		return a->tr_t_us < b->tr_t_us ? -1 : 1;
	return a->tr_gate - b->tr_gate;
}

/*
 * Whether the vehicle stood still shortly before fix i (a standing start),
 * or the data does not reach back far enough to tell.
 */
static int
stage_from_rest(const struct fix *vf, size_t i, const struct timing_cfg *tc)
{
	int64_t	from = vf[i].f_ts_us - (int64_t)(tc->tc_window_s * 1e6);

	for (;; i--) {
		if (vf[i].f_ts_us < from)
			return 0;
		if ((vf[i].f_flags & FIX_HAS_SPEED) &&
		    vf[i].f_speed < tc->tc_min_speed_kmh)
			return 1;
		if (i == 0)
			return 1;
	}
}

static void
stage_record(const struct stage *st, const struct timing_cfg *tc,
    const struct fix *vf, size_t n, size_t i, int k, int64_t now,
    struct gate_cross *gc, struct timing_record *tr)
{
	int			 closed = st->st_close_us && now >= st->st_close_us;

	memset(tr, 0, sizeof(*tr));
	if (gate_window_full(vf, n, i, tc) || closed) {
		tr->tr_flags |= TR_FINAL;
		if (gate_smooth(&st->st_gate[k].sg_gate, vf, n, i, tc, gc) == 0)
			tr->tr_flags |= TR_SMOOTHED;
	}
	if (!(tr->tr_flags & TR_SMOOTHED) && (gc->gc_flags & GC_LINEAR))
		tr->tr_flags |= TR_TWOPOINT;
	tr->tr_gate = k;
	tr->tr_t_us = gc->gc_t_us;
	tr->tr_unc_ms = gc->gc_unc_ms;
	tr->tr_fix0_us = vf[i].f_ts_us;
	tr->tr_fix1_us = vf[i + 1].f_ts_us;
	tr->tr_frac = gc->gc_frac;
	tr->tr_speed_kmh = gc->gc_speed * 3.6;
	tr->tr_dir = gc->gc_dir;
	if ((gc->gc_flags & GC_LOWCONF) || (st->st_gate[k].sg_kind == SG_START &&
	    stage_from_rest(vf, i, tc)))
		tr->tr_flags |= TR_LOWCONF;
}

/*
 * Passes of one gate.  A pass in the accepted direction that follows a pass
 * the other way sooner than st_rearm_s after the last counted one is GPS
 * noise wiggling over the line, not a new lap: it is not counted.
 */
static size_t
stage_gate_passes(const struct stage *st, const struct timing_cfg *tc, int k,
    const struct fix *vf, size_t n, int64_t now, struct timing_record *out,
    size_t max, size_t nout)
{
	const struct gate	*g = &st->st_gate[k].sg_gate;
	struct gate_cross	 gc;
	int64_t			 last = INT64_MIN;
	int			 pass = 0, back = 0;
	size_t			 i;

	for (i = 0; i + 1 < n; i++) {
		if (!gate_cross(g, &vf[i], &vf[i + 1], tc, &gc))
			continue;
		if (!gate_dir_ok(g, gc.gc_dir)) {
			back = 1;
			continue;
		}
		if (back && last != INT64_MIN &&
		    (double)(gc.gc_t_us - last) / 1e6 < st->st_rearm_s) {
			back = 0;
			continue;
		}
		back = 0;
		last = gc.gc_t_us;
		if (nout == max)
			continue;
		stage_record(st, tc, vf, n, i, k, now, &gc, &out[nout]);
		out[nout++].tr_pass = ++pass;
	}
	return nout;
}

/* First record of gate kind `kind` (or gate k) after t, pass `pass` or later. */
static const struct timing_record *
stage_find(const struct stage *st, const struct timing_record *tr, size_t n,
    int kind, int k, int64_t after, int nth)
{
	size_t	i;
	int	seen = 0;

	for (i = 0; i < n; i++) {
		if (tr[i].tr_t_us <= after)
			continue;
		if (k >= 0 ? tr[i].tr_gate != k :
		    st->st_gate[tr[i].tr_gate].sg_kind != kind)
			continue;
		if (++seen == nth)
			return &tr[i];
	}
	return NULL;
}

/* Several visits of one zone add up; entry is the first, exit the last. */
static void
stage_zone_add(struct zone_visit *sum, const struct zone_visit *zv)
{
	if (sum->zv_in_us == 0)
		sum->zv_in_us = zv->zv_in_us;
	sum->zv_out_us = zv->zv_out_us;
	sum->zv_time_s += zv->zv_time_s;
	sum->zv_dist_m += zv->zv_dist_m;
	sum->zv_max_kmh = sum->zv_max_kmh > zv->zv_max_kmh ? sum->zv_max_kmh :
	    zv->zv_max_kmh;
	sum->zv_over_s += zv->zv_over_s;
	sum->zv_excess_kmh = sum->zv_excess_kmh > zv->zv_excess_kmh ?
	    sum->zv_excess_kmh : zv->zv_excess_kmh;
	sum->zv_gained_s += zv->zv_gained_s;
	sum->zv_flags |= zv->zv_flags;
	if (sum->zv_time_s > 0)
		sum->zv_avg_kmh = sum->zv_dist_m / sum->zv_time_s * 3.6;
}

static void
stage_wps_zones(const struct stage *st, const struct fix *vf, size_t n,
    int64_t from, int64_t to, struct stage_result *sr)
{
	struct zone_visit	zv[STAGE_MAX_VISITS];
	struct wp_result	wr;
	int64_t			wfrom;
	double			pen;
	int			k, v, nv;

	/* waypoints are ordered: each counts only after the previous one */
	for (k = 0, wfrom = from; k < st->st_nwp; k++) {
		waypoint_eval(&st->st_wp[k], vf, n, wfrom, to, &st->st_cfg, &wr);
		if (wr.wr_verdict == WP_VALIDATED)
			wfrom = wr.wr_t_us;
		sr->sr_wp[k] = wr.wr_verdict;
		sr->sr_wp_dmin[k] = wr.wr_dmin;
		sr->sr_wp_t_us[k] = wr.wr_t_us;
		if (wr.wr_verdict == WP_NO_DATA)
			sr->sr_lowconf = 1;
	}
	for (k = 0; k < st->st_nzone; k++) {
		const struct stage_zone	*sz = &st->st_zone[k];

		nv = zone_visits(&sz->sz_zone, vf, n, sz->sz_limit_kmh,
		    &st->st_cfg, zv, STAGE_MAX_VISITS);
		for (v = 0; v < nv; v++) {
			if (zv[v].zv_in_us < from || zv[v].zv_out_us > to)
				continue;
			stage_zone_add(&sr->sr_zone[k], &zv[v]);
			pen = zone_penalty(&sz->sz_rule, &zv[v], sz->sz_limit_kmh);
			sr->sr_zone_penalty_s[k] += pen;
			sr->sr_penalty_s += pen;
		}
	}
}

static void
stage_result(const struct stage *st, const struct fix *vf, size_t n,
    int64_t now, const struct timing_record *tr, size_t nt,
    struct stage_result *sr)
{
	const struct timing_record	*s, *f, *x;
	int				 k, missed = 0;

	memset(sr, 0, sizeof(*sr));
	for (k = 0; k < STAGE_MAX_GATES; k++)
		sr->sr_split_us[k] = -1;
	sr->sr_final = 1;
	for (k = 0; k < (int)nt; k++) {
		sr->sr_final &= (tr[k].tr_flags & TR_FINAL) != 0;
		sr->sr_lowconf |= (tr[k].tr_flags & TR_LOWCONF) != 0;
	}
	if (n == 0) {
		sr->sr_status = STATUS_NO_DATA;
		return;
	}
	s = stage_find(st, tr, nt, SG_START, -1, INT64_MIN, 1);
	f = s ? stage_find(st, tr, nt, SG_FINISH, -1, s->tr_t_us, st->st_laps) :
	    NULL;
	if (s)
		sr->sr_start_us = s->tr_t_us;
	for (k = 0; s && k < st->st_ngate; k++)
		if (st->st_gate[k].sg_kind == SG_SPLIT &&
		    (x = stage_find(st, tr, nt, 0, k, s->tr_t_us, 1)) != NULL)
			sr->sr_split_us[k] = x->tr_t_us - s->tr_t_us;
	stage_wps_zones(st, vf, n, s ? s->tr_t_us : vf[0].f_ts_us,
	    f ? f->tr_t_us : vf[n - 1].f_ts_us, sr);
	for (k = 0; k < st->st_nwp; k++)
		missed |= sr->sr_wp[k] == WP_MISSED;
	if (f) {
		sr->sr_finish_us = f->tr_t_us;
		sr->sr_elapsed_us = f->tr_t_us - s->tr_t_us;
		sr->sr_status = missed ? STATUS_MISSED_WAYPOINT : STATUS_FINISHED;
	} else if (st->st_close_us && now >= st->st_close_us)
		sr->sr_status = s ? STATUS_DNF : STATUS_NO_DATA;
	else
		sr->sr_status = STATUS_RUNNING;
}

/*
 * Evaluates a device's fixes for a stage, in any order and with duplicates:
 * they are copied, sorted and de-duplicated first, so the same set of fixes
 * always gives byte-identical records and result.  now_us decides only what
 * is final (closed stage).  Returns -1 when memory runs out.
 */
int
stage_eval(const struct stage *st, const struct fix *fx, size_t n,
    int64_t now_us, struct timing_record *tr, size_t max, size_t *ntr,
    struct stage_result *sr)
{
	struct timing_cfg tc = st->st_cfg;
	struct noise_est ne;
	struct fix	*vf;
	size_t		 i, nv = 0, nt = 0;
	int		 k;

	if ((vf = calloc(n + 1, sizeof(*vf))) == NULL)
		return -1;
	memcpy(vf, fx, n * sizeof(*vf));
	n = fix_normalize(vf, n);
	for (i = 0; i < n; i++)
		if (fix_valid(&vf[i]))
			vf[nv++] = vf[i];
	if (tc.tc_auto && noise_estimate(vf, nv, &tc, &ne) == 0)
		noise_apply(&ne, &tc);
	for (k = 0; k < st->st_ngate; k++)
		nt = stage_gate_passes(st, &tc, k, vf, nv, now_us, tr, max, nt);
	qsort(tr, nt, sizeof(*tr), stage_rec_cmp);
	stage_result(st, vf, nv, now_us, tr, nt, sr);
	*ntr = nt;
	free(vf);
	return 0;
}
