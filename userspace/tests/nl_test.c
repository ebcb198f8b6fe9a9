// SPDX-License-Identifier: GPL-2.0
/*
 * lib/nl.c reply parsers on messages built here with libmnl: good replies,
 * and ones with a missing, truncated or wrongly typed attribute, which
 * must be refused (-EPROTO) without reading past the message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "nl.h"
#include "tap.h"

#define FAMILY_ID 0x20

/* Room for any test message; 8-byte aligned for the u64 getters. */
static uint64_t msg_buf[1024];

static struct nlmsghdr *msg_start(uint8_t cmd)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	memset(msg_buf, 0, sizeof(msg_buf));
	nlh = mnl_nlmsg_put_header(msg_buf);
	nlh->nlmsg_type = FAMILY_ID;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = RWLAYER_GENL_VERSION;
	return nlh;
}

/* u64 attributes as the kernel sends them: a PAD first when needed. */
static void put_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	if ((nlh->nlmsg_len + MNL_ATTR_HDRLEN) % 8)
		mnl_attr_put(nlh, RWLAYER_A_PAD, 0, NULL);
	mnl_attr_put_u64(nlh, type, v);
}

/* A full GET_RULE reply; @skip leaves one attribute out. */
static struct nlmsghdr *rule_msg(uint16_t skip)
{
	struct nlmsghdr *nlh = msg_start(RWLAYER_CMD_GET_RULE);

	if (skip != RWLAYER_A_MOUNT_ID)
		mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 3);
	if (skip != RWLAYER_A_RULE_PATH)
		mnl_attr_put_strz(nlh, RWLAYER_A_RULE_PATH, "/var/tmp");
	if (skip != RWLAYER_A_RULE_KIND)
		mnl_attr_put_u8(nlh, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	put_u64(nlh, RWLAYER_A_RULE_MAX_BYTES, 1ULL << 40);
	put_u64(nlh, RWLAYER_A_RULE_MAX_INODES, 50000);
	mnl_attr_put_u8(nlh, RWLAYER_A_RULE_WARN, 85);
	mnl_attr_put_u16(nlh, RWLAYER_A_RULE_MODE, 01777);
	mnl_attr_put_u32(nlh, RWLAYER_A_RULE_UID, 65534);
	put_u64(nlh, RWLAYER_A_RULE_BYTES, 0x123456789aULL);
	put_u64(nlh, RWLAYER_A_RULE_INODES, 42);
	put_u64(nlh, RWLAYER_A_RULE_COPY_UPS, 5);
	put_u64(nlh, RWLAYER_A_RULE_COPY_UP_BYTES, 8192);
	put_u64(nlh, RWLAYER_A_RULE_WHITEOUTS, 2);
	put_u64(nlh, RWLAYER_A_RULE_ERRORS, 1);
	mnl_attr_put_u32(nlh, RWLAYER_A_RULE_OPEN_FILES, 9);
	return nlh;
}

static void test_rule(void)
{
	struct rwl_nl_rule r;
	int err;

	err = rwl_nl_parse_rule(rule_msg(0), &r);
	ok(!err && r.mount_id == 3 && r.path && !strcmp(r.path, "/var/tmp") &&
	   r.kind == RWLAYER_RULE_EMPTY, "rule: id, path and kind");
	ok(r.max_bytes == 1ULL << 40 && r.max_inodes == 50000 && r.warn == 85,
	   "rule: limits and warn");
	ok(r.has_mode && r.mode == 01777 && r.has_uid && r.uid == 65534 &&
	   !r.has_gid, "rule: mode and uid present, gid absent");
	ok(r.bytes == 0x123456789aULL && r.inodes == 42 && r.copy_ups == 5 &&
	   r.copy_up_bytes == 8192 && r.whiteouts == 2 && r.errors == 1 &&
	   r.open_files == 9, "rule: counters");
	rwl_nl_rule_free(&r);

	ok(rwl_nl_parse_rule(rule_msg(RWLAYER_A_RULE_PATH), &r) == -EPROTO &&
	   !r.path, "rule without RULE_PATH refused");
	ok(rwl_nl_parse_rule(rule_msg(RWLAYER_A_MOUNT_ID), &r) == -EPROTO,
	   "rule without MOUNT_ID refused");
	ok(rwl_nl_parse_rule(rule_msg(RWLAYER_A_RULE_KIND), &r) == -EPROTO,
	   "rule without RULE_KIND refused");
}

/* Rule replies with one attribute of the wrong shape. */
static void test_rule_wrong_types(void)
{
	struct nlmsghdr *nlh;
	struct rwl_nl_rule r;
	uint16_t short_u64 = 7;

	nlh = rule_msg(RWLAYER_A_RULE_KIND);
	mnl_attr_put_u32(nlh, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO, "RULE_KIND as u32 refused");

	nlh = rule_msg(RWLAYER_A_RULE_PATH);
	mnl_attr_put(nlh, RWLAYER_A_RULE_PATH, 4, "/var");
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO,
	   "RULE_PATH without its NUL refused");

	nlh = rule_msg(RWLAYER_A_RULE_PATH);
	mnl_attr_put(nlh, RWLAYER_A_RULE_PATH, 0, NULL);
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO, "empty RULE_PATH refused");

	nlh = rule_msg(0);
	mnl_attr_put(nlh, RWLAYER_A_RULE_BYTES, sizeof(short_u64), &short_u64);
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO, "RULE_BYTES of 2 bytes refused");

	nlh = rule_msg(0);
	mnl_attr_put_u64(nlh, RWLAYER_A_RULE_OPEN_FILES, 1);
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO, "RULE_OPEN_FILES as u64 refused");

	nlh = rule_msg(0);
	mnl_attr_put_u32(nlh, RWLAYER_A_MAX + 5, 1);
	ok(!rwl_nl_parse_rule(nlh, &r) && !strcmp(r.path, "/var/tmp"),
	   "an attribute newer than this library is skipped");
	rwl_nl_rule_free(&r);
}

static void test_truncated(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *last;
	struct rwl_nl_rule r;

	nlh = rule_msg(0);
	nlh->nlmsg_len -= 2;		/* cuts the last attribute */
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO && !r.path,
	   "message ending inside an attribute refused");

	nlh = rule_msg(0);
	last = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, RWLAYER_A_RULE_OPEN_FILES, 1);
	last->nla_len = 200;		/* claims more than the message has */
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO,
	   "attribute longer than the message refused");

	nlh = rule_msg(0);
	last = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, RWLAYER_A_RULE_OPEN_FILES, 1);
	last->nla_len = 2;		/* shorter than its own header */
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO,
	   "attribute shorter than its header refused");

	nlh = msg_start(RWLAYER_CMD_GET_RULE);
	nlh->nlmsg_len = sizeof(*nlh) + 2;	/* no room for the genl header */
	ok(rwl_nl_parse_rule(nlh, &r) == -EPROTO, "message without genl header refused");
}

static struct nlmsghdr *mount_msg(void)
{
	struct nlmsghdr *nlh = msg_start(RWLAYER_CMD_GET_MOUNT);

	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 1);
	mnl_attr_put_u32(nlh, RWLAYER_A_DEV_MAJOR, 0);
	mnl_attr_put_u32(nlh, RWLAYER_A_DEV_MINOR, 45);
	mnl_attr_put_strz(nlh, RWLAYER_A_UPPER, "/run/rw/upper");
	mnl_attr_put_strz(nlh, RWLAYER_A_WORK, "/run/rw/work");
	mnl_attr_put_strz(nlh, RWLAYER_A_OPTIONS, "lower=/a:/b");
	mnl_attr_put_u32(nlh, RWLAYER_A_NUM_RULES, 10);
	return nlh;
}

static void test_mount(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct rwl_nl_mount m;

	nlh = mount_msg();
	nest = mnl_attr_nest_start(nlh, RWLAYER_A_LOWERS);
	mnl_attr_put_strz(nlh, RWLAYER_A_LOWER, "/srv/host");
	mnl_attr_put_strz(nlh, RWLAYER_A_LOWER, "/srv/root");
	mnl_attr_nest_end(nlh, nest);
	ok(!rwl_nl_parse_mount(nlh, &m) && m.id == 1 && m.dev_major == 0 &&
	   m.dev_minor == 45 && m.num_rules == 10 && !m.read_only &&
	   !strcmp(m.upper, "/run/rw/upper") && !strcmp(m.work, "/run/rw/work") &&
	   !strcmp(m.options, "lower=/a:/b"), "mount: ids, layers, options");
	ok(m.num_lowers == 2 && !strcmp(m.lowers[0], "/srv/host") &&
	   !strcmp(m.lowers[1], "/srv/root"), "mount: lowers topmost first");
	rwl_nl_mount_free(&m);

	nlh = mount_msg();
	mnl_attr_put(nlh, RWLAYER_A_READ_ONLY, 0, NULL);
	ok(!rwl_nl_parse_mount(nlh, &m) && m.read_only && !m.lowers,
	   "mount: READ_ONLY flag, no lowers nest");
	rwl_nl_mount_free(&m);

	nlh = mount_msg();
	mnl_attr_put_u32(nlh, RWLAYER_A_READ_ONLY, 1);
	ok(rwl_nl_parse_mount(nlh, &m) == -EPROTO, "READ_ONLY with a payload refused");

	nlh = mount_msg();
	nest = mnl_attr_nest_start(nlh, RWLAYER_A_LOWERS);
	mnl_attr_put_strz(nlh, RWLAYER_A_LOWER, "/srv/host");
	mnl_attr_put_u32(nlh, RWLAYER_A_LOWER, 0x41414141);	/* "AAAA", no NUL */
	mnl_attr_nest_end(nlh, nest);
	ok(rwl_nl_parse_mount(nlh, &m) == -EPROTO && !m.lowers && !m.upper,
	   "a LOWER without its NUL refused, nothing leaked");

	nlh = mount_msg();
	nest = mnl_attr_nest_start(nlh, RWLAYER_A_LOWERS);
	mnl_attr_put_strz(nlh, RWLAYER_A_LOWER, "/srv/host");
	mnl_attr_nest_end(nlh, nest);
	nest->nla_len -= 3;		/* the nest ends inside its LOWER */
	ok(rwl_nl_parse_mount(nlh, &m) == -EPROTO, "truncated LOWERS nest refused");

	nlh = msg_start(RWLAYER_CMD_GET_MOUNT);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 1);
	ok(rwl_nl_parse_mount(nlh, &m) == -EPROTO, "mount without DEV_* refused");
}

static void test_version(void)
{
	struct nlmsghdr *nlh = msg_start(RWLAYER_CMD_GET_VERSION);
	struct rwl_nl_version v;

	mnl_attr_put_strz(nlh, RWLAYER_A_VERSION, "0.1.0");
	put_u64(nlh, RWLAYER_A_FEATURES, 0x1f);
	mnl_attr_put_u32(nlh, RWLAYER_A_MAX_RULES, 64);
	ok(!rwl_nl_parse_version(nlh, &v) && !strcmp(v.version, "0.1.0") &&
	   v.features == 0x1f && v.max_rules == 64, "version reply");
	rwl_nl_version_free(&v);

	nlh = msg_start(RWLAYER_CMD_GET_VERSION);
	mnl_attr_put_strz(nlh, RWLAYER_A_VERSION, "0.1.0");
	mnl_attr_put_u32(nlh, RWLAYER_A_FEATURES, 0x1f);
	ok(rwl_nl_parse_version(nlh, &v) == -EPROTO && !v.version,
	   "FEATURES as u32 refused");
}

static void test_event(void)
{
	struct nlmsghdr *nlh = msg_start(RWLAYER_CMD_EVENT);
	struct rwl_nl_event e;

	mnl_attr_put_u32(nlh, RWLAYER_A_EVENT, RWLAYER_EVENT_THRESHOLD);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 1);
	mnl_attr_put_strz(nlh, RWLAYER_A_RULE_PATH, "/var");
	mnl_attr_put_u8(nlh, RWLAYER_A_EVENT_PERCENT, 80);
	mnl_attr_put_u8(nlh, RWLAYER_A_EVENT_LIMIT, RWLAYER_LIMIT_BYTES);
	put_u64(nlh, RWLAYER_A_RULE_BYTES, 103 * 1048576ULL);
	put_u64(nlh, RWLAYER_A_RULE_MAX_BYTES, 128 * 1048576ULL);
	ok(!rwl_nl_parse_event(nlh, &e) && e.event == RWLAYER_EVENT_THRESHOLD &&
	   e.mount_id == 1 && !strcmp(e.rule_path, "/var") && !e.path &&
	   e.has_percent && e.percent == 80 && e.has_limit &&
	   e.limit == RWLAYER_LIMIT_BYTES && e.has_bytes &&
	   e.bytes == 103 * 1048576ULL && e.has_max_bytes && !e.has_inodes &&
	   !e.has_errno && !e.has_dev, "threshold event");
	rwl_nl_event_free(&e);

	nlh = msg_start(RWLAYER_CMD_EVENT);
	mnl_attr_put_u32(nlh, RWLAYER_A_EVENT, RWLAYER_EVENT_COPY_UP_FAILED);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 2);
	mnl_attr_put_u32(nlh, RWLAYER_A_ERRNO, ENOSPC);
	mnl_attr_put_strz(nlh, RWLAYER_A_PATH, "/var/log/big");
	ok(!rwl_nl_parse_event(nlh, &e) && e.has_errno && e.err == ENOSPC &&
	   !strcmp(e.path, "/var/log/big") && !e.rule_path, "copy-up-failed event");
	rwl_nl_event_free(&e);

	nlh = msg_start(RWLAYER_CMD_GET_RULE);
	mnl_attr_put_u32(nlh, RWLAYER_A_EVENT, RWLAYER_EVENT_MOUNT);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 2);
	ok(rwl_nl_parse_event(nlh, &e) == -EPROTO, "event of another command refused");

	nlh = msg_start(RWLAYER_CMD_EVENT);
	mnl_attr_put_u8(nlh, RWLAYER_A_EVENT, RWLAYER_EVENT_MOUNT);
	mnl_attr_put_u32(nlh, RWLAYER_A_MOUNT_ID, 2);
	ok(rwl_nl_parse_event(nlh, &e) == -EPROTO, "EVENT as u8 refused");
}

/* An NLMSG_ERROR as the kernel builds it; @orig echoes a request. */
static struct nlmsghdr *error_msg(int error, bool capped, const char *msg)
{
	struct nlmsghdr *nlh, *orig;
	struct nlmsgerr *e;

	memset(msg_buf, 0, sizeof(msg_buf));
	nlh = mnl_nlmsg_put_header(msg_buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 8;
	e->msg.nlmsg_type = FAMILY_ID;
	if (!capped) {
		/* the request's payload follows the echoed header */
		orig = mnl_nlmsg_put_extra_header(nlh, 8);
		(void)orig;
	}
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	}
	return nlh;
}

static void test_error(void)
{
	char *extack;
	int err;

	err = rwl_nl_parse_error(error_msg(-EPERM, true, "needs CAP_SYS_ADMIN"),
				 &extack);
	ok(err == -EPERM && extack && !strcmp(extack, "needs CAP_SYS_ADMIN"),
	   "capped error with extack message");
	free(extack);

	err = rwl_nl_parse_error(error_msg(-EEXIST, false, "rule exists"), &extack);
	ok(err == -EEXIST && extack && !strcmp(extack, "rule exists"),
	   "uncapped error: message found after the echoed request");
	free(extack);

	err = rwl_nl_parse_error(error_msg(0, true, NULL), &extack);
	ok(err == 0 && !extack, "ACK is 0, no message");

	err = rwl_nl_parse_error(error_msg(-ENOENT, true, NULL), &extack);
	ok(err == -ENOENT && !extack, "error without extack");

	{
		struct nlmsghdr *nlh = error_msg(-EINVAL, true, NULL);

		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put(nlh, NLMSGERR_ATTR_MSG, 3, "bad");
		ok(rwl_nl_parse_error(nlh, &extack) == -EPROTO && !extack,
		   "extack message without NUL refused");
	}
	{
		struct nlmsghdr *nlh = error_msg(-EINVAL, true, NULL);

		nlh->nlmsg_len = sizeof(*nlh) + 2;
		ok(rwl_nl_parse_error(nlh, &extack) == -EPROTO,
		   "truncated NLMSG_ERROR refused");
	}
	{
		struct nlmsghdr *nlh = error_msg(-EINVAL, false, "x");
		struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		e->msg.nlmsg_len = 4000;	/* echo longer than the message */
		ok(rwl_nl_parse_error(nlh, &extack) == -EPROTO,
		   "echoed request longer than the error refused");
	}
	ok(rwl_nl_parse_error(error_msg(5, true, NULL), &extack) == -EPROTO,
	   "positive error code refused");
}

static void test_names(void)
{
	ok(!strcmp(rwl_nl_kind_name(RWLAYER_RULE_FILE), "file") &&
	   !rwl_nl_kind_name(0) && !rwl_nl_kind_name(9), "kind names");
	ok(rwl_nl_kind_from_name("empty") == RWLAYER_RULE_EMPTY &&
	   !rwl_nl_kind_from_name("Empty") && !rwl_nl_kind_from_name(""),
	   "kind from name");
	ok(!strcmp(rwl_nl_event_name(RWLAYER_EVENT_THRESHOLD), "threshold") &&
	   !strcmp(rwl_nl_event_name(RWLAYER_EVENT_UNMOUNT), "unmount") &&
	   !strcmp(rwl_nl_event_name(99), "unknown"), "event names");
}

/*
 * The real kernel: resolving the family either works (module loaded) or
 * ends in the controller's ENOENT, which callers turn into "module not
 * loaded"; anything else means the request/ACK path is broken.
 */
static void test_open(void)
{
	struct rwl_nl *nl = NULL;
	int err = rwl_nl_open(&nl);

	ok(err == 0 || (err == -ENOENT && !nl),
	   "rwl_nl_open: 0, or -ENOENT without the module (got %d)", err);
	if (!err) {
		struct rwl_nl_version v;

		ok(!rwl_nl_get_version(nl, &v) && v.version,
		   "GET_VERSION answers when the module is loaded");
		rwl_nl_version_free(&v);
	}
	rwl_nl_close(nl);
}

/* The reason given for a missing family follows the sysfs directory. */
static void test_missing_family_reason(void)
{
	char dir[] = "/tmp/nl_test.XXXXXX";

	if (!mkdtemp(dir)) {
		ok(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	ok(strstr(rwl_nl_missing_family_reason(dir),
		  "only in the initial network namespace") != NULL,
	   "module in sysfs: the family is missing from this network namespace");
	rmdir(dir);
	ok(!strcmp(rwl_nl_missing_family_reason(dir),
		   "the rwlayer module is not loaded"),
	   "module not in sysfs: not loaded");
}

int main(void)
{
	test_rule();
	test_rule_wrong_types();
	test_truncated();
	test_mount();
	test_version();
	test_event();
	test_error();
	test_names();
	test_open();
	test_missing_family_reason();
	return tap_done();
}
