// SPDX-License-Identifier: GPL-2.0
/*
 * Event log lines name rules by their system path ("/var", not the path
 * inside the mount) when the event is about our mount, as the overlaytab
 * does; events of other rwlayer mounts say "mount N:/path".
 */
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "fmt.h"
#include "log.h"

/* The system path of @inner (a path inside mount @mount_id). */
static void system_path(const struct rwld_events_ctx *ctx, uint32_t mount_id,
			const char *inner, char *buf, size_t size)
{
	if (!inner)
		inner = "/";
	if (!mount_id || mount_id != ctx->mount_id)
		snprintf(buf, size, "mount %u:%s", mount_id, inner);
	else if (!strcmp(ctx->target, "/"))
		snprintf(buf, size, "%s", inner);
	else
		snprintf(buf, size, "%s%s", ctx->target,
			 strcmp(inner, "/") ? inner : "");
}

static void log_threshold(const struct rwl_nl_event *ev, const char *rule)
{
	char used[RWL_FMT_LEN] = "?", limit[RWL_FMT_LEN] = "?";
	bool inodes = ev->has_limit && ev->limit == RWLAYER_LIMIT_INODES;

	if (inodes) {
		if (ev->has_inodes)
			rwl_fmt_count(used, ev->inodes);
		if (ev->has_max_inodes)
			rwl_fmt_count(limit, ev->max_inodes);
	} else {
		if (ev->has_bytes)
			rwl_fmt_size(used, ev->bytes);
		if (ev->has_max_bytes)
			rwl_fmt_size(limit, ev->max_bytes);
	}
	rwld_log_rule(LOG_WARNING, ev->mount_id, rule,
		      "%s: %s use crossed %u%% of the limit (%s of %s)", rule,
		      inodes ? "inode" : "space", ev->has_percent ? ev->percent : 0,
		      used, limit);
}

int rwld_event_log(const struct rwl_nl_event *ev, void *data)
{
	struct rwld_events_ctx *ctx = data;
	char rule[4200], path[4200];
	bool ours = ev->mount_id && ev->mount_id == ctx->mount_id;

	system_path(ctx, ev->mount_id, ev->rule_path, rule, sizeof(rule));
	system_path(ctx, ev->mount_id, ev->path, path, sizeof(path));
	switch (ev->event) {
	case RWLAYER_EVENT_THRESHOLD:
		log_threshold(ev, rule);
		break;
	case RWLAYER_EVENT_COPY_UP_FAILED:
		rwld_log_rule(LOG_ERR, ev->mount_id, ev->rule_path,
			      "%s: copy-up failed: %s", path,
			      ev->has_errno ? strerror((int)ev->err) : "no reason given");
		break;
	case RWLAYER_EVENT_LOWER_STALE:
		rwld_log_rule(LOG_ERR, ev->mount_id, ev->rule_path,
			      "%s: a lower layer answered ESTALE: the server's "
			      "tree changed under this client", path);
		break;
	case RWLAYER_EVENT_RULE_ADDED:
	case RWLAYER_EVENT_RULE_REMOVED:
	case RWLAYER_EVENT_RULE_CHANGED:
	case RWLAYER_EVENT_RULE_RESET:
		rwld_log_rule(LOG_INFO, ev->mount_id, ev->rule_path, "%s: %s",
			      rule, rwl_nl_event_name(ev->event));
		break;
	case RWLAYER_EVENT_MOUNT:
		rwld_log_rule(LOG_INFO, ev->mount_id, NULL,
			      "rwlayer mount %u (device %u:%u) mounted",
			      ev->mount_id, ev->dev_major, ev->dev_minor);
		break;
	case RWLAYER_EVENT_UNMOUNT:
		rwld_log_rule(ours ? LOG_ERR : LOG_INFO, ev->mount_id, NULL,
			      "rwlayer mount %u (device %u:%u) unmounted%s",
			      ev->mount_id, ev->dev_major, ev->dev_minor,
			      ours ? ": the rules of the overlaytab are gone with it" : "");
		if (ours)
			ctx->mount_id = 0;
		break;
	default:
		rwld_log(LOG_DEBUG, "event %u of mount %u: not known here",
			 ev->event, ev->mount_id);
	}
	return 0;
}
