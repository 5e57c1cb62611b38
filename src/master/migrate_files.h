/* Migration files on disk: discovery, ordering, checksums (no database). */
#ifndef PROCESSOR_MIGRATE_FILES_H
#define PROCESSOR_MIGRATE_FILES_H

#include <stddef.h>
#include <stdint.h>

struct migrate_file {
	int	 mf_version;		/* NNNN of NNNN_name.sql */
	char	 mf_name[256];		/* file name */
	char	 mf_checksum[32];	/* "fnv1a64:" + 16 hex digits + NUL */
	char	*mf_sql;
};

struct migrate_set {
	char			 ms_dir[1024];
	struct migrate_file	*ms_files;	/* ascending version */
	size_t			 ms_n;
};

/*
 * Where migrations live: dir if given, else $PROCESSOR_SQL_DIR (a source
 * tree's sql/ in tests and the quick start), else the installed
 * PKGDATADIR/sql.  No build-machine path is compiled in.
 */
const char	*migrate_files_dir(const char *dir);
/* Load every NNNN_name.sql of the directory.  -1 with err on failure. */
int		 migrate_files_load(const char *dir, struct migrate_set *,
		    char *err, size_t errlen);
void		 migrate_files_free(struct migrate_set *);
/* Checksum of a migration's text, as stored in processor_schema_migrations. */
void		 migrate_checksum(const char *data, size_t len, char out[32]);
/* NNNN_name.sql -> NNNN, or -1 when the name is not a migration. */
int		 migrate_file_version(const char *name);

#endif
