/* Hooks run after a batch commits: how the domain layer plugs into the core. */
#include "autoconf.h"

#include "core/sink.h"

static struct sink_hook	sink_hooks[SINK_MAX_HOOKS];
static size_t		sink_nhooks;
static const char	*sink_stmt;
static const char	*sink_markfn;
static sink_decoder_fn	 sink_decoder;
static void		*sink_decoder_arg;

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
	sink_markfn = NULL;
	sink_decoder = NULL;
	sink_decoder_arg = NULL;
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

void
sink_set_mark_fn(const char *fn)
{
	sink_markfn = fn;
}

const char *
sink_mark_fn(void)
{
	return sink_markfn;
}

void
sink_set_decoder(sink_decoder_fn fn, void *arg)
{
	sink_decoder = fn;
	sink_decoder_arg = arg;
}

int
sink_has_decoder(void)
{
	return sink_decoder != NULL;
}

int
sink_decode(const struct position *p, char *out, size_t cap)
{
	return sink_decoder != NULL ? sink_decoder(sink_decoder_arg, p, out, cap) :
	    0;
}
