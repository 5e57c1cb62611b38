-- processor migration 0003: safety alerts and the domain-event outbox (processor
-- owns them).  See processor-domain(7), "Safety alerts" and "Domain events".
-- The functions read the contract tables, which may not exist yet: plpgsql
-- only (its bodies are checked when first run, not here).

-- Safety alerts of an entry on a stage: one row per kind, raised and cleared
-- under the device's advisory lock, so restarts and several evaluators agree
-- (raised once, cleared once).  since is the fact the alert is about: the
-- first slow fix of a stop, the last fix before a silence.
CREATE TABLE race_alerts (
	entry_id	bigint		NOT NULL,
	stage_id	bigint		NOT NULL,
	kind		text		NOT NULL CHECK (kind IN ('stopped', 'silent')),
	device_id	text		NOT NULL,
	active		boolean		NOT NULL,
	since		timestamptz	NOT NULL,
	latitude	double precision,
	longitude	double precision,
	raised		integer		NOT NULL DEFAULT 1,	-- times raised
	raised_at	timestamptz	NOT NULL DEFAULT now(),
	cleared_at	timestamptz,
	PRIMARY KEY (entry_id, stage_id, kind)
);
CREATE INDEX race_alerts_active ON race_alerts (kind) WHERE active;

-- Domain events committed with the facts they describe, waiting for their
-- XADD to [domain] events_stream; deleted once Redis took them (at least
-- once: a crash between the two sends one again).  dedupe_key is the same
-- for the same fact whoever evaluates it, and the stream's consumers dedupe
-- by it.
CREATE TABLE race_outbox (
	id		bigserial	PRIMARY KEY,
	dedupe_key	text		NOT NULL UNIQUE,
	type		text		NOT NULL,
	entry_id	bigint,
	stage_id	bigint,
	gate_id		bigint,
	device_id	text,
	at		timestamptz,	-- when the fact happened
	data		jsonb		NOT NULL DEFAULT '{}'::jsonb,
	created_at	timestamptz	NOT NULL DEFAULT now()
);

CREATE FUNCTION processor_race_emit(p_type text, p_key text, p_entry bigint,
    p_stage bigint, p_gate bigint, p_device text, p_at timestamptz, p_data jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n	integer;
BEGIN
	INSERT INTO race_outbox (dedupe_key, type, entry_id, stage_id, gate_id,
	    device_id, at, data)
	VALUES (p_key, p_type, p_entry, p_stage, p_gate, p_device, p_at, p_data)
	ON CONFLICT (dedupe_key) DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION processor_race_ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM t) * 1000)::bigint $$;

-- What an evaluation of (entry, stage) is about to overwrite: the result's
-- status, its missed waypoints, the penalties of closed zone visits.
CREATE FUNCTION processor_race_events_old(p_entry bigint, p_stage bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object(
	'status', (SELECT status FROM stage_results
	    WHERE entry_id = p_entry AND stage_id = p_stage),
	'missed', coalesce((SELECT jsonb_agg(w->'gate_id') FROM stage_results r,
	    jsonb_array_elements(r.waypoints) w WHERE r.entry_id = p_entry AND
	    r.stage_id = p_stage AND w->>'verdict' = 'missed'), '[]'::jsonb),
	'pen', coalesce((SELECT jsonb_object_agg(gate_id || ':' || visit,
	    penalty_s) FROM race_penalties WHERE entry_id = p_entry AND
	    stage_id = p_stage AND exited_at IS NOT NULL), '{}'::jsonb));
END
$$;

-- The facts an evaluation of (entry, stage) wrote in this transaction (rows
-- with updated_at = now(), the transaction's time), compared with p_old from
-- processor_race_events_old, into the outbox.  Returns the events queued.
CREATE FUNCTION processor_race_events(p_entry bigint, p_stage bigint,
    p_device text, p_old jsonb) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n	integer := 0;
	k	integer;
BEGIN
	SELECT coalesce(sum(processor_race_emit(
	    CASE WHEN t.revision = 1 THEN 'timing_recorded' ELSE 'timing_revised' END,
	    format('timing:%s:%s:%s:%s:r%s', t.entry_id, t.stage_id, t.gate_id,
	    t.pass_number, t.revision), t.entry_id, t.stage_id, t.gate_id, p_device,
	    t.crossing_time, jsonb_build_object('pass', t.pass_number,
	    'revision', t.revision, 'crossing_time', t.crossing_time,
	    'uncertainty_ms', t.uncertainty_ms, 'speed_kmh', t.speed_kmh,
	    'final', t.final, 'low_confidence', t.low_confidence,
	    'source', t.source))), 0) INTO k
	FROM timing_records t WHERE t.entry_id = p_entry AND t.stage_id = p_stage
	AND t.updated_at = now();
	n := n + k;

	SELECT coalesce(sum(processor_race_emit('stage_finished',
	    format('finished:%s:%s:r%s', r.entry_id, r.stage_id, r.revision),
	    r.entry_id, r.stage_id, NULL, p_device, r.finish_time,
	    jsonb_build_object('start_time', r.start_time, 'finish_time',
	    r.finish_time, 'elapsed_ms', r.elapsed_ms, 'penalties_s', r.penalties_s,
	    'provisional', r.provisional, 'low_confidence', r.low_confidence,
	    'revision', r.revision))), 0) INTO k
	FROM stage_results r WHERE r.entry_id = p_entry AND r.stage_id = p_stage
	AND r.updated_at = now() AND r.status = 'finished'
	AND (p_old->>'status') IS DISTINCT FROM 'finished';
	n := n + k;

	SELECT coalesce(sum(processor_race_emit('waypoint_missed',
	    format('waypoint:%s:%s:%s:r%s', r.entry_id, r.stage_id, w->>'gate_id',
	    r.revision), r.entry_id, r.stage_id, (w->>'gate_id')::bigint, p_device,
	    CASE WHEN (w->>'closest_at_ms')::bigint > 0 THEN 'epoch'::timestamptz +
	    (w->>'closest_at_ms')::bigint * interval '1 millisecond' END,
	    jsonb_build_object('closest_m', w->'closest_m', 'status', r.status,
	    'revision', r.revision))), 0) INTO k
	FROM stage_results r, jsonb_array_elements(r.waypoints) w
	WHERE r.entry_id = p_entry AND r.stage_id = p_stage
	AND r.updated_at = now() AND w->>'verdict' = 'missed'
	AND NOT coalesce(p_old->'missed', '[]'::jsonb) @> jsonb_build_array(w->'gate_id');
	n := n + k;

	SELECT coalesce(sum(processor_race_emit('penalty',
	    format('penalty:%s:%s:%s:%s:r%s', p.entry_id, p.stage_id, p.gate_id,
	    p.visit, p.revision), p.entry_id, p.stage_id, p.gate_id, p_device,
	    p.exited_at, jsonb_build_object('visit', p.visit, 'penalty_s',
	    p.penalty_s, 'entered_at', p.entered_at, 'exited_at', p.exited_at,
	    'time_over_s', p.time_over_s, 'max_excess_kmh', p.max_excess_kmh,
	    'limit_kmh', p.limit_kmh, 'revision', p.revision))), 0) INTO k
	FROM race_penalties p WHERE p.entry_id = p_entry AND p.stage_id = p_stage
	AND p.updated_at = now() AND p.exited_at IS NOT NULL AND p.penalty_s > 0
	AND (p_old->'pen'->>(p.gate_id || ':' || p.visit))::real IS DISTINCT FROM
	    p.penalty_s;
	n := n + k;
	RETURN n;
END
$$;

-- Raise an alert unless it is up already; its event is queued once.
CREATE FUNCTION processor_race_alert_raise(p_entry bigint, p_stage bigint,
    p_kind text, p_device text, p_since timestamptz, p_lat double precision,
    p_lon double precision, p_data jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO race_alerts AS a (entry_id, stage_id, kind, device_id, active,
	    since, latitude, longitude)
	VALUES (p_entry, p_stage, p_kind, p_device, true, p_since, p_lat, p_lon)
	ON CONFLICT (entry_id, stage_id, kind) DO UPDATE SET active = true,
	    device_id = excluded.device_id, since = excluded.since,
	    latitude = excluded.latitude, longitude = excluded.longitude,
	    raised = a.raised + 1, raised_at = now(), cleared_at = NULL
	WHERE NOT a.active;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	RETURN processor_race_emit(CASE p_kind WHEN 'stopped' THEN
	    'stopped_on_stage' ELSE 'silent_in_stage' END,
	    format('%s:%s:%s:%s', p_kind, p_entry, p_stage,
	    processor_race_ms(p_since)), p_entry, p_stage, NULL, p_device, p_since,
	    p_data || jsonb_build_object('since', p_since, 'latitude', p_lat,
	    'longitude', p_lon));
END
$$;

-- Clear an alert that is up; its event is queued once.
CREATE FUNCTION processor_race_alert_clear(p_entry bigint, p_stage bigint,
    p_kind text, p_reason text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	a	race_alerts;
BEGIN
	UPDATE race_alerts SET active = false, cleared_at = now()
	WHERE entry_id = p_entry AND stage_id = p_stage AND kind = p_kind AND active
	RETURNING * INTO a;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	RETURN processor_race_emit('alert_cleared', format('cleared:%s:%s:%s:%s',
	    p_kind, p_entry, p_stage, processor_race_ms(a.since)), p_entry, p_stage,
	    NULL, a.device_id, a.since, jsonb_build_object('alert', CASE p_kind
	    WHEN 'stopped' THEN 'stopped_on_stage' ELSE 'silent_in_stage' END,
	    'reason', p_reason, 'since', a.since, 'raised_at', a.raised_at));
END
$$;

-- An evaluation's verdict on the alerts of (entry, stage), under the
-- device's lock: p_running (started, not finished), the newest fix, the
-- first fix of a stop long enough and away from the lines (or NULL), and
-- whether the newest fix is slow.
CREATE FUNCTION processor_race_alerts(p_entry bigint, p_stage bigint,
    p_device text, p_running boolean, p_last timestamptz,
    p_stopped_since timestamptz, p_slow boolean, p_lat double precision,
    p_lon double precision) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n	integer := 0;
	s	timestamptz;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM race_alerts WHERE entry_id = p_entry AND
	    stage_id = p_stage AND active) AND (NOT p_running OR
	    p_stopped_since IS NULL) THEN
		RETURN 0;	/* the common case: nothing up, nothing to raise */
	END IF;
	IF NOT p_running THEN
		n := n + processor_race_alert_clear(p_entry, p_stage, 'stopped',
		    'not_running');
		RETURN n + processor_race_alert_clear(p_entry, p_stage, 'silent',
		    'not_running');
	END IF;
	SELECT since INTO s FROM race_alerts WHERE entry_id = p_entry AND
	    stage_id = p_stage AND kind = 'silent' AND active;
	IF FOUND AND p_last > s THEN
		n := n + processor_race_alert_clear(p_entry, p_stage, 'silent',
		    'reported');
	END IF;
	SELECT since INTO s FROM race_alerts WHERE entry_id = p_entry AND
	    stage_id = p_stage AND kind = 'stopped' AND active;
	IF FOUND AND (NOT p_slow OR (p_stopped_since IS NOT NULL AND
	    p_stopped_since <> s)) THEN
		n := n + processor_race_alert_clear(p_entry, p_stage, 'stopped',
		    'moved');
	END IF;
	IF p_stopped_since IS NOT NULL THEN
		n := n + processor_race_alert_raise(p_entry, p_stage, 'stopped',
		    p_device, p_stopped_since, p_lat, p_lon, jsonb_build_object(
		    'last_fix', p_last, 'stopped_s', extract(epoch FROM p_last -
		    p_stopped_since)));
	END IF;
	RETURN n;
END
$$;

-- The periodic scan for silent cars: running on a stage being timed
-- (p_stages), newest fix older than p_silent_s, no new fix waiting for
-- evaluation; each under its device's lock (busy: the next scan).
CREATE FUNCTION processor_race_silent(p_silent_s integer, p_stages bigint[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	n	integer := 0;
	r	record;
BEGIN
	FOR r IN SELECT s.entry_id, s.stage_id, e.device_id, c.evaluated_to
	    FROM stage_results s
	    JOIN entries e ON e.id = s.entry_id
	    JOIN race_cursor c ON c.device_id = e.device_id AND c.stage_id = s.stage_id
	    WHERE s.status = 'running' AND s.start_time IS NOT NULL
	    AND s.stage_id = ANY (p_stages)
	    AND c.evaluated_to < now() - make_interval(secs => p_silent_s)
	    AND NOT EXISTS (SELECT 1 FROM race_alerts a WHERE a.entry_id =
	        s.entry_id AND a.stage_id = s.stage_id AND a.kind = 'silent' AND
	        a.active AND a.since >= c.evaluated_to)
	    AND NOT EXISTS (SELECT 1 FROM race_dirty d WHERE d.device_id = e.device_id)
	    LIMIT 256
	LOOP
		CONTINUE WHEN NOT pg_try_advisory_xact_lock(1380008773,
		    hashtext(r.device_id));	-- RACE_LOCK_DEVICE
		n := n + processor_race_alert_raise(r.entry_id, r.stage_id, 'silent',
		    r.device_id, r.evaluated_to,
		    (SELECT latitude FROM positions WHERE device_id = r.device_id
		    AND ts = r.evaluated_to LIMIT 1),
		    (SELECT longitude FROM positions WHERE device_id = r.device_id
		    AND ts = r.evaluated_to LIMIT 1),
		    jsonb_build_object('silent_s', round(extract(epoch FROM now() -
		    r.evaluated_to))));
	END LOOP;
	RETURN n;
END
$$;
