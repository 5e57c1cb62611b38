/* Payload JSON -> struct position, per the input contract; pure, no I/O. */
#ifndef PROCESSOR_CODEC_H
#define PROCESSOR_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "codec/position.h"

enum codec_reason {
	CODEC_OK = 0,
	CODEC_BAD_JSON,		/* not parseable JSON, trailing garbage */
	CODEC_BAD_UTF8,		/* invalid UTF-8 in the payload */
	CODEC_NOT_OBJECT,	/* top level is not an object */
	CODEC_DUPLICATE_KEY,	/* a key repeated in one object */
	CODEC_MISSING_FIELD,	/* a required key is absent */
	CODEC_WRONG_TYPE,	/* a key has the wrong JSON type */
	CODEC_OUT_OF_RANGE,	/* number outside the contract's range, NaN, Inf */
	CODEC_BAD_TIMESTAMP,	/* unparseable or out-of-range timestamp */
	CODEC_BAD_DEVICE,	/* device_id empty, too long, not printable */
	CODEC_UNKNOWN_SENTINEL,	/* {"__x": ...} with an unknown __ key */
	CODEC_BAD_BIGINT,	/* __bigint value not a canonical decimal integer */
	CODEC_BAD_BASE64,	/* __buffer_b64 value not strict padded base64 */
	CODEC_TOO_DEEP,		/* nesting deeper than the limit */
	CODEC_TOO_LARGE,	/* payload longer than the limit */
	CODEC_NUL_BYTE,		/* \u0000 in a string (PostgreSQL text cannot hold it) */
	CODEC_NO_MEMORY,	/* attrs could not grow: not a verdict, retry later */
	CODEC_TS_WINDOW,	/* timestamp valid but outside now - max_past .. now + max_future */
	CODEC_REASON_COUNT
};

struct codec_error {
	enum codec_reason ce_reason;
	char		 ce_msg[200];	/* e.g. "latitude 999 out of range -90..90" */
};

/*
 * A zero field means the default: CODEC_DEFAULT_MAX_PAYLOAD bytes, a depth of
 * CODEC_DEFAULT_MAX_DEPTH (clamped to CODEC_HARD_MAX_DEPTH), no far-future
 * check.  The far-future check runs only when both cl_now_us and
 * cl_max_future_us are positive, the far-past check only when cl_now_us and
 * cl_max_past_us are; the codec never reads the clock itself.
 */
struct codec_limits {
	size_t		 cl_max_payload;	/* bytes */
	int		 cl_max_depth;		/* nesting levels, top object = 1 */
	int64_t		 cl_now_us;		/* caller's clock, µs since epoch */
	int64_t		 cl_max_future_us;	/* allowed clock skew of devices */
	int64_t		 cl_max_past_us;	/* oldest age accepted (GPS week rollover) */
};

#define CODEC_DEFAULT_MAX_PAYLOAD	(1024 * 1024)
#define CODEC_DEFAULT_MAX_DEPTH		64
#define CODEC_HARD_MAX_DEPTH		1000
#define CODEC_MAX_KEYS			4096	/* keys open at once, all levels */

/*
 * Where the contract (position-record.md) leaves room, the codec decides:
 * - "integer" is a JSON number without fraction or exponent: 1.0 and 1e2 are
 *   wrong_type; -0 is 0.  Top-level numbers over 400 characters are refused.
 * - device_id: 1..64 bytes after unescaping, each 0x21..0x7e (visible ASCII:
 *   no space, no control, no UTF-8), so the natural key is unambiguous.
 * - timestamp: YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+hh:mm|-hh:mm), 'T'/'t', 'Z'/'z';
 *   7+ fraction digits are refused (cutting them could merge two fixes into
 *   one key); second 60, year 9999 and later, instants before 1970 refused;
 *   an integer is epoch milliseconds.
 * - altitude and speed must fit a PostgreSQL real (|v| <= FLT_MAX, and not a
 *   non-zero value that would underflow to 0).
 * - attributes absent or null -> {}; the bag is copied byte for byte minus
 *   whitespace (escapes stay as written); numbers keep their text but may not
 *   have more than 1000 integer or fraction digits or |exponent| > 1000.
 * - __bigint: optional '-', 1..1000 digits, no leading zero; "-0" is refused
 *   (BigInt.toString never writes it).  __buffer_b64: strict padded RFC 4648,
 *   zero pad bits; "" is the empty buffer "\\x".
 * - an object whose first key starts with "__" is a sentinel and must have
 *   that one key; a "__" key beside other keys is unknown_sentinel too.
 *   Values under unknown top-level keys are checked for syntax only.
 * - duplicate keys are refused in every object (at most CODEC_MAX_KEYS keys
 *   open at once, else too_large); \u0000 is refused anywhere (nul_byte).
 * - a payload that is not well-formed JSON is always bad_json (or bad_utf8,
 *   nul_byte, too_deep, duplicate_key), even if a field before the fault
 *   already broke the contract; otherwise the first contract fault wins.
 *
 * Decode one payload.  On success returns 0, fills *pos and appends the
 * attributes bag (sentinels reversed, JSONB-ready text) to attrs; pos->p_attrs
 * points into attrs and stays valid until attrs next grows.  On a contract
 * violation returns -1 and fills *err; attrs is left as it was on entry.
 * limits may be NULL (all defaults).  CODEC_NO_MEMORY is the one reason that
 * says nothing about the record: the caller should retry, not dead-letter.
 */
int	codec_decode(const char *payload, size_t len, const struct codec_limits *,
	    struct position *pos, struct buf *attrs, struct codec_error *err);
/* Stable short code used in the DLQ and metrics, e.g. "bad_json". */
const char *codec_reason_code(enum codec_reason);

#endif
