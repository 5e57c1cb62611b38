-- processor migration 0001: the positions table (one row per GNSS fix).
-- The natural key (device_id, ts) makes every write idempotent.
-- Whether positions becomes a TimescaleDB hypertable is decided at run time
-- by the migration runner (config key hypertable), not here.
CREATE TABLE positions (
	device_id	text			NOT NULL,
	ts		timestamptz		NOT NULL,
	latitude	double precision	NOT NULL,
	longitude	double precision	NOT NULL,
	altitude	real,
	angle		smallint,
	satellites	smallint,
	speed		real,
	priority	smallint,
	event_io_id	integer,
	attributes	jsonb			NOT NULL DEFAULT '{}'::jsonb,
	decoded		jsonb,
	received_at	timestamptz		NOT NULL DEFAULT now(),
	CONSTRAINT positions_device_ts_key UNIQUE (device_id, ts)
);

COMMENT ON TABLE positions IS 'GNSS fixes written by processor; natural key (device_id, ts)';
COMMENT ON COLUMN positions.attributes IS 'Teltonika IO bag, sentinels reversed (bigint as exact number, buffers as \\x hex text)';
COMMENT ON COLUMN positions.decoded IS 'IO bag decoded per device model (names, units); NULL until the domain layer fills it';
COMMENT ON COLUMN positions.received_at IS 'commit time of the transaction that inserted the row';
