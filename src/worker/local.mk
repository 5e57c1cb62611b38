# src/worker: a worker process: its loop, signals, and its link to the master.
# Includes util/, conf/, codec/, wire/, core/, proc/ipc.h.
libprocessor_a_SOURCES += \
	src/worker/worker.c src/worker/worker.h \
	src/worker/wlink.c src/worker/wlink.h

check_PROGRAMS += t/unit/wlink.t
t_unit_wlink_t_SOURCES = t/unit/wlink.c
t_unit_wlink_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_wlink_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
