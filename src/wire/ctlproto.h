/* Control protocol shared by the master and processorctl: actions, requests, JSON lines. */
#ifndef PROCESSOR_CTLPROTO_H
#define PROCESSOR_CTLPROTO_H

#include <stddef.h>

#include <jansson.h>

#define CTL_VERSION		1
#define CTL_MAX_REQUEST		65536		/* bytes of one request line */
#define CTL_MAX_IDS		1000		/* ids in one dlq show/replay */
#define CTL_ID_MAX		48		/* "ms-seq" stream id, NUL included */
#define CTL_DEVICE_MAX		64		/* as POSITION_DEVICE_MAX */
#define CTL_DEFAULT_SOCKET	"/run/processor/control.sock"
#define CTL_DEFAULT_COUNT	10
#define CTL_MAX_COUNT		10000
#define CTL_MAX_STAGE		2147483647L	/* stages.id as a long */
#define CTL_CONSUMER_MAX	200		/* a consumer name */
#define CTL_LEVEL_MAX		16		/* "warning", NUL included */

enum ctlproto_action {
	CTL_NONE = 0,
	CTL_STATUS,
	CTL_WORKERS,
	CTL_PENDING,
	CTL_CLAIM,
	CTL_DLQ_LIST,
	CTL_DLQ_SHOW,
	CTL_DLQ_REPLAY,
	CTL_DLQ_PURGE,
	CTL_DEVICE,
	CTL_RELOAD,
	CTL_DRAIN,
	CTL_RESUME,
	CTL_CONFIG,
	CTL_LOG_LEVEL,
	CTL_STAGE,
	CTL_CONSUMERS,
	CTL_CONSUMERS_DELETE,
	CTL_ACTION_END
};

/* One parsed request; ids is allocated (ctlproto_req_free). */
struct ctlproto_req {
	enum ctlproto_action	  r_action;
	long		  r_idle_ms;		/* claim --idle; -1: configured */
	long		  r_count;		/* pending/dlq list --count */
	int		  r_all;		/* dlq replay --all */
	char		  r_before[CTL_ID_MAX];	/* dlq purge --before; "" = all */
	char		  r_device[CTL_DEVICE_MAX + 1];
	char		  r_level[CTL_LEVEL_MAX];	/* log-level */
	long		  r_stage;		/* stage: a stages.id */
	char		  r_consumer[CTL_CONSUMER_MAX + 1];	/* consumers delete */
	char		**r_ids;
	size_t		  r_nids;
};

void		 ctlproto_req_init(struct ctlproto_req *);
void		 ctlproto_req_free(struct ctlproto_req *);
/* The wire name of an action ("dlq list"), or NULL. */
const char	*ctlproto_action_name(enum ctlproto_action);
/* A stream id: MS or MS-SEQ, decimal, each part fits in 64 bits. */
int		 ctlproto_valid_id(const char *);
/* A device id: 1..CTL_DEVICE_MAX bytes, no control characters. */
int		 ctlproto_valid_device(const char *);
int		 ctlproto_valid_consumer(const char *);
/* A log level log-level takes: debug, info, warning or error. */
int		 ctlproto_valid_level(const char *);

/*
 * Command line words after the options (processorctl): walk the keyword
 * tables into req.  0, or -1 with a reason in err.
 */
int		 ctlproto_parse_argv(int argc, char *const argv[], struct ctlproto_req *,
		    char *err, size_t errlen);
/* The request object sent on the wire (new reference), or NULL (ENOMEM). */
json_t		*ctlproto_req_to_json(const struct ctlproto_req *);
/*
 * The master's side: check one request line's decoded object (version,
 * command, arguments) into req.  0, or -1 with a reason in err.
 */
int		 ctlproto_req_from_json(const json_t *, struct ctlproto_req *, char *err,
		    size_t errlen);
/* {"ok":false,"error":msg} (new reference). */
json_t		*ctlproto_error_json(const char *msg);

struct sockaddr_un;

/* Fill *sun with the control socket path.  0, or -1 with ENAMETOOLONG. */
int	ctlproto_sockaddr(const char *path, struct sockaddr_un *sun);

/* The command summary printed by processorctl --help. */
extern const char ctlproto_usage_commands[];

#endif
