/* A GNSS fix as the racing rules see it, and deterministic ordering of a device's fixes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/position.h"
#include "domain/fix.h"

/* hdop <= 0 means the record carried none (IO 182 absent). */
void
fix_from_position(struct fix *f, const struct position *p, double hdop)
{
	memset(f, 0, sizeof(*f));
	f->f_ts_us = p->p_ts_us;
	f->f_lat = p->p_lat;
	f->f_lon = p->p_lon;
	f->f_sats = (p->p_has & POS_HAS_SATELLITES) ? p->p_satellites : -1;
	if (p->p_has & POS_HAS_SPEED) {
		f->f_speed = p->p_speed;
		f->f_flags |= FIX_HAS_SPEED;
	}
	if (p->p_has & POS_HAS_ANGLE) {
		f->f_heading = p->p_angle;
		f->f_flags |= FIX_HAS_HEADING;
	}
	if (hdop > 0.0) {
		f->f_hdop = hdop;
		f->f_flags |= FIX_HAS_HDOP;
	}
}

/*
 * Teltonika repeats the last coordinates with satellites 0 when it has no
 * fix; a record without a satellite count is trusted (other protocols).
 */
int
fix_valid(const struct fix *f)
{
	return f->f_sats != 0 && isfinite(f->f_lat) && isfinite(f->f_lon) &&
	    fabs(f->f_lat) <= 90.0 && fabs(f->f_lon) <= 180.0;
}

static int
fix_cmp_double(double a, double b)
{
	return (a > b) - (a < b);
}

/*
 * A total order on content, so that whichever of two records with the same
 * timestamp arrived first, the same one survives: valid before invalid, more
 * satellites first, then the raw fields.
 */
static int
fix_cmp(const void *va, const void *vb)
{
	const struct fix	*a = va, *b = vb;
	int			 c;

	if (a->f_ts_us != b->f_ts_us)
		return a->f_ts_us < b->f_ts_us ? -1 : 1;
	if ((c = fix_valid(b) - fix_valid(a)) != 0)
		return c;
	if (a->f_sats != b->f_sats)
		return a->f_sats > b->f_sats ? -1 : 1;
	if ((c = fix_cmp_double(a->f_lat, b->f_lat)) != 0 ||
	    (c = fix_cmp_double(a->f_lon, b->f_lon)) != 0 ||
	    (c = fix_cmp_double(a->f_speed, b->f_speed)) != 0 ||
	    (c = fix_cmp_double(a->f_heading, b->f_heading)) != 0 ||
	    (c = fix_cmp_double(a->f_hdop, b->f_hdop)) != 0)
		return c;
	return (a->f_flags > b->f_flags) - (a->f_flags < b->f_flags);
}

/* Sorts by time and keeps one fix per timestamp; returns the new count. */
size_t
fix_normalize(struct fix *f, size_t n)
{
	size_t	i, out;

	if (n == 0)
		return 0;
	qsort(f, n, sizeof(*f), fix_cmp);
	for (i = 1, out = 1; i < n; i++)
		if (f[i].f_ts_us != f[out - 1].f_ts_us)
			f[out++] = f[i];
	return out;
}
