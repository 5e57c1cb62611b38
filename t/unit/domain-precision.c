/* Crossing-time precision on simulated races: interpolation, smoothing, uncertainty, Traccar baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/gate.h"
#include "domain/sim.h"
#include "tap.h"

#define NVEH	150

/* One detected crossing compared with the truth. */
struct pr_row {
	int	r_gate;
	int	r_flying;
	int	r_gap;
	int	r_low;
	double	r_v;		/* true speed, m/s */
	double	r_lin, r_acc, r_prov, r_fin, r_trc;	/* errors, s */
	double	r_unc;		/* final 95% half width, s */
	double	r_unc_prov;
};

struct pr_run {
	struct pr_row	*p_row;
	size_t		 p_n;
	size_t		 p_cap;
	int		 p_expected;
	int		 p_missed;
	int		 p_double;
};

static void
pr_push(struct pr_run *pr, const struct pr_row *r)
{
	if (pr->p_n == pr->p_cap) {
		pr->p_cap = pr->p_cap ? 2 * pr->p_cap : 1024;
		pr->p_row = realloc(pr->p_row, pr->p_cap * sizeof(*pr->p_row));
		if (pr->p_row == NULL)
			bail("out of memory");
	}
	pr->p_row[pr->p_n++] = *r;
}

static size_t
pr_valid(const struct sim_vehicle *sv, struct fix *out)
{
	size_t	i, n = 0;

	for (i = 0; i < sv->sv_nfix; i++)
		if (fix_valid(&sv->sv_fix[i]))
			out[n++] = sv->sv_fix[i];
	return n;
}

static double
pr_sec(int64_t us, const struct sim_cfg *sc)
{
	return (double)(us - sc->sc_t0_us) / 1e6;
}

static void
pr_vehicle(struct pr_run *pr, const struct sim_stage *st,
    const struct sim_cfg *sc, const struct timing_cfg *tc,
    const struct gate *gates, struct sim_vehicle *sv, struct fix *vf)
{
	struct gate_cross	gc;
	struct pr_row		r;
	size_t			n, i;
	int			k, found;
	double			truth;

	n = pr_valid(sv, vf);
	for (k = 0; k < st->st_ngate; k++) {
		truth = sv->sv_truth.tt_gate[k];
		pr->p_expected++;
		found = 0;
		for (i = 0; i + 1 < n; i++) {
			if (!gate_cross(&gates[k], &vf[i], &vf[i + 1], tc, &gc) ||
			    !gate_dir_ok(&gates[k], gc.gc_dir))
				continue;
			if (found++)
				continue;
			memset(&r, 0, sizeof(r));
			r.r_gate = k;
			r.r_flying = st->st_gate[k].sg_kind != SIM_GATE_START;
			r.r_gap = (gc.gc_flags & GC_GAP) != 0;
			r.r_low = (gc.gc_flags & GC_LOWCONF) != 0;
			r.r_v = sv->sv_truth.tt_gate_v[k];
			r.r_lin = pr_sec(gc.gc_t_lin_us, sc) - truth;
			r.r_acc = pr_sec(gc.gc_t_acc_us, sc) - truth;
			r.r_prov = pr_sec(gc.gc_t_us, sc) - truth;
			r.r_unc_prov = gc.gc_unc_ms / 1000.0;
			r.r_trc = pr_sec(vf[i + 1].f_ts_us, sc) - truth;
			gate_smooth(&gates[k], vf, n, i, tc, &gc);
			r.r_fin = pr_sec(gc.gc_t_us, sc) - truth;
			r.r_unc = gc.gc_unc_ms / 1000.0;
			pr_push(pr, &r);
		}
		if (found == 0)
			pr->p_missed++;
		if (found > 1)
			pr->p_double++;
	}
}

static void
pr_fleet(struct pr_run *pr, const struct sim_cfg *sc, const struct timing_cfg *tc)
{
	struct sim_stage	 st;
	struct sim_vehicle	 sv;
	struct gate		 gates[SIM_MAX_GATES];
	struct fix		*vf;
	int			 v, k;

	memset(pr, 0, sizeof(*pr));
	if (sim_stage_build(&st, sc) == -1)
		bail("sim_stage_build failed");
	for (k = 0; k < st.st_ngate; k++)
		if (gate_init(&gates[k], st.st_gate[k].sg_alat, st.st_gate[k].sg_alon,
		    st.st_gate[k].sg_blat, st.st_gate[k].sg_blon, GATE_DIR_LR, 0) == -1)
			bail("gate_init failed");
	for (v = 0; v < NVEH; v++) {
		if (sim_vehicle_run(&st, sc, v, &sv) == -1)
			bail("sim_vehicle_run failed");
		if ((vf = calloc(sv.sv_nfix, sizeof(*vf))) == NULL)
			bail("out of memory");
		pr_vehicle(pr, &st, sc, tc, gates, &sv, vf);
		free(vf);
		sim_vehicle_free(&sv);
	}
}

static int
pr_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Selector: which rows, which error (absolute, optionally divided by sigma/v). */
#define SEL_ALL		0
#define SEL_FLYING	1
#define SEL_FLY_NOGAP	2

static int
pr_take(const struct pr_row *r, int sel)
{
	if (sel == SEL_FLYING)
		return r->r_flying;
	if (sel == SEL_FLY_NOGAP)
		return r->r_flying && !r->r_gap;
	return 1;
}

static double
pr_err(const struct pr_row *r, int which)
{
	switch (which) {
	case 0: return r->r_lin;
	case 1: return r->r_acc;
	case 2: return r->r_fin;
	case 3: return r->r_trc;
	default: return r->r_prov;
	}
}

/* Percentile q of |error| (scaled by v/sigma when sigma > 0). */
static double
pr_pct(const struct pr_run *pr, int sel, int which, double q, double sigma)
{
	double	*e, res;
	size_t	 i, n = 0;

	if ((e = calloc(pr->p_n + 1, sizeof(*e))) == NULL)
		bail("out of memory");
	for (i = 0; i < pr->p_n; i++)
		if (pr_take(&pr->p_row[i], sel))
			e[n++] = fabs(pr_err(&pr->p_row[i], which)) *
			    (sigma > 0 ? pr->p_row[i].r_v / sigma : 1.0);
	qsort(e, n, sizeof(*e), pr_cmp);
	res = n ? e[(size_t)fmin(n - 1, floor(q * n))] : NAN;
	free(e);
	return res;
}

static double
pr_mean(const struct pr_run *pr, int sel, int which)
{
	double	s = 0;
	size_t	i, n = 0;

	for (i = 0; i < pr->p_n; i++)
		if (pr_take(&pr->p_row[i], sel)) {
			s += fabs(pr_err(&pr->p_row[i], which));
			n++;
		}
	return n ? s / n : NAN;
}

/* Share of final errors inside the reported 95% interval, and width/error medians. */
static double
pr_cover(const struct pr_run *pr, int sel, double *ratio)
{
	double	*w, *e;
	size_t	 i, n = 0, in = 0;

	w = calloc(pr->p_n + 1, sizeof(*w));
	e = calloc(pr->p_n + 1, sizeof(*e));
	if (w == NULL || e == NULL)
		bail("out of memory");
	for (i = 0; i < pr->p_n; i++) {
		const struct pr_row *r = &pr->p_row[i];

		if (!pr_take(r, sel))
			continue;
		in += fabs(r->r_fin) <= r->r_unc;
		w[n] = r->r_unc;
		e[n++] = fabs(r->r_fin);
	}
	qsort(w, n, sizeof(*w), pr_cmp);
	qsort(e, n, sizeof(*e), pr_cmp);
	*ratio = w[n / 2] / e[n / 2];
	free(w);
	free(e);
	return (double)in / n;
}

static void
pr_table(const struct pr_run *pr, const char *name, double sigma)
{
	static const char *const meth[] = { "linear", "const-acc", "final", "traccar" };
	int	m;

	for (m = 0; m < 4; m++)
		diag("%-10s %-9s flying p50 %8.4f p95 %8.4f p99 %8.4f | all p95 %8.4f p99 %8.4f mean %8.4f%s",
		    name, meth[m], pr_pct(pr, SEL_FLYING, m, 0.5, sigma),
		    pr_pct(pr, SEL_FLYING, m, 0.95, sigma),
		    pr_pct(pr, SEL_FLYING, m, 0.99, sigma),
		    pr_pct(pr, SEL_ALL, m, 0.95, sigma),
		    pr_pct(pr, SEL_ALL, m, 0.99, sigma), pr_mean(pr, SEL_ALL, m),
		    sigma > 0 ? " (x sigma/v)" : " (s)");
}

int
main(void)
{
	struct sim_cfg		sc;
	struct timing_cfg	tc;
	struct pr_run		pr;
	double			ratio, cov;

	plan_lazy();
	sim_cfg_default(&sc);
	timing_cfg_default(&tc);
	tc.tc_use_hdop = 0;

	sc.sc_sigma = 0;
	tc.tc_sigma = getenv("TCS") ? atof(getenv("TCS")) : 0;
	pr_fleet(&pr, &sc, &tc);
	diag("noise-free: %zu crossings of %d expected, %d missed, %d double",
	    pr.p_n, pr.p_expected, pr.p_missed, pr.p_double);
	pr_table(&pr, "sigma0", 0);
	free(pr.p_row);

	sc.sc_sigma = 2;
	tc.tc_sigma = 2;
	pr_fleet(&pr, &sc, &tc);
	diag("white 2m: %zu crossings of %d expected, %d missed, %d double",
	    pr.p_n, pr.p_expected, pr.p_missed, pr.p_double);
	pr_table(&pr, "white2", 2);
	cov = pr_cover(&pr, SEL_ALL, &ratio);
	diag("white2 coverage %.3f ratio %.2f", cov, ratio);
	free(pr.p_row);

	sc.sc_tau = 7;
	tc.tc_tau = 7;
	pr_fleet(&pr, &sc, &tc);
	diag("ar1 2m: %zu crossings of %d expected, %d missed, %d double",
	    pr.p_n, pr.p_expected, pr.p_missed, pr.p_double);
	pr_table(&pr, "ar1", 2);
	cov = pr_cover(&pr, SEL_ALL, &ratio);
	diag("ar1 coverage %.3f ratio %.2f", cov, ratio);
	free(pr.p_row);
	ok(1, "ran");
	return tap_done();
}
