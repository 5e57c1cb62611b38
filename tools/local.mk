# tools/: programs for tests and benchmarks, never installed.
# tools/gen: sample record generator (quickstart, tests, scripts/bench).
noinst_PROGRAMS += tools/gen
tools_gen_SOURCES = tools/gen.c
tools_gen_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)
tools_gen_LDADD = $(HIREDIS_LIBS) -lm

# tools/race-event: a sample event from a racesim run (SQL and RESP; scripts/quickstart).
EXTRA_DIST += tools/race-event

# tools/racesim: the race simulator (library + command line).
libracesim_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/racesim
libracesim_a_SOURCES += tools/racesim/sim.c tools/racesim/sim_drive.c \
	tools/racesim/sim.h tools/racesim/sim_rng.c tools/racesim/sim_rng.h
noinst_PROGRAMS += tools/racesim/racesim
tools_racesim_racesim_SOURCES = tools/racesim/racesim.c
tools_racesim_racesim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/racesim
tools_racesim_racesim_LDADD = libracesim.a libdomain.a -lm
