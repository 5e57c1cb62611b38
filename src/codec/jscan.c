/* Strict single-pass RFC 8259 scanner for the codec: validate, copy, reverse sentinels. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/b64.h"
#include "codec/jscan.h"

/* Objects up to this many keys are checked for duplicates as keys arrive. */
#define JSCAN_LINEAR_KEYS	32

enum jscan_sentinel {
	JSCAN_S_UNKNOWN,
	JSCAN_S_BIGINT,
	JSCAN_S_BUFFER
};

/* 1 for bytes a string may hold as they are: ASCII, not '"', '\\', controls. */
static const unsigned char jscan_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int	jscan_object(struct jscan *);
static int	jscan_array(struct jscan *);

void
jscan_init(struct jscan *j, const void *p, size_t len, int maxdepth,
    struct codec_error *err)
{
	j->j_base = j->j_p = p;
	j->j_end = j->j_base + len;
	j->j_o = NULL;
	j->j_copy = NULL;
	j->j_attrs = 0;
	j->j_rootdepth = 0;
	j->j_depth = 0;
	j->j_maxdepth = maxdepth;
	j->j_failed = 0;
	j->j_poisoned = 0;
	j->j_nkeys = 0;
	j->j_err = err;
	j->j_sem.ce_reason = CODEC_OK;
	j->j_sem.ce_msg[0] = '\0';
}

/*
 * Skip whitespace.  While the bag is being copied, the input since the last
 * gap is flushed first: the bag goes out as a few big spans, not per token.
 */
void
jscan_ws(struct jscan *j)
{
	const unsigned char	*p = j->j_p;

	while (p < j->j_end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	if (p != j->j_p && j->j_copy != NULL) {
		jscan_flush(j, j->j_p);
		j->j_copy = p;
	}
	j->j_p = p;
}

/* Most calls find no whitespace at all: test before calling. */
static inline void
jscan_ws1(struct jscan *j)
{
	if (j->j_p < j->j_end && *j->j_p <= ' ')
		jscan_ws(j);
}

/* Copy the pending input span up to upto to the output. */
void
jscan_flush(struct jscan *j, const unsigned char *upto)
{
	size_t	 n;

	if (j->j_o != NULL && j->j_copy != NULL) {
		n = (size_t)(upto - j->j_copy);
		memcpy(j->j_o, j->j_copy, n);
		j->j_o += n;
	}
	j->j_copy = NULL;
}

int
jscan_fail(struct jscan *j, enum codec_reason reason, const char *fmt, ...)
{
	va_list	 ap;

	if (!j->j_failed) {
		j->j_failed = 1;
		j->j_err->ce_reason = reason;
		va_start(ap, fmt);
		vsnprintf(j->j_err->ce_msg, sizeof(j->j_err->ce_msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Record a contract fault; only the first one is kept, and output stops. */
int
jscan_poison(struct jscan *j, enum codec_reason reason, const char *fmt, ...)
{
	va_list	 ap;

	if (!j->j_poisoned) {
		j->j_poisoned = 1;
		j->j_sem.ce_reason = reason;
		va_start(ap, fmt);
		vsnprintf(j->j_sem.ce_msg, sizeof(j->j_sem.ce_msg), fmt, ap);
		va_end(ap);
	}
	j->j_o = NULL;
	return 0;
}

static size_t
jscan_off(const struct jscan *j)
{
	return (size_t)(j->j_p - j->j_base);
}

static int
jscan_unexpected(struct jscan *j, const char *want)
{
	unsigned char	 c;

	if (j->j_p >= j->j_end)
		return jscan_fail(j, CODEC_BAD_JSON,
		    "truncated: expected %s at end of payload", want);
	c = *j->j_p;
	if (c >= 0x20 && c < 0x7f)
		return jscan_fail(j, CODEC_BAD_JSON,
		    "expected %s at offset %zu, got '%c'", want, jscan_off(j), c);
	return jscan_fail(j, CODEC_BAD_JSON,
	    "expected %s at offset %zu, got byte 0x%02x", want, jscan_off(j), c);
}

int
jscan_expect(struct jscan *j, int c)
{
	char	 want[4] = { '\'', (char)c, '\'', '\0' };

	jscan_ws1(j);
	if (j->j_p < j->j_end && *j->j_p == c) {
		j->j_p++;
		return 0;
	}
	return jscan_unexpected(j, want);
}

/* Printable excerpt of untrusted bytes for a message, "..." when cut. */
void
jscan_excerpt(const void *v, size_t n, char *dst, size_t dstlen)
{
	const unsigned char	*p = v;
	size_t			 i, max;

	if (dstlen < 4) {
		if (dstlen > 0)
			dst[0] = '\0';
		return;
	}
	max = n < dstlen - 1 ? n : dstlen - 4;
	for (i = 0; i < max; i++)
		dst[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	if (max < n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/* The path of the first levels of the current value, e.g. attributes.78[2]. */
void
jscan_path(const struct jscan *j, int levels, char *dst, size_t dstlen)
{
	const struct jscan_seg	*sg;
	char			 key[40];
	size_t			 n = 0;
	int			 i, w;

	dst[0] = '\0';
	for (i = 0; i < levels && n < dstlen; i++) {
		if (i == JSCAN_PATH_MAX) {
			snprintf(dst + n, dstlen - n, "...");
			return;
		}
		sg = &j->j_path[i];
		if (sg->jp_index >= 0)
			w = snprintf(dst + n, dstlen - n, "[%ld]", sg->jp_index);
		else {
			jscan_excerpt(j->j_base + sg->jp_off, sg->jp_len, key,
			    sizeof(key));
			w = snprintf(dst + n, dstlen - n, "%s%s", i ? "." : "",
			    key);
		}
		if (w < 0)
			return;
		n += (size_t)w;
	}
}

const char *
jscan_type_name(int c)
{
	switch (c) {
	case '"':
		return "a string";
	case '{':
		return "an object";
	case '[':
		return "an array";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

static int
jscan_hex4(const unsigned char *p)
{
	int	 i, v = 0, d;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Check one escape at *pp (a backslash); \u0000 and lone surrogates fail. */
static int
jscan_escape(struct jscan *j, const unsigned char **pp)
{
	const unsigned char	*p = *pp;
	int			 cp, lo;

	if (j->j_end - p < 2)
		return jscan_fail(j, CODEC_BAD_JSON, "truncated escape at offset %zu",
		    (size_t)(p - j->j_base));
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		*pp = p + 2;
		return 0;
	case 'u':
		break;
	default:
		return jscan_fail(j, CODEC_BAD_JSON, "invalid escape at offset %zu",
		    (size_t)(p - j->j_base));
	}
	if (j->j_end - p < 6 || (cp = jscan_hex4(p + 2)) == -1)
		return jscan_fail(j, CODEC_BAD_JSON,
		    "invalid \\u escape at offset %zu", (size_t)(p - j->j_base));
	if (cp == 0)
		return jscan_fail(j, CODEC_NUL_BYTE,
		    "\\u0000 in a string at offset %zu", (size_t)(p - j->j_base));
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jscan_fail(j, CODEC_BAD_UTF8,
		    "lone low surrogate \\u%04x at offset %zu", (unsigned)cp,
		    (size_t)(p - j->j_base));
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->j_end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
		    (lo = jscan_hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
			return jscan_fail(j, CODEC_BAD_UTF8,
			    "lone high surrogate \\u%04x at offset %zu",
			    (unsigned)cp, (size_t)(p - j->j_base));
		*pp = p + 12;
		return 0;
	}
	*pp = p + 6;
	return 0;
}

/* Check one multi-byte UTF-8 sequence: no overlongs, surrogates, > U+10FFFF. */
static int
jscan_utf8(struct jscan *j, const unsigned char **pp)
{
	const unsigned char	*p = *pp;
	size_t			 left = (size_t)(j->j_end - p), n, i;
	unsigned char		 lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		goto bad;
	if (left < n || p[1] < lo || p[1] > hi)
		goto bad;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			goto bad;
	*pp = p + n;
	return 0;
 bad:
	return jscan_fail(j, CODEC_BAD_UTF8, "invalid UTF-8 at offset %zu",
	    (size_t)(p - j->j_base));
}

/*
 * Bytes that end the fast scan of a string, eight at a time: '"', '\\',
 * controls and anything non-ASCII (checked one by one afterwards).  The
 * mask flags them in each byte's high bit; a borrow only ever starts at a
 * flagged byte, so the lowest flag is exact and, on a little-endian
 * machine, its trailing zero bits count the plain bytes before it.
 */
static uint64_t
jscan_stop8(const unsigned char *p)
{
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	const uint64_t	 high = UINT64_C(0x8080808080808080);
	uint64_t	 x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return (((q - ones) & ~q) | ((b - ones) & ~b) |
	    ((x - ones * 0x20) & ~x) | x) & high;
}

/* Past the plain bytes at p: most strings end in their first word. */
static const unsigned char *
jscan_plain_run(const unsigned char *p, const unsigned char *end)
{
	uint64_t	 m;

	for (; end - p >= 8; p += 8)
		if ((m = jscan_stop8(p)) != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + __builtin_ctzll(m) / 8;
#else
			break;
#endif
		}
	while (p < end && jscan_plain[*p])
		p++;
	return p;
}

int
jscan_string(struct jscan *j, struct jscan_str *s)
{
	const unsigned char	*p = j->j_p + 1, *end = j->j_end, *start = p;
	int			 esc = 0;
	unsigned char		 c;

	for (;;) {
		p = jscan_plain_run(p, end);
		if (p >= end)
			return jscan_fail(j, CODEC_BAD_JSON,
			    "truncated: unterminated string at end of payload");
		c = *p;
		if (c == '"')
			break;
		if (c == '\\') {
			esc = 1;
			if (jscan_escape(j, &p) == -1)
				return -1;
		} else if (c < 0x20)
			return jscan_fail(j, CODEC_BAD_JSON,
			    "control character 0x%02x in a string at offset %zu",
			    c, (size_t)(p - j->j_base));
		else if (jscan_utf8(j, &p) == -1)
			return -1;
	}
	s->js_raw = start;
	s->js_len = (size_t)(p - start);
	s->js_esc = esc;
	j->j_p = p + 1;
	return 0;
}

static int
jscan_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && (unsigned char)(*p - '0') < 10;
}

/*
 * Past the digits at p, eight bytes at a time on a little-endian machine: a
 * byte is flagged when byte + 0x46 or byte - 0x30 has its high bit set (not
 * '0'..'9'); a carry or borrow only starts at a flagged byte, so the lowest
 * flag is exact.  Numbers end where their value ends, rarely at a word's.
 */
static const unsigned char *
jscan_digits(const unsigned char *p, const unsigned char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	uint64_t	 x, m;

	for (; end - p >= 8; p += 8) {
		memcpy(&x, p, 8);
		m = ((x + ones * 0x46) | (x - ones * 0x30)) &
		    UINT64_C(0x8080808080808080);
		if (m != 0)
			return p + __builtin_ctzll(m) / 8;
	}
#endif
	while (jscan_digit(p, end))
		p++;
	return p;
}

int
jscan_number(struct jscan *j, struct jscan_num *n)
{
	const unsigned char	*p = j->j_p, *end = j->j_end, *q;
	long			 e = 0;
	int			 eneg = 0;

	n->jn_p = (const char *)p;
	n->jn_neg = 0;
	n->jn_idig = n->jn_fdig = 0;
	n->jn_exp = 0;
	if (*p == '-') {
		n->jn_neg = 1;
		p++;
	}
	if (!jscan_digit(p, end))
		goto bad;
	if (*p == '0')
		p++;
	else
		p = jscan_digits(p, end);
	n->jn_idig = (size_t)(p - (const unsigned char *)n->jn_p) -
	    (size_t)n->jn_neg;
	n->jn_int = 1;
	if (p < end && *p == '.') {
		n->jn_int = 0;
		if (!jscan_digit(++p, end))
			goto bad;
		q = p;
		p = jscan_digits(p, end);
		n->jn_fdig = (size_t)(p - q);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		n->jn_int = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (!jscan_digit(p, end))
			goto bad;
		for (; jscan_digit(p, end); p++)
			if (e <= JSCAN_NUM_MAX_EXP)
				e = e * 10 + (*p - '0');
		if (e > JSCAN_NUM_MAX_EXP)
			e = JSCAN_NUM_MAX_EXP + 1;
		n->jn_exp = eneg ? -e : e;
	}
	n->jn_len = (size_t)(p - j->j_p);
	j->j_p = p;
	return 0;
 bad:
	return jscan_fail(j, CODEC_BAD_JSON, "malformed number at offset %zu",
	    (size_t)(n->jn_p - (const char *)j->j_base));
}

int
jscan_literal(struct jscan *j)
{
	static const char	*lits[] = { "true", "false", "null" };
	size_t			 i, n, left = (size_t)(j->j_end - j->j_p);

	for (i = 0; i < 3; i++) {
		n = strlen(lits[i]);
		if (left >= n && memcmp(j->j_p, lits[i], n) == 0) {
			j->j_p += n;
			return 0;
		}
	}
	return jscan_unexpected(j, "a value");
}

/* Decode the next unit of a checked raw string into out; returns its length. */
static size_t
jscan_next(const unsigned char **pp, unsigned char out[4])
{
	const unsigned char	*p = *pp;
	int			 cp;

	if (*p != '\\') {
		out[0] = *p;
		*pp = p + 1;
		return 1;
	}
	*pp = p + 2;
	switch (p[1]) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: out[0] = p[1]; return 1;
	}
	cp = jscan_hex4(p + 2);
	*pp = p + 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (jscan_hex4(p + 8) - 0xdc00);
		*pp = p + 12;
	}
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decoded bytes of a checked string into dst; -1 when they do not fit. */
int
jscan_unescape(const struct jscan_str *s, char *dst, size_t cap, size_t *len)
{
	const unsigned char	*p = s->js_raw, *end = p + s->js_len;
	unsigned char		 u[4];
	size_t			 n = 0, k;

	if (!s->js_esc) {
		if (s->js_len > cap)
			return -1;
		memcpy(dst, s->js_raw, s->js_len);
		*len = s->js_len;
		return 0;
	}
	while (p < end) {
		k = jscan_next(&p, u);
		if (n + k > cap)
			return -1;
		memcpy(dst + n, u, k);
		n += k;
	}
	*len = n;
	return 0;
}

static uint64_t
jscan_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
	return h ^ (h >> 32);
}

/*
 * Hash of the decoded key, eight bytes at a time (little-endian words).  An
 * unescaped key is hashed straight from the input; an escaped one is decoded
 * into the same words first, so equal keys hash equal however written.
 */
static uint32_t
jscan_hash(const struct jscan_str *s, const unsigned char *limit)
{
	const unsigned char	*p = s->js_raw, *end = p + s->js_len;
	unsigned char		 u[4];
	uint64_t		 h = 0, w = 0;
	size_t			 n = 0, total = 0, k, i;

	if (!s->js_esc) {
		for (; end - p >= 8; p += 8) {
			memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w);
#endif
			h = jscan_mix(h, w);
		}
		/*
		 * The last 0..7 bytes: one load masked to them where the
		 * payload goes on long enough (a key is followed by at
		 * least its quote and colon), else byte by byte.
		 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (limit - p >= 8) {
			memcpy(&w, p, 8);
			n = (size_t)(end - p);
			w = n == 0 ? 0 : w & (~UINT64_C(0) >> (64 - 8 * n));
			p = end;
		} else
#endif
			w = 0;
		for (; p < end; p++, n++)
			w |= (uint64_t)*p << (8 * n);
		total = s->js_len;
	} else
		while (p < end) {
			k = jscan_next(&p, u);
			for (i = 0; i < k; i++) {
				w |= (uint64_t)u[i] << (8 * n);
				if (++n == 8) {
					h = jscan_mix(h, w);
					w = 0;
					n = 0;
				}
			}
			total += k;
		}
	h = jscan_mix(jscan_mix(h, w), total);
	return (uint32_t)(h ^ (h >> 29));
}

static int
jscan_str_eq(const struct jscan_str *a, const struct jscan_str *b)
{
	const unsigned char	*p = a->js_raw, *pe = p + a->js_len;
	const unsigned char	*q = b->js_raw, *qe = q + b->js_len;
	unsigned char		 u[4], v[4];
	size_t			 ku, kv;

	if (!a->js_esc && !b->js_esc)
		return a->js_len == b->js_len &&
		    memcmp(a->js_raw, b->js_raw, a->js_len) == 0;
	while (p < pe && q < qe) {
		ku = jscan_next(&p, u);
		kv = jscan_next(&q, v);
		if (ku != kv || memcmp(u, v, ku) != 0)
			return 0;
	}
	return p == pe && q == qe;
}

static void
jscan_keystr(const struct jscan *j, const struct jscan_key *k, struct jscan_str *s)
{
	s->js_raw = j->j_base + k->jk_off;
	s->js_len = k->jk_len;
	s->js_esc = (int)k->jk_esc;
}

static int
jscan_dupfail(struct jscan *j, const struct jscan_str *s)
{
	char	 key[48], path[120];

	jscan_excerpt(s->js_raw, s->js_len, key, sizeof(key));
	jscan_path(j, j->j_depth - 1, path, sizeof(path));
	return jscan_fail(j, CODEC_DUPLICATE_KEY, "duplicate key \"%s\" in %s",
	    key, j->j_depth > 1 ? path : "the top-level object");
}

int
jscan_enter(struct jscan *j)
{
	j->j_p++;
	if (++j->j_depth > j->j_maxdepth)
		return jscan_fail(j, CODEC_TOO_DEEP,
		    "nesting deeper than %d levels at offset %zu", j->j_maxdepth,
		    jscan_off(j) - 1);
	return 0;
}

/* Parse a member name and the colon; check it against the object's keys. */
int
jscan_key(struct jscan *j, int base, uint64_t *seen, struct jscan_str *s)
{
	struct jscan_key	*k;
	struct jscan_str	 o;
	uint32_t	 h;
	int		 i;

	jscan_ws1(j);
	if (j->j_p >= j->j_end || *j->j_p != '"')
		return jscan_unexpected(j, "a string key");
	if (jscan_string(j, s) == -1)
		return -1;
	h = jscan_hash(s, j->j_end);
	/* A 64-bit filter per object skips the scan for most fresh keys. */
	if ((*seen & (UINT64_C(1) << (h & 63))) &&
	    j->j_nkeys - base < JSCAN_LINEAR_KEYS)
		for (i = base; i < j->j_nkeys; i++) {
			if (j->j_keys[i].jk_hash != h)
				continue;
			jscan_keystr(j, &j->j_keys[i], &o);
			if (jscan_str_eq(&o, s))
				return jscan_dupfail(j, s);
		}
	if (j->j_nkeys >= CODEC_MAX_KEYS)
		return jscan_fail(j, CODEC_TOO_LARGE,
		    "more than %d object keys open at offset %zu",
		    CODEC_MAX_KEYS, jscan_off(j));
	*seen |= UINT64_C(1) << (h & 63);
	k = &j->j_keys[j->j_nkeys++];
	k->jk_hash = h;
	k->jk_off = (uint32_t)(s->js_raw - j->j_base);
	k->jk_len = (uint32_t)s->js_len;
	k->jk_esc = (uint32_t)s->js_esc;
	if (j->j_depth <= JSCAN_PATH_MAX) {
		j->j_path[j->j_depth - 1].jp_off = k->jk_off;
		j->j_path[j->j_depth - 1].jp_len = k->jk_len;
		j->j_path[j->j_depth - 1].jp_index = -1;
	}
	if (j->j_p < j->j_end && *j->j_p == ':') {
		j->j_p++;
		return 0;
	}
	return jscan_expect(j, ':');
}

/* Shell sort of a big object's keys by hash, to find duplicates at its end. */
static void
jscan_sortkeys(struct jscan_key *k, int n)
{
	static const int	 gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
	struct jscan_key		 t;
	size_t			 g;
	int			 gap, i, m;

	for (g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		gap = gaps[g];
		for (i = gap; i < n; i++) {
			t = k[i];
			for (m = i; m >= gap && k[m - gap].jk_hash > t.jk_hash;
			    m -= gap)
				k[m] = k[m - gap];
			k[m] = t;
		}
	}
}

int
jscan_leave(struct jscan *j, int base)
{
	struct jscan_str	 a, b;
	int		 i, m, n = j->j_nkeys - base;

	if (n > JSCAN_LINEAR_KEYS) {
		jscan_sortkeys(j->j_keys + base, n);
		for (i = base; i < j->j_nkeys; i++)
			for (m = i + 1; m < j->j_nkeys &&
			    j->j_keys[m].jk_hash == j->j_keys[i].jk_hash; m++) {
				jscan_keystr(j, &j->j_keys[i], &a);
				jscan_keystr(j, &j->j_keys[m], &b);
				if (jscan_str_eq(&a, &b))
					return jscan_dupfail(j, &a);
			}
	}
	j->j_nkeys = base;
	j->j_depth--;
	return 0;
}

/* Does the decoded key start with "__"? */
static int
jscan_dunder(const struct jscan_str *s)
{
	const unsigned char	*p = s->js_raw, *end = p + s->js_len;
	unsigned char		 u[4];
	int			 i;

	if (!s->js_esc)
		return s->js_len >= 2 && p[0] == '_' && p[1] == '_';
	for (i = 0; i < 2; i++)
		if (p >= end || jscan_next(&p, u) != 1 || u[0] != '_')
			return 0;
	return 1;
}

static enum jscan_sentinel
jscan_sentinel_kind(const struct jscan_str *k)
{
	char	 name[16];
	size_t	 n;

	if (jscan_unescape(k, name, sizeof(name), &n) == -1)
		return JSCAN_S_UNKNOWN;
	if (n == 8 && memcmp(name, "__bigint", 8) == 0)
		return JSCAN_S_BIGINT;
	if (n == 12 && memcmp(name, "__buffer_b64", 12) == 0)
		return JSCAN_S_BUFFER;
	return JSCAN_S_UNKNOWN;
}

/* Canonical decimal integer: optional '-', 1..1000 digits, no leading zero, no "-0". */
static int
jscan_bigint_ok(const char *p, size_t n)
{
	size_t	 i = 0;

	if (n > 0 && p[0] == '-')
		i = 1;
	if (n - i < 1 || n - i > JSCAN_NUM_MAX_DIGITS)
		return 0;
	if (p[i] == '0' && (n - i > 1 || i == 1))
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The value of a sentinel: decoded in place into the output, then replaced. */
static int
jscan_sentinel(struct jscan *j, const struct jscan_str *k)
{
	enum jscan_sentinel	 kind = jscan_sentinel_kind(k);
	enum codec_reason	 why;
	struct jscan_str		 s;
	char			 key[40], path[120], val[48];
	const char		*b64why;
	size_t			 n, nb;

	jscan_ws1(j);
	if (kind == JSCAN_S_UNKNOWN) {
		jscan_excerpt(k->js_raw, k->js_len, key, sizeof(key));
		jscan_path(j, j->j_depth - 1, path, sizeof(path));
		jscan_poison(j, CODEC_UNKNOWN_SENTINEL,
		    "unknown sentinel \"%s\" at %s", key, path);
		return jscan_value(j);
	}
	why = kind == JSCAN_S_BIGINT ? CODEC_BAD_BIGINT : CODEC_BAD_BASE64;
	if (j->j_p >= j->j_end || *j->j_p != '"') {
		if (j->j_p < j->j_end) {
			jscan_path(j, j->j_depth - 1, path, sizeof(path));
			jscan_poison(j, why, "%s: %s value is %s, not a string",
			    path, kind == JSCAN_S_BIGINT ? "__bigint" :
			    "__buffer_b64", jscan_type_name(*j->j_p));
		}
		return jscan_value(j);
	}
	if (jscan_string(j, &s) == -1)
		return -1;
	if (j->j_o == NULL)
		return 0;
	/* Decoded length never exceeds the raw length the reserve covers. */
	jscan_unescape(&s, j->j_o, s.js_len, &n);
	if (kind == JSCAN_S_BIGINT) {
		if (jscan_bigint_ok(j->j_o, n)) {
			j->j_o += n;
			return 0;
		}
		jscan_excerpt(j->j_o, n, val, sizeof(val));
		jscan_path(j, j->j_depth - 1, path, sizeof(path));
		return jscan_poison(j, why, "%s: __bigint \"%s\" is not a "
		    "canonical decimal integer of 1..%d digits", path, val,
		    JSCAN_NUM_MAX_DIGITS);
	}
	if (b64_decode((unsigned char *)j->j_o, n, &nb, &b64why) == 0) {
		j->j_o += b64_bytea((unsigned char *)j->j_o, nb);
		return 0;
	}
	jscan_excerpt(j->j_o, n, val, sizeof(val));
	jscan_path(j, j->j_depth - 1, path, sizeof(path));
	return jscan_poison(j, why, "%s: __buffer_b64 \"%s\": %s", path, val,
	    b64why);
}

static int
jscan_object(struct jscan *j)
{
	struct jscan_str	 k;
	char		 key[40], path[120];
	const unsigned char *ostart = j->j_p;
	char		*orew = NULL;
	uint64_t	 seen = 0;
	int		 base = j->j_nkeys, n, sentinel = 0;

	if (j->j_o != NULL && j->j_copy != NULL)
		orew = j->j_o + (ostart - j->j_copy);
	if (jscan_enter(j) == -1)
		return -1;
	jscan_ws1(j);
	if (j->j_p < j->j_end && *j->j_p == '}') {
		j->j_p++;
		return jscan_leave(j, base);
	}
	for (n = 0;; n++) {
		if (jscan_key(j, base, &seen, &k) == -1)
			return -1;
		if (j->j_attrs && jscan_dunder(&k)) {
			if (n > 0 || j->j_depth == j->j_rootdepth) {
				jscan_excerpt(k.js_raw, k.js_len, key,
				    sizeof(key));
				jscan_path(j, j->j_depth - 1, path,
				    sizeof(path));
				jscan_poison(j, n > 0 ? CODEC_UNKNOWN_SENTINEL :
				    CODEC_WRONG_TYPE, n > 0 ? "sentinel key "
				    "\"%s\" mixed with other keys at %s" :
				    "sentinel \"%s\" in place of the %s object",
				    key, path);
			} else {
				/*
				 * Whitespace inside the object may have
				 * flushed its start: rewind the output to
				 * where the '{' went, then write the value.
				 */
				sentinel = 1;
				jscan_flush(j, j->j_p);
				if (j->j_o != NULL)
					j->j_o = orew;
				if (jscan_sentinel(j, &k) == -1)
					return -1;
				goto next;
			}
		}
		if (jscan_value(j) == -1)
			return -1;
 next:
		jscan_ws1(j);
		if (j->j_p < j->j_end && *j->j_p == ',') {
			j->j_p++;
			if (sentinel && n == 0) {
				jscan_path(j, j->j_depth - 1, path, sizeof(path));
				jscan_poison(j, CODEC_UNKNOWN_SENTINEL,
				    "sentinel mixed with other keys at %s", path);
			}
			continue;
		}
		if (j->j_p < j->j_end && *j->j_p == '}') {
			j->j_p++;
			break;
		}
		return jscan_unexpected(j, "',' or '}'");
	}
	if (sentinel)
		j->j_copy = j->j_p;
	return jscan_leave(j, base);
}

static int
jscan_array(struct jscan *j)
{
	long	 i;

	if (jscan_enter(j) == -1)
		return -1;
	jscan_ws1(j);
	if (j->j_p < j->j_end && *j->j_p == ']') {
		j->j_p++;
		j->j_depth--;
		return 0;
	}
	for (i = 0;; i++) {
		if (j->j_depth <= JSCAN_PATH_MAX)
			j->j_path[j->j_depth - 1].jp_index = i;
		if (jscan_value(j) == -1)
			return -1;
		jscan_ws1(j);
		if (j->j_p < j->j_end && *j->j_p == ',') {
			j->j_p++;
			continue;
		}
		if (j->j_p < j->j_end && *j->j_p == ']') {
			j->j_p++;
			break;
		}
		return jscan_unexpected(j, "',' or ']'");
	}
	j->j_depth--;
	return 0;
}

/* Numbers in the bag must fit PostgreSQL numeric; copied as written. */
static int
jscan_bagnum(struct jscan *j)
{
	struct jscan_num	 n;
	char		 path[120], val[48];

	if (jscan_number(j, &n) == -1)
		return -1;
	if (j->j_attrs && (n.jn_idig > JSCAN_NUM_MAX_DIGITS ||
	    n.jn_fdig > JSCAN_NUM_MAX_DIGITS || n.jn_exp > JSCAN_NUM_MAX_EXP ||
	    n.jn_exp < -JSCAN_NUM_MAX_EXP)) {
		jscan_path(j, j->j_depth, path, sizeof(path));
		jscan_excerpt(n.jn_p, n.jn_len, val, sizeof(val));
		return jscan_poison(j, CODEC_OUT_OF_RANGE,
		    "%s: number %s has more than %d digits or an exponent "
		    "beyond +-%d", path, val, JSCAN_NUM_MAX_DIGITS,
		    JSCAN_NUM_MAX_EXP);
	}
	return 0;
}

int
jscan_value(struct jscan *j)
{
	struct jscan_str		 s;

	jscan_ws1(j);
	if (j->j_p >= j->j_end)
		return jscan_unexpected(j, "a value");
	switch (*j->j_p) {
	case '{':
		return jscan_object(j);
	case '[':
		return jscan_array(j);
	case '"':
		return jscan_string(j, &s);
	case 't':
	case 'f':
	case 'n':
		return jscan_literal(j);
	default:
		if (*j->j_p == '-' || (*j->j_p >= '0' && *j->j_p <= '9'))
			return jscan_bagnum(j);
		return jscan_unexpected(j, "a value");
	}
}

/* Plain syntax check of one whole document (tests use it against jansson). */
int
jscan_validate(const void *p, size_t len, int maxdepth, struct codec_error *err)
{
	struct jscan	 j;

	jscan_init(&j, p, len, maxdepth, err);
	if (jscan_value(&j) == -1)
		return -1;
	jscan_ws1(&j);
	if (j.j_p != j.j_end)
		return jscan_unexpected(&j, "end of payload");
	return 0;
}
