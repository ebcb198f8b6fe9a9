// SPDX-License-Identifier: GPL-2.0
/*
 * Reading regular files through the union: read, pread, lseek (with
 * SEEK_DATA/SEEK_HOLE), mmap, splice and sendfile return the lower's
 * bytes; the page cache is the lower's, not a second copy; an open file
 * keeps the mount busy.
 */
#include <sys/mman.h>
#include <sys/sendfile.h>

#include "rwl_util.h"

#define MiB		(1024 * 1024)
#define BIG_SIZE	(8 * MiB)
#define SPARSE_SIZE	(16 * MiB)
#define SPARSE_DATA1	(4 * MiB)
#define SPARSE_DATA2	(12 * MiB)
#define SPARSE_LEN	4096

static const struct {
	const char *name;
	off_t size;
	unsigned int seed;
} files[] = {
	{ "empty", 0, 10 },
	{ "one", 1, 11 },
	{ "page_plus_one", 4097, 12 },
	{ "big", BIG_SIZE, 13 },
};

FIXTURE(io) {
	struct rwl_env env;
	char lower[RWL_PATH], scratch[RWL_PATH], mnt[RWL_PATH];
};

FIXTURE_SETUP(io)
{
	char p[RWL_PATH], buf[SPARSE_LEN];
	size_t i;
	int fd;

	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->lower, "%s/lower", self->env.base);
	rwl_pathf(self->scratch, "%s/scratch", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->lower, NULL));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->scratch, NULL));
	for (i = 0; i < ARRAY_SIZE(files); i++)
		ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/%s", self->lower,
							 files[i].name),
					       files[i].size, files[i].seed,
					       0644));

	/* Two pages of data in a 16 MiB file of holes. */
	fd = open(rwl_pathf(p, "%s/sparse", self->lower),
		  O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, SPARSE_SIZE));
	rwl_pattern_fill(buf, sizeof(buf), SPARSE_DATA1, 14);
	ASSERT_EQ(SPARSE_LEN, pwrite(fd, buf, SPARSE_LEN, SPARSE_DATA1));
	rwl_pattern_fill(buf, sizeof(buf), SPARSE_DATA2, 14);
	ASSERT_EQ(SPARSE_LEN, pwrite(fd, buf, SPARSE_LEN, SPARSE_DATA2));
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, self->lower));
}

FIXTURE_TEARDOWN(io)
{
	RWL_ENV_TEARDOWN(&self->env);
}

static int open_mnt(FIXTURE_DATA(io) *self, const char *name)
{
	char p[RWL_PATH];

	return open(rwl_pathf(p, "%s/%s", self->mnt, name), O_RDONLY | O_CLOEXEC);
}

/* Read @fd to EOF with @chunk-byte read()s into @buf (size @cap). */
static ssize_t read_all(int fd, char *buf, size_t cap, size_t chunk)
{
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + total, cap - total < chunk ? cap - total : chunk);
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		total += n;
		if (total == cap)
			return total;
	}
}

TEST_F(io, read_sizes)
{
	static const size_t chunks[] = { 1, 4096, 65537, MiB };
	size_t i, c;
	struct stat st;
	ssize_t n;
	char *buf;
	int fd;

	buf = malloc(BIG_SIZE + 1);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		for (c = 0; c < ARRAY_SIZE(chunks); c++) {
			/* One byte at a time is for the small files only. */
			if (chunks[c] == 1 && files[i].size > 8192)
				continue;
			fd = open_mnt(self, files[i].name);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", files[i].name,
						strerror(errno));
			ASSERT_EQ(0, fstat(fd, &st));
			EXPECT_EQ(files[i].size, st.st_size);
			n = read_all(fd, buf, BIG_SIZE + 1, chunks[c]);
			EXPECT_EQ(files[i].size, n) TH_LOG("%s in %zu-byte reads",
							   files[i].name, chunks[c]);
			if (n > 0) {
				EXPECT_EQ(-1, rwl_pattern_check(buf, n, 0,
								files[i].seed))
					TH_LOG("%s in %zu-byte reads",
					       files[i].name, chunks[c]);
			}
			/* At EOF, read returns 0. */
			EXPECT_EQ(0, read(fd, buf, 4096));
			close(fd);
		}
	}
	free(buf);
}

TEST_F(io, pread_offsets)
{
	static const off_t offs[] = {
		0, 1, 7, 4095, 4096, 4097, 65535, MiB + 3, BIG_SIZE - 10,
		BIG_SIZE - 1, BIG_SIZE, BIG_SIZE + 100,
	};
	char buf[8192];
	ssize_t n, want;
	size_t i;
	int fd;

	fd = open_mnt(self, "big");
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		want = offs[i] >= BIG_SIZE ? 0 :
		       BIG_SIZE - offs[i] < (off_t)sizeof(buf) ?
		       BIG_SIZE - offs[i] : (ssize_t)sizeof(buf);
		n = pread(fd, buf, sizeof(buf), offs[i]);
		EXPECT_EQ(want, n) TH_LOG("pread at %lld", (long long)offs[i]);
		if (n > 0) {
			EXPECT_EQ(-1, rwl_pattern_check(buf, n, offs[i], 13))
				TH_LOG("pread at %lld", (long long)offs[i]);
		}
	}
	/* pread leaves the file offset alone. */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(16, read(fd, buf, 16));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 16, 0, 13));
	close(fd);
}

TEST_F(io, lseek_set_cur_end)
{
	char buf[64];
	int fd;

	fd = open_mnt(self, "big");
	ASSERT_LE(0, fd);
	EXPECT_EQ(100, lseek(fd, 100, SEEK_SET));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 10, 100, 13));
	EXPECT_EQ(110, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(1110, lseek(fd, 1000, SEEK_CUR));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 10, 1110, 13));
	EXPECT_EQ(1100, lseek(fd, -20, SEEK_CUR));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 10, 1100, 13));
	EXPECT_EQ(BIG_SIZE - 5, lseek(fd, -5, SEEK_END));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 5, BIG_SIZE - 5, 13));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(BIG_SIZE, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(BIG_SIZE + 4096, lseek(fd, 4096, SEEK_END));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, lseek(fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(8, read(fd, buf, 8));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 8, 0, 13));
	close(fd);
}

TEST_F(io, seek_data_hole)
{
	static const struct {
		int whence;
		off_t from, want;	/* want -1: ENXIO */
	} q[] = {
		{ SEEK_DATA, 0, SPARSE_DATA1 },
		{ SEEK_HOLE, 0, 0 },
		{ SEEK_HOLE, SPARSE_DATA1, SPARSE_DATA1 + SPARSE_LEN },
		{ SEEK_DATA, SPARSE_DATA1 + 100, SPARSE_DATA1 + 100 },
		{ SEEK_DATA, SPARSE_DATA1 + SPARSE_LEN, SPARSE_DATA2 },
		{ SEEK_HOLE, SPARSE_DATA2, SPARSE_DATA2 + SPARSE_LEN },
		{ SEEK_DATA, SPARSE_DATA2 + SPARSE_LEN, -1 },
		{ SEEK_HOLE, SPARSE_DATA2 + SPARSE_LEN, SPARSE_DATA2 + SPARSE_LEN },
		{ SEEK_DATA, SPARSE_SIZE, -1 },
		{ SEEK_HOLE, SPARSE_SIZE, -1 },
	};
	char p[RWL_PATH], buf[SPARSE_LEN], zero[SPARSE_LEN] = {};
	off_t got, real;
	int fd, rfd;
	size_t i;

	fd = open_mnt(self, "sparse");
	ASSERT_LE(0, fd);
	rfd = open(rwl_pathf(p, "%s/sparse", self->lower), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	for (i = 0; i < ARRAY_SIZE(q); i++) {
		got = lseek(fd, q[i].from, q[i].whence);
		if (got < 0) {
			EXPECT_EQ(ENXIO, errno);
		}
		real = lseek(rfd, q[i].from, q[i].whence);
		EXPECT_EQ(q[i].want, got) TH_LOG("%s from %lld",
			q[i].whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
			(long long)q[i].from);
		EXPECT_EQ(real, got);
	}
	/* Holes read as zeros, data as written. */
	ASSERT_EQ(SPARSE_LEN, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	ASSERT_EQ(SPARSE_LEN, pread(fd, buf, sizeof(buf), SPARSE_DATA2));
	EXPECT_EQ(-1, rwl_pattern_check(buf, sizeof(buf), SPARSE_DATA2, 14));
	close(rfd);
	close(fd);
}

static void check_mmap(struct __test_metadata *_metadata,
		       FIXTURE_DATA(io) *self, int flags)
{
	size_t i, len, maplen;
	unsigned char *map;
	long pg = sysconf(_SC_PAGESIZE);
	int fd;

	for (i = 1; i < ARRAY_SIZE(files); i++) {
		len = files[i].size;
		maplen = (len + pg - 1) / pg * pg;
		fd = open_mnt(self, files[i].name);
		ASSERT_LE(0, fd);
		map = mmap(NULL, maplen, PROT_READ, flags, fd, 0);
		ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap %s: %s", files[i].name,
						  strerror(errno));
		close(fd);	/* the mapping keeps the file */
		EXPECT_EQ(-1, rwl_pattern_check(map, len, 0, files[i].seed))
			TH_LOG("%s", files[i].name);
		/* The rest of the last page is zeros. */
		for (; len < maplen; len++)
			if (map[len])
				break;
		EXPECT_EQ(maplen, len) TH_LOG("%s: byte %zu past EOF",
					      files[i].name, len);
		EXPECT_EQ(0, munmap(map, maplen));
	}
}

TEST_F(io, mmap_private)
{
	check_mmap(_metadata, self, MAP_PRIVATE);
}

TEST_F(io, mmap_shared)
{
	check_mmap(_metadata, self, MAP_SHARED);
}

/*
 * One copy of the data: a change the image server makes to the lower
 * file shows through an open union file and a shared mapping at once.
 */
TEST_F(io, lower_change_visible)
{
	char p[RWL_PATH], buf[16];
	unsigned char *map;
	int fd, rfd;

	fd = open_mnt(self, "page_plus_one");
	ASSERT_LE(0, fd);
	map = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(16, pread(fd, buf, 16, 100));	/* cache it */
	ASSERT_EQ(map[100], (unsigned char)buf[0]);

	rfd = open(rwl_pathf(p, "%s/page_plus_one", self->lower),
		   O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(8, pwrite(rfd, "CHANGED!", 8, 100));
	ASSERT_EQ(1, pwrite(rfd, "Z", 1, 4096));
	close(rfd);

	ASSERT_EQ(8, pread(fd, buf, 8, 100));
	EXPECT_EQ(0, memcmp(buf, "CHANGED!", 8));
	EXPECT_EQ(0, memcmp(map + 100, "CHANGED!", 8));
	EXPECT_EQ('Z', map[4096]);
	munmap(map, 8192);
	close(fd);
}

TEST_F(io, splice_to_pipe)
{
	static const struct { const char *name; loff_t off; size_t len; unsigned int seed; } s[] = {
		{ "page_plus_one", 0, 4097, 12 },
		{ "big", 12345, 300000, 13 },
		{ "big", BIG_SIZE - 1000, 1000, 13 },
	};
	size_t i, done;
	loff_t off;
	int fd, pfd[2];
	ssize_t n, r;
	char *buf;

	buf = malloc(MiB);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		fd = open_mnt(self, s[i].name);
		ASSERT_LE(0, fd);
		off = s[i].off;
		for (done = 0; done < s[i].len; done += n) {
			n = splice(fd, &off, pfd[1], NULL,
				   s[i].len - done < 65536 ? s[i].len - done : 65536,
				   0);
			ASSERT_LT(0, n) TH_LOG("splice %s at %lld: %s", s[i].name,
					       (long long)off,
					       n ? strerror(errno) : "EOF");
			for (r = 0; r < n; ) {
				ssize_t m = read(pfd[0], buf + done + r, n - r);

				ASSERT_LT(0, m);
				r += m;
			}
		}
		EXPECT_EQ(s[i].len, done);
		EXPECT_EQ(s[i].off + (loff_t)s[i].len, off);
		EXPECT_EQ(-1, rwl_pattern_check(buf, done, s[i].off, s[i].seed))
			TH_LOG("%s", s[i].name);
		/* At EOF splice moves nothing. */
		if (s[i].off + (loff_t)s[i].len == (loff_t)BIG_SIZE) {
			EXPECT_EQ(0, splice(fd, &off, pfd[1], NULL, 65536, 0));
		}
		/* The file offset was not used. */
		EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
		close(fd);
	}
	close(pfd[0]);
	close(pfd[1]);
	free(buf);
}

TEST_F(io, sendfile_to_file)
{
	char p[RWL_PATH], *buf;
	off_t off, total = 0;
	int in, out;
	ssize_t n;

	in = open_mnt(self, "big");
	ASSERT_LE(0, in);
	out = open(rwl_pathf(p, "%s/copy", self->scratch),
		   O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, out);
	while ((n = sendfile(out, in, NULL, BIG_SIZE)) > 0)
		total += n;
	ASSERT_EQ(0, n) TH_LOG("sendfile: %s", strerror(errno));
	EXPECT_EQ(BIG_SIZE, total);
	EXPECT_EQ(BIG_SIZE, lseek(in, 0, SEEK_CUR));

	buf = malloc(BIG_SIZE);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(BIG_SIZE, pread(out, buf, BIG_SIZE, 0));
	EXPECT_EQ(-1, rwl_pattern_check(buf, BIG_SIZE, 0, 13));

	/* With an offset: the tail of a file, file offset untouched. */
	ASSERT_EQ(0, ftruncate(out, 0));
	ASSERT_EQ(0, lseek(out, 0, SEEK_SET));
	off = BIG_SIZE - 4100;
	EXPECT_EQ(4100, sendfile(out, in, &off, 1 << 20));
	EXPECT_EQ(BIG_SIZE, off);
	EXPECT_EQ(BIG_SIZE, lseek(in, 0, SEEK_CUR));
	ASSERT_EQ(4100, pread(out, buf, BIG_SIZE, 0));
	EXPECT_EQ(-1, rwl_pattern_check(buf, 4100, BIG_SIZE - 4100, 13));
	free(buf);
	close(out);
	close(in);
}

/* "Cached:" of /proc/meminfo in KiB, or -1. */
static long cached_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cached: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

#define CACHE_FILE	(256L * MiB)
#define CACHE_SLACK_KIB	(64L * 1024)

/*
 * Reading a 256 MiB file of a tmpfs lower through the union, with read()
 * and with mmap(), adds (much) less than 64 MiB to the page cache: the
 * lower's pages are used, not copied.
 */
TEST_F_TIMEOUT(io, page_cache_shared, 240)
{
	char l[RWL_PATH], m[RWL_PATH], p[RWL_PATH], *buf;
	long before, created, after;
	unsigned long sum = 0;
	double t0 = rwl_now();
	unsigned char *map;
	off_t off;
	ssize_t n;
	int fd;

	rwl_pathf(l, "%s/biglower", self->env.base);
	rwl_pathf(m, "%s/bigmnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, l, "mode=0755,size=320m"));
	before = cached_kib();
	ASSERT_LT(0, before);
	ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/file", l), CACHE_FILE,
				       15, 0644));
	created = cached_kib();
	/* Cached counts tmpfs pages, or this test could not tell anything. */
	ASSERT_LT(before + CACHE_FILE / 1024 * 3 / 4, created)
		TH_LOG("Cached %ld -> %ld KiB for a 256 MiB tmpfs file",
		       before, created);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, m, l));
	TH_LOG("created in %.1f s", rwl_now() - t0);

	buf = malloc(MiB);
	ASSERT_NE(NULL, buf);
	fd = open(rwl_pathf(p, "%s/file", m), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (off = 0; (n = read(fd, buf, MiB)) > 0; off += n) {
		ASSERT_EQ(MiB, n);
		ASSERT_EQ(-1, rwl_pattern_check(buf, 64, off, 15));
		ASSERT_EQ(-1, rwl_pattern_check(buf + MiB - 64, 64,
						off + MiB - 64, 15));
	}
	ASSERT_EQ(0, n);
	EXPECT_EQ(CACHE_FILE, off);
	free(buf);
	after = cached_kib();
	TH_LOG("read() in %.1f s: Cached %ld -> %ld KiB", rwl_now() - t0,
	       created, after);
	EXPECT_GT(created + CACHE_SLACK_KIB, after);

	map = mmap(NULL, CACHE_FILE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (off = 0; off < CACHE_FILE; off += 4096)
		sum += map[off];
	EXPECT_EQ(-1, rwl_pattern_check(map + CACHE_FILE - 4096, 4096,
					CACHE_FILE - 4096, 15));
	after = cached_kib();
	TH_LOG("mmap in %.1f s: Cached %ld -> %ld KiB (sum %lu)",
	       rwl_now() - t0, created, after, sum);
	EXPECT_GT(created + CACHE_SLACK_KIB, after);
	munmap(map, CACHE_FILE);
	close(fd);
}

TEST_F(io, umount_busy)
{
	char p[RWL_PATH], buf[8];
	struct stat st;
	int fd;

	fd = open_mnt(self, "one");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, umount2(self->mnt, 0));
	EXPECT_EQ(EBUSY, errno);
	/* Still mounted and readable. */
	EXPECT_TRUE(rwl_is_mountpoint(self->mnt));
	EXPECT_EQ(1, pread(fd, buf, sizeof(buf), 0));
	close(fd);

	fd = open(self->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, umount2(self->mnt, 0));
	EXPECT_EQ(EBUSY, errno);
	close(fd);

	EXPECT_EQ(0, rwl_umount(&self->env, self->mnt)) TH_LOG("%s",
							       strerror(errno));
	EXPECT_FALSE(rwl_is_mountpoint(self->mnt));
	EXPECT_EQ(-1, stat(rwl_pathf(p, "%s/one", self->mnt), &st));
	EXPECT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
