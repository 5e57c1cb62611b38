# t/: the Perl test harness and the integration tests (the compiled unit
# tests are registered by the folder they test).
EXTRA_DIST += t/lib/Harness.pm t/lib/Harness/Redis.pm t/lib/Harness/Pg.pm \
	t/lib/Harness/Processor.pm t/lib/CtlTest.pm t/010-harness.t \
	t/011-migrations-shipped.t t/012-upgrade.t t/migrations.shipped \
	t/110-hypertable.t scripts/build-timescaledb \
	scripts/deps scripts/test scripts/quickstart .ci/run OPERATIONS.md \
	t/100-pipeline.t t/300-poison-zoo.t t/310-delivery-limit.t \
	t/320-server-faults.t t/330-claim.t t/340-slow-db.t t/350-kill.t \
	t/200-super-drain.t t/201-super-kill9.t t/202-super-sigterm.t \
	t/203-super-reload.t t/204-super-two-masters.t t/205-super-readyz.t \
	t/206-super-notify.t t/207-super-crashloop.t t/208-super-cli.t \
	t/209-super-http-limits.t t/210-super-stop-timeout.t t/211-super-permanent.t \
	t/212-super-http-port.t t/213-super-metrics.t t/214-super-idle-stop.t \
	t/400-ctl-status.t t/410-ctl-dlq.t t/420-ctl-device.t \
	t/430-ctl-drain-claim.t t/440-ctl-socket.t t/450-ctl-completion.t \
	t/460-ctl-config.t t/461-ctl-log-level.t \
	packaging/bash-completion/processorctl \
	t/360-dlq-refused.t t/361-redis-oom.t t/362-ts-window.t \
	t/363-dlq-whole-payload.t t/364-crash-budget.t \
	t/365-dup-conflict.t t/366-write-circuit.t t/367-worker-stall.t \
	t/368-http-deadline.t t/369-stream-trimmed.t \
	t/370-redis-sigstop.t t/371-worker-sigstop.t t/372-pg-readonly.t \
	t/373-pg-disk-full.t t/374-redis-aof-everysec.t t/375-master-kill-pg-down.t \
	t/376-consumers.t t/377-memory-bytes.t t/378-write-fastpath.t \
	t/380-redis-wait-deadline.t \
	t/381-redis-silent-connect.t t/382-pg-client-guard.t \
	t/lib/Harness/Expect.pm \
	t/lib/RaceTest.pm t/500-race-live.t t/501-race-config.t \
	t/502-race-ctl.t t/503-decoded-io.t t/510-replay.t t/511-evidence.t t/512-backfill.t \
	t/513-race-incremental.t t/514-race-isolation.t t/515-race-catchup.t \
	t/530-alerts.t t/531-domain-events.t \
	t/520-gpx-import.t t/521-check.t t/data/gpx/north.gpx t/data/gpx/east.gpx \
	t/data/gpx/bad-not-xml.gpx t/data/gpx/bad-unclosed.gpx \
	t/data/gpx/bad-no-latlon.gpx t/data/gpx/bad-zone-open.gpx \
	t/data/gpx/bad-wp-type.gpx
