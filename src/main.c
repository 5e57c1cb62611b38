/* processor: command line, configuration check, then the master. */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "util/exitcodes.h"
#include "util/log.h"
#include "master/master.h"
#include "worker/worker.h"
#include "race/race.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: processor [-dhnV] [-c file]\n"
	    "       processor [-c file] replay|evidence|import|check ... (processor-race(8))\n"
	    "  -c, --config FILE  configuration file (default %s if it exists)\n"
	    "  -d, --debug        log at debug level\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         this help\n", CONFIG_DEFAULT_PATH);
}

/*
 * What a new child process runs: the master's table holds the workers
 * first, then the evaluators of the racing rules.
 */
static int
main_child(const struct config *cf, int slot, int ipc_fd)
{
	if (slot < config_workers(cf))
		return worker_main(cf, slot, ipc_fd);
	return race_main(cf, slot, ipc_fd);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	 cf;
	const char	*path = NULL;
	char		 err[1024];
	int		 ch, debug = 0, check = 0;
	enum log_level	 level;

	while ((ch = getopt_long(argc, argv, "+c:dnVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
#ifdef FAULT_INJECTION
			printf("processor %s (test build: fault injection)\n",
			    PACKAGE_VERSION);
#else
			printf("processor %s\n", PACKAGE_VERSION);
#endif
			return EXIT_CLEAN;
		case 'h':
			usage(stdout);
			return EXIT_CLEAN;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	err[0] = '\0';
	if (config_load(&cf, path, err, sizeof(err)) == -1) {
		if (check || optind != argc)
			fprintf(stderr, "processor: %s\n", err);
		else
			log_emit(LOG_LVL_CRIT, NULL, "configuration error: %s",
			    err);
		config_free(&cf);
		return EXIT_CONFIG;
	}
	if (optind != argc && !check) {
		ch = race_cli_main(&cf, argc - optind, argv + optind);
		config_free(&cf);
		return ch;
	}
	if (check) {
		printf("processor: configuration OK (%s)\n", cf.cf_file ?
		    cf.cf_file : "built-in defaults and environment");
		config_free(&cf);
		return EXIT_CLEAN;
	}
	level = debug ? LOG_LVL_DEBUG : (enum log_level)cf.cf_log_level;
	return master_run(&cf, path, level, debug, main_child);
}
