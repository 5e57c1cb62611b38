-- processor migration 0004: the progress of `processor backfill` jobs
-- (processor-race(8), "backfill").  One row per job, keyed by its arguments;
-- each chunk's transaction moves the key on with the rows it rewrote, so a
-- rerun goes on after the last committed chunk.
CREATE TABLE backfill_jobs (
	job		text		PRIMARY KEY,	-- "decoded family=fmb [from=T to=T]"
	upto		timestamptz	NOT NULL,	-- --to, else the job's start: later rows are decoded live
	total		bigint,				-- rows selected at the start (an estimate); NULL unknown
	last_device	text,				-- the last chunk's key: (last_device, last_ts)
	last_ts		timestamptz,
	examined	bigint		NOT NULL DEFAULT 0,
	changed		bigint		NOT NULL DEFAULT 0,
	started_at	timestamptz	NOT NULL DEFAULT now(),
	updated_at	timestamptz	NOT NULL DEFAULT now(),
	finished_at	timestamptz			-- NULL: running or interrupted
);
COMMENT ON TABLE backfill_jobs IS 'processor backfill: progress per job, keyed by its arguments';
