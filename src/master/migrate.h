/* Schema migrations: apply sql/NNNN_*.sql in order, once, under an advisory lock. */
#ifndef PROCESSOR_MIGRATE_H
#define PROCESSOR_MIGRATE_H

#include <stddef.h>

struct config;

#define MIGRATE_OK		0
#define MIGRATE_TRANSIENT	-1	/* PostgreSQL unreachable: retry until startup_timeout */
#define MIGRATE_FATAL		-2	/* checksum mismatch, bad SQL, hypertable=on unavailable */

/*
 * Connect, take the migration advisory lock, apply pending migrations from
 * dir (NULL: the built-in search path), set up the hypertable per config.
 * Several processes may call this at once: one applies, the others wait and
 * find nothing to do.  On failure err says why.
 */
int	migrate_run(const struct config *, const char *dir, char *err, size_t errlen);
/*
 * Whether the racing contract tables (sql/directus/) exist: 1 or 0, or
 * MIGRATE_TRANSIENT with err.
 */
int	migrate_has_contract(const struct config *, char *err, size_t errlen);

#endif
