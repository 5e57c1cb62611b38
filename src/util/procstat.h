/* The calling process's own resource use from /proc: memory, CPU, descriptors, start time. */
#ifndef PROCESSOR_PROCSTAT_H
#define PROCESSOR_PROCSTAT_H

#include <stdint.h>

struct procstat {
	uint64_t	 ps_rss_bytes;		/* resident set */
	uint64_t	 ps_open_fds;
	double		 ps_cpu_seconds;	/* user + system */
	double		 ps_start_time;		/* Unix time, seconds */
};

/* Fill ps for the calling process; 0, or -1 when /proc cannot be read. */
int	procstat_self(struct procstat *);
/* Parse a /proc/PID/stat line and the boot time (Unix s) into ps; 0 or -1. */
int	procstat_parse(const char *stat, long ticks, long pagesize,
	    double btime, struct procstat *);

#endif
