// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test against the in-tree overlayfs: the same seeded random
 * operations on an overlayfs and on an rwlayer over identical layers must
 * give the same results, except for the documented differences in
 * known_diffs[] below.
 *
 * Each side is two lower layers built from the seed (files with content
 * and trusted.* xattrs, sparse files, directories merged across the
 * layers, symlinks, fifos, files with several names (hard links within
 * a layer), and in the top layer whiteouts and opaque directories) plus
 * a tmpfs holding upper/ and work/.  The layers' entries belong to root,
 * to uid 65534 or to uid 1000 (groups likewise), with modes that let
 * 65534 write some and not others: set-user-ID and set-group-ID files,
 * set-group-ID, sticky and private directories.  The upper's root is
 * 0755, 0777 or 01777.  overlayfs is mounted with redirect_dir=off,
 * index=off,metacopy=off,xino=off (what rwlayer is documented to match);
 * rwlayer with lower=, upper=, work= and no rule=, so everything is
 * writable.
 *
 * The operations are chosen by a seeded xorshift generator; their paths
 * come from walking the overlayfs side's tree as it is (existing
 * entries, new names from a pool of ten in existing directories, and
 * arbitrary pool paths of up to three components): create, write,
 * append, O_TRUNC, truncate, fallocate, mmap writes, copy_file_range,
 * rename (plain, NOREPLACE, EXCHANGE, WHITEOUT; files and directories,
 * onto existing names), link, symlink, unlink, mkdir, rmdir, mkfifo,
 * mknod of a whiteout (0/0), chmod, chown, utimensat, set/remove/get/
 * listxattr, readdir, stat, lstat, read, readlink, a read through a file
 * opened before a write, and writes through a file after its unlink;
 * and, on both unions at once, a remount (both unmounted and mounted
 * again on the same layers, so that what the upper holds is read back)
 * and "echo 2 (or 3) > /proc/sys/vm/drop_caches" (inodes and dentries
 * evicted).  Each operation has a umask (022, 0, 002 or 077) and runs
 *  - as root, with every capability;
 *  - as an unprivileged user (NOBODY_PERCENT, twice that for writes):
 *    fsuid and fsgid 65534, no groups and an empty effective capability
 *    set, switched in the test process around the operation
 *    (become_nobody());
 *  - or (USERNS_PERCENT) as uid 0 of a user namespace whose only
 *    mapping is 0 -> 65534, in a child that joins it (run_userns()).
 * So permissions refuse, owners are checked, and a write by a caller
 * without CAP_FSETID clears set-ID bits: the writing operations report
 * the mode change of the file they wrote ("mode 6777->0777").
 *
 * Every return value, errno and observed datum (stat fields, see
 * stat_info(); sorted listings with d_type; content hashes; mode
 * changes) is compared.  Every WALK_EVERY operations, and at the end,
 * both trees are walked and compared entry by entry (names, types,
 * modes, owners, sizes, link counts, symlink targets, content hashes,
 * xattrs); the link counts show which names of a lower hard link were
 * copied up (a copy is a file of its own) and which lower directories
 * merged.  Before the last walk both unions are remounted once more.
 *
 * Every SMALL_EVERY-th seed runs with a small upper: its tmpfs has 96
 * to 256 KiB free and, where tmpfs' nr_inodes counts inodes alone (6.1;
 * since 6.6 xattrs take from that space, and the two unions store
 * different xattrs in the upper: see inodes_exact), 40 to 100 inodes,
 * so that creates, copy-ups, whiteouts and writes run out of space
 * (ENOSPC, short writes, SIGBUS in a shared mapping).  The free space is
 * made equal on both sides after every operation (upper_space()), each
 * mount gets room to make what it makes in the work directory, and
 * overlayfs' spare whiteout is given up at every mount
 * (unshare_whiteouts()), so that both unions have the same room.
 *
 * Each side's operations run chrooted into its union mount, so symlinks
 * with ".." or absolute targets stay inside their own tree.
 *
 * On the first divergence of a seed the test prints the seed, the
 * operation's index, the operation and both results as TAP comments,
 * then shrinks the sequence (replaying subsets on fresh layers) to a
 * short one whose last operation still diverges with the same two
 * results (a walk: still differs), prints that, and fails.
 *
 * make check runs NUM_SEEDS seeds x CHECK_OPS operations, one TEST_F per
 * seed (seed 4 with the small upper): 8-15 s per seed in the TCG guest
 * with slub_debug (about a fifth more than without the steps of other
 * users, the remounts and the cache drops), plus up to SHRINK_SECONDS
 * for shrinking when a seed diverges.  After every seed a "succeeded:"
 * line says how many operations of each kind succeeded, the next how
 * many of those made as root, as 65534 and in the user namespace
 * succeeded, how many writes cleared set-ID bits and how often ENOSPC
 * came, and then how often each documented difference was taken.
 *
 * Long mode, more seeds and operations (no per-test time limit):
 *   RWL_RANDOPS_LONG=OPS[:SEEDS[:FIRST]]   in the environment, or
 *   the same text in a file randops.long beside the executable
 *   (/selftests/randops.long in the test guest).
 * Seeds FIRST.. FIRST+SEEDS-1 (default 16 seeds from 1) run OPS
 * operations each, spread over the seed_N tests.  In the VM:
 *   echo 20000:32 > $BUILD/selftests/randops.long
 *   RWLAYER_VM_TIMEOUT=14400 BUILD=$BUILD scripts/vm/run.sh KVER test OUT
 * (scripts/vm/guest/test.sh then runs randops without its time limit).
 * "OPS:1:SEED" replays one seed.
 *
 * RWL_RANDOPS_SELF=1 compares overlayfs with overlayfs, to check the
 * tester itself (it must find nothing); it needs no rwlayer module.
 * RWL_RANDOPS_SELF=2 gives the second overlayfs redirect_dir=on, so that
 * directory renames differ: to see a divergence reported and shrunk.
 * RWL_RANDOPS_TRACE=1 prints every operation and the first side's result.
 * RWL_RANDOPS_EXCLUDE=kind,kind (names as in kinds[]) never chooses those
 * operations, to look past a divergence already known.
 * The environment reaches the guest only through a wrapper script in
 * $BUILD/selftests; randops.long is the switch meant for the VM.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/capability.h>
#include <linux/falloc.h>

#include "rwl_util.h"

#define NUM_SEEDS	4
#define CHECK_OPS	3000
#define LONG_SEEDS	16
#define WALK_EVERY	250
#define SEED_TIMEOUT	150	/* harness limit per seed in make check */
#define SHRINK_SECONDS	30	/* time for shrinking one divergence */
#define SHRINK_LONG	600
#define MAX_READ	(4 << 20)
#define PATH_LEN	32
#define NOBODY_PERCENT	25	/* operations made as uid/gid 65534 */
#define USERNS_PERCENT	4	/* ... as root of a user namespace on it */
#define SMALL_EVERY	4	/* every 4th seed: a small upper */
#define SPARE_DIR	".spare"	/* see unshare_whiteouts() */
#define MOUNT_INODES	16	/* room for a mount on a small upper */

/* xorshift64*, never rand(): the sequence is a pure function of the seed. */
struct rng {
	uint64_t s;
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	r->s = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ 0xd1b54a32d192ed03ULL;
	if (!r->s)
		r->s = 1;
	for (i = 0; i < 8; i++) {
		r->s ^= r->s >> 12;
		r->s ^= r->s << 25;
		r->s ^= r->s >> 27;
	}
}

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static unsigned int rnd(struct rng *r, unsigned int n)
{
	return (rng_next(r) >> 16) % n;
}

static bool chance(struct rng *r, unsigned int percent)
{
	return rnd(r, 100) < percent;
}

static const char *const names[] = {
	"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
};

static const char *const link_targets[] = {
	"a", "b/c", "../a", "../../b/c", "/a", "/c/d", "nonexistent", ".",
	"..", "a/b/c", "e/", "f",
};

/*
 * trusted.overlay.* is not in the pool: overlayfs >= 6.7 copies an entry
 * up before storing such a name escaped, rwlayer refuses it first, and
 * the copy-up cannot be undone to compare on (copy_up.c tests the name).
 */
static const char *const xattr_names[] = {
	"trusted.a", "trusted.b", "user.u",
};

/* For create, mkdir and chmod. */
static const mode_t modes[] = {
	0644, 0600, 0755, 0700, 0444, 04755, 02711, 01777, 0000, 0640,
	06777, 02775, 0666, 0777, 02770,
};

/* The lower layers' files and directories (set-id, sticky, private). */
static const mode_t file_modes[] = {
	0644, 0600, 0666, 0755, 0444, 0640, 0000, 04755, 02755, 06777,
	02711, 04711, 02775, 06666, 04777, 02777, 06775, 02767,
};

static const mode_t dir_modes[] = {
	0755, 0755, 0700, 0777, 01777, 02775, 02777, 0711, 0555,
};

/* Owners (uid, gid) for chown. */
static const uid_t owners[] = { 0, RWL_NOBODY, 1000 };

/* The layers' owners: more of uid 65534's, so that it may write there. */
static const uid_t layer_owners[] = { 0, RWL_NOBODY, RWL_NOBODY, 1000 };

enum op_kind {
	OP_CREATE, OP_WRITE, OP_APPEND, OP_OTRUNC, OP_TRUNCATE, OP_FALLOCATE,
	OP_MMAP_WRITE, OP_COPY_RANGE, OP_RENAME, OP_LINK, OP_SYMLINK,
	OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_MKFIFO, OP_MKNOD_WHITEOUT, OP_CHMOD,
	OP_CHOWN, OP_SETXATTR, OP_REMOVEXATTR, OP_GETXATTR, OP_LISTXATTR,
	OP_READDIR, OP_STAT, OP_LSTAT, OP_READ, OP_READLINK, OP_READ_OLD_FD,
	OP_UNLINK_OPEN, OP_UTIMES,
	/* on both unions at once, not one per side: */
	OP_REMOUNT, OP_DROP_CACHES,
	/* not chosen at random: */
	OP_WALK,
	OP_GEN,		/* to be chosen when its turn comes */
	NUM_KINDS,
};

static const struct {
	const char *name;
	unsigned int weight;
} kinds[NUM_KINDS] = {
	[OP_CREATE]		= { "create", 11 },
	[OP_WRITE]		= { "write", 10 },
	[OP_APPEND]		= { "append", 3 },
	[OP_OTRUNC]		= { "open_trunc", 2 },
	[OP_TRUNCATE]		= { "truncate", 4 },
	[OP_FALLOCATE]		= { "fallocate", 2 },
	[OP_MMAP_WRITE]		= { "mmap_write", 2 },
	[OP_COPY_RANGE]		= { "copy_file_range", 2 },
	[OP_RENAME]		= { "rename", 12 },
	[OP_LINK]		= { "link", 4 },
	[OP_SYMLINK]		= { "symlink", 4 },
	[OP_UNLINK]		= { "unlink", 7 },
	[OP_MKDIR]		= { "mkdir", 5 },
	[OP_RMDIR]		= { "rmdir", 5 },
	[OP_MKFIFO]		= { "mkfifo", 1 },
	[OP_MKNOD_WHITEOUT]	= { "mknod_0_0", 1 },
	[OP_CHMOD]		= { "chmod", 3 },
	[OP_CHOWN]		= { "lchown", 2 },
	[OP_SETXATTR]		= { "lsetxattr", 4 },
	[OP_REMOVEXATTR]	= { "lremovexattr", 2 },
	[OP_GETXATTR]		= { "lgetxattr", 2 },
	[OP_LISTXATTR]		= { "llistxattr", 2 },
	[OP_READDIR]		= { "readdir", 6 },
	[OP_STAT]		= { "stat", 4 },
	[OP_LSTAT]		= { "lstat", 5 },
	[OP_READ]		= { "read", 6 },
	[OP_READLINK]		= { "readlink", 2 },
	[OP_READ_OLD_FD]	= { "read_old_fd", 2 },
	[OP_UNLINK_OPEN]	= { "unlink_open", 2 },
	[OP_UTIMES]		= { "utimensat", 2 },
	[OP_REMOUNT]		= { "remount", 1 },
	[OP_DROP_CACHES]	= { "drop_caches", 1 },
	[OP_WALK]		= { "walk", 0 },
	[OP_GEN]		= { "gen", 0 },
};

/* Kinds left out by RWL_RANDOPS_EXCLUDE (to look past a known bug). */
static bool excluded[NUM_KINDS];

/* Whose credentials an operation runs with. */
enum cred {
	CRED_ROOT,	/* the test's own: uid 0 with every capability */
	CRED_NOBODY,	/* fsuid/fsgid 65534, no groups, no capabilities */
	CRED_USERNS,	/* uid 0 of a user namespace mapping only 0 -> 65534 */
	NUM_CREDS,
};

static const char *const cred_names[NUM_CREDS] = {
	[CRED_ROOT] = "root", [CRED_NOBODY] = "nobody",
	[CRED_USERNS] = "userns",
};

/* One operation, a pure function of (seed, index): replayable alone. */
struct op {
	enum op_kind kind;
	enum cred cred;
	mode_t umask;
	char a[PATH_LEN], b[PATH_LEN];	/* paths; b: rename/link/copy target */
	unsigned int flags;		/* rename/open/fallocate/xattr flags */
	unsigned int idx;		/* xattr name, symlink target, owner */
	mode_t mode;
	uint64_t off, len;
	unsigned int dseed;		/* data pattern */
};

/* What one side saw: return value, errno, and what it read. */
struct res {
	long ret;
	int err;
	char *info;
	size_t len, cap;
};

struct side {
	const char *label;
	bool is_rwl;
	char dir[RWL_PATH], lo[RWL_PATH], rw[RWL_PATH], mnt[RWL_PATH];
	char opts[1024];
	int fd;				/* the union's root, for chroot */
	bool mounted;
	unsigned int mounts;		/* mounts made, for SPARE_DIR */
};

struct ctx {
	struct rwl_env *env;
	unsigned int seed;
	int self;			/* overlayfs against overlayfs */
	bool verbose;			/* report divergences */
	int rootfd;			/* the real /, to leave the chroot */
	unsigned int runs;		/* fresh layer pairs built so far */
	struct side side[2];		/* [0] overlayfs, [1] rwlayer */
	bool failed;			/* setup failed (not a divergence) */
	unsigned int n_ok[NUM_KINDS], n_all[NUM_KINDS];	/* coverage */
	bool trace;			/* RWL_RANDOPS_TRACE=1: print every op */
	unsigned int n_known[8];	/* known_diffs[] taken */
	unsigned int n_cred_ok[NUM_CREDS], n_cred_all[NUM_CREDS];
	unsigned int n_enospc;		/* results with ENOSPC */
	unsigned int n_mode;		/* writes that changed the mode */
	bool small;			/* this seed's upper is small */
	unsigned long small_blocks;	/* its free pages at mount */
	unsigned long small_inodes;	/* and inodes (inodes_exact only) */
	int dropfd;			/* /proc/sys/vm/drop_caches */
};

/*
 * Does nr_inodes of a tmpfs count inodes alone?  Since 6.6 xattrs take
 * from the same space, and the two unions store different xattrs in the
 * upper (overlayfs a file handle as origin and "impure" marks on
 * directories, rwlayer a 16-byte origin), so that the space would run
 * out at different operations; there only the size is small.
 */
static bool inodes_exact;

static void res_reset(struct res *r)
{
	r->ret = 0;
	r->err = 0;
	r->len = 0;
	if (r->info)
		r->info[0] = '\0';
}

static void res_free(struct res *r)
{
	free(r->info);
	memset(r, 0, sizeof(*r));
}

static void __attribute__((format(printf, 2, 3)))
res_addf(struct res *r, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	need = r->len + n + 1;
	if (need > r->cap) {
		r->cap = need * 2 > 256 ? need * 2 : 256;
		r->info = realloc(r->info, r->cap);
		if (!r->info)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(r->info + r->len, n + 1, fmt, ap);
	va_end(ap);
	r->len += n;
}

/* A syscall step failed: the result is -1 and errno, @step says which. */
static void res_fail(struct res *r, const char *step)
{
	r->err = errno;
	r->ret = -1;
	res_addf(r, "%s%s", r->len ? " " : "", step);
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* ---- generating operations ---------------------------------------- */

static void gen_path(struct rng *r, char *buf)
{
	unsigned int depth, i, p = rnd(r, 100);

	depth = p < 35 ? 1 : p < 75 ? 2 : 3;
	buf[0] = '\0';
	for (i = 0; i < depth; i++) {
		if (i)
			strcat(buf, "/");
		strcat(buf, names[rnd(r, ARRAY_SIZE(names))]);
	}
	if (chance(r, 2))
		strcat(buf, "/");
}

static uint64_t gen_off(struct rng *r)
{
	unsigned int p = rnd(r, 100);

	if (p < 50)
		return rnd(r, 16384);
	if (p < 80)
		return rnd(r, 70000);
	if (p < 96)
		return rnd(r, 300000);
	return (1 << 20) + rnd(r, 1 << 20);
}

static uint64_t gen_len(struct rng *r)
{
	unsigned int p = rnd(r, 100);

	if (p < 5)
		return 0;
	if (p < 70)
		return 1 + rnd(r, 4096);
	return 1 + rnd(r, 20000);
}

/* A random name in directory @dir of the current root; false if empty. */
static bool pick_entry(struct rng *r, const char *dir, char *name, size_t size,
		       bool *is_dir)
{
	struct rwl_dents d = { 0 };
	size_t i, n = 0;
	bool found = false;

	if (rwl_list_dir(dir, 32768, &d) < 0)
		return false;
	rwl_dents_sort(&d);
	/* not ".", ".." nor SPARE_DIR: the pool has no dot names */
	for (i = 0; i < d.num; i++)
		n += d.v[i].name[0] != '.';
	if (n) {
		n = rnd(r, n);
		for (i = 0; i < d.num; i++) {
			if (d.v[i].name[0] == '.')
				continue;
			if (n-- == 0)
				break;
		}
		snprintf(name, size, "%s", d.v[i].name);
		*is_dir = d.v[i].type == DT_DIR;
		found = true;
	}
	rwl_dents_free(&d);
	return found;
}

enum want { WANT_ANY, WANT_FILE, WANT_DIR, WANT_NEW };

/*
 * A path for an operation, chosen in the overlayfs side's current tree
 * (we are chrooted in it): any pool path (15%), an existing entry (60%)
 * or a pool name in an existing directory, which often is new (25%).
 * @want makes the walk prefer files or directories (85% existing then),
 * or new names (75% then).
 */
static void pick_path(struct rng *r, char *buf, enum want want)
{
	unsigned int p = rnd(r, 100), depth = 0, descend, retries = 3;
	unsigned int pool = want == WANT_ANY ? 15 : want == WANT_NEW ? 10 : 5;
	unsigned int existing = want == WANT_ANY ? 75 : want == WANT_NEW ? 25 : 90;
	char dir[PATH_LEN] = ".", name[PATH_LEN], cand[2 * PATH_LEN];
	bool is_dir;

	if (p < pool) {
		gen_path(r, buf);
		return;
	}
	descend = want == WANT_FILE ? 90 : want == WANT_DIR ? 40 : 55;
	while (pick_entry(r, dir, name, sizeof(name), &is_dir)) {
		snprintf(cand, sizeof(cand), "%s/%s", dir, name);
		if (strlen(cand) >= PATH_LEN - 4)
			break;
		if (is_dir && depth < 3 && chance(r, descend)) {
			strcpy(dir, cand);
			depth++;
			continue;
		}
		if (((want == WANT_DIR && !is_dir) ||
		     (want == WANT_FILE && is_dir)) && retries--)
			continue;
		if (p < existing) {
			strcpy(buf, cand + 2);
			if (chance(r, 2))
				strcat(buf, "/");
			return;
		}
		break;
	}
	snprintf(cand, sizeof(cand), "%s/%s", dir,
		 names[rnd(r, ARRAY_SIZE(names))]);
	strcpy(buf, cand + 2);
}

/* Operation @index, its paths picked in the current root. */
static void gen_op(struct rng *r, struct op *op, unsigned int index)
{
	unsigned int total = 0, pick, k, p, nobody;
	struct stat st, root;
	enum want want;

	memset(op, 0, sizeof(*op));
	for (k = 0; k < NUM_KINDS; k++)
		total += excluded[k] ? 0 : kinds[k].weight;
	pick = rnd(r, total);
	for (k = 0; excluded[k] || pick >= kinds[k].weight; k++)
		pick -= excluded[k] ? 0 : kinds[k].weight;
	op->kind = k;
	if (op->kind == OP_REMOUNT)
		return;
	if (op->kind == OP_DROP_CACHES) {
		op->flags = chance(r, 50) ? 2 : 3;
		return;
	}
	switch (op->kind) {
	case OP_WRITE: case OP_APPEND: case OP_OTRUNC: case OP_TRUNCATE:
	case OP_FALLOCATE: case OP_MMAP_WRITE: case OP_COPY_RANGE:
	case OP_READ: case OP_READ_OLD_FD: case OP_LINK: case OP_UNLINK:
	case OP_UNLINK_OPEN:
		want = WANT_FILE;
		break;
	case OP_RMDIR: case OP_READDIR:
		want = WANT_DIR;
		break;
	case OP_CREATE: case OP_SYMLINK: case OP_MKDIR: case OP_MKFIFO:
	case OP_MKNOD_WHITEOUT:
		want = WANT_NEW;
		break;
	default:
		want = WANT_ANY;
		break;
	}
	pick_path(r, op->a, want);
	pick_path(r, op->b, op->kind == OP_COPY_RANGE ? WANT_FILE :
			    op->kind == OP_LINK ? WANT_NEW : WANT_ANY);
	if (op->kind != OP_RENAME && op->kind != OP_LINK &&
	    op->kind != OP_COPY_RANGE)
		op->b[0] = '\0';
	op->off = gen_off(r);
	op->len = gen_len(r);
	op->mode = modes[rnd(r, ARRAY_SIZE(modes))];
	op->dseed = (unsigned int)rng_next(r) ^ index;
	switch (op->kind) {
	case OP_CREATE:
		op->flags = chance(r, 80) ? O_EXCL : 0;
		if (chance(r, 30))
			op->len = 0;
		break;
	case OP_TRUNCATE:
		p = rnd(r, 100);
		op->len = p < 20 ? 0 : p < 85 ? rnd(r, 20000) : rnd(r, 400000);
		break;
	case OP_FALLOCATE:
		p = rnd(r, 3);
		op->flags = p == 0 ? 0 : p == 1 ? FALLOC_FL_KEEP_SIZE :
			    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		op->len = 1 + rnd(r, 20000);
		break;
	case OP_COPY_RANGE:
		op->off = rnd(r, 20000);
		op->idx = rnd(r, 20000);	/* offset in b */
		op->len = rnd(r, 30000);
		break;
	case OP_RENAME:
		p = rnd(r, 100);
		op->flags = p < 84 ? 0 : p < 94 ? RENAME_NOREPLACE :
			    p < 99 ? RENAME_EXCHANGE : RENAME_WHITEOUT;
		break;
	case OP_SYMLINK:
		op->idx = rnd(r, ARRAY_SIZE(link_targets));
		break;
	case OP_CHMOD:
		/*
		 * The root (through a symlink to "." or "..") stays open to
		 * all: else every later step of a user other than root fails
		 * alike, with EACCES.
		 */
		if (!stat(op->a, &st) && !stat(".", &root) &&
		    st.st_ino == root.st_ino && st.st_dev == root.st_dev)
			op->mode = chance(r, 50) ? 0755 : 01777;
		break;
	case OP_CHOWN:
		op->idx = rnd(r, ARRAY_SIZE(owners));
		break;
	case OP_SETXATTR:
		p = rnd(r, 100);
		op->flags = p < 70 ? 0 : p < 85 ? XATTR_CREATE : XATTR_REPLACE;
		/* fall through */
	case OP_REMOVEXATTR:
	case OP_GETXATTR:
		op->idx = rnd(r, ARRAY_SIZE(xattr_names));
		op->len = 1 + rnd(r, 40);
		break;
	default:
		break;
	}
	p = rnd(r, 100);
	op->umask = p < 50 ? 022 : p < 80 ? 0 : p < 90 ? 002 : 077;
	/* writes more often unprivileged: they must clear set-id bits */
	nobody = want == WANT_FILE && op->kind != OP_LINK &&
		 op->kind != OP_UNLINK && op->kind != OP_READ ?
		 2 * NOBODY_PERCENT : NOBODY_PERCENT;
	p = rnd(r, 100);
	op->cred = p < nobody ? CRED_NOBODY :
		   p < nobody + USERNS_PERCENT ? CRED_USERNS : CRED_ROOT;
}

/*
 * The skeleton of a seed's sequence: @nops random operations (chosen as
 * they come, see run_ops()) with a walk every WALK_EVERY, and at the end
 * walk, remount, walk.
 */
static struct op *gen_ops(unsigned int nops, unsigned int *count)
{
	struct op *ops;
	unsigned int i, n = 0;

	ops = calloc(nops + nops / WALK_EVERY + 8, sizeof(*ops));
	if (!ops)
		return NULL;
	for (i = 0; i < nops; i++) {
		ops[n++].kind = OP_GEN;
		if ((i + 1) % WALK_EVERY == 0 && i + 1 < nops)
			ops[n++].kind = OP_WALK;
	}
	ops[n++].kind = OP_WALK;
	ops[n++].kind = OP_REMOUNT;
	ops[n++].kind = OP_WALK;
	*count = n;
	return ops;
}

static const char *rename_flags(unsigned int flags)
{
	switch (flags) {
	case 0: return "0";
	case RENAME_NOREPLACE: return "RENAME_NOREPLACE";
	case RENAME_EXCHANGE: return "RENAME_EXCHANGE";
	case RENAME_WHITEOUT: return "RENAME_WHITEOUT";
	}
	return "?";
}

static const char *falloc_flags(unsigned int flags)
{
	switch (flags) {
	case 0: return "0";
	case FALLOC_FL_KEEP_SIZE: return "KEEP_SIZE";
	}
	return "PUNCH_HOLE|KEEP_SIZE";
}

static const char *xattr_flags(unsigned int flags)
{
	return flags == XATTR_CREATE ? "XATTR_CREATE" :
	       flags == XATTR_REPLACE ? "XATTR_REPLACE" : "0";
}

/* The operation as C-like text, without its credentials. */
static void op_text(const struct op *op, char *buf, size_t size)
{
	const char *k = kinds[op->kind].name;
	unsigned long long off = op->off, len = op->len;

	switch (op->kind) {
	case OP_CREATE:
		snprintf(buf, size, "open(%s, O_CREAT%s|O_WRONLY, 0%o) + write %llu bytes (pattern %u)",
			 op->a, op->flags ? "|O_EXCL" : "", op->mode, len,
			 op->dseed);
		break;
	case OP_WRITE:
		snprintf(buf, size, "open(%s, O_WRONLY) + pwrite %llu bytes at %llu (pattern %u)",
			 op->a, len, off, op->dseed);
		break;
	case OP_APPEND:
		snprintf(buf, size, "open(%s, O_WRONLY|O_APPEND) + write %llu bytes (pattern %u)",
			 op->a, len, op->dseed);
		break;
	case OP_OTRUNC:
		snprintf(buf, size, "open(%s, O_WRONLY|O_TRUNC) + write %llu bytes (pattern %u)",
			 op->a, len % 100, op->dseed);
		break;
	case OP_TRUNCATE:
		snprintf(buf, size, "truncate(%s, %llu)", op->a, len);
		break;
	case OP_FALLOCATE:
		snprintf(buf, size, "open(%s, O_WRONLY) + fallocate(%s, %llu, %llu)",
			 op->a, falloc_flags(op->flags), off, len);
		break;
	case OP_MMAP_WRITE:
		snprintf(buf, size, "open(%s, O_RDWR) + mmap(MAP_SHARED) write %llu bytes at %llu %% size (pattern %u)",
			 op->a, len, off, op->dseed);
		break;
	case OP_COPY_RANGE:
		snprintf(buf, size, "copy_file_range(%s at %llu -> %s at %u, %llu)",
			 op->a, off, op->b, op->idx, len);
		break;
	case OP_RENAME:
		snprintf(buf, size, "renameat2(%s, %s, %s)", op->a, op->b,
			 rename_flags(op->flags));
		break;
	case OP_LINK:
		snprintf(buf, size, "link(%s, %s)", op->a, op->b);
		break;
	case OP_SYMLINK:
		snprintf(buf, size, "symlink(\"%s\", %s)",
			 link_targets[op->idx], op->a);
		break;
	case OP_MKDIR:
		snprintf(buf, size, "mkdir(%s, 0%o)", op->a, op->mode);
		break;
	case OP_CHMOD:
		snprintf(buf, size, "chmod(%s, 0%o)", op->a, op->mode);
		break;
	case OP_CHOWN:
		snprintf(buf, size, "lchown(%s, %u, %u)", op->a,
			 owners[op->idx], owners[op->idx]);
		break;
	case OP_SETXATTR:
		snprintf(buf, size, "lsetxattr(%s, %s, %llu bytes (pattern %u), %s)",
			 op->a, xattr_names[op->idx], len, op->dseed,
			 xattr_flags(op->flags));
		break;
	case OP_REMOVEXATTR:
	case OP_GETXATTR:
		snprintf(buf, size, "%s(%s, %s)", k, op->a,
			 xattr_names[op->idx]);
		break;
	case OP_READ_OLD_FD:
		snprintf(buf, size, "fd = open(%s, O_RDONLY); open(%s, O_WRONLY) + pwrite %llu bytes at %llu (pattern %u); read fd",
			 op->a, op->a, len, off, op->dseed);
		break;
	case OP_UNLINK_OPEN:
		snprintf(buf, size, "fd = open(%s, O_RDWR); unlink(%s); pwrite fd %llu bytes at %llu (pattern %u); read fd; fstat fd",
			 op->a, op->a, len, off, op->dseed);
		break;
	case OP_UTIMES:
		snprintf(buf, size, "utimensat(%s, {%llu, %llu}, AT_SYMLINK_NOFOLLOW) + lstat times",
			 op->a, off, off + len);
		break;
	case OP_DROP_CACHES:
		snprintf(buf, size, "echo %u > /proc/sys/vm/drop_caches",
			 op->flags);
		break;
	case OP_REMOUNT:
	case OP_WALK:
	case OP_GEN:
		snprintf(buf, size, "%s", k);
		break;
	default:
		snprintf(buf, size, "%s(%s)", k, op->a);
		break;
	}
}

/* The operation as C-like text, for the report. */
static const char *op_str(const struct op *op, char *buf, size_t size)
{
	char text[448];

	op_text(op, text, sizeof(text));
	if (op->cred == CRED_ROOT && op->umask == 022)
		snprintf(buf, size, "%s", text);
	else
		snprintf(buf, size, "as %s, umask %03o: %s",
			 cred_names[op->cred], (unsigned int)op->umask, text);
	return buf;
}

/* ---- the layers ---------------------------------------------------- */

/*
 * Make the directories above @root/@rel.  With @r, those it makes get
 * an owner from layer_owners[] and a mode from dir_modes[], as in a layer.
 */
static int mkdir_p(const char *root, const char *rel, struct rng *r)
{
	char p[RWL_PATH], *s;
	struct stat st;
	uid_t uid;

	rwl_pathf(p, "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755)) {
			if (errno != EEXIST)
				return -errno;
		} else if (r) {
			uid = layer_owners[rnd(r, ARRAY_SIZE(layer_owners))];
			if (chown(p, uid, uid) ||
			    chmod(p, dir_modes[rnd(r, ARRAY_SIZE(dir_modes))]))
				return -errno;
		}
		if (lstat(p, &st) || !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		*s = '/';
	}
	return 0;
}

static int fill_file(const char *path, struct rng *r)
{
	unsigned int seed = (unsigned int)rng_next(r), p = rnd(r, 100);
	uint64_t size = p < 10 ? 0 : p < 85 ? rnd(r, 12000) : 0;
	char buf[4096];
	int fd, err = 0;

	if (rwl_write_pattern(path, size, seed, 0600))
		return -EIO;
	if (p >= 85) {
		/* sparse: a page of data past a long hole */
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		rwl_pattern_fill(buf, sizeof(buf), 0, seed);
		if (pwrite(fd, buf, sizeof(buf), 200000 + rnd(r, 100000)) < 0)
			err = -errno;
		close(fd);
	}
	return err;
}

/*
 * One lower layer: @n random entries.  The top layer (@top) also gets
 * whiteouts and opaque directories.  Files, directories and fifos get
 * owners and groups from layer_owners[] and modes from file_modes[] and
 * dir_modes[] (set-id files, set-group-ID and sticky directories, some
 * that uid 65534 may write and some it may not); some names are further
 * hard links to a file made earlier in the layer.  Everything comes from
 * @r, so both sides get the same layers.
 */
static int build_layer(const char *root, struct rng *r, unsigned int n,
		       bool top)
{
	char rel[PATH_LEN], p[RWL_PATH], val[64], files[16][RWL_PATH];
	unsigned int i, t, nfiles = 0;
	struct stat st;
	uid_t uid;
	mode_t mode;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		gen_path(r, rel);
		if (rel[strlen(rel) - 1] == '/')
			rel[strlen(rel) - 1] = '\0';
		t = rnd(r, 100);
		/* A parent that exists as a non-directory: skip the entry. */
		if (mkdir_p(root, rel, r))
			continue;
		rwl_pathf(p, "%s/%s", root, rel);
		if (lstat(p, &st) == 0)
			continue;
		mode = 0;
		if (t < 12 && nfiles) {
			/* one more name of a file of this layer */
			if (link(files[rnd(r, nfiles)], p))
				err = -errno;
			continue;
		} else if (t < 50) {
			err = fill_file(p, r);
			mode = file_modes[rnd(r, ARRAY_SIZE(file_modes))];
			if (nfiles < ARRAY_SIZE(files))
				strcpy(files[nfiles++], p);
		} else if (t < 75) {
			if (mkdir(p, 0700))
				err = -errno;
			mode = dir_modes[rnd(r, ARRAY_SIZE(dir_modes))];
		} else if (t < 87) {
			if (symlink(link_targets[rnd(r, ARRAY_SIZE(link_targets))], p))
				err = -errno;
		} else if (t < 90) {
			if (mknod(p, S_IFIFO | 0644, 0))
				err = -errno;
			mode = chance(r, 50) ? 0644 : 0666;
		} else if (top && t < 95) {
			if (mknod(p, S_IFCHR | 0600, makedev(0, 0)))
				err = -errno;
			continue;
		} else if (top) {
			if (mkdir(p, 0700) ||
			    setxattr(p, "trusted.overlay.opaque", "y", 1, 0))
				err = -errno;
			mode = dir_modes[rnd(r, ARRAY_SIZE(dir_modes))];
		} else {
			continue;
		}
		if (!err && lstat(p, &st) == 0 &&
		    (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && chance(r, 30)) {
			snprintf(val, sizeof(val), "lower%u", (unsigned int)rng_next(r));
			if (setxattr(p, chance(r, 50) ? "trusted.a" : "trusted.b",
				     val, strlen(val), 0))
				err = -errno;
		}
		/* the owner first: chown clears set-id bits */
		uid = layer_owners[rnd(r, ARRAY_SIZE(layer_owners))];
		if (!err && lchown(p, uid, chance(r, 60) ? uid :
				   layer_owners[rnd(r, ARRAY_SIZE(layer_owners))]))
			err = -errno;
		if (!err && mode && chmod(p, mode))
			err = -errno;
	}
	if (err)
		rwl_log("building layer %s: %s", root, strerror(-err));
	return err;
}

static int build_lowers(struct side *s, unsigned int seed)
{
	char l0[RWL_PATH], l1[RWL_PATH];
	struct rng r;
	int err;

	rng_seed(&r, (uint64_t)seed << 32 | 0x10e3);
	rwl_pathf(l0, "%s/l0", s->lo);
	rwl_pathf(l1, "%s/l1", s->lo);
	err = rwl_mkdir(l0, 0755);
	if (!err)
		err = rwl_mkdir(l1, 0755);
	if (!err)
		err = build_layer(l1, &r, 40, false);
	if (!err)
		err = build_layer(l0, &r, 30, true);
	return err;
}

static int side_mount(struct ctx *c, struct side *s)
{
	const char *type = s->is_rwl ? RWL_FS_TYPE : "overlay";
	char p[RWL_PATH];
	int fd;

	if (c->small && inodes_exact) {
		fd = open(rwl_pathf(p, "%s/l1/" SPARE_DIR "/%u", s->lo,
				    s->mounts), O_WRONLY | O_CREAT | O_CLOEXEC,
			  0644);
		if (fd < 0) {
			rwl_log("create %s: %s", p, strerror(errno));
			return -errno;
		}
		close(fd);
	}
	s->mounts++;
	if (mount(type, s->mnt, type, 0, s->opts)) {
		rwl_log("%s: mount -t %s -o %s: %s", s->label, type, s->opts,
			strerror(errno));
		return -errno;
	}
	s->mounted = true;
	rwl_env_record(c->env, s->mnt);
	s->fd = open(s->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0) {
		rwl_log("open %s: %s", s->mnt, strerror(errno));
		return -errno;
	}
	return 0;
}

static int side_umount(struct ctx *c, struct side *s)
{
	int err;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (!s->mounted)
		return 0;
	err = rwl_umount(c->env, s->mnt);
	if (err)
		rwl_log("%s: umount %s: %s", s->label, s->mnt, strerror(-err));
	else
		s->mounted = false;
	return err;
}

/* Remount side @s's upper tmpfs so that it has @blocks and @inodes free. */
static int set_free(struct side *s, unsigned long blocks, unsigned long inodes)
{
	unsigned long long nr_blocks, nr_inodes;
	struct statfs f;
	char opts[128];

	if (statfs(s->rw, &f)) {
		rwl_log("statfs %s: %s", s->rw, strerror(errno));
		return -errno;
	}
	if (f.f_bfree == blocks && (!inodes_exact || f.f_ffree == inodes))
		return 0;
	/* 0 would mean no limit */
	nr_blocks = f.f_blocks - f.f_bfree + blocks;
	nr_inodes = f.f_files - f.f_ffree + inodes;
	snprintf(opts, sizeof(opts), "nr_blocks=%llu",
		 nr_blocks ? nr_blocks : 1);
	if (inodes_exact)
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 ",nr_inodes=%llu", nr_inodes);
	if (mount(NULL, s->rw, NULL, MS_REMOUNT, opts)) {
		rwl_log("remount %s with %s: %s", s->rw, opts, strerror(errno));
		return -errno;
	}
	return 0;
}

#define FEWER	ULONG_MAX	/* upper_space(): the fewer free of the two */

/*
 * Give both uppers @blocks free pages and (where inodes_exact) @inodes
 * free inodes, or with FEWER what the one with fewer free has: the two
 * unions keep different things of their own in the upper (overlayfs its
 * work/work directory), so the free space is evened out after every
 * operation, by remounting the upper's tmpfs with new limits.
 */
static int upper_space(struct ctx *c, unsigned long blocks,
		       unsigned long inodes)
{
	struct statfs f[2];
	unsigned int i;
	int err = 0;

	for (i = 0; i < 2; i++) {
		if (statfs(c->side[i].rw, &f[i])) {
			rwl_log("statfs %s: %s", c->side[i].rw, strerror(errno));
			return -errno;
		}
	}
	if (blocks == FEWER)
		blocks = f[0].f_bfree < f[1].f_bfree ? f[0].f_bfree : f[1].f_bfree;
	if (inodes == FEWER)
		inodes = f[0].f_ffree < f[1].f_ffree ? f[0].f_ffree : f[1].f_ffree;
	for (i = 0; i < 2 && !err; i++)
		err = set_free(&c->side[i], blocks, inodes);
	return err;
}

/* Entries in directory @path other than "." and ".."; -errno. */
static int count_entries(const char *path)
{
	struct rwl_dents d = { 0 };
	size_t i;
	int n;

	n = rwl_list_dir(path, 4096, &d);
	if (n < 0)
		return n;
	for (i = n = 0; i < d.num; i++)
		n += strcmp(d.v[i].name, ".") && strcmp(d.v[i].name, "..");
	rwl_dents_free(&d);
	return n;
}

/*
 * overlayfs makes its first whiteout in the work directory, keeps it and
 * hard-links it for every whiteout after; when a link fails (ENOSPC) it
 * hands out the kept one and stops sharing.  The kept inode would let it
 * make one whiteout more than an upper that counts inodes has room for.
 * So on such a small upper every mount starts with each union deleting
 * the lower file SPARE_DIR/N (made before the mount) while its upper has
 * one inode free: overlayfs then stops sharing at once.
 */
static int unshare_whiteouts(struct ctx *c)
{
	char p[RWL_PATH];
	struct statfs f;
	unsigned int i;
	int err = 0, n;

	for (i = 0; i < 2 && !err; i++) {
		struct side *s = &c->side[i];

		if (statfs(s->rw, &f))
			return -errno;
		err = set_free(s, f.f_bfree, 1);
		if (err)
			break;
		if (unlink(rwl_pathf(p, "%s/" SPARE_DIR "/%u", s->mnt,
				     s->mounts - 1))) {
			err = -errno;
			rwl_log("%s: unlink %s: %s", s->label, p, strerror(errno));
			break;
		}
		n = count_entries(rwl_pathf(p, "%s/work/work", s->rw));
		if (!s->is_rwl && n) {
			rwl_log("%s: %d entries left in %s", s->label, n, p);
			err = -EEXIST;
		}
	}
	return err;
}

/*
 * After the unions were mounted: on a small upper, give them @blocks
 * and @inodes free (or FEWER), after unshare_whiteouts() where the upper
 * counts inodes.
 */
static int after_mount(struct ctx *c, unsigned long blocks,
		       unsigned long inodes)
{
	int err;

	if (!c->small)
		return 0;
	err = inodes_exact ? unshare_whiteouts(c) : 0;
	return err ? err : upper_space(c, blocks, inodes);
}

/*
 * Fresh layers and mounts for both sides under base/runN.  The upper's
 * root is 0755, 0777 or 01777 (a shared /tmp), by the seed; every
 * SMALL_EVERY-th seed's upper tmpfs is small, so that it runs out.
 */
static int pair_setup(struct ctx *c)
{
	static const mode_t upper_modes[] = { 0755, 0777, 01777 };
	char run[RWL_PATH], up[RWL_PATH], work[RWL_PATH], spare[RWL_PATH];
	char rw_opts[64];
	mode_t upper_mode;
	struct rng r;
	unsigned int i;
	int err;

	rng_seed(&r, (uint64_t)c->seed << 32 | 0xb0d9e7);
	upper_mode = upper_modes[rnd(&r, ARRAY_SIZE(upper_modes))];
	c->small = c->seed % SMALL_EVERY == 0;
	/* 96 KiB to 256 KiB free, 40 to 100 inodes */
	c->small_blocks = 24 + rnd(&r, 41);
	c->small_inodes = 40 + rnd(&r, 61);
	/* limits from the start: tmpfs cannot add them at a remount */
	snprintf(rw_opts, sizeof(rw_opts), "mode=0755,nr_blocks=4096%s",
		 inodes_exact ? ",nr_inodes=4096" : "");
	rwl_pathf(run, "%s/run%u", c->env->base, c->runs++);
	err = rwl_mkdir(run, 0755);
	for (i = 0; i < 2 && !err; i++) {
		struct side *s = &c->side[i];

		s->is_rwl = i == 1 && !c->self;
		s->label = s->is_rwl ? "rwlayer" : i ? "overlayfs(2)" : "overlayfs";
		s->fd = -1;
		s->mounted = false;
		s->mounts = 0;
		rwl_pathf(s->dir, "%s/%c", run, i ? 'r' : 'o');
		rwl_pathf(s->lo, "%s/lo", s->dir);
		rwl_pathf(s->rw, "%s/rw", s->dir);
		/* Nested, so a chroot escape would still be private. */
		rwl_pathf(s->mnt, "%s/x/y/mnt", s->dir);
		rwl_pathf(up, "%s/upper", s->rw);
		rwl_pathf(work, "%s/work", s->rw);
		err = rwl_mkdir(s->dir, 0755);
		if (!err)
			err = mkdir_p(s->dir, "x/y/mnt/", NULL);
		if (!err)
			err = rwl_mount_tmpfs(c->env, s->lo, NULL);
		if (!err)
			err = rwl_mount_tmpfs(c->env, s->rw,
					      c->small ? rw_opts : NULL);
		if (!err)
			err = rwl_mkdir(up, 0755);
		if (!err && chmod(up, upper_mode))
			err = -errno;
		if (!err)
			err = rwl_mkdir(work, 0755);
		if (!err)
			err = build_lowers(s, c->seed);
		if (!err && c->small && inodes_exact) {
			err = rwl_mkdir(rwl_pathf(spare, "%s/l1/" SPARE_DIR,
						  s->lo), 0755);
			if (!err)
				err = rwl_mkdir(rwl_pathf(spare, "%s/" SPARE_DIR,
							  up), 0755);
		}
		if (err)
			break;
		if (s->is_rwl)
			snprintf(s->opts, sizeof(s->opts),
				 "lower=%s/l0:%s/l1,upper=%s,work=%s",
				 s->lo, s->lo, up, work);
		else
			snprintf(s->opts, sizeof(s->opts),
				 "lowerdir=%s/l0:%s/l1,upperdir=%s,workdir=%s,"
				 "redirect_dir=%s,index=off,metacopy=off,xino=off",
				 s->lo, s->lo, up, work,
				 i == 1 && c->self == 2 ? "on" : "off");
		err = side_mount(c, s);
	}
	return err ? err : after_mount(c, c->small_blocks, c->small_inodes);
}

static void exchange_done(void);

static void pair_teardown(struct ctx *c)
{
	unsigned int i;

	exchange_done();
	for (i = 0; i < 2; i++) {
		struct side *s = &c->side[i];

		side_umount(c, s);
		if (rwl_is_mountpoint(s->rw))
			rwl_umount(c->env, s->rw);
		if (rwl_is_mountpoint(s->lo))
			rwl_umount(c->env, s->lo);
	}
}

/* ---- running operations -------------------------------------------- */

static int enter(struct side *s)
{
	if (fchdir(s->fd) || chroot(".")) {
		rwl_log("chroot into %s: %s", s->mnt, strerror(errno));
		return -1;
	}
	return 0;
}

static void leave(struct ctx *c)
{
	if (fchdir(c->rootfd) || chroot(".")) {
		rwl_log("leaving the chroot: %s", strerror(errno));
		abort();
	}
}

static char *pattern_buf(const struct op *op, uint64_t off, size_t len)
{
	char *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	rwl_pattern_fill(buf, len, off, op->dseed);
	return buf;
}

/*
 * What stat() must agree on.  Not compared: st_dev and st_ino (differ by
 * design), the times (set by the clock; OP_UTIMES checks explicit ones),
 * st_blocks, and the st_size of a directory: that is the size of
 * whichever real directory the union shows (tmpfs counts its entries,
 * whiteouts included), so it changes with when a directory was copied
 * up, which rwlayer.rst defines differently (a failing removexattr
 * copies up in rwlayer, not in overlayfs).  The link count is compared,
 * directories included.
 */
static void stat_info(struct res *r, const struct stat *st)
{
	const char *t = S_ISREG(st->st_mode) ? "reg" :
			S_ISDIR(st->st_mode) ? "dir" :
			S_ISLNK(st->st_mode) ? "lnk" :
			S_ISFIFO(st->st_mode) ? "fifo" :
			S_ISCHR(st->st_mode) ? "chr" : "other";

	res_addf(r, "%s %04o %u:%u", t, (unsigned int)(st->st_mode & 07777),
		 st->st_uid, st->st_gid);
	if (!S_ISDIR(st->st_mode))
		res_addf(r, " size=%lld", (long long)st->st_size);
	res_addf(r, " nlink=%lu", (unsigned long)st->st_nlink);
	if (S_ISCHR(st->st_mode))
		res_addf(r, " rdev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
}

/* Read @fd from offset 0 to EOF (at most MAX_READ) and note the hash. */
static void read_info(struct res *r, int fd)
{
	static char buf[65536];
	uint64_t h = FNV_INIT, total = 0;
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, sizeof(buf), total);
		if (n < 0) {
			res_fail(r, "read");
			return;
		}
		if (n == 0 || total >= MAX_READ)
			break;
		h = fnv(h, buf, n);
		total += n;
	}
	res_addf(r, "%sbytes=%llu fnv=%016llx", r->len ? " " : "",
		 (unsigned long long)total, (unsigned long long)h);
}

static void xattr_value_info(struct res *r, const char *path, const char *name)
{
	char val[256];
	ssize_t n, i;

	n = lgetxattr(path, name, val, sizeof(val));
	if (n < 0) {
		res_fail(r, "lgetxattr");
		return;
	}
	res_addf(r, "%s=\"", name);
	for (i = 0; i < n; i++)
		res_addf(r, val[i] >= 32 && val[i] < 127 ? "%c" : "\\x%02x",
			 (unsigned char)val[i]);
	res_addf(r, "\"");
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted xattr names of @path, with values when @values. */
static void xattr_list_info(struct res *r, const char *path, bool values)
{
	char list[4096], *v[64], *p;
	size_t i, n = 0;
	ssize_t len;

	len = llistxattr(path, list, sizeof(list));
	if (len < 0) {
		res_fail(r, "llistxattr");
		return;
	}
	for (p = list; p < list + len && n < ARRAY_SIZE(v); p += strlen(p) + 1)
		v[n++] = p;
	qsort(v, n, sizeof(v[0]), str_cmp);
	res_addf(r, "xattrs[");
	for (i = 0; i < n; i++) {
		res_addf(r, "%s", i ? " " : "");
		if (values)
			xattr_value_info(r, path, v[i]);
		else
			res_addf(r, "%s", v[i]);
	}
	res_addf(r, "]");
}

static char dtype_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_FIFO: return 'p';
	case DT_CHR: return 'c';
	case DT_UNKNOWN: return 'u';
	}
	return '?';
}

static void readdir_info(struct res *r, const char *path)
{
	struct rwl_dents d = { 0 };
	size_t i;
	int err;

	err = rwl_list_dir(path, 32768, &d);
	if (err < 0) {
		errno = -err;
		res_fail(r, "getdents");
		return;
	}
	rwl_dents_sort(&d);
	for (i = 0; i < d.num; i++)
		res_addf(r, "%s%s:%c", i ? " " : "", d.v[i].name,
			 dtype_char(d.v[i].type));
	rwl_dents_free(&d);
}

/* Everything below directory @path (in the chroot), one line per entry. */
static void walk(struct res *r, const char *path, int depth)
{
	struct rwl_dents d = { 0 };
	char p[RWL_PATH], target[256];
	struct stat st;
	ssize_t n;
	size_t i;
	int err, fd;

	err = rwl_list_dir(path, 32768, &d);
	if (err < 0) {
		res_addf(r, "%s: getdents: %s\n", path, errname(-err));
		return;
	}
	rwl_dents_sort(&d);
	for (i = 0; i < d.num; i++) {
		if (!strcmp(d.v[i].name, ".") || !strcmp(d.v[i].name, ".."))
			continue;
		rwl_pathf(p, "%s/%s", path, d.v[i].name);
		res_addf(r, "%s d_type=%c ", p + 2, dtype_char(d.v[i].type));
		if (lstat(p, &st)) {
			res_addf(r, "lstat: %s\n", errname(errno));
			continue;
		}
		stat_info(r, &st);
		res_addf(r, " ");
		if (S_ISLNK(st.st_mode)) {
			n = readlink(p, target, sizeof(target) - 1);
			if (n >= 0)
				res_addf(r, "-> \"%.*s\" ", (int)n, target);
			else
				res_addf(r, "readlink: %s ", errname(errno));
		} else if (S_ISREG(st.st_mode)) {
			fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0) {
				read_info(r, fd);
				close(fd);
				res_addf(r, " ");
			} else {
				res_addf(r, "open: %s ", errname(errno));
			}
		}
		xattr_list_info(r, p, true);
		res_addf(r, "\n");
		if (S_ISDIR(st.st_mode) && depth < 8)
			walk(r, p, depth + 1);
	}
	rwl_dents_free(&d);
}

/* The permission bits of @fd, or of @path when @fd < 0; -1: none. */
static mode_t mode_of(int fd, const char *path)
{
	int saved = errno;
	struct stat st;
	mode_t mode = -1;

	if (!(fd >= 0 ? fstat(fd, &st) : stat(path, &st)))
		mode = st.st_mode & 07777;
	errno = saved;
	return mode;
}

/*
 * Note what a write did to the mode of an existing file: set-id bits
 * cleared for a caller without CAP_FSETID.  @after of @fd or @path.
 */
static void mode_note(struct res *r, mode_t before, int fd, const char *path)
{
	mode_t after = mode_of(fd, path);

	if (before != (mode_t)-1 && before != after)
		res_addf(r, "%smode %04o->%04o", r->len ? " " : "",
			 (unsigned int)before, (unsigned int)after);
}

/*
 * open + pwrite of the op's pattern; the result is the bytes written,
 * and the mode change if there was one.
 */
static void do_write(struct res *r, const struct op *op, int flags,
		     uint64_t off, size_t len)
{
	char *buf = pattern_buf(op, off, len);
	mode_t before = mode_of(-1, op->a);
	ssize_t n;
	int fd;

	fd = open(op->a, flags | O_NONBLOCK | O_CLOEXEC, op->mode);
	if (fd < 0) {
		res_fail(r, "open");
	} else {
		n = flags & O_APPEND ? write(fd, buf, len) : pwrite(fd, buf, len, off);
		if (n < 0)
			res_fail(r, "write");
		else
			r->ret = n;
		mode_note(r, before, fd, NULL);
		if (close(fd))
			res_fail(r, "close");
	}
	free(buf);
}

/*
 * A write to a shared mapping of a hole fails with SIGBUS when the upper
 * is full: the handler jumps back into do_mmap_write().
 */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void do_mmap_write(struct res *r, const struct op *op)
{
	struct stat st;
	size_t len, off;
	char *map, *buf;
	int fd;

	fd = open(op->a, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		res_fail(r, "open");
		return;
	}
	if (fstat(fd, &st)) {
		res_fail(r, "fstat");
	} else if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		res_addf(r, "not mapped");
	} else {
		off = op->off % st.st_size;
		len = op->len < st.st_size - off ? op->len : st.st_size - off;
		map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		if (map == MAP_FAILED) {
			res_fail(r, "mmap");
		} else {
			buf = pattern_buf(op, off, len);
			if (sigsetjmp(bus_jmp, 1) == 0) {
				bus_armed = 1;
				memcpy(map + off, buf, len);
				bus_armed = 0;
				if (msync(map, st.st_size, MS_SYNC))
					res_fail(r, "msync");
				else
					r->ret = len;
			} else {
				bus_armed = 0;
				errno = EFAULT;
				res_fail(r, "SIGBUS");
			}
			free(buf);
			munmap(map, st.st_size);
		}
	}
	close(fd);
}

static void do_copy_range(struct res *r, const struct op *op)
{
	loff_t off_in = op->off, off_out = op->idx;
	mode_t before;
	int in, out;
	ssize_t n;

	in = open(op->a, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0) {
		res_fail(r, "open a");
		return;
	}
	out = open(op->b, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (out < 0) {
		res_fail(r, "open b");
	} else {
		before = mode_of(out, NULL);
		n = copy_file_range(in, &off_in, out, &off_out, op->len, 0);
		if (n < 0)
			res_fail(r, "copy_file_range");
		else
			r->ret = n;
		mode_note(r, before, out, NULL);
		close(out);
	}
	close(in);
}

static void do_read_old_fd(struct res *r, const struct op *op)
{
	int fd;

	fd = open(op->a, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		res_fail(r, "open ro");
		return;
	}
	read_info(r, fd);
	res_addf(r, " then");
	do_write(r, op, O_WRONLY, op->off, op->len);
	res_addf(r, " then fd:");
	read_info(r, fd);
	close(fd);
}

/*
 * An open file outlives its name: write and read through the fd after
 * the unlink (the file is copied up at the open for write).
 */
static void do_unlink_open(struct res *r, const struct op *op)
{
	char *buf = pattern_buf(op, op->off, op->len);
	struct stat st;
	mode_t before;
	ssize_t n;
	int fd;

	fd = open(op->a, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		res_fail(r, "open");
		free(buf);
		return;
	}
	before = mode_of(fd, NULL);
	if (unlink(op->a)) {
		res_fail(r, "unlink");
	} else {
		n = pwrite(fd, buf, op->len, op->off);
		if (n < 0)
			res_fail(r, "pwrite");
		else
			res_addf(r, "wrote %zd ", n);
		read_info(r, fd);
		if (fstat(fd, &st))
			res_fail(r, "fstat");
		else
			res_addf(r, " size=%lld nlink=%lu", (long long)st.st_size,
				 (unsigned long)st.st_nlink);
		mode_note(r, before, fd, NULL);
	}
	close(fd);
	free(buf);
}

static void do_utimes(struct res *r, const struct op *op)
{
	struct timespec ts[2] = {
		{ .tv_sec = op->off, .tv_nsec = op->dseed % 1000000000 },
		{ .tv_sec = op->off + op->len, .tv_nsec = 0 },
	};
	struct stat st;

	if (utimensat(AT_FDCWD, op->a, ts, AT_SYMLINK_NOFOLLOW)) {
		res_fail(r, "utimensat");
		return;
	}
	if (lstat(op->a, &st)) {
		res_fail(r, "lstat");
		return;
	}
	res_addf(r, "atime=%lld.%09ld mtime=%lld.%09ld",
		 (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/*
 * The directories a RENAME_EXCHANGE resolved its names in, kept open so
 * that exchange_resync() can swap the same two entries back even when a
 * path led through one of them.  Closed by exchange_done().
 */
static struct {
	int dfd[2];
	char name[2][PATH_LEN];		/* as given, maybe with a slash */
	char bare[2][PATH_LEN];		/* without: what was swapped */
} exch = { .dfd = { -1, -1 } };

static int open_parent(const char *path, char *name)
{
	size_t len = strlen(path), end = len;
	char dir[PATH_LEN];

	while (end > 1 && path[end - 1] == '/')
		end--;
	while (end > 0 && path[end - 1] != '/')
		end--;
	snprintf(name, PATH_LEN, "%s", path + end);
	snprintf(dir, sizeof(dir), "%.*s", (int)end, path);
	return open(end ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static void exchange_done(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (exch.dfd[i] >= 0)
			close(exch.dfd[i]);
		exch.dfd[i] = -1;
	}
}

static void do_exchange(struct res *r, const struct op *op)
{
	int i;

	exchange_done();
	exch.dfd[0] = open_parent(op->a, exch.name[0]);
	if (exch.dfd[0] < 0) {
		res_fail(r, "open parent a");
		return;
	}
	exch.dfd[1] = open_parent(op->b, exch.name[1]);
	if (exch.dfd[1] < 0) {
		res_fail(r, "open parent b");
		return;
	}
	for (i = 0; i < 2; i++) {
		memcpy(exch.bare[i], exch.name[i], PATH_LEN);
		exch.bare[i][strcspn(exch.bare[i], "/")] = '\0';
	}
	r->ret = renameat2(exch.dfd[0], exch.name[0], exch.dfd[1],
			   exch.name[1], RENAME_EXCHANGE);
}

/* Run @op in the current root (the side's union), filling @r. */
static void exec_op(const struct op *op, struct res *r)
{
	char buf[256];
	struct stat st;
	mode_t before;
	ssize_t n;
	int fd;

	res_reset(r);
	errno = 0;
	switch (op->kind) {
	case OP_CREATE:
		do_write(r, op, O_CREAT | O_WRONLY | op->flags, 0, op->len);
		break;
	case OP_WRITE:
		do_write(r, op, O_WRONLY, op->off, op->len);
		break;
	case OP_APPEND:
		do_write(r, op, O_WRONLY | O_APPEND, 0, op->len);
		break;
	case OP_OTRUNC:
		do_write(r, op, O_WRONLY | O_TRUNC, 0, op->len % 100);
		break;
	case OP_TRUNCATE:
		before = mode_of(-1, op->a);
		if (truncate(op->a, op->len))
			res_fail(r, "truncate");
		mode_note(r, before, -1, op->a);
		break;
	case OP_FALLOCATE:
		fd = open(op->a, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			res_fail(r, "open");
			break;
		}
		before = mode_of(fd, NULL);
		if (fallocate(fd, op->flags, op->off, op->len))
			res_fail(r, "fallocate");
		mode_note(r, before, fd, NULL);
		close(fd);
		break;
	case OP_MMAP_WRITE:
		do_mmap_write(r, op);
		break;
	case OP_COPY_RANGE:
		do_copy_range(r, op);
		break;
	case OP_RENAME:
		if (op->flags == RENAME_EXCHANGE)
			do_exchange(r, op);
		else
			r->ret = renameat2(AT_FDCWD, op->a, AT_FDCWD, op->b,
					   op->flags);
		break;
	case OP_LINK:
		r->ret = link(op->a, op->b);
		break;
	case OP_SYMLINK:
		r->ret = symlink(link_targets[op->idx], op->a);
		break;
	case OP_UNLINK:
		r->ret = unlink(op->a);
		break;
	case OP_MKDIR:
		r->ret = mkdir(op->a, op->mode);
		break;
	case OP_RMDIR:
		r->ret = rmdir(op->a);
		break;
	case OP_MKFIFO:
		r->ret = mknod(op->a, S_IFIFO | 0640, 0);
		break;
	case OP_MKNOD_WHITEOUT:
		r->ret = mknod(op->a, S_IFCHR | 0600, makedev(0, 0));
		break;
	case OP_CHMOD:
		r->ret = chmod(op->a, op->mode);
		break;
	case OP_CHOWN:
		r->ret = lchown(op->a, owners[op->idx], owners[op->idx]);
		break;
	case OP_SETXATTR:
		snprintf(buf, sizeof(buf), "v%u", op->dseed);
		while (strlen(buf) < op->len)
			strcat(buf, "x");
		buf[op->len] = '\0';
		r->ret = lsetxattr(op->a, xattr_names[op->idx], buf, op->len,
				   op->flags);
		break;
	case OP_REMOVEXATTR:
		r->ret = lremovexattr(op->a, xattr_names[op->idx]);
		break;
	case OP_GETXATTR:
		xattr_value_info(r, op->a, xattr_names[op->idx]);
		break;
	case OP_LISTXATTR:
		xattr_list_info(r, op->a, false);
		break;
	case OP_READDIR:
		readdir_info(r, op->a);
		break;
	case OP_STAT:
	case OP_LSTAT:
		if ((op->kind == OP_STAT ? stat : lstat)(op->a, &st))
			res_fail(r, "stat");
		else
			stat_info(r, &st);
		break;
	case OP_READ:
		fd = open(op->a, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			res_fail(r, "open");
			break;
		}
		read_info(r, fd);
		close(fd);
		break;
	case OP_READLINK:
		n = readlink(op->a, buf, sizeof(buf) - 1);
		if (n < 0)
			res_fail(r, "readlink");
		else
			res_addf(r, "\"%.*s\"", (int)n, buf);
		break;
	case OP_READ_OLD_FD:
		do_read_old_fd(r, op);
		break;
	case OP_UNLINK_OPEN:
		do_unlink_open(r, op);
		break;
	case OP_UTIMES:
		do_utimes(r, op);
		break;
	case OP_WALK:
		walk(r, ".", 0);
		break;
	case OP_REMOUNT:
	case OP_DROP_CACHES:
	case OP_GEN:
	case NUM_KINDS:
		break;
	}
	if (r->ret < 0 && !r->err)
		r->err = errno;
}

static bool res_equal(const struct res *x, const struct res *y)
{
	return x->ret == y->ret && x->err == y->err &&
	       !strcmp(x->info ? x->info : "", y->info ? y->info : "");
}

/* ---- credentials --------------------------------------------------- */

typedef void step_fn(const struct op *op, struct res *r);

/* The test's own capabilities, taken at the start (capget). */
static struct __user_cap_data_struct own_caps[_LINUX_CAPABILITY_U32S_3];

static int set_caps(bool effective)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned int i;

	memcpy(d, own_caps, sizeof(d));
	for (i = 0; i < ARRAY_SIZE(d); i++)
		d[i].effective = effective ? d[i].permitted : 0;
	return syscall(SYS_capset, &h, d);
}

/*
 * Become fsuid and fsgid 65534 with an empty effective capability set
 * (no groups: the fixture dropped them), or root with every capability
 * again.  Permission checks use the fs ids and the effective set only,
 * so the process is then an unprivileged caller for every path
 * operation, and can come back.
 */
static void become_nobody(bool nobody)
{
	uid_t id = nobody ? RWL_NOBODY : 0;
	int err;

	if (nobody) {
		setfsgid(id);
		setfsuid(id);
		err = set_caps(false);
	} else {
		err = set_caps(true);
		setfsuid(id);
		setfsgid(id);
	}
	if (err || setfsuid(-1) != (int)id || setfsgid(-1) != (int)id) {
		rwl_log("switching to fsuid %u: %s", id, strerror(errno));
		abort();
	}
}

/*
 * The user namespace of CRED_USERNS steps: made once (userns_make()),
 * its only mappings 0 -> 65534 for uids and gids.
 */
static int userns_fd = -1;

struct userns_step {
	const struct op *op;
	step_fn *fn;
	struct res *r;
	int err;		/* the child could not join */
};

static int userns_child(void *arg)
{
	struct userns_step *u = arg;

	/* raw syscalls: glibc's id changes would signal the parent's threads */
	if (setns(userns_fd, CLONE_NEWUSER) ||
	    syscall(SYS_setresgid, 0, 0, 0) || syscall(SYS_setresuid, 0, 0, 0)) {
		u->err = errno;
		return 1;
	}
	u->fn(u->op, u->r);
	return 0;
}

/*
 * @fn in a child that joins the user namespace and becomes its uid and
 * gid 0 (so 65534 outside, with every capability in there and none over
 * files whose owner or group it does not map).  The child keeps the
 * chroot into the union: joining a user namespace, unlike making one,
 * is allowed there.  It shares our memory (CLONE_VM, and we wait until
 * it exits: CLONE_VFORK), so it fills @r itself, without a copy of our
 * address space to make, and our files (CLONE_FILES), so the
 * directories do_exchange() opens stay open for exchange_resync().
 */
static int run_userns(const struct op *op, step_fn *fn, struct res *r)
{
	static char stack[256 << 10] __attribute__((aligned(16)));
	struct userns_step u = { .op = op, .fn = fn, .r = r };
	int status = 0;
	pid_t pid;

	pid = clone(userns_child, stack + sizeof(stack),
		    CLONE_VM | CLONE_FILES | CLONE_VFORK | SIGCHLD, &u);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		rwl_log("user namespace step failed (status %#x): %s", status,
			strerror(pid < 0 ? errno : u.err));
		return -1;
	}
	return 0;
}

/*
 * The user namespace: a child makes it (not chrooted), we write its id
 * maps as root and keep it open.  Returns 0 or -errno.
 */
static int userns_make(void)
{
	int ready[2], hold[2], fd, err = 0, status;
	const char *const maps[] = { "uid_map", "gid_map" };
	char path[64], byte = 0;
	unsigned int i;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC))
		return -errno;
	if (pipe2(hold, O_CLOEXEC)) {
		err = -errno;
		goto out_ready;
	}
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1)
			_exit(1);
		/* until the parent closes hold[1] */
		_exit(read(hold[0], &byte, 1) == 0 ? 0 : 1);
	}
	if (pid < 0) {
		err = -errno;
		goto out_hold;
	}
	close(hold[0]);
	hold[0] = -1;
	close(ready[1]);
	ready[1] = -1;
	if (read(ready[0], &byte, 1) != 1)
		err = -ECHILD;
	for (i = 0; i < ARRAY_SIZE(maps) && !err; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, maps[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0 65534 1", 9) != 9)
			err = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (!err) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		userns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (userns_fd < 0)
			err = -errno;
	}
	close(hold[1]);
	hold[1] = -1;
	if (waitpid(pid, &status, 0) != pid)
		err = err ? err : -ECHILD;
out_hold:
	for (i = 0; i < 2; i++)
		if (hold[i] >= 0)
			close(hold[i]);
out_ready:
	for (i = 0; i < 2; i++)
		if (ready[i] >= 0)
			close(ready[i]);
	if (err)
		rwl_log("making a user namespace: %s", strerror(-err));
	return err;
}

/*
 * Run @fn for @op (in the union we are chrooted in) with the op's
 * credentials.  Returns -1 if they could not be taken.
 */
static int run_step(const struct op *op, step_fn *fn, struct res *r)
{
	int err = 0;

	umask(op->umask);
	switch (op->cred) {
	case CRED_NOBODY:
		become_nobody(true);
		fn(op, r);
		become_nobody(false);
		break;
	case CRED_USERNS:
		err = run_userns(op, fn, r);
		break;
	default:
		fn(op, r);
		break;
	}
	umask(022);
	return err;
}

/* ---- documented differences ---------------------------------------- */

/* rwlayer: EINVAL for RENAME_EXCHANGE wherever the VFS got that far. */
static bool exchange_allowed(const struct op *op, const struct res *ovl,
			     const struct res *rwl)
{
	return op->kind == OP_RENAME && op->flags == RENAME_EXCHANGE &&
	       rwl->ret == -1 && rwl->err == EINVAL &&
	       (ovl->ret == 0 || ovl->err != EINVAL);
}

/* If overlayfs swapped the names, swap them back (same flags). */
static void exchange_resync(const struct op *op, struct res *ovl)
{
	(void)op;
	if (ovl->ret == 0 &&
	    renameat2(exch.dfd[0], exch.bare[0], exch.dfd[1], exch.bare[1],
		      RENAME_EXCHANGE))
		rwl_log("undoing the overlayfs exchange: %s", strerror(errno));
}

/*
 * rwlayer: a file opened read-only before its copy-up keeps reading the
 * lower file (rwlayer.rst, Open files).  overlayfs (since 4.19) reopens
 * the upper copy, so the old fd sees the write.  Everything else, the
 * first read and the write, must agree; the old fd must read either what
 * overlayfs read (no copy-up happened) or what it read before the write.
 */
static const char *after(const struct res *r, const char *marker)
{
	const char *p = r->info ? strstr(r->info, marker) : NULL;

	return p ? p + strlen(marker) : NULL;
}

static bool old_fd_allowed(const struct op *op, const struct res *ovl,
			   const struct res *rwl)
{
	const char *o = after(ovl, " then fd:"), *w = after(rwl, " then fd:");
	const char *first = rwl->info, *first_end = after(rwl, " then");
	size_t len;

	(void)op;
	if (!o || !w || !first_end || ovl->ret != rwl->ret ||
	    ovl->err != rwl->err)
		return false;
	/* identical up to the old fd's read */
	if (o - ovl->info != w - rwl->info ||
	    memcmp(ovl->info, rwl->info, o - ovl->info))
		return false;
	len = first_end - strlen(" then") - first;
	while (*o == ' ')
		o++;
	while (*w == ' ')
		w++;
	return !strcmp(o, w) || (strlen(w) == len && !memcmp(w, first, len));
}

/*
 * rwlayer: copy_file_range() between two files of the union works even
 * when they live in different layers (the VFS splices the data), so it
 * can also run out of space (ENOSPC from the copy itself, both files
 * open); overlayfs hands the real files down and gets EXDEV from the
 * lower and upper filesystems.
 */
static bool copy_range_allowed(const struct op *op, const struct res *ovl,
			       const struct res *rwl)
{
	(void)op;
	return ovl->ret == -1 && ovl->err == EXDEV &&
	       (rwl->ret >= 0 || (rwl->err == ENOSPC && rwl->info &&
				  !strncmp(rwl->info, "copy_file_range", 15)));
}

/* Do on overlayfs by hand what copy_file_range() did on rwlayer. */
static void copy_range_resync(const struct op *op, struct res *ovl)
{
	off_t in_off = op->off, out_off = op->idx;
	size_t left = op->len;
	char buf[4096];
	int in, out;
	ssize_t n;

	(void)ovl;
	in = open(op->a, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	out = open(op->b, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	while (in >= 0 && out >= 0 && left) {
		n = pread(in, buf, left < sizeof(buf) ? left : sizeof(buf),
			  in_off);
		if (n <= 0 || pwrite(out, buf, n, out_off) != n)
			break;
		in_off += n;
		out_off += n;
		left -= n;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

/*
 * rwlayer: a directory renamed over a merged directory whose upper holds
 * only whiteouts empties that upper directory in place (rwlayer.rst,
 * Upper layout); overlayfs makes a new opaque directory in its work
 * directory and exchanges it in, one inode more.  On a full upper only
 * overlayfs fails (ENOSPC): roomier_rename() checks that the names are
 * two directories and that overlayfs does the rename with one inode more.
 */
static bool roomier_rename_allowed(const struct op *op, const struct res *ovl,
				   const struct res *rwl)
{
	return op->flags == 0 && ovl->ret == -1 && ovl->err == ENOSPC &&
	       rwl->ret == 0;
}

/*
 * rwlayer: truncate() to 0 of a lower file copies it up without its data
 * (rwlayer.rst, Copy-up), as both unions do for open(O_TRUNC); overlayfs
 * copies the data and then truncates, which a small upper may not have
 * room for.  The resync is overlayfs' own copy-up without data.
 */
static bool truncate_empty_allowed(const struct op *op, const struct res *ovl,
				   const struct res *rwl)
{
	return op->len == 0 && ovl->ret == -1 && ovl->err == ENOSPC &&
	       rwl->ret == 0;
}

static void truncate_empty_resync(const struct op *op, struct res *ovl)
{
	int fd = open(op->a, O_WRONLY | O_TRUNC | O_NONBLOCK | O_CLOEXEC);

	(void)ovl;
	if (fd >= 0)
		close(fd);
}

/*
 * The only places where rwlayer may answer differently from overlayfs.
 * @allowed says whether a pair of results is the documented difference;
 * @resync (run chrooted in the overlayfs, as root or with the op's
 * credentials if @as_caller) then brings the overlayfs back to the state
 * rwlayer is in, so the comparison can go on.  With @copy_ups, what
 * overlayfs copied up on the way (which the link counts of lower hard
 * links and directories show) is copied up in rwlayer too, by
 * sync_copy_ups().  With @roomier (small uppers that count inodes only),
 * overlayfs must do the operation when it gets one inode more.
 */
static const struct known_diff {
	enum op_kind kind;
	bool (*allowed)(const struct op *op, const struct res *ovl,
			const struct res *rwl);
	step_fn *resync;
	bool as_caller, copy_ups, roomier;
	const char *reason;
} known_diffs[] = {
	{ OP_RENAME, exchange_allowed, exchange_resync, false, true, false,
	  "rwlayer.rst, Rename: RENAME_EXCHANGE is not supported (EINVAL); "
	  "overlayfs copies the names up and swaps them" },
	{ OP_COPY_RANGE, copy_range_allowed, copy_range_resync, true, false,
	  false,
	  "rwlayer.rst, Copy-up: copy_file_range() works across layers "
	  "(or runs out of space); overlayfs gets EXDEV from the real files" },
	{ OP_READ_OLD_FD, old_fd_allowed, NULL, false, false, false,
	  "rwlayer.rst, Open files: an fd opened read-only before the copy-up "
	  "keeps reading the lower file; overlayfs reopens the upper copy" },
	{ OP_TRUNCATE, truncate_empty_allowed, truncate_empty_resync, true,
	  false, false,
	  "rwlayer.rst, Copy-up: truncate() to 0 copies up no data; "
	  "overlayfs copies the data first (ENOSPC on a full upper)" },
	{ OP_RENAME, roomier_rename_allowed, NULL, false, false, true,
	  "rwlayer.rst, Upper layout: a directory renamed over a merged one "
	  "empties its upper in place; overlayfs needs an inode more for a "
	  "new opaque directory (ENOSPC on a full upper)" },
};

static const struct known_diff *known_diff(const struct op *op,
					   const struct res *ovl,
					   const struct res *rwl)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_diffs); i++)
		if (known_diffs[i].kind == op->kind &&
		    known_diffs[i].allowed(op, ovl, rwl))
			return &known_diffs[i];
	return NULL;
}

static void print_res(const char *label, const struct res *r)
{
	const char *info = r->info ? r->info : "";

	if (r->ret < 0)
		rwl_log("  %-12s ret=%ld errno=%s %s", label, r->ret,
			errname(r->err), info);
	else
		rwl_log("  %-12s ret=%ld %s", label, r->ret, info);
}

/* Print the lines of two walks that differ (at most @max). */
static void print_walk_diff(const struct ctx *c, const struct res *x,
			    const struct res *y, int max)
{
	const char *p = x->info ? x->info : "", *q = y->info ? y->info : "";
	const char *pe, *qe;
	int shown = 0;

	while ((*p || *q) && shown < max) {
		pe = strchrnul(p, '\n');
		qe = strchrnul(q, '\n');
		if (pe - p != qe - q || memcmp(p, q, pe - p)) {
			rwl_log("  %-12s %.*s", c->side[0].label, (int)(pe - p), p);
			rwl_log("  %-12s %.*s", c->side[1].label, (int)(qe - q), q);
			shown++;
		}
		p = *pe ? pe + 1 : pe;
		q = *qe ? qe + 1 : qe;
	}
}

static void print_divergence(const struct ctx *c, const struct op *op,
			     unsigned int index, const struct res *res)
{
	char s[512];

	rwl_log("seed %u op %u: %s", c->seed, index, op_str(op, s, sizeof(s)));
	if (op->kind == OP_WALK) {
		print_walk_diff(c, &res[0], &res[1], 12);
		return;
	}
	print_res(c->side[0].label, &res[0]);
	print_res(c->side[1].label, &res[1]);
}

/*
 * Both unions unmounted and mounted again: the results are compared.  A
 * small upper gets MOUNT_INODES more free inodes for the mounts (what
 * each union makes in its work directory when it mounts differs), and
 * then as much free space as it had before.  Returns -1 if that failed.
 */
static int remount(struct ctx *c, struct res *res)
{
	struct statfs f[2];
	unsigned int i;
	int err = 0;

	for (i = 0; i < 2 && c->small; i++)
		if (statfs(c->side[i].rw, &f[i]))
			return -1;
	for (i = 0; i < 2; i++) {
		res_reset(&res[i]);
		err = side_umount(c, &c->side[i]);
		if (err) {
			errno = -err;
			res_fail(&res[i], "umount");
		}
	}
	if (c->small && upper_space(c, FEWER, f[0].f_ffree + MOUNT_INODES))
		return -1;
	for (i = 0; i < 2; i++) {
		if (res[i].ret)
			continue;
		err = side_mount(c, &c->side[i]);
		if (err) {
			errno = -err;
			res_fail(&res[i], "mount");
		}
	}
	if (res[0].ret || res[1].ret)
		return 0;
	return after_mount(c, f[0].f_bfree, f[0].f_ffree) ? -1 : 0;
}

/*
 * An operation on both unions at once (remount, drop_caches): 0 when
 * done alike, 1 when the two results differ, -1 when it failed on both.
 */
static int global_op(struct ctx *c, const struct op *op, struct res *res)
{
	char text[2] = { '0' + op->flags, '\0' };

	if (op->kind == OP_DROP_CACHES) {
		if (pwrite(c->dropfd, text, 1, 0) != 1) {
			rwl_log("echo %s > /proc/sys/vm/drop_caches: %s", text,
				strerror(errno));
			return -1;
		}
		return 0;
	}
	if (remount(c, res))
		return -1;
	if (!res_equal(&res[0], &res[1]))
		return 1;
	return res[0].ret ? -1 : 0;
}

/*
 * @path (as an operation names it) as a path from the root, without
 * following a symlink in its last component; false if its directory is
 * not there.
 */
static bool canonical(const char *path, char *out, size_t size)
{
	char p[PATH_LEN], dir[PATH_MAX], *slash, *base;
	int n;

	snprintf(p, sizeof(p), "%s", path);
	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	slash = strrchr(p, '/');
	base = slash ? slash + 1 : p;
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? p : ".", dir))
		return false;
	n = snprintf(out, size, "%s/%s", strcmp(dir, "/") ? dir : "", base);
	return n > 0 && (size_t)n < size;
}

/*
 * What the overlayfs upper holds on the paths of @op's names (and the
 * directories above them) and the rwlayer upper does not, copied up in
 * rwlayer with a change to what it is already: chmod to its mode, or
 * for a symlink lchown to its owner.  Returns -1 on a failure.
 */
static int sync_copy_ups(struct ctx *c, const struct op *op)
{
	char paths[2][PATH_MAX], todo[8][PATH_MAX], p[RWL_PATH + PATH_MAX];
	const char *names[2] = { op->a, op->b };
	unsigned int i, n = 0, num = 0;
	struct stat st;
	char *s;
	int err = 0;

	if (enter(&c->side[0]))
		return -1;
	for (i = 0; i < 2; i++)
		if (names[i][0] && canonical(names[i], paths[num], PATH_MAX))
			num++;
	leave(c);
	for (i = 0; i < num; i++) {
		/* each prefix "/x", "/x/y", ... of the path */
		for (s = paths[i] + 1; n < ARRAY_SIZE(todo); s++) {
			if (*s && *s != '/')
				continue;
			snprintf(todo[n], PATH_MAX, "%.*s", (int)(s - paths[i]),
				 paths[i]);
			if (!lstat(rwl_pathf(p, "%s/upper%s", c->side[0].rw, todo[n]),
				   &st) &&
			    !(S_ISCHR(st.st_mode) && st.st_rdev == 0) &&
			    lstat(rwl_pathf(p, "%s/upper%s", c->side[1].rw, todo[n]),
				  &st) && errno == ENOENT)
				n++;
			if (!*s)
				break;
		}
	}
	if (!n || enter(&c->side[1]))
		return n ? -1 : 0;
	for (i = 0; i < n && !err; i++) {
		if (lstat(todo[i], &st))
			err = -1;
		else if (S_ISLNK(st.st_mode))
			err = lchown(todo[i], st.st_uid, st.st_gid);
		else
			err = chmod(todo[i], st.st_mode & 07777);
		if (err)
			rwl_log("copying up %s in rwlayer: %s", todo[i],
				strerror(errno));
	}
	leave(c);
	return err;
}

/*
 * For a known_diff with @roomier: only on a small upper that counts
 * inodes, for two directories, and overlayfs then does @op with one
 * inode more as rwlayer did it (res[0] gets that result).
 */
static bool roomier(struct ctx *c, const struct op *op, struct res *res)
{
	struct stat a, b;
	struct statfs f;
	bool ok;

	if (!c->small || !inodes_exact || enter(&c->side[0]))
		return false;
	ok = !lstat(op->a, &a) && S_ISDIR(a.st_mode) &&
	     !lstat(op->b, &b) && S_ISDIR(b.st_mode);
	leave(c);
	if (!ok || statfs(c->side[0].rw, &f) ||
	    set_free(&c->side[0], f.f_bfree, f.f_ffree + 1) ||
	    enter(&c->side[0]))
		return false;
	ok = !run_step(op, exec_op, &res[0]);
	leave(c);
	return ok && res_equal(&res[0], &res[1]);
}

/*
 * Run @n operations of @ops on fresh layers.  Returns the index of the
 * first operation whose results differ (other than a documented
 * difference), @n if none did, or -1 if the layers could not be set up.
 * With c->verbose the divergence is printed.  An OP_GEN is replaced by
 * an operation chosen with @gen in the overlayfs side's tree as it is
 * at that point, so a replay of @ops repeats the same operations.
 */
static int run_ops(struct ctx *c, struct op *ops, unsigned int n,
		   struct res *res, struct rng *gen)
{
	const struct known_diff *kd;
	unsigned int i, k;
	int ret = n, g;

	if (pair_setup(c)) {
		pair_teardown(c);
		c->failed = true;
		return -1;
	}
	for (i = 0; i < n && ret >= 0; i++) {
		const struct op *op = &ops[i];

		if (op->kind == OP_GEN) {
			if (!gen || enter(&c->side[0])) {
				ret = -1;
				break;
			}
			gen_op(gen, &ops[i], i);
			leave(c);
		}
		if (c->trace) {
			char t[512];

			rwl_log("%u %s", i, op_str(op, t, sizeof(t)));
		}
		if (op->kind == OP_REMOUNT || op->kind == OP_DROP_CACHES) {
			g = global_op(c, op, res);
			if (g > 0) {
				if (c->verbose)
					print_divergence(c, op, i, res);
				ret = i;
				break;
			}
			if (g < 0 || (c->small && upper_space(c, FEWER, FEWER)))
				ret = -1;
			if (c->verbose) {
				c->n_all[op->kind]++;
				c->n_ok[op->kind] += ret >= 0;
			}
			continue;
		}
		/* overlayfs last: exch then holds its directories */
		for (k = 2; k-- > 0 && ret >= 0; ) {
			if (enter(&c->side[k]) ||
			    run_step(op, exec_op, &res[k]))
				ret = -1;
			leave(c);
		}
		if (ret < 0)
			break;
		if (c->trace)
			print_res(c->side[0].label, &res[0]);
		if (c->verbose) {
			c->n_all[op->kind]++;
			c->n_ok[op->kind] += res[0].ret >= 0;
			c->n_cred_all[op->cred]++;
			c->n_cred_ok[op->cred] += res[0].ret >= 0;
			c->n_enospc += res[0].ret < 0 && res[0].err == ENOSPC;
			c->n_mode += res[0].info && strstr(res[0].info, "mode ");
		}
		kd = NULL;
		if (!res_equal(&res[0], &res[1])) {
			kd = c->self ? NULL : known_diff(op, &res[0], &res[1]);
			if (kd && kd->roomier && !roomier(c, op, res))
				kd = NULL;
			if (!kd) {
				exchange_done();
				if (c->verbose)
					print_divergence(c, op, i, res);
				ret = i;
				break;
			}
			c->n_known[kd - known_diffs]++;
		}
		if (kd && kd->resync) {
			struct op as = *op;

			if (!kd->as_caller)
				as.cred = CRED_ROOT;
			if (enter(&c->side[0]) ||
			    run_step(&as, kd->resync, &res[0]))
				ret = -1;
			leave(c);
		}
		exchange_done();
		if (kd && kd->copy_ups && ret >= 0 && sync_copy_ups(c, op))
			ret = -1;
		if (c->small && ret >= 0 && upper_space(c, FEWER, FEWER))
			ret = -1;
	}
	if (ret < 0)
		c->failed = true;
	pair_teardown(c);
	return ret;
}

/* Is one of @x, @y the other or a directory above it? */
static bool path_related(const char *x, const char *y)
{
	size_t lx = strcspn(x, " \n"), ly = strlen(y);

	while (ly && y[ly - 1] == '/')
		ly--;
	if (lx > ly)
		return !strncmp(x, y, ly) && x[ly] == '/';
	return !strncmp(x, y, lx) && (lx == ly || y[lx] == '/');
}

/* Add @p (without a trailing slash) to the set @set of @num paths. */
static void set_add(char (*set)[PATH_LEN], unsigned int *num, unsigned int max,
		    const char *p)
{
	unsigned int i;
	size_t len = strlen(p);

	while (len && p[len - 1] == '/')
		len--;
	if (!len)
		return;
	for (i = 0; i < *num; i++)
		if (strlen(set[i]) == len && !strncmp(set[i], p, len))
			return;
	if (*num < max)
		snprintf(set[(*num)++], PATH_LEN, "%.*s", (int)len, p);
}

static bool op_touches(const struct op *op, char (*set)[PATH_LEN],
		       unsigned int num)
{
	unsigned int i;

	if (op->kind == OP_REMOUNT || op->kind == OP_DROP_CACHES)
		return true;
	for (i = 0; i < num; i++)
		if ((op->a[0] && (path_related(set[i], op->a))) ||
		    (op->b[0] && (path_related(set[i], op->b))))
			return true;
	/* symlinks can lead anywhere: keep them */
	return op->kind == OP_SYMLINK;
}

/*
 * Into @out: the last operation of @ops and, going backwards, every
 * earlier one that names a path above, at or below a path of a kept
 * one, repeated until the set of paths stops growing.  Returns the
 * count (@n when the last operation is a walk, which touches all).
 */
static unsigned int slice(const struct op *ops, unsigned int n, struct op *out)
{
	static char set[256][PATH_LEN];
	unsigned int num = 0, before, i, m = 0, pass;
	bool *keep;

	if (ops[n - 1].kind == OP_WALK)
		return n;
	keep = calloc(n, sizeof(*keep));
	if (!keep)
		return n;
	for (pass = 0; pass < 4; pass++) {
		before = num;
		for (i = n; i-- > 0; ) {
			if (keep[i] || (i < n - 1 && (ops[i].kind == OP_WALK ||
			    !op_touches(&ops[i], set, num))))
				continue;
			keep[i] = true;
			set_add(set, &num, ARRAY_SIZE(set), ops[i].a);
			set_add(set, &num, ARRAY_SIZE(set), ops[i].b);
		}
		if (num == before)
			break;
	}
	for (i = 0; i < n; i++)
		if (keep[i])
			out[m++] = ops[i];
	free(keep);
	return m;
}

/*
 * Does replaying @m operations of @t give the divergence @want (the two
 * results the full sequence gave) at the last one?  For a walk, any
 * divergence of the last walk counts.
 */
static bool same_divergence(struct ctx *c, struct op *t, unsigned int m,
			    struct res *res, const struct res *want)
{
	if (run_ops(c, t, m, res, NULL) != (int)(m - 1))
		return false;
	return t[m - 1].kind == OP_WALK ||
	       (res_equal(&res[0], &want[0]) && res_equal(&res[1], &want[1]));
}

/*
 * Shrink ops[0..n) (whose last operation diverges, with the results in
 * @res) to fewer operations whose last one still diverges alike first,
 * removing chunks of halving size for at most @seconds.  Returns the new
 * count; @ops is rewritten.
 */
static unsigned int shrink(struct ctx *c, struct op *ops, unsigned int n,
			   struct res *res, double seconds)
{
	double end = rwl_now() + seconds;
	unsigned int chunk, i, m, tries = 0;
	struct res want[2] = { 0 };
	struct op *t;
	bool verbose = c->verbose;

	t = malloc(n * sizeof(*t));
	if (!t)
		return n;
	for (i = 0; i < 2; i++) {
		want[i].ret = res[i].ret;
		want[i].err = res[i].err;
		res_addf(&want[i], "%s", res[i].info ? res[i].info : "");
	}
	c->verbose = false;
	/* The walks before the target only cost time. */
	for (i = m = 0; i < n; i++)
		if (ops[i].kind != OP_WALK || i == n - 1)
			ops[m++] = ops[i];
	n = m;
	/* First try only what touches the paths the last operation names. */
	m = slice(ops, n, t);
	tries++;
	if (m < n && same_divergence(c, t, m, res, want)) {
		memcpy(ops, t, m * sizeof(*t));
		n = m;
	}
	c->failed = false;
	for (chunk = (n - 1) / 2; chunk >= 1 && rwl_now() < end; chunk /= 2) {
		for (i = 0; i + 1 < n && rwl_now() < end; ) {
			m = chunk < n - 1 - i ? chunk : n - 1 - i;
			memcpy(t, ops, i * sizeof(*t));
			memcpy(t + i, ops + i + m, (n - i - m) * sizeof(*t));
			tries++;
			if (same_divergence(c, t, n - m, res, want)) {
				memcpy(ops, t, (n - m) * sizeof(*t));
				n -= m;
			} else {
				i += m;
			}
			c->failed = false;
		}
	}
	c->verbose = verbose;
	rwl_log("shrunk to %u operations in %u replays%s", n, tries,
		rwl_now() < end ? "" : " (time limit, may not be minimal)");
	res_free(&want[0]);
	res_free(&want[1]);
	free(t);
	return n;
}

/* How many operations of each kind succeeded: is the test testing? */
static void print_coverage(const struct ctx *c)
{
	char line[1024];
	size_t len = 0;
	unsigned int k;

	line[0] = '\0';
	for (k = 0; k < NUM_KINDS; k++) {
		if (!c->n_all[k])
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s%s %u/%u",
				len ? ", " : "", kinds[k].name, c->n_ok[k],
				c->n_all[k]);
		if (len >= sizeof(line))
			break;
	}
	rwl_log("succeeded: %s", line);
	rwl_log("succeeded as root %u/%u, as nobody %u/%u, in a user namespace %u/%u; set-id cleared by %u writes; ENOSPC %u times%s",
		c->n_cred_ok[CRED_ROOT], c->n_cred_all[CRED_ROOT],
		c->n_cred_ok[CRED_NOBODY], c->n_cred_all[CRED_NOBODY],
		c->n_cred_ok[CRED_USERNS], c->n_cred_all[CRED_USERNS],
		c->n_mode, c->n_enospc, !c->small ? "" : inodes_exact ?
		" (small upper: pages and inodes)" : " (small upper: pages)");
	for (k = 0; k < ARRAY_SIZE(known_diffs); k++)
		if (c->n_known[k])
			rwl_log("documented difference taken %u times: %s",
				c->n_known[k], known_diffs[k].reason);
}

/*
 * The entries of the lower layers on the paths that @ops name (and
 * below them): what a reader of a shrunk sequence needs to know.
 */
static void print_layers(struct ctx *c, const struct op *ops, unsigned int n,
			 const struct res *res)
{
	static char extra[32][PATH_LEN];
	struct res r = { 0 };
	char dir[RWL_PATH], *line, *end;
	unsigned int l, i, num = 0;
	const char *p, *q, *pe, *qe;
	bool rel;

	/* After a walk: the paths of the lines that differ. */
	if (n && ops[n - 1].kind == OP_WALK) {
		p = res[0].info ? res[0].info : "";
		q = res[1].info ? res[1].info : "";
		while (*p || *q) {
			pe = strchrnul(p, '\n');
			qe = strchrnul(q, '\n');
			if (pe - p != qe - q || memcmp(p, q, pe - p)) {
				snprintf(dir, sizeof(dir), "%.*s",
					 (int)strcspn(p, " \n"), p);
				set_add(extra, &num, ARRAY_SIZE(extra), dir);
				snprintf(dir, sizeof(dir), "%.*s",
					 (int)strcspn(q, " \n"), q);
				set_add(extra, &num, ARRAY_SIZE(extra), dir);
			}
			p = *pe ? pe + 1 : pe;
			q = *qe ? qe + 1 : qe;
		}
	}

	if (pair_setup(c) == 0) {
		for (l = 0; l < 2; l++) {
			rwl_log("lower layer l%u (%s), entries on those paths:",
				l, l ? "bottom" : "top");
			if (chdir(rwl_pathf(dir, "%s/l%u", c->side[0].lo, l)))
				break;
			res_reset(&r);
			walk(&r, ".", 0);
			for (line = r.info; line && *line; line = end + 1) {
				end = strchrnul(line, '\n');
				for (i = 0, rel = false; i < n && !rel; i++)
					rel = (ops[i].a[0] && path_related(line, ops[i].a)) ||
					      (ops[i].b[0] && path_related(line, ops[i].b));
				for (i = 0; i < num && !rel; i++)
					rel = path_related(line, extra[i]);
				if (rel)
					rwl_log("    %.*s", (int)(end - line), line);
				if (!*end)
					break;
			}
		}
		if (chdir("/"))
			rwl_log("chdir /: %s", strerror(errno));
	}
	pair_teardown(c);
	res_free(&r);
}

/* One seed: returns the number of divergences (0 or 1), or -1. */
static int run_seed(struct ctx *c, unsigned int seed, unsigned int nops,
		    bool long_mode)
{
	struct res res[2] = { 0 };
	unsigned int n, i;
	struct op *ops;
	struct rng gen;
	char s[512];
	double t0 = rwl_now();
	int div;

	c->seed = seed;
	memset(c->n_ok, 0, sizeof(c->n_ok));
	memset(c->n_known, 0, sizeof(c->n_known));
	memset(c->n_all, 0, sizeof(c->n_all));
	memset(c->n_cred_ok, 0, sizeof(c->n_cred_ok));
	memset(c->n_cred_all, 0, sizeof(c->n_cred_all));
	c->n_enospc = 0;
	c->n_mode = 0;
	ops = gen_ops(nops, &n);
	if (!ops)
		return -1;
	rng_seed(&gen, (uint64_t)seed << 32 | 0x5eed);
	c->verbose = true;
	div = run_ops(c, ops, n, res, &gen);
	if (div >= 0 && div < (int)n) {
		rwl_log("seed %u: divergence at operation %d of %u; shrinking",
			seed, div, n);
		n = shrink(c, ops, div + 1, res,
			   long_mode ? SHRINK_LONG : SHRINK_SECONDS);
		c->verbose = false;
		div = run_ops(c, ops, n, res, NULL);
		rwl_log("seed %u: %u operations, the last one diverges%s:",
			seed, n, div == (int)n - 1 ? "" : " (did not reproduce!)");
		for (i = 0; i < n; i++)
			rwl_log("  %3u %s", i, op_str(&ops[i], s, sizeof(s)));
		if (div >= 0 && div < (int)n)
			print_divergence(c, &ops[div], div, res);
		print_layers(c, ops, n, res);
		div = 1;
	} else if (div == (int)n) {
		rwl_log("seed %u: %u operations agree (%.1f s)", seed, nops,
			rwl_now() - t0);
		print_coverage(c);
		div = 0;
	}
	res_free(&res[0]);
	res_free(&res[1]);
	free(ops);
	return div;
}

/* ---- the tests ----------------------------------------------------- */

struct long_mode {
	bool on;
	unsigned int ops, seeds, first;
};

static struct long_mode long_mode(void)
{
	struct long_mode m = { .ops = 0, .seeds = LONG_SEEDS, .first = 1 };
	char text[64] = "", exe[PATH_MAX], file[PATH_MAX + 16], *slash;
	const char *env = getenv("RWL_RANDOPS_LONG");
	ssize_t n;
	int fd;

	if (env) {
		snprintf(text, sizeof(text), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
			snprintf(file, sizeof(file), "%s/randops.long", exe);
			fd = open(file, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				n = read(fd, text, sizeof(text) - 1);
				text[n > 0 ? n : 0] = '\0';
				close(fd);
			}
		}
	}
	if (sscanf(text, "%u:%u:%u", &m.ops, &m.seeds, &m.first) >= 1 && m.ops)
		m.on = true;
	return m;
}

/* "lsetxattr,read_old_fd": those kinds are never chosen. */
static void set_excluded(const char *list)
{
	char buf[512], *tok, *save;
	unsigned int k;

	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		for (k = 0; k < NUM_KINDS; k++)
			if (kinds[k].weight && !strcmp(tok, kinds[k].name))
				break;
		if (k == NUM_KINDS)
			rwl_log("RWL_RANDOPS_EXCLUDE: no operation %s", tok);
		else
			excluded[k] = true;
	}
	rwl_log("RWL_RANDOPS_EXCLUDE=%s: the sequences differ from make check's",
		list);
}

FIXTURE(randops) {
	struct rwl_env env;
	struct ctx ctx;
};

/*
 * CRED_NOBODY is an unprivileged caller: refused a root file of mode
 * 0600 and a trusted.* xattr (CAP_SYS_ADMIN), and root again after.
 */
static void check_nobody(struct __test_metadata *_metadata, const char *base)
{
	char file[RWL_PATH];
	int open_err, xattr_err;

	rwl_pathf(file, "%s/root_0600", base);
	ASSERT_EQ(0, rwl_write_text(file, "secret"));
	ASSERT_EQ(0, chmod(file, 0600));
	become_nobody(true);
	open_err = rwl_try_open(file, O_RDONLY);
	xattr_err = setxattr(file, "trusted.x", "y", 1, 0) ? errno : 0;
	become_nobody(false);
	EXPECT_EQ(EACCES, open_err);
	EXPECT_EQ(EPERM, xattr_err);
	EXPECT_EQ(0, rwl_try_open(file, O_RDONLY));
	EXPECT_EQ(0, setxattr(file, "trusted.x", "y", 1, 0));
	ASSERT_EQ(0, unlink(file));
}

/* Sets inodes_exact: does a trusted xattr take from tmpfs' nr_inodes? */
static int probe_inodes_exact(struct rwl_env *env)
{
	char dir[RWL_PATH], file[RWL_PATH];
	int err;

	rwl_pathf(dir, "%s/probe", env->base);
	rwl_pathf(file, "%s/f", dir);
	err = rwl_mount_tmpfs(env, dir, "nr_inodes=2");
	if (!err)
		err = rwl_write_text(file, "");
	if (!err) {
		inodes_exact = !setxattr(file, "trusted.probe", "y", 1, 0);
		if (!inodes_exact && errno != ENOSPC)
			err = -errno;
	}
	if (!err)
		err = rwl_umount(env, dir);
	rwl_log("tmpfs nr_inodes counts %s", inodes_exact ?
		"inodes alone: small uppers run out of inodes and space" :
		"xattrs too: small uppers run out of space only");
	return err;
}

FIXTURE_SETUP(randops)
{
	const char *self_env = getenv("RWL_RANDOPS_SELF");
	int self_mode = self_env ? atoi(self_env) : 0;
	char line[128];
	bool have_ovl = false;
	FILE *f;

	f = fopen("/proc/filesystems", "re");
	while (f && fgets(line, sizeof(line), f))
		have_ovl |= !strcmp(line, "nodev\toverlay\n");
	if (f)
		fclose(f);
	if (!have_ovl)
		SKIP(_exit(RWL_HARNESS_SKIP),
		     "overlay not in /proc/filesystems (overlay.ko not loaded)");
	if (!self_mode && !rwl_have_rwlayer())
		SKIP(_exit(RWL_HARNESS_SKIP),
		     "rwlayer not in /proc/filesystems (module not loaded)");
	ASSERT_EQ(0, rwl_env_init(&self->env));
	umask(022);
	self->ctx.env = &self->env;
	self->ctx.self = self_mode;
	self->ctx.trace = getenv("RWL_RANDOPS_TRACE") &&
			  !strcmp(getenv("RWL_RANDOPS_TRACE"), "1");
	set_excluded(getenv("RWL_RANDOPS_EXCLUDE"));
	self->ctx.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->ctx.rootfd);
	self->ctx.dropfd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ctx.dropfd);
	ASSERT_EQ(0, probe_inodes_exact(&self->env));
	ASSERT_EQ(0, sigaction(SIGBUS, &(struct sigaction){
		.sa_handler = on_sigbus }, NULL));
	ASSERT_EQ(0, userns_make());
	/* nobody has no groups; root needs none */
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, syscall(SYS_capget, &(struct __user_cap_header_struct){
		.version = _LINUX_CAPABILITY_VERSION_3 }, own_caps));
	check_nobody(_metadata, self->env.base);
}

FIXTURE_TEARDOWN(randops)
{
	if (userns_fd >= 0)
		close(userns_fd);
	userns_fd = -1;
	RWL_ENV_TEARDOWN(&self->env);
}

/*
 * Test @index of NUM_SEEDS: seed index + 1 with CHECK_OPS operations, or
 * in long mode every NUM_SEEDS-th seed from first + index.
 */
static void randops_test(struct __test_metadata *_metadata,
			 FIXTURE_DATA(randops) *self, unsigned int index)
{
	struct long_mode m = long_mode();
	unsigned int i, seed, runs = 0;
	int div, total = 0;

	if (!m.on) {
		m.ops = CHECK_OPS;
		m.seeds = NUM_SEEDS;
	}
	if (self->ctx.self)
		rwl_log("RWL_RANDOPS_SELF=%d: overlayfs against overlayfs",
			self->ctx.self);
	for (i = index; i < m.seeds; i += NUM_SEEDS) {
		seed = m.first + i;
		div = run_seed(&self->ctx, seed, m.ops, m.on);
		ASSERT_FALSE(self->ctx.failed) TH_LOG("seed %u: setup failed", seed);
		ASSERT_LE(0, div);
		total += div;
		runs++;
	}
	if (!runs)
		rwl_log("no seed for this test in long mode");
	EXPECT_EQ(0, total) TH_LOG("%d of %u seeds diverged", total, runs);
}

TEST_F_TIMEOUT(randops, seed_1, SEED_TIMEOUT)
{
	randops_test(_metadata, self, 0);
}

TEST_F_TIMEOUT(randops, seed_2, SEED_TIMEOUT)
{
	randops_test(_metadata, self, 1);
}

TEST_F_TIMEOUT(randops, seed_3, SEED_TIMEOUT)
{
	randops_test(_metadata, self, 2);
}

TEST_F_TIMEOUT(randops, seed_4, SEED_TIMEOUT)
{
	randops_test(_metadata, self, 3);
}

/*
 * TEST_HARNESS_MAIN, except that long mode lifts the per-test time limit
 * (alarm(0): none); the guest's test.sh lifts its own.
 */
static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	struct __test_metadata *t;

	if (long_mode().on)
		for (t = _randops_fixture_object.tests; t; t = t->next)
			t->timeout = 0;
	return test_harness_run(argc, argv);
}
