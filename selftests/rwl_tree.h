/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the writable-layer tests that look at whole trees:
 * path formatting, errno and xattr strings, sorted name lists, leftovers
 * in the work directory, and snapshots of a tree (attributes, xattrs,
 * data extents and hashes) to show that a lower stayed untouched.
 * String results come from small rotating static buffers.
 */
#ifndef RWL_TREE_H
#define RWL_TREE_H

#include <sys/xattr.h>

#include "rwl_rw.h"

#define KiB		1024

/* snprintf into one of 8 rotating path buffers. */
static inline const char *pf(const char *fmt, ...)
{
	static char bufs[8][RWL_PATH];
	static int next;
	va_list ap;
	int n;

	next = (next + 1) % 8;
	va_start(ap, fmt);
	n = vsnprintf(bufs[next], RWL_PATH, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= RWL_PATH)
		abort();
	return bufs[next];
}

static inline int lstat_errno(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? errno : 0;
}

static inline bool is_whiteout(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(0, 0);
}

/* An xattr's value as a string, or "<strerror>" (4 rotating buffers). */
static inline const char *xattr_str(const char *path, const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b;
	ssize_t n;

	next = (next + 1) % 4;
	b = bufs[next];
	n = lgetxattr(path, name, b, sizeof(bufs[0]) - 1);
	if (n < 0)
		snprintf(b, sizeof(bufs[0]), "<%s>", strerror(errno));
	else
		b[n] = '\0';
	return b;
}

static inline const char *errstr(int err)
{
	static char bufs[4][64];
	static int next;

	next = (next + 1) % 4;
	snprintf(bufs[next], sizeof(bufs[0]), "<%s>", strerror(err));
	return bufs[next];
}

/* The sorted names in @path, comma-separated, without . and .. */
static inline const char *names(const char *path)
{
	static char bufs[4][8192];
	static int next;
	struct rwl_dents d = { 0 };
	size_t i, len = 0;
	char *out;
	int err;

	next = (next + 1) % 4;
	out = bufs[next];
	out[0] = '\0';
	err = rwl_list_dir(path, 4096, &d);
	if (err < 0) {
		snprintf(out, sizeof(bufs[0]), "<%s>", strerror(-err));
		rwl_dents_free(&d);
		return out;
	}
	rwl_dents_sort(&d);
	for (i = 0; i < d.num; i++) {
		if (!strcmp(d.v[i].name, ".") || !strcmp(d.v[i].name, ".."))
			continue;
		len += snprintf(out + len, sizeof(bufs[0]) - len, "%s%s",
				len ? "," : "", d.v[i].name);
		if (len >= sizeof(bufs[0]))
			break;
	}
	rwl_dents_free(&d);
	return out;
}

static int work_left;

static inline int work_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	/* A whiteout kept for reuse (overlayfs does it) is no leftover. */
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
		return 0;
	if (!S_ISDIR(st->st_mode)) {
		rwl_log("left in work: %s (mode %o)", path, st->st_mode);
		work_left++;
	}
	return 0;
}

/*
 * Non-directories anywhere under the work directory: a finished copy-up
 * or removal leaves none (private directories such as overlayfs'
 * work/work may stay, and a whiteout kept there to be linked).
 */
static inline int work_leftovers(const char *work)
{
	work_left = 0;
	if (nftw(work, work_one, 16, FTW_PHYS))
		return -1;
	return work_left;
}

/* ---- lower tree snapshot ---------------------------------------------- */

static FILE *snap_out;
static size_t snap_skip;

static inline uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The data extents of a regular file and a hash of their bytes. */
static inline void snap_data(const char *path)
{
	static unsigned char buf[64 * KiB];
	uint64_t h = 0xcbf29ce484222325ULL;
	off_t pos = 0, data, hole, off;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
	if (fd < 0) {
		fprintf(snap_out, " data <%s>", strerror(errno));
		return;
	}
	while ((data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		fprintf(snap_out, " [%lld,%lld)", (long long)data, (long long)hole);
		for (off = data; off < hole; off += n) {
			n = pread(fd, buf, hole - off < (off_t)sizeof(buf) ?
				  (size_t)(hole - off) : sizeof(buf), off);
			if (n <= 0)
				break;
			h = fnv1a(h, buf, n);
		}
		pos = hole;
	}
	fprintf(snap_out, " fnv %016llx", (unsigned long long)h);
	close(fd);
}

static inline int snap_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char list[4096], target[RWL_PATH];
	unsigned char val[512];
	ssize_t len, pos, vn, i;

	(void)type;
	(void)ftw;
	fprintf(snap_out, "%s %07o %u:%u size %lld nlink %lu ino %lu rdev %u:%u "
		"mtime %lld.%09ld ctime %lld.%09ld",
		path[snap_skip] ? path + snap_skip : "/", st->st_mode,
		st->st_uid, st->st_gid, (long long)st->st_size,
		(unsigned long)st->st_nlink, (unsigned long)st->st_ino,
		major(st->st_rdev), minor(st->st_rdev),
		(long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		(long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	if (S_ISLNK(st->st_mode)) {
		len = readlink(path, target, sizeof(target) - 1);
		target[len < 0 ? 0 : len] = '\0';
		fprintf(snap_out, " -> %s", target);
	}
	if (S_ISREG(st->st_mode))
		snap_data(path);
	len = llistxattr(path, list, sizeof(list));
	for (pos = 0; len > 0 && pos < len; pos += strlen(list + pos) + 1) {
		vn = lgetxattr(path, list + pos, val, sizeof(val));
		fprintf(snap_out, " %s=", list + pos);
		for (i = 0; i < vn; i++)
			fprintf(snap_out, "%02x", val[i]);
	}
	fputc('\n', snap_out);
	return 0;
}

/* Every entry of the tree at @root with its attributes, xattrs and data. */
static inline char *snapshot(const char *root)
{
	char *buf = NULL;
	size_t size = 0;

	snap_out = open_memstream(&buf, &size);
	if (!snap_out)
		return NULL;
	snap_skip = strlen(root);
	if (nftw(root, snap_one, 16, FTW_PHYS))
		rwl_log("walking %s failed", root);
	fclose(snap_out);
	return buf;
}

/* Report the first line where two snapshots differ. */
static inline void expect_same_snapshot(struct __test_metadata *_metadata,
				 const char *what, const char *a, const char *b)
{
	char la[1024], lb[1024];
	size_t na, nb;

	while (*a || *b) {
		na = strcspn(a, "\n");
		nb = strcspn(b, "\n");
		if (na != nb || memcmp(a, b, na)) {
			snprintf(la, sizeof(la), "%.*s", (int)na, a);
			snprintf(lb, sizeof(lb), "%.*s", (int)nb, b);
			EXPECT_STREQ(la, lb) TH_LOG("%s changed", what);
			return;
		}
		a += na + (a[na] == '\n');
		b += nb + (b[nb] == '\n');
	}
}

/*
 * A fixture's teardown: the lower must be as @before says.  @after is a
 * snapshot taken now (NULL if that failed); both are freed.
 */
static inline void expect_snapshot_kept(struct __test_metadata *_metadata,
					const char *what, char *before,
					char *after)
{
	EXPECT_NE(NULL, after);
	if (after)
		expect_same_snapshot(_metadata, what, before, after);
	free(after);
	free(before);
}

#endif /* RWL_TREE_H */
