/* The fixes an evaluator last read per (device, stage), so a round reads only the new ones. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "race/race_fixcache.h"

void
race_fc_init(struct race_fc *fc)
{
	memset(fc, 0, sizeof(*fc));
}

void
race_fc_clear(struct race_fc *fc)
{
	size_t	i;

	for (i = 0; i < fc->fc_cap; i++) {
		free(fc->fc_tab[i].fe_device);
		free(fc->fc_tab[i].fe_fix);
	}
	free(fc->fc_tab);
	race_fc_init(fc);
}

double
race_fc_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
race_fc_hash(const char *device, int64_t stage)
{
	uint64_t	h = 14695981039346656037ULL ^ (uint64_t)stage;

	for (; *device; device++)
		h = (h ^ (unsigned char)*device) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of (device, stage), or the free slot where it would go. */
static struct race_fc_entry *
race_fc_slot(struct race_fc_entry *tab, size_t cap, const char *device,
    int64_t stage)
{
	size_t	i = race_fc_hash(device, stage) & (cap - 1);

	while (tab[i].fe_device != NULL && (tab[i].fe_stage != stage ||
	    strcmp(tab[i].fe_device, device) != 0))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

struct race_fc_entry *
race_fc_find(struct race_fc *fc, const char *device, int64_t stage)
{
	struct race_fc_entry	*e;

	if (fc->fc_cap == 0)
		return NULL;
	e = race_fc_slot(fc->fc_tab, fc->fc_cap, device, stage);
	return e->fe_device != NULL ? e : NULL;
}

/* Double the table (kept at most half full). */
static int
race_fc_grow(struct race_fc *fc)
{
	struct race_fc_entry	*tab, *e;
	size_t			 cap = fc->fc_cap ? fc->fc_cap * 2 : 1024, i;

	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return -1;
	for (i = 0; i < fc->fc_cap; i++)
		if (fc->fc_tab[i].fe_device != NULL) {
			e = race_fc_slot(tab, cap, fc->fc_tab[i].fe_device,
			    fc->fc_tab[i].fe_stage);
			*e = fc->fc_tab[i];
		}
	free(fc->fc_tab);
	fc->fc_tab = tab;
	fc->fc_cap = cap;
	return 0;
}

struct race_fc_entry *
race_fc_get(struct race_fc *fc, const char *device, int64_t stage)
{
	struct race_fc_entry	*e;

	if ((e = race_fc_find(fc, device, stage)) != NULL)
		return e;
	if ((fc->fc_n + 1) * 2 > fc->fc_cap && race_fc_grow(fc) == -1)
		return NULL;
	e = race_fc_slot(fc->fc_tab, fc->fc_cap, device, stage);
	memset(e, 0, sizeof(*e));
	if ((e->fe_device = strdup(device)) == NULL)
		return NULL;
	e->fe_stage = stage;
	fc->fc_n++;
	return e;
}

void
race_fc_reset(struct race_fc *fc, struct race_fc_entry *e)
{
	fc->fc_fixes -= e->fe_n;
	e->fe_n = 0;
}

int
race_fc_merge(struct race_fc *fc, struct race_fc_entry *e,
    const struct fix *f, size_t n)
{
	struct fix	*out;
	size_t		 i = 0, j = 0, k = 0, cap;

	if (n == 0)
		return 0;
	/* the common case: all newer than what is held */
	if (e->fe_n == 0 || f[0].f_ts_us > e->fe_fix[e->fe_n - 1].f_ts_us) {
		if (e->fe_n + n > e->fe_cap) {
			cap = (e->fe_n + n) * 2;
			if ((out = reallocarray(e->fe_fix, cap,
			    sizeof(*out))) == NULL)
				return -1;
			e->fe_fix = out;
			e->fe_cap = cap;
		}
		memcpy(&e->fe_fix[e->fe_n], f, n * sizeof(*f));
		e->fe_n += n;
		fc->fc_fixes += n;
		return 0;
	}
	/* late fixes: a merge into a new array */
	cap = (e->fe_n + n) * 2;
	if ((out = calloc(cap, sizeof(*out))) == NULL)
		return -1;
	while (i < e->fe_n || j < n) {
		if (j == n || (i < e->fe_n &&
		    e->fe_fix[i].f_ts_us < f[j].f_ts_us))
			out[k++] = e->fe_fix[i++];
		else if (i == e->fe_n || f[j].f_ts_us < e->fe_fix[i].f_ts_us)
			out[k++] = f[j++];
		else {
			out[k++] = e->fe_fix[i++];	/* the same row */
			j++;
		}
	}
	fc->fc_fixes += k - e->fe_n;
	free(e->fe_fix);
	e->fe_fix = out;
	e->fe_n = k;
	e->fe_cap = cap;
	return 0;
}
