/* Payloads of the control messages between the master and a worker (MSG_DEVICE_*, MSG_CLAIM*, MSG_LOG_LEVEL, MSG_BACKLOG). */
#ifndef PROCESSOR_CONTROL_MSG_H
#define PROCESSOR_CONTROL_MSG_H

#include <stdint.h>

#define CTL_IPC_DEVICE_MAX	72	/* POSITION_DEVICE_MAX + 1, padded */

/* Each request carries an id the reply echoes, so a late reply is recognised. */
struct control_msg_device_query {
	uint32_t	 dq_id;
	uint32_t	 dq_reserved;
	char		 dq_device[CTL_IPC_DEVICE_MAX];	/* NUL-terminated */
};

struct control_msg_device_reply {
	uint32_t	 dr_id;
	uint32_t	 dr_found;
	int64_t		 dr_ts_us;	/* the freshest fix */
	double		 dr_lat;
	double		 dr_lon;
	double		 dr_altitude;
	double		 dr_speed;
	int32_t		 dr_event_io;
	int16_t		 dr_angle;
	int16_t		 dr_satellites;
	int16_t		 dr_priority;
	uint16_t	 dr_has;	/* POS_HAS_* */
	uint32_t	 dr_reserved;
	int64_t		 dr_last_seen_us;	/* wall clock of the last record, 0 if seeded */
	uint64_t	 dr_records;	/* records this worker saw for it */
};

struct control_msg_claim {
	uint32_t	 cl_id;
	uint32_t	 cl_idle_ms;	/* 0: the configured claim_idle_ms */
};

struct control_msg_claim_reply {
	uint32_t	 cr_id;
	uint32_t	 cr_ok;		/* 0: the sweep failed (Redis error) */
	uint64_t	 cr_claimed;	/* entries taken over during the sweep */
};

/* processorctl log-level: the new level for this life of the child. */
struct control_msg_log_level {
	uint32_t	 ll_level;	/* enum log_level, LOG_LVL_DEBUG..LOG_LVL_ERROR */
	uint32_t	 ll_reserved;
};

/*
 * MSG_BACKLOG: whether the master's workers are behind the stream (the
 * largest ws_read_age_ms over them above METRICS_BEHIND_MS); sent to every
 * child when it changes and to each child as it says hello.
 */
struct control_msg_backlog {
	uint32_t	 bl_behind;	/* 0 or 1 */
	uint32_t	 bl_reserved;
	int64_t		 bl_age_ms;	/* the largest read age when sent */
};

#endif
