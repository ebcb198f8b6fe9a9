// SPDX-License-Identifier: GPL-2.0
/*
 * Mounting rwlayer: lower= through mount(2) and the fsopen() API, what
 * /proc/mounts and statfs report, every rejected option (errno, and the
 * message read back from the fs_context), stacking depth and remount.
 */
#include <sys/statvfs.h>

#include "rwl_util.h"

FIXTURE(opts) {
	struct rwl_env env;
	char a[RWL_PATH];	/* tmpfs: name="a", only_a */
	char b[RWL_PATH];	/* tmpfs: name="b", only_b */
	char file[RWL_PATH];	/* a regular file */
	char mnt[RWL_PATH];
	char log[4096];
};

FIXTURE_SETUP(opts)
{
	char p[RWL_PATH];

	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->a, "%s/a", self->env.base);
	rwl_pathf(self->b, "%s/b", self->env.base);
	rwl_pathf(self->file, "%s/regular", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->a, "mode=0755,size=4m"));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->b, "mode=0755,size=8m"));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/name", self->a), "a"));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/only_a", self->a), "A"));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/name", self->b), "b"));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/only_b", self->b), "B"));
	ASSERT_EQ(0, rwl_write_text(self->file, "not a directory"));
	ASSERT_EQ(0, rwl_mkdir(self->mnt, 0755));
}

FIXTURE_TEARDOWN(opts)
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

/* A mounted rwlayer on @mnt: type, magic, read-only, lower= shown. */
static void check_mounted(struct __test_metadata *_metadata, const char *mnt,
			  const char *lower)
{
	char line[4096], dev[256], dir[4096], type[64], opts[4096];
	char want[4096];
	struct statvfs sv;
	struct statfs sf;

	ASSERT_EQ(0, statfs(mnt, &sf));
	EXPECT_EQ(RWL_SUPER_MAGIC, sf.f_type);
	ASSERT_EQ(0, statvfs(mnt, &sv));
	EXPECT_TRUE(!!(sv.f_flag & ST_RDONLY));

	ASSERT_EQ(0, rwl_mounts_line(mnt, line, sizeof(line)));
	ASSERT_EQ(4, sscanf(line, "%255s %4095s %63s %4095s", dev, dir, type,
			    opts));
	EXPECT_STREQ(RWL_FS_TYPE, type);
	EXPECT_TRUE(has_opt(opts, "ro")) TH_LOG("options: %s", opts);
	snprintf(want, sizeof(want), "lower=%s", lower);
	EXPECT_TRUE(has_opt(opts, want)) TH_LOG("options: %s, want %s", opts,
						want);
}

/*
 * The new mount API refuses @params with @err and a message holding
 * @msg on an "e " line; then mount(2) with @data refuses with @err and
 * leaves nothing mounted on @mnt.
 */
static void check_rejected(struct __test_metadata *_metadata,
			   FIXTURE_DATA(opts) *self, const char *const *params,
			   const char *data, int err, const char *msg)
{
	const char *what = params[0] ? params[0] : "(no parameters)";
	const char *hit;
	int ret;

	ret = rwl_fsopen(params, self->log, sizeof(self->log));
	if (ret >= 0)
		close(ret);
	EXPECT_EQ(-err, ret) TH_LOG("fsopen API, %s: %s; log:\n%s", what,
				    ret < 0 ? strerror(-ret) : "mounted",
				    self->log);
	hit = strstr(self->log, msg);
	ASSERT_NE(NULL, hit) TH_LOG("%s: no \"%s\" in the log:\n%s", what,
				    msg, self->log);
	while (hit > self->log && hit[-1] != '\n')
		hit--;
	EXPECT_EQ(0, strncmp(hit, "e ", 2)) TH_LOG("not an error line: %s", hit);

	ret = rwl_mount(&self->env, self->mnt, 0, data);
	EXPECT_EQ(-err, ret) TH_LOG("mount(2) -o %s: %s", data ? data : "(null)",
				    ret ? strerror(-ret) : "mounted");
	EXPECT_FALSE(rwl_is_mountpoint(self->mnt));
}

TEST_F(opts, mount_syscall)
{
	char lower[2 * RWL_PATH + 1];

	snprintf(lower, sizeof(lower), "%s:%s", self->a, self->b);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, lower));
	check_mounted(_metadata, self->mnt, lower);
	EXPECT_STREQ("a", rwl_cat(self->mnt, "name"));
	EXPECT_STREQ("A", rwl_cat(self->mnt, "only_a"));
	EXPECT_STREQ("B", rwl_cat(self->mnt, "only_b"));
}

TEST_F(opts, fsopen_api)
{
	char lower[2 * RWL_PATH + 1], param[2 * RWL_PATH + 8];
	const char *params[] = { param, NULL };

	snprintf(lower, sizeof(lower), "%s:%s", self->b, self->a);
	snprintf(param, sizeof(param), "lower=%s", lower);
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, self->mnt, params, self->log,
				      sizeof(self->log))) TH_LOG("%s", self->log);
	check_mounted(_metadata, self->mnt, lower);
	EXPECT_STREQ("b", rwl_cat(self->mnt, "name"));
	EXPECT_STREQ("A", rwl_cat(self->mnt, "only_a"));
	EXPECT_STREQ("B", rwl_cat(self->mnt, "only_b"));
}

TEST_F(opts, single_lower)
{
	char p[RWL_PATH];
	struct stat st;

	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->b));
	check_mounted(_metadata, self->mnt, self->b);
	EXPECT_STREQ("b", rwl_cat(self->mnt, "name"));
	EXPECT_EQ(-1, stat(rwl_pathf(p, "%s/only_a", self->mnt), &st));
	EXPECT_EQ(ENOENT, errno);
}

/* "\:" is a ':' inside a lower path, with mount(2) and fsconfig() alike. */
TEST_F(opts, escaped_colon)
{
	char dir[RWL_PATH], p[RWL_PATH], mnt2[RWL_PATH], data[1024];
	char param[1024];
	const char *params[] = { param, NULL };

	rwl_pathf(dir, "%s/c:d", self->env.base);
	ASSERT_EQ(0, rwl_mkdir(dir, 0755));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/name", dir), "cd"));

	snprintf(data, sizeof(data), "lower=%s/c\\:d:%s", self->env.base,
		 self->b);
	ASSERT_EQ(0, rwl_mount(&self->env, self->mnt, 0, data));
	EXPECT_STREQ("cd", rwl_cat(self->mnt, "name"));
	EXPECT_STREQ("B", rwl_cat(self->mnt, "only_b"));

	rwl_pathf(mnt2, "%s/mnt2", self->env.base);
	snprintf(param, sizeof(param), "lower=%s:%s/c\\:d", self->a,
		 self->env.base);
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, mnt2, params, self->log,
				      sizeof(self->log))) TH_LOG("%s", self->log);
	EXPECT_STREQ("a", rwl_cat(mnt2, "name"));
	EXPECT_STREQ("A", rwl_cat(mnt2, "only_a"));
	EXPECT_STREQ("<No such file or directory>", rwl_cat(mnt2, "only_b"));
}

/*
 * Create @n directories d00, d01.. in the current directory, each with
 * its own file and a file "same", and list them in @list as "d00:d01:..".
 * The names are relative because fsconfig() takes at most 256 bytes of
 * value, which 33 absolute paths under /tmp would exceed.
 */
static int make_layers(int n, char *list, size_t size)
{
	char dir[RWL_PATH], p[RWL_PATH], text[16];
	size_t len = 0;
	int i, err;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		rwl_pathf(dir, "d%02d", i);
		err = rwl_mkdir(dir, 0755);
		if (err)
			return err;
		snprintf(text, sizeof(text), "%d", i);
		err = rwl_write_text(rwl_pathf(p, "%s/same", dir), text) ?:
		      rwl_write_text(rwl_pathf(p, "%s/f%02d", dir, i), text);
		if (err)
			return err;
		len += snprintf(list + len, size - len, "%s%s", i ? ":" : "",
				dir);
		if (len >= size)
			return -ENAMETOOLONG;
	}
	return 0;
}

TEST_F(opts, max_layers)
{
	char list[256], data[300], name[8], mnt2[RWL_PATH];
	const char *params[] = { data, NULL };
	int i;

	ASSERT_EQ(0, chdir(self->env.base));
	ASSERT_EQ(0, make_layers(RWL_MAX_LOWER, list, sizeof(list)));
	snprintf(data, sizeof(data), "lower=%s", list);
	ASSERT_EQ(0, rwl_mount(&self->env, self->mnt, 0, data));
	rwl_pathf(mnt2, "%s/mnt2", self->env.base);
	ASSERT_EQ(0, rwl_fsopen_mount(&self->env, mnt2, params, self->log,
				      sizeof(self->log))) TH_LOG("%s", self->log);
	EXPECT_STREQ("0", rwl_cat(self->mnt, "same"));
	EXPECT_STREQ("0", rwl_cat(mnt2, "same"));
	for (i = 0; i < RWL_MAX_LOWER; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		EXPECT_EQ(i, atoi(rwl_cat(self->mnt, name))) TH_LOG("%s", name);
		EXPECT_EQ(i, atoi(rwl_cat(mnt2, name))) TH_LOG("%s", name);
	}
}

TEST_F(opts, err_missing_lower)
{
	const char *params[] = { NULL };

	check_rejected(_metadata, self, params, NULL, EINVAL, "missing lower=");
}

TEST_F(opts, err_lower_enoent)
{
	char missing[RWL_PATH], param[RWL_PATH + 8], data[4096];
	const char *params[] = { param, NULL };

	rwl_pathf(missing, "%s/no_such_dir", self->env.base);
	snprintf(param, sizeof(param), "lower=%s", missing);
	snprintf(data, sizeof(data), "lower=%s:%s", self->a, missing);
	check_rejected(_metadata, self, params, data, ENOENT, missing);
}

TEST_F(opts, err_lower_not_dir)
{
	char param[RWL_PATH + 8];
	const char *params[] = { param, NULL };

	snprintf(param, sizeof(param), "lower=%s", self->file);
	check_rejected(_metadata, self, params, param, EINVAL,
		       "not a directory");
}

TEST_F(opts, err_duplicate_lower)
{
	char p1[RWL_PATH + 8], p2[RWL_PATH + 8], data[2 * RWL_PATH + 16];
	const char *params[] = { p1, p2, NULL };

	snprintf(p1, sizeof(p1), "lower=%s", self->a);
	snprintf(p2, sizeof(p2), "lower=%s", self->b);
	snprintf(data, sizeof(data), "%s,%s", p1, p2);
	check_rejected(_metadata, self, params, data, EINVAL, "duplicate");
}

TEST_F(opts, err_unknown_param)
{
	char p1[RWL_PATH + 8], data[RWL_PATH + 16];
	const char *params[] = { p1, "foo=1", NULL };

	snprintf(p1, sizeof(p1), "lower=%s", self->a);
	snprintf(data, sizeof(data), "%s,foo=1", p1);
	check_rejected(_metadata, self, params, data, EINVAL,
		       "Unknown parameter");
}

TEST_F(opts, err_empty_value)
{
	const char *params[] = { "lower=", NULL };

	check_rejected(_metadata, self, params, "lower=", EINVAL, "empty");
}

TEST_F(opts, err_empty_element)
{
	const char *fmts[] = { "lower=%s::%s", "lower=:%s:%s", "lower=%s:%s:" };
	char param[2 * RWL_PATH + 16];
	const char *params[] = { param, NULL };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		snprintf(param, sizeof(param), fmts[i], self->a, self->b);
		check_rejected(_metadata, self, params, param, EINVAL, "empty");
	}
}

TEST_F(opts, err_too_many_layers)
{
	char list[256], data[300];
	const char *params[] = { data, NULL };

	ASSERT_EQ(0, chdir(self->env.base));
	ASSERT_EQ(0, make_layers(RWL_MAX_LOWER + 1, list, sizeof(list)));
	snprintf(data, sizeof(data), "lower=%s", list);
	check_rejected(_metadata, self, params, data, EINVAL, "too many");
}

/* rwlayer over rwlayer: the lower of the second is the first's mount. */
TEST_F(opts, stack_two_levels)
{
	char m1[RWL_PATH], m2[RWL_PATH];
	struct stat st1, st2;

	rwl_pathf(m1, "%s/m1", self->env.base);
	rwl_pathf(m2, "%s/m2", self->env.base);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, m1, self->a));
	ASSERT_EQ(0, rwl_mount_lower(&self->env, m2, m1));
	check_mounted(_metadata, m2, m1);
	EXPECT_STREQ("a", rwl_cat(m2, "name"));
	EXPECT_STREQ("A", rwl_cat(m2, "only_a"));
	ASSERT_EQ(0, stat(m1, &st1));
	ASSERT_EQ(0, stat(m2, &st2));
	EXPECT_NE(st1.st_dev, st2.st_dev);
}

TEST_F(opts, stack_three_levels_too_deep)
{
	char m1[RWL_PATH], m2[RWL_PATH], param[RWL_PATH + 8];
	const char *params[] = { param, NULL };

	rwl_pathf(m1, "%s/m1", self->env.base);
	rwl_pathf(m2, "%s/m2", self->env.base);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, m1, self->a));
	ASSERT_EQ(0, rwl_mount_lower(&self->env, m2, m1));
	snprintf(param, sizeof(param), "lower=%s", m2);
	check_rejected(_metadata, self, params, param, EINVAL, "too deep");
}

TEST_F(opts, remount_change_lower_fails)
{
	char data[RWL_PATH + 8];
	int fd;

	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->a));
	snprintf(data, sizeof(data), "lower=%s", self->b);
	EXPECT_EQ(-1, mount("none", self->mnt, RWL_FS_TYPE, MS_REMOUNT | MS_RDONLY,
			    data));
	EXPECT_EQ(EINVAL, errno);

	/* The same through fspick() and FSCONFIG_CMD_RECONFIGURE. */
	fd = fspick(AT_FDCWD, self->mnt, FSPICK_CLOEXEC);
	ASSERT_LE(0, fd);
	if (fsconfig(fd, FSCONFIG_SET_STRING, "lower", self->b, 0) == 0) {
		EXPECT_EQ(-1, fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, NULL,
				       NULL, 0));
		EXPECT_EQ(EINVAL, errno);
	} else {
		EXPECT_EQ(EINVAL, errno);
	}
	close(fd);

	check_mounted(_metadata, self->mnt, self->a);
	EXPECT_STREQ("a", rwl_cat(self->mnt, "name"));
	EXPECT_STREQ("<No such file or directory>", rwl_cat(self->mnt, "only_b"));
}

/* mount(8) repeats the options it was given: an unchanged lower= is fine. */
TEST_F(opts, remount_same_lower_ok)
{
	char data[RWL_PATH + 8];

	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->a));
	snprintf(data, sizeof(data), "lower=%s", self->a);
	EXPECT_EQ(0, mount("none", self->mnt, RWL_FS_TYPE,
			   MS_REMOUNT | MS_RDONLY, data)) TH_LOG("%s",
								strerror(errno));
	check_mounted(_metadata, self->mnt, self->a);
}

TEST_F(opts, remount_ro_ok)
{
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->a));
	EXPECT_EQ(0, mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL))
		TH_LOG("%s", strerror(errno));
	check_mounted(_metadata, self->mnt, self->a);
	EXPECT_STREQ("a", rwl_cat(self->mnt, "name"));
}

/* Neither a superblock nor a per-mount remount rw makes it writable. */
TEST_F(opts, remount_rw_stays_ro)
{
	char p[RWL_PATH];
	int ret;

	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->a));
	ret = mount(NULL, self->mnt, NULL, MS_REMOUNT, NULL);
	TH_LOG("remount rw: %s", ret ? strerror(errno) : "succeeded");
	ret = mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_BIND, NULL);
	TH_LOG("remount,bind rw: %s", ret ? strerror(errno) : "succeeded");

	check_mounted(_metadata, self->mnt, self->a);
	EXPECT_EQ(-1, open(rwl_pathf(p, "%s/new", self->mnt),
			   O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, open(rwl_pathf(p, "%s/name", self->mnt),
			   O_WRONLY | O_CLOEXEC));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, mkdir(rwl_pathf(p, "%s/newdir", self->mnt), 0755));
	EXPECT_EQ(EROFS, errno);
	EXPECT_STREQ("a", rwl_cat(self->a, "name"));
}

TEST_HARNESS_MAIN
