# src/util: buffers, logging, backoff, Redis URL, connect and deadlines, exit codes, the
# crash report and the test fault hooks.  Knows nothing of the daemon;
# includes only util/.
libprocessor_a_SOURCES += \
	src/util/buf.c src/util/buf.h \
	src/util/log.c src/util/log.h \
	src/util/backoff.c src/util/backoff.h \
	src/util/redisurl.c src/util/redisurl.h \
	src/util/redisconn.c src/util/redisconn.h \
	src/util/redisguard.c src/util/redisguard.h \
	src/util/crash.c src/util/crash.h \
	src/util/fault.c src/util/fault.h \
	src/util/procstat.c src/util/procstat.h \
	src/util/exitcodes.h

check_PROGRAMS += t/unit/log.t
t_unit_log_t_SOURCES = t/unit/log.c
t_unit_log_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_log_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

check_PROGRAMS += t/unit/redisguard.t
t_unit_redisguard_t_SOURCES = t/unit/redisguard.c
t_unit_redisguard_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_redisguard_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
