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

static int
render(const struct iomap_family *f, const char *in, char *out, size_t cap,
    uint16_t *unk, size_t *nunk)
{
	int	n;

	n = iomap_render(f, in, strlen(in), out, cap, unk, nunk, 4);
	if (n >= 0)
		out[n] = '\0';
	else if (cap > 0)
		out[0] = '\0';
	return n;
}

static void
test_render(const struct iomap *im)
{
	const struct iomap_family *fmb = iomap_family(im, "fmb");
	const struct iomap_family *fmc = iomap_family(im, "fmc");
	const struct iomap_family *fm64 = iomap_family(im, "fm64");
	char		 out[1024];
	uint16_t	 unk[4];
	size_t		 nunk;
	int		 n;
	const char	*bag = "{\"239\":1,\"240\":0,\"66\":12743,\"182\":9,"
	    "\"16\":123456,\"113\":87,\"68\":250,\"72\":-105,\"78\":"
	    "18446744073709551615,\"385\":\"\\\\x01020304\",\"9999\":5,"
	    "\"13\":7}";

	ok(iomap_first_family(im) == fmb, "first family of the file: fmb");
	render(fmb, bag, out, sizeof(out), unk, &nunk);
	is_string(out, "{\"ignition\":true,\"movement\":false,"
	    "\"external_voltage\":{\"value\":12.743,\"unit\":\"V\"},"
	    "\"hdop\":0.9,\"total_odometer\":{\"value\":123456,\"unit\":\"m\"},"
	    "\"battery_level\":{\"value\":87,\"unit\":\"%\"},"
	    "\"battery_current\":{\"value\":0.25,\"unit\":\"A\"},"
	    "\"dallas_temp1\":{\"value\":-10.5,\"unit\":\"degC\"},"
	    "\"ibutton\":18446744073709551615,\"io385\":\"\\\\x01020304\","
	    "\"io9999\":5,\"fuel_rate_gps\":{\"value\":0.07,\"unit\":\"l/100km\"}}",
	    "fmb: keys, units, multipliers, unknown ids raw");
	ok(nunk == 2 && unk[0] == 385 && unk[1] == 9999, "fmb: unknown 385 and 9999");
	render(fmc, bag, out, sizeof(out), unk, &nunk);
	ok(strstr(out, "\"battery_current\":{\"value\":0.25,\"unit\":\"A\"}") != NULL,
	    "fmc: battery current in A");
	render(fm64, bag, out, sizeof(out), unk, &nunk);
	ok(strstr(out, "\"battery_current\":{\"value\":250,\"unit\":\"mA\"}") != NULL &&
	    strstr(out, "\"service_distance\":{\"value\":87,\"unit\":\"km\"}") != NULL &&
	    strstr(out, "\"module_id\":7") != NULL,
	    "fm64: 68 in mA, 113 service distance, 13 module id");
	render(NULL, "{ \"1\" : 1 , \"x\":[1,{\"a\":\"}\"}], \"2\":{\"b\":2} }",
	    out, sizeof(out), unk, &nunk);
	is_string(out, "{\"io1\":1,\"x\":[1,{\"a\":\"}\"}],\"io2\":{\"b\":2}}",
	    "no family: white space, arrays, objects and other keys kept");
	render(fmb, "{}", out, sizeof(out), unk, &nunk);
	ok(strcmp(out, "{}") == 0 && nunk == 0, "empty bag");
	render(fmb, "{\"66\":1,\"9\":100000,\"181\":0,\"67\":12.5,\"239\":0.5,"
	    "\"240\":true,\"16\":null,\"182\":-3}", out, sizeof(out), unk, &nunk);
	is_string(out, "{\"external_voltage\":{\"value\":0.001,\"unit\":\"V\"},"
	    "\"ain1\":{\"value\":100,\"unit\":\"V\"},\"pdop\":0,"
	    "\"battery_voltage\":{\"value\":0.0125,\"unit\":\"V\"},"
	    "\"ignition\":true,\"movement\":true,"
	    "\"total_odometer\":{\"value\":null,\"unit\":\"m\"},\"hdop\":-0.3}",
	    "edge values: small, round, zero, fractional, literals");
	render(fmb, "{\"16\" :\t123456789012345 ,\"66\":\n12743\r,\"7\":"
	    "1234567890123456789012345,\"65535\":1,\"65536\":2,\"123456\":3,"
	    "\"07\":4,\"0\":5,\"9a\":6,\"239\":1}", out, sizeof(out), unk, &nunk);
	is_string(out, "{\"total_odometer\":{\"value\":123456789012345,"
	    "\"unit\":\"m\"},\"external_voltage\":{\"value\":12.743,"
	    "\"unit\":\"V\"},\"io7\":1234567890123456789012345,\"io65535\":1,"
	    "\"65536\":2,\"123456\":3,\"07\":4,\"io0\":5,\"9a\":6,"
	    "\"ignition\":true}",
	    "values ending in white space or longer than a word; ids of 1..5 "
	    "digits, other digit keys kept");
	ok(nunk == 3 && unk[0] == 7 && unk[1] == 65535 && unk[2] == 0,
	    "unknown ids: 7, 65535, 0");
	render(fmb, "{\"240\":1}", out, sizeof(out), unk, &nunk);
	is_string(out, "{\"movement\":true}", "a one-element bag (value at the end)");
	render(fmb, "{\"16\":12345678901234567890}", out, sizeof(out), unk, &nunk);
	is_string(out, "{\"total_odometer\":{\"value\":12345678901234567890,"
	    "\"unit\":\"m\"}}", "a long last value");
	n = render(fmb, "{\"16\":5}", out, 40, unk, &nunk);
	is_int(n, -1, "one byte short of the output: -1");
	n = render(fmb, "{\"16\":5}", out, 41, unk, &nunk);
	ok(n == 41 && strcmp(out, "{\"total_odometer\":{\"value\":5,"
	    "\"unit\":\"m\"}}") == 0, "a buffer of exactly the output's size");
	n = render(fmb, bag, out, 40, unk, &nunk);
	is_int(n, -1, "too small a buffer: -1");
	n = render(fmb, "[1]", out, sizeof(out), unk, &nunk);
	is_int(n, -2, "not an object: -2");
	n = render(fmb, "{\"1\":", out, sizeof(out), unk, &nunk);
	is_int(n, -2, "truncated: -2");
}

static void
test_table(void)
{
	struct iomap			 im;
	const char			*why = NULL;
	char				 err[128], out[256];
	uint16_t			 unk[4];
	size_t				 nunk;

	memset(&im, 0, sizeof(im));
	ok(iomap_add(&im, "fmb", 66, "ext \"volt\"", "uint", 0.01, "V", &why) == 0 &&
	    iomap_add(&im, "fmb", 239, "ign", "bool", 1, "", &why) == 0,
	    "rows added by hand");
	ok(iomap_add(&im, "fmb", 1, "a", "float", 1, "", &why) == -1, "bad type: %s",
	    why);
	ok(iomap_add(&im, "fmb", 1, "a\n", "bool", 1, "", &why) == -1,
	    "control character: %s", why);
	ok(iomap_finish(&im, err, sizeof(err)) == 0, "finished");
	render(iomap_family(&im, "fmb"), "{\"66\":1234,\"239\":1}", out, sizeof(out),
	    unk, &nunk);
	is_string(out, "{\"ext \\\"volt\\\"\":{\"value\":12.34,\"unit\":\"V\"},"
	    "\"ign\":true}", "table rows: key quoted, multiplier 0.01");
	iomap_free(&im);
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
	test_render(&im);
	test_table();
	test_errors();
	iomap_free(&im);
	return tap_done();
}
