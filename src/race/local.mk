# src/race: the racing rules live: the evaluator process (a slot of the
# master's table after the workers), the event configuration read from the
# contract tables, and the evaluation of marked devices into timing_records,
# stage_results and race_penalties.  Includes util/, conf/, wire/, domain/,
# core/sink.h (the mark in the workers' batches) and worker/wlink.h (its
# link to the master).
libprocessor_a_SOURCES += \
	src/race/race.h src/race/race_main.c \
	src/race/race_event.c src/race/race_event.h \
	src/race/race_eval.c src/race/race_eval.h \
	src/race/race_batch.c src/race/race_batch.h src/race/race_batch_int.h \
	src/race/race_batch_arr.c src/race/race_batch_read.c \
	src/race/race_batch_compute.c src/race/race_batch_store.c \
	src/race/race_fixcache.c src/race/race_fixcache.h \
	src/race/race_pg.c src/race/race_pg.h \
	src/race/race_pace.c src/race/race_pace.h \
	src/race/race_cli.c src/race/race_cli.h \
	src/race/race_replay.c src/race/race_evidence.c \
	src/race/race_modes.h src/race/gpx.h src/race/gpx.c \
	src/race/gpx_build.c src/race/gpx_import.c src/race/check.c \
	src/race/race_io.c src/race/race_io.h src/race/race_backfill.c
# safety alerts and domain events (processor-domain(7))
libprocessor_a_SOURCES += \
	src/race/race_alert.c src/race/race_alert.h \
	src/race/race_events.c src/race/race_events.h

# the evaluator's fix cache (pure: no database)
check_PROGRAMS += t/unit/race-fixcache.t
t_unit_race_fixcache_t_SOURCES = t/unit/race-fixcache.c
t_unit_race_fixcache_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_race_fixcache_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

# catch-up pacing's table (pure: no database)
check_PROGRAMS += t/unit/race-pace.t
t_unit_race_pace_t_SOURCES = t/unit/race-pace.c
t_unit_race_pace_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_race_pace_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
