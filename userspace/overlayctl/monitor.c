// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl monitor: one line per event of the module, until SIGINT or
 * SIGTERM (exit 0).  Signals are blocked except inside ppoll(), so one
 * arriving between two events is never missed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "fmt.h"

static volatile sig_atomic_t ctl_monitor_stop;

static void ctl_monitor_signal(int sig)
{
	(void)sig;
	ctl_monitor_stop = 1;
}

struct ctl_monitor {
	struct rwl_nl *requests;	/* for the mount table */
	struct ctl_mounts mounts;
	bool have_mounts;
};

/* Re-read the mount table after a mount, an unmount or lost events. */
static void ctl_monitor_refresh(struct ctl_monitor *m)
{
	if (m->have_mounts)
		ctl_mounts_free(&m->mounts);
	m->have_mounts = !ctl_mounts_load(m->requests, &m->mounts);
}

static const char *ctl_monitor_mountpoint(const struct ctl_monitor *m,
					  uint32_t mount_id)
{
	size_t i;

	if (!m->have_mounts)
		return NULL;
	for (i = 0; i < m->mounts.kernel.num; i++)
		if (m->mounts.kernel.mounts[i].id == mount_id)
			return ctl_mountpoint(&m->mounts, &m->mounts.kernel.mounts[i]);
	return NULL;
}

/* "2025-01-31 12:00:00" for text, RFC 3339 "2025-01-31T12:00:00+01:00" for JSON. */
static void ctl_monitor_time(char *buf, size_t len, bool rfc3339)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	localtime_r(&now, &tm);
	if (!rfc3339) {
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
		return;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* %z is +hhmm; RFC 3339 wants +hh:mm */
	if (n >= 5 && n + 2 <= len) {
		memmove(buf + n - 1, buf + n - 2, 3);
		buf[n - 2] = ':';
	}
}

static const char *ctl_limit_name(enum rwlayer_limit limit)
{
	switch (limit) {
	case RWLAYER_LIMIT_BYTES: return "bytes";
	case RWLAYER_LIMIT_INODES: return "inodes";
	}
	return "unknown";
}

static void ctl_monitor_json(const struct rwl_nl_event *e, const char *where)
{
	char now[40];
	struct rwl_json j;

	ctl_monitor_time(now, sizeof(now), true);
	rwl_json_init(&j, stdout, false);
	rwl_json_obj_begin(&j);
	rwl_json_kv_str(&j, "time", now);
	rwl_json_kv_str(&j, "event", rwl_nl_event_name(e->event));
	rwl_json_kv_u64(&j, "mount_id", e->mount_id);
	rwl_json_kv_str(&j, "mountpoint", where);
	if (e->rule_path)
		rwl_json_kv_str(&j, "rule", e->rule_path);
	if (e->path)
		rwl_json_kv_str(&j, "path", e->path);
	if (e->has_errno) {
		rwl_json_kv_u64(&j, "errno", e->err);
		rwl_json_kv_str(&j, "error", strerror((int)e->err));
	}
	if (e->has_percent)
		rwl_json_kv_u64(&j, "percent", e->percent);
	if (e->has_limit)
		rwl_json_kv_str(&j, "limit", ctl_limit_name(e->limit));
	if (e->has_bytes)
		rwl_json_kv_u64(&j, "bytes", e->bytes);
	if (e->has_max_bytes)
		rwl_json_kv_u64(&j, "max_bytes", e->max_bytes);
	if (e->has_inodes)
		rwl_json_kv_u64(&j, "inodes", e->inodes);
	if (e->has_max_inodes)
		rwl_json_kv_u64(&j, "max_inodes", e->max_inodes);
	if (e->has_dev) {
		char dev[32];

		snprintf(dev, sizeof(dev), "%u:%u", e->dev_major, e->dev_minor);
		rwl_json_kv_str(&j, "dev", dev);
	}
	rwl_json_obj_end(&j);
	rwl_json_finish(&j);
}

/* The system path of an event's path inside the mount, for text. */
static void ctl_monitor_print_path(const char *where, const char *inner)
{
	char *path = where ? ctl_system_path(where, inner) : NULL;

	printf(" %s", path ? path : inner);
	free(path);
}

/* "threshold /var 80% bytes 103M/128M" */
static void ctl_monitor_threshold(const struct rwl_nl_event *e)
{
	char a[RWL_FMT_LEN], b[RWL_FMT_LEN];

	if (e->has_percent)
		printf(" %u%%", e->percent);
	if (e->has_limit && e->limit == RWLAYER_LIMIT_INODES && e->has_inodes)
		printf(" inodes %s/%s", rwl_fmt_count(a, e->inodes),
		       e->has_max_inodes ? rwl_fmt_count(b, e->max_inodes) : "-");
	else if (e->has_bytes)
		printf(" bytes %s/%s", rwl_fmt_size(a, e->bytes),
		       e->has_max_bytes ? rwl_fmt_size(b, e->max_bytes) : "-");
}

static void ctl_monitor_text(const struct rwl_nl_event *e, const char *where)
{
	char now[40];

	ctl_monitor_time(now, sizeof(now), false);
	printf("[%s] %s", now, rwl_nl_event_name(e->event));
	if (e->rule_path)
		ctl_monitor_print_path(where, e->rule_path);
	if (e->event == RWLAYER_EVENT_THRESHOLD)
		ctl_monitor_threshold(e);
	if (e->path)
		ctl_monitor_print_path(where, e->path);
	if (e->has_errno)
		printf(": %s", strerror((int)e->err));
	printf(" mount %u", e->mount_id);
	if (where && !e->rule_path)
		printf(" at %s", where);
	if (e->has_dev)
		printf(" dev %u:%u", e->dev_major, e->dev_minor);
	putchar('\n');
}

static int ctl_monitor_event(const struct rwl_nl_event *event, void *data)
{
	struct ctl_monitor *m = data;
	const char *where;

	if (event->event == RWLAYER_EVENT_MOUNT)
		ctl_monitor_refresh(m);
	where = ctl_monitor_mountpoint(m, event->mount_id);
	if (ctl_opts.json)
		ctl_monitor_json(event, where);
	else
		ctl_monitor_text(event, where);
	fflush(stdout);
	if (event->event == RWLAYER_EVENT_UNMOUNT)
		ctl_monitor_refresh(m);
	return 0;
}

static void ctl_monitor_lost(struct ctl_monitor *m)
{
	char now[40];

	if (ctl_opts.json) {
		struct rwl_json j;

		ctl_monitor_time(now, sizeof(now), true);
		rwl_json_init(&j, stdout, false);
		rwl_json_obj_begin(&j);
		rwl_json_kv_str(&j, "time", now);
		rwl_json_kv_str(&j, "event", "lost");
		rwl_json_obj_end(&j);
		rwl_json_finish(&j);
	} else {
		ctl_monitor_time(now, sizeof(now), false);
		printf("[%s] lost events: the receive queue overflowed\n", now);
	}
	fflush(stdout);
	ctl_monitor_refresh(m);
}

static int ctl_monitor_loop(struct rwl_nl *events, struct ctl_monitor *m,
			    const sigset_t *wait_mask)
{
	struct pollfd pfd = { .fd = rwl_nl_fd(events), .events = POLLIN };

	while (!ctl_monitor_stop) {
		int err;

		if (ppoll(&pfd, 1, NULL, wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			ctl_err("monitor: poll: %s", strerror(errno));
			return CTL_EXIT_ERROR;
		}
		err = rwl_nl_recv_events(events, ctl_monitor_event, m);
		if (err == -ENOBUFS) {
			ctl_monitor_lost(m);
		} else if (err && err != -EINTR) {
			ctl_nl_err(events, err, "monitor: receiving events");
			return CTL_EXIT_ERROR;
		}
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_monitor(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = ctl_monitor_signal };
	struct ctl_monitor m = { 0 };
	struct rwl_nl *events;
	sigset_t block, wait_mask;
	int i, err, ret = CTL_EXIT_ERROR;

	for (i = 1; i < argc; i++) {
		if (!ctl_global_opt(argv[i])) {
			ctl_usage_of(argv[0]);
			return CTL_EXIT_ERROR;
		}
	}
	if (ctl_nl_open(&events))
		return CTL_EXIT_ERROR;
	err = rwl_nl_subscribe_events(events);
	if (err) {
		ctl_nl_err(events, err, "monitor: joining the \"%s\" group",
			   RWLAYER_MCGRP_EVENTS);
		goto out_events;
	}
	if (ctl_nl_open(&m.requests))
		goto out_events;
	ctl_monitor_refresh(&m);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = ctl_monitor_loop(events, &m, &wait_mask);

	if (m.have_mounts)
		ctl_mounts_free(&m.mounts);
	rwl_nl_close(m.requests);
out_events:
	rwl_nl_close(events);
	return ret;
}
