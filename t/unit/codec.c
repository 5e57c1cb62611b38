/* Unit tests of the payload codec: every contract rule and poison kind. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "codec/codec.h"
#include "codec/jscan.h"
#include "tap.h"

#define DEV	"\"device_id\":\"356307042441013\""
#define TS	"\"timestamp\":\"2026-04-30T12:00:00.000Z\""
#define LATLON	"\"latitude\":45.815,\"longitude\":15.9819"
#define HEAD	DEV "," TS "," LATLON
#define REC(x)	"{" HEAD "," x "}"
#define ATTR(x)	REC("\"attributes\":" x)
#define TS0	INT64_C(1777550400000000)

static struct buf		 attrs;
static struct codec_limits	 lim = { 1024 * 1024, 64, 0, 0, 0 };
static int			 dirty;	/* failures that changed attrs */

static int
dec(const char *p, size_t len, const struct codec_limits *l,
    struct position *pos, struct codec_error *e)
{
	size_t	 before;
	int	 rc;

	buf_reset(&attrs);
	before = attrs.b_len;
	rc = codec_decode(p, len, l, pos, &attrs, e);
	if (rc == -1 && attrs.b_len != before)
		dirty++;
	return rc;
}

/* A poison case: the reason, and a piece of the message when given. */
static void
bad_len(const char *name, const char *p, size_t len, enum codec_reason want,
    const char *msg)
{
	struct position		 pos;
	struct codec_error	 e;
	int			 rc;

	rc = dec(p, len, &lim, &pos, &e);
	if (rc == 0) {
		ok(0, "%s: accepted, want %s", name, codec_reason_code(want));
		return;
	}
	is_string(codec_reason_code(e.ce_reason), codec_reason_code(want),
	    "%s -> %s (%s)", name, codec_reason_code(want), e.ce_msg);
	if (msg != NULL)
		ok(strstr(e.ce_msg, msg) != NULL, "%s: message has \"%s\"", name,
		    msg);
}

static void
bad(const char *name, const char *p, enum codec_reason want, const char *msg)
{
	bad_len(name, p, strlen(p), want, msg);
}

/* Our output must parse with jansson and equal the expected bag. */
static int
same_json(const char *have, size_t havelen, const char *want)
{
	json_t		*a, *b;
	json_error_t	 je;
	int		 eq;

	char		 atext[JSON_ERROR_TEXT_LENGTH];

	/* Integers as reals: jansson has no bignums (exactness is is_mem's job). */
	a = json_loadb(have, havelen, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_INT_AS_REAL, &je);
	memcpy(atext, je.text, sizeof(atext));
	b = json_loads(want, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
	    &je);
	if (a == NULL && b == NULL && strstr(atext, "overflow") != NULL &&
	    strcmp(atext, je.text) == 0)
		return 1;	/* 1000-digit bigints: beyond a double */
	eq = a != NULL && b != NULL && json_equal(a, b);
	if (a == NULL)
		diag("jansson rejects our output: %s", atext);
	json_decref(a);
	json_decref(b);
	return eq;
}

/* A good case; want is the exact output bag when given. */
static int
good(const char *name, const char *p, struct position *pos, const char *want)
{
	struct codec_error	 e;
	struct position		 tmp;

	if (pos == NULL)
		pos = &tmp;
	if (dec(p, strlen(p), &lim, pos, &e) == -1) {
		ok(0, "%s: rejected as %s: %s", name,
		    codec_reason_code(e.ce_reason), e.ce_msg);
		return -1;
	}
	if (want == NULL) {
		ok(1, "%s: accepted", name);
		return 0;
	}
	is_mem(pos->p_attrs, pos->p_attrs_len, want, strlen(want),
	    "%s: attributes", name);
	ok(same_json(pos->p_attrs, pos->p_attrs_len, want),
	    "%s: jansson agrees", name);
	return 0;
}

static void
t_example(void)
{
	static const char *ex = "{\"device_id\":\"356307042441013\","
	    "\"timestamp\":\"2026-04-30T12:00:00.000Z\",\"latitude\":45.8150,"
	    "\"longitude\":15.9819,\"altitude\":122,\"angle\":270,"
	    "\"satellites\":11,\"speed\":87,\"priority\":0,\"event_io_id\":0,"
	    "\"attributes\":{\"239\":1,\"240\":1,\"16\":123456,\"66\":12743,"
	    "\"78\":{\"__bigint\":\"18446744073709551615\"},"
	    "\"385\":{\"__buffer_b64\":\"AQIDBA==\"}}}";
	struct position	 p;

	if (good("example entry", ex, &p, "{\"239\":1,\"240\":1,\"16\":123456,"
	    "\"66\":12743,\"78\":18446744073709551615,"
	    "\"385\":\"\\\\x01020304\"}") == -1)
		return;
	is_string(p.p_device, "356307042441013", "example: device_id");
	is_int(p.p_ts_us, TS0, "example: timestamp");
	is_double(p.p_lat, 45.815, 0, "example: latitude exact");
	is_double(p.p_lon, 15.9819, 0, "example: longitude exact");
	is_double(p.p_altitude, 122, 0, "example: altitude");
	is_int(p.p_angle, 270, "example: angle");
	is_int(p.p_satellites, 11, "example: satellites");
	is_double(p.p_speed, 87, 0, "example: speed");
	is_int(p.p_priority, 0, "example: priority");
	is_int(p.p_event_io, 0, "example: event_io_id");
	is_int(p.p_has, 0x3f, "example: every optional field present");
}

static void
t_optional(void)
{
	struct position	 p;

	if (good("required keys only", "{" HEAD "}", &p, "{}") == 0)
		is_int(p.p_has, 0, "nothing optional set");
	if (good("optional keys null", REC("\"altitude\":null,\"angle\":null,"
	    "\"satellites\":null,\"speed\":null,\"priority\":null,"
	    "\"event_io_id\":null,\"attributes\":null"), &p, "{}") == 0)
		is_int(p.p_has, 0, "null optional keys are not set");
	if (good("some optional keys", REC("\"speed\":0,\"angle\":360,"
	    "\"altitude\":-12.5"), &p, NULL) == 0) {
		is_int(p.p_has, POS_HAS_SPEED | POS_HAS_ANGLE | POS_HAS_ALTITUDE,
		    "p_has names the present keys");
		is_double(p.p_altitude, -12.5, 0, "negative altitude");
	}
	good("unknown keys ignored, even odd ones", REC("\"v\":2,\"x\":{\"__date\":"
	    "[1,{\"a\":null}]},\"imei\":\"1\",\"z\":[]"), NULL, "{}");
	good("key order free", "{\"longitude\":1,\"attributes\":{},\"latitude\":2,"
	    "\"timestamp\":0,\"device_id\":\"a\"}", &p, "{}");
	good("whitespace everywhere", " \t\r\n{ \"device_id\" : \"a\" ,"
	    "\"timestamp\":0 , \"latitude\" :1,\"longitude\":\n2, \"attributes\""
	    " : { \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\":[ ] } } \n", NULL,
	    "{\"a\":[1,2],\"b\":{},\"c\":[]}");
	good("escaped key names match", "{\"device\\u005fid\":\"a\",\"timestamp\":0,"
	    "\"latitude\":1,\"longitude\":2}", &p, "{}");
}

static void
t_missing(void)
{
	bad("missing device_id", "{" TS "," LATLON "}", CODEC_MISSING_FIELD,
	    "\"device_id\"");
	bad("missing timestamp", "{" DEV "," LATLON "}", CODEC_MISSING_FIELD,
	    "\"timestamp\"");
	bad("missing latitude", "{" DEV "," TS ",\"longitude\":1}",
	    CODEC_MISSING_FIELD, "\"latitude\"");
	bad("missing longitude", "{" DEV "," TS ",\"latitude\":1}",
	    CODEC_MISSING_FIELD, "\"longitude\"");
	bad("empty object", "{}", CODEC_MISSING_FIELD, NULL);
}

static void
t_types(void)
{
	bad("device_id number", "{\"device_id\":123," TS "," LATLON "}",
	    CODEC_WRONG_TYPE, "device_id must be a string, got a number");
	bad("device_id null", "{\"device_id\":null," TS "," LATLON "}",
	    CODEC_WRONG_TYPE, NULL);
	bad("timestamp bool", "{" DEV ",\"timestamp\":true," LATLON "}",
	    CODEC_WRONG_TYPE, NULL);
	bad("timestamp null", "{" DEV ",\"timestamp\":null," LATLON "}",
	    CODEC_WRONG_TYPE, NULL);
	bad("latitude string", "{" DEV "," TS ",\"latitude\":\"45.8\","
	    "\"longitude\":1}", CODEC_WRONG_TYPE, "latitude must be a number");
	bad("latitude \"NaN\"", "{" DEV "," TS ",\"latitude\":\"NaN\","
	    "\"longitude\":1}", CODEC_WRONG_TYPE, NULL);
	bad("longitude \"Infinity\"", "{" DEV "," TS ",\"latitude\":1,"
	    "\"longitude\":\"Infinity\"}", CODEC_WRONG_TYPE, NULL);
	bad("latitude null", "{" DEV "," TS ",\"latitude\":null,"
	    "\"longitude\":1}", CODEC_WRONG_TYPE, "got null");
	bad("longitude array", "{" DEV "," TS ",\"latitude\":1,"
	    "\"longitude\":[1]}", CODEC_WRONG_TYPE, NULL);
	bad("altitude string", REC("\"altitude\":\"1\""), CODEC_WRONG_TYPE, NULL);
	bad("angle 1.0", REC("\"angle\":1.0"), CODEC_WRONG_TYPE,
	    "angle must be an integer, got 1.0");
	bad("angle 1e2", REC("\"angle\":1e2"), CODEC_WRONG_TYPE, NULL);
	bad("angle string", REC("\"angle\":\"90\""), CODEC_WRONG_TYPE, NULL);
	bad("satellites bool", REC("\"satellites\":true"), CODEC_WRONG_TYPE,
	    NULL);
	bad("speed object", REC("\"speed\":{}"), CODEC_WRONG_TYPE, NULL);
	bad("priority 1.5", REC("\"priority\":1.5"), CODEC_WRONG_TYPE, NULL);
	bad("event_io_id string", REC("\"event_io_id\":\"1\""), CODEC_WRONG_TYPE,
	    NULL);
	bad("attributes array", ATTR("[]"), CODEC_WRONG_TYPE, NULL);
	bad("attributes string", ATTR("\"{}\""), CODEC_WRONG_TYPE, NULL);
	bad("attributes number", ATTR("5"), CODEC_WRONG_TYPE, NULL);
	bad("attributes is a sentinel", ATTR("{\"__bigint\":\"1\"}"),
	    CODEC_WRONG_TYPE, NULL);
}

static void
t_ranges(void)
{
	struct position	 p;

	bad("lat 999", "{" DEV "," TS ",\"latitude\":999,\"longitude\":1}",
	    CODEC_OUT_OF_RANGE, "latitude 999 out of range -90..90");
	bad("lat -90.0001", "{" DEV "," TS ",\"latitude\":-90.0001,"
	    "\"longitude\":1}", CODEC_OUT_OF_RANGE, NULL);
	bad("lat 1e400 (inf in a double)", "{" DEV "," TS ",\"latitude\":1e400,"
	    "\"longitude\":1}", CODEC_OUT_OF_RANGE, NULL);
	bad("lon -181", "{" DEV "," TS ",\"latitude\":1,\"longitude\":-181}",
	    CODEC_OUT_OF_RANGE, "longitude -181 out of range -180..180");
	bad("lon 180.5", "{" DEV "," TS ",\"latitude\":1,\"longitude\":180.5}",
	    CODEC_OUT_OF_RANGE, NULL);
	if (good("lat/lon at the bounds", "{" DEV "," TS ",\"latitude\":-90,"
	    "\"longitude\":180}", &p, NULL) == 0) {
		is_double(p.p_lat, -90, 0, "lat -90");
		is_double(p.p_lon, 180, 0, "lon 180");
	}
	if (good("lat exponent form", "{" DEV "," TS ",\"latitude\":4.5815E1,"
	    "\"longitude\":-0}", &p, NULL) == 0) {
		is_double(p.p_lat, 45.815, 0, "4.5815E1 == 45.815 exactly");
		is_double(p.p_lon, 0, 0, "-0 longitude");
	}
	if (good("lat many digits (strtod path)", "{" DEV "," TS ","
	    "\"latitude\":45.81500000000000000000000001,"
	    "\"longitude\":0.0000000000000000000000000001}", &p, NULL) == 0) {
		is_double(p.p_lat, 45.815, 0, "long mantissa rounds right");
		is_double(p.p_lon, 1e-28, 1e-40, "tiny longitude");
	}
	bad("altitude 1e39 (beyond real)", REC("\"altitude\":1e39"),
	    CODEC_OUT_OF_RANGE, NULL);
	bad("altitude 1e-50 (underflows real)", REC("\"altitude\":1e-50"),
	    CODEC_OUT_OF_RANGE, NULL);
	bad("angle 361", REC("\"angle\":361"), CODEC_OUT_OF_RANGE,
	    "angle 361 out of range 0..360");
	bad("angle -1", REC("\"angle\":-1"), CODEC_OUT_OF_RANGE, NULL);
	bad("angle 23 digits", REC("\"angle\":99999999999999999999999"),
	    CODEC_OUT_OF_RANGE, NULL);
	bad("satellites 256", REC("\"satellites\":256"), CODEC_OUT_OF_RANGE,
	    NULL);
	bad("speed -1", REC("\"speed\":-1"), CODEC_OUT_OF_RANGE, NULL);
	bad("speed -0.001", REC("\"speed\":-0.001"), CODEC_OUT_OF_RANGE, NULL);
	bad("priority 3", REC("\"priority\":3"), CODEC_OUT_OF_RANGE, NULL);
	bad("event_io_id 2^31", REC("\"event_io_id\":2147483648"),
	    CODEC_OUT_OF_RANGE, NULL);
	if (good("integer bounds", REC("\"satellites\":255,\"priority\":2,"
	    "\"event_io_id\":-2147483648,\"angle\":-0"), &p, NULL) == 0) {
		is_int(p.p_satellites, 255, "satellites 255");
		is_int(p.p_priority, 2, "priority 2");
		is_int(p.p_event_io, INT32_MIN, "event_io_id INT32_MIN");
		is_int(p.p_angle, 0, "angle -0 is 0");
	}
	bad("lat NaN bare", "{" DEV "," TS ",\"latitude\":NaN,\"longitude\":1}",
	    CODEC_BAD_JSON, NULL);
	bad("lon Infinity bare", "{" DEV "," TS ",\"latitude\":1,"
	    "\"longitude\":Infinity}", CODEC_BAD_JSON, NULL);
	bad("lat -Infinity bare", "{" DEV "," TS ",\"latitude\":-Infinity,"
	    "\"longitude\":1}", CODEC_BAD_JSON, NULL);
	bad("hex float 0x1p3", "{" DEV "," TS ",\"latitude\":0x1p3,"
	    "\"longitude\":1}", CODEC_BAD_JSON, NULL);
	bad("hex float string", "{" DEV "," TS ",\"latitude\":\"0x1p3\","
	    "\"longitude\":1}", CODEC_WRONG_TYPE, NULL);
}

static void
t_device(void)
{
	char		 pl[512], id[80];
	struct position	 p;

	bad("device_id empty", "{\"device_id\":\"\"," TS "," LATLON "}",
	    CODEC_BAD_DEVICE, "empty");
	memset(id, 'a', 65);
	id[65] = '\0';
	snprintf(pl, sizeof(pl), "{\"device_id\":\"%s\"," TS "," LATLON "}", id);
	bad("device_id 65 chars", pl, CODEC_BAD_DEVICE, "longer than 64");
	id[64] = '\0';
	snprintf(pl, sizeof(pl), "{\"device_id\":\"%s\"," TS "," LATLON "}", id);
	if (good("device_id 64 chars", pl, &p, NULL) == 0)
		is_int((long long)strlen(p.p_device), 64, "64 chars kept");
	bad("device_id with a space", "{\"device_id\":\"a b\"," TS "," LATLON "}",
	    CODEC_BAD_DEVICE, "printable");
	bad("device_id with \\u0001", "{\"device_id\":\"a\\u0001\"," TS ","
	    LATLON "}", CODEC_BAD_DEVICE, NULL);
	bad("device_id with \\n", "{\"device_id\":\"a\\n\"," TS "," LATLON "}",
	    CODEC_BAD_DEVICE, NULL);
	bad("device_id non-ASCII", "{\"device_id\":\"caf\xc3\xa9\"," TS ","
	    LATLON "}", CODEC_BAD_DEVICE, NULL);
	if (good("device_id escaped ASCII", "{\"device_id\":\"\\u0041B\\/C\","
	    TS "," LATLON "}", &p, NULL) == 0)
		is_string(p.p_device, "AB/C", "escapes decoded in device_id");
}

static void
ts_case(const char *name, const char *ts, int64_t want)
{
	char		 pl[256];
	struct position	 p;

	snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":%s," LATLON "}", ts);
	if (want < 0) {
		bad(name, pl, CODEC_BAD_TIMESTAMP, NULL);
		return;
	}
	if (good(name, pl, &p, NULL) == 0)
		is_int(p.p_ts_us, want, "%s: value", name);
}

static void
t_timestamps(void)
{
	struct codec_limits	 fl = lim;
	char			 pl[256];

	ts_case("Z", "\"2026-04-30T12:00:00Z\"", TS0);
	ts_case("ms", "\"2026-04-30T12:00:00.123Z\"", TS0 + 123000);
	ts_case("us", "\"2026-04-30T12:00:00.123456Z\"", TS0 + 123456);
	ts_case("one fraction digit", "\"2026-04-30T12:00:00.5Z\"", TS0 + 500000);
	ts_case("+02:00", "\"2026-04-30T14:00:00+02:00\"", TS0);
	ts_case("-05:30", "\"2026-04-30T06:30:00.000-05:30\"", TS0);
	ts_case("-00:00", "\"2026-04-30T12:00:00-00:00\"", TS0);
	ts_case("lower case t and z", "\"2026-04-30t12:00:00z\"", TS0);
	ts_case("epoch ms integer", "1777550400000", TS0);
	ts_case("epoch ms 0", "0", 0);
	ts_case("leap day 2024", "\"2024-02-29T23:59:59Z\"",
	    INT64_C(1709251199000000));
	ts_case("epoch itself", "\"1970-01-01T00:00:00Z\"", 0);
	ts_case("offset crossing into 1970", "\"1969-12-31T23:30:00-01:00\"",
	    INT64_C(1800000000));
	ts_case("year 9998 ok", "\"9998-12-31T23:59:59Z\"",
	    INT64_C(253370764799000000));
	ts_case("year 9999", "\"9999-01-01T00:00:00Z\"", -1);
	ts_case("year 9999 epoch ms", "253370764800000", -1);
	ts_case("23:59:60", "\"2016-12-31T23:59:60Z\"", -1);
	ts_case("no zone", "\"2026-04-30T12:00:00\"", -1);
	ts_case("no zone with ms", "\"2026-04-30T12:00:00.000\"", -1);
	ts_case("Feb 30", "\"2026-02-30T12:00:00Z\"", -1);
	ts_case("Feb 29 non-leap", "\"2023-02-29T12:00:00Z\"", -1);
	ts_case("Feb 29 1900-style century", "\"2100-02-29T12:00:00Z\"", -1);
	ts_case("month 13", "\"2026-13-01T12:00:00Z\"", -1);
	ts_case("hour 24", "\"2026-04-30T24:00:00Z\"", -1);
	ts_case("offset +24:00", "\"2026-04-30T12:00:00+24:00\"", -1);
	ts_case("offset without colon", "\"2026-04-30T12:00:00+0200\"", -1);
	ts_case("pre-epoch", "\"1969-12-31T23:59:59Z\"", -1);
	ts_case("pre-epoch by offset", "\"1970-01-01T00:30:00+01:00\"", -1);
	ts_case("negative epoch ms", "-1", -1);
	ts_case("infinity", "\"infinity\"", -1);
	ts_case("7 fraction digits", "\"2026-04-30T12:00:00.1234567Z\"", -1);
	ts_case("empty fraction", "\"2026-04-30T12:00:00.Z\"", -1);
	ts_case("space separator", "\"2026-04-30 12:00:00Z\"", -1);
	ts_case("no seconds", "\"2026-04-30T12:00Z\"", -1);
	ts_case("date only", "\"2026-04-30\"", -1);
	ts_case("trailing junk", "\"2026-04-30T12:00:00Zx\"", -1);
	ts_case("epoch ms fraction", "1777550400000.5", -1);
	ts_case("epoch ms exponent", "1.7775504e12", -1);
	ts_case("epoch ms 25 digits", "1000000000000000000000000", -1);
	ts_case("empty string", "\"\"", -1);
	ts_case("long string", "\"2026-04-30T12:00:00.000000000000000000000000000"
	    "000000Z\"", -1);
	bad("year 9999 message", "{" DEV ",\"timestamp\":\"9999-12-31T23:59:59Z\","
	    LATLON "}", CODEC_BAD_TIMESTAMP, "9999");
	fl.cl_now_us = TS0;
	fl.cl_max_future_us = INT64_C(86400000000);
	snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":\"2026-05-01T12:00:01Z\","
	    LATLON "}");
	{
		struct position		 p;
		struct codec_error	 e;

		dec(pl, strlen(pl), &fl, &p, &e);
		is_string(codec_reason_code(e.ce_reason), "ts_out_of_window",
		    "far future beyond now + max_future (%s)", e.ce_msg);
		snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":"
		    "\"2026-05-01T12:00:00Z\"," LATLON "}");
		is_int(dec(pl, strlen(pl), &fl, &p, &e), 0,
		    "exactly now + max_future is accepted");
		snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":1777723200001,"
		    LATLON "}");
		dec(pl, strlen(pl), &fl, &p, &e);
		is_string(codec_reason_code(e.ce_reason), "ts_out_of_window",
		    "far future as epoch ms");
		/* GPS week rollover: 1024 weeks back, outside a 3650-day window */
		fl.cl_max_past_us = INT64_C(3650) * 86400000000;
		snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":\"2006-09-15T12:00:00Z\","
		    LATLON "}");
		dec(pl, strlen(pl), &fl, &p, &e);
		is_string(codec_reason_code(e.ce_reason), "ts_out_of_window",
		    "GPS week rollover beyond max_past (%s)", e.ce_msg);
		snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":\"2016-05-02T12:00:00Z\","
		    LATLON "}");
		is_int(dec(pl, strlen(pl), &fl, &p, &e), 0,
		    "exactly now - max_past is accepted");
		snprintf(pl, sizeof(pl), "{" DEV ",\"timestamp\":\"2016-05-02T11:59:59Z\","
		    LATLON "}");
		dec(pl, strlen(pl), &fl, &p, &e);
		is_string(codec_reason_code(e.ce_reason), "ts_out_of_window",
		    "a second before now - max_past is refused");
	}
}

static void
t_bigint(void)
{
	char	 pl[3000], digits[1200];

	good("bigint 20 digits exact", ATTR("{\"78\":{\"__bigint\":"
	    "\"18446744073709551615\"}}"), NULL,
	    "{\"78\":18446744073709551615}");
	good("bigint negative and zero", ATTR("{\"a\":{\"__bigint\":\"-5\"},"
	    "\"b\":{\"__bigint\":\"0\"}}"), NULL, "{\"a\":-5,\"b\":0}");
	good("bigint with escaped digits", ATTR("{\"a\":{\"__bigint\":"
	    "\"1\\u0032\"}}"), NULL, "{\"a\":12}");
	memset(digits, '9', 1000);
	digits[1000] = '\0';
	snprintf(pl, sizeof(pl), ATTR("{\"a\":{\"__bigint\":\"%s\"}}"), digits);
	{
		char	 want[1300];

		snprintf(want, sizeof(want), "{\"a\":%s}", digits);
		good("bigint 1000 digits", pl, NULL, want);
	}
	digits[0] = '-';
	snprintf(pl, sizeof(pl), ATTR("{\"a\":{\"__bigint\":\"%s\"}}"), digits);
	good("bigint - and 999 digits", pl, NULL, NULL);
	memset(digits, '9', 1001);
	digits[1001] = '\0';
	snprintf(pl, sizeof(pl), ATTR("{\"a\":{\"__bigint\":\"%s\"}}"), digits);
	bad("bigint 1001 digits", pl, CODEC_BAD_BIGINT, NULL);
	bad("bigint 12a", ATTR("{\"78\":{\"__bigint\":\"12a\"}}"),
	    CODEC_BAD_BIGINT, "attributes.78: __bigint \"12a\" is not");
	bad("bigint 1e3", ATTR("{\"a\":{\"__bigint\":\"1e3\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint leading space", ATTR("{\"a\":{\"__bigint\":\" 12\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint trailing space", ATTR("{\"a\":{\"__bigint\":\"12 \"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint +1", ATTR("{\"a\":{\"__bigint\":\"+1\"}}"), CODEC_BAD_BIGINT,
	    NULL);
	bad("bigint 007", ATTR("{\"a\":{\"__bigint\":\"007\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint -0", ATTR("{\"a\":{\"__bigint\":\"-0\"}}"), CODEC_BAD_BIGINT,
	    NULL);
	bad("bigint -007", ATTR("{\"a\":{\"__bigint\":\"-007\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint empty", ATTR("{\"a\":{\"__bigint\":\"\"}}"), CODEC_BAD_BIGINT,
	    NULL);
	bad("bigint lone minus", ATTR("{\"a\":{\"__bigint\":\"-\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint 1.5", ATTR("{\"a\":{\"__bigint\":\"1.5\"}}"),
	    CODEC_BAD_BIGINT, NULL);
	bad("bigint as a number", ATTR("{\"a\":{\"__bigint\":12}}"),
	    CODEC_BAD_BIGINT, "not a string");
	bad("bigint as null", ATTR("{\"a\":{\"__bigint\":null}}"),
	    CODEC_BAD_BIGINT, NULL);
}

static void
t_buffer(void)
{
	unsigned char	 raw[256];
	char		 b64[400], pl[1000], want[600];
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t		 i, n = 0;
	unsigned	 v;

	good("buffer 4 bytes", ATTR("{\"385\":{\"__buffer_b64\":\"AQIDBA==\"}}"),
	    NULL, "{\"385\":\"\\\\x01020304\"}");
	good("buffer empty", ATTR("{\"a\":{\"__buffer_b64\":\"\"}}"), NULL,
	    "{\"a\":\"\\\\x\"}");
	good("buffer one byte", ATTR("{\"a\":{\"__buffer_b64\":\"/w==\"}}"), NULL,
	    "{\"a\":\"\\\\xff\"}");
	good("buffer two bytes", ATTR("{\"a\":{\"__buffer_b64\":\"AAE=\"}}"), NULL,
	    "{\"a\":\"\\\\x0001\"}");
	good("buffer with escaped slash", ATTR("{\"a\":{\"__buffer_b64\":"
	    "\"\\/w==\"}}"), NULL, "{\"a\":\"\\\\xff\"}");
	for (i = 0; i < 256; i++)
		raw[i] = (unsigned char)i;
	for (i = 0; i < 256; i += 3) {
		v = (unsigned)raw[i] << 16 | (i + 1 < 256 ? raw[i + 1] : 0) << 8 |
		    (i + 2 < 256 ? raw[i + 2] : 0);
		b64[n++] = tab[v >> 18];
		b64[n++] = tab[(v >> 12) & 63];
		b64[n++] = i + 1 < 256 ? tab[(v >> 6) & 63] : '=';
		b64[n++] = i + 2 < 256 ? tab[v & 63] : '=';
	}
	b64[n] = '\0';
	snprintf(pl, sizeof(pl), ATTR("{\"all\":{\"__buffer_b64\":\"%s\"}}"), b64);
	n = (size_t)snprintf(want, sizeof(want), "{\"all\":\"\\\\x");
	for (i = 0; i < 256; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%02x", (unsigned)i);
	snprintf(want + n, sizeof(want) - n, "\"}");
	good("buffer with every byte 0x00..0xff", pl, NULL, want);
	bad("base64 non-alphabet", ATTR("{\"a\":{\"__buffer_b64\":\"AQ!DBA==\"}}"),
	    CODEC_BAD_BASE64, "attributes.a: __buffer_b64 \"AQ!DBA==\"");
	bad("base64 url alphabet", ATTR("{\"a\":{\"__buffer_b64\":\"-_8=\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 missing padding", ATTR("{\"a\":{\"__buffer_b64\":\"AQIDBA\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 short padding", ATTR("{\"a\":{\"__buffer_b64\":\"AQIDBA=\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 padding in the middle", ATTR("{\"a\":{\"__buffer_b64\":"
	    "\"AQ==AQ==\"}}"), CODEC_BAD_BASE64, NULL);
	bad("base64 pad then data", ATTR("{\"a\":{\"__buffer_b64\":\"AQ=A\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 all padding", ATTR("{\"a\":{\"__buffer_b64\":\"====\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 non-zero pad bits (==)", ATTR("{\"a\":{\"__buffer_b64\":"
	    "\"AR==\"}}"), CODEC_BAD_BASE64, "non-zero");
	bad("base64 non-zero pad bits (=)", ATTR("{\"a\":{\"__buffer_b64\":"
	    "\"AAF=\"}}"), CODEC_BAD_BASE64, NULL);
	bad("base64 whitespace", ATTR("{\"a\":{\"__buffer_b64\":\"AQID BA==\"}}"),
	    CODEC_BAD_BASE64, NULL);
	bad("base64 newline escape", ATTR("{\"a\":{\"__buffer_b64\":"
	    "\"AQID\\nBA==\"}}"), CODEC_BAD_BASE64, NULL);
	bad("base64 as number", ATTR("{\"a\":{\"__buffer_b64\":5}}"),
	    CODEC_BAD_BASE64, NULL);
}

static void
t_sentinels(void)
{
	good("nested sentinels in arrays and objects", ATTR("{\"a\":[1,"
	    "{\"__bigint\":\"5\"},[{\"__buffer_b64\":\"AQ==\"}]],\"b\":{\"c\":"
	    "{\"__bigint\":\"-7\"}},\"d\":[[[{\"__bigint\":\"1\"}]]]}"), NULL,
	    "{\"a\":[1,5,[\"\\\\x01\"]],\"b\":{\"c\":-7},\"d\":[[[1]]]}");
	good("plain values pass through", ATTR("{\"s\":\"x\",\"t\":true,\"f\":"
	    "false,\"n\":null,\"e\":{},\"a\":[],\"_x\":{\"_y\":1},\"x__\":2,"
	    "\"d\":-1.5e-3}"), NULL, "{\"s\":\"x\",\"t\":true,\"f\":false,"
	    "\"n\":null,\"e\":{},\"a\":[],\"_x\":{\"_y\":1},\"x__\":2,"
	    "\"d\":-1.5e-3}");
	good("__ keys as plain values are fine", ATTR("{\"a\":\"__bigint\"}"), NULL,
	    "{\"a\":\"__bigint\"}");
	bad("unknown sentinel", ATTR("{\"5\":{\"__date\":\"2020\"}}"),
	    CODEC_UNKNOWN_SENTINEL, "unknown sentinel \"__date\" at attributes.5");
	bad("unknown sentinel in an array", ATTR("{\"a\":[0,{\"__x\":1}]}"),
	    CODEC_UNKNOWN_SENTINEL, "attributes.a[1]");
	bad("bare __ sentinel", ATTR("{\"a\":{\"__\":1}}"),
	    CODEC_UNKNOWN_SENTINEL, NULL);
	bad("escaped unknown sentinel", ATTR("{\"a\":{\"\\u005f_x\":1}}"),
	    CODEC_UNKNOWN_SENTINEL, NULL);
	good("escaped known sentinel", ATTR("{\"a\":{\"\\u005f_bigint\":\"3\"}}"),
	    NULL, "{\"a\":3}");
	bad("sentinel with another key after", ATTR("{\"a\":{\"__bigint\":\"1\","
	    "\"x\":2}}"), CODEC_UNKNOWN_SENTINEL, "mixed");
	bad("sentinel key after another key", ATTR("{\"a\":{\"x\":2,"
	    "\"__bigint\":\"1\"}}"), CODEC_UNKNOWN_SENTINEL, "mixed");
	bad("sentinel repeated", ATTR("{\"a\":{\"__bigint\":\"1\","
	    "\"__bigint\":\"2\"}}"), CODEC_DUPLICATE_KEY, NULL);
	bad("bad bigint deep", ATTR("{\"a\":{\"b\":[{\"c\":{\"__bigint\":\"x\"}}]}}"),
	    CODEC_BAD_BIGINT, "attributes.a.b[0].c");
	bad("attributes number exponent 1001", ATTR("{\"x\":1e1001}"),
	    CODEC_OUT_OF_RANGE, "attributes.x");
	bad("attributes number exponent -1001", ATTR("{\"x\":[1E-1001]}"),
	    CODEC_OUT_OF_RANGE, NULL);
	good("attributes number exponent 1000", ATTR("{\"x\":1e1000,\"y\":"
	    "-2.5E-1000}"), NULL, NULL);
	{
		static char	 pl[3000];
		size_t		 n;

		n = (size_t)snprintf(pl, sizeof(pl), ATTR("{\"x\":")) - 1;
		memset(pl + n, '7', 1000);
		memcpy(pl + n + 1000, "}}", 3);
		good("attributes number with 1000 digits", pl, NULL, NULL);
		memset(pl + n, '7', 1001);
		memcpy(pl + n + 1001, "}}", 3);
		bad("attributes number with 1001 digits", pl, CODEC_OUT_OF_RANGE,
		    NULL);
		memset(pl + n, '7', 1003);
		memcpy(pl + n, "0.", 2);
		memcpy(pl + n + 1003, "}}", 3);
		bad("attributes number with 1000+ fraction digits", pl,
		    CODEC_OUT_OF_RANGE, NULL);
	}
	good("big bag numbers copied verbatim", ATTR("{\"a\":123456789012345678901"
	    "234567890,\"b\":0.1000,\"c\":-0,\"d\":1E+2}"), NULL,
	    "{\"a\":123456789012345678901234567890,\"b\":0.1000,\"c\":-0,"
	    "\"d\":1E+2}");
	good("sentinel with whitespace inside", ATTR("{ \"a\" : { \"__bigint\" :"
	    " \"42\" } , \"b\" : [ { \"__buffer_b64\" : \"AQ==\" } ] }"), NULL,
	    "{\"a\":42,\"b\":[\"\\\\x01\"]}");
	bad("ignored key still checked for syntax", REC("\"x\":[1,]"),
	    CODEC_BAD_JSON, NULL);
	good("sentinels under ignored keys are not looked at",
	    REC("\"x\":{\"__bigint\":\"zz\"}"), NULL, "{}");
}

static void
t_syntax(void)
{
	static const struct {
		const char		*name;
		const char		*p;
		enum codec_reason	 want;
	} cases[] = {
		{ "empty payload", "", CODEC_BAD_JSON },
		{ "only spaces", "   ", CODEC_BAD_JSON },
		{ "lone brace", "{", CODEC_BAD_JSON },
		{ "truncated in a key", "{\"device", CODEC_BAD_JSON },
		{ "truncated after colon", "{\"device_id\":", CODEC_BAD_JSON },
		{ "truncated record", "{" HEAD, CODEC_BAD_JSON },
		{ "truncated in the bag", REC("\"attributes\":{\"a\":[1,2"),
		    CODEC_BAD_JSON },
		{ "trailing comma in object", "{" HEAD ",}", CODEC_BAD_JSON },
		{ "trailing comma in bag", ATTR("{\"a\":1,}"), CODEC_BAD_JSON },
		{ "trailing comma in array", ATTR("{\"a\":[1,]}"), CODEC_BAD_JSON },
		{ "leading comma", "{," HEAD "}", CODEC_BAD_JSON },
		{ "double comma", "{" DEV ",," TS "," LATLON "}", CODEC_BAD_JSON },
		{ "missing comma", "{" DEV " " TS "," LATLON "}", CODEC_BAD_JSON },
		{ "missing colon", "{\"device_id\" \"a\"}", CODEC_BAD_JSON },
		{ "unquoted key", "{device_id:\"a\"}", CODEC_BAD_JSON },
		{ "single quotes", "{'device_id':'a'}", CODEC_BAD_JSON },
		{ "leading zero", ATTR("{\"a\":01}"), CODEC_BAD_JSON },
		{ "leading zero top", "{" HEAD ",\"angle\":007}", CODEC_BAD_JSON },
		{ "bare minus", ATTR("{\"a\":-}"), CODEC_BAD_JSON },
		{ "plus sign", ATTR("{\"a\":+1}"), CODEC_BAD_JSON },
		{ "dot first", ATTR("{\"a\":.5}"), CODEC_BAD_JSON },
		{ "dot last", ATTR("{\"a\":1.}"), CODEC_BAD_JSON },
		{ "bare exponent", ATTR("{\"a\":1e}"), CODEC_BAD_JSON },
		{ "exponent sign only", ATTR("{\"a\":1e+}"), CODEC_BAD_JSON },
		{ "hex number", ATTR("{\"a\":0x10}"), CODEC_BAD_JSON },
		{ "bare NaN in bag", ATTR("{\"a\":NaN}"), CODEC_BAD_JSON },
		{ "bad literal", ATTR("{\"a\":tru}"), CODEC_BAD_JSON },
		{ "capital literal", ATTR("{\"a\":True}"), CODEC_BAD_JSON },
		{ "bad escape", ATTR("{\"a\":\"\\x41\"}"), CODEC_BAD_JSON },
		{ "short \\u escape", ATTR("{\"a\":\"\\u12\"}"), CODEC_BAD_JSON },
		{ "non-hex \\u escape", ATTR("{\"a\":\"\\u12g4\"}"), CODEC_BAD_JSON },
		{ "raw control char", ATTR("{\"a\":\"x\x01y\"}"), CODEC_BAD_JSON },
		{ "raw tab in string", ATTR("{\"a\":\"x\ty\"}"), CODEC_BAD_JSON },
		{ "raw newline in string", ATTR("{\"a\":\"x\ny\"}"), CODEC_BAD_JSON },
		{ "unterminated string", ATTR("{\"a\":\"xy}}"), CODEC_BAD_JSON },
		{ "trailing garbage", "{" HEAD "} x", CODEC_BAD_JSON },
		{ "two objects", "{" HEAD "}{}", CODEC_BAD_JSON },
		{ "comment", "{" HEAD "/* c */}", CODEC_BAD_JSON },
		{ "key not a string", "{1:2}", CODEC_BAD_JSON },
		{ "array close mismatch", ATTR("{\"a\":[1}"), CODEC_BAD_JSON },
		{ "object close mismatch", ATTR("{\"a\":{]}"), CODEC_BAD_JSON },
		{ "non-ASCII outside strings", "{" HEAD ",\xc3\xa9}", CODEC_BAD_JSON },
		{ "BOM", "\xef\xbb\xbf{" HEAD "}", CODEC_BAD_JSON },
		{ "vertical tab as space", "{\v" HEAD "}", CODEC_BAD_JSON },
		{ "top-level array", "[1,2]", CODEC_NOT_OBJECT },
		{ "top-level number", "5", CODEC_NOT_OBJECT },
		{ "top-level string", "\"x\"", CODEC_NOT_OBJECT },
		{ "top-level null", " null ", CODEC_NOT_OBJECT },
		{ "broken top-level array", "[1,", CODEC_BAD_JSON },
		/* A malformed payload is bad_json whatever it also breaks. */
		{ "bad lat then truncated", "{" DEV "," TS ",\"latitude\":999",
		    CODEC_BAD_JSON },
		{ "bad sentinel then junk", ATTR("{\"a\":{\"__x\":1}}") "junk",
		    CODEC_BAD_JSON },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].name, cases[i].p, cases[i].want, NULL);
}

static void
t_utf8(void)
{
	static const struct {
		const char		*name;
		const char		*s;	/* inside a string in the bag */
		enum codec_reason	 want;
	} cases[] = {
		{ "bare 0xC3", "\xc3", CODEC_BAD_UTF8 },
		{ "0xC3 then ASCII", "\xc3" "A", CODEC_BAD_UTF8 },
		{ "truncated 3-byte", "\xe2\x82", CODEC_BAD_UTF8 },
		{ "truncated 4-byte", "\xf0\x9f\x98", CODEC_BAD_UTF8 },
		{ "stray continuation", "\x80", CODEC_BAD_UTF8 },
		{ "overlong '/' (C0 AF)", "\xc0\xaf", CODEC_BAD_UTF8 },
		{ "overlong C1", "\xc1\xbf", CODEC_BAD_UTF8 },
		{ "overlong 3-byte", "\xe0\x80\xaf", CODEC_BAD_UTF8 },
		{ "overlong 4-byte", "\xf0\x80\x80\xaf", CODEC_BAD_UTF8 },
		{ "UTF-8 encoded surrogate", "\xed\xa0\x80", CODEC_BAD_UTF8 },
		{ "UTF-8 encoded low surrogate", "\xed\xbf\xbf", CODEC_BAD_UTF8 },
		{ "beyond U+10FFFF", "\xf4\x90\x80\x80", CODEC_BAD_UTF8 },
		{ "byte F5", "\xf5\x80\x80\x80", CODEC_BAD_UTF8 },
		{ "byte FF", "\xff", CODEC_BAD_UTF8 },
		{ "lone high surrogate escape", "\\ud800", CODEC_BAD_UTF8 },
		{ "lone low surrogate escape", "\\udc00", CODEC_BAD_UTF8 },
		{ "high surrogate then BMP", "\\ud800\\u0041", CODEC_BAD_UTF8 },
		{ "swapped surrogates", "\\udc00\\ud800", CODEC_BAD_UTF8 },
		{ "\\u0000", "a\\u0000b", CODEC_NUL_BYTE },
	};
	char	 pl[256];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(pl, sizeof(pl), ATTR("{\"a\":\"%s\"}"), cases[i].s);
		bad(cases[i].name, pl, cases[i].want, NULL);
	}
	bad_len("payload ends inside a UTF-8 sequence", "{\"a\":\"\xe2\x82", 8,
	    CODEC_BAD_UTF8, NULL);
	bad("invalid UTF-8 in a key", ATTR("{\"\xc3\":1}"), CODEC_BAD_UTF8, NULL);
	bad("invalid UTF-8 in an unknown top key", REC("\"x\":\"\xff\""),
	    CODEC_BAD_UTF8, NULL);
	bad("\\u0000 in device_id", "{\"device_id\":\"a\\u0000\"," TS "," LATLON
	    "}", CODEC_NUL_BYTE, NULL);
	bad("\\u0000 in a key", ATTR("{\"a\\u0000\":1}"), CODEC_NUL_BYTE, NULL);
	bad("\\u0000 in an ignored key", REC("\"x\":[\"\\u0000\"]"),
	    CODEC_NUL_BYTE, NULL);
	bad_len("raw NUL byte", ATTR("{\"a\":\"x\0y\"}"),
	    sizeof(ATTR("{\"a\":\"x\0y\"}")) - 1, CODEC_BAD_JSON, NULL);
	good("valid multi-byte UTF-8", ATTR("{\"\xc3\xa9\":\"\xe2\x82\xac "
	    "\xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"}"), NULL,
	    "{\"\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf "
	    "\xf4\x8f\xbf\xbf\"}");
	good("escapes pass through verbatim", ATTR("{\"s\":\"q\\\"b\\\\s\\/"
	    "\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u20AC\"}"), NULL,
	    "{\"s\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"
	    "\\u20AC\"}");
}

static void
t_duplicates(void)
{
	char	 pl[4096];
	size_t	 n;
	int	 i;

	bad("duplicate latitude", "{" HEAD ",\"latitude\":1}",
	    CODEC_DUPLICATE_KEY, "\"latitude\"");
	bad("duplicate unknown key", REC("\"x\":1,\"x\":2"), CODEC_DUPLICATE_KEY,
	    NULL);
	bad("duplicate attributes", REC("\"attributes\":{},\"attributes\":{}"),
	    CODEC_DUPLICATE_KEY, NULL);
	bad("duplicate by escape", ATTR("{\"a\":1,\"\\u0061\":2}"),
	    CODEC_DUPLICATE_KEY, "attributes");
	bad("duplicate in a nested bag object", ATTR("{\"a\":{\"b\":1,\"c\":2,"
	    "\"b\":3}}"), CODEC_DUPLICATE_KEY, "attributes.a");
	bad("duplicate inside an ignored key", REC("\"x\":{\"k\":1,\"k\":1}"),
	    CODEC_DUPLICATE_KEY, NULL);
	good("same key in sibling objects", ATTR("{\"a\":{\"k\":1},\"b\":{\"k\":2},"
	    "\"k\":[{\"k\":3},{\"k\":4}]}"), NULL, NULL);
	n = (size_t)snprintf(pl, sizeof(pl), REC("\"attributes\":{"));
	pl[n - 1] = '\0';	/* drop the closing brace of REC */
	n--;
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(pl + n, sizeof(pl) - n, "%s\"%d\":%d",
		    i ? "," : "", i, i);
	snprintf(pl + n, sizeof(pl) - n, "}}");
	good("200 distinct keys", pl, NULL, NULL);
	snprintf(pl + n, sizeof(pl) - n, ",\"7\":0}}");
	bad("duplicate after 200 keys", pl, CODEC_DUPLICATE_KEY, "\"7\"");
}

static void
t_depth(void)
{
	static char	 pl[600000];
	struct codec_limits l = lim;
	clock_t		 t0;
	size_t		 n;
	int		 i;

	n = (size_t)snprintf(pl, sizeof(pl), REC("\"attributes\":{\"a\":"));
	n--;
	for (i = 0; i < 10000; i++)
		pl[n++] = '[';
	for (i = 0; i < 10000; i++)
		pl[n++] = ']';
	memcpy(pl + n, "}}", 3);
	t0 = clock();
	bad("depth 10000", pl, CODEC_TOO_DEEP, "deeper than 64");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 0.1, "depth 10000 fails fast");
	n = (size_t)snprintf(pl, sizeof(pl), REC("\"x\":"));
	n--;
	for (i = 0; i < 100000; i++)
		pl[n++] = '{', pl[n++] = '"', pl[n++] = 'a', pl[n++] = '"',
		pl[n++] = ':';
	pl[n] = '\0';
	bad("depth 100000 objects in an ignored key", pl, CODEC_TOO_DEEP, NULL);
	/* Top object 1 + attributes 2 + 62 arrays = 64: the limit itself. */
	n = (size_t)snprintf(pl, sizeof(pl), REC("\"attributes\":{\"a\":"));
	n--;
	for (i = 0; i < 62; i++)
		pl[n++] = '[';
	for (i = 0; i < 62; i++)
		pl[n++] = ']';
	memcpy(pl + n, "}}", 3);
	good("depth exactly at the limit", pl, NULL, NULL);
	l.cl_max_depth = 63;
	{
		struct position		 p;
		struct codec_error	 e;

		dec(pl, strlen(pl), &l, &p, &e);
		is_string(codec_reason_code(e.ce_reason), "too_deep",
		    "one level over a lower limit");
	}
}

static void
t_size(void)
{
	struct codec_limits	 l = lim;
	struct position		 p;
	struct codec_error	 e;
	char			*pl;
	size_t			 n, cap = 1024 * 1024;
	int			 i;

	pl = malloc(cap + 64);
	if (pl == NULL)
		bail("malloc");
	n = (size_t)snprintf(pl, cap, REC("\"attributes\":{"));
	n--;
	for (i = 0; n < cap - 200; i++)
		n += (size_t)snprintf(pl + n, cap - n, "%s\"%d\":[\"%0400d\","
		    "{\"__bigint\":\"%d\"}]", i ? "," : "", i, i, i + 1);
	n += (size_t)snprintf(pl + n, cap + 64 - n, "}}");
	l.cl_max_payload = n;
	is_int(codec_decode(pl, n, &l, &p, &attrs, &e), 0,
	    "%zu-byte payload with %d bag keys accepted at its limit (%s)", n, i,
	    e.ce_msg);
	ok(p.p_attrs_len > 0 && p.p_attrs[p.p_attrs_len - 1] == '}' &&
	    p.p_attrs_len < n, "big bag copied (%zu bytes)", p.p_attrs_len);
	l.cl_max_payload = n - 1;
	buf_reset(&attrs);
	is_int(codec_decode(pl, n, &l, &p, &attrs, &e), -1,
	    "one byte over the limit rejected");
	is_string(codec_reason_code(e.ce_reason), "too_large", "as too_large (%s)",
	    e.ce_msg);
	is_int((long long)attrs.b_len, 0, "attrs untouched by too_large");
	n = (size_t)snprintf(pl, cap, REC("\"attributes\":{"));
	n--;
	for (i = 0; i <= CODEC_MAX_KEYS; i++)
		n += (size_t)snprintf(pl + n, cap - n, "%s\"%d\":0", i ? "," : "",
		    i);
	n += (size_t)snprintf(pl + n, cap + 64 - n, "}}");
	bad("more keys than CODEC_MAX_KEYS in one object", pl, CODEC_TOO_LARGE,
	    "keys");
	l.cl_max_payload = 0;
	memset(pl, ' ', cap + 1);
	codec_decode(pl, cap + 1, &l, &p, &attrs, &e);
	is_string(codec_reason_code(e.ce_reason), "too_large",
	    "default limit is 1 MiB");
	codec_decode(pl, cap + 1, NULL, &p, &attrs, &e);
	is_string(codec_reason_code(e.ce_reason), "too_large",
	    "NULL limits use the defaults");
	free(pl);
}

static void
t_appends(void)
{
	struct position		 p1, p2;
	struct codec_error	 e;
	const char		*r1 = ATTR("{\"a\":1}"), *r2 = ATTR("{\"b\":2}");

	buf_reset(&attrs);
	buf_puts(&attrs, "keep");
	codec_decode(r1, strlen(r1), &lim, &p1, &attrs, &e);
	codec_decode(r2, strlen(r2), &lim, &p2, &attrs, &e);
	is_mem(attrs.b_data, attrs.b_len, "keep{\"a\":1}{\"b\":2}", 18,
	    "bags are appended after what the buffer held");
	is_mem(p2.p_attrs, p2.p_attrs_len, "{\"b\":2}", 7, "p_attrs of the second");
	is_int(codec_decode("{", 1, &lim, &p1, &attrs, &e), -1, "a failure");
	is_int((long long)attrs.b_len, 18, "leaves the buffer as it was");
}

static void
t_codes(void)
{
	int	 r, m, distinct = 1;

	for (r = 0; r < CODEC_REASON_COUNT; r++)
		for (m = 0; m < r; m++)
			if (strcmp(codec_reason_code(r), codec_reason_code(m)) == 0)
				distinct = 0;
	ok(distinct, "reason codes are distinct");
	is_string(codec_reason_code(CODEC_BAD_JSON), "bad_json", "bad_json code");
	is_string(codec_reason_code(CODEC_REASON_COUNT), "unknown",
	    "out-of-range reason");
}

static uint32_t	 rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Random whitespace between tokens of the generated input. */
static void
gen_ws(struct buf *in)
{
	static const char	*ws[] = { "", "", "", " ", "\n", "\t ", "\r\n  " };

	buf_puts(in, ws[rnd() % 7]);
}

/* A random bag value: the input with sentinels, and the text we must emit. */
static void
gen_value(struct buf *in, struct buf *want, int depth)
{
	static const char	*b64[] = { "AQIDBA==", "", "/w==", "AAE=", "+/+/" };
	static const char	*hex[] = { "01020304", "", "ff", "0001", "fbffbf" };
	static const char	*str[] = { "\"x\"", "\"\\u00e9\\n\"", "\"\xc3\xa9\"",
	    "\"__bigint\"", "\"\"", "\"a\\\"b\"" };
	static const char	*num[] = { "0", "-1", "1.5e3", "123456789012", "-0.0" };
	int			 k, n, i;

	k = (int)(rnd() % (depth > 3 ? 4 : 7));
	gen_ws(in);
	switch (k) {
	case 0:
		i = (int)(rnd() % 6);
		buf_puts(in, str[i]);
		buf_puts(want, str[i]);
		break;
	case 1:
		i = (int)(rnd() % 5);
		buf_puts(in, num[i]);
		buf_puts(want, num[i]);
		break;
	case 2:
		i = (int)(rnd() % 1000000);
		buf_printf(in, "{");
		gen_ws(in);
		buf_printf(in, "\"__bigint\"");
		gen_ws(in);
		buf_printf(in, ":");
		gen_ws(in);
		buf_printf(in, "\"%d\"", i - 500000);
		gen_ws(in);
		buf_printf(in, "}");
		buf_printf(want, "%d", i - 500000);
		break;
	case 3:
		i = (int)(rnd() % 5);
		buf_printf(in, "{\"%s_buffer_b64\":", rnd() % 2 ? "_" : "\\u005f");
		gen_ws(in);
		buf_printf(in, "\"%s\"", b64[i]);
		gen_ws(in);
		buf_printf(in, "}");
		buf_printf(want, "\"\\\\x%s\"", hex[i]);
		break;
	case 4:
	case 5:
		n = (int)(rnd() % 4);
		buf_putc(in, '{');
		buf_putc(want, '{');
		for (i = 0; i < n; i++) {
			if (i) {
				gen_ws(in);
				buf_putc(in, ',');
				buf_putc(want, ',');
			}
			gen_ws(in);
			buf_printf(in, "\"k%d\"", i);
			buf_printf(want, "\"k%d\"", i);
			gen_ws(in);
			buf_putc(in, ':');
			buf_putc(want, ':');
			gen_value(in, want, depth + 1);
		}
		gen_ws(in);
		buf_putc(in, '}');
		buf_putc(want, '}');
		break;
	default:
		n = (int)(rnd() % 4);
		buf_putc(in, '[');
		buf_putc(want, '[');
		for (i = 0; i < n; i++) {
			if (i) {
				gen_ws(in);
				buf_putc(in, ',');
				buf_putc(want, ',');
			}
			gen_value(in, want, depth + 1);
		}
		gen_ws(in);
		buf_putc(in, ']');
		buf_putc(want, ']');
		break;
	}
	gen_ws(in);
}

/* Generated bags with sentinels and whitespace: exact expected output. */
static void
t_generated(void)
{
	struct buf		 in, want;
	struct position		 p;
	struct codec_error	 e;
	int			 i, n, fails = 0;

	buf_init(&in);
	buf_init(&want);
	for (i = 0; i < 20000; i++) {
		buf_reset(&in);
		buf_reset(&want);
		buf_puts(&in, "{" HEAD ",\"attributes\":{");
		buf_putc(&want, '{');
		for (n = 0; n < 3; n++) {
			if (n) {
				buf_putc(&in, ',');
				buf_putc(&want, ',');
			}
			buf_printf(&in, "\"%d\":", n);
			buf_printf(&want, "\"%d\":", n);
			gen_value(&in, &want, 0);
		}
		buf_puts(&in, "}}");
		buf_putc(&want, '}');
		buf_reset(&attrs);
		if (codec_decode(in.b_data, in.b_len, &lim, &p, &attrs, &e) == -1 ||
		    p.p_attrs_len != want.b_len ||
		    memcmp(p.p_attrs, want.b_data, want.b_len) != 0) {
			if (fails++ < 3)
				diag("generated bag differs: in %s; want %s; %s",
				    buf_cstr(&in), buf_cstr(&want), e.ce_msg);
		}
	}
	is_int(fails, 0, "20000 generated bags with sentinels and whitespace "
	    "come out exactly as expected");
	buf_free(&in);
	buf_free(&want);
}

/* Random documents and mutations: our verdict must match jansson's. */
static const char *seeds[] = {
	"{\"a\":[1,2.5,-3e2,true,false,null],\"b\":{\"c\":\"d\\n\\u00e9\"}}",
	"[{\"x\":{}},[],[[]],\"\\ud83d\\ude00\",0,-0,1E+2,12.0e-1]",
	"{\"k\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"e\":\"\\\"\\\\\\/\"}",
	"\"plain\"",
	"{\"239\":1,\"240\":0,\"16\":123456,\"s\":\"x y\",\"n\":[1,[2,[3]]]}",
};


static size_t
mutate(char *d, size_t n, size_t cap)
{
	static const char	 junk[] = "{}[]\",:\\ \t01-+.eE9tfnu\x00\x80\xc3\xed"
	    "\xf4\xff/aA";
	size_t			 i, k = 1 + rnd() % 3;
	char			 c;

	while (k-- > 0) {
		i = n ? rnd() % n : 0;
		c = junk[rnd() % (sizeof(junk) - 1)];
		switch (rnd() % 4) {
		case 0:
			if (n)
				d[i] = c;
			break;
		case 1:
			if (n + 1 < cap) {
				memmove(d + i + 1, d + i, n - i);
				d[i] = c;
				n++;
			}
			break;
		case 2:
			if (n) {
				memmove(d + i, d + i + 1, n - i - 1);
				n--;
			}
			break;
		default:
			n = i;
			break;
		}
	}
	return n;
}

static void
t_oracle(void)
{
	char			 doc[512], pl[1024];
	struct codec_error	 e;
	struct position		 p;
	json_error_t		 je;
	json_t			*js;
	size_t			 n, s;
	int			 i, ours, theirs, agree = 0, disagree = 0, valid = 0;
	int			 copied = 0, badcopy = 0, skipped = 0, nulfail = 0;
	static const char pre[] = "{" HEAD ",\"attributes\":";

	for (i = 0; i < 200000; i++) {
		s = rnd() % (sizeof(seeds) / sizeof(seeds[0]));
		n = strlen(seeds[s]);
		memcpy(doc, seeds[s], n);
		if (i % 10 != 0)
			n = mutate(doc, n, sizeof(doc));
		doc[n] = '\0';
		/* jansson stops at a raw NUL; RFC 8259 and we refuse it. */
		if (memchr(doc, '\0', n) != NULL) {
			ours = jscan_validate(doc, n, 64, &e) == 0;
			nulfail += ours;
			continue;
		}
		ours = jscan_validate(doc, n, 64, &e) == 0;
		js = json_loadb(doc, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		    &je);
		theirs = js != NULL;
		/* jansson refuses numbers a double or int64 cannot hold. */
		if (!theirs && ours && (strstr(je.text, "overflow") ||
		    strstr(je.text, "too big"))) {
			skipped++;
			continue;
		}
		if (ours == theirs)
			agree++;
		else if (disagree++ < 5)
			diag("disagree on \"%.*s\": ours %d (%s), jansson %d (%s)",
			    (int)n, doc, ours, e.ce_msg, theirs, je.text);
		valid += ours;
		if (ours && theirs && json_is_object(js) && memmem(doc, n, "__",
		    2) == NULL) {
			memcpy(pl, pre, sizeof(pre) - 1);
			memcpy(pl + sizeof(pre) - 1, doc, n);
			pl[sizeof(pre) - 1 + n] = '}';
			buf_reset(&attrs);
			if (codec_decode(pl, sizeof(pre) + n, &lim, &p, &attrs,
			    &e) == 0 && same_json(p.p_attrs, p.p_attrs_len,
			    doc))
				copied++;
			else if (badcopy++ < 5)
				diag("copy differs for \"%.*s\": %s", (int)n, doc,
				    e.ce_msg);
		}
		json_decref(js);
	}
	is_int(disagree, 0, "jansson agrees on %d of %d mutated documents "
	    "(%d valid, %d skipped for jansson number limits)", agree,
	    agree + disagree, valid, skipped);
	is_int(badcopy, 0, "%d valid objects copied through as equal bags",
	    copied);
	is_int(nulfail, 0, "documents with a raw NUL byte are all refused");
}

int
main(void)
{
	buf_init(&attrs);
	plan_lazy();
	t_example();
	t_optional();
	t_missing();
	t_types();
	t_ranges();
	t_device();
	t_timestamps();
	t_bigint();
	t_buffer();
	t_sentinels();
	t_syntax();
	t_utf8();
	t_duplicates();
	t_depth();
	t_size();
	t_appends();
	t_codes();
	t_generated();
	t_oracle();
	is_int(dirty, 0, "no failure changed the caller's buffer");
	buf_free(&attrs);
	return tap_done();
}
