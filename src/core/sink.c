/* Hooks run after a batch commits: how the domain layer plugs into the core. */
#include "autoconf.h"

#include "core/sink.h"

static struct sink_hook	sink_hooks[SINK_MAX_HOOKS];
static size_t		sink_nhooks;
static const char	*sink_stmt;

int
sink_register(const struct sink_hook *h)
{
	if (sink_nhooks == SINK_MAX_HOOKS)
		return -1;
	sink_hooks[sink_nhooks++] = *h;
	return 0;
}

void
sink_run(const struct position *const *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < sink_nhooks; i++)
		sink_hooks[i].sh_fn(sink_hooks[i].sh_arg, rows, n);
}

size_t
sink_count(void)
{
	return sink_nhooks;
}

void
sink_clear(void)
{
	sink_nhooks = 0;
	sink_stmt = NULL;
}

void
sink_set_sql(const char *sql)
{
	sink_stmt = sql;
}

const char *
sink_sql(void)
{
	return sink_stmt;
}
