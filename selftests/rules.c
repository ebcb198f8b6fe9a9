// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table of a writable rwlayer: outside every rule the union is
 * read-only (EROFS); a union rule is writable over the lower content, an
 * empty rule starts empty with the lower directory's attributes, a file
 * rule opens exactly one name; the longest rule wins, names of two rules
 * cannot be renamed or linked into each other (EXDEV) and a rule's root
 * cannot be removed or renamed (EBUSY).  After every test the lower tree
 * is compared with a snapshot taken before the mount: nothing written
 * through the union may ever reach it.
 */
#include <sys/xattr.h>

#include "rwl_rw.h"

#define XATTR_NAME	"trusted.rwltest"
#define SNAP_SIZE	(64 * 1024)
#define TMP_UID		123
#define TMP_GID		456
#define TMP_MTIME	1000000000

/*
 * The default rule table; c/ is an empty lower directory under a union
 * rule, variable/ shares a prefix with var/ but no rule.
 */
#define RULES	"rule=/var:union,rule=/var/tmp:empty,rule=/tmp:empty," \
		"rule=/etc/machine-id:file,rule=/etc/resolv.conf:file," \
		"rule=/a:union,rule=/b:union,rule=/c:union"

/*
 * lower/:
 *   etc/ passwd hostname machine-id
 *   var/ log/messages  lib/{data,conf,own,times,tr,w,x}  empty/
 *        tmp/ 01777 (old)
 *   variable/f   tmp/ 01777 123:456 mtime 10^9 (stale)
 *   ro/ f  sub/g  empty/     a/f   b/f   c/
 */
FIXTURE(rules) {
	struct rwl_env env;
	struct rwl_rw rw;
	char *before;
	char *m;		/* rw.mnt */
};

/* nftw() has no context argument: the snapshot being built. */
static char *snap_buf;
static size_t snap_len;
static size_t snap_skip;

static int snap_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char data[256] = "", xattrs[1024] = "", value[256];
	ssize_t n, len, pos, vn;

	(void)type;
	(void)ftw;
	if (S_ISREG(st->st_mode)) {
		n = rwl_read_text(path, data, sizeof(data));
		if (n < 0)
			snprintf(data, sizeof(data), "<%s>", strerror(-n));
	}
	len = llistxattr(path, xattrs, sizeof(xattrs));
	for (pos = 0; len > 0 && pos < len; pos += strlen(xattrs + pos) + 1) {
		vn = lgetxattr(path, xattrs + pos, value, sizeof(value) - 1);
		value[vn < 0 ? 0 : vn] = '\0';
		snap_len += snprintf(snap_buf + snap_len, SNAP_SIZE - snap_len,
				     "  xattr %s=%s\n", xattrs + pos, value);
	}
	snap_len += snprintf(snap_buf + snap_len, SNAP_SIZE - snap_len,
			     "%s mode %o uid %u gid %u size %lld nlink %lu ino %lu "
			     "mtime %lld.%09ld ctime %lld.%09ld data %s\n",
			     path + snap_skip, st->st_mode, st->st_uid, st->st_gid,
			     (long long)st->st_size, (unsigned long)st->st_nlink,
			     (unsigned long)st->st_ino,
			     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			     (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
			     data);
	return snap_len >= SNAP_SIZE;
}

/* Every entry of @dir with its attributes and content, as a string. */
static char *snapshot(const char *dir)
{
	snap_buf = calloc(1, SNAP_SIZE);
	snap_len = 0;
	if (!snap_buf)
		return NULL;
	snap_skip = strlen(dir);
	if (nftw(dir, snap_one, 16, FTW_PHYS)) {
		rwl_log("walking %s failed", dir);
		free(snap_buf);
		return NULL;
	}
	return snap_buf;
}

static void check_lower_unchanged(struct __test_metadata *_metadata,
				  FIXTURE_DATA(rules) *self)
{
	char *after = snapshot(self->rw.lower);

	EXPECT_NE(NULL, after);
	if (after && self->before) {
		EXPECT_STREQ(self->before, after);
	}
	free(after);
}

FIXTURE_SETUP(rules)
{
	static const struct timespec tmp_times[2] = {
		{ TMP_MTIME, 0 }, { TMP_MTIME, 0 },
	};
	static const struct {
		const char *name;
		char kind;
		const char *text;
	} tree[] = {
		{ "etc", 'd', NULL },
		{ "etc/passwd", 'f', "root:x:0:0" },
		{ "etc/hostname", 'f', "host" },
		{ "etc/machine-id", 'f', "0123" },
		{ "var", 'd', NULL },
		{ "var/log", 'd', NULL },
		{ "var/log/messages", 'f', "boot" },
		{ "var/lib", 'd', NULL },
		{ "var/lib/data", 'f', "state" },
		{ "var/lib/conf", 'f', "conf" },
		{ "var/lib/own", 'f', "own" },
		{ "var/lib/times", 'f', "times" },
		{ "var/lib/tr", 'f', "truncate me" },
		{ "var/lib/w", 'f', "write me" },
		{ "var/lib/x", 'f', "xattr" },
		{ "var/empty", 'd', NULL },
		{ "var/tmp", 'd', NULL },
		{ "var/tmp/old", 'f', "old" },
		{ "variable", 'd', NULL },
		{ "variable/f", 'f', "v" },
		{ "tmp", 'd', NULL },
		{ "tmp/stale", 'f', "stale" },
		{ "ro", 'd', NULL },
		{ "ro/f", 'f', "ro" },
		{ "ro/sub", 'd', NULL },
		{ "ro/sub/g", 'f', "g" },
		{ "ro/empty", 'd', NULL },
		{ "a", 'd', NULL },
		{ "a/f", 'f', "a" },
		{ "b", 'd', NULL },
		{ "b/f", 'f', "b" },
		{ "c", 'd', NULL },
	};
	char p[RWL_PATH];
	size_t i;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755,size=16m"));
	self->m = self->rw.mnt;
	for (i = 0; i < ARRAY_SIZE(tree); i++)
		ASSERT_EQ(0, rwl_mk(self->rw.lower, tree[i].name, tree[i].kind,
				    tree[i].text)) TH_LOG("%s", tree[i].name);
	ASSERT_EQ(0, chmod(rwl_pathf(p, "%s/var/tmp", self->rw.lower), 01777));
	ASSERT_EQ(0, chmod(rwl_pathf(p, "%s/tmp", self->rw.lower), 01777));
	ASSERT_EQ(0, chown(p, TMP_UID, TMP_GID));
	ASSERT_EQ(0, utimensat(AT_FDCWD, p, tmp_times, 0));
	self->before = snapshot(self->rw.lower);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(rules)
{
	if (self->before) {
		/* Nothing written through the union ever reaches the lower. */
		check_lower_unchanged(_metadata, self);
	}
	free(self->before);
	RWL_ENV_TEARDOWN(&self->env);
}

/* Write @text at offset 0 of the existing @path without truncating. */
static int try_write(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : n < 0 ? errno : EIO;
}

/*
 * Each attempt to change something in the directory @d of the mount @m,
 * which holds a file f and an empty directory empty/.  Returns 0 or the
 * errno.
 */
static int op_create(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_try_open(rwl_at(m, rwl_pathf(p, "%s/new", d)),
			O_WRONLY | O_CREAT | O_EXCL);
}

static int op_mkdir(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(mkdir(rwl_at(m, rwl_pathf(p, "%s/newdir", d)), 0755));
}

static int op_mknod_fifo(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(mknod(rwl_at(m, rwl_pathf(p, "%s/fifo", d)), S_IFIFO | 0644, 0));
}

static int op_symlink(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(symlink("f", rwl_at(m, rwl_pathf(p, "%s/sym", d))));
}

static int op_link(const char *m, const char *d)
{
	char p[RWL_PATH], q[RWL_PATH];

	return rwl_result(link(rwl_at(m, rwl_pathf(p, "%s/f", d)),
			   rwl_at(m, rwl_pathf(q, "%s/f.link", d))));
}

static int op_unlink(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(unlink(rwl_at(m, rwl_pathf(p, "%s/f", d))));
}

static int op_rmdir(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(rmdir(rwl_at(m, rwl_pathf(p, "%s/empty", d))));
}

static int op_rename(const char *m, const char *d)
{
	char p[RWL_PATH], q[RWL_PATH];

	return rwl_result(rename(rwl_at(m, rwl_pathf(p, "%s/f", d)),
			     rwl_at(m, rwl_pathf(q, "%s/f.renamed", d))));
}

static int op_chmod(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(chmod(rwl_at(m, rwl_pathf(p, "%s/f", d)), 0600));
}

static int op_chmod_dir(const char *m, const char *d)
{
	return rwl_result(chmod(rwl_at(m, d), 0700));
}

static int op_chown(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(chown(rwl_at(m, rwl_pathf(p, "%s/f", d)), 1, 2));
}

static int op_utimes(const char *m, const char *d)
{
	static const struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	char p[RWL_PATH];

	return rwl_result(utimensat(AT_FDCWD, rwl_at(m, rwl_pathf(p, "%s/f", d)), ts, 0));
}

static int op_touch(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(utimensat(AT_FDCWD, rwl_at(m, rwl_pathf(p, "%s/f", d)), NULL,
				0));
}

static int op_truncate(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(truncate(rwl_at(m, rwl_pathf(p, "%s/f", d)), 1));
}

static int op_open_wronly(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_try_open(rwl_at(m, rwl_pathf(p, "%s/f", d)), O_WRONLY);
}

static int op_open_rdwr_trunc(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_try_open(rwl_at(m, rwl_pathf(p, "%s/f", d)), O_RDWR | O_TRUNC);
}

static int op_setxattr(const char *m, const char *d)
{
	char p[RWL_PATH];

	return rwl_result(setxattr(rwl_at(m, rwl_pathf(p, "%s/f", d)), XATTR_NAME, "v",
			       1, 0));
}

static const struct {
	const char *name;
	int (*fn)(const char *m, const char *d);
} ro_ops[] = {
	{ "create", op_create },
	{ "mkdir", op_mkdir },
	{ "mknod fifo", op_mknod_fifo },
	{ "symlink", op_symlink },
	{ "link", op_link },
	{ "unlink", op_unlink },
	{ "rmdir", op_rmdir },
	{ "rename", op_rename },
	{ "chmod", op_chmod },
	{ "chmod dir", op_chmod_dir },
	{ "chown", op_chown },
	{ "utimes", op_utimes },
	{ "touch", op_touch },
	{ "truncate", op_truncate },
	{ "open O_WRONLY", op_open_wronly },
	{ "open O_RDWR|O_TRUNC", op_open_rdwr_trunc },
	{ "setxattr", op_setxattr },
};

/* Mount with the default rule table. */
#define MOUNT_RULES(rules) \
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, rules))

/* --- outside every rule ------------------------------------------------ */

/* Every way of changing ro/ (no rule) fails with EROFS. */
TEST_F(rules, outside_rules_erofs)
{
	size_t i;
	int err;

	MOUNT_RULES(RULES);
	for (i = 0; i < ARRAY_SIZE(ro_ops); i++) {
		err = ro_ops[i].fn(self->m, "ro");
		EXPECT_EQ(EROFS, err) TH_LOG("%s in ro/: %s", ro_ops[i].name,
					     err ? strerror(err) : "succeeded");
	}
	EXPECT_STREQ("ro", rwl_cat(self->m, "ro/f"));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "ro/new")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "ro/empty")));
	/* Nothing was copied up for them either. */
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "ro")));
}

/* An unprivileged writer: the errno of a write open, 0 if it opened. */
static int open_for_write_errno(void *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * As on a read-only filesystem, EROFS comes before any permission answer:
 * access(W_OK) says it, and a caller who could not write the file anyway
 * gets EROFS, not EACCES.  Inside a rule the permission answer is the
 * file's own.
 */
TEST_F(rules, erofs_before_permission)
{
	char p[RWL_PATH];

	MOUNT_RULES(RULES);
	EXPECT_EQ(-1, access(rwl_at(self->m, "etc/passwd"), W_OK));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, access(rwl_at(self->m, "ro"), W_OK));
	EXPECT_EQ(EROFS, errno);
	/* A directory with a rule below it stays writable for that name. */
	EXPECT_EQ(0, access(rwl_at(self->m, "etc"), W_OK));
	EXPECT_EQ(0, access(rwl_at(self->m, "etc/machine-id"), W_OK));
	EXPECT_EQ(0, access(rwl_at(self->m, "var/log/messages"), W_OK));
	rwl_pathf(p, "%s", rwl_at(self->m, "etc/passwd"));
	EXPECT_EQ(EROFS, rwl_run_as(RWL_NOBODY, open_for_write_errno, p));
	rwl_pathf(p, "%s", rwl_at(self->m, "var/log/messages"));
	EXPECT_EQ(EACCES, rwl_run_as(RWL_NOBODY, open_for_write_errno, p));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "var/log/messages")));
}

/* The same at the root and under a directory with rules below it. */
TEST_F(rules, outside_rules_erofs_root_and_parents)
{
	static const char *const paths[] = {
		"new", "etc/new", "etc/machine-id.bak", "etc/machine-i",
		"variable/new", "ro/sub/new",
	};
	size_t i;
	int err;

	MOUNT_RULES(RULES);
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		err = rwl_try_open(rwl_at(self->m, paths[i]), O_WRONLY | O_CREAT);
		EXPECT_EQ(EROFS, err) TH_LOG("create %s: %s", paths[i],
					     err ? strerror(err) : "ok");
	}
	EXPECT_EQ(EROFS, rwl_result(mkdir(rwl_at(self->m, "newdir"), 0755)));
	EXPECT_EQ(EROFS, rwl_result(mkdir(rwl_at(self->m, "etc/newdir"), 0755)));
	EXPECT_EQ(EROFS, rwl_result(symlink("x", rwl_at(self->m, "etc/sym"))));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/hostname"), O_WRONLY));
	EXPECT_EQ(EROFS, rwl_result(unlink(rwl_at(self->m, "etc/passwd"))));
	EXPECT_EQ(EROFS, rwl_result(rename(rwl_at(self->m, "etc/passwd"),
				       rwl_at(self->m, "etc/passwd-"))));
	EXPECT_EQ(EROFS, rwl_result(link(rwl_at(self->m, "etc/passwd"),
				     rwl_at(self->m, "etc/passwd-"))));
	EXPECT_EQ(EROFS, rwl_result(chmod(rwl_at(self->m, "etc"), 0700)));
	EXPECT_EQ(EROFS, rwl_result(chmod(self->m, 0700)));
	EXPECT_EQ(EROFS, rwl_result(chown(rwl_at(self->m, "etc/hostname"), 1, 1)));
	EXPECT_EQ(EROFS, rwl_result(setxattr(rwl_at(self->m, "etc"), XATTR_NAME, "v", 1,
					 0)));
	EXPECT_EQ(EROFS, rwl_result(rmdir(rwl_at(self->m, "variable"))));
	/* A rule covers whole components: /var does not cover /variable. */
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "variable/f"), O_WRONLY));
	EXPECT_EQ(EROFS, rwl_result(unlink(rwl_at(self->m, "variable/f"))));
	EXPECT_STREQ("host", rwl_cat(self->m, "etc/hostname"));
	EXPECT_STREQ("v", rwl_cat(self->m, "variable/f"));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "variable")));
}

/* --- union rules -------------------------------------------------------- */

TEST_F(rules, union_create)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/new"), "n"));
	EXPECT_STREQ("n", rwl_cat(self->m, "var/new"));
	/* In a directory that has lower content: it stays visible. */
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/log/new"), "n2"));
	EXPECT_STREQ("n2", rwl_cat(self->m, "var/log/new"));
	EXPECT_STREQ("boot", rwl_cat(self->m, "var/log/messages"));
	EXPECT_STREQ("n2", rwl_cat(self->rw.upper, "var/log/new"));
	EXPECT_EQ(0, rwl_try_open(rwl_at(self->m, "a/g"), O_RDWR | O_CREAT | O_EXCL));
	EXPECT_STREQ("a", rwl_cat(self->m, "a/f"));
}

TEST_F(rules, union_mkdir_mknod_symlink)
{
	char buf[16];
	struct stat st;

	MOUNT_RULES(RULES);
	ASSERT_EQ(0, mkdir(rwl_at(self->m, "var/lib/newdir"), 0750));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/lib/newdir"), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/lib/newdir/f"), "f"));
	ASSERT_EQ(0, mknod(rwl_at(self->m, "var/fifo"), S_IFIFO | 0600, 0));
	ASSERT_EQ(0, lstat(rwl_at(self->m, "var/fifo"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	ASSERT_EQ(0, symlink("lib/data", rwl_at(self->m, "var/sym")));
	ASSERT_EQ(8, readlink(rwl_at(self->m, "var/sym"), buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "lib/data", 8));
	EXPECT_STREQ("state", rwl_cat(self->m, "var/sym"));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "c/d"), 0755));
}

TEST_F(rules, union_link)
{
	struct stat st1, st2;

	MOUNT_RULES(RULES);
	ASSERT_EQ(0, link(rwl_at(self->m, "var/lib/data"), rwl_at(self->m, "var/data.ln")))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/lib/data"), &st1));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/data.ln"), &st2));
	EXPECT_EQ(st1.st_ino, st2.st_ino);
	EXPECT_EQ(st1.st_dev, st2.st_dev);
	EXPECT_EQ(2, st1.st_nlink);
	EXPECT_STREQ("state", rwl_cat(self->m, "var/data.ln"));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/new"), "n"));
	EXPECT_EQ(0, link(rwl_at(self->m, "var/new"), rwl_at(self->m, "var/log/new.ln")));
	EXPECT_STREQ("n", rwl_cat(self->m, "var/log/new.ln"));
}

TEST_F(rules, union_unlink_rmdir)
{
	struct rwl_dents d = { 0 };

	MOUNT_RULES(RULES);
	ASSERT_EQ(0, unlink(rwl_at(self->m, "var/log/messages")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/log/messages")));
	ASSERT_LE(0, rwl_list_dir(rwl_at(self->m, "var/log"), 4096, &d));
	EXPECT_EQ(0, rwl_dents_count(&d, "messages"));
	rwl_dents_free(&d);
	ASSERT_EQ(0, rmdir(rwl_at(self->m, "var/empty")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/empty")));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "a/f")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "a/f")));
	/* Recreate over the whiteout. */
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/log/messages"), "new"));
	EXPECT_STREQ("new", rwl_cat(self->m, "var/log/messages"));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "var/empty"), 0755));
	ASSERT_LE(0, rwl_list_dir(rwl_at(self->m, "var/empty"), 4096, &d));
	EXPECT_EQ(2, d.num);
	rwl_dents_free(&d);
}

TEST_F(rules, union_rename)
{
	MOUNT_RULES(RULES);
	ASSERT_EQ(0, rename(rwl_at(self->m, "var/lib/data"), rwl_at(self->m, "var/data2")))
		TH_LOG("%s", strerror(errno));
	EXPECT_STREQ("state", rwl_cat(self->m, "var/data2"));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/lib/data")));
	ASSERT_EQ(0, rename(rwl_at(self->m, "var/data2"), rwl_at(self->m, "var/lib/conf")));
	EXPECT_STREQ("state", rwl_cat(self->m, "var/lib/conf"));
	ASSERT_EQ(0, mkdir(rwl_at(self->m, "var/nd"), 0755));
	EXPECT_EQ(0, rename(rwl_at(self->m, "var/nd"), rwl_at(self->m, "var/lib/nd")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "var/lib/nd")));
}

TEST_F(rules, union_attrs)
{
	static const struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	char value[8];
	struct stat st;

	MOUNT_RULES(RULES);
	ASSERT_EQ(0, chmod(rwl_at(self->m, "var/lib/conf"), 0600));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/lib/conf"), &st));
	EXPECT_EQ(0100600, st.st_mode);
	ASSERT_EQ(0, chown(rwl_at(self->m, "var/lib/own"), 1, 2));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/lib/own"), &st));
	EXPECT_EQ(1, st.st_uid);
	EXPECT_EQ(2, st.st_gid);
	ASSERT_EQ(0, utimensat(AT_FDCWD, rwl_at(self->m, "var/lib/times"), ts, 0));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/lib/times"), &st));
	EXPECT_EQ(2, st.st_mtim.tv_sec);
	ASSERT_EQ(0, setxattr(rwl_at(self->m, "var/lib/x"), XATTR_NAME, "v", 1, 0));
	ASSERT_EQ(1, getxattr(rwl_at(self->m, "var/lib/x"), XATTR_NAME, value,
			      sizeof(value)));
	EXPECT_EQ('v', value[0]);
	ASSERT_EQ(0, chmod(rwl_at(self->m, "var/log"), 0700));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/log"), &st));
	EXPECT_EQ(040700, st.st_mode);
	EXPECT_STREQ("boot", rwl_cat(self->m, "var/log/messages"));
	/* The rule's root itself is in the rule. */
	ASSERT_EQ(0, chmod(rwl_at(self->m, "var"), 0711));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var"), &st));
	EXPECT_EQ(040711, st.st_mode);
}

TEST_F(rules, union_write_truncate)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(0, try_write(rwl_at(self->m, "var/lib/w"), "W"));
	EXPECT_STREQ("Write me", rwl_cat(self->m, "var/lib/w"));
	ASSERT_EQ(0, truncate(rwl_at(self->m, "var/lib/tr"), 3));
	EXPECT_STREQ("tru", rwl_cat(self->m, "var/lib/tr"));
	EXPECT_EQ(0, rwl_try_open(rwl_at(self->m, "var/lib/data"), O_WRONLY | O_TRUNC));
	EXPECT_STREQ("", rwl_cat(self->m, "var/lib/data"));
	EXPECT_STREQ("Write me", rwl_cat(self->rw.upper, "var/lib/w"));
}

/* Every op that failed with EROFS in ro/ works in a union rule. */
TEST_F(rules, union_all_ops)
{
	static const char *const dirs[] = { "a", "b" };
	char p[RWL_PATH];
	size_t i, j;
	int err;

	MOUNT_RULES(RULES);
	for (j = 0; j < ARRAY_SIZE(dirs); j++) {
		ASSERT_EQ(0, mkdir(rwl_at(self->m, rwl_pathf(p, "%s/empty", dirs[j])),
				   0755));
		for (i = 0; i < ARRAY_SIZE(ro_ops); i++) {
			/* rename and unlink need f back */
			if (rwl_exists(rwl_at(self->m, rwl_pathf(p, "%s/f", dirs[j]))))
				ASSERT_EQ(0, rwl_write_text(rwl_at(self->m, p), "again"));
			err = ro_ops[i].fn(self->m, dirs[j]);
			EXPECT_EQ(0, err) TH_LOG("%s in %s/: %s", ro_ops[i].name,
						 dirs[j], strerror(err));
		}
	}
}

/* --- empty rules --------------------------------------------------------- */

TEST_F(rules, empty_rule_hides_lower)
{
	struct rwl_dents d = { 0 };
	char value[8];
	struct stat st;

	MOUNT_RULES(RULES);
	ASSERT_EQ(0, stat(rwl_at(self->m, "tmp"), &st));
	EXPECT_EQ(041777, st.st_mode);
	EXPECT_EQ(TMP_UID, st.st_uid);
	EXPECT_EQ(TMP_GID, st.st_gid);
	EXPECT_EQ(TMP_MTIME, st.st_mtim.tv_sec);
	ASSERT_EQ(1, rwl_list_dir(rwl_at(self->m, "tmp"), 4096, &d));
	EXPECT_EQ(2, d.num);
	EXPECT_EQ(0, rwl_dents_count(&d, "stale"));
	rwl_dents_free(&d);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "tmp/stale")));
	EXPECT_STREQ("stale", rwl_cat(self->rw.lower, "tmp/stale"));

	/* In the upper: a directory marked opaque. */
	ASSERT_EQ(0, stat(rwl_at(self->rw.upper, "tmp"), &st));
	EXPECT_EQ(041777, st.st_mode);
	EXPECT_EQ(1, getxattr(rwl_at(self->rw.upper, "tmp"), "trusted.overlay.opaque",
			      value, sizeof(value)));
	EXPECT_EQ('y', value[0]);
}

TEST_F(rules, empty_rule_writable)
{
	struct rwl_dents d = { 0 };

	MOUNT_RULES(RULES);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "tmp/new"), "n"));
	EXPECT_STREQ("n", rwl_cat(self->m, "tmp/new"));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "tmp/d"), 0700));
	EXPECT_EQ(0, symlink("new", rwl_at(self->m, "tmp/d/sym")));
	EXPECT_EQ(0, mknod(rwl_at(self->m, "tmp/fifo"), S_IFIFO | 0600, 0));
	EXPECT_EQ(0, rename(rwl_at(self->m, "tmp/new"), rwl_at(self->m, "tmp/d/new")));
	EXPECT_EQ(0, link(rwl_at(self->m, "tmp/d/new"), rwl_at(self->m, "tmp/ln")));
	EXPECT_EQ(0, chmod(rwl_at(self->m, "tmp/ln"), 0600));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "tmp/fifo")));
	/* A name that only the lower has can be created afresh. */
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "tmp/stale"), "fresh"));
	EXPECT_STREQ("fresh", rwl_cat(self->m, "tmp/stale"));
	ASSERT_EQ(1, rwl_list_dir(rwl_at(self->m, "tmp"), 4096, &d));
	EXPECT_EQ(5, d.num);	/* . .. d ln stale */
	rwl_dents_free(&d);
	EXPECT_STREQ("stale", rwl_cat(self->rw.lower, "tmp/stale"));
}

/* An empty rule where the lower has no directory: a root 0755 one. */
TEST_F(rules, empty_rule_without_lower_dir)
{
	struct rwl_dents d = { 0 };
	struct stat st;

	MOUNT_RULES("rule=/scratch:empty,rule=/ro/sub/deeper:empty");
	ASSERT_EQ(0, stat(rwl_at(self->m, "scratch"), &st));
	EXPECT_EQ(040755, st.st_mode);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	ASSERT_EQ(1, rwl_list_dir(rwl_at(self->m, "scratch"), 4096, &d));
	EXPECT_EQ(2, d.num);
	rwl_dents_free(&d);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "scratch/f"), "f"));
	EXPECT_STREQ("f", rwl_cat(self->m, "scratch/f"));
	/* Its parents come from the lower and stay read-only. */
	ASSERT_EQ(0, stat(rwl_at(self->m, "ro/sub/deeper"), &st));
	EXPECT_EQ(040755, st.st_mode);
	EXPECT_STREQ("g", rwl_cat(self->m, "ro/sub/g"));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "ro/sub/deeper/f"), "f"));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "ro/sub/new"),
				  O_WRONLY | O_CREAT));
	EXPECT_EQ(EROFS, rwl_result(rmdir(rwl_at(self->m, "ro/empty"))));
}

/*
 * A union rule for a path the lower lacks: the name is the rule's, so it
 * can be made (and then not removed); its parent stays read-only.
 */
TEST_F(rules, union_rule_without_lower_dir)
{
	struct stat st;

	MOUNT_RULES("rule=/srv:union,rule=/ro/sub/deeper:union");
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "srv")));
	ASSERT_EQ(0, mkdir(rwl_at(self->m, "srv"), 0750)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, stat(rwl_at(self->m, "srv"), &st));
	EXPECT_EQ(040750, st.st_mode);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "srv/f"), "f"));
	EXPECT_STREQ("f", rwl_cat(self->m, "srv/f"));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "srv/f")));
	EXPECT_EQ(EBUSY, rwl_result(rmdir(rwl_at(self->m, "srv"))));
	EXPECT_EQ(EROFS, rwl_result(mkdir(rwl_at(self->m, "srv2"), 0755)));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "ro/sub/deeper"), 0755));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "ro/sub/deeper/f"), "f"));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "ro/sub/new"),
				  O_WRONLY | O_CREAT));
}

/* --- file rules ---------------------------------------------------------- */

TEST_F(rules, file_rule_existing)
{
	struct stat st;

	MOUNT_RULES(RULES);
	EXPECT_EQ(0, try_write(rwl_at(self->m, "etc/machine-id"), "ab"));
	EXPECT_STREQ("ab23", rwl_cat(self->m, "etc/machine-id"));
	ASSERT_EQ(0, truncate(rwl_at(self->m, "etc/machine-id"), 1));
	EXPECT_STREQ("a", rwl_cat(self->m, "etc/machine-id"));
	ASSERT_EQ(0, chmod(rwl_at(self->m, "etc/machine-id"), 0444));
	ASSERT_EQ(0, stat(rwl_at(self->m, "etc/machine-id"), &st));
	EXPECT_EQ(0100444, st.st_mode);
	EXPECT_EQ(0, chown(rwl_at(self->m, "etc/machine-id"), 5, 6));
	ASSERT_EQ(0, unlink(rwl_at(self->m, "etc/machine-id")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "etc/machine-id")));
	EXPECT_EQ(0, rwl_try_open(rwl_at(self->m, "etc/machine-id"),
			      O_WRONLY | O_CREAT | O_EXCL));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "etc/machine-id"), "fresh"));
	EXPECT_STREQ("fresh", rwl_cat(self->m, "etc/machine-id"));
	EXPECT_STREQ("0123", rwl_cat(self->rw.lower, "etc/machine-id"));
}

/* A file rule for a name the lower lacks: create, write, remove. */
TEST_F(rules, file_rule_absent)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "etc/resolv.conf")));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "etc/resolv.conf"),
				    "nameserver 1"));
	EXPECT_STREQ("nameserver 1", rwl_cat(self->m, "etc/resolv.conf"));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "etc/resolv.conf")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "etc/resolv.conf")));
	EXPECT_EQ(0, symlink("/run/resolv.conf", rwl_at(self->m, "etc/resolv.conf")));
}

/* Only the file rule's own name: its siblings stay read-only. */
TEST_F(rules, file_rule_siblings_erofs)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(0, try_write(rwl_at(self->m, "etc/machine-id"), "9"));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/hostname"), O_WRONLY));
	EXPECT_EQ(EROFS, rwl_result(truncate(rwl_at(self->m, "etc/hostname"), 0)));
	EXPECT_EQ(EROFS, rwl_result(chmod(rwl_at(self->m, "etc/passwd"), 0600)));
	EXPECT_EQ(EROFS, rwl_result(unlink(rwl_at(self->m, "etc/passwd"))));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/new"), O_WRONLY | O_CREAT));
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "etc/machine-id2"),
				  O_WRONLY | O_CREAT));
	EXPECT_EQ(EROFS, rwl_result(mkdir(rwl_at(self->m, "etc/machine"), 0755)));
	EXPECT_EQ(EROFS, rwl_result(chmod(rwl_at(self->m, "etc"), 0700)));
	EXPECT_STREQ("host", rwl_cat(self->m, "etc/hostname"));
	EXPECT_STREQ("9123", rwl_cat(self->m, "etc/machine-id"));
}

/* --- nesting, EXDEV, EBUSY ---------------------------------------------- */

/* /var union with /var/tmp empty inside: the longer rule wins. */
TEST_F(rules, nested_inner_wins)
{
	struct rwl_dents d = { 0 };
	struct stat st;

	MOUNT_RULES(RULES);
	ASSERT_EQ(1, rwl_list_dir(rwl_at(self->m, "var/tmp"), 4096, &d));
	EXPECT_EQ(2, d.num);
	rwl_dents_free(&d);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/old")));
	ASSERT_EQ(0, stat(rwl_at(self->m, "var/tmp"), &st));
	EXPECT_EQ(041777, st.st_mode);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/tmp/new"), "t"));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/new"), "v"));
	EXPECT_STREQ("boot", rwl_cat(self->m, "var/log/messages"));
	EXPECT_STREQ("old", rwl_cat(self->rw.lower, "var/tmp/old"));
	/* And the outer rule does not leak to its siblings. */
	EXPECT_EQ(EROFS, rwl_try_open(rwl_at(self->m, "variable/new"),
				  O_WRONLY | O_CREAT));
}

TEST_F(rules, cross_rule_exdev)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "a/f"), rwl_at(self->m, "b/f"))));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "a/f"), rwl_at(self->m, "b/g"))));
	EXPECT_EQ(EXDEV, rwl_result(link(rwl_at(self->m, "a/f"), rwl_at(self->m, "b/l"))));
	ASSERT_EQ(0, rwl_write_text(rwl_at(self->m, "var/new"), "n"));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "var/new"),
				       rwl_at(self->m, "var/tmp/new"))));
	EXPECT_EQ(EXDEV, rwl_result(link(rwl_at(self->m, "var/new"),
				     rwl_at(self->m, "var/tmp/new"))));
	EXPECT_EQ(EXDEV, rwl_result(link(rwl_at(self->m, "var/lib/data"),
				     rwl_at(self->m, "tmp/data"))));
	ASSERT_EQ(0, rwl_write_text(rwl_at(self->m, "tmp/x"), "x"));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "tmp/x"), rwl_at(self->m, "var/x"))));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "tmp/x"),
				       rwl_at(self->m, "etc/machine-id"))));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "etc/machine-id"),
				       rwl_at(self->m, "var/machine-id"))));
	EXPECT_EQ(EXDEV, rwl_result(link(rwl_at(self->m, "etc/machine-id"),
				     rwl_at(self->m, "tmp/machine-id"))));
	ASSERT_EQ(0, mkdir(rwl_at(self->m, "tmp/d"), 0755));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "tmp/d"), rwl_at(self->m, "var/d"))));
	EXPECT_EQ(EXDEV, rwl_result(rename(rwl_at(self->m, "tmp/d"),
				       rwl_at(self->m, "var/tmp/d"))));
	/* Everything is still where it was. */
	EXPECT_STREQ("a", rwl_cat(self->m, "a/f"));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "b/g")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "b/l")));
	EXPECT_STREQ("n", rwl_cat(self->m, "var/new"));
	EXPECT_STREQ("x", rwl_cat(self->m, "tmp/x"));
	EXPECT_STREQ("0123", rwl_cat(self->m, "etc/machine-id"));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "tmp/d")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp/new")));
}

TEST_F(rules, rule_root_ebusy)
{
	MOUNT_RULES(RULES);
	EXPECT_EQ(EBUSY, rwl_result(rmdir(rwl_at(self->m, "tmp"))));
	EXPECT_EQ(EBUSY, rwl_result(rmdir(rwl_at(self->m, "var/tmp"))));
	EXPECT_EQ(EBUSY, rwl_result(rmdir(rwl_at(self->m, "c"))));
	EXPECT_EQ(EBUSY, rwl_result(rename(rwl_at(self->m, "var/tmp"),
				       rwl_at(self->m, "var/tmp2"))));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "tmp")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "var/tmp")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "c")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "var/tmp2")));
	/* Still usable. */
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "var/tmp/f"), "f"));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "c/f"), "f"));
}

/* Without rule= the whole union is one union rule. */
TEST_F(rules, no_rules_all_writable)
{
	MOUNT_RULES(NULL);
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "new"), "n"));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "ro/newdir"), 0755));
	EXPECT_EQ(0, rwl_write_text(rwl_at(self->m, "etc/passwd"), "changed"));
	EXPECT_STREQ("changed", rwl_cat(self->m, "etc/passwd"));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "ro/f")));
	EXPECT_EQ(0, rmdir(rwl_at(self->m, "ro/empty")));
	EXPECT_EQ(0, chmod(self->m, 0711));
	EXPECT_EQ(0, rename(rwl_at(self->m, "etc/hostname"), rwl_at(self->m, "var/hostname")));
	EXPECT_EQ(0, link(rwl_at(self->m, "var/hostname"), rwl_at(self->m, "tmp/hostname")));
	/* No empty rules: lower content of tmp/ shows. */
	EXPECT_STREQ("stale", rwl_cat(self->m, "tmp/stale"));
	EXPECT_STREQ("host", rwl_cat(self->m, "tmp/hostname"));
}

/*
 * Everything at once, in every kind of rule and outside, then an
 * explicit comparison with the snapshot (the teardown compares again).
 */
TEST_F(rules, lower_untouched)
{
	static const char *const dirs[] = { "ro", "a", "etc", "var/lib", "tmp" };
	char p[RWL_PATH];
	size_t i, j;

	MOUNT_RULES(RULES);
	for (j = 0; j < ARRAY_SIZE(dirs); j++) {
		for (i = 0; i < ARRAY_SIZE(ro_ops); i++)
			ro_ops[i].fn(self->m, dirs[j]);
	}
	rwl_write_text(rwl_at(self->m, "etc/machine-id"), "changed");
	rwl_write_text(rwl_at(self->m, "etc/resolv.conf"), "new");
	unlink(rwl_at(self->m, "var/log/messages"));
	rwl_write_text(rwl_at(self->m, "var/tmp/x"), "x");
	rename(rwl_at(self->m, "var/lib/data"), rwl_at(self->m, "var/data"));
	check_lower_unchanged(_metadata, self);
	EXPECT_EQ(ENOENT, rwl_exists(rwl_pathf(p, "%s/etc/resolv.conf",
					   self->rw.lower)));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_pathf(p, "%s/var/tmp/x", self->rw.lower)));
	EXPECT_STREQ("0123", rwl_cat(self->rw.lower, "etc/machine-id"));
}

TEST_HARNESS_MAIN
