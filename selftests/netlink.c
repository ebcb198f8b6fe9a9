// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "rwlayer" (kmod/uapi/linux/rwlayer.h), driven
 * from a test program as overlayctl and rwlayerd would: what GET_VERSION,
 * GET_MOUNT and GET_RULE report about real mounts, run-time rule changes
 * and what they do to the filesystem at once (cached dentries included),
 * resets, the errno and extended ack of every kind of bad request, who may
 * do what (unprivileged, in a user namespace, in another network
 * namespace), and the events of the "events" multicast group.
 *
 * Every rejection must carry an extack message (NLMSGERR_ATTR_MSG) that
 * says what was wrong; the tests check the errno and the message, and for
 * a bad attribute also that NLMSGERR_ATTR_OFFS points at it.
 */
#include <sys/mman.h>

#include "rwl_genl.h"
#include "rwl_rw.h"

#define KiB		1024
#define MAX_OBJS	80	/* more than the mounts or rules of any test */
#define BOGUS_ID	0xfffffff0u
#define EVENT_WAIT_MS	3000
#define QUIET_MS	300

/*
 * lower/:
 *   etc/hostname            var/ log old  var/tmp/keep
 *   deep/a/b/c/file         data/ d      th/ ti/ (bytes and inodes)
 * rw/ is a 32 MiB tmpfs with upper/ and work/; upper/th and upper/ti
 * exist before the mount so that creating files in them charges exactly
 * one inode each (no parent copy-up).
 */
FIXTURE(nl) {
	struct rwl_env env;
	struct rwl_rw rw;
	struct rwl_nl nl;
	struct rwl_obj obj;
	char *m;
};

FIXTURE_SETUP(nl)
{
	static const struct {
		const char *name;
		char kind;
		const char *text;
	} tree[] = {
		{ "etc", 'd', NULL },
		{ "etc/hostname", 'f', "host" },
		{ "var", 'd', NULL },
		{ "var/log", 'f', "boot" },
		{ "var/old", 'f', "old" },
		{ "var/tmp", 'd', NULL },
		{ "var/tmp/keep", 'f', "keep" },
		{ "deep", 'd', NULL },
		{ "deep/a", 'd', NULL },
		{ "deep/a/b", 'd', NULL },
		{ "deep/a/b/c", 'd', NULL },
		{ "deep/a/b/c/file", 'f', "deep" },
		{ "data", 'd', NULL },
		{ "data/d", 'f', "d" },
		{ "th", 'd', NULL },
		{ "ti", 'd', NULL },
	};
	size_t i;

	self->nl.fd = -1;
	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755,size=32m"));
	self->m = self->rw.mnt;
	for (i = 0; i < ARRAY_SIZE(tree); i++) {
		ASSERT_EQ(0, rwl_mk(self->rw.lower, tree[i].name, tree[i].kind,
				    tree[i].text)) TH_LOG("%s", tree[i].name);
	}
	ASSERT_EQ(0, rwl_mk(self->rw.upper, "th", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.upper, "ti", 'd', NULL));
	ASSERT_EQ(0, rwl_nl_open(&self->nl))
		TH_LOG("family %s not found: is rwlayer.ko loaded?", RWLAYER_GENL_NAME);
}

FIXTURE_TEARDOWN(nl)
{
	rwl_nl_close(&self->nl);
	RWL_ENV_TEARDOWN(&self->env);
}

/*
 * The last request (@call, on line @line) failed with @err, and its extack
 * message contains @text; with @offs >= 0, NLMSGERR_ATTR_OFFS names the
 * attribute at that offset, with @miss > 0 NLMSGERR_ATTR_MISS_TYPE names
 * @miss as the missing attribute.
 */
static void expect_nl_err(struct __test_metadata *_metadata, const struct rwl_nl *nl,
			  int ret, int err, const char *text, int offs, int miss,
			  const char *call, int line)
{
	EXPECT_EQ(err, ret)
		TH_LOG("line %d: %s: %s, extack \"%s\"", line, call,
		       ret < 0 ? strerror(-ret) : "no error", nl->ext_msg);
	EXPECT_NE(NULL, strstr(nl->ext_msg, text))
		TH_LOG("line %d: %s: extack \"%s\" does not say \"%s\"", line, call,
		       nl->ext_msg, text);
	if (offs >= 0) {
		EXPECT_TRUE(nl->has_offs) TH_LOG("line %d: %s: no NLMSGERR_ATTR_OFFS", line, call);
		EXPECT_EQ((uint32_t)offs, nl->ext_offs) TH_LOG("line %d: %s", line, call);
	}
	if (miss > 0) {
		EXPECT_TRUE(nl->has_miss)
			TH_LOG("line %d: %s: no NLMSGERR_ATTR_MISS_TYPE", line, call);
		EXPECT_EQ((uint32_t)miss, nl->ext_miss_type) TH_LOG("line %d: %s", line, call);
	}
}

#define EXPECT_NL_ERR(nl, ret, err, text) \
	expect_nl_err(_metadata, nl, ret, err, text, -1, 0, #ret, __LINE__)
#define EXPECT_NL_BAD_ATTR(nl, ret, err, text, offs) \
	expect_nl_err(_metadata, nl, ret, err, text, offs, 0, #ret, __LINE__)
#define EXPECT_NL_MISSING(nl, ret, text, type) \
	expect_nl_err(_metadata, nl, ret, -EINVAL, text, -1, type, #ret, __LINE__)

static void req_init(struct rwl_msg *m, const struct rwl_nl *nl, uint8_t cmd,
		     uint16_t flags)
{
	rwl_msg_init(m, nl->family, flags, cmd, RWLAYER_GENL_VERSION);
}

/* A rule request: MOUNT_ID and (unless NULL) RULE_PATH. */
static void rule_req(struct rwl_msg *m, const struct rwl_nl *nl, uint8_t cmd,
		     uint32_t id, const char *path)
{
	req_init(m, nl, cmd, 0);
	rwl_msg_put_u32(m, RWLAYER_A_MOUNT_ID, id);
	if (path)
		rwl_msg_put_str(m, RWLAYER_A_RULE_PATH, path);
}

/* A request that answers with one object (or none): 0 or -errno. */
static int nl_do(struct rwl_nl *nl, struct rwl_msg *m, struct rwl_obj *obj)
{
	int n = rwl_nl_talk(nl, m, obj, 1);

	if (n < 0)
		return n;
	return n == (obj ? 1 : 0) ? 0 : -EBADMSG;
}

static int add_rule(struct rwl_nl *nl, uint32_t id, const char *path,
		    uint8_t kind, uint64_t max_bytes, uint64_t max_inodes,
		    uint8_t warn)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_ADD_RULE, id, path);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, kind);
	if (max_bytes)
		rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_BYTES, max_bytes);
	if (max_inodes)
		rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_INODES, max_inodes);
	if (warn)
		rwl_msg_put_u8(&m, RWLAYER_A_RULE_WARN, warn);
	return nl_do(nl, &m, NULL);
}

static int del_rule(struct rwl_nl *nl, uint32_t id, const char *path)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_DEL_RULE, id, path);
	return nl_do(nl, &m, NULL);
}

static int set_rule_bytes(struct rwl_nl *nl, uint32_t id, const char *path,
			  uint64_t max_bytes)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_SET_RULE, id, path);
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_BYTES, max_bytes);
	return nl_do(nl, &m, NULL);
}

static int reset_rule(struct rwl_nl *nl, uint32_t id, const char *path,
		      bool force)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_RESET_RULE, id, path);
	if (force)
		rwl_msg_put_flag(&m, RWLAYER_A_FORCE);
	return nl_do(nl, &m, NULL);
}

static int get_rule(struct rwl_nl *nl, uint32_t id, const char *path,
		    struct rwl_obj *obj)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_GET_RULE, id, path);
	return nl_do(nl, &m, obj);
}

static int get_mount(struct rwl_nl *nl, uint32_t id, struct rwl_obj *obj)
{
	struct rwl_msg m;

	rule_req(&m, nl, RWLAYER_CMD_GET_MOUNT, id, NULL);
	return nl_do(nl, &m, obj);
}

/* Dumps: how many objects, or -errno. */
static int dump_mounts(struct rwl_nl *nl, struct rwl_obj *objs, int max)
{
	struct rwl_msg m;

	req_init(&m, nl, RWLAYER_CMD_GET_MOUNT, NLM_F_DUMP);
	return rwl_nl_talk(nl, &m, objs, max);
}

static int dump_rules(struct rwl_nl *nl, uint32_t id, struct rwl_obj *objs,
		      int max)
{
	struct rwl_msg m;

	req_init(&m, nl, RWLAYER_CMD_GET_RULE, NLM_F_DUMP);
	rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, id);
	return rwl_nl_talk(nl, &m, objs, max);
}

static const struct rwl_obj *find_rule(const struct rwl_obj *objs, int n,
				       const char *path)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(objs[i].rule_path, path))
			return &objs[i];
	return NULL;
}

static const struct rwl_obj *find_mount(const struct rwl_obj *objs, int n,
					uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (objs[i].mount_id == id)
			return &objs[i];
	return NULL;
}

/*
 * The id of the rwlayer mounted on @mnt, found as tools find it: the
 * mount whose DEV_MAJOR:DEV_MINOR is the directory's st_dev.
 */
static int mount_id_of(struct rwl_nl *nl, const char *mnt, uint32_t *id)
{
	struct stat st;
	int err;

	if (stat(mnt, &st))
		return -errno;
	err = rwl_nl_mount_id(nl, st.st_dev, id);
	if (err == -ENOENT)
		rwl_log("no mount in the GET_MOUNT dump has st_dev of %s", mnt);
	else if (err)
		rwl_log("GET_MOUNT dump: %s (%s)", strerror(-err), nl->ext_msg);
	return err;
}

/* Mount the fixture's layers with @extra options and find the id. */
static int mount_rw(FIXTURE_DATA(nl) *self, const char *extra, uint32_t *id)
{
	int err = rwl_rw_mount(&self->env, &self->rw, extra);

	if (err) {
		rwl_log("mount %s with %s: %s", self->m, extra, strerror(-err));
		return err;
	}
	return mount_id_of(&self->nl, self->m, id);
}

/* Write @len bytes to @path (created, truncated); 0 or the errno. */
static int write_bytes(const char *path, size_t len)
{
	char buf[64 * KiB];
	ssize_t n;
	int fd;

	if (len > sizeof(buf))
		return E2BIG;
	memset(buf, 'x', len);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	n = write(fd, buf, len);
	close(fd);
	if (n < 0)
		return errno;
	return n == (ssize_t)len ? 0 : EIO;
}

/* Append @text to the existing @path; 0 or the errno. */
static int append_text(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	close(fd);
	if (n < 0)
		return errno;
	return n == (ssize_t)strlen(text) ? 0 : EIO;
}

static int create_file(const char *path)
{
	return rwl_try_open(path, O_WRONLY | O_CREAT | O_EXCL);
}

/* The next event about mount @id, skipping other mounts' events. */
static int next_event(struct rwl_nl *listener, uint32_t id, struct rwl_obj *o)
{
	int err;

	do {
		err = rwl_nl_next_event(listener, o, EVENT_WAIT_MS);
	} while (!err && o->mount_id != id);
	return err;
}

/* ---- GET_VERSION, GET_MOUNT, GET_RULE ---------------------------------- */

TEST_F(nl, family_and_version)
{
	struct rwl_msg m;
	char want[64];
	ssize_t n;

	EXPECT_EQ(RWLAYER_GENL_VERSION, self->nl.version);
	EXPECT_EQ(RWLAYER_A_MAX, self->nl.maxattr);
	EXPECT_NE(0, self->nl.events_group) TH_LOG("no \"%s\" multicast group",
						  RWLAYER_MCGRP_EVENTS);
	req_init(&m, &self->nl, RWLAYER_CMD_GET_VERSION, 0);
	ASSERT_EQ(0, nl_do(&self->nl, &m, &self->obj)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(RWLAYER_CMD_GET_VERSION, self->obj.cmd);
	EXPECT_EQ(0, self->obj.bad_attr);
	ASSERT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_VERSION));
	ASSERT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_FEATURES));
	ASSERT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_MAX_RULES));
	EXPECT_NE(0, strlen(self->obj.version));
	/* The same version as modinfo / /sys/module/rwlayer/version. */
	n = rwl_read_text("/sys/module/rwlayer/version", want, sizeof(want));
	ASSERT_LT(0, n) TH_LOG("/sys/module/rwlayer/version: %s", strerror(-n));
	want[strcspn(want, "\n")] = '\0';
	EXPECT_STREQ(want, self->obj.version);
	EXPECT_EQ(RWLAYER_FEATURE_RUNTIME_RULES | RWLAYER_FEATURE_RESET |
		  RWLAYER_FEATURE_THRESHOLDS | RWLAYER_FEATURE_EVENTS |
		  RWLAYER_FEATURE_EMPTY_DIR_OWNER, self->obj.features);
	EXPECT_LE(8, self->obj.max_rules);
}

/* Expected fields of one mount in a GET_MOUNT answer. */
struct want_mount {
	const char *mnt;
	const char *lowers[RWL_NL_MAX_LOWERS];
	const char *upper, *work;	/* NULL: read-only mount */
	const char *options;
	uint32_t num_rules;
};

static void check_mount(struct __test_metadata *_metadata,
			const struct rwl_obj *o, const struct want_mount *w)
{
	struct stat st;
	dev_t dev;
	int i;

	ASSERT_NE(NULL, o) TH_LOG("mount %s not in the answer", w->mnt);
	EXPECT_EQ(0, o->bad_attr) TH_LOG("%s: attribute %d has a wrong size",
					 w->mnt, o->bad_attr);
	EXPECT_EQ(0, o->dup_attr) TH_LOG("%s: attribute %d came twice", w->mnt, o->dup_attr);
	ASSERT_EQ(0, stat(w->mnt, &st));
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_DEV_MAJOR));
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_DEV_MINOR));
	EXPECT_EQ(major(st.st_dev), o->dev_major) TH_LOG("%s", w->mnt);
	EXPECT_EQ(minor(st.st_dev), o->dev_minor) TH_LOG("%s", w->mnt);
	/* The "M:m" field of mountinfo, which is what tools match. */
	ASSERT_EQ(0, rwl_mount_dev(w->mnt, &dev));
	EXPECT_EQ(dev, makedev(o->dev_major, o->dev_minor));
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_LOWERS));
	for (i = 0; i < RWL_NL_MAX_LOWERS && w->lowers[i]; i++) {
		EXPECT_STREQ(w->lowers[i], o->lowers[i]) TH_LOG("%s lower %d", w->mnt, i);
	}
	EXPECT_EQ(i, o->num_lowers) TH_LOG("%s", w->mnt);
	EXPECT_EQ(!w->upper, RWL_HAS(o, RWLAYER_A_READ_ONLY));
	EXPECT_EQ(!!w->upper, RWL_HAS(o, RWLAYER_A_UPPER));
	EXPECT_EQ(!!w->work, RWL_HAS(o, RWLAYER_A_WORK));
	if (w->upper) {
		EXPECT_STREQ(w->upper, o->upper);
		EXPECT_STREQ(w->work, o->work);
	}
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_OPTIONS));
	EXPECT_STREQ(w->options, o->options);
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_NUM_RULES));
	EXPECT_EQ(w->num_rules, o->num_rules) TH_LOG("%s", w->mnt);
}

/*
 * Three mounts: rule=none over one lower, two rules over two lowers, and
 * a read-only one; the dump lists each as mounted, GET_MOUNT do answers
 * the same, and an unmounted one is gone from both.
 */
TEST_F(nl, get_mount_dump)
{
	char lower2[RWL_PATH], upper2[RWL_PATH], work2[RWL_PATH], mnt2[RWL_PATH];
	char mnt3[RWL_PATH], data[RWL_PATH * 8], opts[3][RWL_PATH * 8];
	uint32_t id1, id2, id3;
	struct want_mount w[3];
	struct rwl_obj *objs;
	int n;

	rwl_pathf(lower2, "%s/lower2", self->env.base);
	rwl_pathf(upper2, "%s/upper2", self->rw.rw);
	rwl_pathf(work2, "%s/work2", self->rw.rw);
	rwl_pathf(mnt2, "%s/mnt2", self->env.base);
	rwl_pathf(mnt3, "%s/mnt3", self->env.base);
	ASSERT_EQ(0, rwl_mkdir(lower2, 0755));
	ASSERT_EQ(0, rwl_mkdir(upper2, 0755));
	ASSERT_EQ(0, rwl_mkdir(work2, 0755));

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id1));
	snprintf(data, sizeof(data),
		 "lower=%s:%s,upper=%s,work=%s,rule=/var:union,rule=/tmp:empty:size=1M",
		 self->rw.lower, lower2, upper2, work2);
	ASSERT_EQ(0, rwl_mount(&self->env, mnt2, 0, data));
	ASSERT_EQ(0, mount_id_of(&self->nl, mnt2, &id2));
	snprintf(data, sizeof(data), "lower=%s:%s", lower2, self->rw.lower);
	ASSERT_EQ(0, rwl_mount(&self->env, mnt3, 0, data));
	ASSERT_EQ(0, mount_id_of(&self->nl, mnt3, &id3));
	/* Ids are handed out in mount order and never reused. */
	EXPECT_LT(id1, id2);
	EXPECT_LT(id2, id3);

	snprintf(opts[0], sizeof(opts[0]), "lower=%s,upper=%s,work=%s,rule=none",
		 self->rw.lower, self->rw.upper, self->rw.work);
	snprintf(opts[1], sizeof(opts[1]),
		 "lower=%s:%s,upper=%s,work=%s,rule=/var:union,rule=/tmp:empty:size=1048576",
		 self->rw.lower, lower2, upper2, work2);
	snprintf(opts[2], sizeof(opts[2]), "lower=%s:%s", lower2, self->rw.lower);
	w[0] = (struct want_mount){ self->m, { self->rw.lower }, self->rw.upper,
				    self->rw.work, opts[0], 0 };
	w[1] = (struct want_mount){ mnt2, { self->rw.lower, lower2 }, upper2, work2,
				    opts[1], 2 };
	w[2] = (struct want_mount){ mnt3, { lower2, self->rw.lower }, NULL, NULL,
				    opts[2], 0 };

	objs = calloc(MAX_OBJS, sizeof(*objs));
	ASSERT_NE(NULL, objs);
	n = dump_mounts(&self->nl, objs, MAX_OBJS);
	ASSERT_LE(3, n) TH_LOG("dump: %d (%s)", n, self->nl.ext_msg);
	ASSERT_GE(MAX_OBJS, n);
	check_mount(_metadata, find_mount(objs, n, id1), &w[0]);
	check_mount(_metadata, find_mount(objs, n, id2), &w[1]);
	check_mount(_metadata, find_mount(objs, n, id3), &w[2]);
	EXPECT_EQ(RWLAYER_CMD_GET_MOUNT, objs[0].cmd);

	/* The do form answers the same for one mount. */
	ASSERT_EQ(0, get_mount(&self->nl, id2, &self->obj)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(id2, self->obj.mount_id);
	check_mount(_metadata, &self->obj, &w[1]);

	/* Unmounted: gone from the dump, and do says ENOENT. */
	ASSERT_EQ(0, rwl_umount(&self->env, mnt3));
	n = dump_mounts(&self->nl, objs, MAX_OBJS);
	ASSERT_LE(2, n);
	EXPECT_EQ(NULL, find_mount(objs, n, id3));
	EXPECT_NE(NULL, find_mount(objs, n, id1));
	EXPECT_NL_ERR(&self->nl, get_mount(&self->nl, id3, &self->obj), -ENOENT,
		      "no rwlayer mount has this id");
	free(objs);
}

TEST_F(nl, get_mount_bogus_id)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	req_init(&m, &self->nl, RWLAYER_CMD_GET_MOUNT, 0);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, BOGUS_ID);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, &self->obj), -ENOENT,
			   "no rwlayer mount has this id", offs);
	/* 0 is never handed out. */
	EXPECT_NL_ERR(&self->nl, get_mount(&self->nl, 0, &self->obj), -ENOENT,
		      "no rwlayer mount has this id");
	/* The do form needs an id: the dump is the way to list them all. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_MOUNT, 0);
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, &self->obj),
			  "missing mount id", RWLAYER_A_MOUNT_ID);
}

static void check_rule_attrs(struct __test_metadata *_metadata,
			     const struct rwl_obj *o, uint32_t id)
{
	static const int always[] = {
		RWLAYER_A_MOUNT_ID, RWLAYER_A_RULE_PATH, RWLAYER_A_RULE_KIND,
		RWLAYER_A_RULE_MAX_BYTES, RWLAYER_A_RULE_MAX_INODES,
		RWLAYER_A_RULE_WARN, RWLAYER_A_RULE_BYTES, RWLAYER_A_RULE_INODES,
		RWLAYER_A_RULE_COPY_UPS, RWLAYER_A_RULE_COPY_UP_BYTES,
		RWLAYER_A_RULE_WHITEOUTS, RWLAYER_A_RULE_ERRORS,
		RWLAYER_A_RULE_OPEN_FILES,
	};
	size_t i;

	ASSERT_NE(NULL, o);
	EXPECT_EQ(0, o->bad_attr) TH_LOG("%s: attribute %d has a wrong size",
					 o->rule_path, o->bad_attr);
	EXPECT_EQ(0, o->dup_attr) TH_LOG("%s: attribute %d came twice",
					 o->rule_path, o->dup_attr);
	for (i = 0; i < ARRAY_SIZE(always); i++) {
		EXPECT_TRUE(RWL_HAS(o, always[i]))
			TH_LOG("%s: attribute %d missing", o->rule_path, always[i]);
	}
	EXPECT_EQ(id, o->mount_id);
	EXPECT_EQ(RWLAYER_CMD_GET_RULE, o->cmd);
}

/* The counters of GET_RULE follow what is done under the rule. */
TEST_F(nl, get_rule_stats)
{
	const struct rwl_obj *var, *host;
	struct rwl_obj *objs;
	uint32_t id;
	int n, fd;

	/* upper/var exists: its copy-up would charge an inode. */
	ASSERT_EQ(0, rwl_mk(self->rw.upper, "var", 'd', NULL));
	ASSERT_EQ(0, mount_rw(self, "rule=/var:union:inodes=100,rule=/etc/hostname:file", &id));
	objs = calloc(MAX_OBJS, sizeof(*objs));
	ASSERT_NE(NULL, objs);

	n = dump_rules(&self->nl, id, objs, MAX_OBJS);
	ASSERT_EQ(2, n) TH_LOG("%s", self->nl.ext_msg);
	var = find_rule(objs, n, "/var");
	host = find_rule(objs, n, "/etc/hostname");
	check_rule_attrs(_metadata, var, id);
	check_rule_attrs(_metadata, host, id);
	EXPECT_EQ(RWLAYER_RULE_UNION, var->kind);
	EXPECT_EQ(RWLAYER_RULE_FILE, host->kind);
	EXPECT_EQ(0, var->max_bytes);
	EXPECT_EQ(100, var->max_inodes);
	EXPECT_EQ(0, var->warn);
	EXPECT_EQ(0, var->bytes);
	EXPECT_EQ(0, var->inodes);
	EXPECT_EQ(0, var->copy_ups);
	EXPECT_EQ(0, var->whiteouts);
	EXPECT_EQ(0, var->errors);
	EXPECT_EQ(0, var->open_files);
	/* Owner attributes only when an empty rule set them. */
	EXPECT_FALSE(RWL_HAS(var, RWLAYER_A_RULE_MODE));
	EXPECT_FALSE(RWL_HAS(var, RWLAYER_A_RULE_UID));
	EXPECT_FALSE(RWL_HAS(var, RWLAYER_A_RULE_GID));

	/* A new file of 5000 bytes: one inode, two pages. */
	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "var/new"), 5000));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(1, self->obj.inodes);
	EXPECT_EQ(8192, self->obj.bytes);
	EXPECT_EQ(0, self->obj.copy_ups);

	/* Appending to a lower file copies it up (4 bytes: one page). */
	ASSERT_EQ(0, append_text(rwl_at(self->m, "var/log"), "+"));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(1, self->obj.copy_ups);
	EXPECT_EQ(4096, self->obj.copy_up_bytes);
	EXPECT_EQ(2, self->obj.inodes);
	EXPECT_EQ(8192 + 4096, self->obj.bytes);

	/* Deleting a lower file leaves a whiteout, which is an inode. */
	ASSERT_EQ(0, unlink(rwl_at(self->m, "var/old")));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(1, self->obj.whiteouts);
	EXPECT_EQ(3, self->obj.inodes);

	/* Open files are counted while open, reading or not. */
	fd = open(rwl_at(self->m, "var/log"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(1, self->obj.open_files);
	close(fd);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.open_files);

	/* The file rule counts its own copy-up, /var does not see it. */
	ASSERT_EQ(0, append_text(rwl_at(self->m, "etc/hostname"), "!"));
	n = dump_rules(&self->nl, id, objs, MAX_OBJS);
	ASSERT_EQ(2, n);
	host = find_rule(objs, n, "/etc/hostname");
	var = find_rule(objs, n, "/var");
	ASSERT_NE(NULL, host);
	ASSERT_NE(NULL, var);
	EXPECT_EQ(1, host->copy_ups);
	EXPECT_EQ(1, host->inodes);
	EXPECT_EQ(1, var->copy_ups);

	/* A path without a rule: ENOENT. */
	EXPECT_NL_ERR(&self->nl, get_rule(&self->nl, id, "/etc", &self->obj),
		      -ENOENT, "no rule for that path");
	free(objs);
}

/* A rule=none mount has no rules to dump; the dump ends cleanly. */
TEST_F(nl, get_rule_dump_empty)
{
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0)) TH_LOG("%s", self->nl.ext_msg);
	ASSERT_EQ(0, get_mount(&self->nl, id, &self->obj));
	EXPECT_EQ(0, self->obj.num_rules);
}

/* ---- ADD_RULE, DEL_RULE, SET_RULE -------------------------------------- */

/*
 * A rule added over a subtree whose dentries are cached (stat'ed, a
 * directory open, the cwd inside) makes it writable at once; deleting
 * the rule makes it read-only again and what was written stays.
 */
TEST_F(nl, add_del_rule_cached)
{
	char p[RWL_PATH];
	struct stat st;
	uint32_t id;
	int dirfd, fd;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, stat(rwl_at(self->m, "deep/a/b/c/file"), &st));
	dirfd = open(rwl_at(self->m, "deep/a/b/c"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dirfd);
	ASSERT_EQ(0, chdir(rwl_at(self->m, "deep/a")));
	EXPECT_EQ(-1, openat(dirfd, "new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "deep/a/b/c/file"), O_WRONLY));
	EXPECT_EQ(-1, mkdir("b/c/sub", 0755));
	EXPECT_EQ(EROFS, errno);

	ASSERT_EQ(0, add_rule(&self->nl, id, "/deep", RWLAYER_RULE_UNION, 0, 0, 0))
		TH_LOG("%s", self->nl.ext_msg);
	fd = openat(dirfd, "new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	EXPECT_LE(0, fd) TH_LOG("create through the open directory: %s", strerror(errno));
	if (fd >= 0) {
		EXPECT_EQ(3, write(fd, "new", 3));
		close(fd);
	}
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "deep/a/b/c/file"), "changed"));
	EXPECT_EQ(0, mkdir("b/c/sub", 0755)) TH_LOG("mkdir in the cwd: %s", strerror(errno));
	/* Outside the rule nothing changed. */
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/hostname"), O_WRONLY));
	ASSERT_EQ(0, get_mount(&self->nl, id, &self->obj));
	EXPECT_EQ(1, self->obj.num_rules);
	EXPECT_NE(NULL, strstr(self->obj.options, ",rule=/deep:union"))
		TH_LOG("options: %s", self->obj.options);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/deep", &self->obj));
	EXPECT_EQ(RWLAYER_RULE_UNION, self->obj.kind);

	ASSERT_EQ(0, del_rule(&self->nl, id, "/deep")) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(-1, openat(dirfd, "new2", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "deep/a/b/c/file"), O_WRONLY));
	EXPECT_EQ(-1, unlinkat(dirfd, "new", 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, rmdir("b/c/sub"));
	EXPECT_EQ(EROFS, errno);
	/* What was written stays visible. */
	EXPECT_STREQ("new", rwl_cat(self->m, "deep/a/b/c/new"));
	EXPECT_STREQ("changed", rwl_cat(self->m, "deep/a/b/c/file"));
	EXPECT_EQ(0, stat(rwl_pathf(p, "%s/deep/a/b/c/sub", self->m), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_NL_ERR(&self->nl, get_rule(&self->nl, id, "/deep", &self->obj),
		      -ENOENT, "no rule for that path");
	ASSERT_EQ(0, get_mount(&self->nl, id, &self->obj));
	EXPECT_EQ(0, self->obj.num_rules);
	EXPECT_NE(NULL, strstr(self->obj.options, ",rule=none"))
		TH_LOG("options: %s", self->obj.options);
	close(dirfd);
}

/* An empty rule's directory gets the mode and owner the request asked for. */
TEST_F(nl, add_empty_rule_owner)
{
	struct rwl_msg m;
	struct stat st;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/var/tmp");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	rwl_msg_put_u16(&m, RWLAYER_A_RULE_MODE, 01770);
	rwl_msg_put_u32(&m, RWLAYER_A_RULE_UID, 123);
	rwl_msg_put_u32(&m, RWLAYER_A_RULE_GID, 456);
	ASSERT_EQ(0, nl_do(&self->nl, &m, NULL)) TH_LOG("%s", self->nl.ext_msg);
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/tmp"), &st));
	EXPECT_EQ(01770, st.st_mode & 07777);
	EXPECT_EQ(123, st.st_uid);
	EXPECT_EQ(456, st.st_gid);
	/* Empty: the lower's content is hidden. */
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/keep")));
	EXPECT_EQ(0, create_file(rwl_at(self->m, "var/tmp/new")));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var/tmp", &self->obj));
	EXPECT_EQ(RWLAYER_RULE_EMPTY, self->obj.kind);
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_RULE_MODE));
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_RULE_UID));
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_RULE_GID));
	EXPECT_EQ(01770, self->obj.mode);
	EXPECT_EQ(123, self->obj.uid);
	EXPECT_EQ(456, self->obj.gid);
}

/* Lower limits apply to the next write; 0 lifts a limit. */
TEST_F(nl, set_rule_limits)
{
	struct rwl_msg m;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, add_rule(&self->nl, id, "/th", RWLAYER_RULE_UNION, 16 * KiB, 0, 0));
	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/f1"), 8 * KiB));

	/* Down to the usage: nothing more fits. */
	ASSERT_EQ(0, set_rule_bytes(&self->nl, id, "/th", 8 * KiB)) TH_LOG("%s", self->nl.ext_msg);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/th", &self->obj));
	EXPECT_EQ(8 * KiB, self->obj.max_bytes);
	EXPECT_EQ(8 * KiB, self->obj.bytes);
	EXPECT_EQ(0, self->obj.errors);
	EXPECT_EQ(ENOSPC, write_bytes(rwl_at(self->m, "th/f2"), 4 * KiB));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/th", &self->obj));
	EXPECT_EQ(1, self->obj.errors);
	EXPECT_EQ(8 * KiB, self->obj.bytes);

	/* The other limits change independently; the byte limit stays. */
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/th");
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_INODES, 2);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_WARN, 80);
	ASSERT_EQ(0, nl_do(&self->nl, &m, NULL)) TH_LOG("%s", self->nl.ext_msg);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/th", &self->obj));
	EXPECT_EQ(8 * KiB, self->obj.max_bytes);
	EXPECT_EQ(2, self->obj.max_inodes);
	EXPECT_EQ(80, self->obj.warn);
	/* f1, f2 (created before its write was refused): no third inode. */
	EXPECT_EQ(2, self->obj.inodes);
	EXPECT_EQ(ENOSPC, create_file(rwl_at(self->m, "th/f3")));

	/* No limits at all: both writes go through. */
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/th");
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_BYTES, 0);
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_INODES, 0);
	ASSERT_EQ(0, nl_do(&self->nl, &m, NULL));
	EXPECT_EQ(0, write_bytes(rwl_at(self->m, "th/f2"), 4 * KiB));
	EXPECT_EQ(0, create_file(rwl_at(self->m, "th/f3")));
	ASSERT_EQ(0, get_mount(&self->nl, id, &self->obj));
	EXPECT_NE(NULL, strstr(self->obj.options, ",rule=/th:union"))
		TH_LOG("options: %s", self->obj.options);
	EXPECT_EQ(NULL, strstr(self->obj.options, "size="))
		TH_LOG("options: %s", self->obj.options);
}

/* Limits above 2^60 could wrap the charges: refused, nothing changes. */
TEST_F(nl, limits_bounded)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/big");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	offs = rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_BYTES, (1ULL << 60) + 1);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "limit above 2^60", offs);
	EXPECT_EQ(-ENOENT, get_rule(&self->nl, id, "/big", &self->obj));
	ASSERT_EQ(0, add_rule(&self->nl, id, "/big", RWLAYER_RULE_UNION,
			      1ULL << 60, 0, 0));
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/big");
	offs = rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_INODES, UINT64_MAX);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "limit above 2^60", offs);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/big", &self->obj));
	EXPECT_EQ(1ULL << 60, self->obj.max_bytes);
	EXPECT_EQ(0, self->obj.max_inodes);
}

TEST_F(nl, set_rule_kind_change)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, add_rule(&self->nl, id, "/data", RWLAYER_RULE_UNION, 0, 0, 0));
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/data");
	offs = rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_BYTES, 4096);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "kind cannot change", offs);
	/* Refused whole: the limit did not change either. */
	ASSERT_EQ(0, get_rule(&self->nl, id, "/data", &self->obj));
	EXPECT_EQ(RWLAYER_RULE_UNION, self->obj.kind);
	EXPECT_EQ(0, self->obj.max_bytes);
	/* The same kind again is no change. */
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_EQ(0, nl_do(&self->nl, &m, NULL)) TH_LOG("%s", self->nl.ext_msg);
}

TEST_F(nl, set_rule_missing)
{
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	EXPECT_NL_ERR(&self->nl, set_rule_bytes(&self->nl, id, "/data", 4096), -ENOENT,
		      "no rule for that path");
	/* A prefix of a rule's path is not that rule. */
	EXPECT_NL_ERR(&self->nl, set_rule_bytes(&self->nl, id, "/va", 4096), -ENOENT,
		      "no rule for that path");
}

TEST_F(nl, add_rule_duplicate)
{
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/var", RWLAYER_RULE_UNION, 0, 0, 0),
		      -EEXIST, "already has a rule");
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/var", RWLAYER_RULE_EMPTY, 0, 0, 0),
		      -EEXIST, "already has a rule");
	ASSERT_EQ(0, add_rule(&self->nl, id, "/data", RWLAYER_RULE_UNION, 0, 0, 0));
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/data", RWLAYER_RULE_UNION, 0, 0, 0),
		      -EEXIST, "already has a rule");
	EXPECT_EQ(2, dump_rules(&self->nl, id, NULL, 0));
	/* The union under /var is still what it was. */
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(RWLAYER_RULE_UNION, self->obj.kind);
}

TEST_F(nl, del_rule_missing)
{
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	EXPECT_NL_ERR(&self->nl, del_rule(&self->nl, id, "/data"), -ENOENT,
		      "no rule for that path");
	ASSERT_EQ(0, del_rule(&self->nl, id, "/var"));
	EXPECT_NL_ERR(&self->nl, del_rule(&self->nl, id, "/var"), -ENOENT,
		      "no rule for that path");
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/* MAX_RULES rules fit, one more does not; the dump spans several reads. */
TEST_F(nl, add_rule_table_full)
{
	struct rwl_obj *objs;
	char path[32];
	uint32_t id, i, max;
	struct rwl_msg m;
	int n;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	req_init(&m, &self->nl, RWLAYER_CMD_GET_VERSION, 0);
	ASSERT_EQ(0, nl_do(&self->nl, &m, &self->obj));
	max = self->obj.max_rules;
	ASSERT_GT(MAX_OBJS, max);
	for (i = 0; i < max; i++) {
		snprintf(path, sizeof(path), "/r%02u", i);
		ASSERT_EQ(0, add_rule(&self->nl, id, path, RWLAYER_RULE_UNION, 0, 0, 0))
			TH_LOG("rule %u: %s", i, self->nl.ext_msg);
	}
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/one-more", RWLAYER_RULE_UNION,
					  0, 0, 0),
		      -ENOSPC, "as many rules as it can hold");
	objs = calloc(MAX_OBJS, sizeof(*objs));
	ASSERT_NE(NULL, objs);
	n = dump_rules(&self->nl, id, objs, MAX_OBJS);
	EXPECT_EQ((int)max, n) TH_LOG("%s", self->nl.ext_msg);
	for (i = 0; i < max; i++) {
		snprintf(path, sizeof(path), "/r%02u", i);
		EXPECT_NE(NULL, find_rule(objs, n, path)) TH_LOG("%s missing", path);
	}
	ASSERT_EQ(0, get_mount(&self->nl, id, &self->obj));
	EXPECT_EQ(max, self->obj.num_rules);
	/* A freed slot takes a new rule. */
	ASSERT_EQ(0, del_rule(&self->nl, id, "/r07"));
	EXPECT_EQ(0, add_rule(&self->nl, id, "/one-more", RWLAYER_RULE_UNION, 0, 0, 0));
	free(objs);
}

/* ---- RESET_RULE -------------------------------------------------------- */

/* Created files go, modified ones show the lower again, deleted ones return. */
TEST_F(nl, reset_rule_content)
{
	struct stat st;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	ASSERT_EQ(0, rwl_write_text(rwl_at(self->m, "var/log"), "changed"));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "var/old")));
	ASSERT_EQ(0, rwl_mk(self->m, "var/dir", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->m, "var/dir/f", 'f', "f"));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "var/tmp/keep")));
	ASSERT_EQ(0, rmdir(rwl_at(self->m, "var/tmp")));
	/* Cached as they are now. */
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/new"), &st));
	ASSERT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/old")));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_NE(0, self->obj.bytes);

	ASSERT_EQ(0, reset_rule(&self->nl, id, "/var", false)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/new")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/dir")));
	EXPECT_STREQ("boot", rwl_cat(self->m, "var/log"));
	EXPECT_STREQ("old", rwl_cat(self->m, "var/old"));
	EXPECT_STREQ("keep", rwl_cat(self->m, "var/tmp/keep"));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.bytes);
	EXPECT_GE(1, self->obj.inodes) TH_LOG("only /var itself may stay charged");
	/* Still a writable rule. */
	EXPECT_EQ(0, rwl_mk(self->m, "var/new", 'f', "again"));
	EXPECT_STREQ("again", rwl_cat(self->m, "var/new"));
}

TEST_F(nl, reset_rule_busy)
{
	char buf[16] = "";
	uint32_t id;
	int fd;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	fd = open(rwl_at(self->m, "var/new"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_NL_ERR(&self->nl, reset_rule(&self->nl, id, "/var", false), -EBUSY,
		      "files are open");
	/* Refused: nothing was reset. */
	EXPECT_STREQ("new", rwl_cat(self->m, "var/new"));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(1, self->obj.open_files);

	ASSERT_EQ(0, reset_rule(&self->nl, id, "/var", true)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/new")));
	/* The open file keeps its (deleted) upper copy. */
	EXPECT_EQ(3, pread(fd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("new", buf);
	close(fd);
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.open_files);
	EXPECT_EQ(0, reset_rule(&self->nl, id, "/var", false)) TH_LOG("%s", self->nl.ext_msg);
}

/* The root's rule cannot be reset, implicit or added. */
TEST_F(nl, reset_root_refused)
{
	uint32_t id;
	int n;

	ASSERT_EQ(0, mount_rw(self, NULL, &id));
	n = dump_rules(&self->nl, id, &self->obj, 1);
	ASSERT_EQ(1, n) TH_LOG("an upper without rule= has one implicit rule");
	EXPECT_STREQ("/", self->obj.rule_path);
	EXPECT_EQ(RWLAYER_RULE_UNION, self->obj.kind);
	ASSERT_EQ(0, rwl_mk(self->m, "etc/new", 'f', "new"));
	EXPECT_NL_ERR(&self->nl, reset_rule(&self->nl, id, "/", false), -EINVAL,
		      "root's rule cannot be reset");
	EXPECT_NL_ERR(&self->nl, reset_rule(&self->nl, id, "/", true), -EINVAL,
		      "root's rule cannot be reset");
	EXPECT_STREQ("new", rwl_cat(self->m, "etc/new"));
}

/*
 * Resetting an inner rule leaves the outer one's content; resetting the
 * outer one resets the inner rule too, and an empty rule is empty again.
 */
TEST_F(nl, reset_nested_rules)
{
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union,rule=/var/tmp:empty", &id));
	ASSERT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/keep")));
	ASSERT_EQ(0, rwl_mk(self->m, "var/tmp/t", 'f', "t"));
	ASSERT_EQ(0, rwl_mk(self->m, "var/a", 'f', "a"));

	ASSERT_EQ(0, reset_rule(&self->nl, id, "/var/tmp", false)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/t")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/keep")));
	EXPECT_STREQ("a", rwl_cat(self->m, "var/a"));

	ASSERT_EQ(0, rwl_mk(self->m, "var/tmp/t", 'f', "t2"));
	ASSERT_EQ(0, reset_rule(&self->nl, id, "/var", false)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/a")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/t")));
	/* Still an empty rule: the lower's var/tmp/keep stays hidden. */
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "var/tmp")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/keep")));
	EXPECT_EQ(0, rwl_mk(self->m, "var/tmp/t", 'f', "t3"));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var/tmp", &self->obj));
	EXPECT_EQ(RWLAYER_RULE_EMPTY, self->obj.kind);
	EXPECT_EQ(4096, self->obj.bytes);
	EXPECT_EQ(2, dump_rules(&self->nl, id, NULL, 0));
}

/*
 * A reset of @path by a child process with a socket of its own, tried
 * again while a reset of a rule inside it (the parent's probe) is under
 * way.
 */
static pid_t reset_in_child(uint32_t id, const char *path)
{
	struct rwl_nl nl;
	pid_t pid = fork();
	int ret;

	if (pid)
		return pid;
	if (rwl_nl_open(&nl))
		_exit(2);
	do
		ret = reset_rule(&nl, id, path, false);
	while (ret == -EBUSY);
	_exit(ret ? 1 : 0);
}

static bool child_done(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

/*
 * A reset does not hold the mount's rules up while it removes a big tree:
 * requests for other rules go on, and what would race with the removal
 * (a reset inside it, a rule added or deleted around or inside it,
 * deleting it) is refused at once with EBUSY rather than waiting for it
 * (a delete that waited would then have deleted the rule).
 */
TEST_F_TIMEOUT(nl, reset_lets_other_rules_work, 240)
{
	char name[64];
	int i, j, ret, status = 0;
	bool done;
	uint32_t id;
	pid_t pid;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union,rule=/var/tmp:union,rule=/etc:union",
			      &id));
	/* A second or more to remove under TCG, far more than a request. */
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "var/big%d", i);
		ASSERT_EQ(0, rwl_mk(self->m, name, 'd', NULL));
		for (j = 0; j < 100; j++) {
			snprintf(name, sizeof(name), "var/big%d/f%d", i, j);
			ASSERT_EQ(0, rwl_mk(self->m, name, 'f', NULL));
		}
	}

	pid = reset_in_child(id, "/var");
	ASSERT_LT(0, pid);
	/* Under way once a reset inside it is refused; it waited before. */
	do {
		ret = reset_rule(&self->nl, id, "/var/tmp", false);
		done = child_done(pid, &status);
	} while (!ret && !done);
	EXPECT_NL_ERR(&self->nl, ret, -EBUSY, "under way");

	/* The other rules of the mount meanwhile. */
	EXPECT_EQ(0, get_rule(&self->nl, id, "/etc", &self->obj));
	EXPECT_EQ(0, set_rule_bytes(&self->nl, id, "/etc", 1 << 20));
	EXPECT_EQ(0, add_rule(&self->nl, id, "/deep", RWLAYER_RULE_UNION, 0, 0, 0));
	EXPECT_EQ(0, rwl_mk(self->m, "etc/during", 'f', "during"));
	EXPECT_EQ(4, dump_rules(&self->nl, id, NULL, 0));
	/* Only what the reset could not finish first: its answers. */
	if (!done && !child_done(pid, &status)) {
		EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/var/big1",
						  RWLAYER_RULE_EMPTY, 0, 0, 0),
			      -EBUSY, "being reset");
		EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/",
						  RWLAYER_RULE_UNION, 0, 0, 0),
			      -EBUSY, "being reset");
		EXPECT_NL_ERR(&self->nl, del_rule(&self->nl, id, "/var"), -EBUSY,
			      "being reset");
		EXPECT_NL_ERR(&self->nl, del_rule(&self->nl, id, "/var/tmp"), -EBUSY,
			      "being reset");
		EXPECT_NL_ERR(&self->nl, reset_rule(&self->nl, id, "/var", false),
			      -EBUSY, "under way");
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	} else {
		TH_LOG("the reset ended before the conflicting requests");
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* All of it gone, the rules as they were. */
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/big0")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/big29")));
	EXPECT_STREQ("boot", rwl_cat(self->m, "var/log"));
	EXPECT_STREQ("during", rwl_cat(self->m, "etc/during"));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.bytes);
	EXPECT_EQ(0, reset_rule(&self->nl, id, "/var/tmp", false)) TH_LOG("%s", self->nl.ext_msg);
	EXPECT_EQ(0, del_rule(&self->nl, id, "/var")) TH_LOG("%s", self->nl.ext_msg);
}

/* ---- malformed requests ------------------------------------------------ */

TEST_F(nl, missing_attrs)
{
	struct rwl_msg m;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, NULL);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, NULL), "missing rule path",
			  RWLAYER_A_RULE_PATH);

	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, NULL), "missing rule kind",
			  RWLAYER_A_RULE_KIND);

	req_init(&m, &self->nl, RWLAYER_CMD_DEL_RULE, 0);
	rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, "/data");
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, NULL), "missing mount id",
			  RWLAYER_A_MOUNT_ID);

	rule_req(&m, &self->nl, RWLAYER_CMD_RESET_RULE, id, NULL);
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, NULL), "missing rule path",
			  RWLAYER_A_RULE_PATH);

	rule_req(&m, &self->nl, RWLAYER_CMD_GET_RULE, id, NULL);
	EXPECT_NL_MISSING(&self->nl, nl_do(&self->nl, &m, &self->obj),
			  "missing rule path", RWLAYER_A_RULE_PATH);

	/* A dump's error comes in NLMSG_DONE, with its message. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_RULE, NLM_F_DUMP);
	EXPECT_NL_ERR(&self->nl, rwl_nl_talk(&self->nl, &m, NULL, 0), -EINVAL,
		      "missing mount id");
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0)) TH_LOG("nothing was added");
}

/* An attribute whose nla_len runs past the end of the message. */
TEST_F(nl, truncated_attr)
{
	static const char path[] = "/data";
	struct rwl_msg m;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	req_init(&m, &self->nl, RWLAYER_CMD_ADD_RULE, 0);
	rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, id);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	rwl_msg_put_raw(&m, NLA_HDRLEN + 200, RWLAYER_A_RULE_PATH, path, sizeof(path));
	EXPECT_NL_ERR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL, "leftover");

	/* An nla_len shorter than the attribute header itself. */
	req_init(&m, &self->nl, RWLAYER_CMD_ADD_RULE, 0);
	rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, id);
	rwl_msg_put_raw(&m, 2, RWLAYER_A_RULE_PATH, path, sizeof(path));
	EXPECT_NL_ERR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL, "leftover");

	/* The same on a dump request. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_RULE, NLM_F_DUMP);
	rwl_msg_put_raw(&m, NLA_HDRLEN + 64, RWLAYER_A_MOUNT_ID, &id, sizeof(id));
	EXPECT_NL_ERR(&self->nl, rwl_nl_talk(&self->nl, &m, NULL, 0), -EINVAL, "leftover");
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/* Integers of the wrong width are refused, not read short or long. */
TEST_F(nl, wrong_width)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	/* A u8 where a u32 belongs. */
	req_init(&m, &self->nl, RWLAYER_CMD_ADD_RULE, 0);
	offs = rwl_msg_put_u8(&m, RWLAYER_A_MOUNT_ID, (uint8_t)id);
	rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "invalid attribute length", offs);
	/* A u32 where a u8 belongs. */
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	offs = rwl_msg_put_u32(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "invalid attribute length", offs);
	/* A u32 where a u64 belongs. */
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_RULE_MAX_BYTES, 4096);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "invalid attribute length", offs);
	/* A flag with a payload (the policy code answers ERANGE). */
	rule_req(&m, &self->nl, RWLAYER_CMD_RESET_RULE, id, "/data");
	offs = rwl_msg_put_u32(&m, RWLAYER_A_FORCE, 1);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "policy", offs);
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/* Values outside the policy's range. */
TEST_F(nl, out_of_range)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	offs = rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_FILE + 1);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "out of range", offs);
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	offs = rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, 0);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "out of range", offs);
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	offs = rwl_msg_put_u8(&m, RWLAYER_A_RULE_WARN, 101);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "out of range", offs);
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	offs = rwl_msg_put_u16(&m, RWLAYER_A_RULE_MODE, 010000);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -ERANGE,
			   "out of range", offs);
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/* RULE_PATH: a NUL-terminated absolute path without . or .., < PATH_MAX. */
TEST_F(nl, bad_rule_path)
{
	static const struct {
		const char *path;
		const char *msg;
	} bad[] = {
		{ "data", "must be absolute" },
		{ "", "must be absolute" },
		{ "/data/../etc", ". and .. are not allowed" },
		{ "/..", ". and .. are not allowed" },
		{ "/data/./x", ". and .. are not allowed" },
		{ "/data//x", "empty path component" },
		{ "/data/", "empty path component" },
	};
	struct rwl_msg m;
	char *longpath;
	uint32_t id;
	size_t i;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req_init(&m, &self->nl, RWLAYER_CMD_ADD_RULE, 0);
		rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, id);
		offs = rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, bad[i].path);
		rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
		expect_nl_err(_metadata, &self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			      bad[i].msg, offs, 0, bad[i].path, __LINE__);
	}

	/* No NUL at the end. */
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, NULL);
	offs = rwl_msg_put(&m, RWLAYER_A_RULE_PATH, "/data", 5);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "policy", offs);

	/* PATH_MAX bytes with the NUL pass the policy; the 256-byte name not. */
	longpath = malloc(RWLAYER_PATH_MAX + 2);
	ASSERT_NE(NULL, longpath);
	memset(longpath, 'a', RWLAYER_PATH_MAX + 1);
	longpath[0] = '/';
	longpath[RWLAYER_PATH_MAX - 1] = '\0';
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, NULL);
	offs = rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, longpath);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "longer than NAME_MAX", offs);
	/* One more byte is over PATH_MAX: the policy refuses it. */
	longpath[RWLAYER_PATH_MAX - 1] = 'a';
	longpath[RWLAYER_PATH_MAX] = '\0';
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, NULL);
	offs = rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, longpath);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "policy", offs);
	free(longpath);
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/* Strict validation: an attribute a command does not take is refused. */
TEST_F(nl, unknown_attr)
{
	struct rwl_msg m;
	uint32_t id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	/* Beyond RWLAYER_A_MAX. */
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_MAX + 1, 0);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "Unknown attribute type", offs);
	/* Known to the family, but not an ADD_RULE attribute. */
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/data");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	offs = rwl_msg_put_flag(&m, RWLAYER_A_FORCE);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "Unsupported attribute", offs);
	/* SET_RULE cannot change an empty rule's owner. */
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/data");
	offs = rwl_msg_put_u32(&m, RWLAYER_A_RULE_UID, 0);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "Unsupported attribute", offs);
	/* Dumps are strict too. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_RULE, NLM_F_DUMP);
	rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, id);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_MAX + 7, 0);
	EXPECT_NL_BAD_ATTR(&self->nl, rwl_nl_talk(&self->nl, &m, NULL, 0), -EINVAL,
			   "Unknown attribute type", offs);
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0));
}

/*
 * Commands the family does not have, or not in that form.  The genetlink
 * core answers these before the family sees them, and neither 6.1 nor
 * 6.12 sets an extack message for them: only the errno is checked.
 */
TEST_F(nl, unknown_command)
{
	static const uint8_t cmds[] = {
		RWLAYER_CMD_UNSPEC, RWLAYER_CMD_EVENT, RWLAYER_CMD_MAX + 1, 200,
	};
	struct rwl_msg m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		req_init(&m, &self->nl, cmds[i], 0);
		EXPECT_EQ(-EOPNOTSUPP, nl_do(&self->nl, &m, NULL)) TH_LOG("cmd %u", cmds[i]);
		req_init(&m, &self->nl, cmds[i], NLM_F_DUMP);
		EXPECT_EQ(-EOPNOTSUPP, rwl_nl_talk(&self->nl, &m, NULL, 0))
			TH_LOG("cmd %u dump", cmds[i]);
	}
	/* Do-only commands have no dump. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_VERSION, NLM_F_DUMP);
	EXPECT_EQ(-EOPNOTSUPP, rwl_nl_talk(&self->nl, &m, NULL, 0));
	req_init(&m, &self->nl, RWLAYER_CMD_ADD_RULE, NLM_F_DUMP);
	EXPECT_EQ(-EOPNOTSUPP, rwl_nl_talk(&self->nl, &m, NULL, 0));
	/* The family is still there and answers. */
	req_init(&m, &self->nl, RWLAYER_CMD_GET_VERSION, 0);
	EXPECT_EQ(0, nl_do(&self->nl, &m, &self->obj));
}

/* Every command that names a mount refuses an id no mount has. */
TEST_F(nl, bogus_mount_id)
{
	static const uint8_t cmds[] = {
		RWLAYER_CMD_GET_RULE, RWLAYER_CMD_ADD_RULE, RWLAYER_CMD_DEL_RULE,
		RWLAYER_CMD_SET_RULE, RWLAYER_CMD_RESET_RULE,
	};
	struct rwl_msg m;
	uint32_t id, bogus = BOGUS_ID;
	char what[32];
	size_t i;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		req_init(&m, &self->nl, cmds[i], 0);
		offs = rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, BOGUS_ID);
		rwl_msg_put_str(&m, RWLAYER_A_RULE_PATH, "/var");
		if (cmds[i] == RWLAYER_CMD_ADD_RULE)
			rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
		snprintf(what, sizeof(what), "command %u", cmds[i]);
		expect_nl_err(_metadata, &self->nl, nl_do(&self->nl, &m, &self->obj), -ENOENT,
			      "no rwlayer mount has this id", offs, 0, what, __LINE__);
	}
	req_init(&m, &self->nl, RWLAYER_CMD_GET_RULE, NLM_F_DUMP);
	rwl_msg_put_u32(&m, RWLAYER_A_MOUNT_ID, bogus);
	EXPECT_NL_ERR(&self->nl, rwl_nl_talk(&self->nl, &m, NULL, 0), -ENOENT,
		      "no rwlayer mount has this id");
	/* The real mount was not touched. */
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.max_bytes);
}

/* Well-formed requests the family refuses for what they ask. */
TEST_F(nl, add_rule_refused)
{
	char lowermnt[RWL_PATH], data[RWL_PATH * 2];
	struct rwl_msg m;
	uint32_t id, ro_id;
	int offs;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/");
	offs = rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "root can only be a union rule", offs);

	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/var/tmp");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_RULE_UID, (uint32_t)-1);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "not a valid uid", offs);

	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/var/tmp");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_EMPTY);
	offs = rwl_msg_put_u32(&m, RWLAYER_A_RULE_GID, (uint32_t)-1);
	EXPECT_NL_BAD_ATTR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
			   "not a valid gid", offs);

	rule_req(&m, &self->nl, RWLAYER_CMD_ADD_RULE, id, "/var");
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	rwl_msg_put_u16(&m, RWLAYER_A_RULE_MODE, 0755);
	EXPECT_NL_ERR(&self->nl, nl_do(&self->nl, &m, NULL), -EINVAL,
		      "for the directory of an empty rule");

	/* An empty rule over a file of the union. */
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, id, "/etc/hostname", RWLAYER_RULE_EMPTY,
					  0, 0, 0),
		      -ENOTDIR, "not a directory");
	EXPECT_EQ(0, dump_rules(&self->nl, id, NULL, 0)) TH_LOG("a refused rule stays out");
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/hostname"), O_WRONLY));

	/* A mount without an upper layer has no rules. */
	rwl_pathf(lowermnt, "%s/romnt", self->env.base);
	snprintf(data, sizeof(data), "lower=%s", self->rw.lower);
	ASSERT_EQ(0, rwl_mount(&self->env, lowermnt, 0, data));
	ASSERT_EQ(0, mount_id_of(&self->nl, lowermnt, &ro_id));
	EXPECT_NL_ERR(&self->nl, add_rule(&self->nl, ro_id, "/var", RWLAYER_RULE_UNION,
					  0, 0, 0),
		      -EROFS, "no upper layer");
}

/* ---- permissions ------------------------------------------------------- */

enum probe_step {
	PROBE_VERSION,
	PROBE_MOUNTS,
	PROBE_RULES,
	PROBE_RULE,
	PROBE_ADD,
	PROBE_DEL,
	PROBE_SET,
	PROBE_RESET,
	PROBE_JOIN,
	PROBE_STEPS,
};

static const char *const probe_names[PROBE_STEPS] = {
	"GET_VERSION", "GET_MOUNT dump", "GET_RULE dump", "GET_RULE",
	"ADD_RULE", "DEL_RULE", "SET_RULE", "RESET_RULE", "join events",
};

/* What a child saw, in memory shared with the test. */
struct probes {
	char setup_err[160];	/* why the child could not probe, or "" */
	uint32_t uid;		/* getuid() where it probed */
	uint32_t id;		/* the mount to probe */
	struct {
		int ret;
		char msg[256];
	} step[PROBE_STEPS];
};

static void probe_result(struct probes *pr, enum probe_step s, int ret,
			 const struct rwl_nl *nl)
{
	pr->step[s].ret = ret;
	snprintf(pr->step[s].msg, sizeof(pr->step[s].msg), "%s", nl->ext_msg);
}

/* Every command and the events group, as whoever the child is now. */
static void run_probes(struct probes *pr)
{
	static struct rwl_nl nl;
	struct rwl_msg m;
	int err;

	pr->uid = getuid();
	err = rwl_nl_open(&nl);
	if (err) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "open the family: %s",
			 strerror(-err));
		return;
	}
	req_init(&m, &nl, RWLAYER_CMD_GET_VERSION, 0);
	probe_result(pr, PROBE_VERSION, rwl_nl_talk(&nl, &m, NULL, 0), &nl);
	probe_result(pr, PROBE_MOUNTS, dump_mounts(&nl, NULL, 0), &nl);
	probe_result(pr, PROBE_RULES, dump_rules(&nl, pr->id, NULL, 0), &nl);
	rule_req(&m, &nl, RWLAYER_CMD_GET_RULE, pr->id, "/var");
	probe_result(pr, PROBE_RULE, rwl_nl_talk(&nl, &m, NULL, 0), &nl);
	probe_result(pr, PROBE_ADD,
		     add_rule(&nl, pr->id, "/data", RWLAYER_RULE_UNION, 0, 0, 0), &nl);
	probe_result(pr, PROBE_DEL, del_rule(&nl, pr->id, "/var"), &nl);
	probe_result(pr, PROBE_SET, set_rule_bytes(&nl, pr->id, "/var", 4096), &nl);
	probe_result(pr, PROBE_RESET, reset_rule(&nl, pr->id, "/var", true), &nl);
	rwl_nl_clear_ext(&nl);
	probe_result(pr, PROBE_JOIN, rwl_nl_join_events(&nl), &nl);
	rwl_nl_close(&nl);
}

/* Run @fn(@pr) in a child; 0 once it exited normally. */
static int in_child(void (*fn)(struct probes *), struct probes *pr)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fn(pr);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}

static void probe_as_nobody(struct probes *pr)
{
	/* From root to another uid: every capability goes. */
	if (setgroups(0, NULL) || setgid(RWL_NOBODY) || setuid(RWL_NOBODY)) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "drop to uid %d: %s",
			 RWL_NOBODY, strerror(errno));
		return;
	}
	run_probes(pr);
}

/* Root in a new user namespace: all capabilities, but only there. */
static void probe_in_userns(struct probes *pr)
{
	if (unshare(CLONE_NEWUSER)) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "unshare(CLONE_NEWUSER): %s",
			 strerror(errno));
		return;
	}
	if (rwl_write_text("/proc/self/setgroups", "deny") ||
	    rwl_write_text("/proc/self/uid_map", "0 0 1") ||
	    rwl_write_text("/proc/self/gid_map", "0 0 1")) {
		snprintf(pr->setup_err, sizeof(pr->setup_err),
			 "map root into the new user namespace failed");
		return;
	}
	run_probes(pr);
}

/* Reading worked, every change and the events group were refused. */
static void check_probes(struct __test_metadata *_metadata, const struct probes *pr,
			 uint32_t want_uid)
{
	int s;

	ASSERT_STREQ("", pr->setup_err);
	EXPECT_EQ(want_uid, pr->uid);
	EXPECT_EQ(1, pr->step[PROBE_VERSION].ret) TH_LOG("%s", pr->step[PROBE_VERSION].msg);
	EXPECT_LE(1, pr->step[PROBE_MOUNTS].ret) TH_LOG("%s", pr->step[PROBE_MOUNTS].msg);
	EXPECT_EQ(1, pr->step[PROBE_RULES].ret) TH_LOG("%s", pr->step[PROBE_RULES].msg);
	EXPECT_EQ(1, pr->step[PROBE_RULE].ret) TH_LOG("%s", pr->step[PROBE_RULE].msg);
	for (s = PROBE_ADD; s <= PROBE_RESET; s++) {
		EXPECT_EQ(-EPERM, pr->step[s].ret)
			TH_LOG("%s: %s (%s)", probe_names[s], strerror(-pr->step[s].ret),
			       pr->step[s].msg);
		EXPECT_NE(NULL, strstr(pr->step[s].msg, "CAP_SYS_ADMIN"))
			TH_LOG("%s: extack \"%s\"", probe_names[s], pr->step[s].msg);
	}
	EXPECT_EQ(-EPERM, pr->step[PROBE_JOIN].ret)
		TH_LOG("join events: %s", strerror(-pr->step[PROBE_JOIN].ret));
}

/* The probes left /var's rule and content as they were. */
static void check_var_rule_untouched(struct __test_metadata *_metadata,
				     FIXTURE_DATA(nl) *self, uint32_t id)
{
	EXPECT_EQ(1, dump_rules(&self->nl, id, NULL, 0));
	ASSERT_EQ(0, get_rule(&self->nl, id, "/var", &self->obj));
	EXPECT_EQ(0, self->obj.max_bytes);
	EXPECT_STREQ("new", rwl_cat(self->m, "var/new"));
}

static struct probes *probes_new(uint32_t id)
{
	struct probes *pr;

	pr = mmap(NULL, sizeof(*pr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (pr == MAP_FAILED)
		return NULL;
	memset(pr, 0, sizeof(*pr));
	pr->id = id;
	return pr;
}

/* Without CAP_SYS_ADMIN: reading works, changing and events do not. */
TEST_F(nl, unprivileged)
{
	struct probes *pr;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	pr = probes_new(id);
	ASSERT_NE(NULL, pr);
	ASSERT_EQ(0, in_child(probe_as_nobody, pr));
	check_probes(_metadata, pr, RWL_NOBODY);
	check_var_rule_untouched(_metadata, self, id);
	munmap(pr, sizeof(*pr));
}

/* CAP_SYS_ADMIN in a user namespace of one's own is not enough. */
TEST_F(nl, user_namespace)
{
	struct probes *pr;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	pr = probes_new(id);
	ASSERT_NE(NULL, pr);
	ASSERT_EQ(0, in_child(probe_in_userns, pr));
	check_probes(_metadata, pr, 0);
	check_var_rule_untouched(_metadata, self, id);
	munmap(pr, sizeof(*pr));
}

/*
 * The capability is checked against the socket's opener as well as the
 * sender (netlink_capable()): a privileged program must not be usable as
 * a proxy for an unprivileged one that hands it a socket (writing to it
 * as to any fd, without a destination address: with one, the kernel
 * takes the sender's own choice and checks only the sender), nor the
 * other way round.  step[PROBE_ADD] is the unprivileged child's ADD_RULE
 * on the socket root opened.
 */
static struct rwl_nl inherited = { .fd = -1 };

static void probe_inherited_socket(struct probes *pr)
{
	if (setgroups(0, NULL) || setgid(RWL_NOBODY) || setuid(RWL_NOBODY)) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "drop to uid %d: %s",
			 RWL_NOBODY, strerror(errno));
		return;
	}
	pr->uid = getuid();
	probe_result(pr, PROBE_ADD,
		     add_rule(&inherited, pr->id, "/data", RWLAYER_RULE_UNION, 0, 0, 0),
		     &inherited);
}

/* Send @fd over the unix socket @sock. */
static int send_fd(int sock, int fd)
{
	char data = 'f', control[CMSG_SPACE(sizeof(int))] = "";
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* The fd that came over the unix socket @sock, or -errno. */
static int recv_fd(int sock)
{
	char data, control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* The unprivileged child opens a socket of the family and hands it over. */
static int fd_sock[2];

static void open_socket_as_nobody(struct probes *pr)
{
	static struct rwl_nl nl;
	int err;

	if (setgroups(0, NULL) || setgid(RWL_NOBODY) || setuid(RWL_NOBODY)) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "drop to uid %d: %s",
			 RWL_NOBODY, strerror(errno));
		return;
	}
	err = rwl_nl_open(&nl);
	if (!err)
		err = send_fd(fd_sock[1], nl.fd);
	if (err)
		snprintf(pr->setup_err, sizeof(pr->setup_err), "open and send a socket: %s",
			 strerror(-err));
}

TEST_F(nl, passed_socket)
{
	static struct rwl_nl adopted;
	struct probes *pr;
	uint32_t id;
	int fd;

	ASSERT_EQ(0, mount_rw(self, "rule=/var:union", &id));
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	pr = probes_new(id);
	ASSERT_NE(NULL, pr);

	/* Opened by root, used by nobody. */
	inherited = self->nl;
	ASSERT_EQ(0, in_child(probe_inherited_socket, pr));
	ASSERT_STREQ("", pr->setup_err);
	EXPECT_EQ(RWL_NOBODY, pr->uid);
	EXPECT_EQ(-EPERM, pr->step[PROBE_ADD].ret) TH_LOG("%s", pr->step[PROBE_ADD].msg);
	EXPECT_NE(NULL, strstr(pr->step[PROBE_ADD].msg, "CAP_SYS_ADMIN"))
		TH_LOG("extack \"%s\"", pr->step[PROBE_ADD].msg);

	/* Opened by nobody, used by root. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fd_sock));
	ASSERT_EQ(0, in_child(open_socket_as_nobody, pr));
	ASSERT_STREQ("", pr->setup_err);
	fd = recv_fd(fd_sock[0]);
	ASSERT_LE(0, fd) TH_LOG("receive the socket: %s", strerror(-fd));
	close(fd_sock[0]);
	close(fd_sock[1]);
	adopted = self->nl;
	adopted.fd = fd;
	adopted.unaddressed = true;
	EXPECT_NL_ERR(&adopted, add_rule(&adopted, id, "/data", RWLAYER_RULE_UNION, 0, 0, 0),
		      -EPERM, "CAP_SYS_ADMIN");
	/* Reading through it is fine. */
	EXPECT_EQ(1, dump_rules(&adopted, id, NULL, 0)) TH_LOG("%s", adopted.ext_msg);
	rwl_nl_close(&adopted);
	check_var_rule_untouched(_metadata, self, id);
	munmap(pr, sizeof(*pr));
}

/*
 * In another network namespace the family does not exist: nlctrl does
 * not know the name, and its id from the initial namespace answers
 * ENOENT.  step[0] is the lookup, step[1] the request by id, step[2]
 * the lookup of nlctrl itself (generic netlink works there).
 */
static void probe_in_netns(struct probes *pr)
{
	static struct rwl_nl nl;
	struct rwl_msg m;

	if (unshare(CLONE_NEWNET)) {
		snprintf(pr->setup_err, sizeof(pr->setup_err), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return;
	}
	pr->step[0].ret = rwl_nl_open_family(&nl, RWLAYER_GENL_NAME);
	rwl_nl_close(&nl);
	pr->step[2].ret = rwl_nl_open_family(&nl, "nlctrl");
	if (pr->step[2].ret)
		return;
	rwl_msg_init(&m, pr->id, 0, RWLAYER_CMD_GET_VERSION, RWLAYER_GENL_VERSION);
	pr->step[1].ret = rwl_nl_talk(&nl, &m, NULL, 0);
	rwl_nl_close(&nl);
}

TEST_F(nl, network_namespace)
{
	struct probes *pr;

	/* Smuggle the family's id in through the mount id field. */
	pr = probes_new(self->nl.family);
	ASSERT_NE(NULL, pr);
	ASSERT_EQ(0, in_child(probe_in_netns, pr));
	ASSERT_STREQ("", pr->setup_err);
	EXPECT_EQ(0, pr->step[2].ret) TH_LOG("nlctrl: %s", strerror(-pr->step[2].ret));
	EXPECT_EQ(-ENOENT, pr->step[0].ret) TH_LOG("%s", strerror(-pr->step[0].ret));
	EXPECT_EQ(-ENOENT, pr->step[1].ret) TH_LOG("%s", strerror(-pr->step[1].ret));
	munmap(pr, sizeof(*pr));
}

/* ---- events ------------------------------------------------------------ */

static void check_rule_event(struct __test_metadata *_metadata, const struct rwl_obj *o,
			     uint32_t event, uint32_t id, const char *path, uint8_t kind)
{
	EXPECT_EQ(RWLAYER_CMD_EVENT, o->cmd);
	EXPECT_EQ(0, o->bad_attr) TH_LOG("attribute %d has a wrong size", o->bad_attr);
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_EVENT));
	EXPECT_EQ(event, o->event);
	EXPECT_EQ(id, o->mount_id);
	EXPECT_STREQ(path, o->rule_path);
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_RULE_KIND));
	EXPECT_EQ(kind, o->kind);
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_RULE_BYTES));
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_RULE_MAX_BYTES));
}

/* Open a second socket on the events group; every event test has one. */
static int open_listener(struct rwl_nl *listener)
{
	int err = rwl_nl_open(listener);

	return err ? err : rwl_nl_join_events(listener);
}

/* No further event for mount @id arrives within QUIET_MS. */
static int no_more_events(struct rwl_nl *listener, uint32_t id)
{
	struct rwl_obj o;
	int err;

	do {
		err = rwl_nl_next_event(listener, &o, QUIET_MS);
		if (!err && o.mount_id == id) {
			rwl_log("unexpected event %u for mount %u", o.event, id);
			return -EEXIST;
		}
	} while (!err);
	return err == -ETIMEDOUT ? 0 : err;
}

/* Static: struct rwl_nl holds a 64 KiB buffer. */
static struct rwl_nl listener = { .fd = -1 };

TEST_F(nl, events_mount)
{
	struct stat st;
	uint32_t id;

	ASSERT_EQ(0, open_listener(&listener));
	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, stat(self->m, &st));
	ASSERT_EQ(0, next_event(&listener, id, &self->obj));
	EXPECT_EQ(RWLAYER_CMD_EVENT, self->obj.cmd);
	EXPECT_EQ(RWLAYER_EVENT_MOUNT, self->obj.event);
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_MOUNT_ID));
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_DEV_MAJOR));
	EXPECT_TRUE(RWL_HAS(&self->obj, RWLAYER_A_DEV_MINOR));
	EXPECT_EQ(major(st.st_dev), self->obj.dev_major);
	EXPECT_EQ(minor(st.st_dev), self->obj.dev_minor);

	ASSERT_EQ(0, rwl_umount(&self->env, self->m));
	ASSERT_EQ(0, next_event(&listener, id, &self->obj));
	EXPECT_EQ(RWLAYER_EVENT_UNMOUNT, self->obj.event);
	EXPECT_EQ(major(st.st_dev), self->obj.dev_major);
	EXPECT_EQ(minor(st.st_dev), self->obj.dev_minor);
	EXPECT_EQ(0, no_more_events(&listener, id));
	rwl_nl_close(&listener);
}

/* ADD, SET, RESET (outer and inner rule), DEL: one event each, in order. */
TEST_F(nl, events_rules)
{
	struct rwl_obj *o = &self->obj;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, open_listener(&listener));

	ASSERT_EQ(0, add_rule(&self->nl, id, "/var", RWLAYER_RULE_UNION, 1 << 20, 0, 0));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_ADDED, id, "/var", RWLAYER_RULE_UNION);
	EXPECT_EQ(1 << 20, o->max_bytes);

	ASSERT_EQ(0, add_rule(&self->nl, id, "/var/tmp", RWLAYER_RULE_EMPTY, 0, 0, 0));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_ADDED, id, "/var/tmp",
			 RWLAYER_RULE_EMPTY);

	ASSERT_EQ(0, set_rule_bytes(&self->nl, id, "/var", 2 << 20));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_CHANGED, id, "/var",
			 RWLAYER_RULE_UNION);
	EXPECT_EQ(2 << 20, o->max_bytes);

	/* A reset of /var resets /var/tmp inside it too: two events. */
	ASSERT_EQ(0, rwl_mk(self->m, "var/new", 'f', "new"));
	ASSERT_EQ(0, reset_rule(&self->nl, id, "/var", false));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_RULE_RESET, o->event);
	if (!strcmp(o->rule_path, "/var/tmp")) {
		check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_RESET, id, "/var/tmp",
				 RWLAYER_RULE_EMPTY);
		ASSERT_EQ(0, next_event(&listener, id, o));
		check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_RESET, id, "/var",
				 RWLAYER_RULE_UNION);
	} else {
		check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_RESET, id, "/var",
				 RWLAYER_RULE_UNION);
		ASSERT_EQ(0, next_event(&listener, id, o));
		check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_RESET, id, "/var/tmp",
				 RWLAYER_RULE_EMPTY);
	}
	EXPECT_EQ(0, o->bytes);

	ASSERT_EQ(0, del_rule(&self->nl, id, "/var/tmp"));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_rule_event(_metadata, o, RWLAYER_EVENT_RULE_REMOVED, id, "/var/tmp",
			 RWLAYER_RULE_EMPTY);

	/* Refused requests send nothing. */
	EXPECT_EQ(-EEXIST, add_rule(&self->nl, id, "/var", RWLAYER_RULE_UNION, 0, 0, 0));
	EXPECT_EQ(-ENOENT, del_rule(&self->nl, id, "/nope"));
	EXPECT_EQ(0, no_more_events(&listener, id));
	rwl_nl_close(&listener);
}

/*
 * Every attribute of an event comes once: a listener must not have to
 * guess which of two MOUNT_IDs counts.
 */
TEST_F(nl, events_attrs_once)
{
	struct rwl_obj *o = &self->obj;
	struct stat st;
	uint32_t id;

	ASSERT_EQ(0, open_listener(&listener));
	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, stat(self->m, &st));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_MOUNT, o->event);
	EXPECT_EQ(0, o->dup_attr) TH_LOG("MOUNT: attribute %d came twice", o->dup_attr);
	ASSERT_EQ(0, add_rule(&self->nl, id, "/th", RWLAYER_RULE_UNION, 8 * KiB, 0, 50));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_RULE_ADDED, o->event);
	EXPECT_EQ(0, o->dup_attr) TH_LOG("RULE_ADDED: attribute %d came twice", o->dup_attr);
	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/f"), 4 * KiB));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_THRESHOLD, o->event);
	EXPECT_EQ(0, o->dup_attr) TH_LOG("THRESHOLD: attribute %d came twice", o->dup_attr);
	rwl_nl_close(&listener);
}

static void check_threshold(struct __test_metadata *_metadata, const struct rwl_obj *o,
			    uint32_t id, const char *path, uint8_t limit, uint8_t pct,
			    uint64_t used, uint64_t max)
{
	int used_attr = limit == RWLAYER_LIMIT_BYTES ? RWLAYER_A_RULE_BYTES :
						       RWLAYER_A_RULE_INODES;
	int max_attr = limit == RWLAYER_LIMIT_BYTES ? RWLAYER_A_RULE_MAX_BYTES :
						      RWLAYER_A_RULE_MAX_INODES;

	EXPECT_EQ(0, o->bad_attr) TH_LOG("attribute %d has a wrong size", o->bad_attr);
	EXPECT_EQ(RWLAYER_EVENT_THRESHOLD, o->event);
	EXPECT_EQ(id, o->mount_id);
	EXPECT_STREQ(path, o->rule_path);
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_EVENT_PERCENT));
	EXPECT_TRUE(RWL_HAS(o, RWLAYER_A_EVENT_LIMIT));
	EXPECT_EQ(limit, o->event_limit);
	EXPECT_EQ(pct, o->event_percent);
	EXPECT_TRUE(RWL_HAS(o, used_attr));
	EXPECT_TRUE(RWL_HAS(o, max_attr));
	EXPECT_EQ(used, limit == RWLAYER_LIMIT_BYTES ? o->bytes : o->inodes);
	EXPECT_EQ(max, limit == RWLAYER_LIMIT_BYTES ? o->max_bytes : o->max_inodes);
}

/* warn=50 of 40 KiB: an event at 20 KiB, one at 40 KiB, none for refusals. */
TEST_F(nl, events_threshold_bytes)
{
	struct rwl_obj *o = &self->obj;
	uint32_t id;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, open_listener(&listener));
	ASSERT_EQ(0, add_rule(&self->nl, id, "/th", RWLAYER_RULE_UNION, 40 * KiB, 0, 50));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_RULE_ADDED, o->event);

	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/f"), 16 * KiB));
	EXPECT_EQ(0, no_more_events(&listener, id)) TH_LOG("16 of 40 KiB is below 50%%");
	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/g"), 4 * KiB));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_threshold(_metadata, o, id, "/th", RWLAYER_LIMIT_BYTES, 50, 20 * KiB, 40 * KiB);

	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/h"), 20 * KiB));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_threshold(_metadata, o, id, "/th", RWLAYER_LIMIT_BYTES, 100, 40 * KiB, 40 * KiB);

	/* Full: a refused write is counted, but 100% was announced already. */
	EXPECT_EQ(ENOSPC, write_bytes(rwl_at(self->m, "th/i"), 1));
	EXPECT_EQ(0, no_more_events(&listener, id));

	/* Freed below 50% and filled again: announced again. */
	ASSERT_EQ(0, unlink(rwl_at(self->m, "th/h")));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "th/i")));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "th/g")));
	EXPECT_EQ(0, no_more_events(&listener, id));
	ASSERT_EQ(0, write_bytes(rwl_at(self->m, "th/g"), 8 * KiB));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_threshold(_metadata, o, id, "/th", RWLAYER_LIMIT_BYTES, 50, 24 * KiB, 40 * KiB);
	rwl_nl_close(&listener);
}

TEST_F(nl, events_threshold_inodes)
{
	struct rwl_obj *o = &self->obj;
	bool changed = false, threshold = false;
	struct rwl_msg m;
	uint32_t id;
	int i;

	ASSERT_EQ(0, mount_rw(self, "rule=none", &id));
	ASSERT_EQ(0, open_listener(&listener));
	ASSERT_EQ(0, add_rule(&self->nl, id, "/ti", RWLAYER_RULE_UNION, 0, 4, 50));
	ASSERT_EQ(0, next_event(&listener, id, o));
	EXPECT_EQ(RWLAYER_EVENT_RULE_ADDED, o->event);

	ASSERT_EQ(0, create_file(rwl_at(self->m, "ti/1")));
	EXPECT_EQ(0, no_more_events(&listener, id));
	ASSERT_EQ(0, create_file(rwl_at(self->m, "ti/2")));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_threshold(_metadata, o, id, "/ti", RWLAYER_LIMIT_INODES, 50, 2, 4);
	ASSERT_EQ(0, create_file(rwl_at(self->m, "ti/3")));
	ASSERT_EQ(0, create_file(rwl_at(self->m, "ti/4")));
	ASSERT_EQ(0, next_event(&listener, id, o));
	check_threshold(_metadata, o, id, "/ti", RWLAYER_LIMIT_INODES, 100, 4, 4);
	EXPECT_EQ(ENOSPC, create_file(rwl_at(self->m, "ti/5")));
	EXPECT_EQ(0, no_more_events(&listener, id));

	/* Raising the limit re-arms: 4 of 8 is 50% again (and it changed). */
	rule_req(&m, &self->nl, RWLAYER_CMD_SET_RULE, id, "/ti");
	rwl_msg_put_u64(&m, RWLAYER_A_RULE_MAX_INODES, 8);
	ASSERT_EQ(0, nl_do(&self->nl, &m, NULL));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, next_event(&listener, id, o));
		if (o->event == RWLAYER_EVENT_RULE_CHANGED) {
			EXPECT_FALSE(changed);
			changed = true;
			EXPECT_EQ(8, o->max_inodes);
			continue;
		}
		EXPECT_FALSE(threshold);
		threshold = true;
		check_threshold(_metadata, o, id, "/ti", RWLAYER_LIMIT_INODES, 50, 4, 8);
	}
	EXPECT_TRUE(changed && threshold);
	EXPECT_EQ(0, no_more_events(&listener, id));
	rwl_nl_close(&listener);
}

TEST_HARNESS_MAIN
