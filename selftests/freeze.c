// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 11 item 9: a persistent upper (ext4 on a loop device here) that
 * is frozen (fsfreeze, as snapshots and backups do) while the union
 * copies up and writes.  A freeze must always get through (no copy-up
 * may hold the upper's freeze protection while it waits for it again),
 * nothing may reach the frozen upper (a write waits for the thaw, on 6.1
 * as on 6.12), and after the thaw every operation completes with the
 * content it would have had without the freeze.
 *
 * Needs ext4 and loop in the guest (scripts/vm/mkinitramfs.sh loads
 * them) and busybox mke2fs; it skips without them.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <linux/loop.h>

#include "rwl_util.h"
#include "rwl_tree.h"

#define BIG_SIZE	(4 << 20)	/* long enough a copy-up under TCG */
#define NBIG		4
#define WAIT_SECONDS	60		/* "nothing hangs" */
#define WATCHDOG_SECONDS 180		/* before the harness's timeout */

FIXTURE(frz) {
	struct rwl_env env;
	char lower[RWL_PATH], ext[RWL_PATH], upper[RWL_PATH], work[RWL_PATH];
	char mnt[RWL_PATH];
	int extfd;		/* the ext4 root, for FIFREEZE/FITHAW */
	bool frozen;
	pid_t watchdog;		/* thaws a test that hangs frozen */
};

/* Byte @i of lower file @n: no two files or offsets alike. */
static char pattern(int n, size_t i)
{
	return 'a' + (i / 4096 + n * 7) % 26;
}

static int make_big(const char *dir, int n)
{
	char *buf = malloc(BIG_SIZE);
	size_t i;
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < BIG_SIZE; i++)
		buf[i] = pattern(n, i);
	fd = open(pf("%s/big%d", dir, n), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, BIG_SIZE) != BIG_SIZE)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* Is @path lower file @n, followed by @tail? */
static bool big_intact(const char *path, int n, const char *tail)
{
	size_t len = BIG_SIZE + strlen(tail), i;
	char *buf = malloc(len + 1);
	bool same = false;
	ssize_t got;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (buf && fd >= 0) {
		got = read(fd, buf, len + 1);
		same = got == (ssize_t)len && !memcmp(buf + BIG_SIZE, tail, len - BIG_SIZE);
		for (i = 0; same && i < BIG_SIZE; i++)
			same = buf[i] == pattern(n, i);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

static int append_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* A free loop device bound to @image; its name in @dev. */
static int loop_attach(const char *image, char *dev, size_t size)
{
	struct loop_config cfg = { 0 };
	int ctl, nr, fd, file, ret = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -errno;
	snprintf(dev, size, "/dev/loop%d", nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	file = open(image, O_RDWR | O_CLOEXEC);
	cfg.fd = file;
	if (fd < 0 || file < 0 || ioctl(fd, LOOP_CONFIGURE, &cfg))
		ret = -errno;
	if (file >= 0)
		close(file);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Once mounted, the loop device goes away with the last umount.  (Not
 * set at LOOP_CONFIGURE: the device must not be open for writing at
 * mount time, which a kernel without BLK_DEV_WRITE_MOUNTED refuses, and
 * closing it before would clear it at once.)
 */
static int loop_autoclear(const char *dev, bool detach)
{
	struct loop_info64 info;
	int fd = open(dev, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (detach) {
		ret = ioctl(fd, LOOP_CLR_FD);
	} else {
		ret = ioctl(fd, LOOP_GET_STATUS64, &info);
		info.lo_flags |= LO_FLAGS_AUTOCLEAR;
		ret = ret ?: ioctl(fd, LOOP_SET_STATUS64, &info);
	}
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* An ext4 (mke2fs's ext2, mounted by the ext4 driver) on @dir. */
static int mount_ext4(struct rwl_env *env, const char *image, const char *dir)
{
	char dev[64], cmd[2 * RWL_PATH];
	int fd, err;

	fd = open(image, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 96 << 20))
		return -errno;
	close(fd);
	snprintf(cmd, sizeof(cmd), "mke2fs -q -F %s > /dev/null 2>&1", image);
	if (system(cmd))
		return -ENOEXEC;
	err = loop_attach(image, dev, sizeof(dev));
	if (err)
		return err;
	err = rwl_mkdir(dir, 0755);
	if (!err && mount(dev, dir, "ext4", 0, NULL))
		err = -errno;
	if (err) {
		loop_autoclear(dev, true);
		return err;
	}
	return rwl_env_record(env, dir) ?: loop_autoclear(dev, false);
}

FIXTURE_SETUP(frz)
{
	char data[4 * RWL_PATH];
	int err, n;

	self->extfd = -1;
	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->lower, "%s/lower", self->env.base);
	rwl_pathf(self->ext, "%s/ext", self->env.base);
	rwl_pathf(self->upper, "%s/ext/upper", self->env.base);
	rwl_pathf(self->work, "%s/ext/work", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	err = mount_ext4(&self->env, pf("%s/ext4.img", self->env.base),
			 self->ext);
	/* The harness would run the test body after a plain return. */
	if (err == -ENOENT || err == -ENODEV || err == -ENOEXEC)
		SKIP(_exit(RWL_HARNESS_SKIP), "no ext4 on a loop device here (%s)",
		     err == -ENOEXEC ? "mke2fs failed" : strerror(-err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, rwl_mkdir(self->lower, 0755));
	ASSERT_EQ(0, rwl_mkdir(self->upper, 0755));
	ASSERT_EQ(0, rwl_mkdir(self->work, 0755));
	for (n = 0; n < NBIG; n++)
		ASSERT_EQ(0, make_big(self->lower, n));
	ASSERT_EQ(0, rwl_mk(self->lower, "small", 'f', "small"));
	ASSERT_EQ(0, rwl_mk(self->lower, "d", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->lower, "d/gone", 'f', "gone"));
	snprintf(data, sizeof(data), "lower=%s,upper=%s,work=%s",
		 self->lower, self->upper, self->work);
	ASSERT_EQ(0, rwl_mount(&self->env, self->mnt, 0, data));
	self->extfd = open(self->ext, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->extfd);
	/*
	 * A test that fails while the upper is frozen would leave every
	 * later test and the unmount hanging: thaw it before the harness
	 * gives up on the test.
	 */
	self->watchdog = fork();
	ASSERT_LE(0, self->watchdog);
	if (self->watchdog == 0) {
		sleep(WATCHDOG_SECONDS);
		ioctl(self->extfd, FITHAW, 0);
		_exit(0);
	}
}

FIXTURE_TEARDOWN(frz)
{
	if (self->watchdog > 0) {
		kill(self->watchdog, SIGKILL);
		waitpid(self->watchdog, NULL, 0);
	}
	if (self->frozen)
		ioctl(self->extfd, FITHAW, 0);
	if (self->extfd >= 0)
		close(self->extfd);
	RWL_ENV_TEARDOWN(&self->env);
}

/* Wait for @n children for up to @seconds; how many exited 0, or -1. */
static int wait_children(const pid_t *pids, int n, int seconds)
{
	int left = n, good = 0, status, i;
	double end = rwl_now() + seconds;
	bool done[16] = { false };

	while (left && rwl_now() < end) {
		for (i = 0; i < n; i++) {
			if (done[i] || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			done[i] = true;
			left--;
			good += WIFEXITED(status) && !WEXITSTATUS(status);
		}
		usleep(20000);
	}
	return left ? -1 : good;
}

/* How many of @n children are still running (the others stay unreaped). */
static int still_running(const pid_t *pids, int n)
{
	siginfo_t info;
	int i, running = 0;

	for (i = 0; i < n; i++) {
		info.si_pid = 0;
		if (!waitid(P_PID, pids[i], &info, WEXITED | WNOHANG | WNOWAIT) &&
		    !info.si_pid)
			running++;
	}
	return running;
}

/* FIFREEZE in a child, so that a freeze that never ends fails the test. */
static int freeze_within(int fd, int seconds)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(ioctl(fd, FIFREEZE, 0) ? 1 : 0);
	if (pid < 0)
		return -1;
	return wait_children(&pid, 1, seconds) == 1 ? 0 : -1;
}

/* The steps that change the union, each in a child of its own. */
enum frz_step { APPEND_COPIED, COPY_UP_BIG, CREATE, UNLINK_LOWER, NSTEPS };

static int frz_do(const char *mnt, enum frz_step step)
{
	switch (step) {
	case APPEND_COPIED:
		return append_text(pf("%s/small", mnt), "+thawed");
	case COPY_UP_BIG:
		return append_text(pf("%s/big0", mnt), "tail");
	case CREATE:
		return rwl_write_text(pf("%s/d/new", mnt), "new");
	default:
		return unlink(pf("%s/d/gone", mnt)) ? -errno : 0;
	}
}

static pid_t frz_start(const char *mnt, enum frz_step step)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(frz_do(mnt, step) ? 1 : 0);
	return pid;
}

/*
 * Frozen first: every change waits (the upper does not change meanwhile,
 * and reading goes on), then completes after the thaw.  The changes that
 * wait hold the union directory they change locked, as a change of a
 * union waiting for its upper does (overlayfs too): the file read is in
 * another directory.
 */
TEST_F_TIMEOUT(frz, changes_wait_for_thaw, 240)
{
	const char *m = self->mnt;
	pid_t pids[NSTEPS];
	int i;

	ASSERT_EQ(0, append_text(pf("%s/small", m), "+copied"));
	ASSERT_EQ(0, freeze_within(self->extfd, WAIT_SECONDS));
	self->frozen = true;
	for (i = 0; i < NSTEPS; i++) {
		pids[i] = frz_start(m, i);
		ASSERT_LT(0, pids[i]);
	}
	sleep(3);
	EXPECT_EQ(NSTEPS, still_running(pids, NSTEPS));
	EXPECT_STREQ("small+copied", rwl_cat(self->upper, "small"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/big0", self->upper)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/d/new", self->upper)));
	/* Reading the union goes on while it is frozen. */
	EXPECT_TRUE(big_intact(pf("%s/big1", m), 1, ""));

	ASSERT_EQ(0, ioctl(self->extfd, FITHAW, 0));
	self->frozen = false;
	EXPECT_EQ(NSTEPS, wait_children(pids, NSTEPS, WAIT_SECONDS));
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "3"));
	EXPECT_STREQ("small+copied+thawed", rwl_cat(m, "small"));
	EXPECT_TRUE(big_intact(pf("%s/big0", m), 0, "tail"));
	EXPECT_STREQ("new", rwl_cat(m, "d/new"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/d/gone", m)));
	EXPECT_TRUE(is_whiteout(pf("%s/d/gone", self->upper)));
}

/*
 * Freezes arrive while copy-ups are under way, again and again: each
 * must get through, and every copy must end up whole.
 */
TEST_F_TIMEOUT(frz, freeze_during_copy_ups, 300)
{
	const char *m = self->mnt;
	pid_t pids[NBIG];
	int n, round;

	for (n = 0; n < NBIG; n++) {
		pids[n] = fork();
		ASSERT_LE(0, pids[n]);
		if (pids[n] == 0)
			_exit(append_text(pf("%s/big%d", m, n), "tail") ? 1 : 0);
	}
	for (round = 0; round < 8 && still_running(pids, NBIG); round++) {
		usleep(100000 * (round + 1));
		ASSERT_EQ(0, freeze_within(self->extfd, WAIT_SECONDS))
			TH_LOG("round %d: FIFREEZE did not return within %d s",
			       round, WAIT_SECONDS);
		self->frozen = true;
		usleep(200000);
		ASSERT_EQ(0, ioctl(self->extfd, FITHAW, 0));
		self->frozen = false;
	}
	EXPECT_EQ(NBIG, wait_children(pids, NBIG, WAIT_SECONDS));
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "3"));
	for (n = 0; n < NBIG; n++)
		EXPECT_TRUE(big_intact(pf("%s/big%d", m, n), n, "tail"))
			TH_LOG("big%d", n);
	EXPECT_EQ(0, work_leftovers(self->work));
}

TEST_HARNESS_MAIN
