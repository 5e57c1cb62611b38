/* racesim: simulated race with exact truth; prints Position JSON records for XADD, truth and stage files. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

struct rs_rec {
	struct fix	r_fix;
	int		r_veh;
};

static __attribute__((noreturn)) void
racesim_usage(void)
{
	fprintf(stderr, "usage: racesim [-s seed] [-n vehicles] [-r rate_hz] "
	    "[-e sigma_m] [-t tau_s] [-l loss] [-j jitter_ms]\n"
	    "               [-T truth.tsv] [-S stage.json]\n");
	exit(2);
}

static int
racesim_cmp(const void *va, const void *vb)
{
	const struct rs_rec	*a = va, *b = vb;

	if (a->r_fix.f_ts_us != b->r_fix.f_ts_us)
		return a->r_fix.f_ts_us < b->r_fix.f_ts_us ? -1 : 1;
	return a->r_veh - b->r_veh;
}

static double
racesim_ms(const struct sim_cfg *sc, double t)
{
	return (double)sc->sc_t0_us / 1000.0 + t * 1000.0;
}

static void
racesim_truth(FILE *fp, const struct sim_stage *st, const struct sim_cfg *sc,
    const struct sim_vehicle *sv)
{
	static const char *const kinds[] = { "start", "split", "finish" };
	const struct sim_truth	*tt = &sv->sv_truth;
	int			 k;

	for (k = 0; k < st->st_ngate; k++)
		fprintf(fp, "%s\tgate\t%d\t%s\t%.3f\t%.3f\n", sv->sv_id, k,
		    kinds[st->st_gate[k].sg_kind], racesim_ms(sc, tt->tt_gate[k]),
		    tt->tt_gate_v[k] * 3.6);
	for (k = 0; k < st->st_nwp; k++)
		fprintf(fp, "%s\twaypoint\t%d\t%s\t%.2f\n", sv->sv_id, k,
		    tt->tt_wp_dmin[k] <= st->st_wp[k].sw_clear ? "validated" :
		    "missed", tt->tt_wp_dmin[k]);
	for (k = 0; k < st->st_nzone; k++)
		fprintf(fp, "%s\tzone\t%d\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\n",
		    sv->sv_id, k, racesim_ms(sc, tt->tt_zone_in[k]),
		    racesim_ms(sc, tt->tt_zone_out[k]), tt->tt_zone_over_s[k],
		    tt->tt_zone_excess_kmh[k], tt->tt_zone_avg_kmh[k]);
}

/* The stage in the geometry JSON of the gates table (sql/directus/0001_contract.sql). */
static void
racesim_stage(FILE *fp, const struct sim_stage *st)
{
	static const char *const kinds[] = { "start", "split", "finish" };
	int	k, o = 0;

	fprintf(fp, "[\n");
	for (k = 0; k < st->st_ngate; k++)
		fprintf(fp, "{\"kind\":\"%s\",\"gate_order\":%d,\"direction\":"
		    "\"left_to_right\",\"geometry\":{\"type\":\"line\",\"a\":[%.7f,%.7f],"
		    "\"b\":[%.7f,%.7f]}},\n", kinds[st->st_gate[k].sg_kind], o++,
		    st->st_gate[k].sg_alat, st->st_gate[k].sg_alon,
		    st->st_gate[k].sg_blat, st->st_gate[k].sg_blon);
	for (k = 0; k < st->st_nwp; k++)
		fprintf(fp, "{\"kind\":\"waypoint\",\"gate_order\":%d,\"geometry\":"
		    "{\"type\":\"circle\",\"center\":[%.7f,%.7f],\"open_radius_m\":%.0f,"
		    "\"clear_radius_m\":%.0f}},\n", o++, st->st_wp[k].sw_lat,
		    st->st_wp[k].sw_lon, st->st_wp[k].sw_open, st->st_wp[k].sw_clear);
	for (k = 0; k < st->st_nzone; k++)
		fprintf(fp, "{\"kind\":\"speed_zone\",\"gate_order\":%d,\"geometry\":"
		    "{\"type\":\"circle\",\"center\":[%.7f,%.7f],\"radius_m\":%.0f},"
		    "\"speed_limit_kmh\":%.0f,\"penalty_rule\":{\"kind\":\"time_gained\","
		    "\"factor\":10}}%s\n", o++, st->st_zone[k].sz_lat,
		    st->st_zone[k].sz_lon, st->st_zone[k].sz_radius,
		    st->st_zone[k].sz_limit_kmh, k + 1 < st->st_nzone ? "," : "");
	fprintf(fp, "]\n");
}

static FILE *
racesim_open(const char *path)
{
	FILE	*fp;

	if (path == NULL)
		return NULL;
	if ((fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	return fp;
}

int
main(int argc, char *argv[])
{
	struct sim_cfg		 sc;
	struct sim_stage	 st;
	struct sim_vehicle	*sv;
	struct rs_rec		*rec = NULL;
	const char		*truth = NULL, *stage = NULL;
	FILE			*tf, *sf;
	size_t			 nrec = 0, i, k;
	char			 line[1024];
	int			 ch, n = 10, v;

	sim_cfg_default(&sc);
	while ((ch = getopt(argc, argv, "e:j:l:n:r:s:S:t:T:")) != -1) {
		switch (ch) {
		case 'e': sc.sc_sigma = atof(optarg); break;
		case 'j': sc.sc_jitter_ms = atof(optarg); break;
		case 'l': sc.sc_loss = atof(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'r': sc.sc_rate_hz = atof(optarg); break;
		case 's': sc.sc_seed = strtoull(optarg, NULL, 10); break;
		case 'S': stage = optarg; break;
		case 't': sc.sc_tau = atof(optarg); break;
		case 'T': truth = optarg; break;
		default: racesim_usage();
		}
	}
	if (n < 1 || n > 100000 || !(sc.sc_rate_hz > 0) || sc.sc_sigma < 0)
		racesim_usage();
	if (sim_stage_build(&st, &sc) == -1)
		errx(1, "cannot build a stage");
	tf = racesim_open(truth);
	if ((sf = racesim_open(stage)) != NULL) {
		racesim_stage(sf, &st);
		fclose(sf);
	}
	if ((sv = calloc(n, sizeof(*sv))) == NULL)
		err(1, NULL);
	for (v = 0; v < n; v++) {
		if (sim_vehicle_run(&st, &sc, v, &sv[v]) == -1)
			errx(1, "simulation failed");
		if (tf)
			racesim_truth(tf, &st, &sc, &sv[v]);
		if ((rec = reallocarray(rec, nrec + sv[v].sv_nfix, sizeof(*rec))) == NULL)
			err(1, NULL);
		for (k = 0; k < sv[v].sv_nfix; k++) {
			rec[nrec].r_fix = sv[v].sv_fix[k];
			rec[nrec++].r_veh = v;
		}
	}
	qsort(rec, nrec, sizeof(*rec), racesim_cmp);
	for (i = 0; i < nrec; i++) {
		if (sim_fix_json(&rec[i].r_fix, sv[rec[i].r_veh].sv_id, line,
		    sizeof(line)) == -1)
			errx(1, "record too long");
		puts(line);
	}
	if (tf && fclose(tf) == EOF)
		err(1, "%s", truth);
	for (v = 0; v < n; v++)
		sim_vehicle_free(&sv[v]);
	free(sv);
	free(rec);
	return fflush(stdout) == EOF;
}
