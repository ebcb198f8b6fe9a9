// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-up into the writable layer (rwlayer.rst "Copy-up"): every trigger
 * copies a lower file to the upper, with its content, owner, mode, times,
 * xattrs, POSIX ACLs and file capabilities, and copies missing parent
 * directories first with their owner, mode, times and xattrs.  Holes stay
 * holes, the inode identity is the lower's (also after the inode cache is
 * dropped), a read-only fd opened before keeps reading the lower file,
 * concurrent writers share one copy, copy-up runs with the mounter's
 * credentials after the caller's permission check, and nothing is left in
 * the work directory.  Every test checks the upper tree directly and that
 * the lower tree is exactly as it was.
 */
#include <sys/xattr.h>

#include "rwl_tree.h"

#define MiB		(1024 * 1024)

#define TRIG_DATA	"trigger data"
#define XATTR_KEEP	"trusted.rwltest"
#define XATTR_RM	"trusted.rwlrm"
#define XATTR_NEW	"trusted.rwlnew"
#define XATTR_DIR	"trusted.rwldir"
#define XATTR_ORIGIN	"trusted.rwlayer.origin"

#define SPARSE_SIZE	(1LL << 30)
#define SPARSE_LEN	4096
static const long long sparse_offs[] = {
	0, 512LL * MiB + 8192, SPARSE_SIZE - SPARSE_LEN,
};

#define CONC_PROCS	8
#define CONC_REGION	(64 * KiB)
#define CONC_SEED	7

static const struct timespec file_times[2] = {
	{ .tv_sec = 1500000000, .tv_nsec = 111111111 },	/* atime */
	{ .tv_sec = 1600000000, .tv_nsec = 123456789 },	/* mtime */
};
static const struct timespec dir_times[2] = {
	{ .tv_sec = 1400000000, .tv_nsec = 1 },
	{ .tv_sec = 1450000000, .tv_nsec = 2 },
};
static const struct timespec new_times[2] = {
	{ .tv_sec = 1300000000, .tv_nsec = 5 },
	{ .tv_sec = 1350000000, .tv_nsec = 25 },
};

/* ---- helpers ---------------------------------------------------------- */

/* ---- creating the lower tree ------------------------------------------ */

static int set_owner_mode(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	if (lchown(path, uid, gid) || chmod(path, mode)) {
		rwl_log("chown/chmod %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_times(const char *path, const struct timespec *ts)
{
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW)) {
		rwl_log("utimensat %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_xattr(const char *path, const char *name, const void *value,
		     size_t size)
{
	if (lsetxattr(path, name, value, size, 0)) {
		rwl_log("setxattr %s %s: %s", path, name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int write_file(const char *path, const char *text, uid_t uid,
		      gid_t gid, mode_t mode)
{
	return rwl_write_text(path, text) ?: set_owner_mode(path, uid, gid, mode);
}

static int make_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	return rwl_mkdir(path, 0700) ?: set_owner_mode(path, uid, gid, mode);
}

/* ===== every trigger, one variant each ================================== */

/*
 * lower/trig/ 0751 21:22 (XATTR_DIR=dirval, dir_times)
 *   file  TRIG_DATA 0640 1234:5678 (XATTR_KEEP=value42, XATTR_RM=gone,
 *         file_times)
 *   other "other"
 */
FIXTURE(trig) {
	struct rwl_env env;
	struct rwl_rw rw;
	struct stat lfile, ldir;
	char *before;
};

FIXTURE_VARIANT(trig) {
	/* Apply the trigger to @m/trig/file; 0 or an errno (-1: bad data). */
	int (*op)(const char *m);
	const char *name;	/* the name in trig/ holding the copy after */
	const char *content;	/* the copy's data, then zeros up to size */
	off_t size;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	/* else the copy has the lower's mtime, atime; the dir its mtime */
	bool new_mtime, new_atime, dir_changed;
	const struct timespec *times;	/* the times it must have, if set */
	bool removed_xattr, new_xattr;
	bool whiteout;		/* trig/file became a whiteout */
	bool linked;		/* trig/file2 is a second link */
};

static int op_open(const char *m, int flags)
{
	int fd = open(pf("%s/trig/file", m), flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	return close(fd) ? errno : 0;
}

static int op_wronly(const char *m)
{
	return op_open(m, O_WRONLY);
}

/* The fd that caused the copy-up reads the lower's data. */
static int op_rdwr(const char *m)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(pf("%s/trig/file", m), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)strlen(TRIG_DATA) || memcmp(buf, TRIG_DATA, n))
		return -1;
	return 0;
}

static int op_trunc(const char *m)
{
	return op_open(m, O_WRONLY | O_TRUNC);
}

static int op_truncate(const char *m)
{
	return truncate(pf("%s/trig/file", m), 4) ? errno : 0;
}

/* The open for write copies up already; fallocate must then work on it. */
static int op_fallocate(const char *m)
{
	int fd, err = 0;

	fd = open(pf("%s/trig/file", m), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fallocate(fd, 0, 0, 64 * KiB))
		err = errno;
	close(fd);
	return err;
}

static int op_chmod(const char *m)
{
	return chmod(pf("%s/trig/file", m), 0604) ? errno : 0;
}

static int op_chown(const char *m)
{
	return chown(pf("%s/trig/file", m), 100, 200) ? errno : 0;
}

static int op_utimens(const char *m)
{
	return utimensat(AT_FDCWD, pf("%s/trig/file", m), new_times, 0) ?
	       errno : 0;
}

static int op_setxattr(const char *m)
{
	return setxattr(pf("%s/trig/file", m), XATTR_NEW, "nv", 2, 0) ?
	       errno : 0;
}

static int op_removexattr(const char *m)
{
	return removexattr(pf("%s/trig/file", m), XATTR_RM) ? errno : 0;
}

static int op_link(const char *m)
{
	return link(pf("%s/trig/file", m), pf("%s/trig/file2", m)) ? errno : 0;
}

static int op_rename(const char *m)
{
	return rename(pf("%s/trig/file", m), pf("%s/trig/moved", m)) ? errno : 0;
}

#define TRIG_SAME	.content = TRIG_DATA, .size = sizeof(TRIG_DATA) - 1
#define TRIG_OWNER	.mode = 0640, .uid = 1234, .gid = 5678

FIXTURE_VARIANT_ADD(trig, open_wronly) {
	.op = op_wronly, .name = "file", TRIG_SAME, TRIG_OWNER,
};

FIXTURE_VARIANT_ADD(trig, open_rdwr) {
	/* it reads through the union: the upper's atime moves */
	.op = op_rdwr, .name = "file", TRIG_SAME, TRIG_OWNER,
	.new_atime = true,
};

FIXTURE_VARIANT_ADD(trig, open_trunc) {
	.op = op_trunc, .name = "file", .content = "", .size = 0, TRIG_OWNER,
	.new_mtime = true,
};

FIXTURE_VARIANT_ADD(trig, truncate) {
	.op = op_truncate, .name = "file", .content = "trig", .size = 4,
	TRIG_OWNER, .new_mtime = true,
};

FIXTURE_VARIANT_ADD(trig, fallocate) {
	.op = op_fallocate, .name = "file", .content = TRIG_DATA,
	.size = 64 * KiB, TRIG_OWNER, .new_mtime = true,
};

FIXTURE_VARIANT_ADD(trig, chmod) {
	.op = op_chmod, .name = "file", TRIG_SAME,
	.mode = 0604, .uid = 1234, .gid = 5678,
};

FIXTURE_VARIANT_ADD(trig, chown) {
	.op = op_chown, .name = "file", TRIG_SAME,
	.mode = 0640, .uid = 100, .gid = 200,
};

FIXTURE_VARIANT_ADD(trig, utimensat) {
	.op = op_utimens, .name = "file", TRIG_SAME, TRIG_OWNER,
	.new_mtime = true, .new_atime = true, .times = new_times,
};

FIXTURE_VARIANT_ADD(trig, setxattr) {
	.op = op_setxattr, .name = "file", TRIG_SAME, TRIG_OWNER,
	.new_xattr = true,
};

FIXTURE_VARIANT_ADD(trig, removexattr) {
	.op = op_removexattr, .name = "file", TRIG_SAME, TRIG_OWNER,
	.removed_xattr = true,
};

FIXTURE_VARIANT_ADD(trig, link) {
	.op = op_link, .name = "file", TRIG_SAME, TRIG_OWNER,
	.linked = true, .dir_changed = true,
};

FIXTURE_VARIANT_ADD(trig, rename) {
	.op = op_rename, .name = "moved", TRIG_SAME, TRIG_OWNER,
	.whiteout = true, .dir_changed = true,
};

FIXTURE_SETUP(trig)
{
	const char *l;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;
	ASSERT_EQ(0, make_dir(pf("%s/trig", l), 21, 22, 0751));
	ASSERT_EQ(0, set_xattr(pf("%s/trig", l), XATTR_DIR, "dirval", 6));
	ASSERT_EQ(0, write_file(pf("%s/trig/file", l), TRIG_DATA, 1234, 5678,
				0640));
	ASSERT_EQ(0, set_xattr(pf("%s/trig/file", l), XATTR_KEEP, "value42", 7));
	ASSERT_EQ(0, set_xattr(pf("%s/trig/file", l), XATTR_RM, "gone", 4));
	ASSERT_EQ(0, rwl_write_text(pf("%s/trig/other", l), "other"));
	ASSERT_EQ(0, set_times(pf("%s/trig/file", l), file_times));
	ASSERT_EQ(0, set_times(pf("%s/trig", l), dir_times));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	self->before = snapshot(l);
	ASSERT_NE(NULL, self->before);
	/* After the snapshot: reading the data moved the lower's atime. */
	ASSERT_EQ(0, stat(pf("%s/trig/file", l), &self->lfile));
	ASSERT_EQ(0, stat(pf("%s/trig", l), &self->ldir));
}

FIXTURE_TEARDOWN(trig)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower tree", self->before,
				     snapshot(self->rw.lower));
	RWL_ENV_TEARDOWN(&self->env);
}

static void expect_xattrs(struct __test_metadata *_metadata,
			  const FIXTURE_VARIANT(trig) *variant,
			  const char *path)
{
	EXPECT_STREQ("value42", xattr_str(path, XATTR_KEEP)) TH_LOG("%s", path);
	EXPECT_STREQ(variant->removed_xattr ? errstr(ENODATA) : "gone",
		     xattr_str(path, XATTR_RM)) TH_LOG("%s", path);
	EXPECT_STREQ(variant->new_xattr ? "nv" : errstr(ENODATA),
		     xattr_str(path, XATTR_NEW)) TH_LOG("%s", path);
}

/* @path holds variant->content then zeros, variant->size bytes in all. */
static void expect_content(struct __test_metadata *_metadata,
			   const FIXTURE_VARIANT(trig) *variant,
			   const char *path)
{
	size_t clen = strlen(variant->content);
	char *buf, *zeros;
	ssize_t n;
	int fd;

	buf = malloc(variant->size + 16);
	zeros = calloc(1, variant->size + 16);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, zeros);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	n = read(fd, buf, variant->size + 16);
	close(fd);
	EXPECT_EQ(variant->size, n) TH_LOG("%s", path);
	if (n == variant->size) {
		EXPECT_EQ(0, memcmp(buf, variant->content, clen)) TH_LOG("%s", path);
		EXPECT_EQ(0, memcmp(buf + clen, zeros, n - clen)) TH_LOG("%s", path);
	}
	free(buf);
	free(zeros);
}

TEST_F(trig, copies_up)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	char ufile[RWL_PATH], mfile[RWL_PATH], expect_names[64];
	struct stat ust, mst, dst;

	rwl_pathf(ufile, "%s/trig/%s", u, variant->name);
	rwl_pathf(mfile, "%s/trig/%s", m, variant->name);

	ASSERT_EQ(0, variant->op(m));

	/* The copy in the upper, stat()ed before anything reads it. */
	ASSERT_EQ(0, lstat(ufile, &ust)) TH_LOG("%s: %s", ufile, strerror(errno));
	ASSERT_TRUE(S_ISREG(ust.st_mode));
	EXPECT_EQ(variant->mode, ust.st_mode & 07777);
	EXPECT_EQ(variant->uid, ust.st_uid);
	EXPECT_EQ(variant->gid, ust.st_gid);
	EXPECT_EQ(variant->size, ust.st_size);
	if (!variant->new_mtime) {
		EXPECT_EQ(self->lfile.st_mtim.tv_sec, ust.st_mtim.tv_sec);
		EXPECT_EQ(self->lfile.st_mtim.tv_nsec, ust.st_mtim.tv_nsec);
	}
	if (!variant->new_atime) {
		EXPECT_EQ(self->lfile.st_atim.tv_sec, ust.st_atim.tv_sec);
		EXPECT_EQ(self->lfile.st_atim.tv_nsec, ust.st_atim.tv_nsec);
	}
	if (variant->times) {
		EXPECT_EQ(variant->times[0].tv_sec, ust.st_atim.tv_sec);
		EXPECT_EQ(variant->times[0].tv_nsec, ust.st_atim.tv_nsec);
		EXPECT_EQ(variant->times[1].tv_sec, ust.st_mtim.tv_sec);
		EXPECT_EQ(variant->times[1].tv_nsec, ust.st_mtim.tv_nsec);
	}

	/* The union shows the copy's attributes and the lower's identity. */
	ASSERT_EQ(0, lstat(mfile, &mst));
	EXPECT_EQ(ust.st_mode, mst.st_mode);
	EXPECT_EQ(ust.st_uid, mst.st_uid);
	EXPECT_EQ(ust.st_gid, mst.st_gid);
	EXPECT_EQ(ust.st_size, mst.st_size);
	EXPECT_EQ(ust.st_mtim.tv_sec, mst.st_mtim.tv_sec);
	EXPECT_EQ(ust.st_mtim.tv_nsec, mst.st_mtim.tv_nsec);
	EXPECT_EQ(self->lfile.st_ino, mst.st_ino);
	EXPECT_EQ(self->lfile.st_dev, mst.st_dev);

	expect_xattrs(_metadata, variant, ufile);
	expect_xattrs(_metadata, variant, mfile);
	expect_content(_metadata, variant, ufile);
	expect_content(_metadata, variant, mfile);

	/* The parent was copied up first, with its attributes. */
	ASSERT_EQ(0, lstat(pf("%s/trig", u), &dst));
	EXPECT_TRUE(S_ISDIR(dst.st_mode));
	EXPECT_EQ(0751, dst.st_mode & 07777);
	EXPECT_EQ(21, dst.st_uid);
	EXPECT_EQ(22, dst.st_gid);
	EXPECT_STREQ("dirval", xattr_str(pf("%s/trig", u), XATTR_DIR));
	if (!variant->dir_changed) {
		EXPECT_EQ(self->ldir.st_mtim.tv_sec, dst.st_mtim.tv_sec);
		EXPECT_EQ(self->ldir.st_mtim.tv_nsec, dst.st_mtim.tv_nsec);
	}

	/* Exactly the names the trigger needs, nothing of the sibling. */
	if (variant->linked)
		snprintf(expect_names, sizeof(expect_names), "file,file2");
	else if (variant->whiteout)
		snprintf(expect_names, sizeof(expect_names), "file,moved");
	else
		snprintf(expect_names, sizeof(expect_names), "file");
	EXPECT_STREQ(expect_names, names(pf("%s/trig", u)));
	EXPECT_STREQ("trig", names(u));
	EXPECT_STREQ(variant->whiteout ? "moved,other" :
		     variant->linked ? "file,file2,other" : "file,other",
		     names(pf("%s/trig", m)));

	if (variant->whiteout) {
		EXPECT_TRUE(is_whiteout(pf("%s/trig/file", u)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/trig/file", m)));
	}
	if (variant->linked) {
		struct stat a, b;

		ASSERT_EQ(0, lstat(pf("%s/trig/file2", u), &b));
		EXPECT_EQ(ust.st_ino, b.st_ino);
		EXPECT_EQ(2, b.st_nlink);
		ASSERT_EQ(0, lstat(pf("%s/trig/file", m), &a));
		ASSERT_EQ(0, lstat(pf("%s/trig/file2", m), &b));
		EXPECT_EQ(a.st_ino, b.st_ino);
		EXPECT_EQ(a.st_dev, b.st_dev);
		EXPECT_EQ(2, a.st_nlink);
		EXPECT_EQ(2, b.st_nlink);
		EXPECT_STREQ(TRIG_DATA, rwl_cat(m, "trig/file2"));
	}
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* ===== the other copy-up properties ===================================== */

/*
 * lower/
 *   d/ 0750 11:12 (XATTR_DIR=dv)   d/e/ 0700 13:14   d/e/f "deep"   d/sib
 *   acl/ (default ACL)   acl/af "acl" (access ACL)
 *   cap "cap" 06755 1234:5678 + security.capability    cap2 the same
 *   sparse, sparse2: 1 GiB, three 4 KiB data extents
 *   idf "identity"    of "old content"    conc: 9 * 64 KiB pattern
 *   pdir/ 0755 root   pdir/rootfile 0644 root
 *   udir/ 0755 root   udir/userfile 0644 nobody
 */
FIXTURE(cu) {
	struct rwl_env env;
	struct rwl_rw rw;
	char *before;
};

/* POSIX ACL xattr format (include/uapi/linux/posix_acl_xattr.h). */
#define ACL_XATTR_VERSION	0x0002
#define ACL_USER_OBJ		0x01
#define ACL_USER		0x02
#define ACL_GROUP_OBJ		0x04
#define ACL_GROUP		0x08
#define ACL_MASK		0x10
#define ACL_OTHER		0x20
#define ACL_UNDEFINED_ID	((uint32_t)-1)

struct acl_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

struct acl_xattr {
	uint32_t version;
	struct acl_entry e[6];
};

static const struct acl_xattr access_acl = {
	.version = ACL_XATTR_VERSION,
	.e = {
		{ ACL_USER_OBJ, 6, ACL_UNDEFINED_ID },
		{ ACL_USER, 4, 1000 },
		{ ACL_GROUP_OBJ, 4, ACL_UNDEFINED_ID },
		{ ACL_GROUP, 6, 2000 },
		{ ACL_MASK, 6, ACL_UNDEFINED_ID },
		{ ACL_OTHER, 0, ACL_UNDEFINED_ID },
	},
};

static const struct acl_xattr default_acl = {
	.version = ACL_XATTR_VERSION,
	.e = {
		{ ACL_USER_OBJ, 7, ACL_UNDEFINED_ID },
		{ ACL_USER, 7, 1000 },
		{ ACL_GROUP_OBJ, 5, ACL_UNDEFINED_ID },
		{ ACL_GROUP, 5, 2000 },
		{ ACL_MASK, 7, ACL_UNDEFINED_ID },
		{ ACL_OTHER, 5, ACL_UNDEFINED_ID },
	},
};

/* struct vfs_cap_data, revision 2 (include/uapi/linux/capability.h). */
struct cap_v2 {
	uint32_t magic_etc;
	struct {
		uint32_t permitted;
		uint32_t inheritable;
	} data[2];
};

static const struct cap_v2 cap_blob = {
	.magic_etc = 0x02000000 | 0x000001,	/* REVISION_2 | EFFECTIVE */
	.data = {
		{ (1u << 10) | (1u << 13), 1u << 12 },	/* NET_BIND_SERVICE, NET_RAW; NET_ADMIN */
		{ 0, 0 },
	},
};

static int make_sparse(const char *path)
{
	char buf[SPARSE_LEN];
	int fd, err = 0;
	size_t i;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, SPARSE_SIZE))
		err = -errno;
	for (i = 0; !err && i < ARRAY_SIZE(sparse_offs); i++) {
		rwl_pattern_fill(buf, sizeof(buf), sparse_offs[i], 31);
		if (pwrite(fd, buf, sizeof(buf), sparse_offs[i]) != sizeof(buf))
			err = -EIO;
	}
	close(fd);
	return err;
}

static int make_cap_file(const char *path)
{
	/* chown clears capabilities and set-id bits: it goes first. */
	return write_file(path, "cap", 1234, 5678, 06755) ?:
	       set_xattr(path, "security.capability", &cap_blob,
			 sizeof(cap_blob)) ?:
	       set_times(path, file_times);
}

FIXTURE_SETUP(cu)
{
	const char *l;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;

	ASSERT_EQ(0, make_dir(pf("%s/d", l), 11, 12, 0750));
	ASSERT_EQ(0, set_xattr(pf("%s/d", l), XATTR_DIR, "dv", 2));
	ASSERT_EQ(0, make_dir(pf("%s/d/e", l), 13, 14, 0700));
	ASSERT_EQ(0, write_file(pf("%s/d/e/f", l), "deep", 0, 0, 0644));
	ASSERT_EQ(0, rwl_write_text(pf("%s/d/sib", l), "sib"));
	ASSERT_EQ(0, set_times(pf("%s/d/e/f", l), file_times));
	ASSERT_EQ(0, set_times(pf("%s/d/e", l), dir_times));
	ASSERT_EQ(0, set_times(pf("%s/d", l), new_times));

	ASSERT_EQ(0, make_dir(pf("%s/acl", l), 0, 0, 0755));
	ASSERT_EQ(0, write_file(pf("%s/acl/af", l), "acl", 0, 0, 0640));
	ASSERT_EQ(0, set_xattr(pf("%s/acl/af", l), "system.posix_acl_access",
			       &access_acl, sizeof(access_acl)));
	ASSERT_EQ(0, set_xattr(pf("%s/acl", l), "system.posix_acl_default",
			       &default_acl, sizeof(default_acl)));

	ASSERT_EQ(0, make_cap_file(pf("%s/cap", l)));
	ASSERT_EQ(0, make_cap_file(pf("%s/cap2", l)));

	ASSERT_EQ(0, make_sparse(pf("%s/sparse", l)));
	ASSERT_EQ(0, make_sparse(pf("%s/sparse2", l)));

	ASSERT_EQ(0, rwl_write_text(pf("%s/idf", l), "identity"));
	ASSERT_EQ(0, rwl_write_text(pf("%s/of", l), "old content"));
	ASSERT_EQ(0, rwl_write_pattern(pf("%s/conc", l),
				       (CONC_PROCS + 1) * CONC_REGION,
				       CONC_SEED, 0644));

	ASSERT_EQ(0, make_dir(pf("%s/pdir", l), 0, 0, 0755));
	ASSERT_EQ(0, write_file(pf("%s/pdir/rootfile", l), "root only", 0, 0,
				0644));
	ASSERT_EQ(0, make_dir(pf("%s/udir", l), 0, 0, 0755));
	ASSERT_EQ(0, write_file(pf("%s/udir/userfile", l), "user file",
				RWL_NOBODY, RWL_NOBODY, 0644));
	ASSERT_EQ(0, set_times(pf("%s/udir", l), dir_times));

	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	self->before = snapshot(l);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(cu)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower tree", self->before,
				     snapshot(self->rw.lower));
	RWL_ENV_TEARDOWN(&self->env);
}

/* Owner, mode and times of @b are those of @a. */
static void expect_same_attrs(struct __test_metadata *_metadata,
			      const char *a, const char *b)
{
	struct stat sa, sb;

	ASSERT_EQ(0, lstat(a, &sa)) TH_LOG("%s: %s", a, strerror(errno));
	ASSERT_EQ(0, lstat(b, &sb)) TH_LOG("%s: %s", b, strerror(errno));
	EXPECT_EQ(sa.st_mode, sb.st_mode) TH_LOG("%s", b);
	EXPECT_EQ(sa.st_uid, sb.st_uid) TH_LOG("%s", b);
	EXPECT_EQ(sa.st_gid, sb.st_gid) TH_LOG("%s", b);
	EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) TH_LOG("%s", b);
	EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) TH_LOG("%s", b);
}

TEST_F(cu, parents_copied_up)
{
	const char *l = self->rw.lower, *u = self->rw.upper, *m = self->rw.mnt;
	struct stat d0, e0, d1, e1;

	ASSERT_EQ(0, stat(pf("%s/d", m), &d0));
	ASSERT_EQ(0, stat(pf("%s/d/e", m), &e0));
	ASSERT_EQ(0, chmod(pf("%s/d/e/f", m), 0600));

	expect_same_attrs(_metadata, pf("%s/d", l), pf("%s/d", u));
	expect_same_attrs(_metadata, pf("%s/d/e", l), pf("%s/d/e", u));
	EXPECT_STREQ("dv", xattr_str(pf("%s/d", u), XATTR_DIR));
	EXPECT_STREQ("e", names(pf("%s/d", u)));
	EXPECT_STREQ("f", names(pf("%s/d/e", u)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/d/sib", u)));
	EXPECT_STREQ("d", names(u));
	EXPECT_STREQ("deep", rwl_cat(u, "d/e/f"));

	/* Through the union: same attributes, same directory identity. */
	expect_same_attrs(_metadata, pf("%s/d", l), pf("%s/d", m));
	expect_same_attrs(_metadata, pf("%s/d/e", l), pf("%s/d/e", m));
	expect_same_attrs(_metadata, pf("%s/d/e/f", u), pf("%s/d/e/f", m));
	ASSERT_EQ(0, stat(pf("%s/d", m), &d1));
	ASSERT_EQ(0, stat(pf("%s/d/e", m), &e1));
	EXPECT_EQ(d0.st_ino, d1.st_ino);
	EXPECT_EQ(d0.st_dev, d1.st_dev);
	EXPECT_EQ(e0.st_ino, e1.st_ino);
	EXPECT_EQ(e0.st_dev, e1.st_dev);
	EXPECT_STREQ("e,sib", names(pf("%s/d", m)));
	EXPECT_STREQ("sib", rwl_cat(m, "d/sib"));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

static int read_acl_file(void *arg)
{
	int fd = open((const char *)arg, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static bool same_xattr(const char *a, const char *b, const char *name,
		       size_t want)
{
	char va[256], vb[256];
	ssize_t na, nb;

	na = lgetxattr(a, name, va, sizeof(va));
	nb = lgetxattr(b, name, vb, sizeof(vb));
	if (na != (ssize_t)want || nb != na || memcmp(va, vb, na)) {
		rwl_log("%s: %zd bytes in %s, %zd in %s", name, na, a, nb, b);
		return false;
	}
	return true;
}

TEST_F(cu, posix_acl)
{
	const char *l = self->rw.lower, *u = self->rw.upper, *m = self->rw.mnt;
	int fd;

	fd = open(pf("%s/acl/af", m), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));

	EXPECT_TRUE(same_xattr(pf("%s/acl/af", l), pf("%s/acl/af", u),
			       "system.posix_acl_access", sizeof(access_acl)));
	EXPECT_TRUE(same_xattr(pf("%s/acl", l), pf("%s/acl", u),
			       "system.posix_acl_default", sizeof(default_acl)));
	EXPECT_TRUE(same_xattr(pf("%s/acl/af", l), pf("%s/acl/af", m),
			       "system.posix_acl_access", sizeof(access_acl)));
	EXPECT_TRUE(same_xattr(pf("%s/acl", l), pf("%s/acl", m),
			       "system.posix_acl_default", sizeof(default_acl)));
	expect_same_attrs(_metadata, pf("%s/acl/af", l), pf("%s/acl/af", u));
	expect_same_attrs(_metadata, pf("%s/acl", l), pf("%s/acl", u));
	EXPECT_STREQ("acl", rwl_cat(u, "acl/af"));

	/* The ACL works through the union: user 1000 reads by its entry. */
	EXPECT_EQ(0, rwl_run_as(1000, read_acl_file, (void *)pf("%s/acl/af", m)));
	EXPECT_EQ(EACCES, rwl_run_as(3000, read_acl_file,
				     (void *)pf("%s/acl/af", m)));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/*
 * A v2 file capability and the set-id bits survive the copy-up (the copy
 * is chown()ed before its xattrs and mode are set).
 */
TEST_F(cu, capability_and_setid)
{
	const char *l = self->rw.lower, *u = self->rw.upper, *m = self->rw.mnt;
	struct cap_v2 got;
	struct stat st;
	const char *f;
	int i;

	ASSERT_EQ(0, setxattr(pf("%s/cap", m), "trusted.trigger", "1", 1, 0));
	ASSERT_EQ(0, chmod(pf("%s/cap2", m), 06750));

	for (i = 0; i < 2; i++) {
		f = i ? "cap2" : "cap";
		ASSERT_EQ(0, lstat(pf("%s/%s", u, f), &st)) TH_LOG("%s", f);
		EXPECT_EQ(i ? 06750 : 06755, st.st_mode & 07777) TH_LOG("%s", f);
		EXPECT_EQ(1234, st.st_uid) TH_LOG("%s", f);
		EXPECT_EQ(5678, st.st_gid) TH_LOG("%s", f);
		memset(&got, 0, sizeof(got));
		EXPECT_EQ(sizeof(cap_blob),
			  lgetxattr(pf("%s/%s", u, f), "security.capability",
				    &got, sizeof(got))) TH_LOG("%s: %s", f,
							       strerror(errno));
		EXPECT_EQ(0, memcmp(&got, &cap_blob, sizeof(got))) TH_LOG("%s", f);
		memset(&got, 0, sizeof(got));
		EXPECT_EQ(sizeof(cap_blob),
			  getxattr(pf("%s/%s", m, f), "security.capability",
				   &got, sizeof(got))) TH_LOG("%s", f);
		EXPECT_EQ(0, memcmp(&got, &cap_blob, sizeof(got))) TH_LOG("%s", f);
		expect_same_attrs(_metadata, pf("%s/%s", u, f), pf("%s/%s", m, f));
		EXPECT_STREQ("cap", rwl_cat(u, f));
	}
	expect_same_attrs(_metadata, pf("%s/cap", l), pf("%s/cap", u));
	EXPECT_STREQ("1", xattr_str(pf("%s/cap", u), "trusted.trigger"));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* The [data, hole) extents of @fd, at most @max; the count or -errno. */
static int extent_map(int fd, long long (*map)[2], int max)
{
	off_t pos = 0, data, hole;
	int n = 0;

	while ((data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (n == max)
			return -E2BIG;
		map[n][0] = data;
		map[n][1] = hole;
		n++;
		pos = hole;
	}
	return errno == ENXIO ? n : -errno;
}

static void expect_sparse_copy(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cu) *self, const char *name)
{
	long long lmap[16][2], umap[16][2], mmap_[16][2];
	int lfd, ufd, mfd, ln, un, mn, i;
	char buf[SPARSE_LEN];
	struct stat st;
	size_t e;

	lfd = open(pf("%s/%s", self->rw.lower, name), O_RDONLY | O_CLOEXEC);
	ufd = open(pf("%s/%s", self->rw.upper, name), O_RDONLY | O_CLOEXEC);
	mfd = open(pf("%s/%s", self->rw.mnt, name), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, lfd);
	ASSERT_LE(0, ufd) TH_LOG("%s not in the upper: %s", name, strerror(errno));
	ASSERT_LE(0, mfd);

	ASSERT_EQ(0, fstat(ufd, &st));
	EXPECT_EQ(SPARSE_SIZE, st.st_size) TH_LOG("%s", name);
	EXPECT_GT(MiB / 512, st.st_blocks)
		TH_LOG("%s: %lld blocks in the upper, holes were filled", name,
		       (long long)st.st_blocks);
	ASSERT_EQ(0, fstat(mfd, &st));
	EXPECT_EQ(SPARSE_SIZE, st.st_size);
	EXPECT_GT(MiB / 512, st.st_blocks);

	ln = extent_map(lfd, lmap, 16);
	un = extent_map(ufd, umap, 16);
	mn = extent_map(mfd, mmap_, 16);
	ASSERT_LT(0, ln);
	EXPECT_EQ(ln, un) TH_LOG("%s: extents in the upper", name);
	EXPECT_EQ(ln, mn) TH_LOG("%s: extents through the union", name);
	for (i = 0; i < ln && i < un; i++) {
		EXPECT_EQ(lmap[i][0], umap[i][0]) TH_LOG("%s upper extent %d", name, i);
		EXPECT_EQ(lmap[i][1], umap[i][1]) TH_LOG("%s upper extent %d", name, i);
	}
	for (i = 0; i < ln && i < mn; i++) {
		EXPECT_EQ(lmap[i][0], mmap_[i][0]) TH_LOG("%s union extent %d", name, i);
		EXPECT_EQ(lmap[i][1], mmap_[i][1]) TH_LOG("%s union extent %d", name, i);
	}

	for (e = 0; e < ARRAY_SIZE(sparse_offs); e++) {
		ASSERT_EQ(SPARSE_LEN, pread(mfd, buf, SPARSE_LEN, sparse_offs[e]));
		EXPECT_EQ(-1, rwl_pattern_check(buf, SPARSE_LEN, sparse_offs[e], 31))
			TH_LOG("%s extent %zu through the union", name, e);
		ASSERT_EQ(SPARSE_LEN, pread(ufd, buf, SPARSE_LEN, sparse_offs[e]));
		EXPECT_EQ(-1, rwl_pattern_check(buf, SPARSE_LEN, sparse_offs[e], 31))
			TH_LOG("%s extent %zu in the upper", name, e);
	}
	/* Holes read as zeros. */
	ASSERT_EQ(SPARSE_LEN, pread(mfd, buf, SPARSE_LEN, 256LL * MiB));
	for (e = 0; e < SPARSE_LEN && !buf[e]; e++)
		;
	EXPECT_EQ(SPARSE_LEN, e);
	close(lfd);
	close(ufd);
	close(mfd);
}

TEST_F_TIMEOUT(cu, sparse, 120)
{
	int fd;

	ASSERT_EQ(0, chmod(pf("%s/sparse", self->rw.mnt), 0600));
	fd = open(pf("%s/sparse2", self->rw.mnt), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	expect_sparse_copy(_metadata, self, "sparse");
	expect_sparse_copy(_metadata, self, "sparse2");
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

static int drop_caches(void)
{
	int fd, err = 0;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "2", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

TEST_F(cu, identity)
{
	char lf[RWL_PATH], uf[RWL_PATH], mf[RWL_PATH];
	struct stat lst, st;
	unsigned char origin[64];
	char list[4096];
	uint64_t dev;
	ssize_t n, pos;

	rwl_pathf(lf, "%s/idf", self->rw.lower);
	rwl_pathf(uf, "%s/idf", self->rw.upper);
	rwl_pathf(mf, "%s/idf", self->rw.mnt);
	ASSERT_EQ(0, stat(lf, &lst));
	ASSERT_EQ(0, stat(mf, &st));
	EXPECT_EQ(lst.st_ino, st.st_ino);
	EXPECT_EQ(lst.st_dev, st.st_dev);

	ASSERT_EQ(0, chmod(mf, 0600));
	ASSERT_EQ(0, stat(mf, &st));
	EXPECT_EQ(lst.st_ino, st.st_ino);
	EXPECT_EQ(lst.st_dev, st.st_dev);
	EXPECT_EQ(0600, st.st_mode & 07777);

	/* The upper copy records where it came from. */
	n = lgetxattr(uf, XATTR_ORIGIN, origin, sizeof(origin));
	EXPECT_EQ(16, n) TH_LOG("%s: %s", XATTR_ORIGIN, n < 0 ? strerror(errno) : "");
	if (n == 16) {
		EXPECT_EQ(lst.st_ino, le64(origin + 8));
		dev = le64(origin);
		/* Spec: "st_dev": the stat() value or the kernel's dev_t. */
		EXPECT_TRUE(dev == lst.st_dev ||
			    dev == ((uint64_t)major(lst.st_dev) << 20 |
				    minor(lst.st_dev)))
			TH_LOG("origin dev %#llx, lower st_dev %#llx",
			       (unsigned long long)dev,
			       (unsigned long long)lst.st_dev);
	}

	/* The identity survives eviction of the cached inode. */
	ASSERT_EQ(0, drop_caches());
	ASSERT_EQ(0, stat(mf, &st));
	EXPECT_EQ(lst.st_ino, st.st_ino);
	EXPECT_EQ(lst.st_dev, st.st_dev);
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_STREQ("identity", rwl_cat(self->rw.mnt, "idf"));

	/* The internal xattrs are neither visible nor settable. */
	EXPECT_EQ(-1, getxattr(mf, XATTR_ORIGIN, origin, sizeof(origin)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, setxattr(mf, XATTR_ORIGIN, origin, 16, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, setxattr(mf, "trusted.overlay.opaque", "y", 1, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	n = listxattr(mf, list, sizeof(list));
	ASSERT_LE(0, n);
	for (pos = 0; pos < n; pos += strlen(list + pos) + 1) {
		EXPECT_NE(0, strncmp(list + pos, "trusted.rwlayer.", 16))
			TH_LOG("listed: %s", list + pos);
		EXPECT_NE(0, strncmp(list + pos, "trusted.overlay.", 16))
			TH_LOG("listed: %s", list + pos);
	}
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(cu, open_fd_keeps_lower)
{
	const char *mf = pf("%s/of", self->rw.mnt);
	char buf[64];
	int old, fd;

	old = open(mf, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, old);
	ASSERT_EQ(3, read(old, buf, 3));

	fd = open(mf, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(fd, "NEW DATA!!", 10));
	ASSERT_EQ(0, close(fd));

	/* The old fd reads on where it was, in the lower file. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(8, read(old, buf, sizeof(buf) - 1));
	EXPECT_STREQ(" content", buf);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(11, pread(old, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("old content", buf);
	/* New opens see the copy. */
	EXPECT_STREQ("NEW DATA!!", rwl_cat(self->rw.mnt, "of"));
	EXPECT_STREQ("NEW DATA!!", rwl_cat(self->rw.upper, "of"));
	EXPECT_STREQ("old content", rwl_cat(self->rw.lower, "of"));
	EXPECT_EQ(0, close(old));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F_TIMEOUT(cu, concurrent, 120)
{
	size_t size = (CONC_PROCS + 1) * CONC_REGION;
	pid_t pids[CONC_PROCS];
	int pipefd[2], i, status, fd;
	char *buf;
	ssize_t n;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	for (i = 0; i < CONC_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			char region[CONC_REGION], c;

			close(pipefd[1]);
			rwl_pattern_fill(region, sizeof(region),
					 (uint64_t)i * CONC_REGION, 100 + i);
			/* Wait for the start: EOF when the parent closes. */
			if (read(pipefd[0], &c, 1) != 0)
				_exit(2);
			fd = open(pf("%s/conc", self->rw.mnt),
				  O_WRONLY | O_CLOEXEC);
			if (fd < 0) {
				rwl_log("writer %d: open: %s", i, strerror(errno));
				_exit(3);
			}
			if (pwrite(fd, region, sizeof(region),
				   (off_t)i * CONC_REGION) != sizeof(region)) {
				rwl_log("writer %d: pwrite: %s", i, strerror(errno));
				_exit(4);
			}
			_exit(close(fd) ? 5 : 0);
		}
	}
	close(pipefd[0]);
	usleep(200 * 1000);
	close(pipefd[1]);
	for (i = 0; i < CONC_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status)) TH_LOG("writer %d", i);
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("writer %d", i);
	}

	buf = malloc(size + 1);
	ASSERT_NE(NULL, buf);
	for (int where = 0; where < 2; where++) {
		const char *path = pf("%s/conc", where ? self->rw.upper : self->rw.mnt);

		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		n = pread(fd, buf, size + 1, 0);
		close(fd);
		EXPECT_EQ((ssize_t)size, n) TH_LOG("%s", path);
		if (n != (ssize_t)size)
			continue;
		for (i = 0; i < CONC_PROCS; i++)
			EXPECT_EQ(-1, rwl_pattern_check(buf + i * CONC_REGION,
							CONC_REGION,
							(uint64_t)i * CONC_REGION,
							100 + i))
				TH_LOG("%s: region %d", path, i);
		/* The untouched region is the lower's data. */
		EXPECT_EQ(-1, rwl_pattern_check(buf + CONC_PROCS * CONC_REGION,
						CONC_REGION,
						(uint64_t)CONC_PROCS * CONC_REGION,
						CONC_SEED)) TH_LOG("%s: tail", path);
	}
	free(buf);
	EXPECT_STREQ("conc", names(self->rw.upper));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

#define DENY(call, err) do {						\
	errno = 0;							\
	if ((call) >= 0 || errno != (err)) {				\
		rwl_log("%s: want %s, got %s", #call, strerror(err),	\
			strerror(errno));				\
		fails++;						\
	}								\
} while (0)

/* As nobody: no way to change a root 0644 file or its 0755 directory. */
static int nobody_denied(void *arg)
{
	const char *m = arg, *f = pf("%s/pdir/rootfile", m);
	struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	int fails = 0;

	DENY(open(f, O_WRONLY | O_CLOEXEC), EACCES);
	DENY(open(f, O_RDWR | O_CLOEXEC), EACCES);
	DENY(open(f, O_WRONLY | O_TRUNC | O_CLOEXEC), EACCES);
	DENY(open(f, O_RDONLY | O_TRUNC | O_CLOEXEC), EACCES);
	DENY(open(f, O_WRONLY | O_APPEND | O_CLOEXEC), EACCES);
	DENY(truncate(f, 0), EACCES);
	DENY(chmod(f, 0666), EPERM);
	DENY(chown(f, RWL_NOBODY, RWL_NOBODY), EPERM);
	DENY(utimensat(AT_FDCWD, f, NULL, 0), EACCES);
	DENY(utimensat(AT_FDCWD, f, ts, 0), EPERM);
	DENY(setxattr(f, "trusted.x", "1", 1, 0), EPERM);
	DENY(removexattr(f, "trusted.x"), EPERM);
	DENY(open(pf("%s/pdir/new", m), O_WRONLY | O_CREAT | O_CLOEXEC, 0644),
	     EACCES);
	DENY(rename(f, pf("%s/pdir/moved", m)), EACCES);
	DENY(unlink(f), EACCES);
	DENY(chmod(pf("%s/pdir", m), 0777), EPERM);
	return fails;
}

TEST_F(cu, unprivileged_denied)
{
	EXPECT_EQ(0, rwl_run_as(RWL_NOBODY, nobody_denied, self->rw.mnt));
	/* No copy-up happened, not even of the parent. */
	EXPECT_STREQ("", names(self->rw.upper));
	EXPECT_STREQ("root only", rwl_cat(self->rw.mnt, "pdir/rootfile"));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* As nobody: write and chmod one's own file in a root 0755 directory. */
static int nobody_own(void *arg)
{
	const char *m = arg, *f = pf("%s/udir/userfile", m);
	int fails = 0, fd;

	fd = open(f, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		rwl_log("open %s: %s", f, strerror(errno));
		return 1;
	}
	if (write(fd, "user-written", 12) != 12) {
		rwl_log("write %s: %s", f, strerror(errno));
		fails++;
	}
	close(fd);
	if (chmod(f, 0600)) {
		rwl_log("chmod %s: %s", f, strerror(errno));
		fails++;
	}
	/* The directory itself stays closed to nobody. */
	DENY(open(pf("%s/udir/new", m), O_WRONLY | O_CREAT | O_CLOEXEC, 0644),
	     EACCES);
	return fails;
}

TEST_F(cu, unprivileged_own_file)
{
	const char *l = self->rw.lower, *u = self->rw.upper, *m = self->rw.mnt;
	struct stat st;

	EXPECT_EQ(0, rwl_run_as(RWL_NOBODY, nobody_own, (void *)m));

	expect_same_attrs(_metadata, pf("%s/udir", l), pf("%s/udir", u));
	ASSERT_EQ(0, lstat(pf("%s/udir/userfile", u), &st));
	EXPECT_EQ(RWL_NOBODY, st.st_uid);
	EXPECT_EQ(RWL_NOBODY, st.st_gid);
	EXPECT_EQ(S_IFREG | 0600, st.st_mode);
	EXPECT_STREQ("user-written", rwl_cat(u, "udir/userfile"));
	EXPECT_STREQ("user-written", rwl_cat(m, "udir/userfile"));
	EXPECT_STREQ("userfile", names(pf("%s/udir", u)));
	expect_same_attrs(_metadata, pf("%s/udir/userfile", u),
			  pf("%s/udir/userfile", m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_HARNESS_MAIN

/*
 * Two names of one hard-linked lower file: writing through one copies it
 * up alone, as a file with the upper copy's identity; the other keeps
 * showing the lower content and identity, before and after the cache is
 * dropped (overlayfs without index=on behaves the same).
 */
TEST(lower_hardlink_write_one_name)
{
	struct rwl_env env;
	struct rwl_rw rw;
	struct stat la, ua, ma, mb;
	char a[RWL_PATH], b[RWL_PATH];
	int pass;

	RWL_ENV_SETUP(&env);
	ASSERT_EQ(0, rwl_rw_init(&env, &rw, NULL));
	ASSERT_EQ(0, rwl_write_text(pf("%s/a", rw.lower), "old"));
	ASSERT_EQ(0, link(pf("%s/a", rw.lower), pf("%s/b", rw.lower)));
	ASSERT_EQ(0, stat(pf("%s/a", rw.lower), &la));
	ASSERT_EQ(0, rwl_rw_mount(&env, &rw, NULL));
	rwl_pathf(a, "%s/a", rw.mnt);
	rwl_pathf(b, "%s/b", rw.mnt);

	ASSERT_EQ(0, rwl_write_text(a, "new"));
	ASSERT_EQ(0, stat(pf("%s/a", rw.upper), &ua));
	for (pass = 0; pass < 2; pass++) {
		EXPECT_STREQ("new", rwl_cat(rw.mnt, "a"));
		EXPECT_STREQ("old", rwl_cat(rw.mnt, "b"));
		ASSERT_EQ(0, stat(a, &ma));
		ASSERT_EQ(0, stat(b, &mb));
		/* The copy is a file of its own; b is still the lower's. */
		EXPECT_EQ(ua.st_ino, ma.st_ino);
		EXPECT_EQ(ua.st_dev, ma.st_dev);
		EXPECT_EQ(1, ma.st_nlink);
		EXPECT_EQ(la.st_ino, mb.st_ino);
		EXPECT_EQ(la.st_dev, mb.st_dev);
		ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	}
	EXPECT_STREQ("old", rwl_cat(rw.lower, "a"));
	RWL_ENV_TEARDOWN(&env);
}
