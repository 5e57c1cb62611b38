/* The decoded Position record: the one core type the domain layer may use. */
#ifndef PROCESSOR_POSITION_H
#define PROCESSOR_POSITION_H

#include <stdint.h>
#include <stddef.h>

#define POSITION_DEVICE_MAX	64

/* Which optional fields are present (p_has bits). */
#define POS_HAS_ALTITUDE	0x01
#define POS_HAS_ANGLE		0x02
#define POS_HAS_SATELLITES	0x04
#define POS_HAS_SPEED		0x08
#define POS_HAS_PRIORITY	0x10
#define POS_HAS_EVENT_IO	0x20

struct position {
	char		 p_device[POSITION_DEVICE_MAX + 1];
	int64_t		 p_ts_us;	/* GNSS fix time, microseconds since the Unix epoch (UTC) */
	double		 p_lat;		/* WGS-84 degrees */
	double		 p_lon;
	double		 p_altitude;	/* metres */
	double		 p_speed;	/* km/h */
	int32_t		 p_event_io;
	int16_t		 p_angle;	/* 0..360 */
	int16_t		 p_satellites;	/* 0..255 */
	int16_t		 p_priority;	/* 0..2 */
	uint16_t	 p_has;		/* POS_HAS_* */
	/*
	 * The attributes bag as JSON text with sentinels already reversed,
	 * ready for a jsonb column.  Points into a buffer owned by whoever
	 * called the codec; not NUL-terminated.
	 */
	const char	*p_attrs;
	size_t		 p_attrs_len;
};

#endif
