# packaging area fragment (included by Makefile.am): what `make install`
# puts outside bin/sbin, and the files a release tarball needs to build the
# Debian package and the container image.  Lists are explicit (no
# wildcards): add a line when you add a file.

# Man pages written with the packaging; other areas append their own
# (processor.conf.5, processorctl.8) in their fragments.
dist_man_MANS += man/processor.8 man/processor-position.7 man/processor-schema.7 \
	man/processor-domain.7 man/processor-race.8

# The shipped configuration: /etc/processor/processor.conf.  The Debian
# package marks it a conffile and gives it root:processor 0640 (postinst).
# Not dist_: mk/config.mk already puts etc/processor.conf in EXTRA_DIST.
pkgsysconfdir = $(sysconfdir)/processor
pkgsysconf_DATA = etc/processor.conf

# An OpenRally roadbook for processor import gpx (processor-race(8)).
examplesdir = $(docdir)/examples
examples_DATA = t/data/gpx/north.gpx

# Migrations, read at start-up by the master (PKGDATADIR/sql, applied in
# name order), and the contract DDL of the tables Directus owns, for
# operators running without Directus and for the tests.
sqldir = $(pkgdatadir)/sql
dist_sql_DATA = \
	sql/0001_positions.sql \
	sql/0002_race.sql \
	sql/0003_events.sql \
	sql/0004_backfill.sql \
	sql/0005_timing_history.sql \
	sql/0006_race_mark_keys.sql \
	sql/0007_race_marks.sql
# Not dist_: src/domain/local.mk already puts them in EXTRA_DIST.  The
# migration runner only reads NNNN_name.sql files directly in sql/, so this
# subdirectory is never applied.
directussqldir = $(pkgdatadir)/sql/directus
directussql_DATA = \
	sql/directus/0001_contract.sql \
	sql/directus/0002_io_mappings_seed.sql

# bash completion for processorctl(8), where bash-completion loads it from
# by command name: /usr/share/bash-completion/completions/processorctl.
# Not dist_: t/local.mk already puts it in EXTRA_DIST.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = packaging/bash-completion/processorctl

# Prometheus alert rules and a Grafana dashboard, for the operator to copy
# into their monitoring (OPERATIONS.md); scripts/check-monitoring checks them
# (t/021-monitoring.t).  metrics-pending.txt is for that check only.
monitoringdir = $(pkgdatadir)/monitoring
dist_monitoring_DATA = \
	contrib/monitoring/processor.rules.yml \
	contrib/monitoring/processor-dashboard.json

EXTRA_DIST += \
	LICENSE \
	contrib/monitoring/metrics-pending.txt \
	scripts/check-monitoring \
	t/020-quickstart.t \
	t/021-monitoring.t \
	t/910-systemd.t \
	Dockerfile \
	.dockerignore \
	docs/packaging.md \
	packaging/systemd/processor.service \
	packaging/sysusers.d/processor.conf \
	packaging/debian/changelog \
	packaging/debian/control \
	packaging/debian/copyright \
	packaging/debian/rules \
	packaging/debian/processor.install \
	packaging/debian/processor.postinst \
	packaging/debian/processor.postrm \
	packaging/debian/processor.prerm \
	packaging/debian/source/format \
	packaging/debian/tests/control \
	packaging/debian/tests/smoke \
	scripts/build-deb \
	t/900-package.t

# `make deb`: build the Debian package from this source tree into dist/.
deb:
	$(srcdir)/scripts/build-deb

# `make lint-pkg`: the packaging linters that need no build (mandoc is
# required; systemd-analyze and shellcheck run when present).  verify
# checks that ExecStart= exists, so it runs only where /usr/sbin/processor
# is installed (t/900-package.t runs it after installing the .deb).
lint-pkg:
	mandoc -Tlint -Wwarning $(addprefix $(srcdir)/,$(filter man/processor.8 man/processor-%.7,$(dist_man_MANS)))
	@if command -v systemd-analyze >/dev/null && test -x /usr/sbin/processor; then \
	    echo "systemd-analyze verify processor.service"; \
	    systemd-analyze verify --man=no $(srcdir)/packaging/systemd/processor.service; \
	else echo "lint-pkg: systemd-analyze verify skipped (no /usr/sbin/processor)"; fi
	@if command -v shellcheck >/dev/null; then \
	    echo "shellcheck scripts/build-deb"; shellcheck $(srcdir)/scripts/build-deb; fi

.PHONY: deb lint-pkg
