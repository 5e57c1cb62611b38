/* Control protocol: the keyword tables, request JSON both ways, id and device checks. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "wire/ctlproto.h"
#include "tap.h"

/* Parse a command line given as one space-separated string. */
static int
parse(const char *line, struct ctlproto_req *r, char *err, size_t errlen)
{
	char	*copy = strdup(line), *argv[32], *w, *save = NULL;
	int	 argc = 0, rc;

	for (w = strtok_r(copy, " ", &save); w != NULL && argc < 32;
	    w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	ctlproto_req_init(r);
	err[0] = '\0';
	rc = ctlproto_parse_argv(argc, argv, r, err, errlen);
	free(copy);
	return rc;
}

static void
test_actions(void)
{
	static const struct {
		const char	*line;
		enum ctlproto_action	 action;
	} cases[] = {
		{ "status", CTL_STATUS },
		{ "workers", CTL_WORKERS },
		{ "pending", CTL_PENDING },
		{ "pending --count 3", CTL_PENDING },
		{ "claim", CTL_CLAIM },
		{ "claim --idle 5000", CTL_CLAIM },
		{ "dlq list", CTL_DLQ_LIST },
		{ "dlq list --count 50", CTL_DLQ_LIST },
		{ "dlq show 1-0", CTL_DLQ_SHOW },
		{ "dlq replay 1-0 2-0 3", CTL_DLQ_REPLAY },
		{ "dlq replay --all", CTL_DLQ_REPLAY },
		{ "dlq purge", CTL_DLQ_PURGE },
		{ "dlq purge --before 1700000000000-0", CTL_DLQ_PURGE },
		{ "device 356307042440001", CTL_DEVICE },
		{ "device --weird-but-valid", CTL_DEVICE },
		{ "reload", CTL_RELOAD },
		{ "drain", CTL_DRAIN },
		{ "resume", CTL_RESUME },
		{ "stat", CTL_STATUS },		/* unique prefixes */
		{ "stag 3", CTL_STAGE },
		{ "consumers", CTL_CONSUMERS },
		{ "consumers delete old-0", CTL_CONSUMERS_DELETE },
		{ "consumers delete old-0 --force", CTL_CONSUMERS_DELETE },
		{ "w", CTL_WORKERS },
		{ "dlq l", CTL_DLQ_LIST },
		{ "dlq rep --all", CTL_DLQ_REPLAY },
		{ "claim --i 1000", CTL_CLAIM },
		{ "config", CTL_CONFIG },
		{ "log-level debug", CTL_LOG_LEVEL },
		{ "log warning", CTL_LOG_LEVEL },
	};
	struct ctlproto_req	r;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].line, &r, err, sizeof(err));

		ok(rc == 0 && r.r_action == cases[i].action, "'%s' -> %s%s%s",
		    cases[i].line, ctlproto_action_name(cases[i].action),
		    rc ? ": " : "", rc ? err : "");
		ctlproto_req_free(&r);
	}
}

static void
test_errors(void)
{
	static const struct {
		const char	*line;
		const char	*err;
	} cases[] = {
		{ "frob", "unknown or ambiguous word 'frob'; expected one of: "
		    "status, workers, pending, claim, dlq, device, reload, drain, "
		    "resume" },
		{ "re", "unknown or ambiguous word 're'" },	/* reload, resume */
		{ "st", "unknown or ambiguous word 'st'" },	/* status, stage */
		{ "stage", "incomplete command; expected one of: STAGE_ID" },
		{ "stage 0", "not a stage id: '0'" },
		{ "stage 12x", "not a stage id: '12x'" },
		{ "consumers delete", "incomplete command; expected one of: NAME" },
		{ "consumers delete a b", "unknown or ambiguous word 'b'; expected one of: --force" },
		{ "dlq", "incomplete command; expected one of: list, show, "
		    "replay, purge" },
		{ "dlq show", "incomplete command; expected one of: ID" },
		{ "dlq show 1-0 2-0", "unexpected argument '2-0'" },
		{ "dlq show x", "not a stream entry id: 'x'" },
		{ "dlq show 1-", "not a stream entry id: '1-'" },
		{ "dlq show -1", "not a stream entry id: '-1'" },
		{ "dlq show 18446744073709551616-0", "not a stream entry id" },
		{ "dlq replay", "incomplete command; expected one of: --all, ID" },
		{ "dlq replay --all 1-0", "unexpected argument '1-0'" },
		{ "dlq purge --before", "incomplete command; expected one of: ID" },
		{ "dlq list --count 0", "--count wants 1..10000, not '0'" },
		{ "dlq list --count 10001", "--count wants 1..10000" },
		{ "dlq list --count 5x", "--count wants 1..10000" },
		{ "claim --idle -5", "--idle wants milliseconds" },
		{ "claim --idle 999", "--idle wants milliseconds 1000..86400000" },
		{ "claim --idle 86400001", "--idle wants milliseconds" },
		{ "device", "incomplete command; expected one of: DEVICE_ID" },
		{ "device 0123456789012345678901234567890123456789012345678901234567890123X",
		    "not a device id" },
		{ "status now", "unexpected argument 'now'" },
		{ "pending --count", "incomplete command; expected one of: N" },
		{ "log-level", "incomplete command; expected one of: LEVEL" },
		{ "log-level verbose", "not a log level: 'verbose'" },
		{ "log-level critical", "not a log level: 'critical'" },
		{ "log-level warn", "not a log level: 'warn'" },
		{ "config all", "unexpected argument 'all'" },
	};
	struct ctlproto_req	r;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].line, &r, err, sizeof(err));

		ok(rc == -1 && strncmp(err, cases[i].err,
		    strlen(cases[i].err)) == 0, "'%s' refused: %s",
		    cases[i].line, err);
		ctlproto_req_free(&r);
	}
	ctlproto_req_init(&r);
	is_int(ctlproto_parse_argv(0, NULL, &r, err, sizeof(err)), -1, "no words");
	is_string(err, "no command given", "no words: message");
}

static void
test_values(void)
{
	struct ctlproto_req	r;
	char		err[256];

	parse("claim", &r, err, sizeof(err));
	is_int(r.r_idle_ms, -1, "claim: idle defaults to -1 (configured)");
	parse("claim --idle 1000", &r, err, sizeof(err));
	is_int(r.r_idle_ms, 1000, "claim --idle 1000");
	parse("dlq list", &r, err, sizeof(err));
	is_int(r.r_count, CTL_DEFAULT_COUNT, "dlq list: default count");
	parse("dlq replay 5-1 6 7-0", &r, err, sizeof(err));
	is_int((long long)r.r_nids, 3, "three ids");
	is_string(r.r_ids[1], "6", "second id kept as given");
	ok(!r.r_all, "not --all");
	ctlproto_req_free(&r);
	parse("dlq purge --before 99-3", &r, err, sizeof(err));
	is_string(r.r_before, "99-3", "--before");
	parse("device abc-1", &r, err, sizeof(err));
	is_string(r.r_device, "abc-1", "device id");
	parse("log-level error", &r, err, sizeof(err));
	is_string(r.r_level, "error", "log level");
}

/* argv -> JSON -> req: what the CLI sends is what the master reads. */
static void
test_roundtrip(void)
{
	static const char *const lines[] = {
		"status", "pending --count 7", "claim --idle 1234", "claim",
		"dlq list --count 2", "dlq show 1-2", "dlq replay 1-2 3-4",
		"dlq replay --all", "dlq purge --before 5-0", "dlq purge",
		"device dev-7", "drain", "config", "log-level info",
	};
	struct ctlproto_req	a, b;
	json_t		*o;
	char		err[256], *s;
	size_t		i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		parse(lines[i], &a, err, sizeof(err));
		o = ctlproto_req_to_json(&a);
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		ctlproto_req_init(&b);
		ok(ctlproto_req_from_json(o, &b, err, sizeof(err)) == 0 &&
		    a.r_action == b.r_action && a.r_idle_ms == b.r_idle_ms &&
		    a.r_count == b.r_count && a.r_all == b.r_all &&
		    a.r_nids == b.r_nids &&
		    (a.r_nids == 0 || strcmp(a.r_ids[a.r_nids - 1],
		    b.r_ids[b.r_nids - 1]) == 0) &&
		    strcmp(a.r_before, b.r_before) == 0 &&
		    strcmp(a.r_device, b.r_device) == 0 &&
		    strcmp(a.r_level, b.r_level) == 0,
		    "round trip '%s' as %s", lines[i], s);
		free(s);
		json_decref(o);
		ctlproto_req_free(&a);
		ctlproto_req_free(&b);
	}
	parse("device x", &a, err, sizeof(err));
	o = ctlproto_req_to_json(&a);
	s = json_dumps(o, JSON_COMPACT);
	is_string(s, "{\"v\":1,\"cmd\":\"device\",\"device\":\"x\"}",
	    "wire form of a request");
	free(s);
	json_decref(o);
}

static void
test_from_json(void)
{
	static const struct {
		const char	*json;
		const char	*err;	/* NULL: accepted */
	} cases[] = {
		{ "{\"v\":1,\"cmd\":\"status\"}", NULL },
		{ "{\"v\":1,\"cmd\":\"status\",\"future\":true}", NULL },
		{ "{\"cmd\":\"status\"}", "unsupported protocol version" },
		{ "{\"v\":2,\"cmd\":\"status\"}", "unsupported protocol version" },
		{ "{\"v\":\"1\",\"cmd\":\"status\"}", "unsupported protocol version" },
		{ "{\"v\":1}", "'cmd' is missing" },
		{ "{\"v\":1,\"cmd\":7}", "'cmd' is missing" },
		{ "{\"v\":1,\"cmd\":\"dlq\"}", "unknown command 'dlq'" },
		{ "[1,2]", "a request is a JSON object" },
		{ "{\"v\":1,\"cmd\":\"claim\",\"idle_ms\":-1}", "'idle_ms' must be" },
		{ "{\"v\":1,\"cmd\":\"claim\",\"idle_ms\":999}", "'idle_ms' must be" },
		{ "{\"v\":1,\"cmd\":\"claim\",\"idle_ms\":\"5\"}", "'idle_ms' must be" },
		{ "{\"v\":1,\"cmd\":\"dlq list\",\"count\":0}", "'count' must be" },
		{ "{\"v\":1,\"cmd\":\"dlq show\"}", "dlq show wants exactly one id" },
		{ "{\"v\":1,\"cmd\":\"dlq show\",\"ids\":[\"1-0\",\"2-0\"]}",
		    "dlq show wants exactly one id" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\"}", "dlq replay wants ids or all" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\",\"all\":true,\"ids\":[\"1\"]}",
		    "dlq replay wants ids or all" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\",\"all\":1}", "'all' must be" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\",\"ids\":\"1-0\"}", "'ids' must be" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\",\"ids\":[1]}", "'ids' must be" },
		{ "{\"v\":1,\"cmd\":\"dlq replay\",\"ids\":[\"1-x\"]}",
		    "not a stream entry id" },
		{ "{\"v\":1,\"cmd\":\"dlq purge\",\"before\":\"x\"}", "'before' is not valid" },
		{ "{\"v\":1,\"cmd\":\"device\"}", "'device' is missing" },
		{ "{\"v\":1,\"cmd\":\"device\",\"device\":\"\"}", "'device' is not valid" },
		{ "{\"v\":1,\"cmd\":\"device\",\"device\":\"a\\nb\"}", "'device' is not valid" },
		{ "{\"v\":1,\"cmd\":\"config\"}", NULL },
		{ "{\"v\":1,\"cmd\":\"log-level\",\"level\":\"debug\"}", NULL },
		{ "{\"v\":1,\"cmd\":\"log-level\"}", "'level' is missing" },
		{ "{\"v\":1,\"cmd\":\"log-level\",\"level\":\"critical\"}",
		    "'level' is not valid" },
		{ "{\"v\":1,\"cmd\":\"log-level\",\"level\":3}", "'level' is not valid" },
	};
	struct ctlproto_req	r;
	json_t		*o;
	char		err[256];
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_loads(cases[i].json, 0, NULL);
		ctlproto_req_init(&r);
		err[0] = '\0';
		rc = ctlproto_req_from_json(o, &r, err, sizeof(err));
		if (cases[i].err == NULL)
			ok(rc == 0, "accepted: %s", cases[i].json);
		else
			ok(rc == -1 && strncmp(err, cases[i].err,
			    strlen(cases[i].err)) == 0, "refused: %s (%s)",
			    cases[i].json, err);
		ctlproto_req_free(&r);
		json_decref(o);
	}
	o = ctlproto_error_json("boom");
	{
		char *s = json_dumps(o, JSON_COMPACT);

		is_string(s, "{\"ok\":false,\"error\":\"boom\"}", "error reply");
		free(s);
	}
	json_decref(o);
}

static void
test_checks(void)
{
	ok(ctlproto_valid_id("0"), "id 0");
	ok(ctlproto_valid_id("0-0"), "id 0-0");
	ok(ctlproto_valid_id("18446744073709551615-18446744073709551615"), "max id");
	ok(!ctlproto_valid_id("18446744073709551616"), "2^64 refused");
	ok(!ctlproto_valid_id(""), "empty id");
	ok(!ctlproto_valid_id("1-2-3"), "two dashes");
	ok(!ctlproto_valid_id("+"), "'+' is not an id here");
	ok(!ctlproto_valid_id(NULL), "NULL id");
	ok(ctlproto_valid_device("a"), "one-character device");
	ok(!ctlproto_valid_device("a\tb"), "tab in a device id");
	ok(!ctlproto_valid_device("a\x7f"), "DEL in a device id");
	is_string(ctlproto_action_name(CTL_DLQ_PURGE), "dlq purge", "action name");
	ok(ctlproto_action_name(CTL_NONE) == NULL, "no name for CTL_NONE");
	ok(ctlproto_action_name(CTL_ACTION_END) == NULL, "no name past the end");
}

int
main(void)
{
	plan_lazy();
	test_actions();
	test_errors();
	test_values();
	test_roundtrip();
	test_from_json();
	test_checks();
	return tap_done();
}
