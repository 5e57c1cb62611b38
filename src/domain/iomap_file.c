/* Reads the IO dictionary file; the one place the domain touches a file, at start-up only. */
#include <stdio.h>
#include <stdlib.h>

#include "domain/iomap.h"

int
iomap_load(struct iomap *im, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 rc;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	do {
		if (len + 4096 > cap) {
			char	*nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(fp);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	rc = ferror(fp) ? -1 : 0;
	fclose(fp);
	if (rc == -1)
		snprintf(err, errlen, "%s: read error", path);
	else
		rc = iomap_parse(im, buf, len, err, errlen);
	free(buf);
	return rc;
}
