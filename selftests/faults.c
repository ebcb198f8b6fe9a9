// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures in the middle of union operations, for the debug
 * kernel (scripts/debug-kernel.sh: CONFIG_FAULT_INJECTION, FAILSLAB,
 * FAIL_PAGE_ALLOC, FAULT_INJECTION_DEBUG_FS).  Each variant runs one
 * operation with /proc/thread-self/fail-nth set to N, which makes the Nth
 * slab or page allocation of this thread fail, for N = 1, 2, ... until
 * the operation gets through without reaching its Nth allocation
 * (Documentation/fault-injection/fault-injection.rst, "fail-nth").
 * Every attempt starts from the same state: a fresh upper and work
 * directory and a fresh mount (so cold caches), and after every attempt
 * the union must show the operation done completely or not at all:
 *
 *   - the lower tree is exactly as it was, the work directory is empty,
 *     and readdir lists a name exactly when stat finds it;
 *   - the operation's own outcome (below, per variant): a file's data and
 *     attributes intact, no half-copied file in the upper, a deleted name
 *     either gone or intact, never the lower content of a name the upper
 *     replaced;
 *   - the same operation, tried again without a forced failure, succeeds
 *     (a failure leaves nothing behind that blocks it);
 *   - the union unmounts (a leaked reference would make it busy).
 *
 * A crash, a KASAN or lockdep report is caught by the guest's kernel log
 * scan (scripts/vm/scan-console.sh ignores the forced failures' own stack
 * dumps).  On a kernel without fail-nth (Debian's) every test SKIPs.
 */
#include <sys/xattr.h>

#include "rwl_genl.h"
#include "rwl_tree.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"
/* More allocations than any one of these operations makes. */
#define MAX_NTH		3000
#define FAULTS_TIMEOUT	600

#define RULES		"rule=/w:union"
#define FILE_PATH	"w/d1/d2/file"
#define OTHER_PATH	"w/d1/d2/other"
#define RENAMED_PATH	"w/d1/d2/renamed"
#define NEW_PATH	"w/d1/new"
#define NR_DIR		"nr"		/* no rule until netlink adds one */
#define DATA_SIZE	(64 * KiB)
#define DATA_SEED	11
#define FILE_MODE	0640
#define FILE_UID	1234
#define FILE_GID	5678
#define XATTR_NAME	"trusted.rwlfault"
#define XATTR_VALUE	"lowerval"
#define CHANGED		"changed in the upper"
#define MAX_OBJS	16

/*
 * The debugfs settings under which fail-nth counts every allocation: by
 * default failslab and fail_page_alloc skip allocations that may sleep,
 * page allocations for user pages and the page cache, and order 0.  The
 * probability stays 0, so nothing but fail-nth fails.  Every forced
 * failure's stack dump and every attempt's mark (mark_attempt) reach the
 * kernel log: by default both are rate limited to 10 in 5 s, which drops
 * most of them, the one of a failing attempt included.  Teardown puts the
 * old values back.
 */
static const struct {
	const char *path;
	const char *value;
} knobs[] = {
	{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DEBUGFS "/fail_page_alloc/min-order", "0" },
	{ DEBUGFS "/failslab/verbose_ratelimit_interval_ms", "0" },
	{ DEBUGFS "/fail_page_alloc/verbose_ratelimit_interval_ms", "0" },
	{ "/proc/sys/kernel/printk_devkmsg", "on" },
};

#define NUM_KNOBS	(sizeof(knobs) / sizeof(knobs[0]))

FIXTURE(faults) {
	struct rwl_env env;
	struct rwl_rw rw;
	struct rwl_nl nl;
	uint32_t mount_id;
	int nthfd;
	int kmsgfd;		/* /dev/kmsg, to mark each attempt in the log */
	char *lower_before;
	char old_knobs[NUM_KNOBS][32];
	char why[512];		/* the last inconsistency found */
};

FIXTURE_VARIANT(faults) {
	const char *name;
	/* Before each attempt, without fault injection; 0 or -errno. */
	int (*prepare)(FIXTURE_DATA(faults) *self);
	/* The operation under fault injection: 0 or an errno. */
	int (*op)(FIXTURE_DATA(faults) *self);
	/*
	 * After each attempt that returned @err: false, with self->why
	 * saying what is wrong, if the union is inconsistent.
	 */
	bool (*check)(FIXTURE_DATA(faults) *self, int err);
	bool netlink;
};

/* ---- helpers ---------------------------------------------------------- */

static bool fail(FIXTURE_DATA(faults) *self, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(self->why, sizeof(self->why), fmt, ap);
	va_end(ap);
	return false;
}

static const char *at(FIXTURE_DATA(faults) *self, const char *rel)
{
	return pf("%s/%s", self->rw.mnt, rel);
}

static int read_knob(const char *path, char *buf, size_t size)
{
	ssize_t n = rwl_read_text(path, buf, size);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* With the newline: printk_devkmsg takes a value only with one. */
static int write_knob(const char *path, const char *value)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%s\n", value);
	return rwl_write_text(path, buf);
}

static int drop_caches(void)
{
	sync();
	return rwl_write_text("/proc/sys/vm/drop_caches", "2");
}

/*
 * Say in the kernel log which attempt follows, so that the stack dump of
 * the allocation fault injection fails, and any report after it, can be
 * told apart.
 */
static void mark_attempt(FIXTURE_DATA(faults) *self, const char *name,
			 unsigned int nth)
{
	char msg[128];
	int len;

	if (self->kmsgfd < 0)
		return;
	len = snprintf(msg, sizeof(msg), "rwlayer faults: %s: allocation %u fails",
		       name, nth);
	if (write(self->kmsgfd, msg, len) != len)
		rwl_log("/dev/kmsg: %s", strerror(errno));
}

/*
 * Run @op with the @nth allocation from now on in this thread failing.
 * *hit tells whether that allocation was reached (fail-nth reads 0 then);
 * if not, the operation got through and the counter is disarmed here.
 */
static int fault_call(FIXTURE_DATA(faults) *self, unsigned int nth,
		      int (*op)(FIXTURE_DATA(faults) *), bool *hit)
{
	char buf[32];
	ssize_t n;
	int len, ret;

	len = snprintf(buf, sizeof(buf), "%u", nth);
	if (pwrite(self->nthfd, buf, len, 0) != len) {
		*hit = false;
		return errno;
	}
	ret = op(self);
	n = pread(self->nthfd, buf, sizeof(buf) - 1, 0);
	if (pwrite(self->nthfd, "0", 1, 0) != 1 || n <= 0)
		abort();	/* a thread left armed would fail anything */
	buf[n] = '\0';
	*hit = atoi(buf) == 0;
	return ret;
}

/* The lower file's data, attributes and xattr, seen at @path. */
static bool file_intact(FIXTURE_DATA(faults) *self, const char *path)
{
	static char data[DATA_SIZE + 1];
	char xval[64];
	struct stat st;
	ssize_t n, bad;
	int fd;

	if (lstat(path, &st))
		return fail(self, "stat %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != FILE_MODE ||
	    st.st_uid != FILE_UID || st.st_gid != FILE_GID ||
	    st.st_size != DATA_SIZE)
		return fail(self, "%s: mode %o owner %u:%u size %lld, not the lower's",
			    path, st.st_mode, st.st_uid, st.st_gid,
			    (long long)st.st_size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(self, "open %s: %s", path, strerror(errno));
	n = read(fd, data, sizeof(data));
	close(fd);
	if (n != DATA_SIZE)
		return fail(self, "read %s: %zd bytes (%s)", path, n,
			    n < 0 ? strerror(errno) : "short");
	bad = rwl_pattern_check(data, DATA_SIZE, 0, DATA_SEED);
	if (bad >= 0)
		return fail(self, "%s: data differs from the lower's at byte %zd",
			    path, bad);
	n = lgetxattr(path, XATTR_NAME, xval, sizeof(xval) - 1);
	if (n < 0)
		return fail(self, "%s: xattr %s: %s", path, XATTR_NAME,
			    strerror(errno));
	xval[n] = '\0';
	if (strcmp(xval, XATTR_VALUE))
		return fail(self, "%s: xattr %s is \"%s\"", path, XATTR_NAME, xval);
	return true;
}

/* @path holds exactly @text. */
static bool file_is(FIXTURE_DATA(faults) *self, const char *path,
		    const char *text)
{
	char buf[256];
	ssize_t n = rwl_read_text(path, buf, sizeof(buf));

	if (n < 0)
		return fail(self, "read %s: %s", path, strerror(-n));
	if (strcmp(buf, text))
		return fail(self, "%s holds \"%.40s\", not \"%s\"", path, buf, text);
	return true;
}

static bool absent(FIXTURE_DATA(faults) *self, const char *path)
{
	int err = lstat_errno(path);

	if (err != ENOENT)
		return fail(self, "%s: %s, expected it gone", path,
			    err ? strerror(err) : "exists");
	return true;
}

/* In union directory @dir, readdir lists a name exactly when stat finds it. */
static bool listing_agrees(FIXTURE_DATA(faults) *self, const char *dir,
			   const char *const *names)
{
	struct rwl_dents d = { 0 };
	bool listed, found, ok = true;
	int err;

	err = rwl_list_dir(at(self, dir), 4096, &d);
	if (err < 0) {
		rwl_dents_free(&d);
		return fail(self, "readdir %s: %s", dir, strerror(-err));
	}
	for (; *names && ok; names++) {
		listed = rwl_dents_count(&d, *names) > 0;
		found = lstat_errno(at(self, pf("%s/%s", dir, *names))) == 0;
		if (listed != found)
			ok = fail(self, "%s/%s: readdir %s it, stat %s it", dir,
				  *names, listed ? "lists" : "does not list",
				  found ? "finds" : "does not find");
	}
	rwl_dents_free(&d);
	return ok;
}

/* What every attempt must leave, whatever the operation. */
static bool union_consistent(FIXTURE_DATA(faults) *self)
{
	static const char *const in_d2[] = { "file", "other", "renamed", NULL };
	static const char *const in_d1[] = { "d2", "new", NULL };
	char *now;
	bool same;
	int left;

	now = snapshot(self->rw.lower);
	same = now && !strcmp(now, self->lower_before);
	free(now);
	if (!same)
		return fail(self, "the lower tree changed");
	left = work_leftovers(self->rw.work);
	if (left)
		return fail(self, "%d files left in the work directory", left);
	return listing_agrees(self, "w/d1/d2", in_d2) &&
	       listing_agrees(self, "w/d1", in_d1) &&
	       file_is(self, at(self, OTHER_PATH), "other");
}

/* The upper's copy of the file, if there is one, is complete. */
static bool upper_copy_complete(FIXTURE_DATA(faults) *self, const char *rel)
{
	const char *path = pf("%s/%s", self->rw.upper, rel);

	if (lstat_errno(path) == ENOENT)
		return true;
	return file_intact(self, path);
}

/* ---- netlink ------------------------------------------------------------ */

static void rule_msg(FIXTURE_DATA(faults) *self, struct rwl_msg *m,
		     uint8_t cmd, const char *path)
{
	rwl_msg_init(m, self->nl.family, 0, cmd, RWLAYER_GENL_VERSION);
	rwl_msg_put_u32(m, RWLAYER_A_MOUNT_ID, self->mount_id);
	rwl_msg_put_str(m, RWLAYER_A_RULE_PATH, path);
}

/* GET_RULE for @path: 0 with its kind in *kind, or -errno. */
static int get_rule(FIXTURE_DATA(faults) *self, const char *path,
		    uint8_t *kind)
{
	struct rwl_obj obj;
	struct rwl_msg m;
	int n;

	rule_msg(self, &m, RWLAYER_CMD_GET_RULE, path);
	memset(&obj, 0, sizeof(obj));
	n = rwl_nl_talk(&self->nl, &m, &obj, 1);
	if (n < 0)
		return n;
	if (n != 1)
		return -EBADMSG;
	*kind = obj.kind;
	return 0;
}

/* A new socket (a failed request may leave answers behind in the old). */
static int nl_reopen(FIXTURE_DATA(faults) *self)
{
	rwl_nl_close(&self->nl);
	return rwl_nl_open(&self->nl);
}

/* The id of the union on rw.mnt: the mount whose device is its st_dev. */
static int find_mount_id(FIXTURE_DATA(faults) *self)
{
	struct rwl_obj objs[MAX_OBJS];
	struct rwl_msg m;
	struct stat st;
	int n, i;

	if (stat(self->rw.mnt, &st))
		return -errno;
	rwl_msg_init(&m, self->nl.family, NLM_F_DUMP, RWLAYER_CMD_GET_MOUNT,
		     RWLAYER_GENL_VERSION);
	memset(objs, 0, sizeof(objs));
	n = rwl_nl_talk(&self->nl, &m, objs, MAX_OBJS);
	for (i = 0; i < n && i < MAX_OBJS; i++) {
		if (makedev(objs[i].dev_major, objs[i].dev_minor) == st.st_dev) {
			self->mount_id = objs[i].mount_id;
			return 0;
		}
	}
	return n < 0 ? n : -ENOENT;
}

/* ---- the attempts ------------------------------------------------------- */

/*
 * A fresh tmpfs for upper and work and a fresh mount over the same lower.
 * An attempt that leaked a reference leaves the old union busy.
 */
static int fresh_union(FIXTURE_DATA(faults) *self, bool netlink)
{
	int err = 0;

	if (rwl_is_mountpoint(self->rw.mnt)) {
		err = rwl_umount(&self->env, self->rw.mnt);
		if (err) {
			rwl_log("umount %s: %s", self->rw.mnt, strerror(-err));
			return err;
		}
	}
	err = rwl_umount(&self->env, self->rw.rw) ?:
	      rwl_mount_tmpfs(&self->env, self->rw.rw, "mode=0755,size=16m") ?:
	      rwl_mkdir(self->rw.upper, 0755) ?:
	      rwl_mkdir(self->rw.work, 0755) ?:
	      rwl_rw_mount(&self->env, &self->rw, RULES);
	if (err || !netlink)
		return err;
	err = nl_reopen(self) ?: find_mount_id(self);
	if (err)
		rwl_log("netlink: %s", strerror(-err));
	return err;
}

/* ---- the operations ----------------------------------------------------- */

/* Copy-up: open for write of a lower file two directories deep in a rule. */
static int op_open_wronly(FIXTURE_DATA(faults) *self)
{
	int fd = open(at(self, FILE_PATH), O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static bool check_copy_up(FIXTURE_DATA(faults) *self, int err)
{
	(void)err;
	if (!file_intact(self, at(self, FILE_PATH)) ||
	    !upper_copy_complete(self, FILE_PATH))
		return false;
	/* Again, without a failure: it copies up (or finds it copied). */
	if (op_open_wronly(self))
		return fail(self, "open O_WRONLY again: %s", strerror(errno));
	if (lstat_errno(pf("%s/%s", self->rw.upper, FILE_PATH)))
		return fail(self, "no upper copy after a successful open for write");
	return file_intact(self, at(self, FILE_PATH)) &&
	       upper_copy_complete(self, FILE_PATH);
}

/* Lookup: stat of a name the union has not seen, after drop_caches. */
static int prep_drop_caches(FIXTURE_DATA(faults) *self)
{
	(void)self;
	return drop_caches();
}

static int op_stat(FIXTURE_DATA(faults) *self)
{
	struct stat st;

	return stat(at(self, FILE_PATH), &st) ? errno : 0;
}

static bool check_lookup(FIXTURE_DATA(faults) *self, int err)
{
	(void)err;
	/* A failed lookup must not leave a negative or broken dentry. */
	return file_intact(self, at(self, FILE_PATH)) &&
	       upper_copy_complete(self, FILE_PATH);
}

/* Create: a new file in a lower-only directory (the parents copy up). */
static int op_create(FIXTURE_DATA(faults) *self)
{
	int fd = open(at(self, NEW_PATH), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		      0600);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * @rel is absent, through the union and in the upper (where a whiteout
 * may stand for a deleted lower file), or an empty regular file of mode
 * 0600: what a create that failed or succeeded may leave.
 */
static bool new_file_or_nothing(FIXTURE_DATA(faults) *self, const char *rel,
				int err)
{
	const char *path = at(self, rel);
	const char *upper = pf("%s/%s", self->rw.upper, rel);
	struct stat st;

	if (lstat(path, &st)) {
		if (errno != ENOENT)
			return fail(self, "stat %s: %s", path, strerror(errno));
		if (!err)
			return fail(self, "%s missing after a successful create", path);
		if (lstat(upper, &st) == 0 && !is_whiteout(upper))
			return fail(self, "%s is absent through the union, but the upper has it (mode %o, size %lld): left behind by the failed create",
				    rel, st.st_mode, (long long)st.st_size);
		return true;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 || st.st_size)
		return fail(self, "%s: mode %o size %lld, not the new empty file",
			    path, st.st_mode, (long long)st.st_size);
	return true;
}

/* Write @text to @path (created if need be) and read it back. */
static bool writes_back(FIXTURE_DATA(faults) *self, const char *path,
			const char *text)
{
	int err = rwl_write_text(path, text);

	if (err)
		return fail(self, "write %s: %s", path, strerror(-err));
	return file_is(self, path, text);
}

static bool check_create(FIXTURE_DATA(faults) *self, int err)
{
	return new_file_or_nothing(self, NEW_PATH, err) &&
	       writes_back(self, at(self, NEW_PATH), "x");
}

/* Create over a whiteout: the deleted lower file must not come back. */
static int prep_whiteout(FIXTURE_DATA(faults) *self)
{
	return unlink(at(self, FILE_PATH)) ? -errno : 0;
}

static int op_create_over_whiteout(FIXTURE_DATA(faults) *self)
{
	int fd = open(at(self, FILE_PATH), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		      0600);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static bool check_create_over_whiteout(FIXTURE_DATA(faults) *self, int err)
{
	return new_file_or_nothing(self, FILE_PATH, err) &&
	       writes_back(self, at(self, FILE_PATH), "x");
}

/* Unlink of a lower file: a whiteout. */
static int op_unlink(FIXTURE_DATA(faults) *self)
{
	return unlink(at(self, FILE_PATH)) ? errno : 0;
}

static bool check_unlink(FIXTURE_DATA(faults) *self, int err)
{
	const char *path = at(self, FILE_PATH);

	if (!err)
		return absent(self, path);
	if (lstat_errno(path) == ENOENT)
		return true;	/* done, though it said otherwise */
	if (!file_intact(self, path))
		return false;
	if (unlink(path))
		return fail(self, "unlink again: %s", strerror(errno));
	return absent(self, path);
}

/* Unlink of a copied-up file: the upper file goes, a whiteout comes. */
static int prep_copied_up(FIXTURE_DATA(faults) *self)
{
	return rwl_write_text(at(self, FILE_PATH), CHANGED);
}

static bool check_unlink_copied_up(FIXTURE_DATA(faults) *self, int err)
{
	const char *path = at(self, FILE_PATH);

	if (!err)
		return absent(self, path);
	if (lstat_errno(path) == ENOENT)
		return true;
	/* Never the lower's content: that was overwritten. */
	if (!file_is(self, path, CHANGED))
		return false;
	if (unlink(path))
		return fail(self, "unlink again: %s", strerror(errno));
	return absent(self, path);
}

/* Rename of a lower file: copy-up to the new name and a whiteout. */
static int op_rename(FIXTURE_DATA(faults) *self)
{
	return rename(at(self, FILE_PATH), at(self, RENAMED_PATH)) ? errno : 0;
}

static bool check_rename(FIXTURE_DATA(faults) *self, int err)
{
	const char *from = at(self, FILE_PATH), *to = at(self, RENAMED_PATH);
	bool old = lstat_errno(from) == 0, new = lstat_errno(to) == 0;

	if (old && new)
		return fail(self, "both names exist after rename (%s)",
			    err ? strerror(err) : "it succeeded");
	if (!old && !new)
		return fail(self, "neither name exists after rename (%s)",
			    err ? strerror(err) : "it succeeded");
	if (!err && old)
		return fail(self, "the old name is still there after rename");
	if (new)
		return file_intact(self, to) && upper_copy_complete(self, RENAMED_PATH);
	if (!file_intact(self, from))
		return false;
	if (rename(from, to))
		return fail(self, "rename again: %s", strerror(errno));
	return absent(self, from) && file_intact(self, to);
}

/* ADD_RULE over netlink: the rule exists exactly when it says so. */
static int op_add_rule(FIXTURE_DATA(faults) *self)
{
	struct rwl_msg m;
	int n;

	rule_msg(self, &m, RWLAYER_CMD_ADD_RULE, "/" NR_DIR);
	rwl_msg_put_u8(&m, RWLAYER_A_RULE_KIND, RWLAYER_RULE_UNION);
	n = rwl_nl_talk(&self->nl, &m, NULL, 0);
	return n < 0 ? -n : 0;
}

static bool check_add_rule(FIXTURE_DATA(faults) *self, int err)
{
	const char *probe = at(self, NR_DIR "/probe");
	uint8_t kind = 0;
	int ret, werr;

	if (nl_reopen(self))
		return fail(self, "netlink socket: %s", strerror(errno));
	ret = get_rule(self, "/" NR_DIR, &kind);
	if (ret && ret != -ENOENT)
		return fail(self, "GET_RULE: %s (%s)", strerror(-ret), self->nl.ext_msg);
	if (!err && ret)
		return fail(self, "ADD_RULE succeeded, GET_RULE: %s", strerror(-ret));
	/*
	 * An error from the request itself means no rule; ENOBUFS may also
	 * be a lost answer to a request that was carried out.
	 */
	if (err && err != ENOBUFS && !ret)
		return fail(self, "ADD_RULE failed (%s), yet the rule exists",
			    strerror(err));
	if (!ret && kind != RWLAYER_RULE_UNION)
		return fail(self, "the rule's kind is %u", kind);
	/* The filesystem agrees with the table. */
	werr = rwl_try_open(probe, O_WRONLY | O_CREAT);
	if (!ret && werr)
		return fail(self, "create under the new rule: %s", strerror(werr));
	if (ret && werr != EROFS)
		return fail(self, "create without the rule: %s, expected EROFS",
			    werr ? strerror(werr) : "succeeded");
	return true;
}

/* GET_RULE over netlink: a failure changes nothing. */
static int op_get_rule(FIXTURE_DATA(faults) *self)
{
	uint8_t kind;

	return -get_rule(self, "/w", &kind);
}

static bool check_get_rule(FIXTURE_DATA(faults) *self, int err)
{
	uint8_t kind = 0;
	int ret;

	(void)err;
	if (nl_reopen(self))
		return fail(self, "netlink socket: %s", strerror(errno));
	ret = get_rule(self, "/w", &kind);
	if (ret)
		return fail(self, "GET_RULE /w: %s (%s)", strerror(-ret), self->nl.ext_msg);
	if (kind != RWLAYER_RULE_UNION)
		return fail(self, "the rule's kind is %u", kind);
	return writes_back(self, at(self, "w/probe"), "p");
}

FIXTURE_VARIANT_ADD(faults, copy_up) {
	.name = "copy_up",
	.op = op_open_wronly, .check = check_copy_up,
};

FIXTURE_VARIANT_ADD(faults, lookup) {
	.name = "lookup",
	.prepare = prep_drop_caches, .op = op_stat, .check = check_lookup,
};

FIXTURE_VARIANT_ADD(faults, create) {
	.name = "create",
	.op = op_create, .check = check_create,
};

FIXTURE_VARIANT_ADD(faults, create_over_whiteout) {
	.name = "create_over_whiteout",
	.prepare = prep_whiteout, .op = op_create_over_whiteout,
	.check = check_create_over_whiteout,
};

FIXTURE_VARIANT_ADD(faults, unlink) {
	.name = "unlink",
	.op = op_unlink, .check = check_unlink,
};

FIXTURE_VARIANT_ADD(faults, unlink_copied_up) {
	.name = "unlink_copied_up",
	.prepare = prep_copied_up, .op = op_unlink,
	.check = check_unlink_copied_up,
};

FIXTURE_VARIANT_ADD(faults, rename) {
	.name = "rename",
	.op = op_rename, .check = check_rename,
};

FIXTURE_VARIANT_ADD(faults, netlink_add_rule) {
	.name = "netlink_add_rule",
	.op = op_add_rule, .check = check_add_rule, .netlink = true,
};

FIXTURE_VARIANT_ADD(faults, netlink_get_rule) {
	.name = "netlink_get_rule",
	.op = op_get_rule, .check = check_get_rule, .netlink = true,
};

/* ---- setup -------------------------------------------------------------- */

/* Count every allocation (knobs), remembering what was set before. */
static int set_knobs(FIXTURE_DATA(faults) *self)
{
	size_t i;
	int err;

	if (mount("debugfs", DEBUGFS, "debugfs", 0, NULL) && errno != EBUSY) {
		rwl_log("mount debugfs: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < NUM_KNOBS; i++) {
		err = read_knob(knobs[i].path, self->old_knobs[i],
				sizeof(self->old_knobs[i])) ?:
		      write_knob(knobs[i].path, knobs[i].value);
		if (err) {
			rwl_log("%s: %s", knobs[i].path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void restore_knobs(FIXTURE_DATA(faults) *self)
{
	size_t i;

	for (i = 0; i < NUM_KNOBS; i++)
		if (self->old_knobs[i][0])
			write_knob(knobs[i].path, self->old_knobs[i]);
}

/*
 * lower/w/d1/d2/file    DATA_SIZE bytes of pattern, 0640 1234:5678, xattr
 * lower/w/d1/d2/other   "other"
 * lower/nr/keep         "keep" (outside every rule)
 */
FIXTURE_SETUP(faults)
{
	const char *l;

	self->nthfd = -1;
	self->kmsgfd = -1;
	self->nl.fd = -1;
	if (access(FAIL_NTH, W_OK))
		SKIP(_exit(RWL_HARNESS_SKIP),
		     "no %s: the kernel lacks CONFIG_FAULT_INJECTION (the debug kernel has it)",
		     FAIL_NTH);
	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, set_knobs(self));
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;
	ASSERT_EQ(0, rwl_mkdir(pf("%s/w", l), 0755));
	ASSERT_EQ(0, rwl_mkdir(pf("%s/w/d1", l), 0755));
	ASSERT_EQ(0, rwl_mkdir(pf("%s/w/d1/d2", l), 0755));
	ASSERT_EQ(0, rwl_write_pattern(pf("%s/%s", l, FILE_PATH), DATA_SIZE,
				       DATA_SEED, FILE_MODE));
	ASSERT_EQ(0, chown(pf("%s/%s", l, FILE_PATH), FILE_UID, FILE_GID));
	ASSERT_EQ(0, chmod(pf("%s/%s", l, FILE_PATH), FILE_MODE));
	ASSERT_EQ(0, lsetxattr(pf("%s/%s", l, FILE_PATH), XATTR_NAME,
			       XATTR_VALUE, strlen(XATTR_VALUE), 0));
	ASSERT_EQ(0, rwl_write_text(pf("%s/%s", l, OTHER_PATH), "other"));
	ASSERT_EQ(0, rwl_mkdir(pf("%s/%s", l, NR_DIR), 0755));
	ASSERT_EQ(0, rwl_write_text(pf("%s/%s/keep", l, NR_DIR), "keep"));
	self->lower_before = snapshot(l);
	ASSERT_NE(NULL, self->lower_before);
	self->nthfd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nthfd) TH_LOG("open %s: %s", FAIL_NTH, strerror(errno));
	self->kmsgfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

FIXTURE_TEARDOWN(faults)
{
	if (self->nthfd >= 0)
		close(self->nthfd);
	if (self->kmsgfd >= 0)
		close(self->kmsgfd);
	rwl_nl_close(&self->nl);
	restore_knobs(self);
	free(self->lower_before);
	RWL_ENV_TEARDOWN(&self->env);
}

/*
 * N = 1, 2, ...: fail the Nth allocation of the operation, check the
 * union, until an attempt does not reach its Nth allocation.  The first
 * inconsistency ends the test (later ones are usually the same one).
 */
TEST_F_TIMEOUT(faults, every_nth, FAULTS_TIMEOUT)
{
	unsigned int nth, forced = 0, failed = 0;
	bool hit = true;
	int err = 0;

	for (nth = 1; hit && nth <= MAX_NTH; nth++) {
		ASSERT_EQ(0, fresh_union(self, variant->netlink))
			TH_LOG("nth %u: the union from the attempt before", nth);
		if (variant->prepare)
			ASSERT_EQ(0, variant->prepare(self)) TH_LOG("nth %u: prepare", nth);
		self->why[0] = '\0';
		mark_attempt(self, variant->name, nth);
		err = fault_call(self, nth, variant->op, &hit);
		forced += hit;
		failed += hit && err;
		if (!variant->check(self, err) || !union_consistent(self)) {
			EXPECT_STREQ("", self->why)
				TH_LOG("%s; the operation returned %s",
				       hit ? pf("its allocation %u failed", nth) :
				       "no allocation failed",
				       err ? strerror(err) : "success");
			return;
		}
	}
	EXPECT_FALSE(hit) TH_LOG("still reaching allocation %u", MAX_NTH);
	/* Every one of these operations allocates: none failed, nothing tested. */
	EXPECT_LT(0, forced) TH_LOG("fail-nth never failed an allocation");
	EXPECT_EQ(0, err) TH_LOG("without a forced failure: %s", strerror(err));
	rwl_log("%u allocations failed one at a time, %u of them failed the operation",
		forced, failed);
}

TEST_HARNESS_MAIN
