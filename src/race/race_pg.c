/* Running the evaluator's statements and saying what failed. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_pg.h"

int
race_pg_fail(PGresult *res, PGconn *conn, const char *what, char *err,
    size_t errlen)
{
	const char	*m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);

	snprintf(err, errlen, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
	PQclear(res);
	return -1;
}

PGresult *
race_pg_exec(PGconn *conn, struct buf *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult	*res;

	if (buf_cstr(sql) == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return NULL;
	}
	res = PQexec(conn, buf_cstr(sql));
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		race_pg_fail(res, conn, what, err, errlen);
		return NULL;
	}
	return res;
}
