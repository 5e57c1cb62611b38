# src/core: the worker's data path: consume (Redis), batch, write
# (PostgreSQL), per-device state, the pipeline that ties them, and the sink
# hooks the domain plugs into.  Includes util/, conf/, codec/, wire/.
libprocessor_a_SOURCES += \
	src/core/batch.c src/core/batch.h \
	src/core/consume.c src/core/consume.h \
	src/core/write.c src/core/write.h \
	src/core/state.c src/core/state.h \
	src/core/sink.c src/core/sink.h \
	src/core/pipeline.c src/core/pipeline.h \
	src/core/readbudget.c src/core/readbudget.h

check_PROGRAMS += t/unit/core.t t/unit/state.t
t_unit_core_t_SOURCES = t/unit/core.c
t_unit_core_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_core_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
t_unit_state_t_SOURCES = t/unit/state.c
t_unit_state_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_state_t_LDADD = $(TAP_LIBS) $(PROCESSOR_LIBS)
