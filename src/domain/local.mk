# src/domain: racing rules, pure computation, no I/O.  Includes domain/ and
# the position type (codec/position.h) only.
libdomain_a_SOURCES += src/domain/geo.c src/domain/geo.h \
	src/domain/fix.c src/domain/fix.h \
	src/domain/gate.c src/domain/gate_smooth.c src/domain/gate.h \
	src/domain/zone.c src/domain/waypoint.c src/domain/zone.h \
	src/domain/stage.c src/domain/stage.h \
	src/domain/noise.c src/domain/noise.h \
	src/domain/iomap.c src/domain/iomap_file.c src/domain/iomap_render.c \
	src/domain/iomap.h

# The simulator (tools/racesim/) drives the precision tests.
SIM_CPPFLAGS = $(TAP_CPPFLAGS) -I$(top_srcdir)/tools/racesim

check_PROGRAMS += t/unit/domain-precision.t
t_unit_domain_precision_t_SOURCES = t/unit/domain-precision.c
t_unit_domain_precision_t_CPPFLAGS = $(SIM_CPPFLAGS)
t_unit_domain_precision_t_LDADD = libracesim.a libdomain.a $(TAP_LIBS)

check_PROGRAMS += t/unit/domain-geo.t
t_unit_domain_geo_t_SOURCES = t/unit/domain-geo.c
t_unit_domain_geo_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_domain_geo_t_LDADD = libdomain.a $(TAP_LIBS)

check_PROGRAMS += t/unit/domain-zone.t
t_unit_domain_zone_t_SOURCES = t/unit/domain-zone.c
t_unit_domain_zone_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_domain_zone_t_LDADD = libdomain.a $(TAP_LIBS)

check_PROGRAMS += t/unit/domain-stage.t
t_unit_domain_stage_t_SOURCES = t/unit/domain-stage.c
t_unit_domain_stage_t_CPPFLAGS = $(SIM_CPPFLAGS)
t_unit_domain_stage_t_LDADD = libracesim.a libdomain.a $(TAP_LIBS)

check_PROGRAMS += t/unit/domain-iomap.t
t_unit_domain_iomap_t_SOURCES = t/unit/domain-iomap.c
t_unit_domain_iomap_t_CPPFLAGS = $(TAP_CPPFLAGS)
t_unit_domain_iomap_t_LDADD = libdomain.a $(TAP_LIBS)

# The IO dictionary the daemon reads when the io_mappings table is absent.
pkgiodir = $(pkgdatadir)/io
dist_pkgio_DATA = data/io/teltonika.tsv
EXTRA_DIST += sql/directus/0001_contract.sql sql/directus/0002_io_mappings_seed.sql \
	docs/timing.md
