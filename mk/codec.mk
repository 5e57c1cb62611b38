# codec area fragment (included by Makefile.am)
libprocessor_a_SOURCES += src/core/codec.c src/core/jscan.c src/core/jscan.h \
	src/core/b64.c src/core/b64.h src/core/tstamp.c src/core/tstamp.h

check_PROGRAMS += t/unit/codec.t
t_unit_codec_t_SOURCES = t/unit/codec.c
t_unit_codec_t_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
t_unit_codec_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

noinst_PROGRAMS += tools/codec-bench
tools_codec_bench_SOURCES = tools/codec-bench.c
tools_codec_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tools_codec_bench_LDADD = $(PROCESSOR_LIBS)
