/* The calling process's own resource use from /proc: memory, CPU, descriptors, start time. */
#include "autoconf.h"

#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/procstat.h"

int
procstat_parse(const char *stat, long ticks, long pagesize, double btime,
    struct procstat *ps)
{
	unsigned long long	 utime, stime, start;
	long long		 rss;
	const char		*p;

	/* the command name may hold spaces and parentheses: skip to the last ')' */
	if ((p = strrchr(stat, ')')) == NULL || ticks <= 0)
		return -1;
	/* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime vsize rss */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %*u %lld", &utime, &stime,
	    &start, &rss) != 4)
		return -1;
	ps->ps_cpu_seconds = (double)(utime + stime) / (double)ticks;
	ps->ps_start_time = btime + (double)start / (double)ticks;
	ps->ps_rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)pagesize : 0;
	return 0;
}

/* "btime" of /proc/stat: boot time in Unix seconds; it does not change. */
static double
procstat_btime(void)
{
	static double	 btime;
	FILE		*f;
	char		 line[256];
	long long	 v;

	if (btime > 0 || (f = fopen("/proc/stat", "re")) == NULL)
		return btime;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &v) == 1) {
			btime = (double)v;
			break;
		}
	fclose(f);
	return btime;
}

static int
procstat_fds(uint64_t *n)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 c = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			c++;
	closedir(d);
	*n = c > 0 ? c - 1 : 0;		/* not the one opendir used */
	return 0;
}

int
procstat_self(struct procstat *ps)
{
	FILE	*f;
	char	 buf[1024];
	size_t	 n;

	memset(ps, 0, sizeof(*ps));
	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (procstat_parse(buf, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
	    procstat_btime(), ps) == -1)
		return -1;
	return procstat_fds(&ps->ps_open_fds);
}
