/* A GNSS fix as the racing rules see it, and deterministic ordering of a device's fixes. */
#ifndef PROCESSOR_DOMAIN_FIX_H
#define PROCESSOR_DOMAIN_FIX_H

#include <stddef.h>
#include <stdint.h>

struct position;

#define FIX_HAS_SPEED	0x01
#define FIX_HAS_HEADING	0x02
#define FIX_HAS_HDOP	0x04

struct fix {
	int64_t		f_ts_us;	/* GNSS epoch, microseconds since the Unix epoch */
	double		f_lat;
	double		f_lon;
	double		f_speed;	/* km/h, as the device reports it */
	double		f_heading;	/* degrees clockwise from north */
	double		f_hdop;
	int		f_sats;		/* 0: no fix, coordinates repeated */
	unsigned	f_flags;	/* FIX_HAS_* */
};

void	fix_from_position(struct fix *, const struct position *, double);
int	fix_valid(const struct fix *);
size_t	fix_normalize(struct fix *, size_t);

#endif
