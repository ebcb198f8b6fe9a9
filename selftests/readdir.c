// SPDX-License-Identifier: GPL-2.0
/*
 * Reading directories through the union.  A merged directory lists every
 * name once with the top layer's type and an inode number that matches
 * lstat(); a single-layer directory lists what its layer lists; small
 * getdents64() buffers, telldir()/seekdir() and rewinddir() see the same
 * listing; and both hold up with 100000 names.
 */
#include "rwl_util.h"

#define NUM_UNIQUE	100	/* aNNN in l0, bNNN in l1, cNNN in l2 */
#define NUM_COMMON	30	/* commonNN in all three, different types */
#define NUM_SINGLE	200	/* sNNN in l1/s only */
#define MiB_BUF		(1 << 20)

/*
 *   l0/m: aNNN files, commonNN files, t_reg file, t_dir/, t_lnk -> a000,
 *         sub0/
 *   l1/m: bNNN files, commonNN dirs, t_reg/, t_dir file, t_lnk file
 *   l2/m: cNNN files, commonNN symlinks, onlysub/{x,y}, t_lnk/
 *   l1/s: sNNN (every tenth a directory)
 *   root: merged; m and s are in it
 */
FIXTURE(rd) {
	struct rwl_env env;
	char l[3][RWL_PATH];
	char mnt[RWL_PATH];
};

/* rwl_mk() @n empty entries named @fmt with 0..@n-1; symlinks point to a000. */
static int mk_series(const char *dir, const char *fmt, int n, char kind)
{
	char name[64];
	int i, err;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), fmt, i);
		err = rwl_mk(dir, name, kind, kind == 'l' ? "a000" : NULL);
		if (err)
			return err;
	}
	return 0;
}

FIXTURE_SETUP(rd)
{
	char m[3][RWL_PATH], s[RWL_PATH], name[16], lower[3 * RWL_PATH + 3];
	int i;

	RWL_ENV_SETUP(&self->env);
	for (i = 0; i < 3; i++) {
		rwl_pathf(self->l[i], "%s/l%d", self->env.base, i);
		ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l[i], NULL));
		rwl_pathf(m[i], "%s/m", self->l[i]);
		ASSERT_EQ(0, rwl_mkdir(m[i], 0755));
	}
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);

	ASSERT_EQ(0, mk_series(m[0], "a%03d", NUM_UNIQUE, 'f'));
	ASSERT_EQ(0, mk_series(m[0], "common%02d", NUM_COMMON, 'f'));
	ASSERT_EQ(0, rwl_mk(m[0], "t_reg", 'f', NULL));
	ASSERT_EQ(0, rwl_mk(m[0], "t_dir", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(m[0], "t_lnk", 'l', "a000"));
	ASSERT_EQ(0, rwl_mk(m[0], "sub0", 'd', NULL));

	ASSERT_EQ(0, mk_series(m[1], "b%03d", NUM_UNIQUE, 'f'));
	ASSERT_EQ(0, mk_series(m[1], "common%02d", NUM_COMMON, 'd'));
	ASSERT_EQ(0, rwl_mk(m[1], "t_reg", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(m[1], "t_dir", 'f', NULL));
	ASSERT_EQ(0, rwl_mk(m[1], "t_lnk", 'f', NULL));

	ASSERT_EQ(0, mk_series(m[2], "c%03d", NUM_UNIQUE, 'f'));
	ASSERT_EQ(0, mk_series(m[2], "common%02d", NUM_COMMON, 'l'));
	ASSERT_EQ(0, rwl_mk(m[2], "onlysub", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(m[2], "onlysub/x", 'f', NULL));
	ASSERT_EQ(0, rwl_mk(m[2], "onlysub/y", 'f', NULL));
	ASSERT_EQ(0, rwl_mk(m[2], "t_lnk", 'd', NULL));

	rwl_pathf(s, "%s/s", self->l[1]);
	ASSERT_EQ(0, rwl_mkdir(s, 0755));
	for (i = 0; i < NUM_SINGLE; i++) {
		snprintf(name, sizeof(name), "s%03d", i);
		ASSERT_EQ(0, rwl_mk(s, name, i % 10 ? 'f' : 'd', NULL));
	}

	snprintf(lower, sizeof(lower), "%s:%s:%s", self->l[0], self->l[1],
		 self->l[2]);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, lower));
}

FIXTURE_TEARDOWN(rd)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* The d_type the union must give @name in m. */
static int merged_type(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "t_dir") ||
	    !strcmp(name, "sub0") || !strcmp(name, "onlysub"))
		return DT_DIR;
	if (!strcmp(name, "t_lnk"))
		return DT_LNK;
	return DT_REG;
}

#define MERGED_COUNT	(3 * NUM_UNIQUE + NUM_COMMON + 3 + 2 + 2)

/* Every expected name of m exactly once, nothing else. */
static void check_merged_names(struct __test_metadata *_metadata,
			       struct rwl_dents *d)
{
	static const char *const extra[] = {
		".", "..", "t_reg", "t_dir", "t_lnk", "sub0", "onlysub", NULL
	};
	const char *dup;
	char name[16];
	size_t i;
	int k;

	rwl_dents_sort(d);
	dup = rwl_dents_first_dup(d);
	EXPECT_EQ(NULL, dup) TH_LOG("%s is listed twice", dup ? dup : "");
	EXPECT_EQ(MERGED_COUNT, d->num);
	for (i = 0; extra[i]; i++) {
		const char *want = extra[i];

		EXPECT_EQ(1, rwl_dents_count(d, want)) TH_LOG("%s", want);
	}
	for (k = 0; k < NUM_UNIQUE; k++) {
		snprintf(name, sizeof(name), "a%03d", k);
		EXPECT_EQ(1, rwl_dents_count(d, name)) TH_LOG("%s", name);
		name[0] = 'b';
		EXPECT_EQ(1, rwl_dents_count(d, name)) TH_LOG("%s", name);
		name[0] = 'c';
		EXPECT_EQ(1, rwl_dents_count(d, name)) TH_LOG("%s", name);
	}
	for (k = 0; k < NUM_COMMON; k++) {
		snprintf(name, sizeof(name), "common%02d", k);
		EXPECT_EQ(1, rwl_dents_count(d, name)) TH_LOG("%s", name);
	}
}

TEST_F(rd, merged_names_once)
{
	struct rwl_dents d = {};
	char p[RWL_PATH];

	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/m", self->mnt), MiB_BUF, &d));
	check_merged_names(_metadata, &d);
	rwl_dents_free(&d);
}

TEST_F(rd, merged_types_and_inodes)
{
	struct rwl_dents d = {};
	char p[RWL_PATH];
	struct stat st;
	size_t i;

	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/m", self->mnt), MiB_BUF, &d));
	ASSERT_EQ(MERGED_COUNT, d.num);
	for (i = 0; i < d.num; i++) {
		const struct rwl_dent *e = &d.v[i];

		EXPECT_EQ(merged_type(e->name), e->type) TH_LOG("%s", e->name);
		/* ".." leaves m for the union root: its number is the layer's. */
		if (!strcmp(e->name, ".."))
			continue;
		ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/m/%s", self->mnt, e->name),
				   &st));
		EXPECT_EQ(st.st_ino, e->ino) TH_LOG("%s", e->name);
	}
	rwl_dents_free(&d);
}

/* A directory of one layer lists exactly what that layer lists. */
TEST_F(rd, single_layer_dir)
{
	struct rwl_dents d = {}, real = {};
	char p[RWL_PATH];
	struct stat st;
	size_t i;

	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/s", self->mnt), MiB_BUF, &d));
	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/s", self->l[1]), MiB_BUF,
				  &real));
	rwl_dents_sort(&d);
	rwl_dents_sort(&real);
	EXPECT_EQ(NULL, rwl_dents_first_dup(&d));
	ASSERT_EQ(NUM_SINGLE + 2, d.num);
	ASSERT_EQ(real.num, d.num);
	for (i = 0; i < d.num; i++) {
		EXPECT_STREQ(real.v[i].name, d.v[i].name);
		EXPECT_EQ(real.v[i].type, d.v[i].type) TH_LOG("%s", d.v[i].name);
		if (!strcmp(d.v[i].name, ".."))
			continue;
		/* Directories are numbered by the union (attrs.c dir_stat). */
		if (d.v[i].type != DT_DIR)
			EXPECT_EQ(real.v[i].ino, d.v[i].ino)
				TH_LOG("%s", d.v[i].name);
		ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/s/%s", self->mnt,
					     d.v[i].name), &st));
		EXPECT_EQ(st.st_ino, d.v[i].ino) TH_LOG("%s", d.v[i].name);
	}
	EXPECT_EQ(DT_DIR, rwl_dents_find(&d, "s010")->type);
	EXPECT_EQ(DT_REG, rwl_dents_find(&d, "s011")->type);
	rwl_dents_free(&d);
	rwl_dents_free(&real);
}

/* Directories that only a lower layer has show up, and list their content. */
TEST_F(rd, lower_only_subdirs)
{
	struct rwl_dents d = {};
	const struct rwl_dent *e;
	char p[RWL_PATH];

	ASSERT_LT(0, rwl_list_dir(self->mnt, MiB_BUF, &d));
	EXPECT_EQ(4, d.num);	/* . .. m s */
	EXPECT_EQ(1, rwl_dents_count(&d, "."));
	EXPECT_EQ(1, rwl_dents_count(&d, ".."));
	e = rwl_dents_find(&d, "s");
	ASSERT_NE(NULL, e);
	EXPECT_EQ(DT_DIR, e->type);
	e = rwl_dents_find(&d, "m");
	ASSERT_NE(NULL, e);
	EXPECT_EQ(DT_DIR, e->type);
	rwl_dents_free(&d);

	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/m", self->mnt), MiB_BUF, &d));
	e = rwl_dents_find(&d, "onlysub");
	ASSERT_NE(NULL, e);
	EXPECT_EQ(DT_DIR, e->type);
	rwl_dents_free(&d);

	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/m/onlysub", self->mnt),
				  MiB_BUF, &d));
	EXPECT_EQ(4, d.num);
	EXPECT_EQ(1, rwl_dents_count(&d, "x"));
	EXPECT_EQ(1, rwl_dents_count(&d, "y"));
	rwl_dents_free(&d);
}

/* Same multiset, inode numbers and types with tiny and huge buffers. */
static void check_chunked(struct __test_metadata *_metadata, const char *dir)
{
	static const size_t sizes[] = { 64, 100, 4096 };
	struct rwl_dents whole = {}, part = {};
	const char *dup;
	size_t i, k;
	int calls;

	ASSERT_LT(0, rwl_list_dir(dir, MiB_BUF, &whole));
	rwl_dents_sort(&whole);
	ASSERT_EQ(NULL, rwl_dents_first_dup(&whole));
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		calls = rwl_list_dir(dir, sizes[k], &part);
		ASSERT_LT(0, calls) TH_LOG("%s with %zu bytes: %s", dir, sizes[k],
					   strerror(-calls));
		/* A tiny buffer really did take many calls. */
		if (sizes[k] < 4096) {
			EXPECT_LT(whole.num / 8, (size_t)calls);
		}
		rwl_dents_sort(&part);
		dup = rwl_dents_first_dup(&part);
		EXPECT_EQ(NULL, dup) TH_LOG("%zu-byte buffer: %s twice",
					    sizes[k], dup ? dup : "");
		ASSERT_EQ(whole.num, part.num) TH_LOG("%zu-byte buffer", sizes[k]);
		for (i = 0; i < whole.num; i++) {
			EXPECT_STREQ(whole.v[i].name, part.v[i].name);
			EXPECT_EQ(whole.v[i].ino, part.v[i].ino);
			EXPECT_EQ(whole.v[i].type, part.v[i].type);
		}
		rwl_dents_free(&part);
	}
	rwl_dents_free(&whole);
}

TEST_F(rd, chunked_getdents_merged)
{
	char p[RWL_PATH];

	check_chunked(_metadata, rwl_pathf(p, "%s/m", self->mnt));
}

TEST_F(rd, chunked_getdents_single)
{
	char p[RWL_PATH];

	check_chunked(_metadata, rwl_pathf(p, "%s/s", self->mnt));
}

/* Names from readdir() until @n were read or the end, joined by '/'. */
static size_t read_names(DIR *dir, size_t n, char *out, size_t size)
{
	size_t count = 0, len = strlen(out);
	struct dirent *de;

	while (count < n && (de = readdir(dir))) {
		len += snprintf(out + len, len < size ? size - len : 0, "%s/",
				de->d_name);
		count++;
	}
	return count;
}

static void check_telldir(struct __test_metadata *_metadata, const char *path,
			  size_t total)
{
	static char first[16384], rest[16384], again[16384], all[16384];
	size_t half = total / 2;
	DIR *dir;
	long pos;

	dir = opendir(path);
	ASSERT_NE(NULL, dir);
	first[0] = rest[0] = again[0] = all[0] = '\0';
	ASSERT_EQ(half, read_names(dir, half, first, sizeof(first)));
	pos = telldir(dir);
	ASSERT_LE(0, pos);
	EXPECT_EQ(total - half, read_names(dir, SIZE_MAX, rest, sizeof(rest)));
	seekdir(dir, pos);
	EXPECT_EQ(total - half, read_names(dir, SIZE_MAX, again, sizeof(again)));
	EXPECT_STREQ(rest, again);

	/* rewinddir starts over and gives the whole sequence again. */
	rewinddir(dir);
	EXPECT_EQ(total, read_names(dir, SIZE_MAX, all, sizeof(all)));
	EXPECT_EQ(0, strncmp(all, first, strlen(first)));
	EXPECT_STREQ(rest, all + strlen(first));

	/* A position from before the rewind still works after it. */
	seekdir(dir, pos);
	again[0] = '\0';
	EXPECT_EQ(total - half, read_names(dir, SIZE_MAX, again, sizeof(again)));
	EXPECT_STREQ(rest, again);
	closedir(dir);
}

TEST_F(rd, telldir_seekdir_merged)
{
	char p[RWL_PATH];

	check_telldir(_metadata, rwl_pathf(p, "%s/m", self->mnt), MERGED_COUNT);
}

TEST_F(rd, telldir_seekdir_single)
{
	char p[RWL_PATH];

	check_telldir(_metadata, rwl_pathf(p, "%s/s", self->mnt), NUM_SINGLE + 2);
}

/*
 * Create names f000000.. (@first to @last - 1) in @dir as @mode nodes
 * and record each one's inode number in @inos[index].
 */
static int mk_many(const char *dir, int first, int last, mode_t mode,
		   uint64_t *inos)
{
	char name[16];
	struct stat st;
	int dfd, i, err = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (i = first; i < last; i++) {
		snprintf(name, sizeof(name), "f%06d", i);
		if (mknodat(dfd, name, mode, 0) ||
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
			err = -errno;
			rwl_log("create %s/%s: %s", dir, name, strerror(errno));
			break;
		}
		inos[i] = st.st_ino;
	}
	close(dfd);
	return err;
}

/*
 * @d must hold ".", ".." and f<index> for every index in [0, @n) exactly
 * once, with inode number @inos[index] and type @type(index).
 */
static void check_many(struct __test_metadata *_metadata,
		       const struct rwl_dents *d, int n, const uint64_t *inos,
		       int split, int type_below, int type_above)
{
	unsigned char *seen = calloc(n, 1);
	int dots = 0, bad = 0, wrong_ino = 0, wrong_type = 0, idx, want;
	size_t i;
	char c;

	ASSERT_NE(NULL, seen);
	for (i = 0; i < d->num; i++) {
		const struct rwl_dent *e = &d->v[i];

		if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
			dots++;
			continue;
		}
		if (sscanf(e->name, "f%d%c", &idx, &c) != 1 || idx < 0 ||
		    idx >= n || seen[idx]) {
			if (bad++ < 5)
				TH_LOG("unexpected or repeated name %s", e->name);
			continue;
		}
		seen[idx] = 1;
		wrong_ino += e->ino != inos[idx];
		want = idx < split ? type_below : type_above;
		wrong_type += e->type != want;
	}
	EXPECT_EQ(2, dots);
	EXPECT_EQ(0, bad);
	EXPECT_EQ((size_t)n + 2, d->num);
	EXPECT_EQ(0, wrong_ino);
	EXPECT_EQ(0, wrong_type);
	free(seen);
}

#define BIG_SINGLE	100000

TEST_F_TIMEOUT(rd, large_single_layer, 300)
{
	struct rwl_dents d = {};
	double t0 = rwl_now();
	char p[RWL_PATH];
	uint64_t *inos;

	inos = calloc(BIG_SINGLE, sizeof(*inos));
	ASSERT_NE(NULL, inos);
	rwl_pathf(p, "%s/big", self->l[1]);
	ASSERT_EQ(0, rwl_mkdir(p, 0755));
	ASSERT_EQ(0, mk_many(p, 0, BIG_SINGLE, S_IFREG | 0644, inos));
	TH_LOG("%d files created in %.1f s", BIG_SINGLE, rwl_now() - t0);

	t0 = rwl_now();
	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/big", self->mnt), MiB_BUF, &d));
	TH_LOG("listed in %.1f s", rwl_now() - t0);
	check_many(_metadata, &d, BIG_SINGLE, inos, BIG_SINGLE, DT_REG, DT_REG);
	rwl_dents_free(&d);

	ASSERT_LT(0, rwl_list_dir(p, 4096, &d));
	check_many(_metadata, &d, BIG_SINGLE, inos, BIG_SINGLE, DT_REG, DT_REG);
	rwl_dents_free(&d);
	free(inos);
}

#define BIG_HALF	50000
#define BIG_OVERLAP	10000
#define BIG_MERGED	(2 * BIG_HALF - BIG_OVERLAP)

/*
 * l0/big: f000000..f049999 regular files; l1/big: f040000..f089999
 * fifos.  The union lists 90000 names; the 10000 in both are l0's files.
 */
TEST_F_TIMEOUT(rd, large_merged, 300)
{
	struct rwl_dents d = {};
	double t0 = rwl_now();
	uint64_t *inos, *lower_inos;
	char p[RWL_PATH];

	inos = calloc(BIG_MERGED, sizeof(*inos));
	lower_inos = calloc(BIG_MERGED, sizeof(*lower_inos));
	ASSERT_NE(NULL, inos);
	ASSERT_NE(NULL, lower_inos);
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/big", self->l[1]), 0755));
	ASSERT_EQ(0, mk_many(p, BIG_HALF - BIG_OVERLAP, BIG_MERGED,
			     S_IFIFO | 0644, lower_inos));
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/big", self->l[0]), 0755));
	ASSERT_EQ(0, mk_many(p, 0, BIG_HALF, S_IFREG | 0644, inos));
	memcpy(inos + BIG_HALF, lower_inos + BIG_HALF,
	       (BIG_MERGED - BIG_HALF) * sizeof(*inos));
	TH_LOG("%d nodes created in %.1f s", 2 * BIG_HALF, rwl_now() - t0);

	t0 = rwl_now();
	ASSERT_LT(0, rwl_list_dir(rwl_pathf(p, "%s/big", self->mnt), MiB_BUF, &d));
	TH_LOG("listed in %.1f s", rwl_now() - t0);
	check_many(_metadata, &d, BIG_MERGED, inos, BIG_HALF, DT_REG, DT_FIFO);
	rwl_dents_free(&d);

	t0 = rwl_now();
	ASSERT_LT(0, rwl_list_dir(p, 4096, &d));
	TH_LOG("listed with 4 KiB reads in %.1f s", rwl_now() - t0);
	check_many(_metadata, &d, BIG_MERGED, inos, BIG_HALF, DT_REG, DT_FIFO);
	rwl_dents_free(&d);
	free(lower_inos);
	free(inos);
}

TEST_HARNESS_MAIN
