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
 *   rwl_bench [-r RUNS] [-q] WORKLOAD [LABEL=]DIR...
 *	run WORKLOAD (or "all") RUNS times (odd, default 5) on every DIR,
 *	each a union of (or the bare) populated tree.  The DIRs are
 *	interleaved within each round, in an order rotated every round, so
 *	that drift hits every DIR alike.  Each DIR gets one untimed warm-up
 *	run first, except for stat-cold.  Prints, per timed run,
 *	  RUN <workload> <label> <round> <ns>
 *	and per DIR
 *	  RESULT <workload> <label> <median-ns> <runs> <min-ns> <max-ns>
 *	Every run is checked (file count, byte count, entry count, ENOENT);
 *	a wrong answer is an error, exit 1.
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

struct target {
	const char *label;
	const char *path;
	int fd;
	uint64_t *ns;		/* one per timed run */
};

struct workload {
	const char *name;
	/* Run once on root fd; return 0 or -1 (message printed). */
	int (*run)(int rootfd, uint64_t *check);
	uint64_t (*expect)(void);
	int cold;		/* drop caches before each run, no warm-up */
};

static char file_path[NFILES][PATH_LEN];
static char miss_path[NFILES][PATH_LEN];
static char *io_buf;		/* SEQ_CHUNK bytes, also the small-read buffer */

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
		}
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

static const struct workload workloads[] = {
	{ "stat-cold",   run_stat,        expect_small_bytes, 1 },
	{ "stat-warm",   run_stat,        expect_small_bytes, 0 },
	{ "open-read",   run_open_read,   expect_small_bytes, 0 },
	{ "readdir",     run_readdir,     expect_readdir,     0 },
	{ "seqread",     run_seqread,     expect_seqread,     0 },
	{ "lookup-miss", run_lookup_miss, expect_nfiles,      0 },
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

static int one_run(const struct workload *w, struct target *t, uint64_t *ns)
{
	uint64_t check = 0, want = w->expect(), t0;

	if (w->cold)
		drop_caches();
	t0 = now_ns();
	if (w->run(t->fd, &check))
		return -1;
	*ns = now_ns() - t0;
	if (check != want) {
		fprintf(stderr, "rwl_bench: %s on %s (%s): wrong result %llu, want %llu\n",
			w->name, t->label, t->path, (unsigned long long)check,
			(unsigned long long)want);
		return -1;
	}
	return 0;
}

static int bench(const struct workload *w, struct target *tg, int ntg,
		 int runs, int quiet)
{
	uint64_t ns;
	int r, i, k;

	if (!w->cold)
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
		"       rwl_bench [-r RUNS] [-q] WORKLOAD|all [LABEL=]DIR...\n"
		"  -r RUNS  timed runs per DIR, odd (default 5); the median is reported\n"
		"  -q       no RUN line per run, only RESULT lines\n"
		"workloads:");
	for (i = 0; i < NWORKLOADS; i++)
		fprintf(f, " %s", workloads[i].name);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	struct target tg[MAX_DIRS];
	const struct workload *w = NULL;
	int runs = 5, quiet = 0, ntg, opt, i;
	char *end;
	size_t k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:qh")) != -1) {
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
	if (!io_buf)
		die("out of memory");
	memset(io_buf, 0, SEQ_CHUNK);
	make_paths();

	if (!strcmp(argv[optind], "populate")) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
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
		tg[i].fd = open(tg[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tg[i].fd < 0)
			die("open %s: %s", tg[i].path, strerror(errno));
		tg[i].ns = calloc((size_t)runs, sizeof(uint64_t));
		if (!tg[i].ns)
			die("out of memory");
	}

	if (w)
		return bench(w, tg, ntg, runs, quiet) ? 1 : 0;
	for (k = 0; k < NWORKLOADS; k++)
		if (bench(&workloads[k], tg, ntg, runs, quiet))
			return 1;
	return 0;
}
