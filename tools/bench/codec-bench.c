/*
 * bench-codec: ns per record of codec_decode over payloads read from a file
 * (lines "payload <json>" as printed by tools/gen -o; other lines skipped).
 * Decodes the whole set ITER times after one warm-up pass and prints a JSON
 * summary.  Under callgrind use --toggle-collect=codec_decode and divide the
 * collected instructions by the "decoded" count it prints.
 *
 * With -m DICT (an IO dictionary file, data/io/teltonika.tsv) it also times
 * iomap_render, the decoded column, over the bags the codec wrote, with the
 * dictionary's first family as the worker would use it by default
 * (callgrind: --toggle-collect=iomap_render).  -d prints what the codec
 * made of each record (fields and bag, or the verdict) and, with -m, each
 * decoded column, one per line, instead of timing (to compare two builds).
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "codec/codec.h"
#include "domain/iomap.h"

struct rec {
	char	*r_p;
	size_t	 r_len;
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-codec -f payloads [-i iterations] [-n max_records] [-w]"
	    " [-m io_dictionary] [-d]\n");
	exit(64);
}

/* One line per record: every field of the position and the bag, or the verdict. */
static void
dump_decoded(const struct rec *recs, size_t nrec)
{
	struct buf		 attrs;
	struct position		 p;
	struct codec_error	 err;
	size_t			 i;

	buf_init(&attrs);
	for (i = 0; i < nrec; i++) {
		buf_reset(&attrs);
		if (codec_decode(recs[i].r_p, recs[i].r_len, NULL, &p, &attrs, &err) == -1) {
			printf("%zu %s %s\n", i, codec_reason_code(err.ce_reason), err.ce_msg);
			continue;
		}
		printf("%zu %s %" PRId64 " %.17g %.17g %.17g %.17g %d %d %d %d %u %.*s\n",
		    i, p.p_device, p.p_ts_us, p.p_lat, p.p_lon, p.p_altitude, p.p_speed,
		    (int)p.p_event_io, p.p_angle, p.p_satellites, p.p_priority,
		    (unsigned)p.p_has, (int)p.p_attrs_len, p.p_attrs);
	}
	buf_free(&attrs);
}

/*
 * ns per record of iomap_render over the bags of recs (decoded once here),
 * or -1 on an error (printed).
 */
static double
bench_render(const char *mapfile, const struct rec *recs, size_t nrec, long iters,
    int dump, uint64_t *rendered)
{
	struct iomap			 map = { .im_nfam = 0 };
	const struct iomap_family	*fam;
	struct buf			 bags;
	struct position			 pos;
	struct codec_error		 err;
	size_t				*off, nbag = 0, i, nunknown;
	uint16_t			 unknown[IOMAP_MAX_UNKNOWN];
	char				 msg[256], *out;
	size_t				 cap = 64 * 1024;
	double				 t0, dt;
	long				 it;
	int				 n;

	if (iomap_load(&map, mapfile, msg, sizeof(msg)) == -1) {
		fprintf(stderr, "bench-codec: %s: %s\n", mapfile, msg);
		return -1;
	}
	fam = iomap_first_family(&map);
	buf_init(&bags);
	if ((off = calloc(nrec + 1, sizeof(*off))) == NULL ||
	    (out = malloc(cap)) == NULL) {
		fprintf(stderr, "bench-codec: out of memory\n");
		return -1;
	}
	for (i = 0; i < nrec; i++)
		if (codec_decode(recs[i].r_p, recs[i].r_len, NULL, &pos, &bags, &err) == 0)
			off[++nbag] = bags.b_len;
	t0 = now_s();
	for (it = 0; it < iters; it++)
		for (i = 0; i < nbag; i++) {
			if ((n = iomap_render(fam, bags.b_data + off[i], off[i + 1] - off[i],
			    out, cap, unknown, &nunknown, IOMAP_MAX_UNKNOWN)) < 0) {
				fprintf(stderr, "bench-codec: iomap_render failed on bag %zu\n", i);
				return -1;
			}
			if (dump)
				printf("%.*s\n", n, out);
			(*rendered)++;
		}
	dt = now_s() - t0;
	free(out);
	free(off);
	buf_free(&bags);
	iomap_free(&map);
	return *rendered ? dt * 1e9 / (double)*rendered : 0;
}

int
main(int argc, char *argv[])
{
	const char		*file = NULL, *mapfile = NULL;
	FILE			*f;
	struct rec		*recs = NULL;
	size_t			 nrec = 0, cap = 0, maxrec = (size_t)-1, i, bytes = 0;
	char			*line = NULL;
	size_t			 lcap = 0;
	ssize_t			 len;
	long			 iters = 20, it;
	int			 ch, warm = 1, dump = 0;
	uint64_t		 ok = 0, bad = 0, decoded = 0, rendered = 0;
	struct buf		 attrs;
	struct position		 pos;
	struct codec_error	 err;
	double			 t0, dt, render_ns = 0;

	while ((ch = getopt(argc, argv, "df:i:m:n:w")) != -1) {
		switch (ch) {
		case 'd': dump = 1; break;
		case 'f': file = optarg; break;
		case 'i': iters = atol(optarg); break;
		case 'm': mapfile = optarg; break;
		case 'n': maxrec = (size_t)strtoull(optarg, NULL, 10); break;
		case 'w': warm = 0; break;
		default: usage();
		}
	}
	if (file == NULL || iters < 1)
		usage();
	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	while (nrec < maxrec && (len = getline(&line, &lcap, f)) > 0) {
		if (strncmp(line, "payload ", 8) != 0)
			continue;
		if (line[len - 1] == '\n')
			len--;
		if (nrec == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((recs = realloc(recs, cap * sizeof(*recs))) == NULL)
				return 1;
		}
		recs[nrec].r_len = (size_t)len - 8;
		if ((recs[nrec].r_p = malloc(recs[nrec].r_len + 1)) == NULL)
			return 1;
		memcpy(recs[nrec].r_p, line + 8, recs[nrec].r_len);
		recs[nrec].r_p[recs[nrec].r_len] = '\0';
		bytes += recs[nrec].r_len;
		nrec++;
	}
	free(line);
	fclose(f);
	if (nrec == 0) {
		fprintf(stderr, "bench-codec: no payload lines in %s\n", file);
		return 1;
	}
	if (dump)
		dump_decoded(recs, nrec);
	buf_init(&attrs);
	if (warm && !dump) {
		for (i = 0; i < nrec; i++) {
			buf_reset(&attrs);
			(void)codec_decode(recs[i].r_p, recs[i].r_len, NULL, &pos, &attrs, &err);
		}
	}
	t0 = now_s();
	for (it = 0; it < (dump ? 0 : iters); it++) {
		for (i = 0; i < nrec; i++) {
			buf_reset(&attrs);	/* the pipeline reuses one buffer per batch */
			if (codec_decode(recs[i].r_p, recs[i].r_len, NULL, &pos, &attrs, &err) == 0)
				ok++;
			else
				bad++;
			decoded++;
		}
	}
	dt = now_s() - t0;
	if (mapfile != NULL && (render_ns = bench_render(mapfile, recs, nrec,
	    warm && !dump ? iters : 1, dump, &rendered)) < 0)
		return 1;
	if (!dump) {
		printf("{\"records\":%zu,\"iterations\":%ld,\"decoded\":%" PRIu64 ",\"ok\":%" PRIu64
		    ",\"rejected\":%" PRIu64 ",\"bytes_per_record\":%.1f,\"seconds\":%.6f"
		    ",\"ns_per_record\":%.1f,\"mb_per_s\":%.1f",
		    nrec, iters, decoded, ok, bad, (double)bytes / (double)nrec, dt,
		    dt * 1e9 / (double)decoded, (double)bytes * (double)iters / dt / 1e6);
		if (mapfile != NULL)
			printf(",\"rendered\":%" PRIu64 ",\"render_ns_per_record\":%.1f",
			    rendered, render_ns);
		printf("}\n");
	}
	buf_free(&attrs);
	for (i = 0; i < nrec; i++)
		free(recs[i].r_p);
	free(recs);
	return 0;
}
