/* Crossing-time precision on simulated races: interpolation, smoothing, uncertainty, Traccar baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/gate.h"
#include "domain/noise.h"
#include "sim.h"
#include "domain/stage.h"
#include "tap.h"

#define NVEH	250

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
	int		 p_lowok;	/* every gap bracket and start low confidence */
	int		 p_final;	/* every record final */
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

/* The bracket of a record among the valid fixes. */
static size_t
pr_bracket(const struct fix *vf, size_t n, int64_t t0)
{
	size_t	i;

	for (i = 0; i + 1 < n; i++)
		if (vf[i].f_ts_us == t0)
			return i;
	bail("bracketing fix not found");
}

/*
 * Detection and the published (final) time come from stage_eval, the API
 * the daemon uses; linear, constant-acceleration and Traccar's first fix
 * past the line are recomputed on the same bracket for comparison.
 */
static void
pr_vehicle(struct pr_run *pr, const struct stage *st, const struct sim_stage *ss,
    const struct sim_cfg *sc, struct sim_vehicle *sv, struct fix *vf)
{
	struct timing_record	tr[64];
	struct stage_result	sres;
	struct gate_cross	gc;
	struct pr_row		r;
	size_t			n, ntr, i, b;
	int			k, found;
	double			truth;

	n = pr_valid(sv, vf);
	if (stage_eval(st, sv->sv_fix, sv->sv_nfix, INT64_MAX, tr, 64, &ntr,
	    &sres) == -1)
		bail("stage_eval");
	for (k = 0; k < ss->st_ngate; k++) {
		truth = sv->sv_truth.tt_gate[k];
		pr->p_expected++;
		for (i = 0, found = 0; i < ntr; i++) {
			if (tr[i].tr_gate != k || found++)
				continue;
			b = pr_bracket(vf, n, tr[i].tr_fix0_us);
			if (!gate_cross(&st->st_gate[k].sg_gate, &vf[b], &vf[b + 1],
			    &st->st_cfg, &gc))
				bail("record without a crossing");
			memset(&r, 0, sizeof(r));
			r.r_gate = k;
			r.r_flying = ss->st_gate[k].sg_kind != SIM_GATE_START;
			r.r_gap = (gc.gc_flags & GC_GAP) != 0;
			r.r_low = (tr[i].tr_flags & TR_LOWCONF) != 0;
			pr->p_lowok &= !(r.r_gap || !r.r_flying) || r.r_low;
			r.r_v = sv->sv_truth.tt_gate_v[k];
			r.r_lin = pr_sec(gc.gc_t_lin_us, sc) - truth;
			r.r_acc = pr_sec(gc.gc_t_acc_us, sc) - truth;
			r.r_prov = r.r_acc;
			r.r_unc_prov = gc.gc_unc_ms / 1000.0;
			r.r_trc = pr_sec(vf[b + 1].f_ts_us, sc) - truth;
			r.r_fin = pr_sec(tr[i].tr_t_us, sc) - truth;
			r.r_unc = tr[i].tr_unc_ms / 1000.0;
			pr->p_final &= (tr[i].tr_flags & TR_FINAL) != 0;
			if (getenv("DOMAIN_DEBUG") && (fabs(r.r_acc) > 0.012 ||
			    ((r.r_gap || !r.r_flying) && !r.r_low)))
				diag("%s gate %d: acc %+.1f ms fin %+.1f ms gap %d low %d "
				    "T %.0f s v %.0f km/h", sv->sv_id, k, r.r_acc * 1000,
				    r.r_fin * 1000, r.r_gap, r.r_low,
				    (double)(vf[b + 1].f_ts_us - vf[b].f_ts_us) / 1e6,
				    r.r_v * 3.6);
			pr_push(pr, &r);
		}
		if (found == 0 && ++pr->p_missed <= 3)
			diag("missed: %s gate %d at %.3f s, %.1f km/h", sv->sv_id, k,
			    truth, sv->sv_truth.tt_gate_v[k] * 3.6);
		if (found > 1)
			pr->p_double++;
	}
}

static void
pr_stage(struct stage *st, const struct sim_stage *ss, const struct timing_cfg *tc)
{
	int	k;

	stage_init(st);
	st->st_cfg = *tc;
	for (k = 0; k < ss->st_ngate; k++)
		if (stage_add_gate(st, ss->st_gate[k].sg_kind, ss->st_gate[k].sg_alat,
		    ss->st_gate[k].sg_alon, ss->st_gate[k].sg_blat,
		    ss->st_gate[k].sg_blon, GATE_DIR_LR) == -1)
			bail("stage_add_gate");
}

/* With DOMAIN_DEBUG, what the estimator makes of the first vehicles. */
static void
pr_noise_diag(const struct sim_vehicle *sv, const struct fix *vf, size_t n,
    const struct timing_cfg *tc)
{
	struct noise_est	ne;

	if (noise_estimate(vf, n, tc, &ne) == -1) {
		diag("%s: no estimate", sv->sv_id);
		return;
	}
	diag("%s: sigma %.3f m tau %.1f s sw %.3f m/s | var %.4f %.4f %.4f %.4f "
	    "%.4f %.4f %.4f %.4f", sv->sv_id, ne.ne_sigma, ne.ne_tau, ne.ne_sw,
	    ne.ne_var[0], ne.ne_var[1], ne.ne_var[2], ne.ne_var[4], ne.ne_var[6],
	    ne.ne_var[8], ne.ne_var[9], ne.ne_var[10]);
}

static void
pr_fleet_n(struct pr_run *pr, const struct sim_cfg *sc, const struct timing_cfg *tc,
    int nveh)
{
	struct sim_stage	 ss;
	struct sim_vehicle	 sv;
	struct stage		 st;
	struct fix		*vf;
	int			 v;

	memset(pr, 0, sizeof(*pr));
	pr->p_lowok = pr->p_final = 1;
	if (sim_stage_build(&ss, sc) == -1)
		bail("sim_stage_build failed");
	pr_stage(&st, &ss, tc);
	for (v = 0; v < nveh; v++) {
		if (sim_vehicle_run(&ss, sc, v, &sv) == -1)
			bail("sim_vehicle_run failed");
		if ((vf = calloc(sv.sv_nfix, sizeof(*vf))) == NULL)
			bail("out of memory");
		pr_vehicle(pr, &st, &ss, sc, &sv, vf);
		if (getenv("DOMAIN_DEBUG") && v < 6)
			pr_noise_diag(&sv, vf, pr_valid(&sv, vf), tc);
		free(vf);
		sim_vehicle_free(&sv);
	}
}

static void
pr_fleet(struct pr_run *pr, const struct sim_cfg *sc, const struct timing_cfg *tc)
{
	pr_fleet_n(pr, sc, tc, NVEH);
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

/* Per speed band (true speed at the gate), flying gates: p50 and p95 in ms. */
static void
pr_bands(const struct pr_run *pr, const char *name)
{
	static const double	lo[] = { 0, 80, 130, -1 }, hi[] = { 80, 130, 250, -1 };
	static const char *const meth[] = { "linear", "const-acc", "final", "traccar" };
	struct pr_run		 sub;
	int			 b, m;

	for (b = 0; b < 4; b++) {
		size_t	i;

		memset(&sub, 0, sizeof(sub));
		for (i = 0; i < pr->p_n; i++)
			if (b == 3 ? !pr->p_row[i].r_flying : pr->p_row[i].r_flying &&
			    pr->p_row[i].r_v * 3.6 >= lo[b] &&
			    pr->p_row[i].r_v * 3.6 < hi[b])
				pr_push(&sub, &pr->p_row[i]);
		for (m = 0; m < 4; m++)
			diag("| %-7s | %-13s | %-9s | %4zu | %8.1f | %8.1f |",
			    name, b == 0 ? "30-80 km/h" : b == 1 ? "80-130 km/h" :
			    b == 2 ? "130-200 km/h" : "standing start", meth[m], sub.p_n, 1000 * pr_pct(&sub, SEL_ALL, m, 0.5, 0),
			    1000 * pr_pct(&sub, SEL_ALL, m, 0.95, 0));
		free(sub.p_row);
	}
}

static void
pr_detect(const struct pr_run *pr, const char *name)
{
	ok((double)(pr->p_expected - pr->p_missed) >= 0.995 * pr->p_expected &&
	    pr->p_double == 0, "%s: %d of %d crossings found, none twice (%d)",
	    name, pr->p_expected - pr->p_missed, pr->p_expected, pr->p_double);
	ok(pr->p_lowok, "%s: every start and every bracket over lost records is "
	    "low confidence", name);
	ok(pr->p_final, "%s: every record final once the data is complete", name);
}

static void
pr_coverage(const struct pr_run *pr, const char *name)
{
	double	cov, ratio;

	cov = pr_cover(pr, SEL_FLYING, &ratio);
	diag("%s: flying gates: coverage %.1f%%, ratio %.2f", name, 100 * cov, ratio);
	cov = pr_cover(pr, SEL_ALL, &ratio);
	ok(cov >= 0.93 && cov <= 0.97, "%s: 95%% interval covers %.1f%% of errors",
	    name, 100 * cov);
	ok(ratio <= 3.6, "%s: median half width %.2f x median error", name, ratio);
}

static void
test_noise_free(struct sim_cfg *sc, struct timing_cfg *tc)
{
	struct pr_run	pr;
	double		p;

	sc->sc_sigma = tc->tc_sigma = 0;
	pr_fleet(&pr, sc, tc);
	pr_table(&pr, "sigma0", 0);
	pr_bands(&pr, "sigma0");
	pr_detect(&pr, "sigma 0");
	p = pr_pct(&pr, SEL_FLY_NOGAP, 1, 0.99, 0);
	ok(p <= 0.005, "sigma 0: const-acc p99 %.1f ms on flying gates without dropout", p * 1000);
	p = pr_pct(&pr, SEL_ALL, 1, 0.95, 0);
	ok(p <= 0.004, "sigma 0: const-acc p95 %.1f ms over all gates", p * 1000);
	p = pr_pct(&pr, SEL_ALL, 1, 0.99, 0);
	ok(p <= 0.012, "sigma 0: const-acc p99 %.1f ms over all gates", p * 1000);
	p = pr_pct(&pr, SEL_ALL, 2, 0.99, 0);
	ok(p <= 0.012, "sigma 0: published (final) p99 %.1f ms over all gates", p * 1000);
	p = pr_pct(&pr, SEL_ALL, 0, 0.95, 0);
	ok(p > 0.02, "sigma 0: linear alone p95 %.1f ms (acceleration matters)", p * 1000);
	p = pr_mean(&pr, SEL_ALL, 3) / pr_mean(&pr, SEL_ALL, 2);
	ok(p >= 100, "sigma 0: mean error %.0fx smaller than Traccar's first fix past", p);
	free(pr.p_row);
}

static void
test_white(struct sim_cfg *sc, struct timing_cfg *tc)
{
	struct pr_run	pr;
	double		p;

	sc->sc_sigma = tc->tc_sigma = 2;
	sc->sc_tau = tc->tc_tau = 0;
	pr_fleet(&pr, sc, tc);
	pr_table(&pr, "white2", 2);
	pr_bands(&pr, "white2");
	pr_detect(&pr, "white 2 m");
	p = pr_pct(&pr, SEL_FLYING, 2, 0.95, 2);
	ok(p <= 0.8, "white 2 m: smoothed p95 %.2f sigma/v on flying gates", p);
	p = pr_pct(&pr, SEL_FLYING, 0, 0.95, 2);
	ok(p > 1.2, "white 2 m: two-point linear p95 %.2f sigma/v", p);
	pr_coverage(&pr, "white 2 m");
	p = pr_mean(&pr, SEL_FLYING, 3) / pr_mean(&pr, SEL_FLYING, 2);
	ok(p >= 10, "white 2 m: mean error %.1fx smaller than Traccar on flying gates", p);
	free(pr.p_row);
}

static void
test_ar1(struct sim_cfg *sc, struct timing_cfg *tc)
{
	struct pr_run	pr;
	double		p;

	sc->sc_sigma = tc->tc_sigma = 2;
	sc->sc_tau = tc->tc_tau = 7;
	pr_fleet(&pr, sc, tc);
	pr_table(&pr, "ar1", 2);
	pr_bands(&pr, "ar1-7s");
	pr_detect(&pr, "AR(1) 2 m");
	p = pr_pct(&pr, SEL_FLYING, 2, 0.95, 2);
	ok(p <= 1.8, "AR(1) 2 m, tau 7 s: smoothed p95 %.2f sigma/v on flying gates", p);
	pr_coverage(&pr, "AR(1) 2 m");
	p = pr_mean(&pr, SEL_FLYING, 3) / pr_mean(&pr, SEL_FLYING, 2);
	diag("AR(1) 2 m: mean error %.1fx smaller than Traccar on flying gates", p);
	free(pr.p_row);
	sc->sc_tau = tc->tc_tau = 0;
}

/* Timestamp jitter alone (sigma 0): what no interpolation can remove. */
static void
test_jitter(struct sim_cfg *sc, struct timing_cfg *tc)
{
	struct pr_run	pr;

	sc->sc_sigma = tc->tc_sigma = 0;
	sc->sc_jitter_ms = 8;		/* +-20 ms at 99% */
	tc->tc_jitter_ms = 8;
	pr_fleet(&pr, sc, tc);
	diag("jitter 8 ms sd: p99 linear %.1f, const-acc %.1f, final %.1f ms (flying)",
	    1000 * pr_pct(&pr, SEL_FLYING, 0, 0.99, 0),
	    1000 * pr_pct(&pr, SEL_FLYING, 1, 0.99, 0),
	    1000 * pr_pct(&pr, SEL_FLYING, 2, 0.99, 0));
	ok(pr_pct(&pr, SEL_FLYING, 1, 0.99, 0) >= 0.012,
	    "jitter: +-20 ms timestamps cost every method ~20 ms p99");
	free(pr.p_row);
	sc->sc_jitter_ms = tc->tc_jitter_ms = 0;
}

/*
 * Nothing declared: timing_cfg_default as shipped, every receiver's noise
 * estimated from its own fixes.  Four receivers, as an independent
 * evaluation ran them: noise-free, a smooth high-grade receiver (0.3 m,
 * strongly correlated), AR(1) 2 m with tau 7 s, white 2 m.  200 vehicles x
 * 7 gates: the coverage of a true 95% interval then has a sd of 0.6%, so
 * 93-97% is a +-3.4 sd band.
 */
struct pr_case {
	const char	*c_name;
	double		 c_sigma, c_tau;
	int		 c_better;	/* final p95 must beat const-acc */
	double		 c_covlo, c_covhi;	/* asserted coverage band */
	double		 c_p95tol;	/* final p95 may exceed const-acc by this, s */
};

static void
test_undeclared_case(struct sim_cfg *sc, const struct pr_case *c)
{
	struct timing_cfg	tc;
	struct pr_run		pr;
	double			acc, fin, cov, ratio, sv;

	timing_cfg_default(&tc);
	sc->sc_sigma = c->c_sigma;
	sc->sc_tau = c->c_tau;
	if (getenv("DOMAIN_DECLARED") != NULL) {
		/*
		 * For comparison: the same maths told the truth (any value), or
		 * DOMAIN_DECLARED="sigma tau", a wrong model, by hand.
		 */
		tc.tc_auto = tc.tc_use_hdop = 0;
		if (sscanf(getenv("DOMAIN_DECLARED"), "%lf %lf", &tc.tc_sigma,
		    &tc.tc_tau) != 2) {
			tc.tc_sigma = c->c_sigma;
			tc.tc_tau = c->c_tau;
		}
	}
	pr_fleet_n(&pr, sc, &tc, 200);
	sv = c->c_sigma;
	acc = pr_pct(&pr, SEL_ALL, 1, 0.95, 0);
	fin = pr_pct(&pr, SEL_ALL, 2, 0.95, 0);
	cov = pr_cover(&pr, SEL_ALL, &ratio);
	diag("| %-22s | %5zu | %6.2f ms | %6.2f ms | %.2f / %.2f sigma/v | %.1f%% |",
	    c->c_name, pr.p_n, 1000 * acc, 1000 * fin,
	    sv > 0 ? pr_pct(&pr, SEL_ALL, 1, 0.95, sv) : 0,
	    sv > 0 ? pr_pct(&pr, SEL_ALL, 2, 0.95, sv) : 0, 100 * cov);
	diag("%s: flying p95 const-acc %.1f ms final %.1f ms, coverage %.1f%%",
	    c->c_name, 1000 * pr_pct(&pr, SEL_FLYING, 1, 0.95, 0),
	    1000 * pr_pct(&pr, SEL_FLYING, 2, 0.95, 0),
	    100 * pr_cover(&pr, SEL_FLYING, &ratio));
	ok(cov >= c->c_covlo && cov <= c->c_covhi, "undeclared, %s: 95%% "
	    "interval covers %.1f%% of %zu errors (band %.0f-%.0f%%)", c->c_name,
	    100 * cov, pr.p_n, 100 * c->c_covlo, 100 * c->c_covhi);
	if (cov < 0.93 || cov > 0.97)
		diag("undeclared, %s: TARGET NOT MET: coverage %.1f%% outside "
		    "93-97%% (docs/timing.md, what is left)", c->c_name, 100 * cov);
	if (c->c_better)
		ok(fin < acc, "undeclared, %s: final p95 %.1f ms better than "
		    "const-acc %.1f ms", c->c_name, 1000 * fin, 1000 * acc);
	else
		ok(fin <= acc + c->c_p95tol, "undeclared, %s: final p95 %.1f ms, "
		    "const-acc %.1f ms (+%.1f ms allowed)", c->c_name, 1000 * fin,
		    1000 * acc, 1000 * c->c_p95tol);
	if (fin > acc)
		diag("undeclared, %s: TARGET NOT MET: final p95 above const-acc",
		    c->c_name);
	free(pr.p_row);
}

static void
test_undeclared(struct sim_cfg *sc)
{
	static const struct pr_case	cases[] = {
		/*
		 * Bands: 93-97%, the target, on every input (noise-free
		 * 93.6-96.9% on seeds 1-4 once a slow error must clear two
		 * standard errors of its slope; 97.3-99.0% before).  The
		 * final p95 may exceed const-acc by the measured margin plus a
		 * little on noise-free and smooth fixes, where the two are a
		 * tie (docs/timing.md).
		 */
		{ "noise-free", 0, 0, 0, 0.93, 0.97, 0.00015 },
		{ "smooth 0.3 m, tau 30 s", 0.3, 30, 0, 0.93, 0.97, 0.001 },
		{ "AR(1) 2 m, tau 7 s", 2, 7, 0, 0.93, 0.97, 0 },
		{ "white 2 m", 2, 0, 1, 0.93, 0.97, 0 },
	};
	size_t	i;
	const char *only = getenv("DOMAIN_CASE");

	diag("| input                  |     n | const-acc p95 | final p95 | "
	    "in sigma/v | coverage |");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (only == NULL || atoi(only) == (int)i)
			test_undeclared_case(sc, &cases[i]);
	sc->sc_sigma = 0;
	sc->sc_tau = 0;
}

int
main(void)
{
	struct sim_cfg		sc;
	struct timing_cfg	tc;

	plan_lazy();
	sim_cfg_default(&sc);
	/* another seed, to check the figures are not one course's luck */
	if (getenv("DOMAIN_SEED") != NULL)
		sc.sc_seed = strtoull(getenv("DOMAIN_SEED"), NULL, 10);
	timing_cfg_default(&tc);
	if (getenv("DOMAIN_CASE") != NULL) {
		test_undeclared(&sc);
		return tap_done();
	}
	/* declared: the noise model as the receiver's maker states it */
	tc.tc_auto = 0;
	tc.tc_use_hdop = 0;
	diag("| noise   | speed band    | method    |    n | p50 (ms) | p95 (ms) |");
	test_noise_free(&sc, &tc);
	test_white(&sc, &tc);
	test_ar1(&sc, &tc);
	test_jitter(&sc, &tc);
	test_undeclared(&sc);
	return tap_done();
}
