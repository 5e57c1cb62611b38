# src/main.c: options, then the master (or one worker with -n) takes over.
sbin_PROGRAMS += src/processor
src_processor_SOURCES = src/main.c
src_processor_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
src_processor_LDADD = $(PROCESSOR_LIBS)

check_PROGRAMS += t/unit/sanity.t
t_unit_sanity_t_SOURCES = t/unit/sanity.c
t_unit_sanity_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_sanity_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

EXTRA_DIST += sql/0001_positions.sql sql/0002_race.sql sql/0003_events.sql sql/0004_backfill.sql sql/0005_timing_history.sql sql/0006_race_mark_keys.sql sql/0007_race_marks.sql
