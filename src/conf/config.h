/* Configuration: INI file, then environment overrides, then validation. */
#ifndef PROCESSOR_CONFIG_H
#define PROCESSOR_CONFIG_H

#include <stddef.h>

#define CONFIG_DEFAULT_PATH	"/etc/processor/processor.conf"
#define CONFIG_KEYS_MAX		64	/* room for every key (config.c checks) */
#define CONFIG_STATEMENT_TIMEOUT_MAX_MS	86400000	/* a day */

enum hypertable_mode {
	HYPERTABLE_AUTO = 0,
	HYPERTABLE_ON,
	HYPERTABLE_OFF
};

struct config {
	char	*cf_file;		/* file actually read, or NULL for built-in defaults */

	/* [redis] */
	char	*cf_redis_url;		/* redis://[:password@]host[:port][/db] or unix:///path */
	char	*cf_stream;		/* telemetry:t */
	char	*cf_group;		/* processor */
	char	*cf_consumer_prefix;	/* default: host name */
	char	*cf_start_id;		/* XGROUP CREATE start id, default "0" */
	int	 cf_batch_size;		/* XREADGROUP COUNT */
	int	 cf_block_ms;		/* XREADGROUP BLOCK */
	int	 cf_claim_idle_ms;	/* XAUTOCLAIM min-idle */
	int	 cf_claim_interval_ms;	/* how often to sweep other consumers */
	int	 cf_max_deliveries;	/* delivery limit before dead-lettering undecoded */
	long	 cf_dlq_maxlen;		/* approximate cap of <stream>:dlq */
	size_t	 cf_max_payload;	/* bytes; larger payloads are poison */
	int	 cf_command_timeout_ms;	/* a Redis reply's deadline, beyond BLOCK */
	int	 cf_connect_timeout_ms;	/* a Redis connection ready (handshake done) */
	size_t	 cf_read_budget;	/* bytes one stream read should stay under */

	/* [postgres] */
	char	*cf_pg_url;		/* libpq conninfo or URI */
	enum hypertable_mode cf_hypertable;
	char	*cf_chunk_interval;	/* e.g. "1 day" */
	int	 cf_statement_timeout_ms;
	int	 cf_client_timeout_ms;	/* client-side bound when statement_timeout is 0 */

	/* [processor] */
	int	 cf_workers;		/* 0 means auto (number of CPUs) */
	int	 cf_max_devices;	/* per-worker state cap */
	int	 cf_log_level;		/* enum log_level */
	int	 cf_max_inflight;	/* batches read but not yet settled, per worker */
	int	 cf_startup_timeout_ms;
	int	 cf_shutdown_timeout_ms;
	int	 cf_max_restarts;	/* crash-loop guard: restarts ... */
	int	 cf_restart_window_ms;	/* ... within this window */
	long	 cf_max_future_ms;	/* timestamps further ahead are poison; 0 off */
	int	 cf_max_past_days;	/* timestamps further back are poison; 0 off */
	int	 cf_dead_letter_conflicts; /* same key, other content: dead-letter the later */
	int	 cf_circuit_failures;	/* consecutive failed rows that open the write circuit */
	int	 cf_worker_stall_ms;	/* a worker silent this long is killed and respawned */

	/* [http] */
	char	*cf_http_listen;	/* host:port, empty = off */

	/* [control] */
	char	*cf_control_socket;

	/* [domain] */
	int	 cf_evaluators;		/* evaluator processes; -1: auto */
	int	 cf_refresh_ms;		/* re-read the event configuration */
	int	 cf_late_window_s;	/* a closed stage is still timed this long */
	int	 cf_catchup_interval_ms; /* behind the stream: a device at most once per; 0 off */
	char	*cf_default_family;	/* IO family of unknown devices; "": the file's first */
	int	 cf_stopped_kmh;	/* slower than this is stopped (alerts) */
	int	 cf_stopped_s;		/* stopped this long on a stage: alert */
	int	 cf_silent_s;		/* no fix this long from a running car: alert */
	char	*cf_events_stream;	/* domain events (XADD); empty: none */
	int	 cf_events_maxlen;	/* MAXLEN ~ of the events stream */

	/* not keys: set by the master for its children */
	int	 cf_domain_active;	/* evaluators run: workers mark their work */

	/* per key, in config_item order: what processorctl config shows */
	char	*cf_shown[CONFIG_KEYS_MAX];	/* the value as given, secrets masked */
	char	*cf_source[CONFIG_KEYS_MAX];	/* "default", "FILE:LINE" or a variable */
};

/* One key of a loaded configuration, as config_item reports it. */
struct config_item {
	const char	*ci_section;
	const char	*ci_key;
	const char	*ci_value;	/* passwords replaced by "****" */
	const char	*ci_source;	/* "default", "FILE:LINE" or the variable's name */
};

/*
 * Load defaults, then the file (path NULL: $PROCESSOR_CONFIG, which must
 * exist, else CONFIG_DEFAULT_PATH if it exists, else none), then the
 * environment (REDIS_URL, POSTGRES_URL, PROCESSOR_<SECTION>_<KEY>).  On error
 * returns -1 and writes a message such as "FILE:LINE: key 'k' in [s]: reason"
 * or "environment VAR: reason" into err (may be NULL).  cf is overwritten,
 * never freed, so pass a fresh struct; after a failure it is zeroed and safe
 * to config_free.  Touches no global state: reload loads a new struct.
 */
int	config_load(struct config *, const char *path, char *err, size_t errlen);
/*
 * The i-th key (from 0, in the order of processor.conf(5)) of a loaded
 * configuration: its value as text with any password masked, and where the
 * value came from.  0, or -1 past the last key.  The strings belong to cf.
 */
int	config_item(const struct config *, size_t i, struct config_item *);
/* Frees and zeroes; calling it twice is harmless. */
void	config_free(struct config *);
/* The effective number of workers (resolves auto: online CPUs, 1..64). */
int	config_workers(const struct config *);
/*
 * The statement_timeout of a synchronous session (evaluators, the master's
 * and the CLI's): statement_timeout_ms, or client_timeout_ms when that is 0,
 * so that no synchronous call waits without a bound.
 */
int	config_sync_statement_timeout(const struct config *);

#define CONFIG_EVALUATORS_AUTO	(-1)
#define CONFIG_EVALUATORS_MAX	8

#endif
