# src/codec: payload JSON -> struct position; pure, no I/O.  Includes util/.
libprocessor_a_SOURCES += \
	src/codec/position.h \
	src/codec/codec.c src/codec/codec.h \
	src/codec/jscan.c src/codec/jscan.h \
	src/codec/b64.c src/codec/b64.h \
	src/codec/tstamp.c src/codec/tstamp.h

check_PROGRAMS += t/unit/codec.t
t_unit_codec_t_SOURCES = t/unit/codec.c
t_unit_codec_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_codec_t_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
t_unit_codec_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
