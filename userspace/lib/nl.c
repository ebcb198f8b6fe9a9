// SPDX-License-Identifier: GPL-2.0
/*
 * Client of the "rwlayer" generic netlink family, on libmnl.
 *
 * Requests go out one at a time: send, then read until the ACK (a "do")
 * or NLMSG_DONE (a dump).  Errors arrive as NLMSG_ERROR, or for a dump
 * that failed midway as an error code in NLMSG_DONE; both may carry an
 * extended ACK whose message is kept for rwl_nl_extack().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "nl.h"

/* Large enough for any dump message (the kernel caps them at 32 KiB). */
#define RWL_NL_RECV_BUF (64 * 1024)
/* A request holds at most one path plus a few numbers. */
#define RWL_NL_SEND_BUF (RWLAYER_PATH_MAX + 1024)
/* Room to queue a burst of events before the kernel drops some. */
#define RWL_NL_EVENTS_RCVBUF (1024 * 1024)

struct rwl_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family_id;
	uint32_t events_group;		/* 0: the family has none */
	char *extack;
	char *recv_buf;
	char *send_buf;
};

/* ---- attribute validation ---- */

/*
 * Expected type of each attribute of the family; MNL_TYPE_UNSPEC ones
 * (PAD) are not looked at.  mnl_attr_validate checks exact sizes for the
 * integers, a final NUL for strings, no payload for flags.
 */
static const enum mnl_attr_data_type rwl_nl_attr_types[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_VERSION] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_FEATURES] = MNL_TYPE_U64,
	[RWLAYER_A_MAX_RULES] = MNL_TYPE_U32,
	[RWLAYER_A_MOUNT_ID] = MNL_TYPE_U32,
	[RWLAYER_A_DEV_MAJOR] = MNL_TYPE_U32,
	[RWLAYER_A_DEV_MINOR] = MNL_TYPE_U32,
	[RWLAYER_A_LOWERS] = MNL_TYPE_NESTED,
	[RWLAYER_A_LOWER] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_UPPER] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_WORK] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_OPTIONS] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_READ_ONLY] = MNL_TYPE_FLAG,
	[RWLAYER_A_NUM_RULES] = MNL_TYPE_U32,
	[RWLAYER_A_RULE_PATH] = MNL_TYPE_NUL_STRING,
	[RWLAYER_A_RULE_KIND] = MNL_TYPE_U8,
	[RWLAYER_A_RULE_MAX_BYTES] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_MAX_INODES] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_WARN] = MNL_TYPE_U8,
	[RWLAYER_A_RULE_MODE] = MNL_TYPE_U16,
	[RWLAYER_A_RULE_UID] = MNL_TYPE_U32,
	[RWLAYER_A_RULE_GID] = MNL_TYPE_U32,
	[RWLAYER_A_RULE_BYTES] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_INODES] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_COPY_UPS] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_COPY_UP_BYTES] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_WHITEOUTS] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_ERRORS] = MNL_TYPE_U64,
	[RWLAYER_A_RULE_OPEN_FILES] = MNL_TYPE_U32,
	[RWLAYER_A_FORCE] = MNL_TYPE_FLAG,
	[RWLAYER_A_EVENT] = MNL_TYPE_U32,
	[RWLAYER_A_EVENT_PERCENT] = MNL_TYPE_U8,
	[RWLAYER_A_EVENT_LIMIT] = MNL_TYPE_U8,
	[RWLAYER_A_ERRNO] = MNL_TYPE_U32,
	[RWLAYER_A_PATH] = MNL_TYPE_NUL_STRING,
};

/*
 * Walk the attributes in [@start, @start + @len) into @tb (indexed by type,
 * @max the highest type kept), validating each known one against @types.
 * Unknown types are skipped (a newer kernel may send more).  Bytes left
 * over that do not form a whole attribute mean a truncated message.
 */
static int rwl_nl_attrs_parse(const void *start, size_t len,
			      const enum mnl_attr_data_type *types,
			      unsigned int max, const struct nlattr **tb)
{
	const struct nlattr *attr = start;
	const char *end = (const char *)start + len;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (mnl_attr_ok(attr, end - (const char *)attr)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type <= max && types[type] != MNL_TYPE_UNSPEC) {
			if (mnl_attr_validate(attr, types[type]) < 0)
				return -EPROTO;
			tb[type] = attr;
		}
		attr = mnl_attr_next(attr);
	}
	if ((const char *)attr < end)
		return -EPROTO;
	return 0;
}

/* The rwlayer attributes of a genetlink message. */
static int rwl_nl_msg_attrs(const struct nlmsghdr *nlh,
			    const struct nlattr **tb)
{
	size_t hdr = sizeof(struct genlmsghdr);

	if (mnl_nlmsg_get_payload_len(nlh) < hdr)
		return -EPROTO;
	return rwl_nl_attrs_parse((const char *)mnl_nlmsg_get_payload(nlh) + hdr,
				  mnl_nlmsg_get_payload_len(nlh) - hdr,
				  rwl_nl_attr_types, RWLAYER_A_MAX, tb);
}

static uint8_t rwl_nl_genl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	return genl->cmd;
}

/* A copy of a validated NUL-terminated string attribute, or NULL. */
static int rwl_nl_dup_str(const struct nlattr *attr, char **out)
{
	*out = NULL;
	if (!attr)
		return 0;
	*out = strdup(mnl_attr_get_str(attr));
	return *out ? 0 : -ENOMEM;
}

static uint64_t rwl_nl_u64_or_0(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u64(attr) : 0;
}

static uint32_t rwl_nl_u32_or_0(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u32(attr) : 0;
}

/* ---- reply parsers ---- */

int rwl_nl_parse_version(const struct nlmsghdr *nlh,
			 struct rwl_nl_version *version)
{
	const struct nlattr *tb[RWLAYER_A_MAX + 1];
	int err;

	memset(version, 0, sizeof(*version));
	err = rwl_nl_msg_attrs(nlh, tb);
	if (err)
		return err;
	if (!tb[RWLAYER_A_VERSION] || !tb[RWLAYER_A_FEATURES])
		return -EPROTO;
	version->features = mnl_attr_get_u64(tb[RWLAYER_A_FEATURES]);
	version->max_rules = rwl_nl_u32_or_0(tb[RWLAYER_A_MAX_RULES]);
	return rwl_nl_dup_str(tb[RWLAYER_A_VERSION], &version->version);
}

void rwl_nl_version_free(struct rwl_nl_version *version)
{
	free(version->version);
	memset(version, 0, sizeof(*version));
}

static int rwl_nl_parse_lowers(const struct nlattr *nest,
			       struct rwl_nl_mount *mount)
{
	static const enum mnl_attr_data_type lower_types[RWLAYER_A_LOWER + 1] = {
		[RWLAYER_A_LOWER] = MNL_TYPE_NUL_STRING,
	};
	const struct nlattr *attr;
	size_t count = 0;
	int err;

	/* Validate the whole nest first: each entry must be a LOWER string. */
	{
		const struct nlattr *tb[RWLAYER_A_LOWER + 1];

		err = rwl_nl_attrs_parse(mnl_attr_get_payload(nest),
					 mnl_attr_get_payload_len(nest),
					 lower_types, RWLAYER_A_LOWER, tb);
		if (err)
			return err;
	}
	mnl_attr_for_each_nested(attr, nest)
		if (mnl_attr_get_type(attr) == RWLAYER_A_LOWER)
			count++;
	if (!count)
		return 0;
	mount->lowers = calloc(count, sizeof(*mount->lowers));
	if (!mount->lowers)
		return -ENOMEM;
	mnl_attr_for_each_nested(attr, nest) {
		if (mnl_attr_get_type(attr) != RWLAYER_A_LOWER)
			continue;
		err = rwl_nl_dup_str(attr, &mount->lowers[mount->num_lowers]);
		if (err)
			return err;
		mount->num_lowers++;
	}
	return 0;
}

int rwl_nl_parse_mount(const struct nlmsghdr *nlh, struct rwl_nl_mount *mount)
{
	const struct nlattr *tb[RWLAYER_A_MAX + 1];
	int err;

	memset(mount, 0, sizeof(*mount));
	err = rwl_nl_msg_attrs(nlh, tb);
	if (err)
		return err;
	if (!tb[RWLAYER_A_MOUNT_ID] || !tb[RWLAYER_A_DEV_MAJOR] ||
	    !tb[RWLAYER_A_DEV_MINOR])
		return -EPROTO;
	mount->id = mnl_attr_get_u32(tb[RWLAYER_A_MOUNT_ID]);
	mount->dev_major = mnl_attr_get_u32(tb[RWLAYER_A_DEV_MAJOR]);
	mount->dev_minor = mnl_attr_get_u32(tb[RWLAYER_A_DEV_MINOR]);
	mount->read_only = tb[RWLAYER_A_READ_ONLY] != NULL;
	mount->num_rules = rwl_nl_u32_or_0(tb[RWLAYER_A_NUM_RULES]);
	err = rwl_nl_dup_str(tb[RWLAYER_A_UPPER], &mount->upper);
	if (!err)
		err = rwl_nl_dup_str(tb[RWLAYER_A_WORK], &mount->work);
	if (!err)
		err = rwl_nl_dup_str(tb[RWLAYER_A_OPTIONS], &mount->options);
	if (!err && tb[RWLAYER_A_LOWERS])
		err = rwl_nl_parse_lowers(tb[RWLAYER_A_LOWERS], mount);
	if (err)
		rwl_nl_mount_free(mount);
	return err;
}

int rwl_nl_parse_rule(const struct nlmsghdr *nlh, struct rwl_nl_rule *rule)
{
	const struct nlattr *tb[RWLAYER_A_MAX + 1];
	int err;

	memset(rule, 0, sizeof(*rule));
	err = rwl_nl_msg_attrs(nlh, tb);
	if (err)
		return err;
	if (!tb[RWLAYER_A_MOUNT_ID] || !tb[RWLAYER_A_RULE_PATH] ||
	    !tb[RWLAYER_A_RULE_KIND])
		return -EPROTO;
	rule->mount_id = mnl_attr_get_u32(tb[RWLAYER_A_MOUNT_ID]);
	rule->kind = mnl_attr_get_u8(tb[RWLAYER_A_RULE_KIND]);
	rule->max_bytes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_MAX_BYTES]);
	rule->max_inodes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_MAX_INODES]);
	if (tb[RWLAYER_A_RULE_WARN])
		rule->warn = mnl_attr_get_u8(tb[RWLAYER_A_RULE_WARN]);
	rule->has_mode = tb[RWLAYER_A_RULE_MODE] != NULL;
	if (rule->has_mode)
		rule->mode = mnl_attr_get_u16(tb[RWLAYER_A_RULE_MODE]);
	rule->has_uid = tb[RWLAYER_A_RULE_UID] != NULL;
	rule->uid = rwl_nl_u32_or_0(tb[RWLAYER_A_RULE_UID]);
	rule->has_gid = tb[RWLAYER_A_RULE_GID] != NULL;
	rule->gid = rwl_nl_u32_or_0(tb[RWLAYER_A_RULE_GID]);
	rule->bytes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_BYTES]);
	rule->inodes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_INODES]);
	rule->copy_ups = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_COPY_UPS]);
	rule->copy_up_bytes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_COPY_UP_BYTES]);
	rule->whiteouts = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_WHITEOUTS]);
	rule->errors = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_ERRORS]);
	rule->open_files = rwl_nl_u32_or_0(tb[RWLAYER_A_RULE_OPEN_FILES]);
	return rwl_nl_dup_str(tb[RWLAYER_A_RULE_PATH], &rule->path);
}

int rwl_nl_parse_event(const struct nlmsghdr *nlh, struct rwl_nl_event *event)
{
	const struct nlattr *tb[RWLAYER_A_MAX + 1];
	int err;

	memset(event, 0, sizeof(*event));
	err = rwl_nl_msg_attrs(nlh, tb);
	if (err)
		return err;
	if (rwl_nl_genl_cmd(nlh) != RWLAYER_CMD_EVENT || !tb[RWLAYER_A_EVENT] ||
	    !tb[RWLAYER_A_MOUNT_ID])
		return -EPROTO;
	event->event = mnl_attr_get_u32(tb[RWLAYER_A_EVENT]);
	event->mount_id = mnl_attr_get_u32(tb[RWLAYER_A_MOUNT_ID]);
	event->has_errno = tb[RWLAYER_A_ERRNO] != NULL;
	event->err = rwl_nl_u32_or_0(tb[RWLAYER_A_ERRNO]);
	event->has_percent = tb[RWLAYER_A_EVENT_PERCENT] != NULL;
	if (event->has_percent)
		event->percent = mnl_attr_get_u8(tb[RWLAYER_A_EVENT_PERCENT]);
	event->has_limit = tb[RWLAYER_A_EVENT_LIMIT] != NULL;
	if (event->has_limit)
		event->limit = mnl_attr_get_u8(tb[RWLAYER_A_EVENT_LIMIT]);
	event->has_dev = tb[RWLAYER_A_DEV_MAJOR] && tb[RWLAYER_A_DEV_MINOR];
	event->dev_major = rwl_nl_u32_or_0(tb[RWLAYER_A_DEV_MAJOR]);
	event->dev_minor = rwl_nl_u32_or_0(tb[RWLAYER_A_DEV_MINOR]);
	event->has_bytes = tb[RWLAYER_A_RULE_BYTES] != NULL;
	event->bytes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_BYTES]);
	event->has_inodes = tb[RWLAYER_A_RULE_INODES] != NULL;
	event->inodes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_INODES]);
	event->has_max_bytes = tb[RWLAYER_A_RULE_MAX_BYTES] != NULL;
	event->max_bytes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_MAX_BYTES]);
	event->has_max_inodes = tb[RWLAYER_A_RULE_MAX_INODES] != NULL;
	event->max_inodes = rwl_nl_u64_or_0(tb[RWLAYER_A_RULE_MAX_INODES]);
	err = rwl_nl_dup_str(tb[RWLAYER_A_RULE_PATH], &event->rule_path);
	if (!err)
		err = rwl_nl_dup_str(tb[RWLAYER_A_PATH], &event->path);
	if (err)
		rwl_nl_event_free(event);
	return err;
}

/*
 * The extack TLVs start after the nlmsgerr: right after the header it
 * echoes when the kernel capped the ACK, else after the whole echoed
 * request.  Only the message is of interest.
 */
static int rwl_nl_parse_extack(const struct nlmsghdr *nlh, size_t offset,
			       char **extack)
{
	static const enum mnl_attr_data_type types[NLMSGERR_ATTR_MSG + 1] = {
		[NLMSGERR_ATTR_MSG] = MNL_TYPE_NUL_STRING,
	};
	const struct nlattr *tb[NLMSGERR_ATTR_MSG + 1];
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	int err;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (offset > len)
		return -EPROTO;
	err = rwl_nl_attrs_parse((const char *)mnl_nlmsg_get_payload(nlh) + offset,
				 len - offset, types, NLMSGERR_ATTR_MSG, tb);
	if (err)
		return err;
	return rwl_nl_dup_str(tb[NLMSGERR_ATTR_MSG], extack);
}

int rwl_nl_parse_error(const struct nlmsghdr *nlh, char **extack)
{
	const struct nlmsgerr *nlerr = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	size_t offset = sizeof(*nlerr);
	int err;

	*extack = NULL;
	if (len < sizeof(*nlerr))
		return -EPROTO;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (nlerr->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return -EPROTO;
		offset = sizeof(nlerr->error) + MNL_ALIGN(nlerr->msg.nlmsg_len);
	}
	err = rwl_nl_parse_extack(nlh, offset, extack);
	if (err)
		return err;
	/* errors are negative; a positive value is not from a kernel */
	if (nlerr->error > 0)
		return -EPROTO;
	return nlerr->error;
}

/*
 * NLMSG_DONE of a dump: an int, negative when the dump failed midway,
 * then the extack TLVs.
 */
static int rwl_nl_parse_done(const struct nlmsghdr *nlh, char **extack)
{
	int status;

	*extack = NULL;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(status))
		return 0;
	memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
	if (status >= 0)
		return 0;
	if (rwl_nl_parse_extack(nlh, sizeof(status), extack) == -ENOMEM)
		return -ENOMEM;
	return status;
}

/* ---- request machinery ---- */

/* Collects one request's outcome across the control callbacks. */
struct rwl_nl_reply {
	struct rwl_nl *nl;
	int err;			/* from NLMSG_ERROR or NLMSG_DONE */
	int (*parse)(const struct nlmsghdr *nlh, void *data);
	void *data;
	int parse_err;			/* first failure of @parse */
};

static void rwl_nl_set_extack(struct rwl_nl *nl, char *extack)
{
	free(nl->extack);
	nl->extack = extack;
}

static int rwl_nl_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_reply *reply = data;
	char *extack;

	reply->err = rwl_nl_parse_error(nlh, &extack);
	rwl_nl_set_extack(reply->nl, extack);
	return MNL_CB_STOP;
}

static int rwl_nl_cb_done(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_reply *reply = data;
	char *extack;

	reply->err = rwl_nl_parse_done(nlh, &extack);
	rwl_nl_set_extack(reply->nl, extack);
	return MNL_CB_STOP;
}

static int rwl_nl_cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_reply *reply = data;
	int err;

	/* Keep reading to the end of the reply even after a bad message. */
	if (!reply->parse || reply->parse_err)
		return MNL_CB_OK;
	err = reply->parse(nlh, reply->data);
	if (err)
		reply->parse_err = err;
	return MNL_CB_OK;
}

static mnl_cb_t rwl_nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = rwl_nl_cb_error,
	[NLMSG_DONE] = rwl_nl_cb_done,
};

/* A request header for @cmd of the family, in nl->send_buf. */
static struct nlmsghdr *rwl_nl_msg_start(struct rwl_nl *nl, uint16_t family,
					 uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->send_buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = family == GENL_ID_CTRL ? 1 : RWLAYER_GENL_VERSION;
	return nlh;
}

/*
 * Send @nlh and read the reply, handing each data message to @parse.
 * Returns the kernel's error, else the first parse error, else 0.
 */
static int rwl_nl_transact(struct rwl_nl *nl, struct nlmsghdr *nlh,
			   int (*parse)(const struct nlmsghdr *, void *),
			   void *data)
{
	struct rwl_nl_reply reply = { .nl = nl, .parse = parse, .data = data };
	int ret;

	rwl_nl_set_extack(nl, NULL);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t len = mnl_socket_recvfrom(nl->sock, nl->recv_buf,
						  RWL_NL_RECV_BUF);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ret = mnl_cb_run2(nl->recv_buf, len, nlh->nlmsg_seq, nl->portid,
				  rwl_nl_cb_data, &reply, rwl_nl_ctl_cbs,
				  NLMSG_MIN_TYPE);
		if (ret < 0)
			return errno == EPROTO || errno == ESRCH ? -EPROTO : -errno;
	} while (ret > MNL_CB_STOP);
	if (reply.err)
		return reply.err;
	return reply.parse_err;
}

/* Put a string attribute; -ENAMETOOLONG when it would not fit. */
static int rwl_nl_put_path(struct nlmsghdr *nlh, uint16_t type,
			   const char *path)
{
	if (strlen(path) >= RWLAYER_PATH_MAX ||
	    !mnl_attr_put_strz_check(nlh, RWL_NL_SEND_BUF, type, path))
		return -ENAMETOOLONG;
	return 0;
}

/* ---- family resolution ---- */

struct rwl_nl_family {
	uint16_t id;
	uint32_t events_group;
};

static int rwl_nl_parse_mcast_group(const struct nlattr *group,
				    struct rwl_nl_family *family)
{
	static const enum mnl_attr_data_type types[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
		[CTRL_ATTR_MCAST_GRP_NAME] = MNL_TYPE_NUL_STRING,
		[CTRL_ATTR_MCAST_GRP_ID] = MNL_TYPE_U32,
	};
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	int err;

	err = rwl_nl_attrs_parse(mnl_attr_get_payload(group),
				 mnl_attr_get_payload_len(group), types,
				 CTRL_ATTR_MCAST_GRP_MAX, tb);
	if (err)
		return err;
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    RWLAYER_MCGRP_EVENTS))
		family->events_group = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return 0;
}

static int rwl_nl_parse_family(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_ID] = MNL_TYPE_U16,
		[CTRL_ATTR_MCAST_GROUPS] = MNL_TYPE_NESTED,
	};
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct rwl_nl_family *family = data;
	const struct nlattr *group;
	size_t hdr = sizeof(struct genlmsghdr);
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < hdr)
		return -EPROTO;
	err = rwl_nl_attrs_parse((const char *)mnl_nlmsg_get_payload(nlh) + hdr,
				 mnl_nlmsg_get_payload_len(nlh) - hdr, types,
				 CTRL_ATTR_MAX, tb);
	if (err)
		return err;
	if (!tb[CTRL_ATTR_FAMILY_ID])
		return -EPROTO;
	family->id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	mnl_attr_for_each_nested(group, tb[CTRL_ATTR_MCAST_GROUPS]) {
		if (mnl_attr_validate(group, MNL_TYPE_NESTED) < 0)
			return -EPROTO;
		err = rwl_nl_parse_mcast_group(group, family);
		if (err)
			return err;
	}
	return 0;
}

static int rwl_nl_resolve(struct rwl_nl *nl)
{
	struct rwl_nl_family family = { 0 };
	struct nlmsghdr *nlh;
	int err;

	nlh = rwl_nl_msg_start(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, RWLAYER_GENL_NAME);
	err = rwl_nl_transact(nl, nlh, rwl_nl_parse_family, &family);
	if (err)
		return err;
	if (!family.id)
		return -EPROTO;
	nl->family_id = family.id;
	nl->events_group = family.events_group;
	return 0;
}

const char *rwl_nl_missing_family_reason(const char *sysfs_module)
{
	if (access(sysfs_module, F_OK) == 0)
		return "the rwlayer module is loaded, but its netlink family "
		       "exists only in the initial network namespace";
	return "the rwlayer module is not loaded";
}

int rwl_nl_open(struct rwl_nl **nlp)
{
	struct rwl_nl *nl;
	int one = 1;
	int err;

	*nlp = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	err = -ENOMEM;
	nl->recv_buf = malloc(RWL_NL_RECV_BUF);
	nl->send_buf = malloc(RWL_NL_SEND_BUF);
	if (!nl->recv_buf || !nl->send_buf)
		goto err_free;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		err = -errno;
		goto err_free;
	}
	/* Old kernels lack these; requests still work, with fewer details. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto err_free;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	err = rwl_nl_resolve(nl);
	if (err)
		goto err_free;
	*nlp = nl;
	return 0;

err_free:
	rwl_nl_close(nl);
	return err;
}

void rwl_nl_close(struct rwl_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->extack);
	free(nl->recv_buf);
	free(nl->send_buf);
	free(nl);
}

int rwl_nl_fd(const struct rwl_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

const char *rwl_nl_extack(const struct rwl_nl *nl)
{
	return nl->extack;
}

/* ---- requests ---- */

/* Parsers for rwl_nl_transact: only messages of the family and command. */
static bool rwl_nl_is_reply(const struct rwl_nl *nl,
			    const struct nlmsghdr *nlh, uint8_t cmd)
{
	return nlh->nlmsg_type == nl->family_id &&
	       mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct genlmsghdr) &&
	       rwl_nl_genl_cmd(nlh) == cmd;
}

struct rwl_nl_one {
	struct rwl_nl *nl;
	uint8_t cmd;
	bool seen;
	int (*parse)(const struct nlmsghdr *nlh, void *out);
	void *out;
};

/* A "do" reply: exactly one message of the command. */
static int rwl_nl_parse_one(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_one *one = data;

	if (!rwl_nl_is_reply(one->nl, nlh, one->cmd))
		return 0;
	if (one->seen)
		return -EPROTO;
	one->seen = true;
	return one->parse(nlh, one->out);
}

static int rwl_nl_do(struct rwl_nl *nl, struct nlmsghdr *nlh, uint8_t cmd,
		     int (*parse)(const struct nlmsghdr *, void *), void *out)
{
	struct rwl_nl_one one = {
		.nl = nl, .cmd = cmd, .parse = parse, .out = out,
	};
	int err;

	err = rwl_nl_transact(nl, nlh, rwl_nl_parse_one, &one);
	if (!err && !one.seen)
		err = -EPROTO;
	return err;
}

static int rwl_nl_parse_version_cb(const struct nlmsghdr *nlh, void *out)
{
	return rwl_nl_parse_version(nlh, out);
}

int rwl_nl_get_version(struct rwl_nl *nl, struct rwl_nl_version *version)
{
	struct nlmsghdr *nlh;
	int err;

	memset(version, 0, sizeof(*version));
	nlh = rwl_nl_msg_start(nl, nl->family_id, RWLAYER_CMD_GET_VERSION,
			       NLM_F_ACK);
	err = rwl_nl_do(nl, nlh, RWLAYER_CMD_GET_VERSION,
			rwl_nl_parse_version_cb, version);
	if (err)
		rwl_nl_version_free(version);
	return err;
}

static int rwl_nl_parse_mount_cb(const struct nlmsghdr *nlh, void *out)
{
	return rwl_nl_parse_mount(nlh, out);
}

int rwl_nl_get_mount(struct rwl_nl *nl, uint32_t mount_id,
		     struct rwl_nl_mount *mount)
{
	struct nlmsghdr *nlh;
	int err;

	memset(mount, 0, sizeof(*mount));
	nlh = rwl_nl_msg_start(nl, nl->family_id, RWLAYER_CMD_GET_MOUNT,
			       NLM_F_ACK);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, mount_id);
	err = rwl_nl_do(nl, nlh, RWLAYER_CMD_GET_MOUNT, rwl_nl_parse_mount_cb,
			mount);
	if (err)
		rwl_nl_mount_free(mount);
	return err;
}

/* Dumps append to a growing array of fixed-size elements. */
struct rwl_nl_dump {
	struct rwl_nl *nl;
	uint8_t cmd;
	size_t elem_size;
	void **elems;
	size_t *num;
	size_t cap;
	int (*parse)(const struct nlmsghdr *nlh, void *elem);
};

static int rwl_nl_parse_dump(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_dump *dump = data;
	int err;

	if (!rwl_nl_is_reply(dump->nl, nlh, dump->cmd))
		return 0;
	if (*dump->num == dump->cap) {
		size_t cap = dump->cap ? dump->cap * 2 : 16;
		void *elems = reallocarray(*dump->elems, cap, dump->elem_size);

		if (!elems)
			return -ENOMEM;
		*dump->elems = elems;
		dump->cap = cap;
	}
	err = dump->parse(nlh, (char *)*dump->elems + *dump->num * dump->elem_size);
	if (err)
		return err;
	(*dump->num)++;
	return 0;
}

int rwl_nl_get_mounts(struct rwl_nl *nl, struct rwl_nl_mount_list *list)
{
	struct rwl_nl_dump dump = {
		.nl = nl, .cmd = RWLAYER_CMD_GET_MOUNT,
		.elem_size = sizeof(*list->mounts),
		.elems = (void **)&list->mounts, .num = &list->num,
		.parse = rwl_nl_parse_mount_cb,
	};
	struct nlmsghdr *nlh;
	int err;

	memset(list, 0, sizeof(*list));
	nlh = rwl_nl_msg_start(nl, nl->family_id, RWLAYER_CMD_GET_MOUNT,
			       NLM_F_DUMP);
	err = rwl_nl_transact(nl, nlh, rwl_nl_parse_dump, &dump);
	if (err)
		rwl_nl_mount_list_free(list);
	return err;
}

static int rwl_nl_parse_rule_cb(const struct nlmsghdr *nlh, void *out)
{
	return rwl_nl_parse_rule(nlh, out);
}

static int rwl_nl_rule_cmp(const void *a, const void *b)
{
	const struct rwl_nl_rule *ra = a, *rb = b;

	return strcmp(ra->path, rb->path);
}

int rwl_nl_get_rules(struct rwl_nl *nl, uint32_t mount_id,
		     struct rwl_nl_rule_list *list)
{
	struct rwl_nl_dump dump = {
		.nl = nl, .cmd = RWLAYER_CMD_GET_RULE,
		.elem_size = sizeof(*list->rules),
		.elems = (void **)&list->rules, .num = &list->num,
		.parse = rwl_nl_parse_rule_cb,
	};
	struct nlmsghdr *nlh;
	int err;

	memset(list, 0, sizeof(*list));
	nlh = rwl_nl_msg_start(nl, nl->family_id, RWLAYER_CMD_GET_RULE,
			       NLM_F_DUMP);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, mount_id);
	err = rwl_nl_transact(nl, nlh, rwl_nl_parse_dump, &dump);
	if (err) {
		rwl_nl_rule_list_free(list);
		return err;
	}
	if (list->num)
		qsort(list->rules, list->num, sizeof(*list->rules),
		      rwl_nl_rule_cmp);
	return 0;
}

/* A request naming one rule: MOUNT_ID and RULE_PATH. */
static struct nlmsghdr *rwl_nl_rule_msg(struct rwl_nl *nl, uint8_t cmd,
					uint32_t mount_id, const char *path,
					int *err)
{
	struct nlmsghdr *nlh;

	nlh = rwl_nl_msg_start(nl, nl->family_id, cmd, NLM_F_ACK);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, mount_id);
	*err = rwl_nl_put_path(nlh, RWLAYER_A_RULE_PATH, path);
	return *err ? NULL : nlh;
}

int rwl_nl_get_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		    struct rwl_nl_rule *rule)
{
	struct nlmsghdr *nlh;
	int err;

	memset(rule, 0, sizeof(*rule));
	nlh = rwl_nl_rule_msg(nl, RWLAYER_CMD_GET_RULE, mount_id, path, &err);
	if (!nlh)
		return err;
	err = rwl_nl_do(nl, nlh, RWLAYER_CMD_GET_RULE, rwl_nl_parse_rule_cb,
			rule);
	if (err)
		rwl_nl_rule_free(rule);
	return err;
}

int rwl_nl_add_rule(struct rwl_nl *nl, const struct rwl_nl_rule *rule)
{
	struct nlmsghdr *nlh;
	int err;

	nlh = rwl_nl_rule_msg(nl, RWLAYER_CMD_ADD_RULE, rule->mount_id,
			      rule->path, &err);
	if (!nlh)
		return err;
	mnl_attr_put_u8(nlh, RWLAYER_A_RULE_KIND, rule->kind);
	if (rule->max_bytes)
		mnl_attr_put_u64(nlh, RWLAYER_A_RULE_MAX_BYTES, rule->max_bytes);
	if (rule->max_inodes)
		mnl_attr_put_u64(nlh, RWLAYER_A_RULE_MAX_INODES,
				 rule->max_inodes);
	if (rule->warn)
		mnl_attr_put_u8(nlh, RWLAYER_A_RULE_WARN, rule->warn);
	if (rule->has_mode)
		mnl_attr_put_u16(nlh, RWLAYER_A_RULE_MODE, rule->mode);
	if (rule->has_uid)
		mnl_attr_put_u32(nlh, RWLAYER_A_RULE_UID, rule->uid);
	if (rule->has_gid)
		mnl_attr_put_u32(nlh, RWLAYER_A_RULE_GID, rule->gid);
	return rwl_nl_transact(nl, nlh, NULL, NULL);
}

int rwl_nl_del_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path)
{
	struct nlmsghdr *nlh;
	int err;

	nlh = rwl_nl_rule_msg(nl, RWLAYER_CMD_DEL_RULE, mount_id, path, &err);
	if (!nlh)
		return err;
	return rwl_nl_transact(nl, nlh, NULL, NULL);
}

int rwl_nl_set_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		    const struct rwl_nl_rule_change *change)
{
	struct nlmsghdr *nlh;
	int err;

	nlh = rwl_nl_rule_msg(nl, RWLAYER_CMD_SET_RULE, mount_id, path, &err);
	if (!nlh)
		return err;
	if (change->set_max_bytes)
		mnl_attr_put_u64(nlh, RWLAYER_A_RULE_MAX_BYTES,
				 change->max_bytes);
	if (change->set_max_inodes)
		mnl_attr_put_u64(nlh, RWLAYER_A_RULE_MAX_INODES,
				 change->max_inodes);
	if (change->set_warn)
		mnl_attr_put_u8(nlh, RWLAYER_A_RULE_WARN, change->warn);
	return rwl_nl_transact(nl, nlh, NULL, NULL);
}

int rwl_nl_reset_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		      bool force)
{
	struct nlmsghdr *nlh;
	int err;

	nlh = rwl_nl_rule_msg(nl, RWLAYER_CMD_RESET_RULE, mount_id, path,
			      &err);
	if (!nlh)
		return err;
	if (force)
		mnl_attr_put(nlh, RWLAYER_A_FORCE, 0, NULL);
	return rwl_nl_transact(nl, nlh, NULL, NULL);
}

/* ---- events ---- */

int rwl_nl_subscribe_events(struct rwl_nl *nl)
{
	int rcvbuf = RWL_NL_EVENTS_RCVBUF;
	unsigned int group = nl->events_group;

	if (!group)
		return -ENOENT;
	/* A bigger queue makes overflows (and resyncs) rarer; not required. */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF,
		   &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		return -errno;
	return 0;
}

struct rwl_nl_event_ctx {
	struct rwl_nl *nl;
	rwl_nl_event_fn fn;
	void *data;
	int ret;
};

static int rwl_nl_cb_event(const struct nlmsghdr *nlh, void *data)
{
	struct rwl_nl_event_ctx *ctx = data;
	struct rwl_nl_event event;

	if (!rwl_nl_is_reply(ctx->nl, nlh, RWLAYER_CMD_EVENT))
		return MNL_CB_OK;
	if (rwl_nl_parse_event(nlh, &event))
		return MNL_CB_OK;
	ctx->ret = ctx->fn(&event, ctx->data);
	rwl_nl_event_free(&event);
	return ctx->ret ? MNL_CB_STOP : MNL_CB_OK;
}

int rwl_nl_recv_events(struct rwl_nl *nl, rwl_nl_event_fn fn, void *data)
{
	struct rwl_nl_event_ctx ctx = { .nl = nl, .fn = fn, .data = data };
	ssize_t len;

	len = mnl_socket_recvfrom(nl->sock, nl->recv_buf, RWL_NL_RECV_BUF);
	if (len < 0)
		return -errno;
	/* Multicast messages have seq and portid 0, which mnl lets through. */
	if (mnl_cb_run(nl->recv_buf, len, 0, 0, rwl_nl_cb_event, &ctx) < 0 &&
	    !ctx.ret)
		return -errno;
	return ctx.ret;
}

/* ---- names and freeing ---- */

const char *rwl_nl_event_name(enum rwlayer_event event)
{
	switch (event) {
	case RWLAYER_EVENT_THRESHOLD: return "threshold";
	case RWLAYER_EVENT_COPY_UP_FAILED: return "copy-up-failed";
	case RWLAYER_EVENT_LOWER_STALE: return "lower-stale";
	case RWLAYER_EVENT_RULE_ADDED: return "rule-added";
	case RWLAYER_EVENT_RULE_REMOVED: return "rule-removed";
	case RWLAYER_EVENT_RULE_CHANGED: return "rule-changed";
	case RWLAYER_EVENT_RULE_RESET: return "rule-reset";
	case RWLAYER_EVENT_MOUNT: return "mount";
	case RWLAYER_EVENT_UNMOUNT: return "unmount";
	}
	return "unknown";
}

const char *rwl_nl_kind_name(enum rwlayer_rule_kind kind)
{
	switch (kind) {
	case RWLAYER_RULE_UNION: return "union";
	case RWLAYER_RULE_EMPTY: return "empty";
	case RWLAYER_RULE_FILE: return "file";
	}
	return NULL;
}

enum rwlayer_rule_kind rwl_nl_kind_from_name(const char *name)
{
	enum rwlayer_rule_kind kind;

	for (kind = RWLAYER_RULE_UNION; kind <= RWLAYER_RULE_FILE; kind++)
		if (!strcmp(name, rwl_nl_kind_name(kind)))
			return kind;
	return 0;
}

void rwl_nl_mount_free(struct rwl_nl_mount *mount)
{
	size_t i;

	for (i = 0; i < mount->num_lowers; i++)
		free(mount->lowers[i]);
	free(mount->lowers);
	free(mount->upper);
	free(mount->work);
	free(mount->options);
	memset(mount, 0, sizeof(*mount));
}

void rwl_nl_mount_list_free(struct rwl_nl_mount_list *list)
{
	size_t i;

	for (i = 0; i < list->num; i++)
		rwl_nl_mount_free(&list->mounts[i]);
	free(list->mounts);
	memset(list, 0, sizeof(*list));
}

void rwl_nl_rule_free(struct rwl_nl_rule *rule)
{
	free(rule->path);
	memset(rule, 0, sizeof(*rule));
}

void rwl_nl_rule_list_free(struct rwl_nl_rule_list *list)
{
	size_t i;

	for (i = 0; i < list->num; i++)
		rwl_nl_rule_free(&list->rules[i]);
	free(list->rules);
	memset(list, 0, sizeof(*list));
}

void rwl_nl_event_free(struct rwl_nl_event *event)
{
	free(event->rule_path);
	free(event->path);
	memset(event, 0, sizeof(*event));
}
