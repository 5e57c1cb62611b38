# src/wire: what crosses a process boundary: the worker's stats snapshot, the
# control messages between master and worker, and the control socket
# protocol processorctl shares.  Includes util/ only.
libprocessor_a_SOURCES += \
	src/wire/metrics.c src/wire/metrics.h \
	src/wire/control_msg.h \
	src/wire/ctlproto.c src/wire/ctlproto.h
