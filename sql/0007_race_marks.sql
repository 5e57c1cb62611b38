-- processor migration 0007: a batch's mark is one appended row.
--
-- Until now every batch upserted one race_dirty row per device it held
-- (processor_race_mark_keys, 0006): about 400 row updates per batch of 500
-- records from 1000 cars, each a locked row that the next worker's batch
-- with the same cars waited on until this one's COMMIT (and, taken in
-- different orders, deadlocked on: deadlock_timeout, 1 s, of two workers
-- doing nothing).  During a backlog that was most of what the racing rules
-- cost the write path (docs/benchmark.md, issue 11).
--
-- Now the worker appends one race_marks row per batch (its devices with
-- their oldest and newest fix, as 0006 passed them) in the batch's
-- transaction: no conflict, no row shared with another worker.  Evaluators
-- fold the appended rows into race_dirty (processor_race_fold, below), one
-- upsert per device for all the batches folded, in device order.  A row is
-- folded once (FOR UPDATE SKIP LOCKED), in the same transaction that
-- deletes it, so every committed batch still ends up in a mark consumed
-- after its commit; race_dirty and its gen handshake are unchanged.
CREATE TABLE race_marks (
	id		bigint		GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	devices		text[]		NOT NULL,
	min_us		int8[]		NOT NULL,	-- oldest fix, us since the epoch
	max_us		int8[]		NOT NULL,	-- newest fix
	marked_at	timestamptz	NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION processor_race_mark_keys(devices text[],
    min_us int8[], max_us int8[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM race_devices) OR
	    coalesce(cardinality(devices), 0) = 0 THEN
		RETURN;
	END IF;
	INSERT INTO race_marks (devices, min_us, max_us)
	VALUES (devices, min_us, max_us);
	PERFORM pg_notify('processor_race', '');
END
$$;

-- Up to p_limit appended marks into race_dirty: their timed devices (those
-- in race_devices now), each with the union of its ranges and the earliest
-- marked_at, in device order (two folds never wait on each other in a
-- cycle).  Returns the rows folded.
CREATE FUNCTION processor_race_fold(p_limit integer) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
	n	integer;
BEGIN
	WITH m AS (DELETE FROM race_marks WHERE id IN (SELECT id FROM race_marks
	    ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED)
	    RETURNING devices, min_us, max_us, marked_at),
	k AS (SELECT u.device_id, min(u.lo) AS lo, max(u.hi) AS hi,
	    min(m.marked_at) AS at
	    FROM m, unnest(m.devices, m.min_us, m.max_us) AS u(device_id, lo, hi)
	    WHERE EXISTS (SELECT 1 FROM race_devices r
	    WHERE r.device_id = u.device_id)
	    GROUP BY u.device_id),
	up AS (INSERT INTO race_dirty AS d (device_id, min_ts, max_ts, marked_at)
	    SELECT device_id, 'epoch'::timestamptz + lo * interval '1 microsecond',
	    'epoch'::timestamptz + hi * interval '1 microsecond', at
	    FROM k ORDER BY device_id
	    ON CONFLICT (device_id) DO UPDATE SET
		gen = d.gen + 1,
		min_ts = least(d.min_ts, excluded.min_ts),
		max_ts = greatest(d.max_ts, excluded.max_ts),
		marked_at = least(d.marked_at, excluded.marked_at)
	    RETURNING 1)
	SELECT (SELECT count(*) FROM m) INTO n;
	RETURN n;
END
$$;
