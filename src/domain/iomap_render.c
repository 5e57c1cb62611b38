/* The decoded column: an attributes bag rewritten with a family's keys, units and multipliers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/iomap.h"

/*
 * The bag comes from the codec, so it is valid JSON: the scan below only
 * finds where keys and values end, it does not validate.  Per element it
 * costs one index lookup and a few copies; only a value that must be scaled
 * and is not an integer times a power of ten goes through a double.
 */
struct render {
	char	*r_out;
	size_t	 r_len;
	size_t	 r_cap;
	int	 r_full;
};

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

static const char *
render_ws(const char *p, const char *end)
{
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

/* Just past the value at p, or NULL. */
static const char *
render_value(const char *p, const char *end)
{
	int	depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return render_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    !render_isws(*p))
			p++;
		return p;
	}
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

/* A decimal IO id as the codec keeps it ("239"); -1 for any other key. */
static long
render_id(const char *k, size_t n)
{
	long	id = 0;
	size_t	i;

	if (n == 0 || n > 5 || (k[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		id = id * 10 + (k[i] - '0');
	}
	return id <= 65535 ? id : -1;
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

/* A mapped element: key, then the value in the entry's type, then its unit. */
static void
render_known(struct render *r, const struct iomap_entry *e, const char *v,
    size_t n)
{
	render_put(r, e->ie_pre, e->ie_prelen);
	if (!render_isnum(v, n) || e->ie_type == IOT_RAW)
		render_put(r, v, n);
	else if (e->ie_type == IOT_BOOL)
		render_bool(r, v, n);
	else
		render_number(r, e, v, n);
	render_put(r, e->ie_post, e->ie_postlen);
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
		if (p == end || *p != '"' || (ke = render_string(p, end)) == NULL)
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
		id = render_id(k + 1, (size_t)(ke - k - 2));
		e = NULL;
		if (id >= 0 && fam != NULL && (size_t)id < fam->if_nbyid &&
		    fam->if_byid[id] != 0)
			e = &fam->if_ent[fam->if_byid[id] - 1];
		if (e != NULL) {
			render_known(&r, e, v, (size_t)(ve - v));
			continue;
		}
		if (id >= 0)
			render_unknown(&r, id, unknown, nunknown, maxunknown);
		else {
			render_put(&r, k, (size_t)(ke - k));
			render_put(&r, ":", 1);
		}
		render_put(&r, v, (size_t)(ve - v));
	}
	render_put(&r, "}", 1);
	return r.r_full ? -1 : (int)r.r_len;
}
