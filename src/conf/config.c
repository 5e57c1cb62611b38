/* Configuration: built-in defaults, then the INI file, then the environment. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>
#include <libpq-fe.h>

#include "conf/config.h"
#include "util/redisurl.h"
#include "util/log.h"

#define CONFIG_ENV_PREFIX	"PROCESSOR_"
#define CONFIG_WORKERS_MAX	64
#define CONFIG_WORKERS_PER_CPU	2	/* workers = auto */
#define CONFIG_NAME_MAX		128	/* stream, group, consumer prefix */
#define CONFIG_WHY_MAX		256

/* Key flags. */
#define CK_SECRET	0x01	/* never echo the value: it may hold a password */
#define CK_EMPTY_OK	0x02	/* the empty string is a meaningful value */

struct config_key {
	const char	*ck_section;
	const char	*ck_name;
	int		(*ck_set)(struct config *, const struct config_key *,
			    const char *, char *, size_t);
	size_t		 ck_off;	/* offsetof(struct config, field) */
	long long	 ck_min;
	long long	 ck_max;
	const char	*ck_default;	/* NULL: computed at the end (consumer_prefix) */
	int		 ck_flags;
};

/* State of one pass of inih over one file. */
struct config_parse {
	struct config	*cp_cf;
	const char	*cp_file;
	FILE		*cp_fp;
	char		*cp_buf;	/* getline buffer */
	size_t		 cp_bufsz;
	int		 cp_lineno;
	int		 cp_errline;	/* line of the first error we found, 0 if none */
	int		*cp_seen;	/* per key: line where it was set, 0 if not */
	char		*cp_err;
	size_t		 cp_errlen;
};

static int	config_set_name(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_redis_url(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_pg_url(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_start_id(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_int(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_long(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_size(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_hypertable(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_interval(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_workers(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_log_level(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_listen(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_socket(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_evaluators(struct config *, const struct config_key *,
		    const char *, char *, size_t);
static int	config_set_onoff(struct config *, const struct config_key *,
		    const char *, char *, size_t);

#define OFF(f)	offsetof(struct config, f)

/*
 * Every key, its setter (which validates), range and default.  Defaults go
 * through the same setters as the file and the environment, so a default
 * that would not pass validation is caught by the unit test at once.
 */
static const struct config_key config_keys[] = {
	{ "redis", "url", config_set_redis_url, OFF(cf_redis_url), 0, 0,
	    "redis://127.0.0.1:6379", CK_SECRET },
	{ "redis", "stream", config_set_name, OFF(cf_stream), 0, 0,
	    "telemetry:t", 0 },
	{ "redis", "group", config_set_name, OFF(cf_group), 0, 0,
	    "processor", 0 },
	{ "redis", "consumer_prefix", config_set_name, OFF(cf_consumer_prefix),
	    0, 0, NULL, 0 },
	{ "redis", "start_id", config_set_start_id, OFF(cf_start_id), 0, 0,
	    "0", 0 },
	{ "redis", "batch_size", config_set_int, OFF(cf_batch_size),
	    1, 10000, "500", 0 },
	{ "redis", "block_ms", config_set_int, OFF(cf_block_ms),
	    1, 60000, "2000", 0 },
	{ "redis", "claim_idle_ms", config_set_int, OFF(cf_claim_idle_ms),
	    1000, 86400000, "60000", 0 },
	{ "redis", "claim_interval_ms", config_set_int,
	    OFF(cf_claim_interval_ms), 100, 3600000, "30000", 0 },
	{ "redis", "max_deliveries", config_set_int, OFF(cf_max_deliveries),
	    1, 1000, "3", 0 },
	{ "redis", "dlq_maxlen", config_set_long, OFF(cf_dlq_maxlen),
	    1, 1000000000, "100000", 0 },
	{ "redis", "max_payload", config_set_size, OFF(cf_max_payload),
	    1024, 64 * 1024 * 1024, "1048576", 0 },
	{ "redis", "command_timeout_ms", config_set_int,
	    OFF(cf_command_timeout_ms), 100, 600000, "5000", 0 },
	{ "redis", "connect_timeout_ms", config_set_int,
	    OFF(cf_connect_timeout_ms), 100, 600000, "5000", 0 },
	{ "redis", "read_budget", config_set_size, OFF(cf_read_budget),
	    1024 * 1024, 1024 * 1024 * 1024, "33554432", 0 },

	{ "postgres", "url", config_set_pg_url, OFF(cf_pg_url), 0, 0,
	    "postgresql:///processor", CK_SECRET },
	{ "postgres", "hypertable", config_set_hypertable, OFF(cf_hypertable),
	    0, 0, "auto", 0 },
	{ "postgres", "chunk_interval", config_set_interval,
	    OFF(cf_chunk_interval), 1, 1000000, "1 day", 0 },
	{ "postgres", "statement_timeout_ms", config_set_int,
	    OFF(cf_statement_timeout_ms), 0, CONFIG_STATEMENT_TIMEOUT_MAX_MS, "30000", 0 },
	{ "postgres", "client_timeout_ms", config_set_int,
	    OFF(cf_client_timeout_ms), 100, CONFIG_STATEMENT_TIMEOUT_MAX_MS,
	    "60000", 0 },

	{ "processor", "workers", config_set_workers, OFF(cf_workers),
	    1, CONFIG_WORKERS_MAX, "auto", 0 },
	{ "processor", "max_devices", config_set_int, OFF(cf_max_devices),
	    1, 10000000, "100000", 0 },
	{ "processor", "log_level", config_set_log_level, OFF(cf_log_level),
	    0, 0, "info", 0 },
	{ "processor", "max_inflight", config_set_int, OFF(cf_max_inflight),
	    1, 16, "2", 0 },
	{ "processor", "startup_timeout_ms", config_set_int,
	    OFF(cf_startup_timeout_ms), 1000, 3600000, "60000", 0 },
	{ "processor", "shutdown_timeout_ms", config_set_int,
	    OFF(cf_shutdown_timeout_ms), 1000, 3600000, "30000", 0 },
	{ "processor", "max_restarts", config_set_int, OFF(cf_max_restarts),
	    0, 1000, "10", 0 },
	{ "processor", "max_future_ms", config_set_long, OFF(cf_max_future_ms),
	    0, 31536000000LL, "300000", 0 },
	{ "processor", "max_past_days", config_set_int, OFF(cf_max_past_days),
	    0, 36500, "3650", 0 },
	{ "processor", "restart_window_ms", config_set_int,
	    OFF(cf_restart_window_ms), 1000, 86400000, "60000", 0 },
	{ "processor", "dead_letter_conflicts", config_set_onoff,
	    OFF(cf_dead_letter_conflicts), 0, 0, "off", 0 },
	{ "processor", "circuit_failures", config_set_int,
	    OFF(cf_circuit_failures), 1, 100000, "10", 0 },
	{ "processor", "worker_stall_ms", config_set_int,
	    OFF(cf_worker_stall_ms), 2000, 3600000, "10000", 0 },

	{ "http", "listen", config_set_listen, OFF(cf_http_listen), 0, 0,
	    "127.0.0.1:10187", CK_EMPTY_OK },

	{ "control", "socket", config_set_socket, OFF(cf_control_socket),
	    0, 0, "/run/processor/control.sock", 0 },

	{ "domain", "evaluators", config_set_evaluators, OFF(cf_evaluators),
	    0, CONFIG_EVALUATORS_MAX, "auto", 0 },
	{ "domain", "refresh_ms", config_set_int, OFF(cf_refresh_ms),
	    100, 3600000, "10000", 0 },
	{ "domain", "late_window_s", config_set_int, OFF(cf_late_window_s),
	    0, 30 * 86400, "86400", 0 },
	{ "domain", "catchup_interval_ms", config_set_int,
	    OFF(cf_catchup_interval_ms), 0, 600000, "5000", 0 },
	{ "domain", "default_family", config_set_name, OFF(cf_default_family),
	    0, 0, "", CK_EMPTY_OK },
	{ "domain", "stopped_kmh", config_set_int, OFF(cf_stopped_kmh),
	    0, 100, "5", 0 },
	{ "domain", "stopped_s", config_set_int, OFF(cf_stopped_s),
	    1, 86400, "60", 0 },
	{ "domain", "silent_s", config_set_int, OFF(cf_silent_s),
	    1, 86400, "60", 0 },
	{ "domain", "events_stream", config_set_name, OFF(cf_events_stream),
	    0, 0, "events:domain", CK_EMPTY_OK },
	{ "domain", "events_maxlen", config_set_int, OFF(cf_events_maxlen),
	    100, 100000000, "100000", 0 },
};

#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

_Static_assert(CONFIG_NKEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

#define CONFIG_MASK	"****"

static const char *const config_sections[] = {
	"redis", "postgres", "processor", "http", "control", "domain"
};

#define CONFIG_NSECTIONS (sizeof(config_sections) / sizeof(config_sections[0]))

/* The usual connection variables; PROCESSOR_<SECTION>_URL wins over them. */
static const struct {
	const char	*ce_var;
	const char	*ce_section;
} config_env_aliases[] = {
	{ "REDIS_URL", "redis" },
	{ "POSTGRES_URL", "postgres" },
};

static void
config_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static const struct config_key *
config_find_key(const char *section, const char *name)
{
	size_t	i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].ck_section, section) == 0 &&
		    strcmp(config_keys[i].ck_name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* A "password" parameter name starts at p: URI query or libpq key=value. */
static int
config_password_at(const char *v, const char *p)
{
	if (p != v && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '?' &&
	    p[-1] != '&')
		return 0;
	return strncmp(p, "password", 8) == 0;
}

/*
 * A copy of v fit to show an operator.  In a CK_SECRET value the password
 * of a URL's user information and the value of any password parameter (a
 * URI's ?password= or libpq's password=...) become CONFIG_MASK; the rest
 * stays, so host, port and database are still visible.  NULL: no memory.
 */
static char *
config_mask(const struct config_key *k, const char *v)
{
	const char	*p = v, *auth, *end, *at = NULL, *colon, *q;
	char		*out, *o;
	size_t		 n = strlen(v);

	if ((k->ck_flags & CK_SECRET) == 0)
		return strdup(v);
	/* each masked stretch of at least one byte grows by at most 3 */
	if ((out = malloc(4 * n + 1)) == NULL)
		return NULL;
	o = out;
	if ((auth = strstr(v, "://")) != NULL) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		for (q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL && at > colon + 1) {
			memcpy(o, v, (size_t)(colon + 1 - v));
			o += colon + 1 - v;
			memcpy(o, CONFIG_MASK, strlen(CONFIG_MASK));
			o += strlen(CONFIG_MASK);
			p = at;
		}
	}
	while (*p != '\0') {
		if (!config_password_at(v, p)) {
			*o++ = *p++;
			continue;
		}
		for (q = p + 8; *q == ' ' || *q == '\t'; q++)
			;
		if (*q != '=') {
			*o++ = *p++;
			continue;
		}
		for (q++; *q == ' ' || *q == '\t'; q++)
			;
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		if (*q == '\'') {	/* libpq quoting: \' and \\ escape */
			for (end = q + 1; *end != '\0' && *end != '\''; end++)
				if (*end == '\\' && end[1] != '\0')
					end++;
			if (*end == '\'')
				end++;
		} else
			end = q + strcspn(q, " \t\n&#");
		if (end > q) {
			memcpy(o, CONFIG_MASK, strlen(CONFIG_MASK));
			o += strlen(CONFIG_MASK);
		}
		p = end;
	}
	*o = '\0';
	return out;
}

/*
 * Set one key through its setter and remember, for processorctl config,
 * the value as given (masked) and where it came from.
 */
static int
config_apply(struct config *cf, const struct config_key *k, const char *v,
    const char *source, char *why, size_t whylen)
{
	size_t	 i = (size_t)(k - config_keys);
	char	*shown, *src;

	if (k->ck_set(cf, k, v, why, whylen) == -1)
		return -1;
	if ((shown = config_mask(k, v)) == NULL ||
	    (src = strdup(source)) == NULL) {
		free(shown);
		config_why(why, whylen, "out of memory");
		return -1;
	}
	free(cf->cf_shown[i]);
	cf->cf_shown[i] = shown;
	free(cf->cf_source[i]);
	cf->cf_source[i] = src;
	return 0;
}

static int
config_known_section(const char *section)
{
	size_t	i;

	for (i = 0; i < CONFIG_NSECTIONS; i++)
		if (strcmp(config_sections[i], section) == 0)
			return 1;
	return 0;
}

/* Shared checks for text values: no control characters, empty only if allowed. */
static int
config_check_text(const struct config_key *k, const char *v, char *why,
    size_t whylen)
{
	const unsigned char	*p;

	if (*v == '\0' && (k->ck_flags & CK_EMPTY_OK) == 0) {
		config_why(why, whylen, "must not be empty");
		return -1;
	}
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (iscntrl(*p)) {
			config_why(why, whylen, "contains a control character");
			return -1;
		}
	}
	return 0;
}

static int
config_store(struct config *cf, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	char	**dst = (char **)(void *)((char *)cf + k->ck_off);
	char	 *s;

	if ((s = strdup(v)) == NULL) {
		config_why(why, whylen, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/* Redis key and consumer names: no blanks, so logs and commands stay unambiguous. */
static int
config_set_name(struct config *cf, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	const char	*p;

	if (config_check_text(k, v, why, whylen) == -1)
		return -1;
	if (strlen(v) > CONFIG_NAME_MAX) {
		config_why(why, whylen, "longer than %d characters",
		    CONFIG_NAME_MAX);
		return -1;
	}
	for (p = v; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			config_why(why, whylen, "'%s' contains white space", v);
			return -1;
		}
	}
	return config_store(cf, k, v, why, whylen);
}

/* The consumer's own URL parser decides; we only refuse to echo a password. */
static int
config_set_redis_url(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	struct redis_addr	ra;
	char			reason[CONFIG_WHY_MAX];

	if (config_check_text(k, v, why, whylen) == -1)
		return -1;
	if (strncmp(v, "rediss://", 9) == 0) {
		config_why(why, whylen, "TLS (rediss://) is not supported");
		return -1;
	}
	if (strncmp(v, "redis://", 8) != 0 && strncmp(v, "unix://", 7) != 0) {
		config_why(why, whylen, "must be redis://[[user]:password@]host"
		    "[:port][/db] or unix:///path[?db=N]");
		return -1;
	}
	if (redisurl_parse(v, &ra, reason, sizeof(reason)) == -1) {
		config_why(why, whylen, "invalid URL: %s", reason);
		explicit_bzero(&ra, sizeof(ra));
		return -1;
	}
	explicit_bzero(&ra, sizeof(ra));
	return config_store(cf, k, v, why, whylen);
}

/* Let libpq judge the string now, not at the first connection attempt. */
static int
config_set_pg_url(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	PQconninfoOption	*opts;
	char			*msg = NULL;
	size_t			 n;

	if (config_check_text(k, v, why, whylen) == -1)
		return -1;
	if ((opts = PQconninfoParse(v, &msg)) == NULL) {
		if (msg == NULL) {
			config_why(why, whylen, "out of memory");
			return -1;
		}
		n = strlen(msg);
		while (n > 0 && isspace((unsigned char)msg[n - 1]))
			msg[--n] = '\0';
		config_why(why, whylen, "invalid connection string: %s", msg);
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(opts);
	return config_store(cf, k, v, why, whylen);
}

static int
config_all_digits(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* XGROUP CREATE start: "0" (whole stream), "$" (new entries only) or an id. */
static int
config_set_start_id(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	const char	*dash;

	if (strcmp(v, "$") != 0) {
		dash = strchr(v, '-');
		if (dash == NULL ? !config_all_digits(v, strlen(v)) :
		    !config_all_digits(v, (size_t)(dash - v)) ||
		    !config_all_digits(dash + 1, strlen(dash + 1))) {
			config_why(why, whylen, "'%s' is not a stream id "
			    "(0, $, or MS-SEQ such as 1700000000000-0)", v);
			return -1;
		}
	}
	return config_store(cf, k, v, why, whylen);
}

/* Decimal integer, the whole string, no blanks or signs games. */
static int
config_parse_ll(const char *v, long long *out, char **end)
{
	const char	*p = v;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*out = strtoll(v, end, 10);
	if (errno == ERANGE)
		return -1;
	return 0;
}

static int
config_ranged(const struct config_key *k, const char *v, long long *out,
    char *why, size_t whylen)
{
	char	*end;

	if (config_parse_ll(v, out, &end) == -1 || *end != '\0') {
		config_why(why, whylen, "'%s' is not an integer", v);
		return -1;
	}
	if (*out < k->ck_min || *out > k->ck_max) {
		config_why(why, whylen, "%s is out of range (%lld..%lld)", v,
		    k->ck_min, k->ck_max);
		return -1;
	}
	return 0;
}

static int
config_set_int(struct config *cf, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	long long	n;

	if (config_ranged(k, v, &n, why, whylen) == -1)
		return -1;
	*(int *)(void *)((char *)cf + k->ck_off) = (int)n;
	return 0;
}

static int
config_set_long(struct config *cf, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	long long	n;

	if (config_ranged(k, v, &n, why, whylen) == -1)
		return -1;
	*(long *)(void *)((char *)cf + k->ck_off) = (long)n;
	return 0;
}

/* Bytes, optionally with a binary suffix: k (KiB) or m (MiB). */
static int
config_set_size(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	long long	 n, mult = 1;
	char		*end;

	if (config_parse_ll(v, &n, &end) == -1 || n < 0 ||
	    (end[0] != '\0' && end[1] != '\0')) {
		config_why(why, whylen, "'%s' is not a size (bytes, or a "
		    "number with suffix k or m)", v);
		return -1;
	}
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	default:
		config_why(why, whylen, "'%s' has an unknown suffix (k or m)",
		    v);
		return -1;
	}
	if (n > k->ck_max / mult || n * mult < k->ck_min) {
		config_why(why, whylen, "%s is out of range (%lld..%lld bytes)",
		    v, k->ck_min, k->ck_max);
		return -1;
	}
	*(size_t *)(void *)((char *)cf + k->ck_off) = (size_t)(n * mult);
	return 0;
}

static int
config_set_onoff(struct config *cf, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	int	*dst = (int *)(void *)((char *)cf + k->ck_off);

	if (strcmp(v, "on") == 0)
		*dst = 1;
	else if (strcmp(v, "off") == 0)
		*dst = 0;
	else {
		config_why(why, whylen, "'%s' is not one of on, off", v);
		return -1;
	}
	return 0;
}

static int
config_set_hypertable(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	enum hypertable_mode	*dst;

	dst = (enum hypertable_mode *)(void *)((char *)cf + k->ck_off);
	if (strcmp(v, "auto") == 0)
		*dst = HYPERTABLE_AUTO;
	else if (strcmp(v, "on") == 0)
		*dst = HYPERTABLE_ON;
	else if (strcmp(v, "off") == 0)
		*dst = HYPERTABLE_OFF;
	else {
		config_why(why, whylen, "'%s' is not one of auto, on, off", v);
		return -1;
	}
	return 0;
}

/*
 * The chunk interval ends up in SQL (chunk_time_interval => INTERVAL '...'),
 * so only "<n> <unit>" from a fixed list gets through; stored normalized.
 */
static int
config_set_interval(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	static const char *const units[] = {
		"second", "minute", "hour", "day", "week"
	};
	const char	*p, *unit;
	char		 norm[64];
	long long	 n;
	size_t		 i, ulen, nlen;

	for (p = v; isdigit((unsigned char)*p); p++)
		;
	nlen = (size_t)(p - v);
	for (unit = p; *unit == ' ' || *unit == '\t'; unit++)
		;
	ulen = strlen(unit);
	if (ulen > 1 && unit[ulen - 1] == 's')
		ulen--;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i]) == ulen && strncmp(unit, units[i], ulen) == 0)
			break;
	if (nlen == 0 || nlen > 9 || unit == p ||
	    i == sizeof(units) / sizeof(units[0])) {
		config_why(why, whylen, "'%s' is not an interval such as "
		    "'1 day' (units: second, minute, hour, day, week)", v);
		return -1;
	}
	n = strtoll(v, NULL, 10);
	if (n < k->ck_min || n > k->ck_max) {
		config_why(why, whylen, "'%s': %lld is out of range (%lld..%lld)",
		    v, n, k->ck_min, k->ck_max);
		return -1;
	}
	snprintf(norm, sizeof(norm), "%lld %s%s", n, units[i],
	    n == 1 ? "" : "s");
	return config_store(cf, k, norm, why, whylen);
}

static int
config_set_workers(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	long long	n;

	if (strcmp(v, "auto") == 0)
		n = 0;
	else if (config_ranged(k, v, &n, why, whylen) == -1) {
		config_why(why, whylen, "'%s' is neither auto nor a number of "
		    "workers (%lld..%lld)", v, k->ck_min, k->ck_max);
		return -1;
	}
	*(int *)(void *)((char *)cf + k->ck_off) = (int)n;
	return 0;
}

/* auto (-1: one when the racing contract tables exist), or 0..max. */
static int
config_set_evaluators(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	long long	n;

	if (strcmp(v, "auto") == 0)
		n = CONFIG_EVALUATORS_AUTO;
	else if (config_ranged(k, v, &n, why, whylen) == -1) {
		config_why(why, whylen, "'%s' is neither auto nor a number of "
		    "evaluators (%lld..%lld)", v, k->ck_min, k->ck_max);
		return -1;
	}
	*(int *)(void *)((char *)cf + k->ck_off) = (int)n;
	return 0;
}

static int
config_set_log_level(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	enum log_level	lvl;

	if (log_parse_level(v, &lvl) == -1) {
		config_why(why, whylen, "'%s' is not one of debug, info, "
		    "warning, error", v);
		return -1;
	}
	*(int *)(void *)((char *)cf + k->ck_off) = (int)lvl;
	return 0;
}

/* host:port with a numeric port; IPv6 hosts in brackets; "" turns HTTP off. */
static int
config_set_listen(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	const char	*colon;
	size_t		 hlen;
	long long	 port;
	char		*end;

	if (config_check_text(k, v, why, whylen) == -1)
		return -1;
	if (*v == '\0')
		return config_store(cf, k, v, why, whylen);
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v ||
	    config_parse_ll(colon + 1, &port, &end) == -1 || *end != '\0' ||
	    !isdigit((unsigned char)colon[1]) || port < 1 || port > 65535) {
		config_why(why, whylen, "'%s' is not host:port (port 1..65535)",
		    v);
		return -1;
	}
	hlen = (size_t)(colon - v);
	if ((v[0] == '[') != (v[hlen - 1] == ']') || (v[0] == '[' && hlen < 3) ||
	    (v[0] != '[' && memchr(v, ':', hlen) != NULL)) {
		config_why(why, whylen, "'%s': write an IPv6 address in "
		    "brackets, as in [::1]:10187", v);
		return -1;
	}
	return config_store(cf, k, v, why, whylen);
}

static int
config_set_socket(struct config *cf, const struct config_key *k,
    const char *v, char *why, size_t whylen)
{
	struct sockaddr_un	sun;

	if (config_check_text(k, v, why, whylen) == -1)
		return -1;
	if (v[0] != '/') {
		config_why(why, whylen, "'%s' is not an absolute path", v);
		return -1;
	}
	if (strlen(v) >= sizeof(sun.sun_path)) {
		config_why(why, whylen, "path longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	return config_store(cf, k, v, why, whylen);
}

static int
config_defaults(struct config *cf, char *err, size_t errlen)
{
	char	why[CONFIG_WHY_MAX];
	size_t	i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].ck_default == NULL)
			continue;
		if (config_apply(cf, &config_keys[i], config_keys[i].ck_default,
		    "default", why, sizeof(why)) == -1) {
			snprintf(err, errlen, "built-in default of '%s' in [%s]: "
			    "%s", config_keys[i].ck_name,
			    config_keys[i].ck_section, why);
			return -1;
		}
	}
	return 0;
}

/* Record the first error of a file pass, prefixed with file and line. */
static void
config_parse_error(struct config_parse *cp, const char *fmt, ...)
{
	char	msg[CONFIG_WHY_MAX * 2];
	va_list	ap;

	if (cp->cp_errline != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(cp->cp_err, cp->cp_errlen, "%s:%d: %s", cp->cp_file,
	    cp->cp_lineno, msg);
	cp->cp_errline = cp->cp_lineno;
}

/*
 * inih reads through this fgets-like function, so we count lines (the
 * Debian 12 build does not pass line numbers to the handler) and see
 * section headers, which inih does not report.  Leading blanks are removed:
 * indentation is allowed and inih's continuation lines never happen, so a
 * stray indented line is a syntax error instead of a silent append.
 */
static char *
config_read_line(char *str, int num, void *arg)
{
	struct config_parse	*cp = arg;
	ssize_t			 n;
	char			*s, *end;
	size_t			 len;

	if (cp->cp_errline != 0)
		return NULL;
	errno = 0;
	if ((n = getline(&cp->cp_buf, &cp->cp_bufsz, cp->cp_fp)) == -1) {
		if (ferror(cp->cp_fp)) {
			cp->cp_lineno++;
			config_parse_error(cp, "read error: %s", strerror(errno));
		}
		return NULL;
	}
	cp->cp_lineno++;
	if (memchr(cp->cp_buf, '\0', (size_t)n) != NULL) {
		config_parse_error(cp, "line contains a NUL byte");
		return NULL;
	}
	for (s = cp->cp_buf; *s != '\n' && isspace((unsigned char)*s); s++)
		;
	len = (size_t)n - (size_t)(s - cp->cp_buf);
	if (len + 1 > (size_t)num) {
		config_parse_error(cp, "line longer than %d characters", num - 2);
		return NULL;
	}
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			config_parse_error(cp, "section header lacks ']'");
			return NULL;
		}
		*end = '\0';
		if (!config_known_section(s + 1)) {
			config_parse_error(cp, "unknown section [%s]", s + 1);
			return NULL;
		}
		*end = ']';
	}
	memcpy(str, s, len);
	str[len] = '\0';
	return str;
}

static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse	*cp = arg;
	const struct config_key	*k;
	char			 why[CONFIG_WHY_MAX], where[PATH_MAX + 16];
	size_t			 i;

	if (cp->cp_errline != 0)
		return 0;
	if (*section == '\0') {
		config_parse_error(cp, "key '%s' outside any section", name);
		return 0;
	}
	if ((k = config_find_key(section, name)) == NULL) {
		if (config_known_section(section))
			config_parse_error(cp, "unknown key '%s' in [%s]", name,
			    section);
		else
			config_parse_error(cp, "unknown section [%s]", section);
		return 0;
	}
	i = (size_t)(k - config_keys);
	if (cp->cp_seen[i] != 0) {
		config_parse_error(cp, "duplicate key '%s' in [%s] (first set "
		    "on line %d)", name, section, cp->cp_seen[i]);
		return 0;
	}
	cp->cp_seen[i] = cp->cp_lineno;
	snprintf(where, sizeof(where), "%s:%d", cp->cp_file, cp->cp_lineno);
	if (config_apply(cp->cp_cf, k, value, where, why, sizeof(why)) == -1) {
		config_parse_error(cp, "key '%s' in [%s]: %s", name, section,
		    why);
		return 0;
	}
	return 1;
}

static int
config_parse_file(struct config *cf, const char *file, FILE *fp, char *err,
    size_t errlen)
{
	struct config_parse	cp;
	int			seen[CONFIG_NKEYS];
	int			rc;

	memset(&cp, 0, sizeof(cp));
	memset(seen, 0, sizeof(seen));
	cp.cp_cf = cf;
	cp.cp_file = file;
	cp.cp_fp = fp;
	cp.cp_seen = seen;
	cp.cp_err = err;
	cp.cp_errlen = errlen;
	rc = ini_parse_stream(config_read_line, &cp, config_handler, &cp);
	free(cp.cp_buf);
	/* inih reports the first bad line; ours wins unless inih's came first. */
	if (cp.cp_errline != 0 && (rc <= 0 || rc >= cp.cp_errline))
		return -1;
	if (rc > 0) {
		snprintf(err, errlen, "%s:%d: syntax error (expected [section], "
		    "key = value, or a comment)", file, rc);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	return 0;
}

/*
 * path NULL means the default file, which may be absent; PROCESSOR_CONFIG
 * names another default.  An explicitly named file must exist.
 */
static int
config_file(struct config *cf, const char *path, char *err, size_t errlen)
{
	const char	*from = "";
	FILE		*fp;
	int		 explicit = 1, rc;

	if (path == NULL) {
		path = getenv("PROCESSOR_CONFIG");
		if (path != NULL && *path != '\0')
			from = " (from PROCESSOR_CONFIG)";
		else {
			path = CONFIG_DEFAULT_PATH;
			explicit = 0;
		}
	}
	if ((fp = fopen(path, "re")) == NULL) {
		if (!explicit && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s%s: %s", path, from,
		    strerror(errno));
		return -1;
	}
	if ((cf->cf_file = strdup(path)) == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = config_parse_file(cf, path, fp, err, errlen);
	fclose(fp);
	return rc;
}

/* PROCESSOR_REDIS_BATCH_SIZE for ("redis", "batch_size"). */
static void
config_env_name(char *dst, size_t dstsz, const char *section, const char *name)
{
	char	*p;

	snprintf(dst, dstsz, CONFIG_ENV_PREFIX "%s_%s", section, name);
	for (p = dst; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
}

static int
config_env_set(struct config *cf, const struct config_key *k, const char *var,
    char *err, size_t errlen)
{
	const char	*v;
	char		 why[CONFIG_WHY_MAX];

	if ((v = getenv(var)) == NULL)
		return 0;
	if (config_apply(cf, k, v, var, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "environment %s: %s", var, why);
		return -1;
	}
	return 0;
}

static int
config_env_known(const char *var, size_t len)
{
	char	name[256];
	size_t	i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		config_env_name(name, sizeof(name), config_keys[i].ck_section,
		    config_keys[i].ck_name);
		if (strlen(name) == len && strncmp(var, name, len) == 0)
			return 1;
	}
	return 0;
}

/* A PROCESSOR_<SECTION>_* variable we do not know is a typo, not noise. */
static int
config_env_unknown(char *err, size_t errlen)
{
	char		 prefix[64], key[64];
	const char	*e, *eq;
	size_t		 i, j, plen = 0, klen;

	for (j = 0; environ[j] != NULL; j++) {
		e = environ[j];
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		for (i = 0; i < CONFIG_NSECTIONS; i++) {
			config_env_name(prefix, sizeof(prefix),
			    config_sections[i], "");
			plen = strlen(prefix);
			if (strncmp(e, prefix, plen) == 0)
				break;
		}
		if (i == CONFIG_NSECTIONS || config_env_known(e, (size_t)(eq - e)))
			continue;
		klen = (size_t)(eq - e) - plen;
		if (klen >= sizeof(key))
			klen = sizeof(key) - 1;
		for (key[klen] = '\0'; klen > 0; klen--)
			key[klen - 1] = (char)tolower((unsigned char)e[plen + klen - 1]);
		snprintf(err, errlen, "environment %.*s: unknown key '%s' in [%s]",
		    (int)(eq - e), e, key, config_sections[i]);
		return -1;
	}
	return 0;
}

static int
config_env(struct config *cf, char *err, size_t errlen)
{
	char	var[256];
	size_t	i;

	if (config_env_unknown(err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(config_env_aliases) /
	    sizeof(config_env_aliases[0]); i++) {
		/* Not even checked when the specific variable overrides it. */
		config_env_name(var, sizeof(var),
		    config_env_aliases[i].ce_section, "url");
		if (getenv(var) != NULL)
			continue;
		if (config_env_set(cf, config_find_key(
		    config_env_aliases[i].ce_section, "url"),
		    config_env_aliases[i].ce_var, err, errlen) == -1)
			return -1;
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		config_env_name(var, sizeof(var), config_keys[i].ck_section,
		    config_keys[i].ck_name);
		if (config_env_set(cf, &config_keys[i], var, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Values computed last, once the file and the environment had their say. */
static int
config_finish(struct config *cf, char *err, size_t errlen)
{
	const struct config_key	*k;
	char			 host[HOST_NAME_MAX + 1], why[CONFIG_WHY_MAX];

	if (cf->cf_consumer_prefix != NULL)
		return 0;
	k = config_find_key("redis", "consumer_prefix");
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		snprintf(host, sizeof(host), "processor");
	host[sizeof(host) - 1] = '\0';
	if (config_apply(cf, k, host, "default", why, sizeof(why)) == -1) {
		snprintf(err, errlen, "key 'consumer_prefix' in [redis]: host "
		    "name unusable (%s); set consumer_prefix", why);
		return -1;
	}
	return 0;
}

int
config_load(struct config *cf, const char *path, char *err, size_t errlen)
{
	struct config	tmp;
	char		scratch[CONFIG_WHY_MAX * 2];

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	memset(&tmp, 0, sizeof(tmp));
	if (config_defaults(&tmp, err, errlen) == -1 ||
	    config_file(&tmp, path, err, errlen) == -1 ||
	    config_env(&tmp, err, errlen) == -1 ||
	    config_finish(&tmp, err, errlen) == -1) {
		config_free(&tmp);
		memset(cf, 0, sizeof(*cf));
		return -1;
	}
	*cf = tmp;
	return 0;
}

int
config_item(const struct config *cf, size_t i, struct config_item *ci)
{
	if (i >= CONFIG_NKEYS)
		return -1;
	ci->ci_section = config_keys[i].ck_section;
	ci->ci_key = config_keys[i].ck_name;
	ci->ci_value = cf->cf_shown[i] != NULL ? cf->cf_shown[i] : "";
	ci->ci_source = cf->cf_source[i] != NULL ? cf->cf_source[i] : "default";
	return 0;
}

void
config_free(struct config *cf)
{
	size_t	i;

	if (cf == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		free(cf->cf_shown[i]);
		free(cf->cf_source[i]);
	}
	free(cf->cf_file);
	free(cf->cf_redis_url);
	free(cf->cf_stream);
	free(cf->cf_group);
	free(cf->cf_consumer_prefix);
	free(cf->cf_start_id);
	free(cf->cf_pg_url);
	free(cf->cf_chunk_interval);
	free(cf->cf_http_listen);
	free(cf->cf_control_socket);
	free(cf->cf_default_family);
	free(cf->cf_events_stream);
	memset(cf, 0, sizeof(*cf));
}

int
config_sync_statement_timeout(const struct config *cf)
{
	return cf->cf_statement_timeout_ms != 0 ? cf->cf_statement_timeout_ms :
	    cf->cf_client_timeout_ms;
}

/*
 * auto: two workers per online CPU.  A worker has one write in flight and
 * idles while PostgreSQL extends the table (relation extension lock) and
 * flushes the WAL for it; with one worker per CPU the 2-core benchmark host
 * stayed 78-82 % busy, with two per CPU 87-92 % at a better drain
 * (docs/benchmark.md, issue 13).
 */
int
config_workers(const struct config *cf)
{
	long	n;

	if (cf->cf_workers > 0)
		return cf->cf_workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	n *= CONFIG_WORKERS_PER_CPU;
	return n > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX : (int)n;
}
