/* Parse redis:// and unix:// URLs into connection parameters. */
#ifndef PROCESSOR_REDISURL_H
#define PROCESSOR_REDISURL_H

#include <stddef.h>

struct redis_addr {
	char	ra_host[256];		/* empty for a Unix socket */
	int	ra_port;
	char	ra_path[108];		/* Unix socket path, or empty */
	char	ra_user[128];		/* ACL user (Redis 6+), or empty */
	char	ra_password[256];	/* or empty: no AUTH */
	int	ra_db;			/* SELECT db, 0 = default */
};

/*
 * Accepts redis://[[user]:password@]host[:port][/db] and unix:///path[?db=N].
 * Returns 0, or -1 with a reason in err.
 */
int	redisurl_parse(const char *url, struct redis_addr *, char *err, size_t errlen);

#endif
