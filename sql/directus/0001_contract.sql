-- Contract DDL for the tables Directus owns (events, stages, gates, entries,
-- device_models, io_mappings) and the two processor writes (timing_records,
-- stage_results).  processor reads the first ones and never alters any schema;
-- natural keys make its writes idempotent upserts.  PostgreSQL 15.

CREATE TABLE events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code		text		NOT NULL UNIQUE,
	name		text		NOT NULL,
	starts_at	timestamptz,
	ends_at		timestamptz,
	status		text		NOT NULL DEFAULT 'planned'
	    CHECK (status IN ('planned', 'running', 'finished', 'cancelled')),
	updated_at	timestamptz	NOT NULL DEFAULT now()
);

CREATE TABLE stages (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	bigint		NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	stage_order	integer		NOT NULL,
	name		text		NOT NULL,
	opens_at	timestamptz,	-- time window in which fixes count
	closes_at	timestamptz,	-- after it a started run without finish is dnf
	laps		integer		NOT NULL DEFAULT 1 CHECK (laps >= 1),
	status		text		NOT NULL DEFAULT 'planned'
	    CHECK (status IN ('planned', 'open', 'running', 'closed', 'cancelled')),
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	UNIQUE (event_id, stage_order)
);

-- geometry is JSON in WGS-84 degrees:
--   line:    {"type": "line", "a": [lat, lon], "b": [lat, lon], "margin_m": 0}
--   circle:  {"type": "circle", "center": [lat, lon], "radius_m": r,
--             "open_radius_m": o, "clear_radius_m": c}   (waypoints use open/clear)
--   polygon: {"type": "polygon", "ring": [[lat, lon], ...]}
-- direction applies to lines: crossing from the left of a->b to its right
-- (left_to_right), the reverse, or any.
-- penalty_rule: {"kind": "time_gained", "factor": 10} |
--   {"kind": "banded", "band_kmh": 5, "band_s": 30, "tolerance_kmh": 0} |
--   {"kind": "zone_average", "factor": 5, "tolerance_kmh": 0}
CREATE TABLE gates (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stage_id	bigint		NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
	kind		text		NOT NULL
	    CHECK (kind IN ('start', 'split', 'finish', 'waypoint', 'zone', 'speed_zone')),
	gate_order	integer		NOT NULL,
	name		text,
	geometry	jsonb		NOT NULL CHECK (geometry ? 'type'),
	direction	text		NOT NULL DEFAULT 'any'
	    CHECK (direction IN ('any', 'left_to_right', 'right_to_left')),
	speed_limit_kmh	real		CHECK (speed_limit_kmh > 0),
	penalty_rule	jsonb,
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	UNIQUE (stage_id, gate_order),
	CHECK (kind <> 'speed_zone' OR speed_limit_kmh IS NOT NULL)
);

CREATE TABLE device_models (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	model		text		NOT NULL UNIQUE,	-- e.g. FMB920, FMC650
	family		text		NOT NULL,		-- io_mappings.family
	updated_at	timestamptz	NOT NULL DEFAULT now()
);

CREATE TABLE entries (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	bigint		NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	car_number	text		NOT NULL,
	class		text,
	device_id	text		NOT NULL,	-- positions.device_id (the IMEI)
	device_model_id	bigint		REFERENCES device_models (id),
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	UNIQUE (event_id, car_number),
	UNIQUE (event_id, device_id)
);

CREATE TABLE io_mappings (
	family		text		NOT NULL,
	io_id		integer		NOT NULL CHECK (io_id BETWEEN 0 AND 65535),
	key		text		NOT NULL,
	type		text		NOT NULL
	    CHECK (type IN ('bool', 'uint', 'int', 'enum', 'raw')),
	multiplier	double precision NOT NULL DEFAULT 1 CHECK (multiplier > 0),
	unit		text		NOT NULL DEFAULT '',
	description	text		NOT NULL DEFAULT '',
	version		text		NOT NULL,
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	PRIMARY KEY (family, io_id)
);

CREATE TABLE timing_records (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint		NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
	stage_id	bigint		NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
	gate_id		bigint		NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
	pass_number	integer		NOT NULL CHECK (pass_number >= 1),
	crossing_time	timestamptz	NOT NULL,
	uncertainty_ms	real		NOT NULL CHECK (uncertainty_ms >= 0),	-- 95% half width
	fix_before	timestamptz	NOT NULL,	-- the bracketing fixes: the evidence
	fix_after	timestamptz	NOT NULL,
	fraction	real		NOT NULL CHECK (fraction BETWEEN 0 AND 1),
	speed_kmh	real,
	direction	smallint	NOT NULL CHECK (direction IN (-1, 1)),
	final		boolean		NOT NULL DEFAULT false,	-- smoothing window filled
	low_confidence	boolean		NOT NULL DEFAULT false,
	source		text		NOT NULL DEFAULT 'live'
	    CHECK (source IN ('live', 'replay', 'backfill')),
	revision	integer		NOT NULL DEFAULT 1,
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	UNIQUE (entry_id, stage_id, gate_id, pass_number),
	CHECK (fix_before < fix_after)
);

CREATE TABLE stage_results (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint		NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
	stage_id	bigint		NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
	start_time	timestamptz,
	finish_time	timestamptz,
	elapsed_ms	bigint,
	splits		jsonb		NOT NULL DEFAULT '[]'::jsonb,	-- [{"gate_id": n, "elapsed_ms": n}]
	waypoints	jsonb		NOT NULL DEFAULT '[]'::jsonb,	-- [{"gate_id": n, "verdict": "validated", "closest_m": x}]
	penalties_s	real		NOT NULL DEFAULT 0,
	status		text		NOT NULL
	    CHECK (status IN ('running', 'finished', 'dnf', 'missed_waypoint', 'no_data')),
	rank		integer,
	provisional	boolean		NOT NULL DEFAULT true,
	low_confidence	boolean		NOT NULL DEFAULT false,
	revision	integer		NOT NULL DEFAULT 1,
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	UNIQUE (entry_id, stage_id)
);

CREATE INDEX timing_records_stage_gate ON timing_records (stage_id, gate_id, crossing_time);
CREATE INDEX stage_results_stage_rank ON stage_results (stage_id, status, elapsed_ms);
CREATE INDEX entries_device ON entries (device_id);
