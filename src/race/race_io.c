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
#include "race/race_io.h"

#define RACE_IO_FILE		"teltonika.tsv"

/* The worker's decoder state: the file, loaded once, and the dictionary in use. */
struct race_io {
	const struct config	 *ri_cf;
	struct worker_stats	 *ri_stats;
	ev_timer		  ri_timer;
	struct iomap		  ri_file;
	int			  ri_file_ok;
	struct race_iodict	  ri_dict;
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

const struct iomap_family *
race_iodict_family(struct race_iodict *d, const char *dev)
{
	size_t	i;

	if (d->rx_lastfam != NULL && strcmp(d->rx_last, dev) == 0)
		return d->rx_lastfam;
	d->rx_lastfam = d->rx_default;
	if (d->rx_ndev > 0) {
		i = race_io_hash(dev) & (d->rx_devcap - 1);
		for (; d->rx_dev[i].rd_device != NULL;
		    i = (i + 1) & (d->rx_devcap - 1))
			if (strcmp(d->rx_dev[i].rd_device, dev) == 0) {
				d->rx_lastfam = d->rx_dev[i].rd_family;
				break;
			}
	}
	snprintf(d->rx_last, sizeof(d->rx_last), "%s", dev);
	return d->rx_lastfam;
}

int
race_iodict_render(struct race_iodict *d, const char *dev, const char *attrs,
    size_t len, char *out, size_t cap, uint16_t *unknown, size_t *nunknown)
{
	int	n;

	*nunknown = 0;
	if (d->rx_map == NULL)
		return 0;
	n = iomap_render(race_iodict_family(d, dev), attrs, len, out, cap,
	    unknown, nunknown, RACE_IO_MAX_UNKNOWN);
	if (n == -1)
		return -1;
	return n < 0 ? 0 : n;
}

/* The sink decoder: runs for every valid row, so no allocation, no I/O. */
static int
race_io_decode(void *arg, const struct position *p, char *out, size_t cap)
{
	uint16_t	unknown[RACE_IO_MAX_UNKNOWN];
	size_t		nunknown, i;
	int		n;

	(void)arg;
	n = race_iodict_render(&ri.ri_dict, p->p_device, p->p_attrs,
	    p->p_attrs_len, out, cap, unknown, &nunknown);
	for (i = 0; n > 0 && i < nunknown; i++)
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

int
race_iodict_file(struct iomap *im, char *err, size_t errlen)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", race_io_dir(), RACE_IO_FILE);
	return iomap_load(im, path, err, errlen);
}

/* The configured default family, else the file's first, in the dictionary map. */
static const struct iomap_family *
race_io_default(const struct iomap *map, const struct iomap *file,
    const char *name)
{
	const struct iomap_family *f = NULL, *first;

	if ((name == NULL || *name == '\0') && file != NULL &&
	    (first = iomap_first_family(file)) != NULL)
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
    const struct iomap *file, struct race_dev **out, size_t *outcap,
    size_t *outn)
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
		if (f == NULL && file != NULL &&
		    (byprefix = iomap_for_model(file,
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

void
race_iodict_from_file(struct race_iodict *d, const struct iomap *file,
    const char *default_family)
{
	memset(d, 0, sizeof(*d));
	d->rx_file = file;
	d->rx_map = file;
	if (file != NULL)
		d->rx_default = race_io_default(file, file, default_family);
}

void
race_iodict_free(struct race_iodict *d)
{
	race_io_free_devs(d->rx_dev, d->rx_devcap);
	if (d->rx_table != NULL) {
		iomap_free(d->rx_table);
		free(d->rx_table);
	}
	memset(d, 0, sizeof(*d));
}

int
race_iodict_load(struct race_iodict *d, PGconn *c, const struct iomap *file,
    const char *default_family)
{
	PGresult	*res;
	int		 has_map, has_dev;

	memset(d, 0, sizeof(*d));
	d->rx_file = file;
	if ((res = race_io_exec(c, "SELECT to_regclass('io_mappings') IS NOT NULL, "
	    "to_regclass('entries') IS NOT NULL AND "
	    "to_regclass('device_models') IS NOT NULL AND "
	    "to_regclass('events') IS NOT NULL")) == NULL)
		return -1;
	has_map = *PQgetvalue(res, 0, 0) == 't';
	has_dev = *PQgetvalue(res, 0, 1) == 't';
	PQclear(res);
	if (race_io_table(c, has_map, &d->rx_table) == -1)
		return -1;
	d->rx_map = d->rx_table != NULL ? d->rx_table : file;
	if (d->rx_map == NULL)
		return 0;
	if (race_io_devices(c, has_dev, d->rx_map, file, &d->rx_dev,
	    &d->rx_devcap, &d->rx_ndev) == -1) {
		race_iodict_free(d);
		return -1;
	}
	d->rx_default = race_io_default(d->rx_map, file, default_family);
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
	struct race_iodict d;
	PGconn		*c;

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
	if (race_iodict_load(&d, c, ri.ri_file_ok ? &ri.ri_file : NULL,
	    ri.ri_cf->cf_default_family) == -1)
		log_warnx("IO dictionary: refresh failed, keeping the previous one");
	else if (d.rx_map == NULL)
		log_warnx("IO dictionary: io_mappings is empty and the file did "
		    "not load: positions.decoded stays NULL");
	else {
		race_iodict_free(&ri.ri_dict);
		ri.ri_dict = d;
		log_debug("IO dictionary: %s version %s, %zu devices mapped, "
		    "default family %s", d.rx_table ? "io_mappings" : "file",
		    d.rx_map->im_version, d.rx_ndev, d.rx_default ?
		    d.rx_default->if_name : "none");
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
	char	err[256];

	memset(&ri, 0, sizeof(ri));
	ri.ri_cf = cf;
	ri.ri_stats = stats;
	if (race_iodict_file(&ri.ri_file, err, sizeof(err)) == -1)
		log_warnx("IO dictionary file: %s", err);
	else
		ri.ri_file_ok = 1;
	race_iodict_from_file(&ri.ri_dict, ri.ri_file_ok ? &ri.ri_file : NULL,
	    cf->cf_default_family);
	sink_set_decoder(race_io_decode, NULL);
	ev_timer_init(&ri.ri_timer, race_io_timer_cb, cf->cf_refresh_ms / 1000.0,
	    cf->cf_refresh_ms / 1000.0);
	ev_timer_start(loop, &ri.ri_timer);
	ev_unref(loop);		/* the timer alone does not keep the worker up */
}
