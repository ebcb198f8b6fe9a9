/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rwlayer selftests: a per-test scratch tree whose
 * mounts are all undone at teardown, tmpfs layers, files filled with a
 * checkable pattern, rwlayer mounts through mount(2) and through the
 * fsopen() API (with the context's messages read back), and directory
 * listings straight from getdents64().
 *
 * Every helper returns 0 (or a count, or an fd) on success and a negative
 * errno on failure, and says what failed on stderr as a TAP comment, so
 * the tests can ASSERT on the return value alone.
 */
#ifndef RWL_UTIL_H
#define RWL_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define RWL_FS_TYPE		"rwlayer"
#define RWL_SUPER_MAGIC		0x72776c79	/* "rwly" */
#define RWL_MAX_LOWER		32
#define RWL_PATH		256
#define RWL_MAX_MOUNTS		64
#define RWL_NOBODY		65534

/* The exit status by which a kselftest_harness test child reports SKIP. */
#define RWL_HARNESS_SKIP	255

#define rwl_log(fmt, ...) fprintf(stderr, "# " fmt "\n", ##__VA_ARGS__)

/*
 * One test's scratch tree: @base is a fresh tmpfs on a mkdtemp()
 * directory under /tmp, and every mount a helper makes is recorded in
 * @mounts so that rwl_env_cleanup() can undo them in reverse order.
 */
struct rwl_env {
	char base[RWL_PATH];
	int num_mounts;
	char mounts[RWL_MAX_MOUNTS][RWL_PATH];
};

/* Is the rwlayer filesystem type registered (module loaded)? */
static inline bool rwl_have_rwlayer(void)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen("/proc/filesystems", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strcmp(line, "nodev\t" RWL_FS_TYPE "\n") == 0 ||
			strcmp(line, "\t" RWL_FS_TYPE "\n") == 0;
	fclose(f);
	return found;
}

/* snprintf() into a path buffer; an overlong path is a test bug. */
static inline char *rwl_pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, RWL_PATH, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= RWL_PATH) {
		rwl_log("path too long: %s", fmt);
		abort();
	}
	return buf;
}

/* Is @path the mount point of a mount in this mount namespace? */
static inline bool rwl_is_mountpoint(const char *path)
{
	char line[4096], mnt[4096];
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %4095s", mnt) == 1 &&
			strcmp(mnt, path) == 0;
	fclose(f);
	return found;
}

/*
 * The /proc/self/mounts line of the topmost mount on @path, without the
 * trailing newline, in @out.  Returns 0 or -ENOENT.
 */
static inline int rwl_mounts_line(const char *path, char *out, size_t size)
{
	char line[4096], mnt[4096];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %4095s", mnt) != 1 || strcmp(mnt, path))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, size, "%s", line);
		err = 0;	/* keep going: the last one is on top */
	}
	fclose(f);
	return err;
}

/*
 * The device of the topmost mount on @path as /proc/self/mountinfo says
 * (its superblock's s_dev), independent of what stat() reports.
 */
static inline int rwl_mount_dev(const char *path, dev_t *dev)
{
	char line[4096], mnt[4096];
	unsigned int maj, min;
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min, mnt) != 3 ||
		    strcmp(mnt, path))
			continue;
		*dev = makedev(maj, min);
		err = 0;
	}
	fclose(f);
	return err;
}

static inline int rwl_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) && errno != EEXIST) {
		rwl_log("mkdir %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static inline int rwl_env_record(struct rwl_env *env, const char *path)
{
	if (env->num_mounts == RWL_MAX_MOUNTS) {
		rwl_log("more than %d mounts in one test", RWL_MAX_MOUNTS);
		return -ENOSPC;
	}
	rwl_pathf(env->mounts[env->num_mounts++], "%s", path);
	return 0;
}

/*
 * Start a test: a private mount namespace, so that whatever a failing
 * test leaves mounted goes away when its process exits (rmmod must still
 * work after the suite), and a scratch tmpfs on a new directory in /tmp.
 */
static inline int rwl_env_init(struct rwl_env *env)
{
	memset(env, 0, sizeof(*env));
	if (unshare(CLONE_NEWNS)) {
		rwl_log("unshare(CLONE_NEWNS): %s", strerror(errno));
		return -errno;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		rwl_log("make / rprivate: %s", strerror(errno));
		return -errno;
	}
	rwl_pathf(env->base, "/tmp/rwltest.XXXXXX");
	if (!mkdtemp(env->base)) {
		rwl_log("mkdtemp %s: %s", env->base, strerror(errno));
		return -errno;
	}
	if (mount("tmpfs", env->base, "tmpfs", 0, "mode=0755")) {
		rwl_log("mount tmpfs on %s: %s", env->base, strerror(errno));
		rmdir(env->base);
		return -errno;
	}
	return rwl_env_record(env, env->base);
}

/* Forget a mount the test unmounted itself. */
static inline void rwl_env_forget(struct rwl_env *env, const char *path)
{
	int i;

	for (i = env->num_mounts - 1; i >= 0; i--) {
		if (strcmp(env->mounts[i], path))
			continue;
		memmove(env->mounts[i], env->mounts[i + 1],
			(env->num_mounts - i - 1) * sizeof(env->mounts[0]));
		env->num_mounts--;
		return;
	}
}

/*
 * Unmount everything the test mounted, newest first, then remove the
 * scratch directory.  Returns how many mounts could not be unmounted
 * cleanly (those are detached so the scratch tree still goes away).
 */
static inline int rwl_env_cleanup(struct rwl_env *env)
{
	int i, busy = 0;

	/* A test that changed into the scratch tree would keep it busy. */
	if (chdir("/"))
		rwl_log("chdir /: %s", strerror(errno));
	for (i = env->num_mounts - 1; i >= 0; i--) {
		if (umount2(env->mounts[i], 0) == 0)
			continue;
		rwl_log("umount %s: %s", env->mounts[i], strerror(errno));
		busy++;
		umount2(env->mounts[i], MNT_DETACH);
	}
	env->num_mounts = 0;
	if (env->base[0] && rmdir(env->base))
		rwl_log("rmdir %s: %s", env->base, strerror(errno));
	return busy;
}

/* Mount a tmpfs on @path (created if needed); @opts NULL for the default. */
static inline int rwl_mount_tmpfs(struct rwl_env *env, const char *path,
				  const char *opts)
{
	int err;

	err = rwl_mkdir(path, 0755);
	if (err)
		return err;
	if (mount("tmpfs", path, "tmpfs", 0, opts ? opts : "mode=0755")) {
		err = -errno;
		rwl_log("mount tmpfs on %s (%s): %s", path, opts ? opts : "",
			strerror(errno));
		return err;
	}
	return rwl_env_record(env, path);
}

/*
 * mount(2) an rwlayer on @target (created if needed) with option string
 * @data (e.g. "lower=/a:/b").  Returns 0 or the mount's -errno, quietly:
 * the tests of bad options expect failures.
 */
static inline int rwl_mount(struct rwl_env *env, const char *target,
			    unsigned long flags, const char *data)
{
	int err;

	err = rwl_mkdir(target, 0755);
	if (err)
		return err;
	if (mount("none", target, RWL_FS_TYPE, flags, data))
		return -errno;
	return rwl_env_record(env, target);
}

/* mount(2) with "lower=@lower". */
static inline int rwl_mount_lower(struct rwl_env *env, const char *target,
				  const char *lower)
{
	char data[4096];

	snprintf(data, sizeof(data), "lower=%s", lower);
	return rwl_mount(env, target, 0, data);
}

/* Unmount a recorded mount; returns 0 or -errno. */
static inline int rwl_umount(struct rwl_env *env, const char *path)
{
	if (umount2(path, 0))
		return -errno;
	rwl_env_forget(env, path);
	return 0;
}

/* Append every message waiting in an fs_context's log to @log. */
static inline void rwl_read_fc_log(int fsfd, char *log, size_t size)
{
	size_t len = strlen(log);
	char msg[1024];
	ssize_t n;

	while ((n = read(fsfd, msg, sizeof(msg) - 1)) > 0) {
		msg[n] = '\0';
		if (len + n + 2 <= size) {
			memcpy(log + len, msg, n);
			len += n;
			log[len++] = '\n';
			log[len] = '\0';
		}
	}
}

/*
 * Build an rwlayer through the new mount API: fsopen(), one fsconfig()
 * per entry of the NULL-terminated @params ("key=value" sets a string,
 * a bare "key" sets a flag), FSCONFIG_CMD_CREATE and fsmount().  The
 * context's messages (lines such as "e rwlayer: ...") are left in @log.
 *
 * Returns a detached mount fd, or -errno of the first step that failed.
 */
static inline int rwl_fsopen(const char *const *params, char *log,
			     size_t logsize)
{
	int fsfd, mfd, err = 0;
	char key[256];
	const char *eq;

	log[0] = '\0';
	fsfd = fsopen(RWL_FS_TYPE, FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		err = -errno;
		rwl_log("fsopen(%s): %s", RWL_FS_TYPE, strerror(errno));
		return err;
	}
	for (; *params; params++) {
		eq = strchr(*params, '=');
		if (!eq) {
			if (fsconfig(fsfd, FSCONFIG_SET_FLAG, *params, NULL, 0))
				err = -errno;
		} else {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - *params),
				 *params);
			if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0))
				err = -errno;
		}
		if (err)
			goto out_log;
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		err = -errno;
		goto out_log;
	}
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0) {
		err = -errno;
		goto out_log;
	}
	rwl_read_fc_log(fsfd, log, logsize);
	close(fsfd);
	return mfd;

out_log:
	rwl_read_fc_log(fsfd, log, logsize);
	close(fsfd);
	return err;
}

/* rwl_fsopen() and attach the result on @target with move_mount(). */
static inline int rwl_fsopen_mount(struct rwl_env *env, const char *target,
				   const char *const *params, char *log,
				   size_t logsize)
{
	int mfd, err;

	err = rwl_mkdir(target, 0755);
	if (err)
		return err;
	mfd = rwl_fsopen(params, log, logsize);
	if (mfd < 0)
		return mfd;
	err = 0;
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH))
		err = -errno;
	close(mfd);
	if (err) {
		rwl_log("move_mount to %s: %s", target, strerror(-err));
		return err;
	}
	return rwl_env_record(env, target);
}

/*
 * The test pattern: byte @off of a file with seed @seed.  Every 8-byte
 * word differs from its neighbours, so data read from a wrong offset,
 * page or file does not match.
 */
static inline uint64_t rwl_pattern_word(uint64_t word, unsigned int seed)
{
	uint64_t x = (word + 1) * 0x9e3779b97f4a7c15ULL + seed;

	return x ^ (x >> 29);
}

static inline unsigned char rwl_pattern_byte(uint64_t off, unsigned int seed)
{
	return rwl_pattern_word(off / 8, seed) >> (8 * (off % 8));
}

/* Fill @buf with the pattern for file offsets [off, off + len). */
static inline void rwl_pattern_fill(void *buf, size_t len, uint64_t off,
				    unsigned int seed)
{
	unsigned char *p = buf;
	uint64_t w;

	while (len && off % 8) {
		*p++ = rwl_pattern_byte(off++, seed);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8, off += 8) {
		w = rwl_pattern_word(off / 8, seed);
		memcpy(p, &w, 8);	/* little-endian, like pattern_byte */
	}
	while (len--)
		*p++ = rwl_pattern_byte(off++, seed);
}

/*
 * Check that @buf holds the pattern for [off, off + len).  Returns -1 if
 * it does, else the index of the first wrong byte.
 */
static inline ssize_t rwl_pattern_check(const void *buf, size_t len,
					uint64_t off, unsigned int seed)
{
	const unsigned char *p = buf;
	unsigned char want[4096];
	size_t done = 0, n, i;

	while (done < len) {
		n = len - done < sizeof(want) ? len - done : sizeof(want);
		rwl_pattern_fill(want, n, off + done, seed);
		if (memcmp(p + done, want, n)) {
			for (i = 0; p[done + i] == want[i]; i++)
				;
			return done + i;
		}
		done += n;
	}
	return -1;
}

/* Create @path (mode @mode) holding @size bytes of the pattern @seed. */
static inline int rwl_write_pattern(const char *path, uint64_t size,
				    unsigned int seed, mode_t mode)
{
	size_t chunk = 1 << 20, n;
	uint64_t off = 0;
	int fd, err = 0;
	ssize_t w;
	void *buf;

	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err = -errno;
		rwl_log("create %s: %s", path, strerror(errno));
		goto out_free;
	}
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		rwl_pattern_fill(buf, n, off, seed);
		w = pwrite(fd, buf, n, off);
		if (w != (ssize_t)n) {
			err = w < 0 ? -errno : -EIO;
			rwl_log("write %s at %llu: %s", path,
				(unsigned long long)off, strerror(-err));
			break;
		}
		off += n;
	}
	if (close(fd) && !err)
		err = -errno;
out_free:
	free(buf);
	return err;
}

/* Create @path holding the string @text (no newline added). */
static inline int rwl_write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		rwl_log("create %s: %s", path, strerror(errno));
		return err;
	}
	if (write(fd, text, len) != (ssize_t)len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/*
 * Create @dir/@name: @kind 'f' a file holding the text @arg (NULL: an
 * empty file, made with one mknod()), 'd' a directory, 'l' a symlink to
 * @arg, 'p' a fifo.
 */
static inline int rwl_mk(const char *dir, const char *name, char kind,
			 const char *arg)
{
	char p[RWL_PATH];
	int ret;

	rwl_pathf(p, "%s/%s", dir, name);
	switch (kind) {
	case 'f':
		if (arg)
			return rwl_write_text(p, arg);
		ret = mknod(p, S_IFREG | 0644, 0);
		break;
	case 'd':
		return rwl_mkdir(p, 0755);
	case 'l':
		ret = symlink(arg, p);
		break;
	case 'p':
		ret = mknod(p, S_IFIFO | 0644, 0);
		break;
	default:
		return -EINVAL;
	}
	if (ret) {
		ret = -errno;
		rwl_log("create %s: %s", p, strerror(errno));
	}
	return ret;
}

/*
 * Read up to @size - 1 bytes of @path into @buf as a string.  Returns the
 * length or -errno.
 */
static inline ssize_t rwl_read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/*
 * The content of @dir/@name as a string, or "<error text>" if it cannot
 * be read: for EXPECT_STREQ().  The buffer is reused by the next call.
 */
static inline const char *rwl_cat(const char *dir, const char *name)
{
	static char buf[256];
	char p[RWL_PATH];
	ssize_t n;

	n = rwl_read_text(rwl_pathf(p, "%s/%s", dir, name), buf, sizeof(buf));
	if (n < 0)
		snprintf(buf, sizeof(buf), "<%s>", strerror(-n));
	return buf;
}

/* One directory entry as getdents64() returned it. */
struct rwl_dent {
	uint64_t ino;
	int64_t off;
	unsigned char type;
	char *name;
};

struct rwl_dents {
	size_t num, cap;
	struct rwl_dent *v;
};

/* The kernel's struct linux_dirent64. */
struct rwl_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static inline void rwl_dents_free(struct rwl_dents *d)
{
	size_t i;

	for (i = 0; i < d->num; i++)
		free(d->v[i].name);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static inline int rwl_dents_add(struct rwl_dents *d,
				const struct rwl_dirent64 *de)
{
	struct rwl_dent *v;

	if (d->num == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 256;
		v = realloc(d->v, d->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
	}
	v = &d->v[d->num];
	v->name = strdup(de->d_name);
	if (!v->name)
		return -ENOMEM;
	v->ino = de->d_ino;
	v->off = de->d_off;
	v->type = de->d_type;
	d->num++;
	return 0;
}

/*
 * Read @fd's directory from its current offset to the end with
 * getdents64() into a @bufsize-byte buffer, appending to @out.  Returns
 * the number of getdents64() calls that returned entries, or -errno.
 */
static inline int rwl_getdents_all(int fd, size_t bufsize,
				   struct rwl_dents *out)
{
	const struct rwl_dirent64 *de;
	int calls = 0, err;
	ssize_t n, pos;
	char *buf;

	buf = malloc(bufsize);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = getdents64(fd, buf, bufsize);
		if (n < 0) {
			err = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		calls++;
		for (pos = 0; pos < n; pos += de->d_reclen) {
			de = (const struct rwl_dirent64 *)(buf + pos);
			err = rwl_dents_add(out, de);
			if (err)
				goto out_free;
		}
	}
	err = calls;
out_free:
	free(buf);
	return err;
}

/* List directory @path with @bufsize-byte getdents64() calls. */
static inline int rwl_list_dir(const char *path, size_t bufsize,
			       struct rwl_dents *out)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = rwl_getdents_all(fd, bufsize, out);
	close(fd);
	return err;
}

static inline int rwl_dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rwl_dent *)a)->name,
		      ((const struct rwl_dent *)b)->name);
}

static inline void rwl_dents_sort(struct rwl_dents *d)
{
	qsort(d->v, d->num, sizeof(*d->v), rwl_dent_cmp);
}

/* How many entries are called @name. */
static inline size_t rwl_dents_count(const struct rwl_dents *d,
				     const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < d->num; i++)
		n += strcmp(d->v[i].name, name) == 0;
	return n;
}

/* The first entry called @name, or NULL. */
static inline const struct rwl_dent *rwl_dents_find(const struct rwl_dents *d,
						    const char *name)
{
	size_t i;

	for (i = 0; i < d->num; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return &d->v[i];
	return NULL;
}

/*
 * In a sorted list: the first name that occurs twice, or NULL if every
 * name is unique.
 */
static inline const char *rwl_dents_first_dup(const struct rwl_dents *d)
{
	size_t i;

	for (i = 1; i < d->num; i++)
		if (strcmp(d->v[i - 1].name, d->v[i].name) == 0)
			return d->v[i].name;
	return NULL;
}

/* @m/@name in one of a few rotating buffers. */
static inline const char *rwl_at(const char *m, const char *name)
{
	static char buf[8][RWL_PATH];
	static int next;

	next = (next + 1) % 8;
	return rwl_pathf(buf[next], "%s/%s", m, name);
}

/* 0 if the call succeeded (returned >= 0), else its errno. */
static inline int rwl_result(int ret)
{
	return ret < 0 ? errno : 0;
}

/* 0 if @path opens with @flags (the fd is closed again), else the errno. */
static inline int rwl_try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* 0 if @path exists (lstat), else the errno. */
static inline int rwl_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? 0 : errno;
}

/*
 * Run @fn(@arg) in a child process with uid and gid @id and no
 * supplementary groups; returns what @fn returned (0..255), or -1 if the
 * child could not drop privileges or died.
 */
static inline int rwl_run_as(uid_t id, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(id) || setuid(id)) {
			rwl_log("drop to uid %u: %s", (unsigned int)id,
				strerror(errno));
			_exit(255);
		}
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

static inline double rwl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Every fixture's setup starts here.  Without the module every test
 * SKIPs.  The 6.1 kselftest_harness.h runs a TEST_F's body even after
 * its FIXTURE_SETUP called SKIP(return, ...), so the test child ends
 * here with the harness's skip status instead of returning.
 */
#define RWL_ENV_SETUP(env) do {						\
	if (!rwl_have_rwlayer())					\
		SKIP(_exit(RWL_HARNESS_SKIP),				\
		     "rwlayer not in /proc/filesystems (module not loaded)"); \
	ASSERT_EQ(0, rwl_env_init(env));				\
} while (0)

/* Every fixture's teardown: never ASSERT here (the harness would loop). */
#define RWL_ENV_TEARDOWN(env) \
	EXPECT_EQ(0, rwl_env_cleanup(env))

#endif /* RWL_UTIL_H */
