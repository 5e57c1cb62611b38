# src/control: the master's control socket and its commands (processorctl's
# other end).  Reaches workers through the supervisor's send and broadcast
# calls.  Includes util/, conf/, wire/, proc/.
libprocessor_a_SOURCES += \
	src/control/control.c src/control/control.h \
	src/control/control_op.h \
	src/control/control_redis.c \
	src/control/control_work.c

check_PROGRAMS += t/unit/ctl.t
t_unit_ctl_t_SOURCES = t/unit/ctl.c
t_unit_ctl_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_ctl_t_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
t_unit_ctl_t_LDADD = $(TAP_LIBS) libprocessor.a $(JANSSON_LIBS)
