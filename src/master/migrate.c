/* Schema migrations: apply sql/NNNN_*.sql in order, once, under an advisory lock. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "util/buf.h"
#include "conf/config.h"
#include "util/log.h"
#include "master/migrate.h"
#include "master/migrate_files.h"

/* pg_advisory_xact_lock key: "processr" in ASCII, fixed forever. */
#define MIGRATE_LOCK_KEY	"8101525195566691698"

static int
migrate_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* Run one statement string; on error fill err with PostgreSQL's words. */
static int
migrate_exec(PGconn *conn, const char *sql, char *err, size_t errlen,
    PGresult **out)
{
	PGresult	*res = PQexec(conn, sql);
	ExecStatusType	 st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(err, errlen, "%s", m ? m : PQerrorMessage(conn));
		PQclear(res);
		return PQstatus(conn) == CONNECTION_BAD ? MIGRATE_TRANSIENT :
		    MIGRATE_FATAL;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return MIGRATE_OK;
}

static const char migrate_table_sql[] =
	"CREATE TABLE IF NOT EXISTS processor_schema_migrations ("
	" version integer PRIMARY KEY,"
	" name text NOT NULL,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

/* Is migration f already applied?  1 yes, 0 no, or an error code. */
static int
migrate_check_applied(PGconn *conn, const struct migrate_file *f, char *err,
    size_t errlen)
{
	const char	*params[1];
	char		 version[16];
	PGresult	*res;
	int		 applied;

	snprintf(version, sizeof(version), "%d", f->mf_version);
	params[0] = version;
	res = PQexecParams(conn, "SELECT checksum FROM processor_schema_migrations "
	    "WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		PQclear(res);
		return MIGRATE_TRANSIENT;
	}
	applied = PQntuples(res) == 1;
	if (applied && strcmp(PQgetvalue(res, 0, 0), f->mf_checksum) != 0) {
		snprintf(err, errlen, "migration %s was changed after it was "
		    "applied (checksum %s in the database, %s on disk): restore "
		    "the original file and add a new migration instead",
		    f->mf_name, PQgetvalue(res, 0, 0), f->mf_checksum);
		PQclear(res);
		return MIGRATE_FATAL;
	}
	PQclear(res);
	return applied;
}

static int
migrate_apply(PGconn *conn, const struct migrate_file *f, char *err,
    size_t errlen)
{
	const char	*params[3];
	char		 version[16], sqlerr[512];
	PGresult	*res;
	int		 rc;

	if ((rc = migrate_exec(conn, f->mf_sql, sqlerr, sizeof(sqlerr), NULL)) != 0)
		return migrate_fail(err, errlen, rc, "migration %s failed: %s",
		    f->mf_name, sqlerr);
	snprintf(version, sizeof(version), "%d", f->mf_version);
	params[0] = version;
	params[1] = f->mf_name;
	params[2] = f->mf_checksum;
	res = PQexecParams(conn, "INSERT INTO processor_schema_migrations "
	    "(version, name, checksum) VALUES ($1, $2, $3)", 3, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "recording migration %s: %s", f->mf_name,
		    PQerrorMessage(conn));
		PQclear(res);
		return MIGRATE_FATAL;
	}
	PQclear(res);
	log_info("applied migration %s", f->mf_name);
	return MIGRATE_OK;
}

/* 1 when the query's first cell is 't', 0 when 'f' or no row, or an error code. */
static int
migrate_bool(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult	*res;
	int		 rc, v;

	if ((rc = migrate_exec(conn, sql, err, errlen, &res)) != 0)
		return rc;
	v = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return v;
}

/*
 * CREATE EXTENSION timescaledb without the library preloaded is a FATAL
 * error that kills the session, so look before leaping: installed already,
 * or available *and* in shared_preload_libraries.
 */
static int
migrate_timescale_usable(PGconn *conn, char *err, size_t errlen)
{
	int	rc;

	rc = migrate_bool(conn, "SELECT EXISTS (SELECT 1 FROM pg_extension "
	    "WHERE extname = 'timescaledb')", err, errlen);
	if (rc != 0)
		return rc;
	rc = migrate_bool(conn, "SELECT EXISTS (SELECT 1 FROM "
	    "pg_available_extensions WHERE name = 'timescaledb') AND "
	    "current_setting('shared_preload_libraries') ~ '(^|[ ,])timescaledb($|[ ,])'",
	    err, errlen);
	if (rc != 1)
		return rc;
	if ((rc = migrate_exec(conn, "CREATE EXTENSION IF NOT EXISTS timescaledb",
	    err, errlen, NULL)) != 0)
		return rc;
	return 1;
}

static int
migrate_hypertable(PGconn *conn, const struct config *cf, char *err,
    size_t errlen)
{
	char	sql[512];
	int	rc;

	if (cf->cf_hypertable == HYPERTABLE_OFF) {
		log_info("positions is a plain table (hypertable = off)");
		return MIGRATE_OK;
	}
	if ((rc = migrate_timescale_usable(conn, err, errlen)) < 0)
		return rc;
	if (rc == 0) {
		if (cf->cf_hypertable == HYPERTABLE_ON)
			return migrate_fail(err, errlen, MIGRATE_FATAL,
			    "hypertable = on but the timescaledb extension is not "
			    "available (install it and add it to "
			    "shared_preload_libraries)");
		log_info("positions is a plain table (timescaledb not available)");
		return MIGRATE_OK;
	}
	snprintf(sql, sizeof(sql), "SELECT create_hypertable('positions', 'ts', "
	    "chunk_time_interval => interval '%s', if_not_exists => true, "
	    "migrate_data => true)", cf->cf_chunk_interval);
	if ((rc = migrate_exec(conn, sql, err, errlen, NULL)) != 0)
		return rc;
	log_info("positions is a TimescaleDB hypertable (chunk interval %s)",
	    cf->cf_chunk_interval);
	return MIGRATE_OK;
}

static int
migrate_locked(PGconn *conn, const struct config *cf,
    const struct migrate_set *set, char *err, size_t errlen)
{
	size_t	i;
	int	rc, applied = 0;

	if ((rc = migrate_exec(conn, "SELECT pg_advisory_xact_lock("
	    MIGRATE_LOCK_KEY ")", err, errlen, NULL)) != 0)
		return rc;
	if ((rc = migrate_exec(conn, migrate_table_sql, err, errlen, NULL)) != 0)
		return rc;
	for (i = 0; i < set->ms_n; i++) {
		rc = migrate_check_applied(conn, &set->ms_files[i], err, errlen);
		if (rc < 0)
			return rc;
		if (rc == 1)
			continue;
		if ((rc = migrate_apply(conn, &set->ms_files[i], err, errlen)) != 0)
			return rc;
		applied++;
	}
	if ((rc = migrate_hypertable(conn, cf, err, errlen)) != 0)
		return rc;
	log_info("migrations applied (%d new, %zu known)", applied, set->ms_n);
	return MIGRATE_OK;
}

static void
migrate_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *
migrate_connect(const struct config *cf, char *err, size_t errlen)
{
	const char	*keys[] = { "dbname", "application_name",
	    "connect_timeout", "options", NULL };
	const char	*vals[] = { cf->cf_pg_url, "processor-migrate", "10", NULL,
	    NULL };
	char		 opts[64];
	PGconn		*conn;

	/*
	 * No statement may outlive the start-up it belongs to (a migration that
	 * long fails start-up anyway), even with statement_timeout_ms = 0.
	 */
	snprintf(opts, sizeof(opts), "-c statement_timeout=%d",
	    cf->cf_startup_timeout_ms);
	vals[3] = opts;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s",
		    conn ? (int)strcspn(PQerrorMessage(conn), "\n") : 13,
		    conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, migrate_notice, NULL);
	return conn;
}

int
migrate_has_contract(const struct config *cf, char *err, size_t errlen)
{
	PGconn		*conn;
	PGresult	*res;
	int		 rc;

	if ((conn = migrate_connect(cf, err, errlen)) == NULL)
		return MIGRATE_TRANSIENT;
	res = PQexec(conn, "SELECT to_regclass('public.stages') IS NOT NULL "
	    "AND to_regclass('public.gates') IS NOT NULL "
	    "AND to_regclass('public.entries') IS NOT NULL "
	    "AND to_regclass('public.timing_records') IS NOT NULL "
	    "AND to_regclass('public.stage_results') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "looking for the contract tables: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
		rc = MIGRATE_TRANSIENT;
	} else
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int
migrate_run(const struct config *cf, const char *dir, char *err, size_t errlen)
{
	struct migrate_set	 set;
	PGconn			*conn;
	int			 rc;

	if (migrate_files_load(dir, &set, err, errlen) == -1)
		return MIGRATE_FATAL;
	if ((conn = migrate_connect(cf, err, errlen)) == NULL) {
		migrate_files_free(&set);
		return MIGRATE_TRANSIENT;
	}
	/* One transaction: DDL is transactional, so a crash leaves nothing half done. */
	rc = migrate_exec(conn, "BEGIN", err, errlen, NULL);
	if (rc == 0)
		rc = migrate_locked(conn, cf, &set, err, errlen);
	if (rc == 0) {
		rc = migrate_exec(conn, "COMMIT", err, errlen, NULL);
	} else if (PQstatus(conn) == CONNECTION_OK) {
		char ignored[64];

		migrate_exec(conn, "ROLLBACK", ignored, sizeof(ignored), NULL);
	}
	PQfinish(conn);
	migrate_files_free(&set);
	return rc;
}
