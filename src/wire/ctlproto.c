/* Control protocol shared by the master and processorctl: keyword tables, request JSON. */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "wire/ctlproto.h"

/*
 * As claim_idle_ms.  The floor matters: every worker sweeps at once, and an
 * entry one of them just claimed is idle for less than a second, so no
 * other sweep of the same request takes it again.
 */
#define CTL_MIN_IDLE_MS	1000L
#define CTL_MAX_IDLE_MS	86400000L

/* A keyword tree of static tables, as in openiked ikectl/parser.c. */
enum ctlproto_token_type {
	T_END = 0,	/* end of a table */
	T_NONE,		/* the command may stop here */
	T_KEYWORD,
	T_IDLE,		/* milliseconds */
	T_COUNT,
	T_ID,		/* one more stream id */
	T_BEFORE,	/* a stream id */
	T_DEVICE,
	T_LEVEL,
	T_STAGE,	/* a stages.id */
	T_CONSUMER,	/* a consumer name */
	T_ALL
};

struct ctlproto_token {
	enum ctlproto_token_type	 t_type;
	const char		*t_keyword;
	enum ctlproto_action		 t_action;
	const struct ctlproto_token	*t_next;
};

static const struct ctlproto_token t_end[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_count[] = {
	{ T_COUNT, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_pending[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_KEYWORD, "--count", CTL_NONE, t_count },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_idle[] = {
	{ T_IDLE, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_claim[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_KEYWORD, "--idle", CTL_NONE, t_idle },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_one_id[] = {
	{ T_ID, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_more_ids[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_ID, "", CTL_NONE, t_more_ids },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_replay[] = {
	{ T_ALL, "--all", CTL_NONE, t_end },
	{ T_ID, "", CTL_NONE, t_more_ids },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_before[] = {
	{ T_BEFORE, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_purge[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_KEYWORD, "--before", CTL_NONE, t_before },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_list[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_KEYWORD, "--count", CTL_NONE, t_count },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_dlq[] = {
	{ T_KEYWORD, "list", CTL_DLQ_LIST, t_list },
	{ T_KEYWORD, "show", CTL_DLQ_SHOW, t_one_id },
	{ T_KEYWORD, "replay", CTL_DLQ_REPLAY, t_replay },
	{ T_KEYWORD, "purge", CTL_DLQ_PURGE, t_purge },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_device[] = {
	{ T_DEVICE, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_level[] = {
	{ T_LEVEL, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_stage[] = {
	{ T_STAGE, "", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_force[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_ALL, "--force", CTL_NONE, t_end },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_consumer[] = {
	{ T_CONSUMER, "", CTL_NONE, t_force },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_consumers[] = {
	{ T_NONE, "", CTL_NONE, NULL },
	{ T_KEYWORD, "delete", CTL_CONSUMERS_DELETE, t_consumer },
	{ T_END, "", CTL_NONE, NULL }
};
static const struct ctlproto_token t_main[] = {
	{ T_KEYWORD, "status", CTL_STATUS, t_end },
	{ T_KEYWORD, "workers", CTL_WORKERS, t_end },
	{ T_KEYWORD, "pending", CTL_PENDING, t_pending },
	{ T_KEYWORD, "claim", CTL_CLAIM, t_claim },
	{ T_KEYWORD, "dlq", CTL_NONE, t_dlq },
	{ T_KEYWORD, "device", CTL_DEVICE, t_device },
	{ T_KEYWORD, "reload", CTL_RELOAD, t_end },
	{ T_KEYWORD, "drain", CTL_DRAIN, t_end },
	{ T_KEYWORD, "resume", CTL_RESUME, t_end },
	{ T_KEYWORD, "config", CTL_CONFIG, t_end },
	{ T_KEYWORD, "log-level", CTL_LOG_LEVEL, t_level },
	{ T_KEYWORD, "stage", CTL_STAGE, t_stage },
	{ T_KEYWORD, "consumers", CTL_CONSUMERS, t_consumers },
	{ T_END, "", CTL_NONE, NULL }
};

static const char *const ctlproto_names[CTL_ACTION_END] = {
	[CTL_STATUS] = "status",
	[CTL_WORKERS] = "workers",
	[CTL_PENDING] = "pending",
	[CTL_CLAIM] = "claim",
	[CTL_DLQ_LIST] = "dlq list",
	[CTL_DLQ_SHOW] = "dlq show",
	[CTL_DLQ_REPLAY] = "dlq replay",
	[CTL_DLQ_PURGE] = "dlq purge",
	[CTL_DEVICE] = "device",
	[CTL_RELOAD] = "reload",
	[CTL_DRAIN] = "drain",
	[CTL_RESUME] = "resume",
	[CTL_CONFIG] = "config",
	[CTL_LOG_LEVEL] = "log-level",
	[CTL_STAGE] = "stage",
	[CTL_CONSUMERS] = "consumers",
	[CTL_CONSUMERS_DELETE] = "consumers delete",
};

/* The levels log-level sets (util/log.h names; critical is not one). */
static const char *const ctlproto_levels[] = {
	"debug", "info", "warning", "error"
};

const char ctlproto_usage_commands[] =
    "commands:\n"
    "  status                      master, readiness and worker table\n"
    "  workers                     the worker table only\n"
    "  pending [--count N]         pending summary and the oldest N entries per consumer\n"
    "  claim [--idle MS]           workers sweep idle pending entries now\n"
    "  dlq list [--count N]        newest N dead-lettered entries\n"
    "  dlq show ID                 one dead-lettered entry with its payload\n"
    "  dlq replay ID... | --all    put payloads back on the stream, then delete them\n"
    "  dlq purge [--before ID]     delete dead-lettered entries (older than ID)\n"
    "  device DEVICE_ID            last known fix of a device\n"
    "  reload                      re-read the configuration (as SIGHUP)\n"
    "  drain                       workers stop reading new entries, stay up\n"
    "  resume                      workers read again after drain\n"
    "  config                      effective configuration and where each value came from\n"
    "  log-level LEVEL             debug, info, warning or error until the next reload\n"
    "  stage STAGE_ID              live standings of a stage being timed\n"
    "  consumers                   the group's consumers: pending, idle, ours\n"
    "  consumers delete NAME [--force]  remove a gone host's consumer (--force claims its entries first)\n";

static void
ctlproto_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
ctlproto_req_init(struct ctlproto_req *r)
{
	memset(r, 0, sizeof(*r));
	r->r_idle_ms = -1;
	r->r_count = CTL_DEFAULT_COUNT;
}

void
ctlproto_req_free(struct ctlproto_req *r)
{
	size_t	i;

	for (i = 0; i < r->r_nids; i++)
		free(r->r_ids[i]);
	free(r->r_ids);
	r->r_ids = NULL;
	r->r_nids = 0;
}

const char *
ctlproto_action_name(enum ctlproto_action a)
{
	if (a <= CTL_NONE || a >= CTL_ACTION_END)
		return NULL;
	return ctlproto_names[a];
}

static int
ctlproto_valid_u64(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 20)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	/* 20 digits: compare with 2^64-1 */
	return n < 20 || strncmp(s, "18446744073709551615", 20) <= 0;
}

int
ctlproto_valid_id(const char *s)
{
	const char	*dash;

	if (s == NULL || strlen(s) >= CTL_ID_MAX)
		return 0;
	if ((dash = strchr(s, '-')) == NULL)
		return ctlproto_valid_u64(s, strlen(s));
	return ctlproto_valid_u64(s, (size_t)(dash - s)) &&
	    ctlproto_valid_u64(dash + 1, strlen(dash + 1));
}

int
ctlproto_valid_device(const char *s)
{
	size_t	i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > CTL_DEVICE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* A consumer name: 1..CTL_CONSUMER_MAX printable bytes, no space. */
int
ctlproto_valid_consumer(const char *s)
{
	size_t	i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > CTL_CONSUMER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
ctlproto_valid_level(const char *s)
{
	size_t	i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(ctlproto_levels) / sizeof(ctlproto_levels[0]); i++)
		if (strcmp(s, ctlproto_levels[i]) == 0)
			return 1;
	return 0;
}

static int
ctlproto_number(const char *s, long lo, long hi, long *out)
{
	char	*end;
	long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
ctlproto_add_id(struct ctlproto_req *r, const char *id, char *err, size_t errlen)
{
	char	**n;

	if (!ctlproto_valid_id(id)) {
		ctlproto_err(err, errlen, "not a stream entry id: '%s'", id);
		return -1;
	}
	if (r->r_nids >= CTL_MAX_IDS) {
		ctlproto_err(err, errlen, "too many ids (at most %d)", CTL_MAX_IDS);
		return -1;
	}
	if ((n = realloc(r->r_ids, (r->r_nids + 1) * sizeof(*n))) == NULL ||
	    (n[r->r_nids] = strdup(id)) == NULL) {
		if (n != NULL)
			r->r_ids = n;
		ctlproto_err(err, errlen, "out of memory");
		return -1;
	}
	r->r_ids = n;
	r->r_nids++;
	return 0;
}

/* Store a value token's word in req. */
static int
ctlproto_take(const struct ctlproto_token *t, const char *word, struct ctlproto_req *r,
    char *err, size_t errlen)
{
	switch (t->t_type) {
	case T_IDLE:
		if (ctlproto_number(word, CTL_MIN_IDLE_MS, CTL_MAX_IDLE_MS,
		    &r->r_idle_ms) == -1) {
			ctlproto_err(err, errlen, "--idle wants milliseconds %ld..%ld, "
			    "not '%s'", CTL_MIN_IDLE_MS, CTL_MAX_IDLE_MS, word);
			return -1;
		}
		return 0;
	case T_CONSUMER:
		if (!ctlproto_valid_consumer(word)) {
			ctlproto_err(err, errlen, "not a consumer name: '%s'", word);
			return -1;
		}
		snprintf(r->r_consumer, sizeof(r->r_consumer), "%s", word);
		return 0;
	case T_STAGE:
		if (ctlproto_number(word, 1, CTL_MAX_STAGE, &r->r_stage) == -1) {
			ctlproto_err(err, errlen, "not a stage id: '%s'", word);
			return -1;
		}
		return 0;
	case T_COUNT:
		if (ctlproto_number(word, 1, CTL_MAX_COUNT, &r->r_count) == -1) {
			ctlproto_err(err, errlen, "--count wants 1..%d, not '%s'",
			    CTL_MAX_COUNT, word);
			return -1;
		}
		return 0;
	case T_ID:
		return ctlproto_add_id(r, word, err, errlen);
	case T_BEFORE:
		if (!ctlproto_valid_id(word)) {
			ctlproto_err(err, errlen, "not a stream entry id: '%s'", word);
			return -1;
		}
		snprintf(r->r_before, sizeof(r->r_before), "%s", word);
		return 0;
	case T_DEVICE:
		if (!ctlproto_valid_device(word)) {
			ctlproto_err(err, errlen, "not a device id: '%s' (1..%d "
			    "characters, no control characters)", word,
			    CTL_DEVICE_MAX);
			return -1;
		}
		snprintf(r->r_device, sizeof(r->r_device), "%s", word);
		return 0;
	case T_LEVEL:
		if (!ctlproto_valid_level(word)) {
			ctlproto_err(err, errlen, "not a log level: '%s' (debug, "
			    "info, warning or error)", word);
			return -1;
		}
		snprintf(r->r_level, sizeof(r->r_level), "%s", word);
		return 0;
	case T_ALL:
		r->r_all = 1;
		return 0;
	default:
		return 0;
	}
}

/* The keyword the word names (a unique prefix will do), else a value token. */
static const struct ctlproto_token *
ctlproto_match(const struct ctlproto_token *table, const char *word)
{
	const struct ctlproto_token	*t, *hit = NULL;
	size_t			 n = strlen(word);
	int			 nhits = 0;

	for (t = table; t->t_type != T_END; t++) {
		if (t->t_type != T_KEYWORD && t->t_type != T_ALL)
			continue;
		if (strcmp(word, t->t_keyword) == 0)
			return t;
		if (n > 0 && strncmp(word, t->t_keyword, n) == 0) {
			hit = t;
			nhits++;
		}
	}
	if (nhits == 1)
		return hit;
	if (nhits > 1)
		return NULL;
	for (t = table; t->t_type != T_END; t++)
		if (t->t_type >= T_IDLE && t->t_type <= T_CONSUMER)
			return t;
	return NULL;
}

static void
ctlproto_expected(const struct ctlproto_token *table, char *err, size_t errlen)
{
	const struct ctlproto_token	*t;
	char			 list[256];
	size_t			 off = 0;

	list[0] = '\0';
	for (t = table; t->t_type != T_END && off < sizeof(list); t++) {
		const char *what = t->t_keyword;

		switch (t->t_type) {
		case T_IDLE:	what = "MS"; break;
		case T_COUNT:	what = "N"; break;
		case T_ID:
		case T_BEFORE:	what = "ID"; break;
		case T_DEVICE:	what = "DEVICE_ID"; break;
		case T_LEVEL:	what = "LEVEL"; break;
		case T_STAGE:	what = "STAGE_ID"; break;
		case T_CONSUMER: what = "NAME"; break;
		case T_NONE:	continue;
		default:	break;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    off ? ", " : "", what);
	}
	ctlproto_err(err, errlen, "expected one of: %s", list);
}

int
ctlproto_parse_argv(int argc, char *const argv[], struct ctlproto_req *r, char *err,
    size_t errlen)
{
	const struct ctlproto_token	*table = t_main, *t;
	int			 i;

	if (argc < 1) {
		ctlproto_err(err, errlen, "no command given");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (table == NULL || (table[0].t_type == T_NONE &&
		    table[1].t_type == T_END)) {
			ctlproto_err(err, errlen, "unexpected argument '%s'", argv[i]);
			return -1;
		}
		if ((t = ctlproto_match(table, argv[i])) == NULL) {
			ctlproto_err(err, errlen, "unknown or ambiguous word '%s'; ",
			    argv[i]);
			ctlproto_expected(table, err + strlen(err),
			    errlen - strlen(err));
			return -1;
		}
		if (ctlproto_take(t, argv[i], r, err, errlen) == -1)
			return -1;
		if (t->t_action != CTL_NONE)
			r->r_action = t->t_action;
		table = t->t_next;
	}
	if (table != NULL && table[0].t_type != T_NONE) {
		ctlproto_err(err, errlen, "incomplete command; ");
		ctlproto_expected(table, err + strlen(err), errlen - strlen(err));
		return -1;
	}
	if (r->r_action == CTL_NONE) {
		ctlproto_err(err, errlen, "no command given");
		return -1;
	}
	return 0;
}

json_t *
ctlproto_req_to_json(const struct ctlproto_req *r)
{
	json_t	*o, *ids;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "v", json_integer(CTL_VERSION));
	json_object_set_new(o, "cmd", json_string(ctlproto_action_name(r->r_action)));
	switch (r->r_action) {
	case CTL_CLAIM:
		if (r->r_idle_ms >= 0)
			json_object_set_new(o, "idle_ms",
			    json_integer(r->r_idle_ms));
		break;
	case CTL_PENDING:
	case CTL_DLQ_LIST:
		json_object_set_new(o, "count", json_integer(r->r_count));
		break;
	case CTL_DLQ_SHOW:
	case CTL_DLQ_REPLAY:
		if (r->r_all)
			json_object_set_new(o, "all", json_true());
		if (r->r_nids == 0)
			break;
		if ((ids = json_array()) == NULL)
			goto fail;
		for (i = 0; i < r->r_nids; i++)
			json_array_append_new(ids, json_string(r->r_ids[i]));
		json_object_set_new(o, "ids", ids);
		break;
	case CTL_DLQ_PURGE:
		if (r->r_before[0] != '\0')
			json_object_set_new(o, "before", json_string(r->r_before));
		break;
	case CTL_DEVICE:
		json_object_set_new(o, "device", json_string(r->r_device));
		break;
	case CTL_LOG_LEVEL:
		json_object_set_new(o, "level", json_string(r->r_level));
		break;
	case CTL_STAGE:
		json_object_set_new(o, "stage", json_integer(r->r_stage));
		break;
	case CTL_CONSUMERS_DELETE:
		json_object_set_new(o, "consumer", json_string(r->r_consumer));
		if (r->r_all)
			json_object_set_new(o, "force", json_true());
		break;
	default:
		break;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int
ctlproto_json_long(const json_t *o, const char *key, long lo, long hi, long *out,
    char *err, size_t errlen)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		ctlproto_err(err, errlen, "'%s' must be an integer %ld..%ld", key,
		    lo, hi);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

static int
ctlproto_json_ids(const json_t *o, struct ctlproto_req *r, char *err, size_t errlen)
{
	const json_t	*ids = json_object_get(o, "ids"), *v;
	const json_t	*all = json_object_get(o, "all");
	size_t		 i;

	if (all != NULL && !json_is_boolean(all)) {
		ctlproto_err(err, errlen, "'all' must be true or false");
		return -1;
	}
	r->r_all = all != NULL && json_is_true(all);
	if (ids != NULL && !json_is_array(ids)) {
		ctlproto_err(err, errlen, "'ids' must be an array of entry ids");
		return -1;
	}
	json_array_foreach(ids, i, v) {
		if (!json_is_string(v)) {
			ctlproto_err(err, errlen, "'ids' must be an array of entry ids");
			return -1;
		}
		if (ctlproto_add_id(r, json_string_value(v), err, errlen) == -1)
			return -1;
	}
	if (r->r_action == CTL_DLQ_SHOW && (r->r_nids != 1 || r->r_all)) {
		ctlproto_err(err, errlen, "dlq show wants exactly one id");
		return -1;
	}
	if (r->r_action == CTL_DLQ_REPLAY && (r->r_nids > 0) == r->r_all) {
		ctlproto_err(err, errlen, "dlq replay wants ids or all, not both");
		return -1;
	}
	return 0;
}

static int
ctlproto_json_string(const json_t *o, const char *key, int (*valid)(const char *),
    char *out, size_t outlen, char *err, size_t errlen)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || !valid(json_string_value(v)) ||
	    strlen(json_string_value(v)) >= outlen) {
		ctlproto_err(err, errlen, "'%s' is not valid", key);
		return -1;
	}
	snprintf(out, outlen, "%s", json_string_value(v));
	return 0;
}

static int
ctlproto_json_args(const json_t *o, struct ctlproto_req *r, char *err, size_t errlen)
{
	switch (r->r_action) {
	case CTL_CLAIM:
		return ctlproto_json_long(o, "idle_ms", CTL_MIN_IDLE_MS, CTL_MAX_IDLE_MS,
		    &r->r_idle_ms, err, errlen);
	case CTL_PENDING:
	case CTL_DLQ_LIST:
		return ctlproto_json_long(o, "count", 1, CTL_MAX_COUNT, &r->r_count,
		    err, errlen);
	case CTL_DLQ_SHOW:
	case CTL_DLQ_REPLAY:
		return ctlproto_json_ids(o, r, err, errlen);
	case CTL_DLQ_PURGE:
		return ctlproto_json_string(o, "before", ctlproto_valid_id, r->r_before,
		    sizeof(r->r_before), err, errlen);
	case CTL_DEVICE:
		if (json_object_get(o, "device") == NULL) {
			ctlproto_err(err, errlen, "'device' is missing");
			return -1;
		}
		return ctlproto_json_string(o, "device", ctlproto_valid_device,
		    r->r_device, sizeof(r->r_device), err, errlen);
	case CTL_CONSUMERS_DELETE:
		if (json_object_get(o, "consumer") == NULL) {
			ctlproto_err(err, errlen, "'consumer' is missing");
			return -1;
		}
		if (json_object_get(o, "force") != NULL &&
		    !json_is_boolean(json_object_get(o, "force"))) {
			ctlproto_err(err, errlen, "'force' must be true or false");
			return -1;
		}
		r->r_all = json_is_true(json_object_get(o, "force"));
		return ctlproto_json_string(o, "consumer", ctlproto_valid_consumer,
		    r->r_consumer, sizeof(r->r_consumer), err, errlen);
	case CTL_STAGE:
		if (json_object_get(o, "stage") == NULL) {
			ctlproto_err(err, errlen, "'stage' is missing");
			return -1;
		}
		return ctlproto_json_long(o, "stage", 1, CTL_MAX_STAGE,
		    &r->r_stage, err, errlen);
	case CTL_LOG_LEVEL:
		if (json_object_get(o, "level") == NULL) {
			ctlproto_err(err, errlen, "'level' is missing");
			return -1;
		}
		return ctlproto_json_string(o, "level", ctlproto_valid_level,
		    r->r_level, sizeof(r->r_level), err, errlen);
	default:
		return 0;
	}
}

int
ctlproto_req_from_json(const json_t *o, struct ctlproto_req *r, char *err,
    size_t errlen)
{
	const json_t	*v, *cmd;
	int		 a;

	if (!json_is_object(o)) {
		ctlproto_err(err, errlen, "a request is a JSON object");
		return -1;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CTL_VERSION) {
		ctlproto_err(err, errlen, "unsupported protocol version (this master "
		    "speaks \"v\":%d)", CTL_VERSION);
		return -1;
	}
	cmd = json_object_get(o, "cmd");
	if (!json_is_string(cmd)) {
		ctlproto_err(err, errlen, "'cmd' is missing");
		return -1;
	}
	for (a = CTL_NONE + 1; a < CTL_ACTION_END; a++)
		if (strcmp(ctlproto_names[a], json_string_value(cmd)) == 0)
			break;
	if (a == CTL_ACTION_END) {
		ctlproto_err(err, errlen, "unknown command '%.64s'",
		    json_string_value(cmd));
		return -1;
	}
	r->r_action = (enum ctlproto_action)a;
	return ctlproto_json_args(o, r, err, errlen);
}

json_t *
ctlproto_error_json(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

int
ctlproto_sockaddr(const char *path, struct sockaddr_un *sun)
{
	size_t	len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, len);
	return 0;
}
