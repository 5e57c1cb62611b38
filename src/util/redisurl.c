/* Parse redis:// and unix:// URLs into connection parameters. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redisurl.h"

static int
redisurl_copy(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
redisurl_number(const char *s, int lo, int hi, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int
redisurl_userinfo(const char *s, size_t n, struct redis_addr *ra)
{
	const char	*colon = memchr(s, ':', n);

	if (colon == NULL)	/* redis://password@host is a common shorthand */
		return redisurl_copy(ra->ra_password, sizeof(ra->ra_password), s, n);
	if (redisurl_copy(ra->ra_user, sizeof(ra->ra_user), s,
	    (size_t)(colon - s)) == -1)
		return -1;
	return redisurl_copy(ra->ra_password, sizeof(ra->ra_password),
	    colon + 1, n - (size_t)(colon - s) - 1);
}

static int
redisurl_tcp(const char *rest, struct redis_addr *ra, char *err, size_t errlen)
{
	const char	*at, *hostend, *slash, *colon;
	char		 port[16];

	slash = strchr(rest, '/');
	hostend = slash ? slash : rest + strlen(rest);
	at = memchr(rest, '@', (size_t)(hostend - rest));
	if (at != NULL) {
		if (redisurl_userinfo(rest, (size_t)(at - rest), ra) == -1) {
			snprintf(err, errlen, "user or password too long");
			return -1;
		}
		rest = at + 1;
	}
	colon = memchr(rest, ':', (size_t)(hostend - rest));
	if (redisurl_copy(ra->ra_host, sizeof(ra->ra_host), rest,
	    (size_t)((colon ? colon : hostend) - rest)) == -1 ||
	    ra->ra_host[0] == '\0') {
		snprintf(err, errlen, "missing or too long host name");
		return -1;
	}
	if (colon != NULL) {
		if (redisurl_copy(port, sizeof(port), colon + 1,
		    (size_t)(hostend - colon - 1)) == -1 ||
		    redisurl_number(port, 1, 65535, &ra->ra_port) == -1) {
			snprintf(err, errlen, "bad port");
			return -1;
		}
	}
	if (slash != NULL && slash[1] != '\0' &&
	    redisurl_number(slash + 1, 0, 1000000, &ra->ra_db) == -1) {
		snprintf(err, errlen, "bad database number '%s'", slash + 1);
		return -1;
	}
	return 0;
}

static int
redisurl_unix(const char *rest, struct redis_addr *ra, char *err, size_t errlen)
{
	const char	*q = strchr(rest, '?');
	size_t		 n = q ? (size_t)(q - rest) : strlen(rest);

	if (n == 0 || rest[0] != '/' ||
	    redisurl_copy(ra->ra_path, sizeof(ra->ra_path), rest, n) == -1) {
		snprintf(err, errlen, "unix socket path must be absolute and short");
		return -1;
	}
	if (q != NULL && (strncmp(q, "?db=", 4) != 0 ||
	    redisurl_number(q + 4, 0, 1000000, &ra->ra_db) == -1)) {
		snprintf(err, errlen, "bad query '%s' (only ?db=N)", q);
		return -1;
	}
	return 0;
}

int
redisurl_parse(const char *url, struct redis_addr *ra, char *err, size_t errlen)
{
	memset(ra, 0, sizeof(*ra));
	ra->ra_port = 6379;
	if (strncmp(url, "redis://", 8) == 0)
		return redisurl_tcp(url + 8, ra, err, errlen);
	if (strncmp(url, "unix://", 7) == 0)
		return redisurl_unix(url + 7, ra, err, errlen);
	snprintf(err, errlen, "'%s' is not a redis:// or unix:// URL", url);
	return -1;
}
