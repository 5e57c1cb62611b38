/* OpenRally GPX roadbooks: parse with expat, then turn the waypoints into gate rows. */
#ifndef PROCESSOR_RACE_GPX_H
#define PROCESSOR_RACE_GPX_H

#include <stddef.h>

#include "util/buf.h"

#define GPX_NAME_MAX		64
#define GPX_WPT_MAX		4096
#define GPX_RING_MAX		64	/* ZONE_RING_MAX of the evaluator */
#define GPX_LINE_WIDTH_M	60.0	/* default start and finish line width */
#define GPX_ZONE_WIDTH_M	40.0	/* default speed zone corridor width */
#define GPX_MIN_STEP_M		1.0	/* neighbours closer than this are skipped */
#define GPX_FILE_MAX		(16 * 1024 * 1024)

/* gw_flags: the OpenRally markers of one <wpt> */
#define GW_DSS		0x01
#define GW_ASS		0x02
#define GW_DZ		0x04
#define GW_FZ		0x08
#define GW_SPEED	0x10	/* <openrally:speed> seen */

struct gpx_wpt {
	double		 gw_lat;
	double		 gw_lon;
	int		 gw_line;	/* of the <wpt> start tag */
	unsigned	 gw_flags;
	char		 gw_wp[4];	/* "wpm", "wps", "wpv", "wpc", "wpe" or "" */
	int		 gw_wp_line;
	double		 gw_open;	/* file units; 0: absent */
	double		 gw_clear;
	double		 gw_speed;	/* file units */
	char		 gw_name[GPX_NAME_MAX];	/* wp* name=, else <name> */
};

struct gpx_book {
	char		 gb_name[GPX_NAME_MAX];	/* <metadata><name> */
	int		 gb_statute;		/* openrally:units statute */
	struct gpx_wpt	*gb_wpt;
	size_t		 gb_nwpt;
};

#define GG_START	1
#define GG_FINISH	2
#define GG_WAYPOINT	3
#define GG_SPEED_ZONE	4

/* One gate row to write. */
struct gpx_gate {
	int		 gg_kind;	/* GG_* */
	int		 gg_order;	/* 1, 2, ... in file order */
	int		 gg_line;	/* where it comes from */
	char		 gg_type[4];	/* dss, ass, wp*, dz */
	char		 gg_name[GPX_NAME_MAX];
	double		 gg_lat[GPX_RING_MAX];	/* line: a, b; waypoint: centre */
	double		 gg_lon[GPX_RING_MAX];	/* zone: the ring */
	size_t		 gg_n;
	double		 gg_open;	/* m */
	double		 gg_clear;	/* m */
	double		 gg_limit;	/* km/h */
};

struct gpx_opts {
	double		 go_line_w;	/* m */
	double		 go_zone_w;	/* m */
};

/*
 * Parse a GPX document.  0, or -1 with err ("line N: reason").  The book
 * owns gb_wpt; gpx_book_free releases it.
 */
int	gpx_parse(const char *, size_t, struct gpx_book *, char *, size_t);
void	gpx_book_free(struct gpx_book *);
/*
 * The gates of a parsed book, in order: *out is allocated (free it).
 * 0, or -1 with err.
 */
int	gpx_gates(const struct gpx_book *, const struct gpx_opts *,
	    struct gpx_gate **, size_t *, char *, size_t);
const char *gpx_kind(int);
const char *gpx_direction(int);
/* The gates.geometry JSON of a gate. */
int	gpx_geometry(const struct gpx_gate *, struct buf *);

#endif
