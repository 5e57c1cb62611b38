-- processor migration 0006: processor_race_mark() for batches that are not
-- staged.  The workers copy a batch straight into positions when none of its
-- keys is stored yet (the writer's fast path, docs/benchmark.md), so
-- pg_temp.positions_stage is empty then; the worker passes the batch's
-- devices with their oldest and newest fix instead (microseconds since the
-- Unix epoch, one element per device).  Same marking and NOTIFY as
-- processor_race_mark() in 0002.
CREATE FUNCTION processor_race_mark_keys(devices text[], min_us int8[],
    max_us int8[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM race_devices) THEN
		RETURN;
	END IF;
	INSERT INTO race_dirty AS d (device_id, min_ts, max_ts)
	SELECT k.device_id,
		'epoch'::timestamptz + k.lo * interval '1 microsecond',
		'epoch'::timestamptz + k.hi * interval '1 microsecond'
	FROM unnest(devices, min_us, max_us) AS k(device_id, lo, hi)
	JOIN race_devices r ON r.device_id = k.device_id
	ON CONFLICT (device_id) DO UPDATE SET
		gen = d.gen + 1,
		min_ts = least(d.min_ts, excluded.min_ts),
		max_ts = greatest(d.max_ts, excluded.max_ts);
	IF FOUND THEN
		PERFORM pg_notify('processor_race', '');
	END IF;
END
$$;
