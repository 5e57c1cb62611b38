/* IO dictionaries and device families, shared by the workers' decoder and processor backfill. */
#ifndef PROCESSOR_RACE_IO_H
#define PROCESSOR_RACE_IO_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/sink.h"	/* struct position, POSITION_DEVICE_MAX */

struct iomap;
struct iomap_family;

struct race_dev {
	char			 *rd_device;	/* NULL: a free slot */
	const struct iomap_family *rd_family;
};

/*
 * What decodes rows: the dictionary (the io_mappings table when it has
 * rows, else the file) and the device -> family map from entries and
 * device_models.  The workers and processor backfill load it the same way
 * and render with race_iodict_render, so both give the same decoded value
 * for the same row.
 */
struct race_iodict {
	const struct iomap	 *rx_file;	/* the file, NULL if it did not load */
	struct iomap		 *rx_table;	/* NULL: the table is absent or empty */
	const struct iomap	 *rx_map;	/* the dictionary in use; NULL: none */
	const struct iomap_family *rx_default;
	struct race_dev		 *rx_dev;	/* open addressing, rx_devcap a power of 2 */
	size_t			  rx_devcap;
	size_t			  rx_ndev;
	char			  rx_last[POSITION_DEVICE_MAX + 1];
	const struct iomap_family *rx_lastfam;
};

#define RACE_IO_MAX_UNKNOWN	16

/* The file teltonika.tsv from $PROCESSOR_IO_DIR or PKGDATADIR/io; 0 or -1 with err. */
int	race_iodict_file(struct iomap *, char *err, size_t);
/*
 * Reads io_mappings and the device map on c into d (zeroed first); file is
 * the loaded file or NULL.  0, or -1 having logged why; d->rx_map is NULL
 * when the table is empty and there is no file.
 */
int	race_iodict_load(struct race_iodict *, PGconn *c, const struct iomap *file,
	    const char *default_family);
/* Only the file (no database); the workers' dictionary until the first load. */
void	race_iodict_from_file(struct race_iodict *, const struct iomap *file,
	    const char *default_family);
void	race_iodict_free(struct race_iodict *);
/* The family of a device: its entry's model's, else the default. */
const struct iomap_family *race_iodict_family(struct race_iodict *,
	    const char *device);
/*
 * The decoded column of device's attributes bag into out: its length, 0
 * for NULL (no dictionary, not an object), -1 when cap is too small.  The
 * ids the family does not map go to unknown (at most RACE_IO_MAX_UNKNOWN).
 */
int	race_iodict_render(struct race_iodict *, const char *device,
	    const char *attrs, size_t len, char *out, size_t cap,
	    uint16_t *unknown, size_t *nunknown);

#endif
