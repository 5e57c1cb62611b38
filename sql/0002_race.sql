-- processor migration 0002: the tables the live racing rules keep (processor owns
-- them; the contract tables Directus owns are under sql/directus/).  See
-- processor-domain(7).

-- Devices of entries on a stage that is being timed (open, running, or closed
-- less than [domain] late_window_s ago).  The evaluator rewrites it on every
-- configuration refresh; the workers' write transaction reads it.
CREATE TABLE race_devices (
	device_id	text		PRIMARY KEY
);

-- Work for the evaluator: a device that got fixes since it was last
-- evaluated.  Marked in the same transaction that stores the fixes, so a fix
-- is never stored without its evaluation being due (crash-safe).  gen grows
-- with every mark: the evaluator deletes the row only if nothing marked it
-- again while it evaluated.
CREATE TABLE race_dirty (
	device_id	text		PRIMARY KEY,
	gen		bigint		NOT NULL DEFAULT 1,
	min_ts		timestamptz	NOT NULL,	-- oldest new fix
	max_ts		timestamptz	NOT NULL,	-- newest new fix
	marked_at	timestamptz	NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX race_dirty_marked ON race_dirty (marked_at);

-- What was evaluated, per device and stage: a mark older than evaluated_to
-- is late data (a buffered upload) and re-evaluates the window.
CREATE TABLE race_cursor (
	device_id	text		NOT NULL,
	stage_id	bigint		NOT NULL,
	evaluated_to	timestamptz	NOT NULL,	-- newest fix evaluated
	fixes		integer		NOT NULL,	-- fixes in the stage window
	evaluations	bigint		NOT NULL DEFAULT 1,
	late		bigint		NOT NULL DEFAULT 0,	-- evaluations caused by late fixes
	evaluated_at	timestamptz	NOT NULL DEFAULT now(),
	PRIMARY KEY (device_id, stage_id)
);

-- Penalty evidence, one row per speed-zone visit (processor writes, Directus
-- reads): what the penalty in stage_results.penalties_s is made of.
CREATE TABLE race_penalties (
	entry_id	bigint		NOT NULL,
	stage_id	bigint		NOT NULL,
	gate_id		bigint		NOT NULL,	-- the speed_zone gate
	visit		integer		NOT NULL CHECK (visit >= 1),
	entered_at	timestamptz,
	exited_at	timestamptz,
	time_over_s	real		NOT NULL,	-- time above the limit
	max_excess_kmh	real		NOT NULL,
	avg_speed_kmh	real		NOT NULL,
	limit_kmh	real		NOT NULL,
	rule		jsonb		NOT NULL,
	penalty_s	real		NOT NULL,
	revision	integer		NOT NULL DEFAULT 1,
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	PRIMARY KEY (entry_id, stage_id, gate_id, visit)
);

-- Called by the workers' write transaction after the INSERT into positions:
-- marks the devices of the staged rows that are being timed.  Costs one index
-- probe per batch when nothing is being timed.  NOTIFY wakes the evaluators
-- at commit.
CREATE FUNCTION processor_race_mark() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM race_devices) THEN
		RETURN;
	END IF;
	INSERT INTO race_dirty AS d (device_id, min_ts, max_ts)
	SELECT s.device_id, min(s.ts), max(s.ts)
	FROM pg_temp.positions_stage s
	JOIN race_devices r ON r.device_id = s.device_id
	GROUP BY s.device_id
	ON CONFLICT (device_id) DO UPDATE SET
		gen = d.gen + 1,
		min_ts = least(d.min_ts, excluded.min_ts),
		max_ts = greatest(d.max_ts, excluded.max_ts);
	IF FOUND THEN
		PERFORM pg_notify('processor_race', '');
	END IF;
END
$$;
