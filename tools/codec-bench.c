/* Micro-benchmark of codec_decode over a generated, realistic record mix. */
/*
 * Usage: tools/codec-bench [records]        (default 1000000)
 * Instructions per record, counting only inside codec_decode:
 *   valgrind --tool=callgrind --toggle-collect=codec_decode \
 *       --callgrind-out-file=/tmp/cg.out tools/codec-bench 100000
 *   callgrind_annotate /tmp/cg.out | head -30
 * and divide PROGRAM TOTALS by 100000.  The same profile shows no malloc
 * under codec_decode: the only allocation is the caller's buf growing.
 * BENCH_JANSSON=1 also times jansson parsing the same records (a yardstick
 * that suffers the same machine load).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "core/codec.h"

#define BENCH_RECORDS	4096	/* distinct payloads, decoded round robin */

static uint32_t	 bench_rng = 2463534242u;

static uint32_t
bench_rnd(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 17;
	bench_rng ^= bench_rng << 5;
	return bench_rng;
}

static double
bench_ns(const struct timespec *t0, const struct timespec *t1)
{
	return (t1->tv_sec - t0->tv_sec) * 1e9 + (t1->tv_nsec - t0->tv_nsec);
}

/* jansson parsing the same records, as a yardstick that shares the load. */
static double
bench_jansson(const struct buf *src, const size_t *off, long n)
{
	struct timespec	 t0, t1;
	json_error_t	 je;
	json_t		*js;
	long		 i;
	int		 r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		r = (int)(i % BENCH_RECORDS);
		js = json_loadb(src->b_data + off[r], off[r + 1] - off[r],
		    JSON_REJECT_DUPLICATES, &je);
		json_decref(js);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return bench_ns(&t0, &t1) / (double)n;
}

static void
bench_b64(struct buf *b, size_t n)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		 raw[64];
	size_t			 i;
	uint32_t		 v;

	for (i = 0; i < n; i++)
		raw[i] = (unsigned char)bench_rnd();
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)raw[i] << 16 | (i + 1 < n ? raw[i + 1] : 0) << 8 |
		    (i + 2 < n ? raw[i + 2] : 0);
		buf_putc(b, tab[v >> 18]);
		buf_putc(b, tab[(v >> 12) & 63]);
		buf_putc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_putc(b, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* One record shaped like tcp-ingestion's output for a Teltonika FMB device. */
static void
bench_record(struct buf *b, int i)
{
	static const int	 ids[] = { 239, 240, 80, 21, 200, 69, 181, 182,
	    66, 24, 205, 206, 67, 68, 13, 17, 18, 19, 15, 16, 11, 14 };
	uint32_t		 r = bench_rnd();
	int			 n, k;

	buf_printf(b, "{\"device_id\":\"3563070424%05d\",\"timestamp\":"
	    "\"2026-04-%02uT%02u:%02u:%02u.%03uZ\",\"latitude\":%.6f,"
	    "\"longitude\":%.6f,\"altitude\":%u,\"angle\":%u,\"satellites\":%u,"
	    "\"speed\":%u,\"priority\":%u,\"event_io_id\":%u,\"attributes\":{",
	    (int)(bench_rnd() % 1000), 1 + r % 28, r % 24, (r >> 5) % 60,
	    (r >> 11) % 60, (r >> 17) % 1000,
	    45.0 + (bench_rnd() % 1000000) / 1e6,
	    15.0 + (bench_rnd() % 1000000) / 1e6, bench_rnd() % 2000,
	    bench_rnd() % 361, bench_rnd() % 20, bench_rnd() % 200,
	    bench_rnd() % 3, i % 5 == 0 ? 239 : 0);
	n = 12 + (int)(bench_rnd() % 9);
	for (k = 0; k < n; k++) {
		if (k)
			buf_putc(b, ',');
		buf_printf(b, "\"%d\":%u", ids[k], bench_rnd() % 70000);
	}
	if (bench_rnd() % 10 == 0)
		buf_printf(b, ",\"78\":{\"__bigint\":\"%u%09u%u\"}",
		    1 + bench_rnd() % 18, bench_rnd() % 1000000000,
		    bench_rnd() % 10);
	if (bench_rnd() % 20 == 0) {
		buf_puts(b, ",\"385\":{\"__buffer_b64\":\"");
		bench_b64(b, 8 + bench_rnd() % 57);
		buf_puts(b, "\"}");
	}
	buf_puts(b, "}}");
}

int
main(int argc, char *argv[])
{
	struct codec_limits	 lim = { 0, 0, 0, 0 };
	struct position		 pos;
	struct codec_error	 err;
	struct buf		 src, attrs;
	size_t			 off[BENCH_RECORDS + 1], bytes = 0;
	struct timespec		 t0, t1;
	long			 n, i, fails = 0;
	double			 ns;
	int			 r;

	n = argc > 1 ? atol(argv[1]) : 1000000;
	buf_init(&src);
	buf_init(&attrs);
	for (r = 0; r < BENCH_RECORDS; r++) {
		off[r] = src.b_len;
		bench_record(&src, r);
	}
	off[BENCH_RECORDS] = src.b_len;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		r = (int)(i % BENCH_RECORDS);
		buf_reset(&attrs);
		if (codec_decode(src.b_data + off[r], off[r + 1] - off[r], &lim,
		    &pos, &attrs, &err) == -1 && fails++ == 0)
			fprintf(stderr, "record %d: %s: %s\n", r,
			    codec_reason_code(err.ce_reason), err.ce_msg);
		bytes += off[r + 1] - off[r];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = bench_ns(&t0, &t1);
	printf("%ld records, %.0f bytes/record avg, %ld failures\n", n,
	    (double)bytes / (double)n, fails);
	printf("codec_decode: %.1f ns/record, %.2f GB/s\n", ns / (double)n,
	    (double)bytes / ns);
	if (getenv("BENCH_JANSSON") != NULL)
		printf("jansson json_loadb+decref: %.1f ns/record\n",
		    bench_jansson(&src, off, n));
	buf_free(&src);
	buf_free(&attrs);
	return fails != 0;
}
