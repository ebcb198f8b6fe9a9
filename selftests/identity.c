// SPDX-License-Identifier: GPL-2.0
/*
 * Identity across layers on different filesystems (a tmpfs lower, a tmpfs
 * upper, each numbering its inodes from 1): every directory of the union
 * has its own st_dev/st_ino, the same after the caches are dropped, and
 * readdir's d_ino is what stat() reports for each name it lists, in
 * merged and single-layer directories, for ".", ".." and copied-up files.
 * find, du, tar and rsync -H rely on both.
 */
#include "rwl_tree.h"

#define NDIRS	8
#define MAXDIRS	64

FIXTURE(ident) {
	struct rwl_env env;
	struct rwl_rw rw;
};

FIXTURE_SETUP(ident)
{
	char name[32];
	int i;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755"));
	/* Its own tmpfs, so that both layers number from 1. */
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->rw.lower, "mode=0755"));
	for (i = 0; i < NDIRS; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		ASSERT_EQ(0, rwl_mk(self->rw.lower, name, 'd', NULL));
		snprintf(name, sizeof(name), "d%d/f", i);
		ASSERT_EQ(0, rwl_mk(self->rw.lower, name, 'f', "lower"));
		snprintf(name, sizeof(name), "d%d/sub", i);
		ASSERT_EQ(0, rwl_mk(self->rw.lower, name, 'd', NULL));
	}
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	for (i = 0; i < NDIRS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		ASSERT_EQ(0, mkdir(rwl_at(self->rw.mnt, name), 0755));
		snprintf(name, sizeof(name), "u%d/inner", i);
		ASSERT_EQ(0, mkdir(rwl_at(self->rw.mnt, name), 0755));
		/* Half the lower directories get an upper copy (merged). */
		if (i % 2)
			continue;
		snprintf(name, sizeof(name), "d%d/f", i);
		ASSERT_EQ(0, rwl_write_text(rwl_at(self->rw.mnt, name), "mine"));
	}
}

FIXTURE_TEARDOWN(ident)
{
	RWL_ENV_TEARDOWN(&self->env);
}

struct dir_id {
	char path[RWL_PATH];
	dev_t dev;
	ino_t ino;
};

static struct dir_id dirs[MAXDIRS];
static int ndirs;

static int record_dir(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || ndirs == MAXDIRS)
		return 0;
	rwl_pathf(dirs[ndirs].path, "%s", path);
	dirs[ndirs].dev = st->st_dev;
	dirs[ndirs].ino = st->st_ino;
	ndirs++;
	return 0;
}

static void collect_dirs(struct __test_metadata *_metadata, const char *root)
{
	ndirs = 0;
	ASSERT_EQ(0, nftw(root, record_dir, 16, FTW_PHYS));
	ASSERT_LT(ndirs, MAXDIRS);
	ASSERT_EQ(1 + 4 * NDIRS, ndirs);
}

TEST_F(ident, directories_unique_and_stable)
{
	struct dir_id before[MAXDIRS];
	int i, j, n;

	collect_dirs(_metadata, self->rw.mnt);
	for (i = 0; i < ndirs; i++) {
		for (j = i + 1; j < ndirs; j++) {
			EXPECT_FALSE(dirs[i].dev == dirs[j].dev &&
				     dirs[i].ino == dirs[j].ino)
				TH_LOG("%s and %s are both %lu", dirs[i].path,
				       dirs[j].path, (unsigned long)dirs[i].ino);
		}
	}
	n = ndirs;
	memcpy(before, dirs, sizeof(before));
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	collect_dirs(_metadata, self->rw.mnt);
	ASSERT_EQ(n, ndirs);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(before[i].path, dirs[i].path);
		EXPECT_EQ(before[i].ino, dirs[i].ino)
			TH_LOG("%s changed number after drop_caches",
			       dirs[i].path);
	}
}

/*
 * Every name readdir lists in @dir has d_ino == st_ino (but ".." of the
 * mount's root, which stat() takes across the mount, as on any fs).
 */
static void expect_dents_match(struct __test_metadata *_metadata,
			       const char *dir, bool root,
			       const struct rwl_dents *d)
{
	char p[RWL_PATH];
	struct stat st;
	size_t i;

	for (i = 0; i < d->num; i++) {
		if (root && !strcmp(d->v[i].name, ".."))
			continue;
		rwl_pathf(p, "%s/%s", dir, d->v[i].name);
		ASSERT_EQ(0, lstat(p, &st)) TH_LOG("lstat %s", p);
		EXPECT_EQ((uint64_t)st.st_ino, d->v[i].ino)
			TH_LOG("%s: d_ino %llu, st_ino %llu", p,
			       (unsigned long long)d->v[i].ino,
			       (unsigned long long)st.st_ino);
	}
}

static void expect_dino_matches(struct __test_metadata *_metadata,
				const char *dir, bool root)
{
	struct rwl_dents d = { 0 };

	ASSERT_LT(0, rwl_list_dir(dir, 4096, &d));
	expect_dents_match(_metadata, dir, root, &d);
	rwl_dents_free(&d);
}


TEST_F(ident, readdir_ino_is_st_ino)
{
	int i;

	collect_dirs(_metadata, self->rw.mnt);
	for (i = 0; i < ndirs; i++)
		expect_dino_matches(_metadata, dirs[i].path, !i);
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	for (i = 0; i < ndirs; i++)
		expect_dino_matches(_metadata, dirs[i].path, !i);
}

/*
 * A directory without subdirectories is listed by the real one once the
 * dots are (readdir.c): the numbers must stay right when the listing
 * comes in pieces of one or two entries, and after seeks back to the
 * start and to just past ".".
 */
static void expect_leaf_matches(struct __test_metadata *_metadata,
				const char *dir)
{
	struct rwl_dents d = { 0 };
	char buf[64];
	ssize_t n;
	int fd;

	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, rwl_getdents_all(fd, sizeof(buf), &d));
	EXPECT_EQ(22, d.num);
	expect_dents_match(_metadata, dir, false, &d);

	/* Past the first entry only, from the start, then from there. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	n = getdents64(fd, buf, 32);
	ASSERT_LT(0, n);
	rwl_dents_free(&d);
	ASSERT_LT(0, rwl_getdents_all(fd, sizeof(buf), &d));
	EXPECT_EQ(21, d.num);
	expect_dents_match(_metadata, dir, false, &d);
	ASSERT_EQ(((struct rwl_dirent64 *)buf)->d_off,
		  lseek(fd, ((struct rwl_dirent64 *)buf)->d_off, SEEK_SET));
	rwl_dents_free(&d);
	ASSERT_LT(0, rwl_getdents_all(fd, 4096, &d));
	EXPECT_EQ(21, d.num);
	expect_dents_match(_metadata, dir, false, &d);
	rwl_dents_free(&d);
	close(fd);
}

static int make_leaf(const char *dir)
{
	char p[RWL_PATH];
	int i;

	if (mkdir(dir, 0755))
		return -errno;
	for (i = 0; i < 20; i++) {
		if (rwl_write_text(rwl_pathf(p, "%s/file%02d", dir, i), "x"))
			return -EIO;
	}
	return 0;
}

TEST_F(ident, leaf_directory_listed_in_pieces)
{
	const char *m = self->rw.mnt;

	/* Lower only (the server adds it; the bare tmpfs too), upper only. */
	ASSERT_EQ(0, make_leaf(pf("%s/lowerleaf", self->rw.lower)));
	expect_leaf_matches(_metadata, pf("%s/lowerleaf", self->rw.lower));
	expect_leaf_matches(_metadata, pf("%s/lowerleaf", m));
	ASSERT_EQ(0, make_leaf(pf("%s/upperleaf", m)));
	expect_leaf_matches(_metadata, pf("%s/upperleaf", m));
}

/*
 * A copy keeps its lower file's number.  Renamed or linked into a
 * directory that lives in the upper alone, readdir there must report
 * that number as well.
 */
TEST_F(ident, copies_moved_into_upper_only_directory)
{
	const char *m = self->rw.mnt;

	const char *u = self->rw.upper;
	char mark[4];

	ASSERT_EQ(0, mkdir(pf("%s/fresh", m), 0755));
	ASSERT_EQ(0, mkdir(pf("%s/linkonly", m), 0755));
	ASSERT_EQ(0, rename(pf("%s/d1/f", m), pf("%s/fresh/moved", m)));
	ASSERT_EQ(0, link(pf("%s/d0/f", m), pf("%s/linkonly/linked", m)));
	ASSERT_EQ(0, rwl_write_text(pf("%s/fresh/new", m), "new"));
	expect_dino_matches(_metadata, pf("%s/fresh", m), false);
	expect_dino_matches(_metadata, pf("%s/linkonly", m), false);

	/* Marked in the upper (overlayfs' name), a directory of new files not. */
	EXPECT_EQ(1, lgetxattr(pf("%s/fresh", u), "trusted.overlay.impure",
			       mark, sizeof(mark)));
	EXPECT_EQ(1, lgetxattr(pf("%s/linkonly", u), "trusted.overlay.impure",
			       mark, sizeof(mark)));
	EXPECT_EQ(-1, lgetxattr(pf("%s/u0", u), "trusted.overlay.impure",
				mark, sizeof(mark)));
	EXPECT_EQ(ENODATA, errno);
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	expect_dino_matches(_metadata, pf("%s/fresh", m), false);
	expect_dino_matches(_metadata, pf("%s/linkonly", m), false);
}

TEST_HARNESS_MAIN
