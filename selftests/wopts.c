// SPDX-License-Identifier: GPL-2.0
/*
 * The writable layer's mount options: upper=, work=, rule= and help.
 * Every rejected combination through the fsopen() API (errno and the
 * message read back from the fs_context) and through mount(2), which must
 * leave nothing mounted and nothing in the upper; the accepted forms,
 * what /proc/self/mounts shows, the size and count suffixes as statfs()
 * reports them, and remount.
 */
#include <sys/statvfs.h>

#include "rwl_rw.h"

#define MAX_RULES	64

/*
 * lower/: var/ (var/v), etc/ (etc/e), a:b/ (a:b/f), and k m g t n/ for
 * the limit suffixes.  rw/ is a 16 MiB tmpfs with upper/ and work/, and
 * rw/file is a regular file.
 */
FIXTURE(wopts) {
	struct rwl_env env;
	struct rwl_rw rw;
	char lower_p[RWL_PATH + 8];	/* "lower=..." */
	char upper_p[RWL_PATH + 8];	/* "upper=..." */
	char work_p[RWL_PATH + 8];	/* "work=..." */
	char log[8192];
};

FIXTURE_SETUP(wopts)
{
	static const char *const dirs[] = { "k", "m", "g", "t", "n" };
	char p[RWL_PATH];
	size_t i;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755,size=16m"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "var", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "var/v", 'f', "v"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "etc", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "etc/e", 'f', "e"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "a:b", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "a:b/f", 'f', "ab"));
	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		ASSERT_EQ(0, rwl_mk(self->rw.lower, dirs[i], 'd', NULL));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/file", self->rw.rw), "x"));
	snprintf(self->lower_p, sizeof(self->lower_p), "lower=%s", self->rw.lower);
	snprintf(self->upper_p, sizeof(self->upper_p), "upper=%s", self->rw.upper);
	snprintf(self->work_p, sizeof(self->work_p), "work=%s", self->rw.work);
	ASSERT_EQ(0, rwl_mkdir(self->rw.mnt, 0755));
}

FIXTURE_TEARDOWN(wopts)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* Does the comma-separated option list @opts hold the option @opt? */
static bool has_opt(const char *opts, const char *opt)
{
	size_t len = strlen(opt);
	const char *p = opts;

	while (p && *p) {
		if (strncmp(p, opt, len) == 0 && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* The first option in @opts that starts with @prefix, copied to @out. */
static bool find_opt(const char *opts, const char *prefix, char *out,
		     size_t size)
{
	size_t len = strlen(prefix);
	const char *p = opts;

	while (p && *p) {
		if (strncmp(p, prefix, len) == 0) {
			snprintf(out, size, "%.*s", (int)strcspn(p, ","), p);
			return true;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* How many entries @dir holds (without . and ..), or -errno. */
static int count_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/*
 * Does the log hold one of the '|'-separated alternatives of @msg?  The
 * line holding it is returned in @line.
 */
static const char *log_find(const char *log, const char *msg)
{
	char alt[256];
	const char *hit;
	size_t len;

	while (*msg) {
		len = strcspn(msg, "|");
		snprintf(alt, sizeof(alt), "%.*s", (int)len, msg);
		hit = strstr(log, alt);
		if (hit) {
			while (hit > log && hit[-1] != '\n')
				hit--;
			return hit;
		}
		msg += len;
		if (*msg)
			msg++;
	}
	return NULL;
}

/* Join the NULL-terminated @params with commas into @data (mount(2) form). */
static void join_params(const char *const *params, char *data, size_t size)
{
	size_t len = 0;

	data[0] = '\0';
	for (; *params; params++)
		len += snprintf(data + len, len < size ? size - len : 0, "%s%s",
				len ? "," : "", *params);
	if (len >= size) {
		rwl_log("mount data too long");
		abort();
	}
}

/*
 * The new mount API refuses @params with @err and an "e " message
 * holding one of the '|'-separated alternatives of @msg; then mount(2)
 * with the same options joined by commas refuses with @err, leaves
 * nothing mounted on mnt/ and the upper as it was.
 */
static void check_rejected(struct __test_metadata *_metadata,
			   FIXTURE_DATA(wopts) *self, const char *const *params,
			   int err, const char *msg)
{
	const char *what = "(no parameters)";
	char data[4096];
	const char *hit;
	int ret, before;
	size_t i;

	/* The last parameter is the one under test. */
	for (i = 0; params[i]; i++)
		what = params[i];
	before = count_entries(self->rw.upper);
	ret = rwl_fsopen(params, self->log, sizeof(self->log));
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-err, ret) TH_LOG("fsopen API, %s: %s; log:\n%s", what,
				    ret < 0 ? strerror(-ret) : "mounted",
				    self->log);
	hit = log_find(self->log, msg);
	EXPECT_NE(NULL, hit) TH_LOG("%s: no \"%s\" in the log:\n%s", what, msg,
				    self->log);
	if (hit) {
		EXPECT_EQ(0, strncmp(hit, "e ", 2)) TH_LOG("not an error line: %s",
							   hit);
	}

	join_params(params, data, sizeof(data));
	ret = rwl_mount(&self->env, self->rw.mnt, 0, data);
	EXPECT_EQ(-err, ret) TH_LOG("mount(2) -o %s: %s", data,
				    ret ? strerror(-ret) : "mounted");
	if (ret == 0)
		rwl_umount(&self->env, self->rw.mnt);
	EXPECT_FALSE(rwl_is_mountpoint(self->rw.mnt));
	EXPECT_EQ(before, count_entries(self->rw.upper))
		TH_LOG("%s: the failed mount changed the upper", what);
}

/* lower=, upper=, work= and the rules in @rules (NULL-terminated). */
#define RW_PARAMS(...) \
	((const char *const[]){ self->lower_p, self->upper_p, self->work_p, \
				__VA_ARGS__, NULL })

/* The same with only lower= before the rules. */
#define LOWER_PARAMS(...) \
	((const char *const[]){ self->lower_p, __VA_ARGS__, NULL })

/* Reject lower=,upper=,work=,rule=@rule with EINVAL and @msg. */
static void reject_rule(struct __test_metadata *_metadata,
			FIXTURE_DATA(wopts) *self, const char *rule,
			const char *msg)
{
	char param[512];

	snprintf(param, sizeof(param), "rule=%s", rule);
	check_rejected(_metadata, self, RW_PARAMS(param), EINVAL, msg);
}

static int try_create(const char *dir, const char *name)
{
	char p[RWL_PATH];
	int fd;

	fd = open(rwl_pathf(p, "%s/%s", dir, name),
		  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* --- accepted ----------------------------------------------------- */

TEST_F(wopts, upper_work_rules_mount_syscall)
{
	char data[4096];

	join_params(RW_PARAMS("rule=/var:union", "rule=/etc/e:file"), data,
		    sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	EXPECT_STREQ("v", rwl_cat(self->rw.mnt, "var/v"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "var/new"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "etc/new"));
	EXPECT_EQ(0, rwl_write_text(rwl_pathf(data, "%s/etc/e", self->rw.mnt),
				    "E"));
	EXPECT_STREQ("E", rwl_cat(self->rw.mnt, "etc/e"));
	EXPECT_STREQ("e", rwl_cat(self->rw.lower, "etc/e"));
}

TEST_F(wopts, upper_work_rules_fsopen)
{
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, self->rw.mnt,
				      RW_PARAMS("rule=/var:union",
						"rule=/etc:empty"),
				      self->log, sizeof(self->log)))
		TH_LOG("%s", self->log);
	EXPECT_STREQ("v", rwl_cat(self->rw.mnt, "var/v"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "var/new"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "etc/new"));
	EXPECT_STREQ("<No such file or directory>", rwl_cat(self->rw.mnt,
							    "etc/e"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "new"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "a:b/new"));
}

/* rule=/:union is the implicit rule spelt out: everything is writable. */
TEST_F(wopts, root_rule)
{
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, self->rw.mnt,
				      RW_PARAMS("rule=/:union"), self->log,
				      sizeof(self->log))) TH_LOG("%s", self->log);
	EXPECT_EQ(0, try_create(self->rw.mnt, "new"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "a:b/new"));
	EXPECT_STREQ("v", rwl_cat(self->rw.mnt, "var/v"));
}

/* Without rule= the whole union is writable. */
TEST_F(wopts, no_rules_all_writable)
{
	char data[4096];
	struct statvfs sv;

	snprintf(data, sizeof(data), "%s,%s,%s", self->lower_p, self->upper_p,
		 self->work_p);
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	ASSERT_EQ(0, statvfs(self->rw.mnt, &sv));
	EXPECT_FALSE(!!(sv.f_flag & ST_RDONLY));
	EXPECT_EQ(0, try_create(self->rw.mnt, "new"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "etc/new"));
	EXPECT_EQ(0, mkdir(rwl_pathf(data, "%s/newdir", self->rw.mnt), 0755));
}

/* "\:" is a colon inside a rule's path, with mount(2) and fsconfig(). */
TEST_F(wopts, rule_escaped_colon)
{
	char data[4096], mnt2[RWL_PATH];

	join_params(RW_PARAMS("rule=/a\\:b:union"), data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	EXPECT_STREQ("ab", rwl_cat(self->rw.mnt, "a:b/f"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "a:b/new"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "var/new"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "new"));
	ASSERT_EQ(0, rwl_umount(&self->env, self->rw.mnt));

	rwl_pathf(mnt2, "%s/mnt2", self->env.base);
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, mnt2,
				      RW_PARAMS("rule=/a\\:b:empty"), self->log,
				      sizeof(self->log))) TH_LOG("%s", self->log);
	EXPECT_STREQ("<No such file or directory>", rwl_cat(mnt2, "a:b/f"));
	EXPECT_EQ(0, try_create(mnt2, "a:b/new2"));
	EXPECT_EQ(EROFS, try_create(mnt2, "var/new"));
}

/*
 * One upper or work directory, one mount: a second union on either is
 * refused with EBUSY (and does not clear the first one's work directory).
 */
TEST_F(wopts, upper_in_use)
{
	char mnt2[RWL_PATH], upper2[RWL_PATH + 16], work2[RWL_PATH + 16];
	char busy_upper[2 * RWL_PATH], busy_work[2 * RWL_PATH];

	rwl_pathf(mnt2, "%s/mnt2", self->env.base);
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, mnt2, RW_PARAMS("rule=/var:union"),
				      self->log, sizeof(self->log)))
		TH_LOG("%s", self->log);
	ASSERT_EQ(0, rwl_write_text(rwl_at(mnt2, "var/mine"), "first"));
	snprintf(busy_upper, sizeof(busy_upper),
		 "%s: in use by another rwlayer mount", self->upper_p);
	snprintf(busy_work, sizeof(busy_work),
		 "%s: in use by another rwlayer mount", self->work_p);
	check_rejected(_metadata, self, RW_PARAMS("rule=/var:union"), EBUSY,
		       busy_upper);
	ASSERT_EQ(0, rwl_mkdir(rwl_at(self->rw.rw, "upper2"), 0755));
	ASSERT_EQ(0, rwl_mkdir(rwl_at(self->rw.rw, "work2"), 0755));
	snprintf(upper2, sizeof(upper2), "upper=%s/upper2", self->rw.rw);
	snprintf(work2, sizeof(work2), "work=%s/work2", self->rw.rw);
	check_rejected(_metadata, self,
		       ((const char *const[]){ self->lower_p, upper2,
					       self->work_p, NULL }),
		       EBUSY, busy_work);
	check_rejected(_metadata, self,
		       ((const char *const[]){ self->lower_p, self->upper_p,
					       work2, NULL }),
		       EBUSY, busy_upper);
	EXPECT_STREQ("first", rwl_cat(mnt2, "var/mine"));
	/* Free again once the first mount is gone. */
	ASSERT_EQ(0, rwl_umount(&self->env, mnt2));
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, mnt2, RW_PARAMS("rule=/var:union"),
				      self->log, sizeof(self->log)))
		TH_LOG("%s", self->log);
	EXPECT_STREQ("first", rwl_cat(mnt2, "var/mine"));
}

/* Exactly 64 rules are fine. */
TEST_F(wopts, max_rules)
{
	char rules[MAX_RULES][32], data[4096];
	const char *params[MAX_RULES + 4];
	size_t n = 0;
	int i;

	params[n++] = self->lower_p;
	params[n++] = self->upper_p;
	params[n++] = self->work_p;
	for (i = 0; i < MAX_RULES; i++) {
		snprintf(rules[i], sizeof(rules[i]), "rule=/r%02d:union", i);
		params[n++] = rules[i];
	}
	params[n] = NULL;
	join_params(params, data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	ASSERT_EQ(0, rwl_umount(&self->env, self->rw.mnt));
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, self->rw.mnt, params,
				      self->log, sizeof(self->log)))
		TH_LOG("%s", self->log);
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "var/new"));
}

/* /proc/self/mounts shows the writable mount with upper=, work= and rule=. */
TEST_F(wopts, proc_mounts_options)
{
	char line[4096], dev[256], dir[4096], type[64], opts[4096];
	char want[RWL_PATH + 16], rule[256], data[4096];

	join_params(RW_PARAMS("rule=/var:union", "rule=/etc:empty:size=1M:inodes=100",
			      "rule=/etc/e:file"), data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	ASSERT_EQ(0, rwl_mounts_line(self->rw.mnt, line, sizeof(line)));
	ASSERT_EQ(4, sscanf(line, "%255s %4095s %63s %4095s", dev, dir, type,
			    opts));
	EXPECT_STREQ(RWL_FS_TYPE, type);
	EXPECT_TRUE(has_opt(opts, "rw")) TH_LOG("options: %s", opts);
	EXPECT_TRUE(has_opt(opts, self->lower_p)) TH_LOG("options: %s", opts);
	snprintf(want, sizeof(want), "upper=%s", self->rw.upper);
	EXPECT_TRUE(has_opt(opts, want)) TH_LOG("options: %s, want %s", opts,
						want);
	snprintf(want, sizeof(want), "work=%s", self->rw.work);
	EXPECT_TRUE(has_opt(opts, want)) TH_LOG("options: %s, want %s", opts,
						want);
	EXPECT_TRUE(has_opt(opts, "rule=/var:union")) TH_LOG("options: %s", opts);
	EXPECT_TRUE(has_opt(opts, "rule=/etc/e:file")) TH_LOG("options: %s", opts);
	/* The limits may be shown normalized; both must be there. */
	ASSERT_TRUE(find_opt(opts, "rule=/etc:empty:", rule, sizeof(rule)))
		TH_LOG("options: %s", opts);
	EXPECT_NE(NULL, strstr(rule, ":size=")) TH_LOG("%s", rule);
	EXPECT_NE(NULL, strstr(rule, ":inodes=")) TH_LOG("%s", rule);
}

/*
 * mount(8) repeats the options it was given on remount: the same upper=,
 * work= and rule= are accepted and the mount stays as it was.
 */
TEST_F(wopts, remount_same_options)
{
	char data[4096], before[4096], after[4096];

	join_params(RW_PARAMS("rule=/var:union", "rule=/etc:empty:size=1M"),
		    data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	ASSERT_EQ(0, rwl_mounts_line(self->rw.mnt, before, sizeof(before)));
	EXPECT_EQ(0, mount("none", self->rw.mnt, RWL_FS_TYPE, MS_REMOUNT, data))
		TH_LOG("remount: %s", strerror(errno));
	ASSERT_EQ(0, rwl_mounts_line(self->rw.mnt, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	EXPECT_EQ(0, try_create(self->rw.mnt, "var/new"));
	EXPECT_EQ(0, try_create(self->rw.mnt, "etc/new"));
	EXPECT_EQ(EROFS, try_create(self->rw.mnt, "new"));
}

/* Spec silent; the obvious rule: an upper cannot be swapped on remount. */
TEST_F(wopts, remount_change_upper_fails)
{
	char data[4096], other[RWL_PATH], upper2[2 * RWL_PATH];

	join_params(RW_PARAMS("rule=/var:union"), data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	rwl_pathf(other, "%s/upper2", self->rw.rw);
	ASSERT_EQ(0, rwl_mkdir(other, 0755));
	snprintf(upper2, sizeof(upper2), "upper=%s", other);
	snprintf(data, sizeof(data), "%s,%s,%s,rule=/var:union", self->lower_p,
		 upper2, self->work_p);
	EXPECT_EQ(-1, mount("none", self->rw.mnt, RWL_FS_TYPE, MS_REMOUNT, data));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, try_create(self->rw.mnt, "var/new"));
	EXPECT_EQ(0, count_entries(other));
}

/*
 * The size suffixes are powers of 1024 and the count suffixes powers of
 * 1000, as statfs() on a path in each rule shows (the size rounded to the
 * block size either way).
 */
TEST_F(wopts, limit_suffixes)
{
	static const struct {
		const char *dir;
		unsigned long long bytes, inodes;
	} want[] = {
		{ "k", 8ULL << 10, 1000 },
		{ "m", 3ULL << 20, 2000000 },
		{ "g", 5ULL << 30, 7 },
		{ "t", 2ULL << 40, 0 },
		{ "n", 12345, 0 },
	};
	unsigned long long total;
	char data[4096], p[RWL_PATH];
	struct statfs sf;
	size_t i;

	join_params(RW_PARAMS("rule=/k:union:size=8K:inodes=1k",
			      "rule=/m:union:size=3M:inodes=2m",
			      "rule=/g:union:size=5G:inodes=7",
			      "rule=/t:union:size=2T",
			      "rule=/n:union:size=12345"), data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ASSERT_EQ(0, statfs(rwl_pathf(p, "%s/%s", self->rw.mnt,
					      want[i].dir), &sf));
		ASSERT_LT(0, sf.f_bsize);
		total = (unsigned long long)sf.f_blocks * sf.f_bsize;
		EXPECT_LT(want[i].bytes, total + sf.f_bsize)
			TH_LOG("%s: %llu blocks of %ld", want[i].dir,
			       (unsigned long long)sf.f_blocks, (long)sf.f_bsize);
		EXPECT_GT(want[i].bytes + sf.f_bsize, total)
			TH_LOG("%s: %llu blocks of %ld", want[i].dir,
			       (unsigned long long)sf.f_blocks, (long)sf.f_bsize);
		if (want[i].inodes) {
			EXPECT_EQ(want[i].inodes, sf.f_files) TH_LOG("%s",
								   want[i].dir);
		}
	}
}

/* --- upper= and work= ------------------------------------------------ */

TEST_F(wopts, err_upper_without_work)
{
	check_rejected(_metadata, self, LOWER_PARAMS(self->upper_p), EINVAL,
		       "work");
}

TEST_F(wopts, err_work_without_upper)
{
	check_rejected(_metadata, self, LOWER_PARAMS(self->work_p), EINVAL,
		       "upper");
}

TEST_F(wopts, err_rule_without_upper)
{
	check_rejected(_metadata, self, LOWER_PARAMS("rule=/var:union"), EINVAL,
		       "upper");
}

TEST_F(wopts, err_duplicate_upper)
{
	check_rejected(_metadata, self,
		       RW_PARAMS(self->upper_p), EINVAL, "duplicate");
}

TEST_F(wopts, err_upper_enoent)
{
	char missing[RWL_PATH], param[2 * RWL_PATH];

	rwl_pathf(missing, "%s/no_such_dir", self->rw.rw);
	snprintf(param, sizeof(param), "upper=%s", missing);
	check_rejected(_metadata, self,
		       LOWER_PARAMS(param, self->work_p), ENOENT, missing);
}

TEST_F(wopts, err_upper_is_file)
{
	char param[2 * RWL_PATH];

	snprintf(param, sizeof(param), "upper=%s/file", self->rw.rw);
	check_rejected(_metadata, self, LOWER_PARAMS(param, self->work_p),
		       EINVAL, "not a directory");
}

TEST_F(wopts, err_work_is_file)
{
	char param[2 * RWL_PATH];

	snprintf(param, sizeof(param), "work=%s/file", self->rw.rw);
	check_rejected(_metadata, self, LOWER_PARAMS(self->upper_p, param),
		       EINVAL, "not a directory");
}

/* work= must be on the upper's filesystem (the errno is our choice). */
TEST_F(wopts, err_work_other_fs)
{
	char work2[RWL_PATH], param[2 * RWL_PATH];

	rwl_pathf(work2, "%s/work2", self->env.base);
	ASSERT_EQ(0, rwl_mkdir(work2, 0755));
	snprintf(param, sizeof(param), "work=%s", work2);
	check_rejected(_metadata, self, LOWER_PARAMS(self->upper_p, param),
		       EINVAL, "work");
	EXPECT_EQ(0, count_entries(work2));
}

TEST_F(wopts, err_work_inside_upper)
{
	char work2[RWL_PATH], param[2 * RWL_PATH];

	rwl_pathf(work2, "%s/w", self->rw.upper);
	ASSERT_EQ(0, rwl_mkdir(work2, 0755));
	snprintf(param, sizeof(param), "work=%s", work2);
	check_rejected(_metadata, self, LOWER_PARAMS(self->upper_p, param),
		       EINVAL, "work");
}

TEST_F(wopts, err_upper_inside_work)
{
	char upper2[RWL_PATH], param[2 * RWL_PATH];

	rwl_pathf(upper2, "%s/u", self->rw.work);
	ASSERT_EQ(0, rwl_mkdir(upper2, 0755));
	snprintf(param, sizeof(param), "upper=%s", upper2);
	check_rejected(_metadata, self, LOWER_PARAMS(param, self->work_p),
		       EINVAL, "work");
}

TEST_F(wopts, err_work_is_upper)
{
	char param[2 * RWL_PATH];

	snprintf(param, sizeof(param), "work=%s", self->rw.upper);
	check_rejected(_metadata, self, LOWER_PARAMS(self->upper_p, param),
		       EINVAL, "work");
}

/*
 * ramfs has no xattrs and no RENAME_WHITEOUT: refused, naming what is
 * missing.
 */
TEST_F(wopts, err_upper_ramfs)
{
	char ram[RWL_PATH], up[2 * RWL_PATH], wk[2 * RWL_PATH];

	rwl_pathf(ram, "%s/ram", self->env.base);
	ASSERT_EQ(0, rwl_mkdir(ram, 0755));
	ASSERT_EQ(0, mount("ramfs", ram, "ramfs", 0, "mode=0755"))
		TH_LOG("mount ramfs: %s", strerror(errno));
	ASSERT_EQ(0, rwl_env_record(&self->env, ram));
	snprintf(up, sizeof(up), "upper=%s/upper", ram);
	snprintf(wk, sizeof(wk), "work=%s/work", ram);
	ASSERT_EQ(0, rwl_mkdir(up + 6, 0755));
	ASSERT_EQ(0, rwl_mkdir(wk + 5, 0755));
	check_rejected(_metadata, self, LOWER_PARAMS(up, wk), EINVAL,
		       "xattr|extended attribute|whiteout");
	EXPECT_EQ(0, count_entries(up + 6));
}

/* --- rule= ------------------------------------------------------------ */

TEST_F(wopts, err_rule_unknown_kind)
{
	reject_rule(_metadata, self, "/var:bogus", "bogus");
	reject_rule(_metadata, self, "/var:Union", "Union");
	reject_rule(_metadata, self, "/var:", "/var");
}

TEST_F(wopts, err_rule_missing_kind)
{
	reject_rule(_metadata, self, "/var", "/var");
}

TEST_F(wopts, err_rule_empty)
{
	check_rejected(_metadata, self, RW_PARAMS("rule="), EINVAL, "rule");
	reject_rule(_metadata, self, ":union", "rule");
}

TEST_F(wopts, err_rule_relative)
{
	reject_rule(_metadata, self, "var:union", "var");
	reject_rule(_metadata, self, "etc/e:file", "etc/e");
}

TEST_F(wopts, err_rule_dotdot)
{
	reject_rule(_metadata, self, "/var/../etc:union", "/var/../etc");
	reject_rule(_metadata, self, "/..:union", "/..");
	reject_rule(_metadata, self, "/var/..:union", "/var/..");
}

TEST_F(wopts, err_rule_dot)
{
	reject_rule(_metadata, self, "/var/.:union", "/var/.");
	reject_rule(_metadata, self, "/./var:union", "/./var");
	reject_rule(_metadata, self, "/.:union", "/.");
}

TEST_F(wopts, err_rule_double_slash)
{
	reject_rule(_metadata, self, "//var:union", "//var");
	reject_rule(_metadata, self, "/var//log:union", "/var//log");
	reject_rule(_metadata, self, "//:union", "//");
}

TEST_F(wopts, err_rule_trailing_slash)
{
	reject_rule(_metadata, self, "/var/:union", "/var/");
	reject_rule(_metadata, self, "/etc/e/:file", "/etc/e/");
}

/* Two rules for one path, whatever their kinds. */
TEST_F(wopts, err_rule_duplicate_path)
{
	check_rejected(_metadata, self,
		       RW_PARAMS("rule=/var:union", "rule=/var:empty"), EINVAL,
		       "duplicate");
	check_rejected(_metadata, self,
		       RW_PARAMS("rule=/var:union", "rule=/etc:union",
				 "rule=/var:union"), EINVAL, "duplicate");
}

TEST_F(wopts, err_rule_bad_size_suffix)
{
	static const char *const bad[] = {
		"/var:union:size=64X", "/var:union:size=64KB",
		"/var:union:size=64k", "/var:union:size=K",
		"/var:union:size=abc", "/var:union:size=-1",
		"/var:union:size=1.5M", "/var:union:size=",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		reject_rule(_metadata, self, bad[i], "size");
}

TEST_F(wopts, err_rule_size_zero)
{
	reject_rule(_metadata, self, "/var:union:size=0", "size");
	reject_rule(_metadata, self, "/var:union:size=0K", "size");
}

TEST_F(wopts, err_rule_size_overflow)
{
	reject_rule(_metadata, self, "/var:union:size=99999999999T", "size");
	/* 2^64 exactly, in bytes and as 2^34 G */
	reject_rule(_metadata, self, "/var:union:size=18446744073709551616",
		    "size");
	reject_rule(_metadata, self, "/var:union:size=17179869184G", "size");
	/* Above 2^60, where the charges it bounds could wrap. */
	reject_rule(_metadata, self, "/var:union:size=1048577T", "size");
	reject_rule(_metadata, self,
		    "/var:union:inodes=1152921504606846977", "inodes");
}

TEST_F(wopts, err_rule_bad_inodes)
{
	static const char *const bad[] = {
		"/var:union:inodes=0", "/var:union:inodes=0k",
		"/var:union:inodes=abc", "/var:union:inodes=",
		"/var:union:inodes=-5", "/var:union:inodes=5x",
		"/var:union:inodes=99999999999999999999",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		reject_rule(_metadata, self, bad[i], "inodes");
}

TEST_F(wopts, err_rule_unknown_option)
{
	reject_rule(_metadata, self, "/var:union:foo=1", "foo");
	reject_rule(_metadata, self, "/var:union:size=1M:bar", "bar");
}

TEST_F(wopts, err_too_many_rules)
{
	char rules[MAX_RULES + 1][32];
	const char *params[MAX_RULES + 5];
	size_t n = 0;
	int i;

	params[n++] = self->lower_p;
	params[n++] = self->upper_p;
	params[n++] = self->work_p;
	for (i = 0; i <= MAX_RULES; i++) {
		snprintf(rules[i], sizeof(rules[i]), "rule=/r%02d:union", i);
		params[n++] = rules[i];
	}
	params[n] = NULL;
	check_rejected(_metadata, self, params, EINVAL, "too many|64");
}

/* --- help and failed mounts -------------------------------------------- */

/* "help" logs the syntax and fails, alone or after other options. */
TEST_F(wopts, help)
{
	const char *const alone[] = { "help", NULL };
	char data[4096];
	int ret;

	ret = rwl_fsopen(LOWER_PARAMS("help"), self->log, sizeof(self->log));
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_NE(NULL, strstr(self->log, "rule=")) TH_LOG("log:\n%s", self->log);
	EXPECT_NE(NULL, strstr(self->log, "upper=")) TH_LOG("log:\n%s", self->log);
	EXPECT_NE(NULL, strstr(self->log, "work=")) TH_LOG("log:\n%s", self->log);

	ret = rwl_fsopen(alone, self->log, sizeof(self->log));
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_NE(NULL, strstr(self->log, "rule=")) TH_LOG("log:\n%s", self->log);

	join_params(RW_PARAMS("help"), data, sizeof(data));
	EXPECT_EQ(-EINVAL, rwl_mount(&self->env, self->rw.mnt, 0, data));
	EXPECT_EQ(-EINVAL, rwl_mount(&self->env, self->rw.mnt, 0, "help"));
	EXPECT_FALSE(rwl_is_mountpoint(self->rw.mnt));
}

/*
 * Mounts that fail after every option parsed (in get_tree) leave nothing
 * mounted and nothing in the upper or work, not even an empty rule's
 * directory.
 */
TEST_F(wopts, failed_mount_leaves_nothing)
{
	char work2[RWL_PATH], param[2 * RWL_PATH], data[4096];
	const char *const *sets[3];
	size_t i;

	rwl_pathf(work2, "%s/work2", self->env.base);
	ASSERT_EQ(0, rwl_mkdir(work2, 0755));
	snprintf(param, sizeof(param), "work=%s", work2);
	sets[0] = LOWER_PARAMS(self->upper_p, param, "rule=/var:empty",
			       "rule=/etc/e:file");
	sets[1] = LOWER_PARAMS(self->upper_p, "rule=/var:empty");
	sets[2] = RW_PARAMS("rule=/var:empty", "rule=/etc:empty",
			    "rule=/etc:union");
	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		join_params(sets[i], data, sizeof(data));
		EXPECT_EQ(-EINVAL, rwl_mount(&self->env, self->rw.mnt, 0, data))
			TH_LOG("%s", data);
		EXPECT_FALSE(rwl_is_mountpoint(self->rw.mnt));
		EXPECT_EQ(0, count_entries(self->rw.upper)) TH_LOG("%s", data);
		EXPECT_EQ(0, count_entries(work2)) TH_LOG("%s", data);
	}
	/* And a good mount afterwards works. */
	join_params(RW_PARAMS("rule=/var:empty"), data, sizeof(data));
	ASSERT_EQ(0, rwl_mount(&self->env, self->rw.mnt, 0, data));
	EXPECT_EQ(0, try_create(self->rw.mnt, "var/new"));
}

TEST_HARNESS_MAIN
