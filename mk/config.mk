# config area fragment (included by Makefile.am): configuration loader,
# per-device state, their unit tests, example config and man page.
libprocessor_a_SOURCES += src/config.c src/core/state.c

check_PROGRAMS += t/unit/config.t t/unit/state.t
t_unit_config_t_SOURCES = t/unit/config.c
t_unit_config_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_state_t_SOURCES = t/unit/state.c
t_unit_state_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

dist_man_MANS += man/processor.conf.5
EXTRA_DIST += etc/processor.conf t/data/config
