/* SPDX-License-Identifier: GPL-2.0 */
/* rwlayer's multicast events, as log lines. */
#ifndef RWLD_EVENTS_H
#define RWLD_EVENTS_H

#include <stdint.h>

#include "nl.h"

/* What the events are compared with; owned by the caller. */
struct rwld_events_ctx {
	uint32_t mount_id;		/* ours; 0 once it is unmounted */
	const char *target;		/* its system path, for rule paths */
};

/*
 * An rwl_nl_event_fn: log @event (threshold crossings at LOG_WARNING,
 * copy-up failures and stale lowers at LOG_ERR, the rest LOG_INFO) and
 * clear ctx->mount_id when our mount went away.  @data is the context.
 */
int rwld_event_log(const struct rwl_nl_event *event, void *data);

#endif /* RWLD_EVENTS_H */
