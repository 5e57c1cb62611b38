# supervisor area fragment (included by Makefile.am): the master process model.

libprocessor_a_SOURCES += \
	src/master.c src/master.h \
	src/supervise.c src/supervise.h \
	src/pacing.c src/pacing.h \
	src/ipc.c src/ipc.h \
	src/wlink.c src/wlink.h \
	src/http.c src/http.h \
	src/prom.c src/prom.h \
	src/notify.c src/notify.h \
	src/lag.c src/lag.h

check_PROGRAMS += t/unit/ipc.t t/unit/prom.t t/unit/pacing.t t/unit/wlink.t t/unit/notify.t
t_unit_ipc_t_SOURCES = t/unit/ipc.c
t_unit_ipc_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_prom_t_SOURCES = t/unit/prom.c
t_unit_prom_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_pacing_t_SOURCES = t/unit/pacing.c
t_unit_pacing_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_wlink_t_SOURCES = t/unit/wlink.c
t_unit_wlink_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_notify_t_SOURCES = t/unit/notify.c
t_unit_notify_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

EXTRA_DIST += t/200-super-drain.t t/201-super-kill9.t t/202-super-sigterm.t \
	t/203-super-reload.t t/204-super-two-masters.t t/205-super-readyz.t \
	t/206-super-notify.t t/207-super-crashloop.t t/208-super-cli.t \
	t/209-super-http-limits.t t/210-super-stop-timeout.t t/211-super-permanent.t
