# src/proc: process machinery without policy: the worker table (fork, reap,
# respawn), respawn pacing, framed messages over socketpairs.  Calls the
# master only through the callback table it is given.  Includes util/, wire/.
libprocessor_a_SOURCES += \
	src/proc/supervise.c src/proc/supervise.h \
	src/proc/pacing.c src/proc/pacing.h \
	src/proc/ipc.c src/proc/ipc.h

check_PROGRAMS += t/unit/ipc.t t/unit/pacing.t
t_unit_ipc_t_SOURCES = t/unit/ipc.c
t_unit_ipc_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_ipc_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_pacing_t_SOURCES = t/unit/pacing.c
t_unit_pacing_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_pacing_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
