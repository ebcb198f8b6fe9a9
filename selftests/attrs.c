// SPDX-License-Identifier: GPL-2.0
/*
 * What the union reports about its files: stat() as the layer has it
 * (non-directories keep the real st_dev/st_ino, directories take the
 * union's device and the key layer's inode number, with the index of its
 * filesystem in the top bits when the layers span several), stable
 * identities,
 * hard links, extended attributes, permission checks made for the caller,
 * and statfs() of the top layer.
 */
#include <sys/xattr.h>

#include "rwl_util.h"

#define XATTR_NAME	"trusted.rwltest"
#define DIR_INO_REAL_MASK	((1ULL << 56) - 1)

/*
 * l0 (top, 8 MiB tmpfs):
 *   f0 0640 1234:5678 100 bytes    d/ 0750 1:2 (d/x)    xf, xd/ with xattrs
 *   secret 0600 root    pub 0644 root    private/ 0700 root (private/inner)
 *   own 0600 65534:65534
 * l1 (16 MiB tmpfs):
 *   f1 0604 42:43 4097 bytes   d/ 0755 (d/y)   onlyl1/ 0711 7:8 (onlyl1/z)
 *   h1, h2 hard links   lnk -> f1   fifo   chr (1,5)
 */
FIXTURE(attrs) {
	struct rwl_env env;
	char l0[RWL_PATH], l1[RWL_PATH], mnt[RWL_PATH];
	char lower[2 * RWL_PATH + 2];
};

static const struct timespec fixed_times[2] = {
	{ .tv_sec = 1500000000, .tv_nsec = 111111111 },
	{ .tv_sec = 1600000000, .tv_nsec = 123456789 },
};

/* Create @dir/@name as @kind ('f' file, 'd' dir) with the given owner and mode. */
static int make(const char *dir, const char *name, char kind, mode_t mode,
		uid_t uid, gid_t gid, const char *text)
{
	char p[RWL_PATH];
	int err;

	err = rwl_mk(dir, name, kind, text);
	if (err)
		return err;
	rwl_pathf(p, "%s/%s", dir, name);
	if (chown(p, uid, gid) || chmod(p, mode))
		return -errno;
	return 0;
}

static int set_times(const char *dir, const char *name)
{
	char p[RWL_PATH];

	if (utimensat(AT_FDCWD, rwl_pathf(p, "%s/%s", dir, name), fixed_times,
		      AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

static int set_xattr(const char *dir, const char *name, const char *value)
{
	char p[RWL_PATH];

	if (setxattr(rwl_pathf(p, "%s/%s", dir, name), XATTR_NAME, value,
		     strlen(value), 0))
		return -errno;
	return 0;
}

FIXTURE_SETUP(attrs)
{
	char p[RWL_PATH], q[RWL_PATH];

	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->l0, "%s/l0", self->env.base);
	rwl_pathf(self->l1, "%s/l1", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l0, "mode=0755,size=8m"));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l1, "mode=0755,size=16m"));

	ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/f0", self->l0), 100, 1,
				       0640));
	ASSERT_EQ(0, chown(p, 1234, 5678));
	ASSERT_EQ(0, make(self->l0, "d", 'd', 0750, 1, 2, NULL));
	ASSERT_EQ(0, make(self->l0, "d/x", 'f', 0644, 0, 0, "x"));
	ASSERT_EQ(0, make(self->l0, "xf", 'f', 0644, 0, 0, "xattr file"));
	ASSERT_EQ(0, set_xattr(self->l0, "xf", "value42"));
	ASSERT_EQ(0, make(self->l0, "xd", 'd', 0755, 0, 0, NULL));
	ASSERT_EQ(0, set_xattr(self->l0, "xd", "dirval"));
	ASSERT_EQ(0, make(self->l0, "secret", 'f', 0600, 0, 0, "secret"));
	ASSERT_EQ(0, make(self->l0, "pub", 'f', 0644, 0, 0, "public"));
	ASSERT_EQ(0, make(self->l0, "private", 'd', 0700, 0, 0, NULL));
	ASSERT_EQ(0, make(self->l0, "private/inner", 'f', 0644, 0, 0, "inner"));
	ASSERT_EQ(0, make(self->l0, "own", 'f', 0600, RWL_NOBODY, RWL_NOBODY,
			  "mine"));

	ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/f1", self->l1), 4097, 2,
				       0604));
	ASSERT_EQ(0, chown(p, 42, 43));
	ASSERT_EQ(0, make(self->l1, "d", 'd', 0755, 0, 0, NULL));
	ASSERT_EQ(0, make(self->l1, "d/y", 'f', 0644, 0, 0, "y"));
	ASSERT_EQ(0, make(self->l1, "onlyl1", 'd', 0711, 7, 8, NULL));
	ASSERT_EQ(0, make(self->l1, "onlyl1/z", 'f', 0644, 0, 0, "z"));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/h1", self->l1), "linked"));
	ASSERT_EQ(0, link(p, rwl_pathf(q, "%s/h2", self->l1)));
	ASSERT_EQ(0, symlink("f1", rwl_pathf(p, "%s/lnk", self->l1)));
	ASSERT_EQ(0, mknod(rwl_pathf(p, "%s/fifo", self->l1), S_IFIFO | 0620, 0));
	ASSERT_EQ(0, mknod(rwl_pathf(p, "%s/chr", self->l1), S_IFCHR | 0666,
			   makedev(1, 5)));

	/* Last, as creating entries changes directory times. */
	ASSERT_EQ(0, set_times(self->l0, "f0"));
	ASSERT_EQ(0, set_times(self->l0, "d"));
	ASSERT_EQ(0, set_times(self->l1, "f1"));
	ASSERT_EQ(0, set_times(self->l1, "d"));
	ASSERT_EQ(0, set_times(self->l1, "onlyl1"));
	ASSERT_EQ(0, set_times(self->l1, "lnk"));

	snprintf(self->lower, sizeof(self->lower), "%s:%s", self->l0, self->l1);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->lower));
}

FIXTURE_TEARDOWN(attrs)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* The attributes the union must show as the layer has them. */
static void expect_same_attrs(struct __test_metadata *_metadata,
			      const char *what, const struct stat *want,
			      const struct stat *st)
{
	EXPECT_EQ(want->st_mode, st->st_mode) TH_LOG("%s", what);
	EXPECT_EQ(want->st_uid, st->st_uid) TH_LOG("%s", what);
	EXPECT_EQ(want->st_gid, st->st_gid) TH_LOG("%s", what);
	EXPECT_EQ(want->st_size, st->st_size) TH_LOG("%s", what);
	EXPECT_EQ(want->st_nlink, st->st_nlink) TH_LOG("%s", what);
	EXPECT_EQ(want->st_mtim.tv_sec, st->st_mtim.tv_sec) TH_LOG("%s", what);
	EXPECT_EQ(want->st_mtim.tv_nsec, st->st_mtim.tv_nsec) TH_LOG("%s", what);
	EXPECT_EQ(want->st_rdev, st->st_rdev) TH_LOG("%s", what);
}

TEST_F(attrs, nondir_stat)
{
	static const struct { int layer; const char *name; } files[] = {
		{ 0, "f0" }, { 0, "secret" }, { 0, "own" }, { 1, "f1" },
		{ 1, "h1" }, { 1, "lnk" }, { 1, "fifo" }, { 1, "chr" },
	};
	char p[RWL_PATH], q[RWL_PATH];
	struct stat st, real;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		rwl_pathf(p, "%s/%s", self->mnt, files[i].name);
		rwl_pathf(q, "%s/%s", files[i].layer ? self->l1 : self->l0,
			  files[i].name);
		ASSERT_EQ(0, lstat(p, &st)) TH_LOG("%s: %s", p, strerror(errno));
		ASSERT_EQ(0, lstat(q, &real));
		expect_same_attrs(_metadata, p, &real, &st);
		EXPECT_EQ(real.st_ino, st.st_ino) TH_LOG("%s", p);
		EXPECT_EQ(real.st_dev, st.st_dev) TH_LOG("%s", p);
	}
	/* The fixture's own values, so the check above cannot pass vacuously. */
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/f0", self->mnt), &st));
	EXPECT_EQ(S_IFREG | 0640, st.st_mode);
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);
	EXPECT_EQ(100, st.st_size);
	EXPECT_EQ(fixed_times[1].tv_sec, st.st_mtim.tv_sec);
	EXPECT_EQ(fixed_times[1].tv_nsec, st.st_mtim.tv_nsec);
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/chr", self->mnt), &st));
	EXPECT_EQ(makedev(1, 5), st.st_rdev);
}

TEST_F(attrs, dir_stat)
{
	/* A merged directory's link count is 1, "unknown", as on overlayfs. */
	static const struct {
		int layer;
		const char *name;
		bool merged;
	} dirs[] = {
		{ 0, "", true }, { 0, "d", true }, { 0, "xd", false },
		{ 0, "private", false }, { 1, "onlyl1", false },
	};
	struct stat st, real, l0, l1;
	char p[RWL_PATH], q[RWL_PATH];
	dev_t dev;
	size_t i;

	ASSERT_EQ(0, rwl_mount_dev(self->mnt, &dev));
	ASSERT_EQ(0, stat(self->l0, &l0));
	ASSERT_EQ(0, stat(self->l1, &l1));
	EXPECT_NE(l0.st_dev, dev);
	EXPECT_NE(l1.st_dev, dev);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		rwl_pathf(p, "%s/%s", self->mnt, dirs[i].name);
		rwl_pathf(q, "%s/%s", dirs[i].layer ? self->l1 : self->l0,
			  dirs[i].name);
		ASSERT_EQ(0, lstat(p, &st)) TH_LOG("%s: %s", p, strerror(errno));
		ASSERT_EQ(0, lstat(q, &real));
		if (dirs[i].merged)
			real.st_nlink = 1;
		expect_same_attrs(_metadata, p, &real, &st);
		/* The layer's number, its filesystem's index in the top bits. */
		EXPECT_EQ(real.st_ino, st.st_ino & DIR_INO_REAL_MASK)
			TH_LOG("%s", p);
		EXPECT_EQ(dev, st.st_dev) TH_LOG("%s", p);
	}
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/d", self->mnt), &st));
	EXPECT_EQ(S_IFDIR | 0750, st.st_mode);
	EXPECT_EQ(1, st.st_uid);
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/onlyl1", self->mnt), &st));
	EXPECT_EQ(S_IFDIR | 0711, st.st_mode);
	EXPECT_EQ(7, st.st_uid);
}

/* Identities of a few names, taken with lstat(). */
struct ids {
	ino_t ino[4];
	dev_t dev[4];
};

static const char *const id_names[4] = { "", "d", "onlyl1", "f1" };

static void get_ids(struct __test_metadata *_metadata, const char *mnt,
		    struct ids *ids)
{
	char p[RWL_PATH];
	struct stat st;
	int i;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/%s", mnt, id_names[i]), &st));
		ids->ino[i] = st.st_ino;
		ids->dev[i] = st.st_dev;
	}
}

TEST_F(attrs, ino_stable)
{
	struct ids a, b, c;
	dev_t dev;
	int i;

	get_ids(_metadata, self->mnt, &a);
	get_ids(_metadata, self->mnt, &b);
	ASSERT_EQ(0, rwl_umount(&self->env, self->mnt));
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->lower));
	get_ids(_metadata, self->mnt, &c);
	ASSERT_EQ(0, rwl_mount_dev(self->mnt, &dev));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(a.ino[i], b.ino[i]) TH_LOG("\"%s\"", id_names[i]);
		EXPECT_EQ(a.dev[i], b.dev[i]) TH_LOG("\"%s\"", id_names[i]);
		EXPECT_EQ(a.ino[i], c.ino[i]) TH_LOG("\"%s\"", id_names[i]);
		/* A directory's st_dev is the mount's; a file's is its layer's. */
		if (i < 3) {
			EXPECT_EQ(dev, c.dev[i]) TH_LOG("\"%s\"", id_names[i]);
		} else {
			EXPECT_EQ(a.dev[i], c.dev[i]) TH_LOG("\"%s\"", id_names[i]);
		}
	}
}

TEST_F(attrs, hard_links)
{
	struct stat s1, s2, real;
	char p[RWL_PATH];
	int fd;

	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/h1", self->mnt), &s1));
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/h2", self->mnt), &s2));
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/h1", self->l1), &real));
	EXPECT_EQ(real.st_ino, s1.st_ino);
	EXPECT_EQ(s1.st_ino, s2.st_ino);
	EXPECT_EQ(s1.st_dev, s2.st_dev);
	EXPECT_EQ(2, s1.st_nlink);
	EXPECT_EQ(2, s2.st_nlink);
	/* An open file reports the same identity. */
	fd = open(rwl_pathf(p, "%s/h2", self->mnt), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &s2));
	close(fd);
	EXPECT_EQ(s1.st_ino, s2.st_ino);
	EXPECT_EQ(s1.st_dev, s2.st_dev);
}

/* The sorted, NUL-separated name list of listxattr() as one string. */
static ssize_t sorted_xattrs(const char *path, char *out, size_t size)
{
	char list[4096], *names[64];
	ssize_t len, pos, n = 0, i, o = 0;

	len = llistxattr(path, list, sizeof(list));
	if (len < 0)
		return -errno;
	for (pos = 0; pos < len && n < 64; pos += strlen(list + pos) + 1)
		names[n++] = list + pos;
	for (i = 1; i < n; i++) {
		char *t = names[i];
		ssize_t j = i;

		for (; j > 0 && strcmp(names[j - 1], t) > 0; j--)
			names[j] = names[j - 1];
		names[j] = t;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		o += snprintf(out + o, size - o, "%s;", names[i]);
	return len;
}

TEST_F(attrs, xattrs)
{
	static const struct { const char *name, *value; } objs[] = {
		{ "xf", "value42" }, { "xd", "dirval" },
	};
	char p[RWL_PATH], q[RWL_PATH], buf[256], got[4096], want[4096];
	ssize_t n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		rwl_pathf(p, "%s/%s", self->mnt, objs[i].name);
		rwl_pathf(q, "%s/%s", self->l0, objs[i].name);
		n = getxattr(p, XATTR_NAME, NULL, 0);
		EXPECT_EQ((ssize_t)strlen(objs[i].value), n)
			TH_LOG("%s: %s", p, n < 0 ? strerror(errno) : "");
		n = getxattr(p, XATTR_NAME, buf, sizeof(buf) - 1);
		ASSERT_EQ((ssize_t)strlen(objs[i].value), n)
			TH_LOG("%s: %s", p, n < 0 ? strerror(errno) : "");
		buf[n] = '\0';
		EXPECT_STREQ(objs[i].value, buf);
		EXPECT_EQ(-1, getxattr(p, XATTR_NAME, buf, 2));
		EXPECT_EQ(ERANGE, errno);
		EXPECT_EQ(-1, getxattr(p, "trusted.absent", buf, sizeof(buf)));
		EXPECT_EQ(ENODATA, errno);

		ASSERT_LT(0, sorted_xattrs(p, got, sizeof(got)))
			TH_LOG("listxattr %s: %s", p, strerror(errno));
		ASSERT_LT(0, sorted_xattrs(q, want, sizeof(want)));
		EXPECT_STREQ(want, got);
		EXPECT_NE(NULL, strstr(got, XATTR_NAME ";"));
	}
	/* A file of the other layer without our xattr: the same list as there. */
	rwl_pathf(p, "%s/f1", self->mnt);
	rwl_pathf(q, "%s/f1", self->l1);
	ASSERT_LE(0, sorted_xattrs(p, got, sizeof(got)))
		TH_LOG("listxattr %s: %s", p, strerror(errno));
	ASSERT_LE(0, sorted_xattrs(q, want, sizeof(want)));
	EXPECT_STREQ(want, got);
	EXPECT_EQ(-1, getxattr(p, XATTR_NAME, buf, sizeof(buf)));
	EXPECT_EQ(ENODATA, errno);
}

/* Read up to @size - 1 bytes of @name under @dirfd as a string, or -errno. */
static ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	n = n < 0 ? -errno : n;
	if (n >= 0)
		buf[n] = '\0';
	close(fd);
	return n;
}

/*
 * Run as nobody, with @arg pointing to an O_PATH fd of the union's root
 * (so that nothing outside the union has to be searchable for nobody):
 * returns 0 when every access came out as expected, else the number of
 * the first wrong one (details on stderr).
 */
static int check_as_nobody(void *arg)
{
	int dirfd = *(int *)arg, fd;
	struct stat st;
	char buf[64];
	ssize_t n;

	fd = openat(dirfd, "secret", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		rwl_log("open secret as nobody: %s", fd >= 0 ? "opened" : strerror(errno));
		return 1;
	}
	fd = openat(dirfd, "private", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		rwl_log("opendir private as nobody: %s", fd >= 0 ? "opened" : strerror(errno));
		return 2;
	}
	if (fstatat(dirfd, "private/inner", &st, 0) == 0 || errno != EACCES) {
		rwl_log("stat private/inner as nobody: %s", strerror(errno));
		return 3;
	}
	n = read_at(dirfd, "pub", buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "public")) {
		rwl_log("read pub as nobody: %s", n < 0 ? strerror(-n) : buf);
		return 4;
	}
	/* The owner check uses the real owner: nobody owns "own". */
	n = read_at(dirfd, "own", buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "mine")) {
		rwl_log("read own as nobody: %s", n < 0 ? strerror(-n) : buf);
		return 5;
	}
	/* Search-only (0711) directory: names inside still resolve. */
	n = read_at(dirfd, "onlyl1/z", buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "z")) {
		rwl_log("read onlyl1/z as nobody: %s", n < 0 ? strerror(-n) : buf);
		return 6;
	}
	fd = openat(dirfd, "onlyl1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		rwl_log("opendir onlyl1 as nobody: %s", fd >= 0 ? "opened" : strerror(errno));
		return 7;
	}
	return 0;
}

TEST_F(attrs, permission_as_caller)
{
	char p[RWL_PATH], buf[64];
	struct rwl_dents d = {};
	int dirfd;

	dirfd = open(self->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dirfd);
	EXPECT_EQ(0, rwl_run_as(RWL_NOBODY, check_as_nobody, &dirfd));
	close(dirfd);
	/* Root may do all of it. */
	EXPECT_EQ(6, rwl_read_text(rwl_pathf(p, "%s/secret", self->mnt), buf,
				   sizeof(buf)));
	EXPECT_LE(0, rwl_list_dir(rwl_pathf(p, "%s/private", self->mnt), 4096,
				  &d));
	EXPECT_EQ(1, rwl_dents_count(&d, "inner"));
	rwl_dents_free(&d);
}

TEST_F(attrs, statfs_top_layer)
{
	struct statfs s, top, bottom;

	ASSERT_EQ(0, statfs(self->mnt, &s));
	ASSERT_EQ(0, statfs(self->l0, &top));
	ASSERT_EQ(0, statfs(self->l1, &bottom));
	ASSERT_NE(top.f_blocks, bottom.f_blocks);
	EXPECT_EQ(RWL_SUPER_MAGIC, s.f_type);
	EXPECT_EQ(top.f_bsize, s.f_bsize);
	EXPECT_EQ(top.f_blocks, s.f_blocks);
	EXPECT_EQ(top.f_bfree, s.f_bfree);
	EXPECT_EQ(top.f_bavail, s.f_bavail);
	EXPECT_EQ(top.f_files, s.f_files);
}

TEST_HARNESS_MAIN
