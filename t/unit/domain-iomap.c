/* IO dictionary: the shipped file, model families, decoding with units, unknown ids, quality flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/iomap.h"
#include "tap.h"

static const char	*srcdir;

static char *
slurp(const char *rel)
{
	char	 path[1024], *buf;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	if ((fp = fopen(path, "r")) == NULL)
		bail("cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((buf = calloc(1, n + 1)) == NULL || fread(buf, 1, n, fp) != (size_t)n)
		bail("cannot read %s", path);
	fclose(fp);
	return buf;
}

static void
test_file(struct iomap *im)
{
	static const char *const fams[] = { "fmb", "fmc", "fm64" };
	static const uint16_t	need[] = { 239, 240, 16, 66, 67, 21, 24, 69, 181,
	    182, 199, 200, 113, 318 };
	const struct iomap_family *f;
	char			 path[1024], err[256], *seed, want[256];
	size_t			 i, k, seen = 0, total = 0;
	int			 all;

	snprintf(path, sizeof(path), "%s/data/io/teltonika.tsv", srcdir);
	if (iomap_load(im, path, err, sizeof(err)) == -1)
		bail("dictionary does not load: %s", err);
	ok(strcmp(im->im_version, "2026.11.1") == 0, "dictionary loads, version %s",
	    im->im_version);
	for (i = 0; i < 3; i++) {
		f = iomap_family(im, fams[i]);
		ok(f != NULL && f->if_n >= 25, "family %s has %zu ids", fams[i],
		    f ? f->if_n : 0);
		for (k = 0, all = f != NULL; f && k < sizeof(need) / sizeof(need[0]); k++)
			all &= iomap_lookup(f, need[k]) != NULL;
		ok(all, "family %s maps the required ids", fams[i]);
	}
	seed = slurp("sql/directus/0002_io_mappings_seed.sql");
	for (i = 0; i < (size_t)im->im_nfam; i++)
		for (k = 0; k < im->im_fam[i].if_n; k++) {
			const struct iomap_entry *e = &im->im_fam[i].if_ent[k];

			snprintf(want, sizeof(want), "('%s', %u, '%s', ",
			    im->im_fam[i].if_name, e->ie_id, e->ie_key);
			seen += strstr(seed, want) != NULL;
			total++;
		}
	ok(seen == total && total > 100, "SQL seed holds all %zu dictionary rows (%zu)",
	    total, seen);
	free(seed);
	ok(iomap_for_model(im, "FMB920") == iomap_family(im, "fmb"), "FMB920 -> fmb");
	ok(iomap_for_model(im, "FMC130") == iomap_family(im, "fmc"), "FMC130 -> fmc");
	ok(iomap_for_model(im, "FMC650") == iomap_family(im, "fm64"), "FMC650 -> fm64");
	ok(iomap_for_model(im, "fmb640") == iomap_family(im, "fm64"),
	    "fmb640 -> fm64 (longest prefix, any case)");
	ok(iomap_for_model(im, "GT06") == NULL, "unknown model: no family");
}

static void
test_decode(const struct iomap *im)
{
	const struct iomap_family *fmb = iomap_family(im, "fmb");
	const struct iomap_family *fm64 = iomap_family(im, "fm64");
	struct io_value		 in[8];
	struct io_decoded	 out[8];
	struct io_report	 ir;
	int			 n;

	memset(in, 0, sizeof(in));
	in[0] = (struct io_value){ 239, IOV_INT, 1, 0, NULL };
	in[1] = (struct io_value){ 66, IOV_INT, 12743, 0, NULL };
	in[2] = (struct io_value){ 182, IOV_INT, 9, 0, NULL };
	in[3] = (struct io_value){ 16, IOV_INT, 123456, 0, NULL };
	in[4] = (struct io_value){ 113, IOV_INT, 87, 0, NULL };
	in[5] = (struct io_value){ 318, IOV_INT, 2, 0, NULL };
	in[6] = (struct io_value){ 9999, IOV_INT, 5, 0, NULL };
	in[7] = (struct io_value){ 78, IOV_RAW, 0, 0, "18446744073709551615" };
	n = iomap_decode(fmb, in, 8, 11, 4.0, out, 8, &ir);
	is_int(n, 8, "all elements decoded or kept");
	ok(strcmp(out[0].id_key, "ignition") == 0 && out[0].id_value == 1 &&
	    out[0].id_type == IOT_BOOL, "239 ignition bool");
	ok(strcmp(out[1].id_key, "external_voltage") == 0 &&
	    is_double(out[1].id_value, 12.743, 1e-9, "66 mV -> V") &&
	    strcmp(out[1].id_unit, "V") == 0, "66 external voltage in V");
	is_double(out[2].id_value, 0.9, 1e-12, "182 HDOP x 0.1");
	ok(strcmp(out[3].id_unit, "m") == 0 && out[3].id_value == 123456, "16 odometer m");
	is_string(out[4].id_key, "battery_level", "113 on FMB: battery level");
	ok(ir.ir_quality & IOQ_JAMMING, "318 = 2 on FMB: GNSS jamming flagged");
	ok(!out[6].id_known && strcmp(out[6].id_key, "io9999") == 0 &&
	    out[6].id_value == 5, "unknown id kept raw as io9999");
	ok(ir.ir_nunknown == 1 && ir.ir_unknown[0] == 9999, "unknown id reported");
	ok(out[7].id_type == IOT_RAW && strcmp(out[7].id_raw,
	    "18446744073709551615") == 0, "78 iButton kept as exact text");
	ok(!(ir.ir_quality & (IOQ_NO_FIX | IOQ_HIGH_HDOP)), "good fix: no other flags");
	is_double(ir.ir_hdop, 0.9, 1e-12, "report carries HDOP");

	n = iomap_decode(fm64, in, 8, 11, 4.0, out, 8, &ir);
	is_string(out[4].id_key, "service_distance", "113 on FM64x: service distance");
	is_string(out[5].id_key, "me_speed", "318 on FM64x: ME speed");
	ok(!(ir.ir_quality & IOQ_JAMMING), "318 on FM64x is not jamming");

	in[2].iv_int = 55;
	in[5] = (struct io_value){ 69, IOV_INT, 2, 0, NULL };
	n = iomap_decode(fmb, in, 6, 0, 4.0, out, 8, &ir);
	ok((ir.ir_quality & IOQ_HIGH_HDOP) && (ir.ir_quality & IOQ_NO_FIX),
	    "HDOP 5.5 and no fix flagged");
	n = iomap_decode(NULL, in, 2, -1, 4.0, out, 8, &ir);
	ok(n == 2 && ir.ir_nunknown == 2 && !(ir.ir_quality & IOQ_NO_FIX),
	    "no family: everything raw, no satellite count is not no-fix");
}

static void
test_errors(void)
{
	struct iomap	im;
	char		err[256];
	const char	*bad1 = "version\t1\nio\tfmb\t239\tignition\tboolean\t1\t-\tx\n";
	const char	*bad2 = "io\tfmb\t1\ta\tbool\t1\t-\tx\nio\tfmb\t1\tb\tbool\t1\t-\ty\n";
	const char	*bad3 = "io\tfmb\t70000\ta\tbool\t1\t-\tx\n";
	const char	*bad4 = "colour\tblue\n";

	ok(iomap_parse(&im, bad1, strlen(bad1), err, sizeof(err)) == -1 &&
	    strstr(err, "line 2") && strstr(err, "type"), "bad type: %s", err);
	ok(iomap_parse(&im, bad2, strlen(bad2), err, sizeof(err)) == -1 &&
	    strstr(err, "twice"), "duplicate id: %s", err);
	ok(iomap_parse(&im, bad3, strlen(bad3), err, sizeof(err)) == -1,
	    "id out of range: %s", err);
	ok(iomap_parse(&im, bad4, strlen(bad4), err, sizeof(err)) == -1,
	    "unknown row: %s", err);
	ok(iomap_load(&im, "/nonexistent/io.tsv", err, sizeof(err)) == -1,
	    "missing file: %s", err);
}

int
main(void)
{
	struct iomap	im;

	plan_lazy();
	if ((srcdir = getenv("PROCESSOR_SRCDIR")) == NULL)
		srcdir = ".";
	test_file(&im);
	test_decode(&im);
	test_errors();
	iomap_free(&im);
	return tap_done();
}
