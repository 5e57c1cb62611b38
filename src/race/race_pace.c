/* Catch-up pacing: while the workers are behind, a device at most once per interval. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_event.h"
#include "race/race_pace.h"

_Static_assert(RACE_PACE_DEVICE_MAX == RACE_DEVICE_MAX,
    "race_pace holds any device id an entry may have");

/* FNV-1a: device ids are short; any spread will do for 4096 slots. */
static size_t
pace_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (RACE_PACE_SLOTS - 1);
}

/* The slot of dev, or the free slot where it would go; NULL when full. */
static struct race_pace_slot *
pace_find(const struct race_pace *p, const char *dev)
{
	size_t	i, k = pace_hash(dev);

	for (i = 0; i < RACE_PACE_SLOTS; i++, k = (k + 1) & (RACE_PACE_SLOTS - 1))
		if (p->pc_slot[k].ps_device[0] == '\0' ||
		    strcmp(p->pc_slot[k].ps_device, dev) == 0)
			return &p->pc_slot[k];
	return NULL;
}

void
race_pace_clear(struct race_pace *p)
{
	if (p->pc_slot != NULL && p->pc_used > 0)
		memset(p->pc_slot, 0, RACE_PACE_SLOTS * sizeof(*p->pc_slot));
	p->pc_used = 0;
}

void
race_pace_free(struct race_pace *p)
{
	free(p->pc_slot);
	p->pc_slot = NULL;
	p->pc_used = 0;
}

/* dev's slot, taken if it had none (*fresh = 1); NULL when out of memory. */
static struct race_pace_slot *
pace_slot(struct race_pace *p, const char *dev, int *fresh)
{
	struct race_pace_slot	*s;

	*fresh = 0;
	if (p->pc_slot == NULL &&
	    (p->pc_slot = calloc(RACE_PACE_SLOTS, sizeof(*p->pc_slot))) == NULL)
		return NULL;
	/* open addressing without deletion: start over well before full */
	if (p->pc_used >= RACE_PACE_SLOTS / 2)
		race_pace_clear(p);
	if ((s = pace_find(p, dev)) == NULL)
		return NULL;
	if (s->ps_device[0] == '\0') {
		snprintf(s->ps_device, sizeof(s->ps_device), "%s", dev);
		p->pc_used++;
		*fresh = 1;
	}
	return s;
}

int
race_pace_evaluated(struct race_pace *p, const char *dev, double now)
{
	struct race_pace_slot	*s;
	int			 fresh;

	if ((s = pace_slot(p, dev, &fresh)) == NULL)
		return -1;
	s->ps_at = now;
	s->ps_counted = 0;
	return 0;
}

int
race_pace_first(struct race_pace *p, const char *dev, double now)
{
	struct race_pace_slot	*s;
	int			 fresh;

	if ((s = pace_slot(p, dev, &fresh)) == NULL || !fresh)
		return 0;
	s->ps_at = now;
	s->ps_counted = 1;	/* the caller counts this deferral */
	return 1;
}

/* An element of a text[] literal, quoted (device ids are any text). */
static void
pace_put(struct buf *arr, const char *dev, size_t n)
{
	if (n > 0)
		buf_putc(arr, ',');
	buf_putc(arr, '"');
	for (; *dev != '\0'; dev++) {
		if (*dev == '"' || *dev == '\\')
			buf_putc(arr, '\\');
		buf_putc(arr, *dev);
	}
	buf_putc(arr, '"');
}

size_t
race_pace_held(const struct race_pace *p, double now, double interval,
    struct buf *arr, double *next)
{
	const struct race_pace_slot	*s;
	size_t				 i, n = 0;

	*next = 0;
	buf_putc(arr, '{');
	for (i = 0; p->pc_slot != NULL && i < RACE_PACE_SLOTS; i++) {
		s = &p->pc_slot[i];
		if (s->ps_device[0] == '\0' || now - s->ps_at >= interval)
			continue;
		pace_put(arr, s->ps_device, n);
		if (*next == 0 || s->ps_at + interval < *next)
			*next = s->ps_at + interval;
		n++;
	}
	buf_putc(arr, '}');
	return n;
}

int
race_pace_count(struct race_pace *p, const char *dev)
{
	struct race_pace_slot	*s;

	if (p->pc_slot == NULL || (s = pace_find(p, dev)) == NULL ||
	    s->ps_device[0] == '\0' || s->ps_counted)
		return 0;
	s->ps_counted = 1;
	return 1;
}
