/* Migration files on disk: discovery, ordering, checksums (no database). */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "master/migrate_files.h"

const char *
migrate_files_dir(const char *dir)
{
	const char	*env;

	if (dir != NULL)
		return dir;
	if ((env = getenv("PROCESSOR_SQL_DIR")) != NULL && *env != '\0')
		return env;
	return PKGDATADIR "/sql";
}

/*
 * FNV-1a 64 detects an edited migration; it is not meant to resist an
 * attacker who can already write to the migrations directory.
 */
void
migrate_checksum(const char *data, size_t len, char out[32])
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, 32, "fnv1a64:%016llx", (unsigned long long)h);
}

int
migrate_file_version(const char *name)
{
	size_t	n = strlen(name), i;
	int	v = 0;

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	for (i = 5; i < n - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return -1;
	return v;
}

static int
migrate_read(const char *path, char **out, size_t *outlen)
{
	FILE		*f;
	struct buf	 b;
	char		 chunk[8192];
	size_t		 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1)
			break;
	if (ferror(f) || buf_cstr(&b) == NULL) {
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	*out = b.b_data;
	*outlen = b.b_len;
	return 0;
}

static int
migrate_cmp(const void *a, const void *b)
{
	return ((const struct migrate_file *)a)->mf_version -
	    ((const struct migrate_file *)b)->mf_version;
}

static int
migrate_add(struct migrate_set *set, const char *name, int version,
    char *err, size_t errlen)
{
	struct migrate_file	*files, *f;
	char			 path[2048];
	size_t			 len;

	files = realloc(set->ms_files, (set->ms_n + 1) * sizeof(*files));
	if (files == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set->ms_files = files;
	f = &files[set->ms_n];
	memset(f, 0, sizeof(*f));
	f->mf_version = version;
	snprintf(f->mf_name, sizeof(f->mf_name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", set->ms_dir, name);
	if (migrate_read(path, &f->mf_sql, &len) == -1) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	migrate_checksum(f->mf_sql, len, f->mf_checksum);
	set->ms_n++;
	return 0;
}

static int
migrate_check_unique(const struct migrate_set *set, char *err, size_t errlen)
{
	size_t	i;

	for (i = 1; i < set->ms_n; i++) {
		if (set->ms_files[i].mf_version == set->ms_files[i - 1].mf_version) {
			snprintf(err, errlen, "two migrations share version %04d: "
			    "%s and %s", set->ms_files[i].mf_version,
			    set->ms_files[i - 1].mf_name, set->ms_files[i].mf_name);
			return -1;
		}
	}
	return 0;
}

int
migrate_files_load(const char *dir, struct migrate_set *set, char *err,
    size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	int		 v, rc = 0;

	memset(set, 0, sizeof(*set));
	snprintf(set->ms_dir, sizeof(set->ms_dir), "%s", migrate_files_dir(dir));
	if ((d = opendir(set->ms_dir)) == NULL) {
		snprintf(err, errlen, "cannot open migrations directory %s: %s",
		    set->ms_dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if ((v = migrate_file_version(de->d_name)) >= 0)
			rc = migrate_add(set, de->d_name, v, err, errlen);
	}
	closedir(d);
	if (rc == 0 && set->ms_n == 0) {
		snprintf(err, errlen, "no migrations (NNNN_name.sql) in %s",
		    set->ms_dir);
		rc = -1;
	}
	if (rc == 0) {
		qsort(set->ms_files, set->ms_n, sizeof(*set->ms_files), migrate_cmp);
		rc = migrate_check_unique(set, err, errlen);
	}
	if (rc == -1)
		migrate_files_free(set);
	return rc;
}

void
migrate_files_free(struct migrate_set *set)
{
	size_t	i;

	for (i = 0; i < set->ms_n; i++)
		free(set->ms_files[i].mf_sql);
	free(set->ms_files);
	set->ms_files = NULL;
	set->ms_n = 0;
}
