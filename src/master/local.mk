# src/master: the master process: start-up, migrations, signals, readiness,
# HTTP /metrics /healthz /readyz, the Prometheus text, the lag poll,
# sd_notify.  Includes util/, conf/, wire/, proc/, control/ (it starts the
# control socket) and core/consume.h (the group it ensures at start-up).
libprocessor_a_SOURCES += \
	src/master/master.c src/master/master.h \
	src/master/http.c src/master/http.h \
	src/master/prom.c src/master/prom.h \
	src/master/lag.c src/master/lag.h \
	src/master/notify.c src/master/notify.h \
	src/master/migrate.c src/master/migrate.h \
	src/master/migrate_files.c src/master/migrate_files.h

check_PROGRAMS += t/unit/prom.t t/unit/notify.t
t_unit_prom_t_SOURCES = t/unit/prom.c
t_unit_prom_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_prom_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_notify_t_SOURCES = t/unit/notify.c
t_unit_notify_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_notify_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
