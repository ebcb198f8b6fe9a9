// SPDX-License-Identifier: GPL-2.0
/*
 * The union from the side that must be refused.  Every step is made by an
 * unprivileged user (uid 65534, and uid 0 of a user namespace mapped onto
 * it) on a union of one lower tree, and the same step on the same tree on
 * a bare tmpfs in the same guest: errno, mode, owner and content must be
 * the bare filesystem's.  The union is rwlayer, then in-tree overlayfs as
 * the control (the same tests, its own variant).  Caches are dropped
 * between the step and the check wherever an inode could carry the
 * answer.  Intended differences (a copy-up breaks a lower hard link) are
 * checked against their documented outcome instead (rwlayer.rst,
 * "Security model").
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/xattr.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "rwl_util.h"

#define ACL_ACCESS	"system.posix_acl_access"
#define ACL_DEFAULT	"system.posix_acl_default"

enum adv_union { ADV_RWLAYER, ADV_OVERLAY };

FIXTURE(adv) {
	struct rwl_env env;
	char ref[RWL_PATH];	/* the bare tmpfs */
	char lower[RWL_PATH], upper[RWL_PATH], work[RWL_PATH];
	char mnt[RWL_PATH];	/* the union */
};

/*
 * @known: steps where the union is known to differ from the bare
 * filesystem; they are logged, not failed.  rwlayer has none.
 */
FIXTURE_VARIANT(adv) {
	enum adv_union fs;
	const char *const *known;
};

FIXTURE_VARIANT_ADD(adv, rwlayer) {
	.fs = ADV_RWLAYER,
	.known = (const char *const[]){ NULL },
};

/*
 * overlayfs passes copy_file_range to the layers: EXDEV across them; it
 * checks permission against a copy of the lower's mode taken at lookup.
 */
FIXTURE_VARIANT_ADD(adv, overlay) {
	.fs = ADV_OVERLAY,
	.known = (const char *const[]){ "copy_file_range", "lower chmod",
					"lower chattr", NULL },
};

static bool adv_known(const FIXTURE_VARIANT(adv) *variant, const char *what)
{
	const char *const *k;

	for (k = variant->known; *k; k++) {
		if (!strcmp(*k, what))
			return true;
	}
	return false;
}

/* One file of the test tree. */
struct adv_file {
	const char *name;
	mode_t mode;		/* with S_IFREG or S_IFDIR */
	uid_t uid;
	gid_t gid;
};

/* The names the set-id tests write to, one per way of writing. */
static const char *const setid_ways[] = {
	"write", "pwrite", "append", "truncate", "ftruncate", "fallocate",
	"copy_file_range", "sendfile",
};

static const struct adv_file adv_tree[] = {
	{ "root_file",	  S_IFREG | 0644,  0,	  0 },
	{ "root_private", S_IFREG | 0600,  0,	  0 },
	{ "nobody_file",  S_IFREG | 0644,  65534, 65534 },
	{ "sgid_nobody",  S_IFREG | 02775, 65534, 0 },
	{ "sgid_dir",	  S_IFDIR | 02775, 65534, 0 },
	{ "sticky",	  S_IFDIR | 01777, 0,	  0 },
	{ "sticky/root_file", S_IFREG | 0666, 0,  0 },
	{ "setid",	  S_IFDIR | 0755,  0,	  0 },
	{ "link_a",	  S_IFREG | 0666,  0,	  0 },
};

static int adv_make(const char *dir, const struct adv_file *f)
{
	char p[RWL_PATH];
	int fd;

	rwl_pathf(p, "%s/%s", dir, f->name);
	if (S_ISDIR(f->mode)) {
		if (mkdir(p, 0700))
			return -errno;
	} else {
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (write(fd, f->name, strlen(f->name)) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	if (chown(p, f->uid, f->gid) || chmod(p, f->mode & 07777))
		return -errno;
	return 0;
}

/* The tree every test starts from, in @dir (the lower, or the bare fs). */
static int adv_populate(const char *dir)
{
	struct adv_file setid = { NULL, S_IFREG | 06777, 0, 0 };
	char name[64];
	size_t i;
	int err;

	for (i = 0; i < sizeof(adv_tree) / sizeof(adv_tree[0]); i++) {
		err = adv_make(dir, &adv_tree[i]);
		if (err)
			return err;
	}
	for (i = 0; i < sizeof(setid_ways) / sizeof(setid_ways[0]); i++) {
		snprintf(name, sizeof(name), "setid/%s", setid_ways[i]);
		setid.name = name;
		err = adv_make(dir, &setid);
		if (err)
			return err;
	}
	if (link(rwl_at(dir, "link_a"), rwl_at(dir, "link_b")))
		return -errno;
	return 0;
}

static int adv_mount_union(struct rwl_env *env, enum adv_union fs,
			   const char *lower, const char *upper,
			   const char *work, const char *mnt)
{
	char data[4096];

	if (fs == ADV_RWLAYER) {
		snprintf(data, sizeof(data), "lower=%s,upper=%s,work=%s",
			 lower, upper, work);
		return rwl_mount(env, mnt, 0, data);
	}
	snprintf(data, sizeof(data), "lowerdir=%s,upperdir=%s,workdir=%s",
		 lower, upper, work);
	if (rwl_mkdir(mnt, 0755))
		return -errno;
	if (mount("overlay", mnt, "overlay", 0, data))
		return -errno;
	return rwl_env_record(env, mnt);
}

FIXTURE_SETUP(adv)
{
	char rw[RWL_PATH];
	int err;

	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->ref, "%s/ref", self->env.base);
	rwl_pathf(self->lower, "%s/lower", self->env.base);
	rwl_pathf(rw, "%s/rw", self->env.base);
	rwl_pathf(self->upper, "%s/rw/upper", self->env.base);
	rwl_pathf(self->work, "%s/rw/work", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->ref, "mode=0755"));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->lower, "mode=0755"));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, rw, "mode=0755"));
	ASSERT_EQ(0, rwl_mkdir(self->upper, 0755));
	ASSERT_EQ(0, rwl_mkdir(self->work, 0755));
	ASSERT_EQ(0, adv_populate(self->ref));
	ASSERT_EQ(0, adv_populate(self->lower));
	err = adv_mount_union(&self->env, variant->fs, self->lower,
			      self->upper, self->work, self->mnt);
	if (err == -ENODEV && variant->fs == ADV_OVERLAY)
		SKIP(return, "no overlayfs in this kernel");
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(adv)
{
	RWL_ENV_TEARDOWN(&self->env);
}

static int drop_caches(void)
{
	sync();
	return rwl_write_text("/proc/sys/vm/drop_caches", "2");
}

/* ---- unprivileged callers ---------------------------------------------- */

/* What a step tried, for the child that makes it. */
struct adv_step {
	const char *path;
	int (*fn)(const struct adv_step *step);
	const void *value;	/* xattr value, or data to write */
	size_t size;
	const char *name;	/* xattr name */
	const char *path2;	/* rename/link target */
};

/*
 * Make the step as uid/gid 65534 without groups; with @userns, as uid 0
 * of a new user namespace whose only mapping is 0 -> 65534.  Returns the
 * step's errno (0 for success), or -1 if the child could not be set up.
 */
static int adv_as_user(const struct adv_step *step, bool userns)
{
	int status, ret;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(RWL_NOBODY) ||
		    setuid(RWL_NOBODY))
			_exit(255);
		/* The uid change made /proc/self root's: take it back. */
		if (userns) {
			if (prctl(PR_SET_DUMPABLE, 1) || unshare(CLONE_NEWUSER) ||
			    rwl_write_text("/proc/self/uid_map", "0 65534 1") ||
			    rwl_write_text("/proc/self/setgroups", "deny") ||
			    rwl_write_text("/proc/self/gid_map", "0 65534 1"))
				_exit(255);
		}
		ret = step->fn(step);
		_exit(ret & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

static int step_open_write(const struct adv_step *s)
{
	int fd = open(s->path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return errno;
	}
	close(fd);
	return 0;
}

static int step_setxattr(const struct adv_step *s)
{
	return rwl_result(setxattr(s->path, s->name, s->value, s->size, 0));
}

static int step_removexattr(const struct adv_step *s)
{
	return rwl_result(removexattr(s->path, s->name));
}

static int step_chmod(const struct adv_step *s)
{
	return rwl_result(chmod(s->path, 04777));
}

static int step_chown(const struct adv_step *s)
{
	return rwl_result(chown(s->path, RWL_NOBODY, RWL_NOBODY));
}

static int step_utimes(const struct adv_step *s)
{
	static const struct timespec t[2] = { { 1, 0 }, { 1, 0 } };

	return rwl_result(utimensat(AT_FDCWD, s->path, t, 0));
}

static int step_utimes_now(const struct adv_step *s)
{
	return rwl_result(utimensat(AT_FDCWD, s->path, NULL, 0));
}

static int step_truncate(const struct adv_step *s)
{
	return rwl_result(truncate(s->path, 1));
}

static int step_unlink(const struct adv_step *s)
{
	return rwl_result(unlink(s->path));
}

static int step_rename(const struct adv_step *s)
{
	return rwl_result(rename(s->path, s->path2));
}

static int step_link(const struct adv_step *s)
{
	return rwl_result(link(s->path, s->path2));
}

static int step_mknod(const struct adv_step *s)
{
	return rwl_result(mknod(s->path, S_IFCHR | 0666, makedev(1, 3)));
}

static int step_fallocate(const struct adv_step *s)
{
	int fd = open(s->path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return errno;
	ret = rwl_result(fallocate(fd, 0, 0, 8192));
	close(fd);
	return ret;
}

/* What a name looks like after a step: enough to tell two outcomes apart. */
struct adv_state {
	int err;		/* lstat's errno */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	char data[64];
	ssize_t acl;		/* getxattr(ACL_ACCESS) size or -errno */
};

static void adv_state(const char *path, struct adv_state *st)
{
	struct stat s;
	int fd;

	memset(st, 0, sizeof(*st));
	if (lstat(path, &s)) {
		st->err = errno;
		return;
	}
	st->mode = s.st_mode;
	st->uid = s.st_uid;
	st->gid = s.st_gid;
	st->size = s.st_size;
	st->acl = getxattr(path, ACL_ACCESS, NULL, 0);
	if (st->acl < 0)
		st->acl = -errno;
	if (!S_ISREG(s.st_mode))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, st->data, sizeof(st->data) - 1) < 0)
			st->data[0] = '\0';
		close(fd);
	}
}

static void expect_same_state(struct __test_metadata *_metadata,
			      const char *what, const char *ref,
			      const char *got)
{
	struct adv_state a, b;

	adv_state(ref, &a);
	adv_state(got, &b);
	EXPECT_EQ(a.err, b.err) TH_LOG("%s: lstat %s", what, got);
	EXPECT_EQ(a.mode, b.mode) TH_LOG("%s: mode of %s: 0%o, bare 0%o",
					 what, got, b.mode, a.mode);
	EXPECT_EQ(a.uid, b.uid) TH_LOG("%s: owner of %s", what, got);
	EXPECT_EQ(a.gid, b.gid) TH_LOG("%s: group of %s", what, got);
	EXPECT_EQ(a.size, b.size) TH_LOG("%s: size of %s", what, got);
	EXPECT_STREQ(a.data, b.data) TH_LOG("%s: data of %s", what, got);
	EXPECT_EQ(a.acl, b.acl) TH_LOG("%s: ACL of %s", what, got);
}

/*
 * Make @step on the bare tree and on the union, as nobody or inside a
 * user namespace: the same errno, and the same state of @check (relative
 * name) afterwards, also once the caches were dropped.
 */
static void adv_compare(struct __test_metadata *_metadata,
			FIXTURE_DATA(adv) *self,
			const FIXTURE_VARIANT(adv) *variant, const char *what,
			struct adv_step step, const char *rel,
			const char *rel2, const char *check, bool userns)
{
	char ref[RWL_PATH], got[RWL_PATH], ref2[RWL_PATH], got2[RWL_PATH];
	int ref_err, got_err;

	step.path = rwl_pathf(ref, "%s/%s", self->ref, rel);
	step.path2 = rel2 ? rwl_pathf(ref2, "%s/%s", self->ref, rel2) : NULL;
	ref_err = adv_as_user(&step, userns);
	step.path = rwl_pathf(got, "%s/%s", self->mnt, rel);
	step.path2 = rel2 ? rwl_pathf(got2, "%s/%s", self->mnt, rel2) : NULL;
	got_err = adv_as_user(&step, userns);
	ASSERT_NE(-1, ref_err) TH_LOG("%s: could not run as nobody", what);
	if (adv_known(variant, what)) {
		rwl_log("%s: %s on the union, %s bare (a known difference)",
			what, strerror(got_err), strerror(ref_err));
		return;
	}
	EXPECT_EQ(ref_err, got_err) TH_LOG("%s%s: %s on the union, %s bare",
		what, userns ? " (user namespace)" : "",
		strerror(got_err), strerror(ref_err));
	rwl_pathf(ref, "%s/%s", self->ref, check);
	rwl_pathf(got, "%s/%s", self->mnt, check);
	expect_same_state(_metadata, what, ref, got);
	ASSERT_EQ(0, drop_caches());
	expect_same_state(_metadata, what, ref, got);
}

#define ADV_COMPARE(what, step, rel, rel2, check)			     \
	do {								     \
		adv_compare(_metadata, self, variant, what, step, rel, rel2, check,   \
			    false);					     \
		adv_compare(_metadata, self, variant, what, step, rel, rel2, check,   \
			    true);					     \
	} while (0)

/* A POSIX ACL in its xattr form: USER_OBJ rw, USER @uid rw, GROUP_OBJ r,
 * (MASK rw unless @no_mask), OTHER r.  Returns its size. */
static size_t acl_value(unsigned char *buf, uint32_t uid, bool no_mask)
{
	static const struct { uint16_t tag, perm; } e[] = {
		{ 0x01, 6 }, { 0x02, 6 }, { 0x04, 4 }, { 0x10, 6 }, { 0x20, 4 },
	};
	size_t i, n = 4;
	uint32_t id;

	memcpy(buf, &(uint32_t){ 2 }, 4);
	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		if (no_mask && e[i].tag == 0x10)
			continue;
		memcpy(buf + n, &e[i].tag, 2);
		memcpy(buf + n + 2, &e[i].perm, 2);
		id = e[i].tag == 0x02 ? uid : 0xffffffff;
		memcpy(buf + n + 4, &id, 4);
		n += 8;
	}
	return n;
}

/* Issue 11 item 1: on 6.1 this set the ACL on root's file. */
TEST_F(adv, acl_on_others_file)
{
	unsigned char acl[64];
	struct adv_step set = { .fn = step_setxattr, .name = ACL_ACCESS,
				.value = acl };
	struct adv_step def = set, rm = { .fn = step_removexattr,
					  .name = ACL_ACCESS };
	struct adv_step wr = { .fn = step_open_write };

	set.size = acl_value(acl, RWL_NOBODY, false);
	def.name = ACL_DEFAULT;
	def.size = set.size;
	ADV_COMPARE("setfacl on root's file", set, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("write to root's file", wr, "root_file", NULL, "root_file");
	ADV_COMPARE("setfacl -d on root's dir", def, "sticky", NULL, "sticky");
	ADV_COMPARE("setfacl -x on root's file", rm, "root_file", NULL,
		    "root_file");
}

TEST_F(adv, acl_rules_for_owner)
{
	unsigned char acl[64];
	struct adv_step set = { .fn = step_setxattr, .name = ACL_ACCESS,
				.value = acl };
	struct adv_step bad = set, def = set;

	set.size = acl_value(acl, RWL_NOBODY, false);
	def.name = ACL_DEFAULT;
	def.size = set.size;
	ADV_COMPARE("default ACL on a file", def, "nobody_file", NULL,
		    "nobody_file");
	ADV_COMPARE("default ACL on a directory", def, "sgid_dir", NULL,
		    "sgid_dir");
	bad.size = acl_value(acl, RWL_NOBODY, true);
	ADV_COMPARE("ACL with a named user but no mask", bad, "nobody_file",
		    NULL, "nobody_file");
	set.size = acl_value(acl, RWL_NOBODY, false);
	ADV_COMPARE("owner's ACL", set, "nobody_file", NULL, "nobody_file");
	/* The owner is outside group 0: the set-group-ID bit must go. */
	ADV_COMPARE("owner's ACL on a set-group-ID file", set, "sgid_nobody",
		    NULL, "sgid_nobody");
}

TEST_F(adv, attributes_of_others)
{
	struct adv_step chm = { .fn = step_chmod }, cho = { .fn = step_chown };
	struct adv_step ut = { .fn = step_utimes };
	struct adv_step utn = { .fn = step_utimes_now };
	struct adv_step tr = { .fn = step_truncate };
	struct adv_step tx = { .fn = step_setxattr, .name = "trusted.x",
			       .value = "1", .size = 1 };
	struct adv_step ux = tx, sx = tx;

	ux.name = "user.x";
	sx.name = "security.capability";
	ADV_COMPARE("chmod of root's file", chm, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("chown of root's file", cho, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("utimes of root's file", ut, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("touch of root's file", utn, "root_private", NULL,
		    "root_private");
	ADV_COMPARE("truncate of root's file", tr, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("trusted.* on root's file", tx, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("user.* on root's file", ux, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("security.capability on own file", sx, "nobody_file",
		    NULL, "nobody_file");
	ADV_COMPARE("open root's private file for write",
		    ((struct adv_step){ .fn = step_open_write }),
		    "root_private", NULL, "root_private");
}

/* 0 if listxattr shows no trusted.* name, EEXIST if it shows one. */
static int step_list_trusted(const struct adv_step *s)
{
	char list[4096];
	ssize_t len = llistxattr(s->path, list, sizeof(list));
	ssize_t i;

	if (len < 0)
		return errno;
	for (i = 0; i < len; i += strlen(list + i) + 1)
		if (!strncmp(list + i, "trusted.", 8))
			return EEXIST;
	return 0;
}

/*
 * The union lists with the mounter's credentials, which see trusted.*
 * names; a caller without CAP_SYS_ADMIN must not, as on the bare
 * filesystem.  A lower file's name and one set through the union (so in
 * the upper copy).
 */
TEST_F(adv, trusted_names_hidden_from_users)
{
	struct adv_step ls = { .fn = step_list_trusted };
	char list[4096];
	ssize_t len;

	ASSERT_EQ(0, setxattr(rwl_at(self->ref, "root_file"), "trusted.x", "1", 1, 0));
	ASSERT_EQ(0, setxattr(rwl_at(self->lower, "root_file"), "trusted.x", "1", 1, 0));
	ASSERT_EQ(0, setxattr(rwl_at(self->ref, "nobody_file"), "trusted.y", "1", 1, 0));
	ASSERT_EQ(0, setxattr(rwl_at(self->mnt, "nobody_file"), "trusted.y", "1", 1, 0));
	ASSERT_EQ(0, drop_caches());
	ADV_COMPARE("trusted.* names of a lower file", ls, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("trusted.* names of a copied-up file", ls, "nobody_file",
		    NULL, "nobody_file");
	/* Root still sees them. */
	len = llistxattr(rwl_at(self->mnt, "root_file"), list, sizeof(list));
	ASSERT_LT(0, len);
	EXPECT_NE(NULL, memmem(list, len, "trusted.x", 10));
	len = llistxattr(rwl_at(self->mnt, "nobody_file"), list, sizeof(list));
	ASSERT_LT(0, len);
	EXPECT_NE(NULL, memmem(list, len, "trusted.y", 10));
}

TEST_F(adv, names_of_others)
{
	struct adv_step ul = { .fn = step_unlink }, rn = { .fn = step_rename };
	struct adv_step ln = { .fn = step_link }, mk = { .fn = step_mknod };

	ADV_COMPARE("unlink in a sticky dir", ul, "sticky/root_file", NULL,
		    "sticky/root_file");
	ADV_COMPARE("rename out of a sticky dir", rn, "sticky/root_file",
		    "sticky/mine", "sticky/root_file");
	ADV_COMPARE("unlink in root's dir", ul, "root_file", NULL,
		    "root_file");
	ADV_COMPARE("link to root's private file", ln, "root_private",
		    "sticky/link", "sticky/link");
	ADV_COMPARE("mknod of a device", mk, "sticky/null", NULL,
		    "sticky/null");
}

/* ---- set-id bits ------------------------------------------------------- */

static int setid_write(const struct adv_step *s)
{
	const char *way = strrchr(s->path, '/') + 1;
	int fd, flags = O_WRONLY | O_CLOEXEC, src, ret = 0;
	char from[RWL_PATH];
	off_t off = 0;

	if (!strcmp(way, "truncate"))
		return rwl_result(truncate(s->path, 3));
	if (!strcmp(way, "append"))
		flags |= O_APPEND;
	fd = open(s->path, flags);
	if (fd < 0)
		return errno;
	if (!strcmp(way, "write") || !strcmp(way, "append"))
		ret = write(fd, "ab", 2) == 2 ? 0 : errno;
	else if (!strcmp(way, "pwrite"))
		ret = pwrite(fd, "ab", 2, 1) == 2 ? 0 : errno;
	else if (!strcmp(way, "ftruncate"))
		ret = rwl_result(ftruncate(fd, 3));
	else if (!strcmp(way, "fallocate"))
		ret = rwl_result(fallocate(fd, 0, 0, 8192));
	else {
		/* From a file of the same filesystem, which nobody may read. */
		snprintf(from, sizeof(from), "%s", s->path);
		strcpy(strstr(from, "/setid/"), "/root_file");
		src = open(from, O_RDONLY | O_CLOEXEC);
		if (src < 0) {
			close(fd);
			return errno;
		}
		if (!strcmp(way, "copy_file_range"))
			ret = copy_file_range(src, &off, fd, NULL, 4, 0) == 4 ?
			      0 : errno;
		else
			ret = sendfile(fd, src, &off, 4) == 4 ? 0 : errno;
		close(src);
	}
	close(fd);
	return ret;
}

/* Issue 11 item 2: a write by someone else keeps no set-id bit. */
TEST_F(adv, setid_cleared_by_writes)
{
	struct adv_step w = { .fn = setid_write };
	char rel[64];
	size_t i;

	for (i = 0; i < sizeof(setid_ways) / sizeof(setid_ways[0]); i++) {
		snprintf(rel, sizeof(rel), "setid/%s", setid_ways[i]);
		adv_compare(_metadata, self, variant, setid_ways[i], w, rel, NULL, rel,
			    false);
	}
}

TEST_F(adv, setid_fallocate_keep_size)
{
	struct adv_step f = { .fn = step_fallocate };

	adv_compare(_metadata, self, variant, "fallocate", f, "setid/fallocate", NULL,
		    "setid/fallocate", true);
}

/* ---- what a new object inherits from its parent ------------------------ */

/*
 * A default ACL with a named user, so that new objects get an access ACL
 * too: u::rwx u:1000:rwx g::r-x m::rwx o::--- (the xattr format).
 */
static int set_default_acl(const char *dir)
{
	struct {
		uint32_t version;
		struct { uint16_t tag, perm; uint32_t id; } e[5];
	} __attribute__((packed)) acl = { 2, {
		{ 0x01, 7, ~0u }, { 0x02, 7, 1000 }, { 0x04, 5, ~0u },
		{ 0x10, 7, ~0u }, { 0x20, 0, ~0u },
	} };

	return setxattr(dir, ACL_DEFAULT, &acl, sizeof(acl), 0) ? -errno : 0;
}

/* Made by the user: in place, and where a lower name was deleted. */
static int step_inherit(const struct adv_step *s)
{
	const char *d = s->path;
	int fd;

	umask(022);
	fd = open(rwl_at(d, "new"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return errno;
	close(fd);
	if (unlink(rwl_at(d, "f")) || rmdir(rwl_at(d, "sub")))
		return errno;
	fd = open(rwl_at(d, "f"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return errno;
	close(fd);
	return mkdir(rwl_at(d, "sub"), 0755) || mkdir(rwl_at(d, "newdir"), 0755) ?
	       errno : 0;
}

/* Mode, group and ACLs of @name, as one comparable line. */
static const char *inherited(const char *dir, const char *name, char *buf,
			     size_t size)
{
	char acl[256], def[256];
	struct stat st;
	ssize_t a, d;

	if (lstat(rwl_at(dir, name), &st))
		return strerror(errno);
	a = getxattr(rwl_at(dir, name), ACL_ACCESS, acl, sizeof(acl));
	d = getxattr(rwl_at(dir, name), ACL_DEFAULT, def, sizeof(def));
	snprintf(buf, size, "%s: mode %o gid %u access ACL %zd (%08x) default ACL %zd",
		 name, st.st_mode, st.st_gid, a,
		 a > 12 ? *(uint32_t *)(acl + 12) : 0, d);
	return buf;
}

/*
 * A user creates files and directories in a set-group-ID directory with
 * a default ACL, once where the name is new and once where a deleted
 * lower name left a whiteout (the object is then made in the work
 * directory).  Each gets the bare filesystem's mode, group and ACLs.
 */
static void expect_inherited(struct __test_metadata *_metadata,
			     FIXTURE_DATA(adv) *self)
{
	static const char *const names[] = { "new", "f", "sub", "newdir" };
	struct adv_step step = { .fn = step_inherit };
	char want[256], got[256];
	const char *dirs[] = { self->ref, self->lower };
	size_t i;
	int err;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, rwl_mk(dirs[i], "inh", 'd', NULL));
		ASSERT_EQ(0, rwl_mk(dirs[i], "inh/f", 'f', "f"));
		ASSERT_EQ(0, rwl_mk(dirs[i], "inh/sub", 'd', NULL));
	}
	dirs[1] = self->mnt;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, chown(rwl_at(dirs[i], "inh"), 0, 1234));
		ASSERT_EQ(0, chmod(rwl_at(dirs[i], "inh"), 02777));
		ASSERT_EQ(0, chmod(rwl_at(dirs[i], "inh/sub"), 0777));
		err = set_default_acl(rwl_at(dirs[i], "inh"));
		if (err == -EOPNOTSUPP)
			SKIP(return, "no POSIX ACLs here");
		ASSERT_EQ(0, err);
		step.path = rwl_at(dirs[i], "inh");
		ASSERT_EQ(0, adv_as_user(&step, false)) TH_LOG("on %s", dirs[i]);
	}
	ASSERT_EQ(0, drop_caches());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		inherited(rwl_at(self->ref, "inh"), names[i], want, sizeof(want));
		inherited(rwl_at(self->mnt, "inh"), names[i], got, sizeof(got));
		EXPECT_STREQ(want, got);
	}
}

TEST_F(adv, create_inherits_from_parent)
{
	expect_inherited(_metadata, self);
}

/*
 * The same with a work directory that has a group, set-group-ID and a
 * default ACL of its own: none of it may reach what is made there.
 */
TEST_F(adv, create_inherits_nothing_from_work_dir)
{
	ASSERT_EQ(0, rwl_umount(&self->env, self->mnt));
	ASSERT_EQ(0, chown(self->work, 0, 4321));
	ASSERT_EQ(0, chmod(self->work, 02777));
	ASSERT_EQ(0, set_default_acl(self->work));
	ASSERT_EQ(0, adv_mount_union(&self->env, variant->fs, self->lower,
				     self->upper, self->work, self->mnt));
	expect_inherited(_metadata, self);
}

/* ---- hard links and the inode cache ------------------------------------ */

static void write_at(struct __test_metadata *_metadata, const char *path,
		     const char *text)
{
	ASSERT_EQ(0, rwl_write_text(path, text)) TH_LOG("write %s", path);
}

static void expect_text(struct __test_metadata *_metadata, const char *path,
			const char *text)
{
	char buf[64] = "";

	EXPECT_EQ((ssize_t)strlen(text), rwl_read_text(path, buf, sizeof(buf)))
		TH_LOG("read %s", path);
	EXPECT_STREQ(text, buf) TH_LOG("content of %s", path);
}

/*
 * Issue 11 item 3: two names of one lower hard link are copied up one by
 * one (a copy-up breaks the link, as on overlayfs without index): after
 * the caches are dropped each name shows its own data, and a write
 * through one never lands in the other's upper file.
 */
TEST_F(adv, hardlink_names_keep_their_data)
{
	const char *a = rwl_at(self->mnt, "link_a");
	const char *b = rwl_at(self->mnt, "link_b");
	int round;

	write_at(_metadata, a, "written through a\n");
	write_at(_metadata, b, "written through b\n");
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, drop_caches());
		expect_text(_metadata, b, round ? "b again\n" :
			    "written through b\n");
		expect_text(_metadata, a, "written through a\n");
		write_at(_metadata, b, "b again\n");
	}
	ASSERT_EQ(0, drop_caches());
	expect_text(_metadata, a, "written through a\n");
	expect_text(_metadata, b, "b again\n");
	expect_text(_metadata, rwl_at(self->lower, "link_a"), "link_a");
}

/* The same with both names cached when the second copy-up happens. */
TEST_F(adv, hardlink_names_cached_together)
{
	const char *a = rwl_at(self->mnt, "link_a");
	const char *b = rwl_at(self->mnt, "link_b");
	struct stat sa, sb;

	ASSERT_EQ(0, stat(a, &sa));
	ASSERT_EQ(0, stat(b, &sb));
	write_at(_metadata, a, "A\n");
	ASSERT_EQ(0, drop_caches());
	ASSERT_EQ(0, stat(a, &sa));
	ASSERT_EQ(0, stat(b, &sb));
	write_at(_metadata, b, "B\n");
	expect_text(_metadata, a, "A\n");
	expect_text(_metadata, b, "B\n");
	ASSERT_EQ(0, drop_caches());
	expect_text(_metadata, a, "A\n");
	expect_text(_metadata, b, "B\n");
}

/* (st_dev, st_ino) of @path, or (0, 0). */
static struct stat adv_identity(const char *path)
{
	struct stat st = { 0 };

	if (stat(path, &st))
		memset(&st, 0, sizeof(st));
	return st;
}

/*
 * The names of a lower hard link, once each is written, are files of
 * their own: their identities differ (tar and rsync -H would otherwise
 * take them for one file and keep one content), before and after the
 * caches are dropped.
 */
TEST_F(adv, hardlink_copies_have_own_identity)
{
	const char *a = rwl_at(self->mnt, "link_a");
	const char *b = rwl_at(self->mnt, "link_b");
	struct stat sa, sb, again;

	write_at(_metadata, a, "A\n");
	write_at(_metadata, b, "B\n");
	sa = adv_identity(a);
	sb = adv_identity(b);
	ASSERT_NE(0, sa.st_ino);
	ASSERT_NE(0, sb.st_ino);
	EXPECT_FALSE(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
	EXPECT_EQ(1, sa.st_nlink);
	EXPECT_EQ(1, sb.st_nlink);
	ASSERT_EQ(0, drop_caches());
	again = adv_identity(a);
	EXPECT_EQ(sa.st_dev, again.st_dev);
	EXPECT_EQ(sa.st_ino, again.st_ino);
	again = adv_identity(b);
	EXPECT_EQ(sb.st_dev, again.st_dev);
	EXPECT_EQ(sb.st_ino, again.st_ino);
}

/*
 * The server links a file the union has cached as a single name: a write
 * through the new name copies up that name alone, and neither the cached
 * name nor a later write through it reaches the new name's copy.
 */
TEST_F(adv, server_links_cached_file)
{
	const char *a = rwl_at(self->mnt, "root_file");
	const char *c = rwl_at(self->mnt, "root_file.ln");
	struct stat st;

	ASSERT_EQ(0, stat(a, &st));
	expect_text(_metadata, a, "root_file");
	ASSERT_EQ(0, link(rwl_at(self->lower, "root_file"),
			  rwl_at(self->lower, "root_file.ln")));
	write_at(_metadata, c, "written through the new name\n");
	expect_text(_metadata, a, "root_file");
	ASSERT_EQ(0, drop_caches());
	expect_text(_metadata, a, "root_file");
	write_at(_metadata, a, "written through the old name\n");
	expect_text(_metadata, c, "written through the new name\n");
	ASSERT_EQ(0, drop_caches());
	expect_text(_metadata, c, "written through the new name\n");
	expect_text(_metadata, a, "written through the old name\n");
	expect_text(_metadata, rwl_at(self->lower, "root_file"), "root_file");
}

/* ---- the image server changes a file in place -------------------------- */

static int step_open_read(const struct adv_step *s)
{
	return rwl_try_open(s->path, O_RDONLY);
}

static int set_iflags(const char *path, int flags, bool add)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), cur, ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, FS_IOC_GETFLAGS, &cur);
	if (!ret) {
		cur = add ? cur | flags : cur & ~flags;
		ret = ioctl(fd, FS_IOC_SETFLAGS, &cur);
	}
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

static int get_iflags(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), cur = -1;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &cur))
		cur = -errno;
	close(fd);
	return cur;
}

/*
 * Issue 11 item 7: the server tightens a file the union has cached; the
 * next check goes by the new mode, with no stat() in between.
 */
TEST_F(adv, lower_tightened_in_place)
{
	struct adv_step rd = { .fn = step_open_read };
	int ref_err, got_err;

	rd.path = rwl_at(self->mnt, "root_file");
	ASSERT_EQ(0, adv_as_user(&rd, false));
	ASSERT_EQ(0, chmod(rwl_at(self->lower, "root_file"), 0600));
	ASSERT_EQ(0, chmod(rwl_at(self->ref, "root_file"), 0600));
	got_err = adv_as_user(&rd, false);
	rd.path = rwl_at(self->ref, "root_file");
	ref_err = adv_as_user(&rd, false);
	ASSERT_EQ(EACCES, ref_err);
	if (adv_known(variant, "lower chmod") && got_err != ref_err)
		rwl_log("lower chmod: %s on the union (a known difference)",
			strerror(got_err));
	else
		EXPECT_EQ(ref_err, got_err) TH_LOG("read after the lower's chmod 600");
}

TEST_F(adv, lower_immutable_in_place)
{
	struct adv_step wr = { .fn = step_open_write };
	int ref_err, got_err, err;

	/* The owner may write it; then the server makes it immutable. */
	wr.path = rwl_at(self->mnt, "nobody_file");
	ASSERT_EQ(0, rwl_try_open(wr.path, O_RDONLY));
	err = set_iflags(rwl_at(self->lower, "nobody_file"), FS_IMMUTABLE_FL,
			 true);
	if (err == -ENOTTY || err == -EOPNOTSUPP)
		SKIP(return, "the lower has no inode flags");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, set_iflags(rwl_at(self->ref, "nobody_file"),
				FS_IMMUTABLE_FL, true));
	got_err = adv_as_user(&wr, false);
	wr.path = rwl_at(self->ref, "nobody_file");
	ref_err = adv_as_user(&wr, false);
	EXPECT_EQ(EPERM, ref_err);
	if (adv_known(variant, "lower chattr") && got_err != ref_err)
		rwl_log("lower chattr: %s on the union (a known difference)",
			strerror(got_err));
	else
		EXPECT_EQ(ref_err, got_err) TH_LOG("write after the lower's chattr +i");
	/* lsattr through the union shows it (overlayfs copied it up). */
	err = get_iflags(rwl_at(self->mnt, "nobody_file"));
	if (!adv_known(variant, "lower chattr"))
		EXPECT_TRUE(err >= 0 && (err & FS_IMMUTABLE_FL))
			TH_LOG("lsattr: %d", err);
	ASSERT_EQ(0, set_iflags(rwl_at(self->lower, "nobody_file"),
				FS_IMMUTABLE_FL, false));
	ASSERT_EQ(0, set_iflags(rwl_at(self->ref, "nobody_file"),
				FS_IMMUTABLE_FL, false));
}

static int step_set_nodump(const struct adv_step *s)
{
	return -set_iflags(s->path, FS_NODUMP_FL, true);
}

/*
 * chattr through the union: the owner's nodump lands on the upper copy,
 * another user's is refused.  Append-only and immutable are not set
 * through rwlayer (rwlayer.rst, "Security model": they would block the
 * union's own changes in the upper); overlayfs sets them on its copy.
 */
TEST_F(adv, chattr_through_union)
{
	struct adv_step nodump = { .fn = step_set_nodump };
	const char *f = rwl_at(self->mnt, "root_file");
	int err;

	err = set_iflags(f, FS_NODUMP_FL, true);
	if (err == -ENOTTY || err == -EOPNOTSUPP)
		SKIP(return, "no inode flags here");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, drop_caches());
	err = get_iflags(f);
	EXPECT_TRUE(err >= 0 && (err & FS_NODUMP_FL)) TH_LOG("lsattr: %d", err);
	/* The lower file is the server's: untouched. */
	EXPECT_EQ(0, get_iflags(rwl_at(self->lower, "root_file")) & FS_NODUMP_FL);

	nodump.path = rwl_at(self->mnt, "sticky/root_file");
	EXPECT_EQ(EPERM, adv_as_user(&nodump, false));
	EXPECT_EQ(EPERM, adv_as_user(&nodump, true));
	EXPECT_EQ(0, get_iflags(nodump.path) & FS_NODUMP_FL);
	nodump.path = rwl_at(self->mnt, "nobody_file");
	EXPECT_EQ(0, adv_as_user(&nodump, false));
	ASSERT_EQ(0, drop_caches());
	EXPECT_EQ(FS_NODUMP_FL, get_iflags(nodump.path) & FS_NODUMP_FL);

	err = set_iflags(f, FS_APPEND_FL, true);
	if (variant->fs == ADV_RWLAYER) {
		EXPECT_EQ(-EOPNOTSUPP, err);
		EXPECT_EQ(0, get_iflags(f) & FS_APPEND_FL);
		EXPECT_EQ(0, rwl_try_open(f, O_WRONLY | O_TRUNC));
		EXPECT_EQ(-EOPNOTSUPP, set_iflags(f, FS_IMMUTABLE_FL, true));
		return;
	}
	ASSERT_EQ(0, err);
	EXPECT_EQ(EPERM, rwl_try_open(f, O_WRONLY | O_TRUNC));
	ASSERT_EQ(0, set_iflags(f, FS_APPEND_FL, false));
}

/*
 * The server made a file append-only: the union cannot keep that flag on
 * a copy, so it makes none; bare, appending is allowed.  overlayfs copies
 * the flag up.
 */
TEST_F(adv, lower_append_only_not_copied)
{
	const char *f = rwl_at(self->mnt, "nobody_file");
	int err;

	err = set_iflags(rwl_at(self->lower, "nobody_file"), FS_APPEND_FL, true);
	if (err == -ENOTTY || err == -EOPNOTSUPP)
		SKIP(return, "the lower has no inode flags");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, drop_caches());
	EXPECT_EQ(EPERM, rwl_try_open(f, O_WRONLY | O_TRUNC));
	err = rwl_try_open(f, O_WRONLY | O_APPEND);
	if (variant->fs == ADV_RWLAYER) {
		EXPECT_EQ(EPERM, err);
		EXPECT_EQ(ENOENT, rwl_try_open(rwl_at(self->upper, "nobody_file"),
					       O_RDONLY));
		EXPECT_EQ(EPERM, chmod(f, 0600) ? errno : 0);
	} else {
		EXPECT_EQ(0, err);
	}
	expect_text(_metadata, f, "nobody_file");
	ASSERT_EQ(0, set_iflags(rwl_at(self->lower, "nobody_file"),
				FS_APPEND_FL, false));
}

TEST_HARNESS_MAIN
