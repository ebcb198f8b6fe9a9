// SPDX-License-Identifier: GPL-2.0
/*
 * rwl_bench: micro-benchmarks for rwlayer against the bare lower and
 * overlayfs.  Static, no dependencies, so it runs in the busybox guests.
 *
 *   rwl_bench populate DIR
 *	create the lower tree in DIR:
 *	  tree/dNNN/fNNN   200 dirs x 100 files of 1-4 KiB (20,000 files)
 *	  flat/eNNNNN      a directory of 10,000 empty files
 *	  big              a 256 MiB file
 *
 *   rwl_bench populate-write DIR
 *	create the tree of the write workloads in DIR/w (see below):
 *	  w/big1g          1 GiB of data
 *	  w/sparse1g       1 GiB apparent size, 16 extents of 256 KiB (4 MiB)
 *	  w/tree/dNNN/fNNN 200 dirs x 100 files of 1-4 KiB (20,000 files)
 *
 *   rwl_bench reset-write DIR
 *	put a populate-write tree that a write workload ran on directly
 *	(the bare target) back as populate-write left it: remove the
 *	copies and created files, rename renamed files back, recreate
 *	unlinked ones.
 *
 *   rwl_bench [-r RUNS] [-q] [-p HOOK] WORKLOAD [LABEL=]DIR...
 *	run WORKLOAD (or "all") RUNS times (odd, default 5) on every DIR,
 *	each a union of (or the bare) populated tree.  The DIRs are
 *	interleaved within each round, in an order rotated every round, so
 *	that drift hits every DIR alike.  Each DIR gets one untimed warm-up
 *	run first, except for stat-cold.  Prints, per timed run,
 *	  RUN <workload> <label> <round> <ns>
 *	and per DIR
 *	  RESULT <workload> <label> <median-ns> <runs> <min-ns> <max-ns>
 *	Every run is checked (file count, byte count, entry count, ENOENT);
 *	a wrong answer is an error, exit 1.  "all" means the read workloads.
 *
 *	The write workloads change what they run on, so every run needs a
 *	fresh target: HOOK (-p, required for them) is a shell command run
 *	as  HOOK setup|cleanup WORKLOAD LABEL DIR  before and after each run
 *	on each DIR, untimed; setup mounts a fresh union on DIR (or does
 *	nothing), cleanup unmounts it and throws its upper away, or puts a
 *	bare DIR back (reset-write).  DIR is opened after setup and closed
 *	before cleanup.  No warm-up run: each workload has an untimed
 *	preparation step after setup instead.  A DIR labelled "bare" is the
 *	plain filesystem: the copy-up workloads copy the file there, as cp
 *	does (SEEK_DATA/SEEK_HOLE + copy_file_range, then ftruncate).
 *
 * Workloads:
 *   stat-cold    lstat of the 20,000 tree files, after
 *		  "echo 2 > /proc/sys/vm/drop_caches" before each run, so that
 *		  a union's dentries and inodes are cold.  A tmpfs lower keeps
 *		  its own dentries (they are the files), so the bare tmpfs is
 *		  never cold; only the stacked filesystems are.
 *   stat-warm    the same with a warm dcache.
 *   open-read    open + read to EOF + close of the 20,000 tree files.
 *   readdir      getdents64 with a 32 KiB buffer over flat/ (10,000 entries).
 *   seqread      read of big (256 MiB) with 1 MiB reads.
 *   lookup-miss  lstat of 20,000 names that do not exist, tree/dNNN/mNNN.
 *
 * Write workloads (on a populate-write tree; the unions with an upper):
 *   copyup-1g    open(w/big1g, O_WRONLY) + close: the copy-up of 1 GiB.
 *		  bare: copy w/big1g to w/big1g.copy.  Checked: the size,
 *		  and 1 MiB at 8 places read back through DIR.
 *   copyup-sparse  the same for w/sparse1g (holes must stay holes; the
 *		  hook reports the copy's st_blocks).  Checked: the size,
 *		  every extent and a hole read back through DIR.
 *   create       openat(O_CREAT|O_EXCL) + write 4 KiB + close of 20,000
 *		  new files w/tree/dNNN/cNNN.
 *   unlink       unlink of the 20,000 lower files w/tree/dNNN/fNNN (the
 *		  unions leave a whiteout for each).
 *   rename-upper rename of 20,000 files created by the preparation step,
 *		  w/tree/dNNN/cNNN -> rNNN, within their directory.
 *   rename-lower rename of the 20,000 lower files fNNN -> gNNN within their
 *		  directory (the unions copy each up and leave a whiteout).
 *   Preparation (untimed) for the four tree workloads: create and unlink
 *   w/tree/dNNN/.prep in every directory, so that the unions have copied
 *   the 200 directories up before the clock starts; for rename-upper
 *   create the 20,000 empty cNNN; for unlink, rename-lower and
 *   rename-upper lstat the 20,000 names the run starts from (their
 *   dentries are then cached in every filesystem).
 *
 * Paths are resolved relative to an fd of DIR (fstatat, openat), so the
 * walk covers the filesystem under test only.  Times are CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NDIRS		200
#define FILES_PER_DIR	100
#define NFILES		(NDIRS * FILES_PER_DIR)
#define FLAT_ENTRIES	10000
#define BIG_SIZE	(256UL << 20)
#define SEQ_CHUNK	(1UL << 20)
#define DENTS_BUF	(32 * 1024)
#define SMALL_MIN	1024
#define SMALL_MAX	4096
#define READ_BUF	(64 * 1024)
#define MAX_DIRS	8
#define PATH_LEN	24

/* populate-write */
#define GIB_SIZE	(1UL << 30)
#define SPARSE_EXTENTS	16
#define SPARSE_EXTENT	(256UL << 10)
#define SPARSE_STRIDE	(GIB_SIZE / SPARSE_EXTENTS)
#define SPARSE_FIRST	(16UL << 20)	/* offset of extent 0: a hole first */
#define CREATE_SIZE	4096
#define BIG1G		"w/big1g"
#define SPARSE1G	"w/sparse1g"
#define COPY_SUFFIX	".copy"

struct target {
	const char *label;
	const char *path;
	int fd;
	int bare;		/* label "bare": copy-up means copy */
	uint64_t *ns;		/* one per timed run */
};

struct workload {
	const char *name;
	/* Run once on root fd; return 0 or -1 (message printed). */
	int (*run)(int rootfd, uint64_t *check);
	uint64_t (*expect)(void);
	int cold;		/* drop caches before each run, no warm-up */
	/* Write workloads: a fresh target per run through the hook. */
	int write;
	int (*prep)(int rootfd);	/* untimed, before the run */
	int (*verify)(int rootfd);	/* untimed, after the run */
};

static char file_path[NFILES][PATH_LEN];
static char miss_path[NFILES][PATH_LEN];
/* The write tree: lower files, created, renamed upper and renamed lower. */
static char wf_path[NFILES][PATH_LEN];
static char wc_path[NFILES][PATH_LEN];
static char wr_path[NFILES][PATH_LEN];
static char wg_path[NFILES][PATH_LEN];
static char *io_buf;		/* SEQ_CHUNK bytes, also the small-read buffer */
static char *cmp_buf;		/* SEQ_CHUNK bytes, for reading back */
static int cur_bare;		/* the target of the current run is bare */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rwl_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Size of tree file i: deterministic, spread over [SMALL_MIN, SMALL_MAX]. */
static size_t small_size(unsigned int i)
{
	uint32_t h = i * 2654435761u;

	return SMALL_MIN + (h >> 8) % (SMALL_MAX - SMALL_MIN + 1);
}

static void make_paths(void)
{
	unsigned int d, f;

	for (d = 0; d < NDIRS; d++)
		for (f = 0; f < FILES_PER_DIR; f++) {
			unsigned int i = d * FILES_PER_DIR + f;

			snprintf(file_path[i], PATH_LEN, "tree/d%03u/f%03u", d, f);
			snprintf(miss_path[i], PATH_LEN, "tree/d%03u/m%03u", d, f);
			snprintf(wf_path[i], PATH_LEN, "w/tree/d%03u/f%03u", d, f);
			snprintf(wc_path[i], PATH_LEN, "w/tree/d%03u/c%03u", d, f);
			snprintf(wr_path[i], PATH_LEN, "w/tree/d%03u/r%03u", d, f);
			snprintf(wg_path[i], PATH_LEN, "w/tree/d%03u/g%03u", d, f);
		}
}

/*
 * The data of every big file: io_buf's pattern with the chunk number in
 * the first 8 bytes of each 1 MiB chunk, so a misplaced chunk shows.
 */
static void fill_pattern(char *buf, uint64_t chunk)
{
	static char *base;
	size_t off;

	if (!base) {
		base = malloc(SEQ_CHUNK);
		if (!base)
			die("out of memory");
		for (off = 0; off < SEQ_CHUNK; off++)
			base[off] = (char)('a' + (off * 7 + off / 4096) % 26);
	}
	memcpy(buf, base, SEQ_CHUNK);
	memcpy(buf, &chunk, sizeof(chunk));
}

/* ---- populate --------------------------------------------------------- */

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s: %s", what, strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void mkdir_at(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0755) && errno != EEXIST)
		die("mkdir %s: %s", name, strerror(errno));
}

static int populate(const char *dir)
{
	char name[PATH_LEN];
	uint64_t t0 = now_ns();
	unsigned int i, d;
	size_t off;
	int root, fd, dfd;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("open %s: %s", dir, strerror(errno));
	for (off = 0; off < SEQ_CHUNK; off++)
		io_buf[off] = (char)('a' + (off * 7 + off / 4096) % 26);

	mkdir_at(root, "tree");
	for (d = 0; d < NDIRS; d++) {
		snprintf(name, sizeof(name), "tree/d%03u", d);
		mkdir_at(root, name);
	}
	for (i = 0; i < NFILES; i++) {
		fd = openat(root, file_path[i],
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create %s/%s: %s", dir, file_path[i], strerror(errno));
		write_all(fd, io_buf + (i % 64) * 16, small_size(i), file_path[i]);
		close(fd);
	}

	mkdir_at(root, "flat");
	dfd = openat(root, "flat", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die("open %s/flat: %s", dir, strerror(errno));
	for (i = 0; i < FLAT_ENTRIES; i++) {
		snprintf(name, sizeof(name), "e%05u", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create %s/flat/%s: %s", dir, name, strerror(errno));
		close(fd);
	}
	close(dfd);

	fd = openat(root, "big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s/big: %s", dir, strerror(errno));
	for (off = 0; off < BIG_SIZE; off += SEQ_CHUNK)
		write_all(fd, io_buf, SEQ_CHUNK, "big");
	if (fsync(fd) && errno != EINVAL)
		die("fsync %s/big: %s", dir, strerror(errno));
	close(fd);
	close(root);
	printf("POPULATED %s files=%u flat=%u big=%lu ns=%llu\n", dir, NFILES,
	       FLAT_ENTRIES, BIG_SIZE, (unsigned long long)(now_ns() - t0));
	return 0;
}

/* ---- populate-write / reset-write ------------------------------------- */

static void write_small(int root, const char *path, unsigned int i, int excl)
{
	int fd = openat(root, path, O_WRONLY | O_CREAT | O_CLOEXEC |
			(excl ? O_EXCL : O_TRUNC), 0644);

	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	write_all(fd, io_buf + (i % 64) * 16, small_size(i), path);
	close(fd);
}

static void pwrite_all(int fd, const char *buf, size_t len, off_t off,
		       const char *what)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s: %s", what, strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
}

static int populate_write(const char *dir)
{
	char name[PATH_LEN];
	uint64_t t0 = now_ns();
	unsigned int i, d;
	uint64_t c;
	int root, fd;

	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("open %s: %s", dir, strerror(errno));
	mkdir_at(root, "w");
	mkdir_at(root, "w/tree");
	for (d = 0; d < NDIRS; d++) {
		snprintf(name, sizeof(name), "w/tree/d%03u", d);
		mkdir_at(root, name);
	}
	fill_pattern(io_buf, 0);
	for (i = 0; i < NFILES; i++)
		write_small(root, wf_path[i], i, 0);

	fd = openat(root, BIG1G, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s/%s: %s", dir, BIG1G, strerror(errno));
	for (c = 0; c < GIB_SIZE / SEQ_CHUNK; c++) {
		fill_pattern(cmp_buf, c);
		write_all(fd, cmp_buf, SEQ_CHUNK, BIG1G);
	}
	close(fd);

	fd = openat(root, SPARSE1G, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s/%s: %s", dir, SPARSE1G, strerror(errno));
	if (ftruncate(fd, (off_t)GIB_SIZE))
		die("truncate %s: %s", SPARSE1G, strerror(errno));
	for (c = 0; c < SPARSE_EXTENTS; c++) {
		fill_pattern(cmp_buf, c);
		pwrite_all(fd, cmp_buf, SPARSE_EXTENT,
			   (off_t)(SPARSE_FIRST + c * SPARSE_STRIDE), SPARSE1G);
	}
	close(fd);
	close(root);
	printf("POPULATED %s/w files=%u big1g=%lu sparse1g=%lu/%lu ns=%llu\n",
	       dir, NFILES, GIB_SIZE, SPARSE_EXTENTS * SPARSE_EXTENT, GIB_SIZE,
	       (unsigned long long)(now_ns() - t0));
	return 0;
}

static void unlink_if(int root, const char *path)
{
	if (unlinkat(root, path, 0) && errno != ENOENT)
		die("unlink %s: %s", path, strerror(errno));
}

static int reset_write(const char *dir)
{
	char name[PATH_LEN];
	unsigned int i, d;
	struct stat st;
	int root;

	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("open %s: %s", dir, strerror(errno));
	fill_pattern(io_buf, 0);
	unlink_if(root, BIG1G COPY_SUFFIX);
	unlink_if(root, SPARSE1G COPY_SUFFIX);
	for (d = 0; d < NDIRS; d++) {
		snprintf(name, sizeof(name), "w/tree/d%03u/.prep", d);
		unlink_if(root, name);
	}
	for (i = 0; i < NFILES; i++) {
		unlink_if(root, wc_path[i]);
		unlink_if(root, wr_path[i]);
		if (!renameat(root, wg_path[i], root, wf_path[i]))
			continue;
		if (errno != ENOENT)
			die("rename %s: %s", wg_path[i], strerror(errno));
		if (fstatat(root, wf_path[i], &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT)
				die("lstat %s: %s", wf_path[i], strerror(errno));
			write_small(root, wf_path[i], i, 1);
		}
	}
	close(root);
	return 0;
}

/* ---- workloads -------------------------------------------------------- */

static int run_stat(int rootfd, uint64_t *check)
{
	struct stat st;
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < NFILES; i++) {
		if (fstatat(rootfd, file_path[i], &st, AT_SYMLINK_NOFOLLOW)) {
			fprintf(stderr, "rwl_bench: lstat %s: %s\n", file_path[i],
				strerror(errno));
			return -1;
		}
		sum += (uint64_t)st.st_size;
	}
	*check = sum;
	return 0;
}

static uint64_t expect_small_bytes(void)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < NFILES; i++)
		sum += small_size(i);
	return sum;
}

static int run_open_read(int rootfd, uint64_t *check)
{
	uint64_t sum = 0;
	unsigned int i;
	ssize_t n;
	int fd;

	for (i = 0; i < NFILES; i++) {
		fd = openat(rootfd, file_path[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "rwl_bench: open %s: %s\n", file_path[i],
				strerror(errno));
			return -1;
		}
		while ((n = read(fd, io_buf, READ_BUF)) > 0)
			sum += (uint64_t)n;
		if (n < 0) {
			fprintf(stderr, "rwl_bench: read %s: %s\n", file_path[i],
				strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	*check = sum;
	return 0;
}

static int run_readdir(int rootfd, uint64_t *check)
{
	static char buf[DENTS_BUF] __attribute__((aligned(8)));
	uint64_t entries = 0;
	long n, off;
	int fd;

	fd = openat(rootfd, "flat", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rwl_bench: open flat: %s\n", strerror(errno));
		return -1;
	}
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);

			entries++;
			off += de->d_reclen;
		}
	}
	if (n < 0) {
		fprintf(stderr, "rwl_bench: getdents64 flat: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*check = entries;
	return 0;
}

static uint64_t expect_readdir(void)
{
	return FLAT_ENTRIES + 2;	/* . and .. */
}

static int run_seqread(int rootfd, uint64_t *check)
{
	uint64_t sum = 0;
	ssize_t n;
	int fd;

	fd = openat(rootfd, "big", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rwl_bench: open big: %s\n", strerror(errno));
		return -1;
	}
	while ((n = read(fd, io_buf, SEQ_CHUNK)) > 0)
		sum += (uint64_t)n;
	if (n < 0) {
		fprintf(stderr, "rwl_bench: read big: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*check = sum;
	return 0;
}

static uint64_t expect_seqread(void)
{
	return BIG_SIZE;
}

static int run_lookup_miss(int rootfd, uint64_t *check)
{
	struct stat st;
	unsigned int i;

	for (i = 0; i < NFILES; i++) {
		if (!fstatat(rootfd, miss_path[i], &st, AT_SYMLINK_NOFOLLOW)) {
			fprintf(stderr, "rwl_bench: lstat %s: exists\n", miss_path[i]);
			return -1;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "rwl_bench: lstat %s: %s, not ENOENT\n",
				miss_path[i], strerror(errno));
			return -1;
		}
	}
	*check = NFILES;
	return 0;
}

static uint64_t expect_nfiles(void)
{
	return NFILES;
}

/* ---- write workloads -------------------------------------------------- */

/*
 * The bare copy: what cp does for a sparse file.  Every data extent
 * (SEEK_DATA/SEEK_HOLE) goes through copy_file_range(), which tmpfs does
 * as an in-kernel splice; ftruncate() sets the size past a trailing hole.
 */
static int copy_file(int rootfd, const char *src, const char *dst,
		     uint64_t *size)
{
	off_t pos = 0, data, hole, in_off, out_off;
	struct stat st;
	int in, out, ret = -1;
	ssize_t n;

	in = openat(rootfd, src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "rwl_bench: open %s: %s\n", src, strerror(errno));
		return -1;
	}
	if (fstat(in, &st)) {
		fprintf(stderr, "rwl_bench: fstat %s: %s\n", src, strerror(errno));
		close(in);
		return -1;
	}
	out = openat(rootfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     st.st_mode & 07777);
	if (out < 0) {
		fprintf(stderr, "rwl_bench: create %s: %s\n", dst, strerror(errno));
		close(in);
		return -1;
	}
	for (;;) {
		data = lseek(in, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;
			fprintf(stderr, "rwl_bench: SEEK_DATA %s: %s\n", src,
				strerror(errno));
			goto out;
		}
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			fprintf(stderr, "rwl_bench: SEEK_HOLE %s: %s\n", src,
				strerror(errno));
			goto out;
		}
		in_off = out_off = data;
		while (in_off < hole) {
			n = copy_file_range(in, &in_off, out, &out_off,
					    (size_t)(hole - in_off), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(stderr, "rwl_bench: copy_file_range %s: %s\n",
					src, n ? strerror(errno) : "early EOF");
				goto out;
			}
		}
		pos = hole;
	}
	if (ftruncate(out, st.st_size)) {
		fprintf(stderr, "rwl_bench: ftruncate %s: %s\n", dst, strerror(errno));
		goto out;
	}
	*size = (uint64_t)st.st_size;
	ret = 0;
out:
	close(out);
	close(in);
	return ret;
}

/* A union copies the file up on the first open for write. */
static int copy_up(int rootfd, const char *path, uint64_t *size)
{
	struct stat st;
	int fd;

	fd = openat(rootfd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rwl_bench: open %s for write: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		fprintf(stderr, "rwl_bench: fstat %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*size = (uint64_t)st.st_size;
	return 0;
}

static int run_copyup_1g(int rootfd, uint64_t *check)
{
	return cur_bare ? copy_file(rootfd, BIG1G, BIG1G COPY_SUFFIX, check) :
			  copy_up(rootfd, BIG1G, check);
}

static int run_copyup_sparse(int rootfd, uint64_t *check)
{
	return cur_bare ? copy_file(rootfd, SPARSE1G, SPARSE1G COPY_SUFFIX, check) :
			  copy_up(rootfd, SPARSE1G, check);
}

static uint64_t expect_gib(void)
{
	return GIB_SIZE;
}

/* Read LEN bytes at OFF of PATH (the copy, or the union's copied-up file). */
static int read_back(int rootfd, const char *path, off_t off, size_t len,
		     const char *want)
{
	ssize_t n;
	int fd;

	fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rwl_bench: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = pread(fd, io_buf, len, off);
	close(fd);
	if (n != (ssize_t)len) {
		fprintf(stderr, "rwl_bench: read %s at %lld: %s\n", path,
			(long long)off, n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	if (memcmp(io_buf, want, len)) {
		fprintf(stderr, "rwl_bench: %s: wrong data at %lld after the copy\n",
			path, (long long)off);
		return -1;
	}
	return 0;
}

static int verify_copyup_1g(int rootfd)
{
	static const uint64_t chunks[] = { 0, 1, 127, 128, 511, 512, 1000, 1023 };
	const char *path = cur_bare ? BIG1G COPY_SUFFIX : BIG1G;
	size_t k;

	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		fill_pattern(cmp_buf, chunks[k]);
		if (read_back(rootfd, path, (off_t)(chunks[k] * SEQ_CHUNK),
			      SEQ_CHUNK, cmp_buf))
			return -1;
	}
	return 0;
}

static int verify_copyup_sparse(int rootfd)
{
	const char *path = cur_bare ? SPARSE1G COPY_SUFFIX : SPARSE1G;
	uint64_t c;

	for (c = 0; c < SPARSE_EXTENTS; c++) {
		fill_pattern(cmp_buf, c);
		if (read_back(rootfd, path, (off_t)(SPARSE_FIRST + c * SPARSE_STRIDE),
			      SPARSE_EXTENT, cmp_buf))
			return -1;
	}
	memset(cmp_buf, 0, SEQ_CHUNK);
	if (read_back(rootfd, path, 0, SEQ_CHUNK, cmp_buf) ||
	    read_back(rootfd, path, (off_t)(GIB_SIZE - SEQ_CHUNK), SEQ_CHUNK, cmp_buf))
		return -1;
	return 0;
}

/* Copy the 200 directories up (in a union) and leave nothing behind. */
static int prep_dirs(int rootfd)
{
	char name[PATH_LEN];
	unsigned int d;
	int fd;

	for (d = 0; d < NDIRS; d++) {
		snprintf(name, sizeof(name), "w/tree/d%03u/.prep", d);
		fd = openat(rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "rwl_bench: create %s: %s\n", name, strerror(errno));
			return -1;
		}
		close(fd);
		if (unlinkat(rootfd, name, 0)) {
			fprintf(stderr, "rwl_bench: unlink %s: %s\n", name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int lstat_all(int rootfd, char (*paths)[PATH_LEN])
{
	struct stat st;
	unsigned int i;

	for (i = 0; i < NFILES; i++)
		if (fstatat(rootfd, paths[i], &st, AT_SYMLINK_NOFOLLOW)) {
			fprintf(stderr, "rwl_bench: lstat %s: %s\n", paths[i],
				strerror(errno));
			return -1;
		}
	return 0;
}

static int prep_lower(int rootfd)
{
	return prep_dirs(rootfd) || lstat_all(rootfd, wf_path) ? -1 : 0;
}

static int prep_rename_upper(int rootfd)
{
	unsigned int i;
	int fd;

	if (prep_dirs(rootfd))
		return -1;
	for (i = 0; i < NFILES; i++) {
		fd = openat(rootfd, wc_path[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    0644);
		if (fd < 0) {
			fprintf(stderr, "rwl_bench: create %s: %s\n", wc_path[i],
				strerror(errno));
			return -1;
		}
		close(fd);
	}
	return lstat_all(rootfd, wc_path);
}

static int run_create(int rootfd, uint64_t *check)
{
	uint64_t sum = 0;
	unsigned int i;
	ssize_t n;
	int fd;

	for (i = 0; i < NFILES; i++) {
		fd = openat(rootfd, wc_path[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    0644);
		if (fd < 0) {
			fprintf(stderr, "rwl_bench: create %s: %s\n", wc_path[i],
				strerror(errno));
			return -1;
		}
		n = write(fd, io_buf, CREATE_SIZE);
		if (n != CREATE_SIZE) {
			fprintf(stderr, "rwl_bench: write %s: %s\n", wc_path[i],
				n < 0 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		if (close(fd)) {
			fprintf(stderr, "rwl_bench: close %s: %s\n", wc_path[i],
				strerror(errno));
			return -1;
		}
		sum += (uint64_t)n;
	}
	*check = sum;
	return 0;
}

static uint64_t expect_create(void)
{
	return (uint64_t)NFILES * CREATE_SIZE;
}

static int run_unlink(int rootfd, uint64_t *check)
{
	unsigned int i;

	for (i = 0; i < NFILES; i++)
		if (unlinkat(rootfd, wf_path[i], 0)) {
			fprintf(stderr, "rwl_bench: unlink %s: %s\n", wf_path[i],
				strerror(errno));
			return -1;
		}
	*check = NFILES;
	return 0;
}

static int run_rename(int rootfd, char (*from)[PATH_LEN], char (*to)[PATH_LEN],
		      uint64_t *check)
{
	unsigned int i;

	for (i = 0; i < NFILES; i++)
		if (renameat(rootfd, from[i], rootfd, to[i])) {
			fprintf(stderr, "rwl_bench: rename %s %s: %s\n", from[i],
				to[i], strerror(errno));
			return -1;
		}
	*check = NFILES;
	return 0;
}

static int run_rename_upper(int rootfd, uint64_t *check)
{
	return run_rename(rootfd, wc_path, wr_path, check);
}

static int run_rename_lower(int rootfd, uint64_t *check)
{
	return run_rename(rootfd, wf_path, wg_path, check);
}

/* Number of entries of DIR, . and .. included. */
static long count_entries(int rootfd, const char *dir)
{
	static char buf[DENTS_BUF] __attribute__((aligned(8)));
	long n, off, entries = 0;
	int fd;

	fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rwl_bench: open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; entries++)
			off += ((struct dirent64 *)(buf + off))->d_reclen;
	close(fd);
	if (n < 0) {
		fprintf(stderr, "rwl_bench: getdents64 %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return entries;
}

/*
 * After a tree workload: every 37th name of GONE is absent, every 37th of
 * THERE is a regular file of SIZE (-1: the lower file's size), and
 * w/tree/d007 lists ENTRIES names.
 */
static int verify_tree(int rootfd, char (*gone)[PATH_LEN],
		       char (*there)[PATH_LEN], off_t size, long entries)
{
	struct stat st;
	unsigned int i;
	off_t want;
	long n;

	for (i = 0; i < NFILES; i += 37) {
		if (gone && (!fstatat(rootfd, gone[i], &st, AT_SYMLINK_NOFOLLOW) ||
			     errno != ENOENT)) {
			fprintf(stderr, "rwl_bench: %s is still there\n", gone[i]);
			return -1;
		}
		if (!there)
			continue;
		if (fstatat(rootfd, there[i], &st, AT_SYMLINK_NOFOLLOW)) {
			fprintf(stderr, "rwl_bench: lstat %s: %s\n", there[i],
				strerror(errno));
			return -1;
		}
		want = size < 0 ? (off_t)small_size(i) : size;
		if (!S_ISREG(st.st_mode) || st.st_size != want) {
			fprintf(stderr, "rwl_bench: %s: mode %o size %lld, want a file of %lld\n",
				there[i], st.st_mode, (long long)st.st_size,
				(long long)want);
			return -1;
		}
	}
	n = count_entries(rootfd, "w/tree/d007");
	if (n != entries) {
		if (n >= 0)
			fprintf(stderr, "rwl_bench: w/tree/d007 lists %ld entries, want %ld\n",
				n, entries);
		return -1;
	}
	return 0;
}

static int verify_create(int rootfd)
{
	return verify_tree(rootfd, NULL, wc_path, CREATE_SIZE, 2 + 2 * FILES_PER_DIR);
}

static int verify_unlink(int rootfd)
{
	return verify_tree(rootfd, wf_path, NULL, -1, 2);
}

static int verify_rename_upper(int rootfd)
{
	return verify_tree(rootfd, wc_path, wr_path, 0, 2 + 2 * FILES_PER_DIR);
}

static int verify_rename_lower(int rootfd)
{
	return verify_tree(rootfd, wf_path, wg_path, -1, 2 + FILES_PER_DIR);
}

static const struct workload workloads[] = {
	{ .name = "stat-cold",   .run = run_stat,        .expect = expect_small_bytes, .cold = 1 },
	{ .name = "stat-warm",   .run = run_stat,        .expect = expect_small_bytes },
	{ .name = "open-read",   .run = run_open_read,   .expect = expect_small_bytes },
	{ .name = "readdir",     .run = run_readdir,     .expect = expect_readdir },
	{ .name = "seqread",     .run = run_seqread,     .expect = expect_seqread },
	{ .name = "lookup-miss", .run = run_lookup_miss, .expect = expect_nfiles },
	{ .name = "copyup-1g", .run = run_copyup_1g, .expect = expect_gib,
	  .write = 1, .verify = verify_copyup_1g },
	{ .name = "copyup-sparse", .run = run_copyup_sparse, .expect = expect_gib,
	  .write = 1, .verify = verify_copyup_sparse },
	{ .name = "create", .run = run_create, .expect = expect_create,
	  .write = 1, .prep = prep_dirs, .verify = verify_create },
	{ .name = "unlink", .run = run_unlink, .expect = expect_nfiles,
	  .write = 1, .prep = prep_lower, .verify = verify_unlink },
	{ .name = "rename-upper", .run = run_rename_upper, .expect = expect_nfiles,
	  .write = 1, .prep = prep_rename_upper, .verify = verify_rename_upper },
	{ .name = "rename-lower", .run = run_rename_lower, .expect = expect_nfiles,
	  .write = 1, .prep = prep_lower, .verify = verify_rename_lower },
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* ---- driver ----------------------------------------------------------- */

static void drop_caches(void)
{
	static int warned;
	int fd, err = 0;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
	} else {
		if (write(fd, "2\n", 2) != 2)
			err = errno;
		close(fd);
	}
	if (err && !warned) {
		warned = 1;
		if (err == EACCES || err == EROFS || err == EPERM || err == ENOENT)
			printf("NOTE cannot drop caches (%s): stat-cold runs are not cold\n",
			       strerror(err));
		else
			die("drop_caches: %s", strerror(err));
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const char *hook_cmd;	/* -p: the command line, then "$@" */

/* Run  HOOK PHASE WORKLOAD LABEL DIR  through /bin/sh; 0 if it exits 0. */
static int run_hook(const char *phase, const struct workload *w,
		    const struct target *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		execl("/bin/sh", "sh", "-c", hook_cmd, "sh", phase, w->name,
		      t->label, t->path, (char *)NULL);
		fprintf(stderr, "rwl_bench: exec /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	fprintf(stderr, "rwl_bench: hook %s %s %s %s failed (status %#x)\n",
		phase, w->name, t->label, t->path, status);
	return -1;
}

static int open_target(struct target *t)
{
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0) {
		fprintf(stderr, "rwl_bench: open %s: %s\n", t->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int one_run(const struct workload *w, struct target *t, uint64_t *ns)
{
	uint64_t check = 0, want = w->expect(), t0;
	int ret = -1;

	if (w->write) {
		if (run_hook("setup", w, t))
			return -1;
		if (open_target(t))
			goto out;
		cur_bare = t->bare;
		if (w->prep && w->prep(t->fd))
			goto out;
	}
	if (w->cold)
		drop_caches();
	t0 = now_ns();
	if (w->run(t->fd, &check))
		goto out;
	*ns = now_ns() - t0;
	if (check != want) {
		fprintf(stderr, "rwl_bench: %s on %s (%s): wrong result %llu, want %llu\n",
			w->name, t->label, t->path, (unsigned long long)check,
			(unsigned long long)want);
		goto out;
	}
	if (w->verify && w->verify(t->fd))
		goto out;
	ret = 0;
out:
	if (w->write) {
		if (t->fd >= 0)
			close(t->fd);
		t->fd = -1;
		if (run_hook("cleanup", w, t))
			ret = -1;
	}
	if (ret)
		fprintf(stderr, "rwl_bench: %s on %s (%s) failed\n", w->name,
			t->label, t->path);
	return ret;
}

static int bench(const struct workload *w, struct target *tg, int ntg,
		 int runs, int quiet)
{
	uint64_t ns;
	int r, i, k;

	if (w->write && !hook_cmd) {
		fprintf(stderr, "rwl_bench: %s changes the target: it needs a hook (-p)\n",
			w->name);
		return -1;
	}
	if (!w->cold && !w->write)
		for (i = 0; i < ntg; i++)
			if (one_run(w, &tg[i], &ns))
				return -1;
	for (r = 0; r < runs; r++) {
		for (k = 0; k < ntg; k++) {
			struct target *t = &tg[(k + r) % ntg];

			if (one_run(w, t, &t->ns[r]))
				return -1;
			if (!quiet)
				printf("RUN %s %s %d %llu\n", w->name, t->label, r,
				       (unsigned long long)t->ns[r]);
		}
	}
	for (i = 0; i < ntg; i++) {
		qsort(tg[i].ns, (size_t)runs, sizeof(uint64_t), cmp_u64);
		printf("RESULT %s %s %llu %d %llu %llu\n", w->name, tg[i].label,
		       (unsigned long long)tg[i].ns[runs / 2], runs,
		       (unsigned long long)tg[i].ns[0],
		       (unsigned long long)tg[i].ns[runs - 1]);
	}
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: rwl_bench populate DIR\n"
		"       rwl_bench populate-write DIR\n"
		"       rwl_bench reset-write DIR\n"
		"       rwl_bench [-r RUNS] [-q] [-p HOOK] WORKLOAD|all [LABEL=]DIR...\n"
		"  -r RUNS  timed runs per DIR, odd (default 5); the median is reported\n"
		"  -q       no RUN line per run, only RESULT lines\n"
		"  -p HOOK  shell command run as HOOK setup|cleanup WORKLOAD LABEL DIR\n"
		"           around every run of a write workload (required for them)\n"
		"read workloads (all):");
	for (i = 0; i < NWORKLOADS; i++)
		if (!workloads[i].write)
			fprintf(f, " %s", workloads[i].name);
	fputs("\nwrite workloads (on a populate-write tree):", f);
	for (i = 0; i < NWORKLOADS; i++)
		if (workloads[i].write)
			fprintf(f, " %s", workloads[i].name);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	struct target tg[MAX_DIRS];
	const struct workload *w = NULL;
	int runs = 5, quiet = 0, ntg, opt, i;
	char *end, *hook;
	size_t k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:qp:h")) != -1) {
		switch (opt) {
		case 'r':
			errno = 0;
			runs = (int)strtol(optarg, &end, 10);
			if (errno || *end || runs < 1 || runs > 1001 || !(runs & 1))
				die("-r %s: want an odd number of runs, 1-1001", optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'p':
			if (asprintf(&hook, "%s \"$@\"", optarg) < 0)
				die("out of memory");
			hook_cmd = hook;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	io_buf = aligned_alloc(4096, SEQ_CHUNK);
	cmp_buf = aligned_alloc(4096, SEQ_CHUNK);
	if (!io_buf || !cmp_buf)
		die("out of memory");
	memset(io_buf, 0, SEQ_CHUNK);
	make_paths();

	if (!strcmp(argv[optind], "populate") ||
	    !strcmp(argv[optind], "populate-write") ||
	    !strcmp(argv[optind], "reset-write")) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[optind], "populate-write"))
			return populate_write(argv[optind + 1]);
		if (!strcmp(argv[optind], "reset-write"))
			return reset_write(argv[optind + 1]);
		return populate(argv[optind + 1]);
	}
	if (strcmp(argv[optind], "all")) {
		for (k = 0; k < NWORKLOADS; k++)
			if (!strcmp(argv[optind], workloads[k].name))
				w = &workloads[k];
		if (!w)
			die("unknown workload %s (try -h)", argv[optind]);
	}

	ntg = argc - optind - 1;
	if (ntg > MAX_DIRS)
		die("at most %d directories", MAX_DIRS);
	for (i = 0; i < ntg; i++) {
		char *arg = argv[optind + 1 + i], *eq = strchr(arg, '=');

		tg[i].label = arg;
		tg[i].path = arg;
		if (eq) {
			*eq = '\0';
			tg[i].path = eq + 1;
			if (!*tg[i].label || !*tg[i].path)
				die("bad LABEL=DIR: %s", argv[optind + 1 + i]);
		}
		tg[i].bare = !strcmp(tg[i].label, "bare");
		/* A write workload opens DIR after its hook set it up. */
		tg[i].fd = -1;
		if ((!w || !w->write) && open_target(&tg[i]))
			return 1;
		tg[i].ns = calloc((size_t)runs, sizeof(uint64_t));
		if (!tg[i].ns)
			die("out of memory");
	}

	if (w)
		return bench(w, tg, ntg, runs, quiet) ? 1 : 0;
	for (k = 0; k < NWORKLOADS; k++)
		if (!workloads[k].write &&
		    bench(&workloads[k], tg, ntg, runs, quiet))
			return 1;
	return 0;
}
