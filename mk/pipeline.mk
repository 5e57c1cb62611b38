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
