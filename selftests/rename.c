// SPDX-License-Identifier: GPL-2.0
/*
 * Rename in the writable union (rwlayer.rst "Rename"): non-directories
 * move anywhere within the rule, leaving a whiteout where a lower had the
 * old name and none where only the upper had it; a directory that exists
 * only in the upper moves with its content; a directory with lower
 * content fails with EXDEV; RENAME_NOREPLACE works, RENAME_EXCHANGE and
 * RENAME_WHITEOUT fail with EINVAL; and a storm of renames over 1000
 * names leaves exactly the tree a model of it predicts.
 */
#include <sys/xattr.h>

#include "rwl_tree.h"


#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE		(1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT		(1 << 2)
#endif

/* ---- helpers ---------------------------------------------------------- */

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

/* ---- the fixture ------------------------------------------------------ */

/*
 * lower/: a "a"  b "b"  sl -> a  ff (fifo 0640)  m/x "x"  lo/y "y"  emp/
 */
FIXTURE(rn) {
	struct rwl_env env;
	struct rwl_rw rw;
	struct stat la;		/* lower/a */
	char *before;
};

FIXTURE_SETUP(rn)
{
	const char *l;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;
	ASSERT_EQ(0, rwl_mk(l, "a", 'f', "a"));
	ASSERT_EQ(0, rwl_mk(l, "b", 'f', "b"));
	ASSERT_EQ(0, rwl_mk(l, "sl", 'l', "a"));
	ASSERT_EQ(0, rwl_mk(l, "ff", 'p', NULL));
	ASSERT_EQ(0, chmod(pf("%s/ff", l), 0640));
	ASSERT_EQ(0, rwl_mk(l, "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "m/x", 'f', "x"));
	ASSERT_EQ(0, rwl_mk(l, "lo", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "lo/y", 'f', "y"));
	ASSERT_EQ(0, rwl_mk(l, "emp", 'd', NULL));
	ASSERT_EQ(0, stat(pf("%s/a", l), &self->la));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	self->before = snapshot(l);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(rn)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower tree", self->before,
				     snapshot(self->rw.lower));
	RWL_ENV_TEARDOWN(&self->env);
}

#define ROOT_NAMES	"a,b,emp,ff,lo,m,sl"

static int do_rename(const char *m, const char *from, const char *to,
		     unsigned int flags)
{
	char a[RWL_PATH], b[RWL_PATH];

	rwl_pathf(a, "%s/%s", m, from);
	rwl_pathf(b, "%s/%s", m, to);
	if (flags)
		return renameat2(AT_FDCWD, a, AT_FDCWD, b, flags) ? errno : 0;
	return rename(a, b) ? errno : 0;
}

/* The union's @name is the lower's a: content and identity. */
static void expect_is_a(struct __test_metadata *_metadata,
			FIXTURE_DATA(rn) *self, const char *name)
{
	struct stat st;

	EXPECT_STREQ("a", rwl_cat(self->rw.mnt, name)) TH_LOG("%s", name);
	ASSERT_EQ(0, lstat(pf("%s/%s", self->rw.mnt, name), &st));
	EXPECT_EQ(self->la.st_ino, st.st_ino) TH_LOG("%s", name);
	EXPECT_EQ(self->la.st_dev, st.st_dev) TH_LOG("%s", name);
	ASSERT_EQ(0, lstat(pf("%s/%s", self->rw.upper, name), &st))
		TH_LOG("%s not in the upper", name);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_STREQ("a", rwl_cat(self->rw.upper, name));
}

TEST_F(rn, lower_file)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	unsigned char origin[64];

	ASSERT_EQ(0, do_rename(m, "a", "a2", 0));
	expect_is_a(_metadata, self, "a2");
	/* The copy records its origin, and keeps the identity by it. */
	EXPECT_EQ(16, lgetxattr(pf("%s/a2", u), "trusted.rwlayer.origin",
				origin, sizeof(origin)));
	ASSERT_EQ(0, drop_caches());
	expect_is_a(_metadata, self, "a2");
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/a", m)));
	EXPECT_TRUE(is_whiteout(pf("%s/a", u)));
	EXPECT_STREQ("a2,b,emp,ff,lo,m,sl", names(m));
	EXPECT_STREQ("a,a2", names(u));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, upper_only_file)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, rwl_mk(m, "n", 'f', "n"));
	ASSERT_EQ(0, do_rename(m, "n", "n2", 0));
	EXPECT_STREQ("n", rwl_cat(m, "n2"));
	EXPECT_STREQ("n", rwl_cat(u, "n2"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/n", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/n", u)));	/* no whiteout */
	/* Into a lower-only directory: its copy-up, still no whiteout. */
	ASSERT_EQ(0, do_rename(m, "n2", "lo/n3", 0));
	EXPECT_STREQ("n", rwl_cat(m, "lo/n3"));
	EXPECT_STREQ("n", rwl_cat(u, "lo/n3"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/n2", u)));
	EXPECT_STREQ("n3", names(pf("%s/lo", u)));
	EXPECT_STREQ("n3,y", names(pf("%s/lo", m)));
	EXPECT_STREQ("lo", names(u));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, over_lower_file)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, do_rename(m, "a", "b", 0));
	expect_is_a(_metadata, self, "b");
	ASSERT_EQ(0, drop_caches());
	expect_is_a(_metadata, self, "b");
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/a", m)));
	EXPECT_TRUE(is_whiteout(pf("%s/a", u)));
	EXPECT_STREQ("b,emp,ff,lo,m,sl", names(m));
	EXPECT_STREQ("a,b", names(u));
	/* A symlink to the old name dangles. */
	EXPECT_EQ(-1, access(pf("%s/sl", m), F_OK));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, over_upper_file)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, rwl_mk(m, "n", 'f', "n"));
	ASSERT_EQ(0, do_rename(m, "a", "n", 0));
	expect_is_a(_metadata, self, "n");
	EXPECT_TRUE(is_whiteout(pf("%s/a", u)));
	/* And an upper file over a lower one. */
	ASSERT_EQ(0, rwl_mk(m, "n2", 'f', "n2"));
	ASSERT_EQ(0, do_rename(m, "n2", "b", 0));
	EXPECT_STREQ("n2", rwl_cat(m, "b"));
	EXPECT_STREQ("n2", rwl_cat(u, "b"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/n2", u)));
	EXPECT_STREQ("b,emp,ff,lo,m,n,sl", names(m));
	EXPECT_STREQ("a,b,n", names(u));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, across_dirs)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, do_rename(m, "a", "lo/a", 0));
	ASSERT_EQ(0, do_rename(m, "m/x", "x", 0));
	expect_is_a(_metadata, self, "lo/a");
	EXPECT_STREQ("x", rwl_cat(m, "x"));
	EXPECT_STREQ("x", rwl_cat(u, "x"));
	EXPECT_TRUE(is_whiteout(pf("%s/a", u)));
	EXPECT_TRUE(is_whiteout(pf("%s/m/x", u)));
	EXPECT_STREQ("a,y", names(pf("%s/lo", m)));
	EXPECT_STREQ("a", names(pf("%s/lo", u)));
	EXPECT_STREQ("", names(pf("%s/m", m)));
	EXPECT_STREQ("b,emp,ff,lo,m,sl,x", names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, symlink_and_fifo)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	char target[64];
	struct stat st;

	ASSERT_EQ(0, do_rename(m, "sl", "sl2", 0));
	ASSERT_EQ(0, do_rename(m, "ff", "lo/ff2", 0));

	memset(target, 0, sizeof(target));
	EXPECT_EQ(1, readlink(pf("%s/sl2", m), target, sizeof(target) - 1));
	EXPECT_STREQ("a", target);
	EXPECT_STREQ("a", rwl_cat(m, "sl2"));
	memset(target, 0, sizeof(target));
	EXPECT_EQ(1, readlink(pf("%s/sl2", u), target, sizeof(target) - 1));
	EXPECT_STREQ("a", target);
	ASSERT_EQ(0, lstat(pf("%s/lo/ff2", m), &st));
	EXPECT_EQ(S_IFIFO | 0640, st.st_mode);
	ASSERT_EQ(0, lstat(pf("%s/lo/ff2", u), &st));
	EXPECT_EQ(S_IFIFO | 0640, st.st_mode);
	EXPECT_TRUE(is_whiteout(pf("%s/sl", u)));
	EXPECT_TRUE(is_whiteout(pf("%s/ff", u)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/sl", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/ff", m)));
	EXPECT_STREQ("a,b,emp,lo,m,sl2", names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, upper_only_dir)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, mkdir(pf("%s/nd", m), 0750));
	ASSERT_EQ(0, rwl_mk(m, "nd/f", 'f', "f"));
	ASSERT_EQ(0, mkdir(pf("%s/nd/sub", m), 0755));
	ASSERT_EQ(0, rwl_mk(m, "nd/sub/g", 'f', "g"));

	ASSERT_EQ(0, do_rename(m, "nd", "nd2", 0));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/nd", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/nd", u)));	/* no whiteout */
	EXPECT_STREQ("f,sub", names(pf("%s/nd2", m)));
	EXPECT_STREQ("f", rwl_cat(m, "nd2/f"));
	EXPECT_STREQ("g", rwl_cat(m, "nd2/sub/g"));
	EXPECT_STREQ("g", rwl_cat(u, "nd2/sub/g"));

	/* Into a lower-only directory, then over an empty upper directory. */
	ASSERT_EQ(0, do_rename(m, "nd2", "lo/nd3", 0));
	EXPECT_STREQ("g", rwl_cat(m, "lo/nd3/sub/g"));
	EXPECT_STREQ("g", rwl_cat(u, "lo/nd3/sub/g"));
	EXPECT_STREQ("nd3,y", names(pf("%s/lo", m)));
	ASSERT_EQ(0, mkdir(pf("%s/ne", m), 0755));
	ASSERT_EQ(0, do_rename(m, "lo/nd3", "ne", 0));
	EXPECT_STREQ("f,sub", names(pf("%s/ne", m)));
	EXPECT_STREQ("y", names(pf("%s/lo", m)));
	EXPECT_STREQ("a,b,emp,ff,lo,m,ne,sl", names(m));
	EXPECT_STREQ("lo,ne", names(u));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/*
 * A directory made over a removed lower directory is opaque and has no
 * lower content, so it moves like an upper-only one (spec silent;
 * overlayfs allows it), leaving a whiteout for the lower name.
 */
TEST_F(rn, opaque_dir)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, rmdir(pf("%s/emp", m)));
	ASSERT_EQ(0, mkdir(pf("%s/emp", m), 0755));
	ASSERT_EQ(0, rwl_mk(m, "emp/f", 'f', "f"));
	ASSERT_EQ(0, do_rename(m, "emp", "emp2", 0));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/emp", m)));
	EXPECT_TRUE(is_whiteout(pf("%s/emp", u)));
	EXPECT_STREQ("f", names(pf("%s/emp2", m)));
	EXPECT_STREQ("f", rwl_cat(m, "emp2/f"));
	EXPECT_STREQ("a,b,emp2,ff,lo,m,sl", names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(rn, lower_dirs_exdev)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	/* Lower-only directories, empty or not: nothing is copied up. */
	EXPECT_EQ(EXDEV, do_rename(m, "lo", "lo2", 0));
	EXPECT_EQ(EXDEV, do_rename(m, "emp", "emp2", 0));
	EXPECT_EQ(EXDEV, do_rename(m, "lo", "m/lo", 0));
	EXPECT_EQ(EXDEV, do_rename(m, "emp", "lo", 0));
	EXPECT_STREQ("", names(u));

	/* A merged directory (lower content and an upper copy). */
	ASSERT_EQ(0, rwl_mk(m, "m/new", 'f', "new"));
	EXPECT_EQ(EXDEV, do_rename(m, "m", "m2", 0));
	EXPECT_EQ(EXDEV, do_rename(m, "m", "lo/m", 0));
	EXPECT_EQ(EXDEV, do_rename(m, "m", "m2", RENAME_NOREPLACE));

	EXPECT_STREQ("new,x", names(pf("%s/m", m)));
	EXPECT_STREQ("y", names(pf("%s/lo", m)));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_STREQ("m", names(u));
	EXPECT_STREQ("new", names(pf("%s/m", u)));
}

TEST_F(rn, noreplace)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	EXPECT_EQ(EEXIST, do_rename(m, "a", "b", RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, do_rename(m, "a", "lo", RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, do_rename(m, "a", "sl", RENAME_NOREPLACE));
	EXPECT_STREQ("a", rwl_cat(m, "a"));
	EXPECT_STREQ("b", rwl_cat(m, "b"));
	EXPECT_STREQ("", names(u));

	ASSERT_EQ(0, do_rename(m, "a", "c", RENAME_NOREPLACE));
	expect_is_a(_metadata, self, "c");
	EXPECT_TRUE(is_whiteout(pf("%s/a", u)));

	/* A removed name is free, whiteout or not. */
	ASSERT_EQ(0, unlink(pf("%s/b", m)));
	ASSERT_EQ(0, do_rename(m, "c", "b", RENAME_NOREPLACE));
	expect_is_a(_metadata, self, "b");
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/c", m)));
	ASSERT_EQ(0, rwl_mk(m, "n", 'f', "n"));
	EXPECT_EQ(EEXIST, do_rename(m, "n", "b", RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, do_rename(m, "b", "n", RENAME_NOREPLACE));
	EXPECT_STREQ("n", rwl_cat(m, "n"));
	EXPECT_STREQ("b,emp,ff,lo,m,n,sl", names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* Spec: RENAME_EXCHANGE and RENAME_WHITEOUT are not supported. */
TEST_F(rn, exchange_whiteout_einval)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	EXPECT_EQ(EINVAL, do_rename(m, "a", "b", RENAME_EXCHANGE));
	EXPECT_EQ(EINVAL, do_rename(m, "a", "m", RENAME_EXCHANGE));
	EXPECT_EQ(EINVAL, do_rename(m, "a", "c", RENAME_WHITEOUT));
	EXPECT_EQ(EINVAL, do_rename(m, "a", "b", RENAME_WHITEOUT));
	/* Nothing was copied up for the refused calls. */
	EXPECT_STREQ("", names(u));

	ASSERT_EQ(0, rwl_mk(m, "n1", 'f', "n1"));
	ASSERT_EQ(0, rwl_mk(m, "n2", 'f', "n2"));
	EXPECT_EQ(EINVAL, do_rename(m, "n1", "n2", RENAME_EXCHANGE));
	EXPECT_EQ(EINVAL, do_rename(m, "n1", "n3", RENAME_WHITEOUT));

	EXPECT_STREQ("a", rwl_cat(m, "a"));
	EXPECT_STREQ("b", rwl_cat(m, "b"));
	EXPECT_STREQ("n1", rwl_cat(m, "n1"));
	EXPECT_STREQ("n2", rwl_cat(m, "n2"));
	EXPECT_STREQ("a,b,emp,ff,lo,m,n1,n2,sl", names(m));
	EXPECT_STREQ("n1,n2", names(u));
}

TEST_F(rn, type_errors)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, mkdir(pf("%s/nd", m), 0755));
	ASSERT_EQ(0, mkdir(pf("%s/nd/sub", m), 0755));
	EXPECT_EQ(EISDIR, do_rename(m, "a", "lo", 0));
	EXPECT_EQ(EISDIR, do_rename(m, "a", "nd", 0));
	EXPECT_EQ(ENOTDIR, do_rename(m, "nd", "a", 0));
	EXPECT_EQ(EINVAL, do_rename(m, "nd", "nd/sub/x", 0));
	EXPECT_EQ(ENOTEMPTY, do_rename(m, "nd/sub", "nd", 0));
	EXPECT_EQ(ENOENT, do_rename(m, "nothere", "x", 0));
	/* Onto itself: a no-op, nothing copied up. */
	EXPECT_EQ(0, do_rename(m, "a", "a", 0));
	EXPECT_STREQ("a", rwl_cat(m, "a"));
	EXPECT_STREQ("a,b,emp,ff,lo,m,nd,sl", names(m));
	EXPECT_STREQ("nd", names(u));
}

/* ===== rename storm ===================================================== */

#define STORM_LOWER	500	/* s000..s499 in the lower */
#define STORM_UPPER	500	/* u000..u499 created through the union */
#define STORM_OBJS	(STORM_LOWER + STORM_UPPER)
#define STORM_NAMES	(STORM_OBJS + 500)	/* + ld/n000..ld/n499 */
#define STORM_OPS	1000

FIXTURE(storm) {
	struct rwl_env env;
	struct rwl_rw rw;
	char *before;
};

/* Name @t of the pool: s### and u### at the top, ld/n### in a lower dir. */
static const char *pool_name(int t)
{
	static char bufs[4][16];
	static int next;

	next = (next + 1) % 4;
	if (t < STORM_LOWER)
		snprintf(bufs[next], 16, "s%03d", t);
	else if (t < STORM_OBJS)
		snprintf(bufs[next], 16, "u%03d", t - STORM_LOWER);
	else
		snprintf(bufs[next], 16, "ld/n%03d", t - STORM_OBJS);
	return bufs[next];
}

static const char *obj_content(int i)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "obj%04d", i);
	return buf;
}

FIXTURE_SETUP(storm)
{
	int i;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "ld", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "ld/keep", 'f', "keep"));
	for (i = 0; i < STORM_LOWER; i++)
		ASSERT_EQ(0, rwl_mk(self->rw.lower, pool_name(i), 'f',
				    obj_content(i)));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	self->before = snapshot(self->rw.lower);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(storm)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower tree", self->before,
				     snapshot(self->rw.lower));
	RWL_ENV_TEARDOWN(&self->env);
}

struct storm_model {
	int name[STORM_OBJS];		/* pool index, -1: replaced */
	bool moved[STORM_OBJS];
	ino_t ino[STORM_OBJS];
	int owner[STORM_NAMES];		/* object index, -1: free */
};

/* The sorted, comma-separated live names in the root or in ld/. */
static void expect_names(struct __test_metadata *_metadata,
			 const struct storm_model *s, const char *dir,
			 bool in_ld)
{
	char *want = calloc(1, 16 * STORM_NAMES);
	size_t len = 0;
	int t;

	ASSERT_NE(NULL, want);
	if (in_ld)
		len += sprintf(want, "keep");
	/* Pool order is name order: ld < s### < u###. */
	if (!in_ld)
		len += sprintf(want, "ld");
	for (t = 0; t < STORM_NAMES; t++) {
		if (s->owner[t] < 0 || (t >= STORM_OBJS) != in_ld)
			continue;
		len += sprintf(want + len, "%s%s", len ? "," : "",
			       pool_name(t) + (in_ld ? 3 : 0));
	}
	EXPECT_STREQ(want, names(dir));
	free(want);
}

static void storm_check(struct __test_metadata *_metadata,
			FIXTURE_DATA(storm) *self, const struct storm_model *s,
			const char *when)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	int t, i, bad = 0;
	struct stat st;

	expect_names(_metadata, s, m, false);
	expect_names(_metadata, s, pf("%s/ld", m), true);
	for (t = 0; t < STORM_NAMES && bad < 10; t++) {
		const char *n = pool_name(t);

		i = s->owner[t];
		if (i < 0) {
			/* Gone: a whiteout where the lower has the name. */
			if (lstat_errno(pf("%s/%s", m, n)) != ENOENT ||
			    (t < STORM_LOWER ? !is_whiteout(pf("%s/%s", u, n)) :
			     lstat_errno(pf("%s/%s", u, n)) != ENOENT)) {
				rwl_log("%s should be gone", n);
				bad++;
			}
			continue;
		}
		st.st_ino = 0;
		if (lstat(pf("%s/%s", m, n), &st) || st.st_ino != s->ino[i] ||
		    strcmp(obj_content(i), rwl_cat(m, n))) {
			rwl_log("%s: want object %d ino %lu, got %s ino %lu", n,
				i, (unsigned long)s->ino[i], rwl_cat(m, n),
				(unsigned long)st.st_ino);
			bad++;
		}
		/* Only a lower file never moved is still only in the lower. */
		if (i < STORM_LOWER && !s->moved[i] ?
		    lstat_errno(pf("%s/%s", u, n)) != ENOENT :
		    strcmp(obj_content(i), rwl_cat(u, n))) {
			rwl_log("upper %s: %s", n, rwl_cat(u, n));
			bad++;
		}
	}
	EXPECT_EQ(0, bad) TH_LOG("%s", when);
}

TEST_F_TIMEOUT(storm, thousand_names, 200)
{
	static struct storm_model s;
	const char *m = self->rw.mnt;
	uint64_t rnd = 0x2545f4914f6cdd1dULL;
	int op, i, t, err;
	struct stat st;

	for (t = 0; t < STORM_NAMES; t++)
		s.owner[t] = -1;
	for (i = 0; i < STORM_OBJS; i++) {
		if (i >= STORM_LOWER)
			ASSERT_EQ(0, rwl_mk(m, pool_name(i), 'f', obj_content(i)));
		ASSERT_EQ(0, lstat(pf("%s/%s", m, pool_name(i)), &st));
		s.name[i] = i;
		s.owner[i] = i;
		s.ino[i] = st.st_ino;
	}

	for (op = 0; op < STORM_OPS; op++) {
		do {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			i = rnd % STORM_OBJS;
		} while (s.name[i] < 0);
		t = (rnd >> 20) % STORM_NAMES;
		if (t == s.name[i])
			continue;
		err = do_rename(m, pool_name(s.name[i]), pool_name(t), 0);
		ASSERT_EQ(0, err) TH_LOG("op %d: %s -> %s: %s", op,
					 pool_name(s.name[i]), pool_name(t),
					 strerror(err));
		if (s.owner[t] >= 0)
			s.name[s.owner[t]] = -1;
		s.owner[s.name[i]] = -1;
		s.owner[t] = i;
		s.name[i] = t;
		s.moved[i] = true;
	}

	storm_check(_metadata, self, &s, "after the storm");
	ASSERT_EQ(0, drop_caches());
	storm_check(_metadata, self, &s, "with the caches dropped");
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_HARNESS_MAIN
