# control area fragment (included by Makefile.am): the master's control socket and processorctl.

libprocessor_a_SOURCES += \
	src/control.c src/control.h src/ctlop.h \
	src/ctlredis.c src/ctlwork.c \
	src/ctlproto.c src/ctlproto.h \
	src/ctlipc.h

bin_PROGRAMS += src/processorctl
src_processorctl_SOURCES = src/processorctl.c
src_processorctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_processorctl_LDADD = libprocessor.a $(JANSSON_LIBS)

dist_man_MANS += man/processorctl.8

check_PROGRAMS += t/unit/ctl.t
t_unit_ctl_t_SOURCES = t/unit/ctl.c
t_unit_ctl_t_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
t_unit_ctl_t_LDADD = $(TAP_LIBS) libprocessor.a $(JANSSON_LIBS)

EXTRA_DIST += t/lib/CtlTest.pm
EXTRA_DIST += t/400-ctl-status.t t/410-ctl-dlq.t t/420-ctl-device.t \
	t/430-ctl-drain-claim.t t/440-ctl-socket.t
