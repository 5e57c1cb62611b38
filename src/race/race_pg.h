/*
 * The evaluator's statements: one place that runs a statement built in a
 * buf and says what failed, for the per-device path, the batched rounds,
 * alerts and events.
 */
#ifndef PROCESSOR_RACE_PG_H
#define PROCESSOR_RACE_PG_H

#include <stddef.h>

#include <libpq-fe.h>

struct buf;

/*
 * err = "what: the first line of PostgreSQL's message" (res's, or the
 * connection's when res is NULL); clears res; returns -1.
 */
int		 race_pg_fail(PGresult *res, PGconn *, const char *what,
		    char *err, size_t errlen);
/*
 * Run the statement in sql (no parameters): its result, which the caller
 * clears, or NULL with err set (out of memory when the buf ran out).
 */
PGresult	*race_pg_exec(PGconn *, struct buf *sql, const char *what,
		    char *err, size_t errlen);

#endif
