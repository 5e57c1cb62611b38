/* The fixes an evaluator last read per (device, stage), so a round reads only the new ones. */
#ifndef PROCESSOR_RACE_FIXCACHE_H
#define PROCESSOR_RACE_FIXCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fix.h"

/*
 * Why it is exact: positions rows are never changed once stored (ON
 * CONFLICT DO NOTHING), and every stored fix of a timed device is covered
 * by a work mark whose [min_ts, max_ts] holds it, consumed only after the
 * fix committed.  So the fixes read in full once, plus those in the ranges
 * of every mark evaluated since, are the stored fixes, provided no other
 * evaluator consumed a mark of the device meanwhile: that is what
 * fe_evals checks (race_cursor.evaluations, bumped by every live
 * evaluation, under the device's lock).  A full read also happens when
 * the stage window changed, after RACE_FC_TTL_S (a fix stored without a
 * mark, e.g. by a master running no evaluator, is seen then at the
 * latest), and after any failed round (the cache is emptied).
 */
#define RACE_FC_TTL_S		60.0
#define RACE_FC_MAX_FIXES	(2u << 20)	/* 2 Mi fixes (~128 MiB): then emptied */

struct race_fc_entry {
	char		*fe_device;	/* NULL: a free slot */
	int64_t		 fe_stage;
	int64_t		 fe_lo, fe_hi;	/* the stage window it holds */
	int64_t		 fe_evals;	/* race_cursor.evaluations after our write */
	double		 fe_filled;	/* when read in full (monotonic seconds) */
	struct fix	*fe_fix;	/* sorted by time, one per time */
	size_t		 fe_n, fe_cap;
};

struct race_fc {
	struct race_fc_entry	*fc_tab;	/* open addressing, a power of 2 */
	size_t			 fc_cap, fc_n;
	size_t			 fc_fixes;	/* held, all entries */
};

void	race_fc_init(struct race_fc *);
/* Drop everything (a failed round, or over RACE_FC_MAX_FIXES). */
void	race_fc_clear(struct race_fc *);
/* The entry of (device, stage), NULL if none. */
struct race_fc_entry *race_fc_find(struct race_fc *, const char *device,
	    int64_t stage);
/*
 * The entry of (device, stage), created empty if absent, or NULL when out
 * of memory.
 */
struct race_fc_entry *race_fc_get(struct race_fc *, const char *device,
	    int64_t stage);
/* Empty the entry's fixes (before a full read). */
void	race_fc_reset(struct race_fc *, struct race_fc_entry *);
/*
 * Merge n fixes sorted by time into the entry, keeping one per time (a
 * time already held is the same stored row).  0, or -1 out of memory.
 */
int	race_fc_merge(struct race_fc *, struct race_fc_entry *,
	    const struct fix *, size_t n);
/* Monotonic seconds (fe_filled). */
double	race_fc_now(void);

#endif
