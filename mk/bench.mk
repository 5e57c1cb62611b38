# bench area fragment (included by Makefile.am): benchmark helpers (scripts/bench,
# docs/benchmark.md, t/800-bench-smoke.t).
noinst_PROGRAMS += tools/bench/bench-codec
tools_bench_bench_codec_SOURCES = tools/bench/codec-bench.c
tools_bench_bench_codec_LDADD = $(PROCESSOR_LIBS)

EXTRA_DIST += scripts/bench tools/bench/Bench.pm t/800-bench-smoke.t docs/benchmark.md
