// SPDX-License-Identifier: GPL-2.0
/*
 * Data integrity under concurrent writers.  NPROCS processes each apply a
 * seeded random series of writes to files in a union rule directory of
 * an rwlayer and, identically, to a mirror of the same tree on a plain
 * tmpfs: pwrite at random offsets and lengths with a per-process pattern,
 * O_APPEND writes, ftruncate, mmap(MAP_SHARED) writes, replacing a file
 * by renaming a new one over it, unlinking and re-creating, and reads
 * that compare the two.  Each process has its own directory; some of its
 * files start in the lower (copy-ups run concurrently with the other
 * processes' writes), the rest it creates.  Two shared files that start
 * in the lower (one of them large, so its copy-up takes a while) are
 * written by every process at once, each in its own region, so several
 * processes race to copy them up.  At the end every file is compared byte
 * for byte with its mirror, and again after the rwlayer is unmounted and
 * mounted again on the same layers.
 */
#include <sys/mman.h>

#include "rwl_rw.h"

#define NPROCS		4
#define OPS_PER_PROC	2000
#define OWN_FILES	6	/* f0..f2 start in the lower, f3..f5 do not */
#define OWN_LOWER	3
#define NSHARED		2
#define REGION		(256 * 1024)	/* each process's part of a shared file */
#define BIG_SHARED	(8 << 20)	/* shared1: copy-up takes a while */
#define MAX_OFF		(300 * 1024)
#define MAX_LEN		(16 * 1024)
#define SEED		0x1e9

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ 0xd1b54a32d192ed03ULL;
	if (!r->s)
		r->s = 1;
	rng_next(r);
}

static unsigned int rnd(struct rng *r, unsigned int n)
{
	return (rng_next(r) >> 16) % n;
}

/* One process's view: the same relative path under both roots. */
struct worker {
	int id;
	const char *root[2];	/* [0] the rwlayer's data/, [1] the mirror's */
	unsigned long ops, errors, bytes;
	struct rng r;
};

#define wlog(w, fmt, ...) rwl_log("worker %d: " fmt, (w)->id, ##__VA_ARGS__)

static char *path_of(const struct worker *w, int side, const char *rel,
		     char *buf)
{
	return rwl_pathf(buf, "%s/%s", w->root[side], rel);
}

/* Both sides returned @a and @b: they must agree. */
static bool agree(struct worker *w, const char *what, const char *rel,
		  long a, int ea, long b, int eb)
{
	if (a == b && (a >= 0 || ea == eb))
		return true;
	wlog(w, "op %lu %s %s: rwlayer %ld (%s), tmpfs %ld (%s)", w->ops,
	     what, rel, a, a < 0 ? strerror(ea) : "ok", b,
	     b < 0 ? strerror(eb) : "ok");
	w->errors++;
	return false;
}

static void fill(char *buf, size_t len, uint64_t off, unsigned int seed)
{
	rwl_pattern_fill(buf, len, off, seed);
}

/* pwrite (or append) @len pattern bytes at @off to @rel on both sides. */
static void do_pwrite(struct worker *w, const char *rel, uint64_t off,
		      size_t len, unsigned int seed, bool append)
{
	static char buf[MAX_LEN];
	char p[RWL_PATH];
	long ret[2];
	int err[2], i, fd;

	fill(buf, len, off, seed);
	for (i = 0; i < 2; i++) {
		err[i] = 0;
		fd = open(path_of(w, i, rel, p),
			  O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : 0),
			  0644);
		if (fd < 0) {
			ret[i] = -1;
			err[i] = errno;
			continue;
		}
		ret[i] = append ? write(fd, buf, len) : pwrite(fd, buf, len, off);
		if (ret[i] < 0)
			err[i] = errno;
		if (close(fd) && ret[i] >= 0) {
			ret[i] = -1;
			err[i] = errno;
		}
	}
	if (agree(w, append ? "append" : "pwrite", rel, ret[0], err[0], ret[1],
		  err[1]) && ret[0] > 0)
		w->bytes += ret[0];
}

static void do_truncate(struct worker *w, const char *rel, off_t size)
{
	char p[RWL_PATH];
	long ret[2];
	int err[2], i, fd;

	for (i = 0; i < 2; i++) {
		err[i] = 0;
		fd = open(path_of(w, i, rel, p), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ret[i] = fd < 0 ? -1 : ftruncate(fd, size);
		if (ret[i] < 0)
			err[i] = errno;
		if (fd >= 0)
			close(fd);
	}
	agree(w, "ftruncate", rel, ret[0], err[0], ret[1], err[1]);
}

/*
 * Write pattern bytes into [off, off + len) of @rel through a shared
 * mapping of [map_off, map_off + map_len) (page aligned), then msync.
 * The caller keeps the range inside the file on both sides.
 */
static void do_mmap_write(struct worker *w, const char *rel, off_t map_off,
			  size_t map_len, uint64_t off, size_t len,
			  unsigned int seed)
{
	static char buf[MAX_LEN];
	char p[RWL_PATH], *map;
	long ret[2];
	int err[2], i, fd;

	fill(buf, len, off, seed);
	for (i = 0; i < 2; i++) {
		ret[i] = -1;
		err[i] = 0;
		fd = open(path_of(w, i, rel, p), O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			err[i] = errno;
			continue;
		}
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, map_off);
		if (map == MAP_FAILED) {
			err[i] = errno;
		} else {
			memcpy(map + (off - map_off), buf, len);
			ret[i] = msync(map, map_len, MS_SYNC);
			if (ret[i])
				err[i] = errno;
			munmap(map, map_len);
		}
		close(fd);
	}
	agree(w, "mmap write", rel, ret[0], err[0], ret[1], err[1]);
}

/* Replace @rel by a new file of @size pattern bytes renamed over it. */
static void do_replace(struct worker *w, const char *rel, const char *tmp,
		       size_t size, unsigned int seed)
{
	char p[RWL_PATH], q[RWL_PATH];
	long ret[2];
	int err[2], i;

	for (i = 0; i < 2; i++) {
		err[i] = 0;
		ret[i] = rwl_write_pattern(path_of(w, i, tmp, p), size, seed, 0640);
		if (ret[i] < 0) {
			err[i] = -ret[i];
			ret[i] = -1;
			continue;
		}
		ret[i] = rename(p, path_of(w, i, rel, q));
		if (ret[i])
			err[i] = errno;
	}
	agree(w, "replace by rename", rel, ret[0], err[0], ret[1], err[1]);
}

static void do_unlink(struct worker *w, const char *rel)
{
	char p[RWL_PATH];
	long ret[2];
	int err[2], i;

	for (i = 0; i < 2; i++) {
		ret[i] = unlink(path_of(w, i, rel, p));
		err[i] = ret[i] ? errno : 0;
	}
	agree(w, "unlink", rel, ret[0], err[0], ret[1], err[1]);
}

/* The size of @rel on both sides (they must agree); -1 if missing. */
static off_t both_size(struct worker *w, const char *rel)
{
	char p[RWL_PATH];
	struct stat st[2];
	long ret[2];
	int err[2], i;

	for (i = 0; i < 2; i++) {
		ret[i] = stat(path_of(w, i, rel, p), &st[i]) ? -1 : 0;
		err[i] = ret[i] ? errno : 0;
		if (!ret[i])
			ret[i] = st[i].st_size;
	}
	if (!agree(w, "size", rel, ret[0], err[0], ret[1], err[1]))
		return -1;
	return ret[0] < 0 ? -1 : ret[0];
}

/* Read [off, off + len) of @rel on both sides and compare. */
static void do_verify(struct worker *w, const char *rel, off_t off, size_t len)
{
	static char buf[2][MAX_LEN];
	char p[RWL_PATH];
	long ret[2];
	int err[2], i, fd;
	size_t k;

	for (i = 0; i < 2; i++) {
		err[i] = 0;
		fd = open(path_of(w, i, rel, p), O_RDONLY | O_CLOEXEC);
		ret[i] = fd < 0 ? -1 : pread(fd, buf[i], len, off);
		if (ret[i] < 0)
			err[i] = errno;
		if (fd >= 0)
			close(fd);
	}
	if (!agree(w, "pread", rel, ret[0], err[0], ret[1], err[1]) || ret[0] <= 0)
		return;
	if (memcmp(buf[0], buf[1], ret[0])) {
		for (k = 0; buf[0][k] == buf[1][k]; k++)
			;
		wlog(w, "op %lu read %s: rwlayer and tmpfs differ at byte %lld",
		     w->ops, rel, (long long)(off + k));
		w->errors++;
	}
}

/* Any process's pattern seed for its operation @n. */
static unsigned int op_seed(const struct worker *w, unsigned long n)
{
	return (unsigned int)(w->id << 20 | n) * 2654435761u;
}

static void worker_op(struct worker *w)
{
	char rel[64], tmp[64];
	unsigned int p = rnd(&w->r, 100), seed = op_seed(w, w->ops);
	int f = rnd(&w->r, OWN_FILES), s = rnd(&w->r, NSHARED);
	size_t len = 1 + rnd(&w->r, MAX_LEN);
	uint64_t off = rnd(&w->r, MAX_OFF), base;
	off_t size;

	snprintf(rel, sizeof(rel), "p%d/f%d", w->id, f);
	snprintf(tmp, sizeof(tmp), "p%d/tmp", w->id);
	w->ops++;
	if (p < 35) {
		do_pwrite(w, rel, off, len, seed, false);
	} else if (p < 50) {
		/* shared: only inside this process's region */
		snprintf(rel, sizeof(rel), "shared/s%d", s);
		base = (uint64_t)w->id * REGION;
		off = base + rnd(&w->r, REGION - len);
		do_pwrite(w, rel, off, len, seed, false);
	} else if (p < 55) {
		do_pwrite(w, rel, 0, len, seed, true);
	} else if (p < 62) {
		do_truncate(w, rel, rnd(&w->r, 4) ? rnd(&w->r, MAX_OFF) : 0);
	} else if (p < 68) {
		do_replace(w, rel, tmp, rnd(&w->r, 100000), seed);
	} else if (p < 76) {
		size = both_size(w, rel);
		if (size <= 0)
			return;
		off = rnd(&w->r, size);
		if (len > (uint64_t)size - off)
			len = size - off;
		base = off & ~4095ULL;
		do_mmap_write(w, rel, base, off + len - base, off, len, seed);
	} else if (p < 81) {
		snprintf(rel, sizeof(rel), "shared/s%d", s);
		base = (uint64_t)w->id * REGION;
		off = base + rnd(&w->r, REGION - len);
		do_mmap_write(w, rel, base, REGION, off, len, seed);
	} else if (p < 84) {
		do_unlink(w, rel);
		do_pwrite(w, rel, rnd(&w->r, 5000), len, seed, false);
	} else if (p < 94) {
		do_verify(w, rel, rnd(&w->r, MAX_OFF), len);
	} else {
		snprintf(rel, sizeof(rel), "shared/s%d", s);
		do_verify(w, rel, (uint64_t)w->id * REGION + rnd(&w->r, REGION - len),
			  len);
	}
}

/*
 * One process: wait until every process is ready (so the first writes to
 * the shared lower files race), then run the operations.  The first one
 * writes both shared files, to make the copy-ups concurrent.
 */
static int worker_main(struct worker *w, volatile int *ready)
{
	uint64_t base = (uint64_t)w->id * REGION;
	unsigned int i;

	__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < NPROCS)
		sched_yield();
	for (i = 0; i < NSHARED; i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "shared/s%u", i);
		w->ops++;
		do_pwrite(w, rel, base + 100 * w->id, 4000, op_seed(w, w->ops), false);
	}
	while (w->ops < OPS_PER_PROC && w->errors < 10)
		worker_op(w);
	if (w->errors)
		wlog(w, "%lu of %lu operations went wrong", w->errors, w->ops);
	else
		wlog(w, "%lu operations, %lu bytes written with write()", w->ops,
		     w->bytes);
	return w->errors ? 1 : 0;
}

/* The initial tree, in the lower and in the mirror: same bytes. */
static int build_tree(const char *data)
{
	char p[RWL_PATH];
	int i, f, err;

	err = rwl_mkdir(data, 0755);
	if (!err)
		err = rwl_mkdir(rwl_pathf(p, "%s/shared", data), 0755);
	for (i = 0; i < NPROCS && !err; i++) {
		err = rwl_mkdir(rwl_pathf(p, "%s/p%d", data, i), 0755);
		for (f = 0; f < OWN_LOWER && !err; f++)
			err = rwl_write_pattern(rwl_pathf(p, "%s/p%d/f%d", data, i, f),
						f == 0 ? 0 : f == 1 ? 5000 : 200000,
						100 * i + f, 0644);
	}
	if (!err)
		err = rwl_write_pattern(rwl_pathf(p, "%s/shared/s0", data),
					NPROCS * REGION, 999, 0644);
	if (!err)
		err = rwl_write_pattern(rwl_pathf(p, "%s/shared/s1", data),
					BIG_SHARED, 998, 0644);
	return err;
}

FIXTURE(integrity) {
	struct rwl_env env;
	struct rwl_rw rw;
	char mirror[RWL_PATH];
	char data[2][RWL_PATH];	/* rwlayer's data/, the mirror's */
};

FIXTURE_SETUP(integrity)
{
	char p[RWL_PATH];

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	rwl_pathf(self->mirror, "%s/mirror", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->mirror, NULL));
	ASSERT_EQ(0, build_tree(rwl_pathf(p, "%s/data", self->rw.lower)));
	ASSERT_EQ(0, build_tree(rwl_pathf(p, "%s/data", self->mirror)));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, "rule=/data:union"));
	rwl_pathf(self->data[0], "%s/data", self->rw.mnt);
	rwl_pathf(self->data[1], "%s/data", self->mirror);
}

FIXTURE_TEARDOWN(integrity)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* Compare two open files byte for byte; returns 0 or prints and -1. */
static int compare_fds(const char *rel, int a, int b)
{
	static char x[1 << 16], y[1 << 16];
	off_t off = 0;
	ssize_t n, m, k;

	for (;;) {
		n = pread(a, x, sizeof(x), off);
		m = pread(b, y, sizeof(y), off);
		if (n < 0 || m < 0) {
			rwl_log("%s: read at %lld: %s", rel, (long long)off,
				strerror(errno));
			return -1;
		}
		if (n != m || memcmp(x, y, n)) {
			for (k = 0; k < n && k < m && x[k] == y[k]; k++)
				;
			rwl_log("%s: rwlayer and tmpfs differ at byte %lld (%zd and %zd bytes read there)",
				rel, (long long)(off + k), n, m);
			return -1;
		}
		if (n == 0)
			return 0;
		off += n;
	}
}

/*
 * Compare directory @rel under both roots: the same names, the same
 * types and sizes, and every file byte for byte.  Returns the number of
 * differences.
 */
static int compare_trees(const char *root0, const char *root1, const char *rel)
{
	struct rwl_dents d[2] = { { 0 } };
	char p[2][RWL_PATH], sub[RWL_PATH];
	const char *roots[2] = { root0, root1 };
	struct stat st[2];
	int bad = 0, i, fd[2];
	size_t k;

	for (i = 0; i < 2; i++) {
		if (rwl_list_dir(rwl_pathf(p[i], "%s/%s", roots[i], rel), 65536,
				 &d[i]) < 0) {
			rwl_log("list %s: %s", p[i], strerror(errno));
			bad++;
			goto out;
		}
		rwl_dents_sort(&d[i]);
	}
	if (d[0].num != d[1].num) {
		rwl_log("%s: %zu entries in the rwlayer, %zu in the mirror", rel,
			d[0].num, d[1].num);
		bad++;
		goto out;
	}
	for (k = 0; k < d[0].num; k++) {
		const char *name = d[0].v[k].name;

		if (strcmp(name, d[1].v[k].name)) {
			rwl_log("%s: rwlayer has %s where the mirror has %s", rel,
				name, d[1].v[k].name);
			bad++;
			break;
		}
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		rwl_pathf(sub, "%s/%s", rel, name);
		for (i = 0; i < 2; i++) {
			rwl_pathf(p[i], "%s/%s", roots[i], sub);
			if (lstat(p[i], &st[i])) {
				rwl_log("lstat %s: %s", p[i], strerror(errno));
				bad++;
				goto out;
			}
		}
		if ((st[0].st_mode & S_IFMT) != (st[1].st_mode & S_IFMT) ||
		    st[0].st_size != st[1].st_size) {
			rwl_log("%s: rwlayer mode 0%o size %lld, mirror mode 0%o size %lld",
				sub, st[0].st_mode, (long long)st[0].st_size,
				st[1].st_mode, (long long)st[1].st_size);
			bad++;
			continue;
		}
		if (S_ISDIR(st[0].st_mode)) {
			bad += compare_trees(root0, root1, sub);
			continue;
		}
		if (!S_ISREG(st[0].st_mode))
			continue;
		fd[0] = open(p[0], O_RDONLY | O_CLOEXEC);
		fd[1] = open(p[1], O_RDONLY | O_CLOEXEC);
		if (fd[0] < 0 || fd[1] < 0) {
			rwl_log("open %s: %s", sub, strerror(errno));
			bad++;
		} else if (compare_fds(sub, fd[0], fd[1])) {
			bad++;
		}
		if (fd[0] >= 0)
			close(fd[0]);
		if (fd[1] >= 0)
			close(fd[1]);
	}
out:
	rwl_dents_free(&d[0]);
	rwl_dents_free(&d[1]);
	return bad;
}

/* Is there anything left in the work directory (a leaked copy-up)? */
static size_t work_entries(const char *work)
{
	struct rwl_dents d = { 0 };
	size_t n;

	if (rwl_list_dir(work, 65536, &d) < 0)
		return (size_t)-1;
	n = d.num - rwl_dents_count(&d, ".") - rwl_dents_count(&d, "..");
	rwl_dents_free(&d);
	return n;
}

TEST_F_TIMEOUT(integrity, concurrent_writers, 240)
{
	volatile int *ready;
	struct worker w;
	pid_t pids[NPROCS], pid;
	int i, status, failed = 0;
	char p[RWL_PATH];
	double t0 = rwl_now();

	ready = mmap(NULL, sizeof(*ready), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ready);
	*ready = 0;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < NPROCS; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			memset(&w, 0, sizeof(w));
			w.id = i;
			w.root[0] = self->data[0];
			w.root[1] = self->data[1];
			rng_seed(&w.r, SEED * 1000 + i);
			_exit(worker_main(&w, ready));
		}
		pids[i] = pid;
	}
	for (i = 0; i < NPROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			rwl_log("worker %d: %s %d", i,
				WIFEXITED(status) ? "exit status" : "killed by signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			failed++;
		}
	}
	rwl_log("%d workers x %d operations in %.1f s", NPROCS, OPS_PER_PROC,
		rwl_now() - t0);
	EXPECT_EQ(0, failed);

	/* Every file, byte for byte. */
	EXPECT_EQ(0, compare_trees(self->data[0], self->data[1], "."));
	EXPECT_EQ(0, work_entries(self->rw.work));

	/* The same after the upper is read back from scratch. */
	ASSERT_EQ(0, rwl_umount(&self->env, self->rw.mnt));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, "rule=/data:union"));
	EXPECT_EQ(0, compare_trees(self->data[0], self->data[1], "."))
		TH_LOG("after remount");

	/* The lower is untouched: s1 still holds its pattern. */
	rwl_pathf(p, "%s/data/shared/s1", self->rw.lower);
	{
		char buf[4096];
		int fd = open(p, O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 0));
		EXPECT_EQ(-1, rwl_pattern_check(buf, sizeof(buf), 0, 998));
		close(fd);
	}
	munmap((void *)ready, sizeof(*ready));
}

TEST_HARNESS_MAIN
