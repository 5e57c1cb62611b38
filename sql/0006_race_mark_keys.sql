-- processor migration 0006: processor_race_mark() for batches that are not
-- staged.  The workers copy a batch straight into positions when none of its
-- keys is stored yet (the writer's fast path, docs/benchmark.md), so
-- pg_temp.positions_stage is empty then; the worker passes the batch's
-- devices with their oldest and newest fix instead (microseconds since the
-- Unix epoch, one element per device).  processor_race_mark() of 0002
-- marks through it too (below).
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

-- The staged path marks the same way: processor_race_mark() (0002) now hands
-- the staged rows' devices to processor_race_mark_keys, so the marking
-- statement is written once.
CREATE OR REPLACE FUNCTION processor_race_mark() RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM race_devices) THEN
		RETURN;
	END IF;
	PERFORM processor_race_mark_keys(array_agg(s.device_id),
	    array_agg(s.lo), array_agg(s.hi))
	FROM (SELECT device_id,
		(extract(epoch FROM min(ts)) * 1000000)::int8 AS lo,
		(extract(epoch FROM max(ts)) * 1000000)::int8 AS hi
	    FROM pg_temp.positions_stage GROUP BY device_id) s;
END
$$;
