/* The decoded column: an attributes bag rewritten with a family's keys, units and multipliers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/iomap.h"

/*
 * The bag comes from the codec, so it is valid JSON: the scan below only
 * finds where keys and values end, it does not validate.  Per element it
 * costs one index lookup and a few copies; only a value that must be scaled
 * and is not an integer times a power of ten goes through a double.
 *
 * It runs for every stored row (the worker's sink decoder), so the common
 * pieces avoid per-byte loops and library calls: a value's end is found
 * eight bytes at a time, a decimal key is read as it is scanned, and short
 * copies move whole 16-byte chunks where both buffers have the room.
 */
struct render {
	char	*r_out;
	size_t	 r_len;
	size_t	 r_cap;
	int	 r_full;
};

#define RENDER_CHUNK	16

static void
render_put(struct render *r, const char *s, size_t n)
{
	if (r->r_len + n > r->r_cap) {
		r->r_full = 1;
		return;
	}
	memcpy(r->r_out + r->r_len, s, n);
	r->r_len += n;
}

/*
 * render_put for n <= RENDER_CHUNK bytes at s, where RENDER_CHUNK bytes may
 * be read from s (avail says how many can): a fixed-size copy, which the
 * compiler turns into two moves, instead of a call that branches on n.  The
 * bytes past n land in out's slack and are overwritten or never counted.
 */
static void
render_short(struct render *r, const char *s, size_t n, size_t avail)
{
	if (n <= RENDER_CHUNK && avail >= RENDER_CHUNK &&
	    r->r_cap - r->r_len >= RENDER_CHUNK) {
		memcpy(r->r_out + r->r_len, s, RENDER_CHUNK);
		r->r_len += n;
		return;
	}
	render_put(r, s, n);
}

/*
 * A dictionary text (ie_pre, ie_post, at least 2 chunks long): its whole
 * array may be read, and most texts fit two chunks.
 */
static void
render_text(struct render *r, const char *s, size_t n, size_t size)
{
	if (n <= 2 * RENDER_CHUNK && size >= 2 * RENDER_CHUNK &&
	    r->r_cap - r->r_len >= 2 * RENDER_CHUNK) {
		memcpy(r->r_out + r->r_len, s, 2 * RENDER_CHUNK);
		r->r_len += n;
		return;
	}
	render_put(r, s, n);
}

static void
render_zeros(struct render *r, size_t n)
{
	if (r->r_len + n > r->r_cap) {
		r->r_full = 1;
		return;
	}
	memset(r->r_out + r->r_len, '0', n);
	r->r_len += n;
}

static int
render_isws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The codec's bags have no white space: test once before looping. */
static const char *
render_ws(const char *p, const char *end)
{
	if (p < end && (unsigned char)*p > ' ')
		return p;
	while (p < end && render_isws(*p))
		p++;
	return p;
}

/* p on an opening quote: just past the closing one, or NULL. */
static const char *
render_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *
render_scalar_bytes(const char *p, const char *end)
{
	while (p < end && *p != ',' && *p != '}' && *p != ']' &&
	    !render_isws(*p))
		p++;
	return p;
}

/*
 * The end of a number or literal: the first ',', '}', ']' or white space.
 * Eight bytes at a time (the classic "has a zero byte" test on the word
 * xor each delimiter, and "has a byte below 0x21"): the lowest flagged byte
 * is always a true match, so counting its trailing zero bits finds it.
 */
static const char *
render_scalar(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	const uint64_t	 high = UINT64_C(0x8080808080808080);
	uint64_t	 x, c, b, k, m;

	for (; end - p >= 8; p += 8) {
		memcpy(&x, p, 8);
		c = x ^ (ones * ',');
		b = x ^ (ones * '}');
		k = x ^ (ones * ']');
		m = (((c - ones) & ~c) | ((b - ones) & ~b) | ((k - ones) & ~k) |
		    ((x - ones * 0x21) & ~x)) & high;
		if (m != 0)
			return p + __builtin_ctzll(m) / 8;
	}
#endif
	return render_scalar_bytes(p, end);
}

/*
 * The value of the nd (1..8) decimal digits in the low bytes of the
 * little-endian word x: the digits are moved to the top, so the word reads
 * as eight digits with leading zeros, and combined in three multiplications
 * (the eight-digit parse of fast_float and simdjson).
 */
static uint32_t
render_digits8(uint64_t x, int nd)
{
	const uint64_t	 mask = UINT64_C(0x000000FF000000FF);
	const uint64_t	 mul1 = 100 + (UINT64_C(1000000) << 32);
	const uint64_t	 mul2 = 1 + (UINT64_C(10000) << 32);
	uint64_t	 d;

	d = (x - UINT64_C(0x3030303030303030)) << (8 * (8 - nd));
	d = d * 10 + (d >> 8);
	d = ((d & mask) * mul1 + ((d >> 16) & mask) * mul2) >> 32;
	return (uint32_t)d;
}

/* A key's leading digits and their value, a word at a time; -1: use bytes. */
static int
render_keyword(const char *p, const char *end, long *v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	uint64_t	 x, m;
	int		 nd;

	if (end - p < 8)
		return -1;
	memcpy(&x, p, 8);
	/* not '0'..'9': byte + 0x46 or byte - 0x30 has its high bit set */
	m = ((x + ones * 0x46) | (x - ones * 0x30)) & (ones * 0x80);
	nd = m != 0 ? __builtin_ctzll(m) / 8 : 8;
	*v = nd > 0 && nd <= 5 ? (long)render_digits8(x, nd) : 0;
	return nd;
#else
	(void)p;
	(void)end;
	(void)v;
	return -1;
#endif
}

/*
 * k on a key's opening quote: just past the closing one (NULL when there is
 * none), with *id the decimal IO id the codec keeps ("239") or -1 for any
 * other key.  Digits are read as they are scanned; a key that turns out not
 * to be an id is scanned again as a string.
 */
static const char *
render_key(const char *k, const char *end, long *id)
{
	const char	*p = k + 1;
	long		 v = 0;
	int		 nd;

	if ((nd = render_keyword(p, end, &v)) >= 0)
		p += nd > 5 ? 5 : nd;
	else
		while (p < end && p - k <= 5 && (unsigned char)(*p - '0') < 10)
			v = v * 10 + (*p++ - '0');
	if (p < end && *p == '"' && p > k + 1 && !(k[1] == '0' && p > k + 2)) {
		*id = v <= 65535 ? v : -1;
		return p + 1;
	}
	*id = -1;
	return render_string(k, end);
}

/* Just past the value at p, or NULL. */
static const char *
render_value(const char *p, const char *end)
{
	int	depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return render_string(p, end);
	if (*p != '{' && *p != '[')
		return render_scalar(p, end);
	for (; p < end; p++) {
		if (*p == '"') {
			if ((p = render_string(p, end)) == NULL)
				return NULL;
			p--;
		} else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/* 1 for an integer's text: an optional minus and digits only. */
static int
render_isint(const char *v, size_t n)
{
	size_t	i = 0;

	if (n > 0 && v[0] == '-')
		i++;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

static int
render_isnum(const char *v, size_t n)
{
	return n > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'));
}

/*
 * An integer times 10^k written exactly, whatever its size: the digits
 * shifted, trailing zeros of the fraction dropped (12743 x 10^-3 = 12.743).
 */
static void
render_shift(struct render *r, const char *v, size_t n, int k)
{
	size_t	fz = 0, kk;

	if (*v == '-') {
		render_put(r, "-", 1);
		v++;
		n--;
	}
	if (k >= 0) {
		render_put(r, v, n);
		if (!(n == 1 && *v == '0'))
			render_zeros(r, (size_t)k);
		return;
	}
	kk = (size_t)-k;
	while (fz < n && fz < kk && v[n - 1 - fz] == '0')
		fz++;
	if (n > kk) {
		render_put(r, v, n - kk);
		if (kk > fz) {
			render_put(r, ".", 1);
			render_put(r, v + n - kk, kk - fz);
		}
	} else if (fz == n)
		render_put(r, "0", 1);
	else {
		render_put(r, "0.", 2);
		render_zeros(r, kk - n);
		render_put(r, v, n - fz);
	}
}

static void
render_number(struct render *r, const struct iomap_entry *e, const char *v,
    size_t n)
{
	char	tmp[32];
	double	d;
	int	len;

	if (e->ie_scale == 0) {
		render_put(r, v, n);
		return;
	}
	if (e->ie_scale != IOMAP_SCALE_NONE && render_isint(v, n)) {
		render_shift(r, v, n, e->ie_scale);
		return;
	}
	/* the value ends at a delimiter of the bag, so strtod stops there */
	d = strtod(v, NULL) * e->ie_mult;
	len = snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (!isfinite(d) || len <= 0 || (size_t)len >= sizeof(tmp))
		render_put(r, v, n);
	else
		render_put(r, tmp, (size_t)len);
}

static void
render_bool(struct render *r, const char *v, size_t n)
{
	size_t	i;
	int	set = 0;

	if (render_isint(v, n)) {
		for (i = 0; i < n; i++)
			set |= v[i] >= '1' && v[i] <= '9';
	} else
		set = strtod(v, NULL) != 0;
	if (set)
		render_put(r, "true", 4);
	else
		render_put(r, "false", 5);
}

/*
 * A mapped element: key, then the value in the entry's type, then its unit.
 * avail: how many bytes of the bag may be read from v.
 */
static void
render_known(struct render *r, const struct iomap_entry *e, const char *v,
    size_t n, size_t avail)
{
	render_text(r, e->ie_pre, e->ie_prelen, sizeof(e->ie_pre));
	if (!render_isnum(v, n) || e->ie_type == IOT_RAW)
		render_short(r, v, n, avail);
	else if (e->ie_type == IOT_BOOL)
		render_bool(r, v, n);
	else if (e->ie_scale == 0)
		render_short(r, v, n, avail);
	else
		render_number(r, e, v, n);
	if (e->ie_postlen > 0)
		render_text(r, e->ie_post, e->ie_postlen, sizeof(e->ie_post));
}

static void
render_unknown(struct render *r, long id, uint16_t *unknown, size_t *nunknown,
    size_t maxunknown)
{
	char	key[16];
	size_t	i;
	int	len;

	len = snprintf(key, sizeof(key), "\"io%ld\":", id);
	render_put(r, key, (size_t)len);
	for (i = 0; i < *nunknown; i++)
		if (unknown[i] == id)
			return;
	if (*nunknown < maxunknown)
		unknown[(*nunknown)++] = (uint16_t)id;
}

int
iomap_render(const struct iomap_family *fam, const char *attrs, size_t len,
    char *out, size_t cap, uint16_t *unknown, size_t *nunknown,
    size_t maxunknown)
{
	const struct iomap_entry *e;
	struct render	 r = { out, 0, cap, 0 };
	const char	*p = attrs, *end = attrs + len, *k, *ke, *v, *ve;
	long		 id;
	int		 first = 1;

	*nunknown = 0;
	p = render_ws(p, end);
	if (p == end || *p != '{')
		return -2;
	render_put(&r, "{", 1);
	for (p++;;) {
		p = render_ws(p, end);
		if (p == end)
			return -2;
		if (*p == '}')
			break;
		if (*p == ',' && !first)
			p = render_ws(p + 1, end);
		if (p == end || *p != '"' || (ke = render_key(p, end, &id)) == NULL)
			return -2;
		k = p;
		p = render_ws(ke, end);
		if (p == end || *p != ':')
			return -2;
		v = render_ws(p + 1, end);
		if ((ve = render_value(v, end)) == NULL)
			return -2;
		p = ve;
		if (!first)
			render_put(&r, ",", 1);
		first = 0;
		e = NULL;
		if (id >= 0 && fam != NULL && (size_t)id < fam->if_nbyid &&
		    fam->if_byid[id] != 0)
			e = &fam->if_ent[fam->if_byid[id] - 1];
		if (e != NULL) {
			render_known(&r, e, v, (size_t)(ve - v), (size_t)(end - v));
			continue;
		}
		if (id >= 0)
			render_unknown(&r, id, unknown, nunknown, maxunknown);
		else {
			render_put(&r, k, (size_t)(ke - k));
			render_put(&r, ":", 1);
		}
		render_short(&r, v, (size_t)(ve - v), (size_t)(end - v));
	}
	render_put(&r, "}", 1);
	return r.r_full ? -1 : (int)r.r_len;
}
