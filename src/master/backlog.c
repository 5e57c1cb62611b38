/* Whether the workers are behind the stream, told to the children (MSG_BACKLOG). */
#include "autoconf.h"

#include <string.h>

#include "proc/ipc.h"
#include "proc/supervise.h"
#include "util/log.h"
#include "wire/control_msg.h"
#include "wire/metrics.h"
#include "master/backlog.h"

static struct {
	int	bk_behind;
	int64_t	bk_age_ms;
} bk;

static void
backlog_msg(struct control_msg_backlog *m)
{
	memset(m, 0, sizeof(*m));
	m->bl_behind = (uint32_t)bk.bk_behind;
	m->bl_age_ms = bk.bk_age_ms;
}

/* The largest read age over the running children (evaluators say 0). */
static int64_t
backlog_age(void)
{
	const struct worker	*w;
	int64_t			 age = 0;
	int			 slot;

	for (slot = 0; slot < supervise_slots(); slot++)
		if ((w = supervise_worker(slot)) != NULL && w->w_pid > 0 &&
		    w->w_have_stats && w->w_stats.ws_read_age_ms > age)
			age = w->w_stats.ws_read_age_ms;
	return age;
}

void
backlog_update(void)
{
	struct control_msg_backlog	m;
	int				behind;

	bk.bk_age_ms = backlog_age();
	behind = bk.bk_age_ms > METRICS_BEHIND_MS;
	if (behind == bk.bk_behind)
		return;
	bk.bk_behind = behind;
	backlog_msg(&m);
	(void)supervise_broadcast(MSG_BACKLOG, &m, sizeof(m));
	log_info("workers %s the stream (newest entry read %lld ms old)",
	    behind ? "behind" : "caught up with", (long long)bk.bk_age_ms);
}

void
backlog_hello(struct worker *w)
{
	struct control_msg_backlog	m;

	if (!bk.bk_behind)
		return;
	backlog_msg(&m);
	(void)supervise_send(w, MSG_BACKLOG, &m, sizeof(m));
}

int
backlog_behind(int64_t *age_ms)
{
	if (age_ms != NULL)
		*age_ms = bk.bk_age_ms;
	return bk.bk_behind;
}
