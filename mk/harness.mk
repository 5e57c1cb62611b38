# harness area fragment (included by Makefile.am): sample generator, Perl test harness, scripts
noinst_PROGRAMS += tools/gen
tools_gen_SOURCES = tools/gen.c
tools_gen_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)
tools_gen_LDADD = $(HIREDIS_LIBS) -lm

EXTRA_DIST += t/lib/Harness.pm t/lib/Harness/Redis.pm t/lib/Harness/Pg.pm \
	t/lib/Harness/Processor.pm t/010-harness.t \
	scripts/deps scripts/test scripts/quickstart .ci/run

# Build the compiled unit tests without running them (scripts/test runs them under valgrind).
build-checks: $(check_PROGRAMS)
.PHONY: build-checks
