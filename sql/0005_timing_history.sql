-- processor migration 0005: every revision of every timing record, for protests
-- (processor evidence prints it).  Written by the evaluators in the statement that
-- creates or revises the record; replay --apply writes here too (source replay).
CREATE TABLE race_timing_history (
	id		bigint		GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint		NOT NULL,
	stage_id	bigint		NOT NULL,
	gate_id		bigint		NOT NULL,
	pass_number	integer		NOT NULL,
	revision	integer		NOT NULL,
	crossing_time	timestamptz	NOT NULL,
	uncertainty_ms	real		NOT NULL,
	fix_before	timestamptz	NOT NULL,
	fix_after	timestamptz	NOT NULL,
	final		boolean		NOT NULL,
	low_confidence	boolean		NOT NULL,
	source		text		NOT NULL,
	recorded_at	timestamptz	NOT NULL DEFAULT now()
);
CREATE INDEX race_timing_history_pass ON race_timing_history
	(entry_id, stage_id, gate_id, pass_number, id);
