# processorctl/: the command-line client beside the daemon (as relayctl
# beside relayd).  Shares only the wire format, src/wire/ctlproto.
bin_PROGRAMS += processorctl/processorctl
processorctl_processorctl_SOURCES = processorctl/processorctl.c \
	src/wire/ctlproto.c src/wire/ctlproto.h
processorctl_processorctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
processorctl_processorctl_LDADD = $(JANSSON_LIBS)

dist_man_MANS += man/processorctl.8
