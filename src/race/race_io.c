/* IO decoding in the workers: the dictionaries, the device -> family map, the sink decoder. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <libpq-fe.h>

#include "conf/config.h"
#include "core/sink.h"
#include "domain/iomap.h"
#include "util/log.h"
#include "wire/metrics.h"
#include "race/race.h"

#define RACE_IO_FILE		"teltonika.tsv"
#define RACE_IO_MAX_UNKNOWN	16

struct race_dev {
	char			 *rd_device;	/* NULL: a free slot */
	const struct iomap_family *rd_family;
};

/*
 * What decodes a worker's rows.  The dictionary is the io_mappings table
 * when it has rows, else the file; the device map comes from entries and
 * device_models.  Both are replaced together, or neither.
 */
struct race_io {
	const struct config	 *ri_cf;
	struct worker_stats	 *ri_stats;
	ev_timer		  ri_timer;
	struct iomap		  ri_file;
	int			  ri_file_ok;
	struct iomap		 *ri_table;	/* NULL: the table is absent or empty */
	const struct iomap	 *ri_map;	/* the dictionary in use */
	const struct iomap_family *ri_default;
	struct race_dev		 *ri_dev;	/* open addressing, ri_devcap a power of 2 */
	size_t			  ri_devcap;
	size_t			  ri_ndev;
	char			  ri_last[POSITION_DEVICE_MAX + 1];
	const struct iomap_family *ri_lastfam;
};

static struct race_io	ri;

static uint64_t
race_io_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
race_io_free_devs(struct race_dev *d, size_t cap)
{
	size_t	i;

	for (i = 0; i < cap; i++)
		free(d[i].rd_device);
	free(d);
}

static int
race_io_put(struct race_dev *d, size_t cap, const char *dev,
    const struct iomap_family *fam)
{
	size_t	i = race_io_hash(dev) & (cap - 1);

	while (d[i].rd_device != NULL) {
		if (strcmp(d[i].rd_device, dev) == 0)
			return 0;	/* the first row wins: see the query */
		i = (i + 1) & (cap - 1);
	}
	if ((d[i].rd_device = strdup(dev)) == NULL)
		return -1;
	d[i].rd_family = fam;
	return 1;
}

static const struct iomap_family *
race_io_family(const char *dev)
{
	size_t	i;

	if (ri.ri_lastfam != NULL && strcmp(ri.ri_last, dev) == 0)
		return ri.ri_lastfam;
	ri.ri_lastfam = ri.ri_default;
	if (ri.ri_ndev > 0) {
		i = race_io_hash(dev) & (ri.ri_devcap - 1);
		for (; ri.ri_dev[i].rd_device != NULL;
		    i = (i + 1) & (ri.ri_devcap - 1))
			if (strcmp(ri.ri_dev[i].rd_device, dev) == 0) {
				ri.ri_lastfam = ri.ri_dev[i].rd_family;
				break;
			}
	}
	snprintf(ri.ri_last, sizeof(ri.ri_last), "%s", dev);
	return ri.ri_lastfam;
}

/* The sink decoder: runs for every valid row, so no allocation, no I/O. */
static int
race_io_decode(void *arg, const struct position *p, char *out, size_t cap)
{
	uint16_t	unknown[RACE_IO_MAX_UNKNOWN];
	size_t		nunknown, i;
	int		n;

	(void)arg;
	if (ri.ri_map == NULL)
		return 0;
	n = iomap_render(race_io_family(p->p_device), p->p_attrs,
	    p->p_attrs_len, out, cap, unknown, &nunknown, RACE_IO_MAX_UNKNOWN);
	if (n == -1)
		return -1;
	if (n < 0)
		return 0;
	for (i = 0; i < nunknown; i++)
		metrics_io_unknown(ri.ri_stats, unknown[i], 1);
	return n;
}

static const char *
race_io_dir(void)
{
	const char	*env;

	if ((env = getenv("PROCESSOR_IO_DIR")) != NULL && *env != '\0')
		return env;
	return PKGDATADIR "/io";
}

/* The configured default family, else the file's first, in the dictionary in use. */
static const struct iomap_family *
race_io_default(const struct iomap *map)
{
	const struct iomap_family *f = NULL, *first;
	const char	*name = ri.ri_cf->cf_default_family;

	if ((name == NULL || *name == '\0') && ri.ri_file_ok &&
	    (first = iomap_first_family(&ri.ri_file)) != NULL)
		name = first->if_name;
	if (name != NULL && *name != '\0' && (f = iomap_family(map, name)) == NULL)
		log_warnx("IO dictionary has no family \"%s\" (default_family): "
		    "using \"%s\"", name, iomap_first_family(map) ?
		    iomap_first_family(map)->if_name : "none");
	return f != NULL ? f : iomap_first_family(map);
}

static PGresult *
race_io_exec(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("IO dictionary: query failed: %.*s",
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* io_mappings into a dictionary; *out NULL when the table is absent or empty. */
static int
race_io_table(PGconn *c, int present, struct iomap **out)
{
	struct iomap	*im;
	PGresult	*res;
	const char	*why;
	char		 err[128];
	int		 i, skipped = 0;

	*out = NULL;
	if (!present)
		return 0;
	if ((res = race_io_exec(c, "SELECT family, io_id, key, type, "
	    "multiplier, unit FROM io_mappings ORDER BY family, io_id")) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	if ((im = calloc(1, sizeof(*im))) == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < PQntuples(res); i++)
		if (iomap_add(im, PQgetvalue(res, i, 0), atol(PQgetvalue(res, i, 1)),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		    strtod(PQgetvalue(res, i, 4), NULL), PQgetvalue(res, i, 5),
		    &why) == -1 && skipped++ == 0)
			log_warnx("io_mappings row %s/%s skipped: %s",
			    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), why);
	PQclear(res);
	if (iomap_finish(im, err, sizeof(err)) == -1) {
		log_warnx("io_mappings: %s", err);
		iomap_free(im);
		free(im);
		return -1;
	}
	*out = im;
	return 0;
}

/*
 * Devices -> family: a device in several events takes its entry in the
 * running event, else in the one that starts last.  A family the dictionary
 * lacks is tried as the model's prefix in the file; else the default.
 */
static int
race_io_devices(PGconn *c, int present, const struct iomap *map,
    struct race_dev **out, size_t *outcap, size_t *outn)
{
	const struct iomap_family *f, *byprefix;
	struct race_dev	*d;
	PGresult	*res;
	size_t		 cap = 16, n = 0;
	int		 i, rows, r;

	*out = NULL;
	*outcap = *outn = 0;
	if (!present)
		return 0;
	if ((res = race_io_exec(c, "SELECT DISTINCT ON (e.device_id) "
	    "e.device_id, m.model, m.family FROM entries e "
	    "JOIN device_models m ON m.id = e.device_model_id "
	    "JOIN events v ON v.id = e.event_id "
	    "ORDER BY e.device_id, v.status = 'running' DESC, "
	    "v.starts_at DESC NULLS LAST, e.id DESC")) == NULL)
		return -1;
	rows = PQntuples(res);
	while (cap < (size_t)rows * 2)
		cap *= 2;
	if ((d = calloc(cap, sizeof(*d))) == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < rows; i++) {
		f = iomap_family(map, PQgetvalue(res, i, 2));
		if (f == NULL && ri.ri_file_ok &&
		    (byprefix = iomap_for_model(&ri.ri_file,
		    PQgetvalue(res, i, 1))) != NULL)
			f = iomap_family(map, byprefix->if_name);
		if (f == NULL)
			continue;
		if ((r = race_io_put(d, cap, PQgetvalue(res, i, 0), f)) == -1) {
			race_io_free_devs(d, cap);
			PQclear(res);
			return -1;
		}
		n += (size_t)r;
	}
	PQclear(res);
	*out = d;
	*outcap = cap;
	*outn = n;
	return 0;
}

/*
 * Reads io_mappings and the device map with a short-lived synchronous
 * connection (connect_timeout 2 s): the worker's loop stops for the few ms
 * this takes, at start and every refresh_ms.  On failure the previous
 * dictionary and map stay.
 */
void
race_io_refresh(void)
{
	const char	*keys[] = { "dbname", "application_name",
	    "connect_timeout", "options", NULL };
	const char	*vals[] = { ri.ri_cf->cf_pg_url, "processor-worker-io",
	    "2", "-c statement_timeout=5000", NULL };
	struct iomap	*table = NULL;
	struct race_dev	*devs = NULL;
	size_t		 devcap = 0, ndev = 0;
	PGresult	*res;
	PGconn		*c;
	const struct iomap *map;
	int		 ok = -1, has_map, has_dev;

	if (ri.ri_cf == NULL)
		return;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		log_warnx("IO dictionary: cannot connect to PostgreSQL: %.*s",
		    c ? (int)strcspn(PQerrorMessage(c), "\n") : 13,
		    c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return;
	}
	if ((res = race_io_exec(c, "SELECT to_regclass('io_mappings') IS NOT NULL, "
	    "to_regclass('entries') IS NOT NULL AND "
	    "to_regclass('device_models') IS NOT NULL AND "
	    "to_regclass('events') IS NOT NULL")) == NULL)
		goto done;
	has_map = *PQgetvalue(res, 0, 0) == 't';
	has_dev = *PQgetvalue(res, 0, 1) == 't';
	PQclear(res);
	if (race_io_table(c, has_map, &table) == -1)
		goto done;
	map = table != NULL ? table : ri.ri_file_ok ? &ri.ri_file : NULL;
	if (map == NULL) {
		log_warnx("IO dictionary: io_mappings is empty and the file did "
		    "not load: positions.decoded stays NULL");
		ok = 0;
		goto done;
	}
	if (race_io_devices(c, has_dev, map, &devs, &devcap, &ndev) == -1)
		goto done;
	race_io_free_devs(ri.ri_dev, ri.ri_devcap);
	if (ri.ri_table != NULL) {
		iomap_free(ri.ri_table);
		free(ri.ri_table);
	}
	ri.ri_table = table;
	ri.ri_map = map;
	ri.ri_default = race_io_default(map);
	ri.ri_dev = devs;
	ri.ri_devcap = devcap;
	ri.ri_ndev = ndev;
	ri.ri_lastfam = NULL;
	table = NULL;
	log_debug("IO dictionary: %s version %s, %zu devices mapped, default "
	    "family %s", ri.ri_table ? "io_mappings" : "file", map->im_version,
	    ndev, ri.ri_default ? ri.ri_default->if_name : "none");
	ok = 0;
 done:
	if (ok == -1)
		log_warnx("IO dictionary: refresh failed, keeping the previous one");
	if (table != NULL) {
		iomap_free(table);
		free(table);
	}
	PQfinish(c);
}

static void
race_io_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* with PostgreSQL away the connect would only wait for its timeout */
	if (ri.ri_stats->ws_flags & WS_PG_UP)
		race_io_refresh();
}

void
race_decode_io(struct ev_loop *loop, const struct config *cf,
    struct worker_stats *stats)
{
	char	path[1024], err[256];

	memset(&ri, 0, sizeof(ri));
	ri.ri_cf = cf;
	ri.ri_stats = stats;
	snprintf(path, sizeof(path), "%s/%s", race_io_dir(), RACE_IO_FILE);
	if (iomap_load(&ri.ri_file, path, err, sizeof(err)) == -1)
		log_warnx("IO dictionary file: %s", err);
	else {
		ri.ri_file_ok = 1;
		ri.ri_map = &ri.ri_file;
		ri.ri_default = race_io_default(&ri.ri_file);
	}
	sink_set_decoder(race_io_decode, NULL);
	ev_timer_init(&ri.ri_timer, race_io_timer_cb, cf->cf_refresh_ms / 1000.0,
	    cf->cf_refresh_ms / 1000.0);
	ev_timer_start(loop, &ri.ri_timer);
	ev_unref(loop);		/* the timer alone does not keep the worker up */
}
