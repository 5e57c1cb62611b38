/* processor: command line, configuration, start-up checks, then run. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/consume.h"
#include "exitcodes.h"
#include "log.h"
#include "migrate.h"
#include "worker.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: processor [-dhnV] [-c file]\n"
	    "  -c file   configuration file (default %s if it exists)\n"
	    "  -d        debug logging\n"
	    "  -n        check the configuration and exit\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n", CONFIG_DEFAULT_PATH);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Retry a start-up step that needs a server until startup_timeout: a
 * database that comes up a little after us is normal under systemd.
 */
static int
startup_step(const struct config *cf, const char *what,
    int (*step)(const struct config *, char *, size_t))
{
	double	deadline = now_s() + cf->cf_startup_timeout_ms / 1000.0;
	double	delay = 0.2;
	char	err[1024];
	int	rc;

	for (;;) {
		rc = step(cf, err, sizeof(err));
		if (rc == 0)
			return 0;
		if (rc == MIGRATE_FATAL) {
			log_emit(LOG_LVL_CRIT, NULL, "%s: %s", what, err);
			return EXIT_CONFIG;
		}
		if (now_s() + delay > deadline) {
			log_emit(LOG_LVL_CRIT, NULL, "%s: %s (gave up after %d ms)",
			    what, err, cf->cf_startup_timeout_ms);
			return EXIT_TEMPFAIL;
		}
		log_warnx("%s: %s; retrying in %.1f s", what, err, delay);
		usleep((useconds_t)(delay * 1e6));
		delay = delay * 2 > 5 ? 5 : delay * 2;
	}
}

static int
step_migrate(const struct config *cf, char *err, size_t errlen)
{
	return migrate_run(cf, NULL, err, errlen);
}

static int
step_group(const struct config *cf, char *err, size_t errlen)
{
	return consume_ensure_group_sync(cf, err, errlen);
}

int
main(int argc, char *argv[])
{
	struct config	 cf;
	const char	*path = NULL;
	char		 err[1024];
	int		 ch, check = 0, debug = 0, rc;

	while ((ch = getopt(argc, argv, "c:dhnV")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'd': debug = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("processor %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (config_load(&cf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "processor: %s\n", err);
		config_free(&cf);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("configuration OK (%s)\n", cf.cf_file ? cf.cf_file :
		    "built-in defaults and environment");
		config_free(&cf);
		return 0;
	}
	log_init(debug ? LOG_LVL_DEBUG : (enum log_level)cf.cf_log_level, "main");
	signal(SIGPIPE, SIG_IGN);
	log_info("processor %s starting (config %s)", PACKAGE_VERSION,
	    cf.cf_file ? cf.cf_file : "built-in defaults and environment");
	if ((rc = startup_step(&cf, "migrations", step_migrate)) == 0 &&
	    (rc = startup_step(&cf, "consumer group", step_group)) == 0) {
		log_procinit("worker 0");
		rc = worker_main(&cf, 0, -1);
	}
	config_free(&cf);
	return rc;
}
