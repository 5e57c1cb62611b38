/* Unit tests of the configuration loader: defaults, file, environment, errors. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "util/log.h"
#include "tap.h"

static const char *srcdir;

/* Every key with its environment variable, to check the docs name them all. */
static const char *const env_vars[] = {
	"PROCESSOR_REDIS_URL", "PROCESSOR_REDIS_STREAM", "PROCESSOR_REDIS_GROUP",
	"PROCESSOR_REDIS_CONSUMER_PREFIX", "PROCESSOR_REDIS_START_ID",
	"PROCESSOR_REDIS_BATCH_SIZE", "PROCESSOR_REDIS_BLOCK_MS",
	"PROCESSOR_REDIS_CLAIM_IDLE_MS", "PROCESSOR_REDIS_CLAIM_INTERVAL_MS",
	"PROCESSOR_REDIS_MAX_DELIVERIES", "PROCESSOR_REDIS_DLQ_MAXLEN",
	"PROCESSOR_REDIS_MAX_PAYLOAD", "PROCESSOR_REDIS_COMMAND_TIMEOUT_MS",
	"PROCESSOR_REDIS_CONNECT_TIMEOUT_MS", "PROCESSOR_REDIS_READ_BUDGET",
	"PROCESSOR_POSTGRES_URL",
	"PROCESSOR_POSTGRES_HYPERTABLE", "PROCESSOR_POSTGRES_CHUNK_INTERVAL",
	"PROCESSOR_POSTGRES_STATEMENT_TIMEOUT_MS",
	"PROCESSOR_POSTGRES_CLIENT_TIMEOUT_MS", "PROCESSOR_PROCESSOR_WORKERS",
	"PROCESSOR_PROCESSOR_MAX_DEVICES", "PROCESSOR_PROCESSOR_LOG_LEVEL",
	"PROCESSOR_PROCESSOR_MAX_INFLIGHT",
	"PROCESSOR_PROCESSOR_STARTUP_TIMEOUT_MS",
	"PROCESSOR_PROCESSOR_SHUTDOWN_TIMEOUT_MS",
	"PROCESSOR_PROCESSOR_MAX_RESTARTS", "PROCESSOR_PROCESSOR_RESTART_WINDOW_MS",
	"PROCESSOR_PROCESSOR_MAX_FUTURE_MS", "PROCESSOR_PROCESSOR_MAX_PAST_DAYS",
	"PROCESSOR_PROCESSOR_DEAD_LETTER_CONFLICTS",
	"PROCESSOR_PROCESSOR_CIRCUIT_FAILURES", "PROCESSOR_PROCESSOR_WORKER_STALL_MS",
	"PROCESSOR_HTTP_LISTEN", "PROCESSOR_CONTROL_SOCKET",
	"PROCESSOR_DOMAIN_EVALUATORS", "PROCESSOR_DOMAIN_REFRESH_MS",
	"PROCESSOR_DOMAIN_LATE_WINDOW_S", "PROCESSOR_DOMAIN_CATCHUP_INTERVAL_MS",
	"PROCESSOR_DOMAIN_DEFAULT_FAMILY",
	"PROCESSOR_DOMAIN_STOPPED_KMH",
	"PROCESSOR_DOMAIN_STOPPED_S", "PROCESSOR_DOMAIN_SILENT_S",
	"PROCESSOR_DOMAIN_EVENTS_STREAM", "PROCESSOR_DOMAIN_EVENTS_MAXLEN",
};
#define NVARS	(sizeof(env_vars) / sizeof(env_vars[0]))

static const char *
path_of(const char *rel)
{
	static char	buf[8][4096];
	static int	n;
	char		*p = buf[n++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", srcdir, rel);
	return p;
}

static const char *
fixture(const char *name)
{
	char	rel[256];

	snprintf(rel, sizeof(rel), "t/data/config/%s", name);
	return path_of(rel);
}

/* Run without whatever the caller's environment holds for us. */
static void
clean_env(void)
{
	size_t	i;

	unsetenv("REDIS_URL");
	unsetenv("POSTGRES_URL");
	unsetenv("PROCESSOR_CONFIG");
	for (i = 0; i < NVARS; i++)
		unsetenv(env_vars[i]);
}

static int
is_zeroed(const struct config *cf)
{
	static const struct config	zero;

	return memcmp(cf, &zero, sizeof(zero)) == 0;
}

/* A load that must fail with exactly this message and leave cf freeable. */
static void
load_fails(const char *path, const char *want, const char *what)
{
	struct config	cf;
	char		err[1024];

	memset(&cf, 0xa5, sizeof(cf));	/* garbage, as on a caller's stack */
	if (config_load(&cf, path, err, sizeof(err)) == 0) {
		ok(0, "%s: load should fail", what);
		config_free(&cf);
		is_string("(loaded)", want, "%s: message", what);
		return;
	}
	ok(is_zeroed(&cf), "%s: fails and leaves the struct zeroed", what);
	is_string(err, want, "%s: message", what);
	config_free(&cf);
	config_free(&cf);
}

static void
env_fails(const char *var, const char *value, const char *why)
{
	char	want[1024], what[256];

	setenv(var, value, 1);
	snprintf(want, sizeof(want), "environment %s: %s", var, why);
	snprintf(what, sizeof(what), "%s=%s", var, value);
	load_fails(fixture("empty.conf"), want, what);
	unsetenv(var);
}

static void
check_defaults(const struct config *cf, const char *what)
{
	char	host[256];

	is_string(cf->cf_redis_url, "redis://127.0.0.1:6379", "%s: redis url", what);
	is_string(cf->cf_stream, "telemetry:t", "%s: stream", what);
	is_string(cf->cf_group, "processor", "%s: group", what);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "processor");
	host[sizeof(host) - 1] = '\0';
	is_string(cf->cf_consumer_prefix, host,
	    "%s: consumer_prefix is the host name", what);
	is_string(cf->cf_start_id, "0", "%s: start_id", what);
	ok(cf->cf_batch_size == 500 && cf->cf_block_ms == 2000 &&
	    cf->cf_claim_idle_ms == 60000 && cf->cf_claim_interval_ms == 30000 &&
	    cf->cf_max_deliveries == 3 && cf->cf_dlq_maxlen == 100000 &&
	    cf->cf_max_payload == 1048576 &&
	    cf->cf_command_timeout_ms == 5000 &&
	    cf->cf_connect_timeout_ms == 5000 &&
	    cf->cf_read_budget == 33554432, "%s: redis numbers", what);
	is_string(cf->cf_pg_url, "postgresql:///processor", "%s: postgres url",
	    what);
	is_int(cf->cf_hypertable, HYPERTABLE_AUTO, "%s: hypertable", what);
	is_string(cf->cf_chunk_interval, "1 day", "%s: chunk_interval", what);
	is_int(cf->cf_statement_timeout_ms, 30000, "%s: statement timeout", what);
	is_int(cf->cf_client_timeout_ms, 60000, "%s: client timeout", what);
	ok(cf->cf_workers == 0 && cf->cf_max_devices == 100000 &&
	    cf->cf_log_level == LOG_LVL_INFO && cf->cf_max_inflight == 2 &&
	    cf->cf_startup_timeout_ms == 60000 &&
	    cf->cf_shutdown_timeout_ms == 30000 && cf->cf_max_restarts == 10 &&
	    cf->cf_restart_window_ms == 60000 &&
	    cf->cf_max_future_ms == 300000 && cf->cf_max_past_days == 3650 &&
	    cf->cf_dead_letter_conflicts == 0 && cf->cf_circuit_failures == 10 &&
	    cf->cf_worker_stall_ms == 10000,
	    "%s: processor numbers", what);
	is_string(cf->cf_http_listen, "127.0.0.1:10187", "%s: http listen", what);
	is_string(cf->cf_control_socket, "/run/processor/control.sock",
	    "%s: control socket", what);
}

static void
test_defaults(void)
{
	struct config	cf;
	char		err[1024];
	const char	*path = fixture("empty.conf");

	ok(config_load(&cf, path, err, sizeof(err)) == 0,
	    "comments-only file loads (%s)", err);
	is_string(cf.cf_file, path, "cf_file names the file read");
	check_defaults(&cf, "defaults");
	config_free(&cf);
	ok(is_zeroed(&cf), "config_free zeroes the struct");
	config_free(&cf);

	if (access(CONFIG_DEFAULT_PATH, F_OK) == -1 && errno == ENOENT) {
		ok(config_load(&cf, NULL, err, sizeof(err)) == 0 &&
		    cf.cf_file == NULL,
		    "no path, no default file: defaults, cf_file NULL (%s)", err);
		config_free(&cf);
	} else
		skip("%s exists here", CONFIG_DEFAULT_PATH);

	setenv("PROCESSOR_CONFIG", fixture("full.conf"), 1);
	ok(config_load(&cf, NULL, err, sizeof(err)) == 0 &&
	    cf.cf_file != NULL && strcmp(cf.cf_file, fixture("full.conf")) == 0,
	    "PROCESSOR_CONFIG names the default file (%s)", err);
	config_free(&cf);
	setenv("PROCESSOR_CONFIG", "/nonexistent/processor.conf", 1);
	load_fails(NULL, "cannot open /nonexistent/processor.conf (from "
	    "PROCESSOR_CONFIG): No such file or directory",
	    "PROCESSOR_CONFIG missing");
	unsetenv("PROCESSOR_CONFIG");
	load_fails("/nonexistent/processor.conf", "cannot open "
	    "/nonexistent/processor.conf: No such file or directory",
	    "explicit path missing");

	ok(config_load(&cf, fixture("empty.conf"), NULL, 0) == 0,
	    "err may be NULL");
	config_free(&cf);
}

static void
test_full(void)
{
	struct config	cf;
	char		err[1024];
	enum log_level	before = log_getlevel();

	if (config_load(&cf, fixture("full.conf"), err, sizeof(err)) == -1) {
		ok(0, "full.conf loads: %s", err);
		return;
	}
	ok(1, "full.conf loads");
	is_string(cf.cf_redis_url, "redis://:secret@10.0.0.5:6380/2", "redis url");
	is_string(cf.cf_stream, "telemetry:test", "stream");
	is_string(cf.cf_group, "grp", "group");
	is_string(cf.cf_consumer_prefix, "host-a", "consumer_prefix");
	is_string(cf.cf_start_id, "$", "start_id");
	is_int(cf.cf_batch_size, 100, "batch_size, inline comment stripped");
	is_int(cf.cf_block_ms, 500, "block_ms, tab-indented line");
	is_int(cf.cf_claim_idle_ms, 120000, "claim_idle_ms, space-indented line");
	is_int(cf.cf_claim_interval_ms, 15000, "claim_interval_ms");
	is_int(cf.cf_max_deliveries, 3, "max_deliveries");
	is_int(cf.cf_dlq_maxlen, 5000, "dlq_maxlen");
	is_int((long long)cf.cf_max_payload, 65536, "max_payload 64k");
	is_string(cf.cf_pg_url, "host=/tmp dbname=test application_name=a;b",
	    "postgres url keeps a ';' not preceded by a blank");
	is_int(cf.cf_hypertable, HYPERTABLE_OFF, "hypertable off");
	is_string(cf.cf_chunk_interval, "12 hours", "chunk_interval normalized");
	is_int(cf.cf_statement_timeout_ms, 0, "statement_timeout_ms 0");
	is_int(cf.cf_workers, 4, "workers");
	is_int(config_workers(&cf), 4, "config_workers with a number");
	is_int(cf.cf_max_devices, 5000, "max_devices");
	is_int(cf.cf_log_level, LOG_LVL_DEBUG, "log_level debug");
	is_int(log_getlevel(), before, "loading does not touch the global log level");
	is_int(cf.cf_max_inflight, 4, "max_inflight");
	is_int(cf.cf_startup_timeout_ms, 10000, "startup_timeout_ms");
	is_int(cf.cf_shutdown_timeout_ms, 5000, "shutdown_timeout_ms");
	is_int(cf.cf_max_restarts, 0, "max_restarts 0");
	is_int(cf.cf_restart_window_ms, 120000, "restart_window_ms");
	is_string(cf.cf_http_listen, "", "empty listen disables http");
	is_string(cf.cf_control_socket, "/tmp/processor-test.sock", "control socket");
	config_free(&cf);
}

static void
test_file_errors(void)
{
	struct config	cf;
	char		err[1024], want[1024];

#define FERR(name, rest, what) do {					\
	snprintf(want, sizeof(want), "%s:%s", fixture(name), rest);	\
	load_fails(fixture(name), want, what);				\
} while (0)
	FERR("bad-int.conf", "12: key 'batch_size' in [redis]: 'abc' is not "
	    "an integer", "bad integer");
	FERR("unknown-key.conf", "7: unknown key 'bach_size' in [redis]",
	    "unknown key");
	FERR("unknown-section.conf", "3: unknown section [redsi]",
	    "unknown section");
	FERR("syntax.conf", "3: syntax error (expected [section], key = value, "
	    "or a comment)", "syntax error");
	FERR("duplicate.conf", "7: duplicate key 'batch_size' in [redis] "
	    "(first set on line 2)", "duplicate key across repeated sections");
	FERR("outside.conf", "2: key 'batch_size' outside any section",
	    "key before any section");
	FERR("continuation.conf", "3: syntax error (expected [section], "
	    "key = value, or a comment)", "no continuation lines");
	FERR("unclosed.conf", "1: section header lacks ']'", "unclosed section");
	FERR("long-line.conf", "2: line longer than 198 characters",
	    "over-long line");
	FERR("bad-pg-url.conf", "2: key 'url' in [postgres]: invalid "
	    "connection string: missing \"=\" after \"dbname\" in connection "
	    "info string", "postgres url checked by libpq");
#undef FERR
	if (config_load(&cf, fixture("no-newline.conf"), err, sizeof(err)) == 0) {
		is_int(cf.cf_batch_size, 10, "last line without a newline counts");
		config_free(&cf);
	} else
		ok(0, "no-newline.conf loads: %s", err);
	snprintf(want, sizeof(want), "%s:1: read error: Is a directory", srcdir);
	load_fails(srcdir, want, "a directory");
}

static void
test_env(void)
{
	struct config	cf;
	char		err[1024];

	setenv("REDIS_URL", "redis://r1:6379", 1);
	setenv("POSTGRES_URL", "postgresql://u@db/p", 1);
	setenv("PROCESSOR_REDIS_BATCH_SIZE", "42", 1);
	setenv("PROCESSOR_PROCESSOR_WORKERS", "3", 1);
	setenv("PROCESSOR_HTTP_LISTEN", "", 1);
	setenv("PROCESSOR_SOMETHING_ELSE", "x", 1);	/* not a section: ignored */
	ok(config_load(&cf, fixture("full.conf"), err, sizeof(err)) == 0,
	    "environment overrides load (%s)", err);
	is_string(cf.cf_redis_url, "redis://r1:6379", "REDIS_URL overrides the file");
	is_string(cf.cf_pg_url, "postgresql://u@db/p", "POSTGRES_URL overrides the file");
	is_int(cf.cf_batch_size, 42, "PROCESSOR_REDIS_BATCH_SIZE overrides the file");
	is_int(cf.cf_workers, 3, "PROCESSOR_PROCESSOR_WORKERS");
	is_string(cf.cf_http_listen, "", "PROCESSOR_HTTP_LISTEN= disables http");
	is_string(cf.cf_stream, "telemetry:test", "file values without env stay");
	config_free(&cf);

	setenv("PROCESSOR_REDIS_URL", "unix:///run/redis.sock", 1);
	setenv("PROCESSOR_POSTGRES_URL", "dbname=x", 1);
	ok(config_load(&cf, fixture("empty.conf"), err, sizeof(err)) == 0 &&
	    strcmp(cf.cf_redis_url, "unix:///run/redis.sock") == 0 &&
	    strcmp(cf.cf_pg_url, "dbname=x") == 0,
	    "PROCESSOR_<SECTION>_URL wins over REDIS_URL/POSTGRES_URL");
	config_free(&cf);
	setenv("REDIS_URL", "not a url", 1);
	ok(config_load(&cf, fixture("empty.conf"), err, sizeof(err)) == 0,
	    "REDIS_URL is not even checked when PROCESSOR_REDIS_URL is set (%s)",
	    err);
	config_free(&cf);
	clean_env();
	unsetenv("PROCESSOR_SOMETHING_ELSE");

	env_fails("PROCESSOR_REDIS_BATCH_SIZE", "abc", "'abc' is not an integer");
	env_fails("PROCESSOR_REDIS_BACH_SIZE", "1",
	    "unknown key 'bach_size' in [redis]");
	env_fails("PROCESSOR_PROCESSOR_WORKER", "1",
	    "unknown key 'worker' in [processor]");
	env_fails("PROCESSOR_HTTP_", "1", "unknown key '' in [http]");
	env_fails("REDIS_URL", "", "must not be empty");
	env_fails("POSTGRES_URL", "dbname", "invalid connection string: "
	    "missing \"=\" after \"dbname\" in connection info string");
}

/* Values: what passes, what each rejection says. */
static void
test_values(void)
{
	static const struct {
		const char	*var, *value, *why;	/* why NULL: accepted */
	} cases[] = {
		{ "PROCESSOR_REDIS_URL", "http://x", "must be redis://[[user]:"
		    "password@]host[:port][/db] or unix:///path[?db=N]" },
		{ "PROCESSOR_REDIS_URL", "rediss://x", "TLS (rediss://) is not "
		    "supported" },
		{ "PROCESSOR_REDIS_URL", "redis://", "invalid URL: missing or too "
		    "long host name" },
		{ "PROCESSOR_REDIS_URL", "redis://h:99999", "invalid URL: bad port" },
		{ "PROCESSOR_REDIS_URL", "unix://relative", "invalid URL: unix "
		    "socket path must be absolute and short" },
		{ "PROCESSOR_REDIS_URL", "redis://u:p@h:1/2", NULL },
		{ "PROCESSOR_REDIS_URL", "unix:///run/redis.sock?db=3", NULL },
		{ "PROCESSOR_REDIS_STREAM", "", "must not be empty" },
		{ "PROCESSOR_REDIS_STREAM", "a b", "'a b' contains white space" },
		{ "PROCESSOR_REDIS_GROUP", "g\x01", "contains a control character" },
		{ "PROCESSOR_REDIS_START_ID", "$", NULL },
		{ "PROCESSOR_REDIS_START_ID", "1700000000000-0", NULL },
		{ "PROCESSOR_REDIS_START_ID", "1700000000000", NULL },
		{ "PROCESSOR_REDIS_START_ID", "latest", "'latest' is not a stream "
		    "id (0, $, or MS-SEQ such as 1700000000000-0)" },
		{ "PROCESSOR_REDIS_START_ID", "1-", "'1-' is not a stream id (0, $, "
		    "or MS-SEQ such as 1700000000000-0)" },
		{ "PROCESSOR_REDIS_BATCH_SIZE", "0", "0 is out of range (1..10000)" },
		{ "PROCESSOR_REDIS_BATCH_SIZE", "10001",
		    "10001 is out of range (1..10000)" },
		{ "PROCESSOR_REDIS_BATCH_SIZE", "10000", NULL },
		{ "PROCESSOR_REDIS_BATCH_SIZE", " 5", "' 5' is not an integer" },
		{ "PROCESSOR_REDIS_BATCH_SIZE", "5x", "'5x' is not an integer" },
		{ "PROCESSOR_REDIS_BATCH_SIZE", "99999999999999999999",
		    "'99999999999999999999' is not an integer" },
		{ "PROCESSOR_REDIS_BLOCK_MS", "0", "0 is out of range (1..60000)" },
		{ "PROCESSOR_REDIS_CLAIM_IDLE_MS", "999",
		    "999 is out of range (1000..86400000)" },
		{ "PROCESSOR_REDIS_CLAIM_INTERVAL_MS", "-1",
		    "-1 is out of range (100..3600000)" },
		{ "PROCESSOR_REDIS_MAX_DELIVERIES", "1001",
		    "1001 is out of range (1..1000)" },
		{ "PROCESSOR_REDIS_DLQ_MAXLEN", "0",
		    "0 is out of range (1..1000000000)" },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "2m", NULL },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "1K", NULL },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "65m",
		    "65m is out of range (1024..67108864 bytes)" },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "100",
		    "100 is out of range (1024..67108864 bytes)" },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "1g", "'1g' has an unknown suffix "
		    "(k or m)" },
		{ "PROCESSOR_REDIS_MAX_PAYLOAD", "1kb", "'1kb' is not a size "
		    "(bytes, or a number with suffix k or m)" },
		{ "PROCESSOR_REDIS_READ_BUDGET", "64m", NULL },
		{ "PROCESSOR_REDIS_READ_BUDGET", "1023k",
		    "1023k is out of range (1048576..1073741824 bytes)" },
		{ "PROCESSOR_REDIS_READ_BUDGET", "1025m",
		    "1025m is out of range (1048576..1073741824 bytes)" },
		{ "PROCESSOR_POSTGRES_HYPERTABLE", "on", NULL },
		{ "PROCESSOR_POSTGRES_HYPERTABLE", "yes",
		    "'yes' is not one of auto, on, off" },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "7 days", NULL },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "1 week", NULL },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "1 month", "'1 month' is not "
		    "an interval such as '1 day' (units: second, minute, hour, "
		    "day, week)" },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "1 day'; drop table x; --",
		    "'1 day'; drop table x; --' is not an interval such as '1 day' "
		    "(units: second, minute, hour, day, week)" },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "0 days",
		    "'0 days': 0 is out of range (1..1000000)" },
		{ "PROCESSOR_POSTGRES_CHUNK_INTERVAL", "day", "'day' is not an "
		    "interval such as '1 day' (units: second, minute, hour, day, "
		    "week)" },
		{ "PROCESSOR_POSTGRES_STATEMENT_TIMEOUT_MS", "86400001",
		    "86400001 is out of range (0..86400000)" },
		{ "PROCESSOR_REDIS_COMMAND_TIMEOUT_MS", "99",
		    "99 is out of range (100..600000)" },
		{ "PROCESSOR_REDIS_CONNECT_TIMEOUT_MS", "0",
		    "0 is out of range (100..600000)" },
		{ "PROCESSOR_POSTGRES_CLIENT_TIMEOUT_MS", "0",
		    "0 is out of range (100..86400000)" },
		{ "PROCESSOR_PROCESSOR_WORKERS", "auto", NULL },
		{ "PROCESSOR_PROCESSOR_WORKERS", "64", NULL },
		{ "PROCESSOR_PROCESSOR_WORKERS", "0",
		    "'0' is neither auto nor a number of workers (1..64)" },
		{ "PROCESSOR_PROCESSOR_WORKERS", "65",
		    "'65' is neither auto nor a number of workers (1..64)" },
		{ "PROCESSOR_PROCESSOR_MAX_DEVICES", "10000001",
		    "10000001 is out of range (1..10000000)" },
		{ "PROCESSOR_PROCESSOR_LOG_LEVEL", "warning", NULL },
		{ "PROCESSOR_PROCESSOR_LOG_LEVEL", "warn", NULL },
		{ "PROCESSOR_PROCESSOR_LOG_LEVEL", "verbose", "'verbose' is not one "
		    "of debug, info, warning, error" },
		{ "PROCESSOR_PROCESSOR_MAX_INFLIGHT", "17",
		    "17 is out of range (1..16)" },
		{ "PROCESSOR_PROCESSOR_STARTUP_TIMEOUT_MS", "999",
		    "999 is out of range (1000..3600000)" },
		{ "PROCESSOR_PROCESSOR_SHUTDOWN_TIMEOUT_MS", "3600001",
		    "3600001 is out of range (1000..3600000)" },
		{ "PROCESSOR_PROCESSOR_MAX_RESTARTS", "-1",
		    "-1 is out of range (0..1000)" },
		{ "PROCESSOR_PROCESSOR_RESTART_WINDOW_MS", "1",
		    "1 is out of range (1000..86400000)" },
		{ "PROCESSOR_HTTP_LISTEN", "[::1]:10187", NULL },
		{ "PROCESSOR_HTTP_LISTEN", "0.0.0.0:1", NULL },
		{ "PROCESSOR_HTTP_LISTEN", "localhost:65535", NULL },
		{ "PROCESSOR_HTTP_LISTEN", "10187",
		    "'10187' is not host:port (port 1..65535)" },
		{ "PROCESSOR_HTTP_LISTEN", ":10187",
		    "':10187' is not host:port (port 1..65535)" },
		{ "PROCESSOR_HTTP_LISTEN", "h:0", "'h:0' is not host:port (port "
		    "1..65535)" },
		{ "PROCESSOR_HTTP_LISTEN", "h:http", "'h:http' is not host:port "
		    "(port 1..65535)" },
		{ "PROCESSOR_HTTP_LISTEN", "::1:10187", "'::1:10187': write an IPv6 "
		    "address in brackets, as in [::1]:10187" },
		{ "PROCESSOR_CONTROL_SOCKET", "control.sock",
		    "'control.sock' is not an absolute path" },
		{ "PROCESSOR_CONTROL_SOCKET", "/run/processor/"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "path longer than 107 bytes" },
	};
	struct config	cf;
	char		err[1024];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].why != NULL) {
			env_fails(cases[i].var, cases[i].value, cases[i].why);
			continue;
		}
		setenv(cases[i].var, cases[i].value, 1);
		ok(config_load(&cf, fixture("empty.conf"), err, sizeof(err)) == 0,
		    "%s=%s accepted (%s)", cases[i].var, cases[i].value, err);
		config_free(&cf);
		unsetenv(cases[i].var);
	}

	setenv("PROCESSOR_REDIS_MAX_PAYLOAD", "2m", 1);
	setenv("PROCESSOR_POSTGRES_CHUNK_INTERVAL", "1 weeks", 1);
	setenv("PROCESSOR_PROCESSOR_LOG_LEVEL", "warn", 1);
	setenv("PROCESSOR_PROCESSOR_WORKERS", "auto", 1);
	if (config_load(&cf, fixture("full.conf"), err, sizeof(err)) == 0) {
		is_int((long long)cf.cf_max_payload, 2097152, "2m is 2 MiB");
		is_string(cf.cf_chunk_interval, "1 week", "'1 weeks' normalized");
		is_int(cf.cf_log_level, LOG_LVL_WARN, "warn means warning");
		is_int(cf.cf_workers, 0, "auto is 0");
		ok(config_workers(&cf) >= 2 && config_workers(&cf) <= 64 &&
		    config_workers(&cf) == (2 * sysconf(_SC_NPROCESSORS_ONLN) > 64 ?
		    64 : 2 * sysconf(_SC_NPROCESSORS_ONLN)),
		    "config_workers resolves auto to twice the CPU count (%d)",
		    config_workers(&cf));
	} else
		ok(0, "load with value overrides: %s", err);
	config_free(&cf);
	clean_env();
}

static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*s;
	long	 n;

	if ((fp = fopen(path, "r")) == NULL || fseek(fp, 0, SEEK_END) == -1 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (s = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(s, 1, (size_t)n, fp) != (size_t)n)
		bail("cannot read %s", path);
	fclose(fp);
	return s;
}

/* The shipped example: loads as is, and its commented defaults are the real ones. */
static void
test_example(void)
{
	struct config	 cf;
	char		 err[1024], line[1024], tmp[] = "/tmp/processor-conf-XXXXXX";
	char		 tmp2[] = "/tmp/processor-conf-XXXXXX";
	char		*example, *man, *p, *q;
	FILE		*in, *out;
	size_t		 i, nset = 0;
	int		 fd;

	ok(config_load(&cf, path_of("etc/processor.conf"), err, sizeof(err)) == 0,
	    "etc/processor.conf loads (%s)", err);
	check_defaults(&cf, "example");
	config_free(&cf);

	if ((in = fopen(path_of("etc/processor.conf"), "r")) == NULL ||
	    (fd = mkstemp(tmp)) == -1 || (out = fdopen(fd, "w")) == NULL)
		bail("cannot copy etc/processor.conf");
	while (fgets(line, sizeof(line), in) != NULL) {
		/* "#key = value" (no blank after '#') is a commented-out setting. */
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    strchr(line, '=') != NULL) {
			nset++;
			/* Its default is the host name: the example cannot know it. */
			if (strncmp(line, "#consumer_prefix", 16) == 0)
				continue;
			fputs(line + 1, out);
		} else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	is_int((long long)nset, (long long)NVARS,
	    "example has one commented-out setting per key");
	ok(config_load(&cf, tmp, err, sizeof(err)) == 0,
	    "example with every setting uncommented loads (%s)", err);
	check_defaults(&cf, "uncommented example");
	config_free(&cf);
	unlink(tmp);

	example = slurp(path_of("etc/processor.conf"));
	man = slurp(path_of("man/processor.conf.5"));
	for (i = 0; i < NVARS; i++)
		ok(strstr(example, env_vars[i]) != NULL &&
		    strstr(man, env_vars[i]) != NULL,
		    "%s named in the example and the man page", env_vars[i]);
	free(example);

	/* The first example of the man page is a working file. */
	if ((p = strstr(man, ".Sh EXAMPLES")) == NULL ||
	    (p = strstr(p, ".Bd -literal")) == NULL ||
	    (p = strchr(p, '\n')) == NULL || (q = strstr(p, ".Ed\n")) == NULL ||
	    (fd = mkstemp(tmp2)) == -1 || (out = fdopen(fd, "w")) == NULL)
		bail("cannot extract the man page example");
	fwrite(p + 1, 1, (size_t)(q - p - 1), out);
	fclose(out);
	ok(config_load(&cf, tmp2, err, sizeof(err)) == 0 &&
	    cf.cf_workers == 8 && cf.cf_hypertable == HYPERTABLE_ON &&
	    strcmp(cf.cf_consumer_prefix, "proc-a") == 0,
	    "the man page example loads (%s)", err);
	config_free(&cf);
	unlink(tmp2);
	free(man);
}

/* config_item: each key's source, and secrets masked in what is shown. */
static const struct config_item *
item_of(const struct config *cf, const char *section, const char *key)
{
	static struct config_item	ci;
	size_t				i;

	for (i = 0; config_item(cf, i, &ci) == 0; i++)
		if (strcmp(ci.ci_section, section) == 0 &&
		    strcmp(ci.ci_key, key) == 0)
			return &ci;
	return NULL;
}

static void
test_sources(void)
{
	static const struct {
		const char	*url;
		const char	*shown;
	} pg[] = {
		{ "postgresql://u:pw@db:5432/p?sslmode=require",
		    "postgresql://u:****@db:5432/p?sslmode=require" },
		{ "postgresql://u@db/p?password=pw&sslmode=require",
		    "postgresql://u@db/p?password=****&sslmode=require" },
		{ "host=db password=pw dbname=p", "host=db password=**** dbname=p" },
		{ "host=db password = 'p w\\'x' dbname=p",
		    "host=db password = **** dbname=p" },
		{ "postgresql:///processor", "postgresql:///processor" },
	};
	const struct config_item	*ci;
	struct config			 cf;
	char				 err[1024], want[4200];
	size_t				 i, n;

	setenv("PROCESSOR_REDIS_BLOCK_MS", "700", 1);
	if (config_load(&cf, fixture("full.conf"), err, sizeof(err)) == -1) {
		ok(0, "full.conf loads: %s", err);
		unsetenv("PROCESSOR_REDIS_BLOCK_MS");
		return;
	}
	ci = item_of(&cf, "redis", "url");
	snprintf(want, sizeof(want), "%s:5", fixture("full.conf"));
	is_string(ci ? ci->ci_source : NULL, want, "redis url: FILE:LINE");
	is_string(ci ? ci->ci_value : NULL, "redis://:****@10.0.0.5:6380/2",
	    "redis url: password masked");
	ci = item_of(&cf, "redis", "block_ms");
	is_string(ci ? ci->ci_source : NULL, "PROCESSOR_REDIS_BLOCK_MS",
	    "block_ms: the environment variable");
	is_string(ci ? ci->ci_value : NULL, "700", "block_ms: its value");
	ci = item_of(&cf, "domain", "refresh_ms");
	is_string(ci ? ci->ci_source : NULL, "default", "refresh_ms: default");
	is_string(ci ? ci->ci_value : NULL, "10000", "refresh_ms: default value");
	ci = item_of(&cf, "domain", "catchup_interval_ms");
	is_string(ci ? ci->ci_value : NULL, "5000",
	    "catchup_interval_ms: default value");
	for (n = 0; config_item(&cf, n, &(struct config_item){ 0 }) == 0; n++)
		;
	is_int((long long)n, (long long)NVARS, "every key has an item");
	config_free(&cf);
	unsetenv("PROCESSOR_REDIS_BLOCK_MS");

	for (i = 0; i < sizeof(pg) / sizeof(pg[0]); i++) {
		setenv("POSTGRES_URL", pg[i].url, 1);
		if (config_load(&cf, fixture("empty.conf"), err, sizeof(err)) == -1) {
			ok(0, "%s loads: %s", pg[i].url, err);
			continue;
		}
		ci = item_of(&cf, "postgres", "url");
		is_string(ci ? ci->ci_value : NULL, pg[i].shown, "shown as %s",
		    pg[i].shown);
		is_string(ci ? ci->ci_source : NULL, "POSTGRES_URL",
		    "source POSTGRES_URL");
		config_free(&cf);
	}
	unsetenv("POSTGRES_URL");
}

int
main(void)
{
	if ((srcdir = getenv("PROCESSOR_SRCDIR")) == NULL)
		srcdir = ".";
	plan(273 + 3 + 5 + 7 + 2 * 5 + 3 + 3 + 2 * 3 + 6 + 2);
	clean_env();
	test_defaults();
	test_full();
	test_file_errors();
	test_env();
	test_values();
	test_example();
	test_sources();
	return tap_done();
}
