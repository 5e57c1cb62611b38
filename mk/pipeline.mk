# pipeline area fragment (included by Makefile.am)
sbin_PROGRAMS += src/processor
src_processor_SOURCES = src/main.c
src_processor_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
src_processor_LDADD = $(PROCESSOR_LIBS)

check_PROGRAMS += t/unit/sanity.t
t_unit_sanity_t_SOURCES = t/unit/sanity.c
t_unit_sanity_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

libprocessor_a_SOURCES += src/core/redisurl.c src/core/redisurl.h \
	src/core/batch.c src/core/batch.h \
	src/core/consume.c src/core/consume.h
libprocessor_a_SOURCES += src/core/write.c src/core/write.h
libprocessor_a_SOURCES += src/migrate.c src/migrate.h \
	src/migrate_files.c src/migrate_files.h
libprocessor_a_SOURCES += src/core/sink.c src/core/sink.h
libprocessor_a_SOURCES += src/core/pipeline.c src/core/pipeline.h
libprocessor_a_SOURCES += src/worker.c src/worker.h src/fault.c src/fault.h src/exitcodes.h

check_PROGRAMS += t/unit/core.t
t_unit_core_t_SOURCES = t/unit/core.c
t_unit_core_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
libprocessor_a_SOURCES += src/crash.c src/crash.h
libprocessor_a_SOURCES += src/core/redisconn.c src/core/redisconn.h

EXTRA_DIST += OPERATIONS.md sql/0001_positions.sql \
	t/100-pipeline.t t/300-poison-zoo.t t/310-delivery-limit.t \
	t/320-server-faults.t t/330-claim.t t/340-slow-db.t t/350-kill.t
libprocessor_a_SOURCES += src/core/backoff.c src/core/backoff.h
