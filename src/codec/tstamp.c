/* RFC 3339 timestamps and epoch milliseconds -> microseconds since the epoch. */
#include "autoconf.h"

#include "codec/tstamp.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static int64_t
tstamp_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
tstamp_mdays(int y, int m)
{
	static const int	 mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* n decimal digits at *pp, which must all be there. */
static int
tstamp_num(const char **pp, const char *end, int n, int *v)
{
	const char	*p = *pp;
	int		 i;

	if (end - p < n)
		return -1;
	for (*v = 0, i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	*pp = p + n;
	return 0;
}

static int
tstamp_sep(const char **pp, const char *end, char a, char b)
{
	if (*pp >= end || (**pp != a && **pp != b))
		return -1;
	(*pp)++;
	return 0;
}

/* The zone: Z or +-hh:mm, as seconds east of UTC. */
static int
tstamp_zone(const char **pp, const char *end, int *off)
{
	const char	*p = *pp;
	int		 sign, hh, mm;

	if (p < end && (*p == 'Z' || *p == 'z')) {
		*off = 0;
		*pp = p + 1;
		return 0;
	}
	if (p >= end || (*p != '+' && *p != '-'))
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (tstamp_num(&p, end, 2, &hh) == -1 ||
	    tstamp_sep(&p, end, ':', ':') == -1 ||
	    tstamp_num(&p, end, 2, &mm) == -1 || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600 + mm * 60);
	*pp = p;
	return 0;
}

/*
 * YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+hh:mm|-hh:mm).  More than six fraction
 * digits are refused rather than cut: silently dropping them could merge two
 * distinct fixes into one (device_id, ts) key.  Second 60 is refused because
 * PostgreSQL would fold it into the next minute.
 */
int
tstamp_parse(const char *s, size_t len, int64_t *us, const char **why)
{
	const char	*p = s, *end = s + len;
	int		 y, mo, d, h, mi, sec, off, frac = 0, fd = 0;
	int64_t		 t;

	*why = "is not an RFC 3339 timestamp with a zone";
	if (tstamp_num(&p, end, 4, &y) == -1 ||
	    tstamp_sep(&p, end, '-', '-') == -1 ||
	    tstamp_num(&p, end, 2, &mo) == -1 ||
	    tstamp_sep(&p, end, '-', '-') == -1 ||
	    tstamp_num(&p, end, 2, &d) == -1 ||
	    tstamp_sep(&p, end, 'T', 't') == -1 ||
	    tstamp_num(&p, end, 2, &h) == -1 ||
	    tstamp_sep(&p, end, ':', ':') == -1 ||
	    tstamp_num(&p, end, 2, &mi) == -1 ||
	    tstamp_sep(&p, end, ':', ':') == -1 ||
	    tstamp_num(&p, end, 2, &sec) == -1)
		return -1;
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, fd++)
			if (fd < 6)
				frac = frac * 10 + (*p - '0');
		if (fd == 0)
			return -1;
		if (fd > 6) {
			*why = "has more than 6 fraction digits";
			return -1;
		}
		for (; fd < 6; fd++)
			frac *= 10;
	}
	if (tstamp_zone(&p, end, &off) == -1 || p != end)
		return -1;
	*why = "is not a valid date and time";
	if (mo < 1 || mo > 12 || d < 1 || d > tstamp_mdays(y, mo) || h > 23 ||
	    mi > 59)
		return -1;
	if (sec > 59) {
		*why = "has second 60 (leap seconds are refused)";
		return -1;
	}
	t = tstamp_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*us = t * 1000000 + frac;
	return tstamp_check(*us, why);
}

int
tstamp_check(int64_t us, const char **why)
{
	if (us < 0) {
		*why = "is before 1970-01-01T00:00:00Z";
		return -1;
	}
	if (us >= TSTAMP_END_US) {
		*why = "is in year 9999 or later";
		return -1;
	}
	return 0;
}
