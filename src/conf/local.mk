# src/conf: the configuration (INI file, environment overrides, validation).
# Includes util/ only.
libprocessor_a_SOURCES += src/conf/config.c src/conf/config.h

check_PROGRAMS += t/unit/config.t
t_unit_config_t_SOURCES = t/unit/config.c
t_unit_config_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_config_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)

dist_man_MANS += man/processor.conf.5
EXTRA_DIST += etc/processor.conf t/data/config
