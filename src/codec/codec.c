/* Payload JSON -> struct position, per the input contract; pure, no I/O. */
#include "autoconf.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/jscan.h"
#include "codec/tstamp.h"

enum codec_field {
	CODEC_F_DEVICE,
	CODEC_F_TS,
	CODEC_F_LAT,
	CODEC_F_LON,
	CODEC_F_ALT,
	CODEC_F_ANGLE,
	CODEC_F_SAT,
	CODEC_F_SPEED,
	CODEC_F_PRIO,
	CODEC_F_EVENT,
	CODEC_F_ATTRS,
	CODEC_F_COUNT,
	CODEC_F_UNKNOWN = -1
};

#define CODEC_REQUIRED	(1u << CODEC_F_DEVICE | 1u << CODEC_F_TS | \
	1u << CODEC_F_LAT | 1u << CODEC_F_LON)

/* Top-level numeric keys: their p_has bit and allowed range. */
struct codec_numspec {
	const char	*cn_name;
	size_t		 cn_len;
	int		 cn_int;
	double		 cn_min;
	double		 cn_max;
	const char	*cn_range;
	uint16_t	 cn_has;
};

static const struct codec_numspec codec_nums[CODEC_F_COUNT] = {
	[CODEC_F_DEVICE] = { "device_id", 9, 0, 0, 0, "", 0 },
	[CODEC_F_TS] = { "timestamp", 9, 0, 0, 0, "", 0 },
	[CODEC_F_LAT] = { "latitude", 8, 0, -90, 90, "-90..90", 0 },
	[CODEC_F_LON] = { "longitude", 9, 0, -180, 180, "-180..180", 0 },
	[CODEC_F_ALT] = { "altitude", 8, 0, -FLT_MAX, FLT_MAX,
	    "of a PostgreSQL real", POS_HAS_ALTITUDE },
	[CODEC_F_ANGLE] = { "angle", 5, 1, 0, 360, "0..360", POS_HAS_ANGLE },
	[CODEC_F_SAT] = { "satellites", 10, 1, 0, 255, "0..255",
	    POS_HAS_SATELLITES },
	[CODEC_F_SPEED] = { "speed", 5, 0, 0, FLT_MAX, "0..3.4e38",
	    POS_HAS_SPEED },
	[CODEC_F_PRIO] = { "priority", 8, 1, 0, 2, "0..2", POS_HAS_PRIORITY },
	[CODEC_F_EVENT] = { "event_io_id", 11, 1, INT32_MIN, INT32_MAX,
	    "of a 32-bit integer", POS_HAS_EVENT_IO },
	[CODEC_F_ATTRS] = { "attributes", 10, 0, 0, 0, "", 0 },
};

static const char *codec_codes[CODEC_REASON_COUNT] = {
	[CODEC_OK] = "ok",
	[CODEC_BAD_JSON] = "bad_json",
	[CODEC_BAD_UTF8] = "bad_utf8",
	[CODEC_NOT_OBJECT] = "not_object",
	[CODEC_DUPLICATE_KEY] = "duplicate_key",
	[CODEC_MISSING_FIELD] = "missing_field",
	[CODEC_WRONG_TYPE] = "wrong_type",
	[CODEC_OUT_OF_RANGE] = "out_of_range",
	[CODEC_BAD_TIMESTAMP] = "bad_timestamp",
	[CODEC_BAD_DEVICE] = "bad_device",
	[CODEC_UNKNOWN_SENTINEL] = "unknown_sentinel",
	[CODEC_BAD_BIGINT] = "bad_bigint",
	[CODEC_BAD_BASE64] = "bad_base64",
	[CODEC_TOO_DEEP] = "too_deep",
	[CODEC_TOO_LARGE] = "too_large",
	[CODEC_NUL_BYTE] = "nul_byte",
	[CODEC_NO_MEMORY] = "no_memory",
	[CODEC_TS_WINDOW] = "ts_out_of_window",
};

/* Exact powers of ten: a double with <= 2^53 mantissa times one is exact-rounded. */
static const double codec_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

const char *
codec_reason_code(enum codec_reason r)
{
	if ((int)r < 0 || r >= CODEC_REASON_COUNT)
		return "unknown";
	return codec_codes[r];
}

/* Keys usually come in the contract's order: try the one after the last first. */
static enum codec_field
codec_field(const struct jscan_str *k, int *hint)
{
	char		 tmp[16];
	const char	*name = (const char *)k->js_raw;
	size_t		 n = k->js_len;
	int		 f;

	if (k->js_esc) {
		if (jscan_unescape(k, tmp, sizeof(tmp), &n) == -1)
			return CODEC_F_UNKNOWN;
		name = tmp;
	}
	f = *hint < CODEC_F_COUNT ? *hint : 0;
	if (codec_nums[f].cn_len == n && memcmp(codec_nums[f].cn_name, name,
	    n) == 0) {
		*hint = f + 1;
		return f;
	}
	for (f = 0; f < CODEC_F_COUNT; f++)
		if (codec_nums[f].cn_len == n && codec_nums[f].cn_name[0] ==
		    name[0] && memcmp(codec_nums[f].cn_name, name, n) == 0) {
			*hint = f + 1;
			return f;
		}
	return CODEC_F_UNKNOWN;
}

/*
 * JSON number text -> double.  Clinger's fast path covers what devices send
 * (<= 19 significant digits, small exponent) without strtod; the rest goes
 * through strtod, which assumes the C locale (the daemon never calls
 * setlocale).  -1: the text is too long to be a sane coordinate.
 */
static int
codec_double(const struct jscan_num *n, double *d)
{
	char		 tmp[400];
	const char	*p = n->jn_p + n->jn_neg;
	uint64_t	 m = 0;
	long		 e10;

	if (n->jn_idig + n->jn_fdig <= 19) {
		for (; p < n->jn_p + n->jn_len && *p != 'e' && *p != 'E'; p++)
			if (*p != '.')
				m = m * 10 + (uint64_t)(*p - '0');
		e10 = n->jn_exp - (long)n->jn_fdig;
		if (m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
			*d = e10 < 0 ? (double)m / codec_pow10[-e10] :
			    (double)m * codec_pow10[e10];
			if (n->jn_neg)
				*d = -*d;
			return 0;
		}
	}
	if (n->jn_len >= sizeof(tmp))
		return -1;
	memcpy(tmp, n->jn_p, n->jn_len);
	tmp[n->jn_len] = '\0';
	*d = strtod(tmp, NULL);
	return 0;
}

/* An integer token -> int64, saturating beyond 18 digits. */
static int64_t
codec_int(const struct jscan_num *n)
{
	const char	*p = n->jn_p + n->jn_neg;
	int64_t		 v = 0;
	size_t		 i;

	if (n->jn_idig > 18)
		return n->jn_neg ? INT64_MIN : INT64_MAX;
	for (i = 0; i < n->jn_idig; i++)
		v = v * 10 + (p[i] - '0');
	return n->jn_neg ? -v : v;
}

/* Record a wrong-type verdict and skip the value. */
static int
codec_wrong(struct jscan *j, enum codec_field f, const char *want)
{
	jscan_poison(j, CODEC_WRONG_TYPE, "%s must be %s, got %s",
	    codec_nums[f].cn_name, want, jscan_type_name(*j->j_p));
	return jscan_value(j);
}

static int
codec_devbad(struct jscan *j, const struct jscan_str *s, const char *why)
{
	char	 val[48];

	jscan_excerpt(s->js_raw, s->js_len, val, sizeof(val));
	return jscan_poison(j, CODEC_BAD_DEVICE, "device_id \"%s\" %s", val, why);
}

static int
codec_device(struct jscan *j, struct position *pos)
{
	struct jscan_str	 s;
	size_t		 n, i;

	if (*j->j_p != '"')
		return codec_wrong(j, CODEC_F_DEVICE, "a string");
	if (jscan_string(j, &s) == -1)
		return -1;
	if (jscan_unescape(&s, pos->p_device, POSITION_DEVICE_MAX, &n) == -1)
		return codec_devbad(j, &s, "is longer than 64 bytes");
	pos->p_device[n] = '\0';
	if (n == 0)
		return jscan_poison(j, CODEC_BAD_DEVICE, "device_id is empty");
	for (i = 0; i < n; i++)
		if ((unsigned char)pos->p_device[i] <= 0x20 ||
		    (unsigned char)pos->p_device[i] >= 0x7f)
			return codec_devbad(j, &s, "has a byte outside printable "
			    "ASCII 0x21..0x7e");
	return 0;
}

/* A timestamp verdict naming the token as written. */
static int
codec_tsbad(struct jscan *j, const char *tok, size_t len, int quoted,
    const char *why)
{
	char	 val[48];

	jscan_excerpt(tok, len, val, sizeof(val));
	return jscan_poison(j, CODEC_BAD_TIMESTAMP, "timestamp %s%s%s %s",
	    quoted ? "\"" : "", val, quoted ? "\"" : "", why);
}

/*
 * A well-formed timestamp can still be wrong: a device whose clock jumped
 * ahead (year 9998) or a GPS receiver that missed the week-number rollover
 * reports 1024 weeks in the past.  Rows like that are never right.
 */
static int
codec_ts_window(struct jscan *j, const struct codec_limits *lim, int64_t ts_us,
    const char *tok, size_t len)
{
	char	 val[48];

	if (lim->cl_now_us <= 0)
		return 0;
	if (lim->cl_max_future_us > 0 &&
	    ts_us - lim->cl_now_us > lim->cl_max_future_us) {
		jscan_excerpt(tok, len, val, sizeof(val));
		return jscan_poison(j, CODEC_TS_WINDOW, "timestamp %s is more "
		    "than %lld ms ahead of the clock (max_future_ms)", val,
		    (long long)(lim->cl_max_future_us / 1000));
	}
	if (lim->cl_max_past_us > 0 &&
	    lim->cl_now_us - ts_us > lim->cl_max_past_us) {
		jscan_excerpt(tok, len, val, sizeof(val));
		return jscan_poison(j, CODEC_TS_WINDOW, "timestamp %s is more "
		    "than %lld days in the past (max_past_days)", val,
		    (long long)(lim->cl_max_past_us / 86400000000LL));
	}
	return 0;
}

static int
codec_ts(struct jscan *j, const struct codec_limits *lim, struct position *pos)
{
	struct jscan_str	 s;
	struct jscan_num	 n;
	char			 tmp[40];
	const char		*why, *tok = (const char *)j->j_p;
	size_t			 len;
	int64_t			 ms;

	if (*j->j_p == '"') {
		if (jscan_string(j, &s) == -1)
			return -1;
		why = "is not an RFC 3339 timestamp with a zone";
		if (jscan_unescape(&s, tmp, sizeof(tmp), &len) == -1 ||
		    tstamp_parse(tmp, len, &pos->p_ts_us, &why) == -1)
			return codec_tsbad(j, (const char *)s.js_raw, s.js_len,
			    1, why);
	} else if (*j->j_p == '-' || (*j->j_p >= '0' && *j->j_p <= '9')) {
		if (jscan_number(j, &n) == -1)
			return -1;
		if (!n.jn_int)
			return codec_tsbad(j, n.jn_p, n.jn_len, 0,
			    "is not an integer of epoch milliseconds");
		ms = codec_int(&n);
		if (ms >= TSTAMP_END_US / 1000 || ms <= -TSTAMP_END_US / 1000)
			ms = TSTAMP_END_US / 1000;
		if (tstamp_check(ms * 1000, &why) == -1)
			return codec_tsbad(j, n.jn_p, n.jn_len, 0, why);
		pos->p_ts_us = ms * 1000;
	} else
		return codec_wrong(j, CODEC_F_TS, "a string or an integer");
	return codec_ts_window(j, lim, pos->p_ts_us, tok,
	    (size_t)((const char *)j->j_p - tok));
}

static void
codec_store(struct position *pos, enum codec_field f, double d, int64_t v)
{
	switch (f) {
	case CODEC_F_LAT:
		pos->p_lat = d;
		break;
	case CODEC_F_LON:
		pos->p_lon = d;
		break;
	case CODEC_F_ALT:
		pos->p_altitude = d;
		break;
	case CODEC_F_SPEED:
		pos->p_speed = d;
		break;
	case CODEC_F_ANGLE:
		pos->p_angle = (int16_t)v;
		break;
	case CODEC_F_SAT:
		pos->p_satellites = (int16_t)v;
		break;
	case CODEC_F_PRIO:
		pos->p_priority = (int16_t)v;
		break;
	default:
		pos->p_event_io = (int32_t)v;
		break;
	}
	pos->p_has |= codec_nums[f].cn_has;
}

static int
codec_numeric(struct jscan *j, enum codec_field f, struct position *pos)
{
	const struct codec_numspec	*ns = &codec_nums[f];
	struct jscan_num			 n;
	char				 val[48];
	double				 d = 0;
	int64_t				 v = 0;

	if (*j->j_p == 'n' && ns->cn_has != 0)
		return jscan_literal(j);
	if (*j->j_p != '-' && (*j->j_p < '0' || *j->j_p > '9'))
		return codec_wrong(j, f, ns->cn_int ? "an integer" :
		    "a number");
	if (jscan_number(j, &n) == -1)
		return -1;
	if (ns->cn_int) {
		if (!n.jn_int) {
			jscan_excerpt(n.jn_p, n.jn_len, val, sizeof(val));
			return jscan_poison(j, CODEC_WRONG_TYPE,
			    "%s must be an integer, got %s", ns->cn_name, val);
		}
		v = codec_int(&n);
		if (v < ns->cn_min || v > ns->cn_max)
			goto range;
	} else {
		if (codec_double(&n, &d) == -1 || !isfinite(d) ||
		    d < ns->cn_min || d > ns->cn_max)
			goto range;
		/* PostgreSQL real refuses values that underflow to zero. */
		if (ns->cn_has != 0 && d != 0 && fabs(d) < FLT_MIN)
			goto range;
	}
	codec_store(pos, f, d, v);
	return 0;
 range:
	jscan_excerpt(n.jn_p, n.jn_len, val, sizeof(val));
	return jscan_poison(j, CODEC_OUT_OF_RANGE, "%s %s out of range %s",
	    ns->cn_name, val, ns->cn_range);
}

/* The bag is copied into out; absent or null means the empty object. */
static int
codec_attrs(struct jscan *j, char *out, size_t *olen)
{
	int	 rc;

	if (*j->j_p == 'n') {
		memcpy(out, "{}", 2);
		*olen = 2;
		return jscan_literal(j);
	}
	if (*j->j_p != '{')
		return codec_wrong(j, CODEC_F_ATTRS, "an object");
	j->j_o = j->j_poisoned ? NULL : out;
	j->j_copy = j->j_p;
	j->j_attrs = 1;
	j->j_rootdepth = j->j_depth + 1;
	rc = jscan_value(j);
	if (rc == 0)
		jscan_flush(j, j->j_p);
	if (j->j_o != NULL)
		*olen = (size_t)(j->j_o - out);
	j->j_copy = NULL;
	j->j_o = NULL;
	j->j_attrs = 0;
	return rc;
}

static int
codec_member(struct jscan *j, enum codec_field f, const struct codec_limits *lim,
    struct position *pos, char *out, size_t *olen)
{
	jscan_ws(j);
	if (j->j_p >= j->j_end)
		return jscan_value(j);
	switch (f) {
	case CODEC_F_UNKNOWN:
		return jscan_value(j);
	case CODEC_F_DEVICE:
		return codec_device(j, pos);
	case CODEC_F_TS:
		return codec_ts(j, lim, pos);
	case CODEC_F_ATTRS:
		return codec_attrs(j, out, olen);
	default:
		return codec_numeric(j, f, pos);
	}
}

/* Not an object: say whether it is JSON at all. */
static int
codec_notobject(struct jscan *j)
{
	if (j->j_p >= j->j_end)
		return jscan_fail(j, CODEC_BAD_JSON, "empty payload");
	if (jscan_value(j) == -1)
		return -1;
	jscan_ws(j);
	if (j->j_p != j->j_end)
		return jscan_fail(j, CODEC_BAD_JSON,
		    "trailing characters at offset %zu",
		    (size_t)(j->j_p - j->j_base));
	return jscan_fail(j, CODEC_NOT_OBJECT, "payload is %s, not an object",
	    jscan_type_name(*j->j_base == '\0' ? 'n' : *j->j_base));
}

static int
codec_object(struct jscan *j, const struct codec_limits *lim,
    struct position *pos, char *out, size_t *olen)
{
	struct jscan_str	 k;
	enum codec_field f;
	uint64_t	 seen64 = 0;
	unsigned	 seen = 0;
	int		 hint = 0;

	jscan_ws(j);
	if (j->j_p >= j->j_end || *j->j_p != '{')
		return codec_notobject(j);
	if (jscan_enter(j) == -1)
		return -1;
	jscan_ws(j);
	if (j->j_p < j->j_end && *j->j_p == '}')
		j->j_p++;
	else
		for (;;) {
			if (jscan_key(j, 0, &seen64, &k) == -1)
				return -1;
			if ((f = codec_field(&k, &hint)) != CODEC_F_UNKNOWN)
				seen |= 1u << f;
			if (codec_member(j, f, lim, pos, out, olen) == -1)
				return -1;
			jscan_ws(j);
			if (j->j_p < j->j_end && *j->j_p == ',') {
				j->j_p++;
				continue;
			}
			if (j->j_p < j->j_end && *j->j_p == '}') {
				j->j_p++;
				break;
			}
			return jscan_expect(j, '}');
		}
	if (jscan_leave(j, 0) == -1)
		return -1;
	jscan_ws(j);
	if (j->j_p != j->j_end)
		return jscan_fail(j, CODEC_BAD_JSON,
		    "trailing characters after the object at offset %zu",
		    (size_t)(j->j_p - j->j_base));
	for (f = 0; f < CODEC_F_COUNT; f++)
		if ((CODEC_REQUIRED & (1u << f)) && !(seen & (1u << f)))
			return jscan_poison(j, CODEC_MISSING_FIELD,
			    "required key \"%s\" is missing",
			    codec_nums[f].cn_name);
	if (!(seen & (1u << CODEC_F_ATTRS))) {
		memcpy(out, "{}", 2);
		*olen = 2;
	}
	return 0;
}

int
codec_decode(const char *payload, size_t len, const struct codec_limits *limits,
    struct position *pos, struct buf *attrs, struct codec_error *err)
{
	static const struct codec_limits	 deflim;
	const struct codec_limits		*lim = limits ? limits : &deflim;
	struct jscan				 j;
	size_t					 maxlen, olen = 0;
	int					 depth;
	char					*out;

	maxlen = lim->cl_max_payload ? lim->cl_max_payload :
	    CODEC_DEFAULT_MAX_PAYLOAD;
	depth = lim->cl_max_depth > 0 ? lim->cl_max_depth :
	    CODEC_DEFAULT_MAX_DEPTH;
	if (depth > CODEC_HARD_MAX_DEPTH)
		depth = CODEC_HARD_MAX_DEPTH;
	err->ce_reason = CODEC_OK;
	err->ce_msg[0] = '\0';
	if (len > maxlen || len > UINT32_MAX) {
		err->ce_reason = CODEC_TOO_LARGE;
		snprintf(err->ce_msg, sizeof(err->ce_msg),
		    "payload of %zu bytes exceeds the limit of %zu", len,
		    maxlen);
		return -1;
	}
	/* Output never exceeds 1.5 x input (base64 -> hex), so reserve once. */
	if (buf_reserve(attrs, len + len / 2 + 16) == -1) {
		err->ce_reason = CODEC_NO_MEMORY;
		snprintf(err->ce_msg, sizeof(err->ce_msg),
		    "no memory for %zu bytes of attributes", len + len / 2);
		return -1;
	}
	out = attrs->b_data + attrs->b_len;
	pos->p_device[0] = '\0';
	pos->p_ts_us = 0;
	pos->p_lat = pos->p_lon = pos->p_altitude = pos->p_speed = 0;
	pos->p_event_io = 0;
	pos->p_angle = pos->p_satellites = pos->p_priority = 0;
	pos->p_has = 0;
	pos->p_attrs = NULL;
	pos->p_attrs_len = 0;
	jscan_init(&j, payload, len, depth, err);
	if (codec_object(&j, lim, pos, out, &olen) == -1)
		return -1;
	if (j.j_poisoned) {
		*err = j.j_sem;
		return -1;
	}
	pos->p_attrs = out;
	pos->p_attrs_len = olen;
	attrs->b_len += olen;
	return 0;
}
