// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayerd: set up the rwlayer union from /etc/overlaytab, keep its rules
 * in line with the file, log rwlayer's events and guard the boot
 * interface.  See rwlayerd(8).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bootif.h"
#include "events.h"
#include "fmt.h"
#include "log.h"
#include "mount.h"
#include "netwatch.h"
#include "notify.h"
#include "nl.h"
#include "rules.h"
#include "tab.h"

#define RWLD_DEFAULT_CONFIG "/etc/overlaytab"

struct rwld_options {
	const char *config;
	const char *root;		/* --root: the system's / (initramfs) */
	const char *iface;
	uint64_t upper_size;		/* --upper-size: overrides @upper's size= */
	bool oneshot, foreground, netwatch, watch_only, verbose;
};

struct rwld {
	struct rwld_options opt;
	char hostname[HOST_NAME_MAX + 1], mac[18], ip[INET_ADDRSTRLEN];
	char bootif[IF_NAMESIZE];
	struct rwl_tab_vars vars;
	struct rwl_tab tab;
	char *config;			/* the overlaytab, --root included */
	char *path;			/* the union's path, --root included */
	struct rwl_nl *nl;		/* requests */
	struct rwl_nl *events;		/* the events group only */
	struct rwld_events_ctx events_ctx;
	struct rwld_mount mount;
	struct rwld_netwatch *netwatch;
	int sigfd;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rwlayerd [--config FILE] [--root DIR] [--oneshot] [--foreground]\n"
		"                [--no-netwatch] [--watch-only] [--iface IF] [-v]\n"
		"  -c, --config FILE  the overlaytab (default " RWLD_DEFAULT_CONFIG ", and FILE.d/)\n"
		"  -r, --root DIR     the system's root is at DIR (an initramfs's /sysroot)\n"
		"  -1, --oneshot      mount and apply the rules, then exit (initramfs)\n"
		"  -f, --foreground   stay in the foreground, log to stderr too\n"
		"      --no-netwatch  do not watch the boot interface\n"
		"      --watch-only   only watch the boot interface (no overlaytab)\n"
		"  -i, --iface IF     the boot interface (default: see rwlayerd(8))\n"
		"  -s, --upper-size SIZE  size of a tmpfs upper, over @upper's size=\n"
		"  -v, --verbose      log debug messages too\n"
		"  -h, --help         this text\n");
}

static int parse_options(int argc, char **argv, struct rwld_options *opt)
{
	enum { OPT_NO_NETWATCH = 256, OPT_WATCH_ONLY };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "oneshot", no_argument, NULL, '1' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "no-netwatch", no_argument, NULL, OPT_NO_NETWATCH },
		{ "watch-only", no_argument, NULL, OPT_WATCH_ONLY },
		{ "iface", required_argument, NULL, 'i' },
		{ "upper-size", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	*opt = (struct rwld_options){ .netwatch = true };
	while ((c = getopt_long(argc, argv, "c:r:1fi:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt->config = optarg; break;
		case 'r': opt->root = optarg; break;
		case '1': opt->oneshot = true; break;
		case 'f': opt->foreground = true; break;
		case OPT_NO_NETWATCH: opt->netwatch = false; break;
		case OPT_WATCH_ONLY: opt->watch_only = true; break;
		case 'i': opt->iface = optarg; break;
		case 's':
			if (rwl_parse_size(optarg, &opt->upper_size) < 0 ||
			    !opt->upper_size) {
				fprintf(stderr, "rwlayerd: --upper-size %s: not a "
					"size (BYTES with K, M, G or T)\n", optarg);
				return -1;
			}
			break;
		case 'v': opt->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rwlayerd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (opt->watch_only && (opt->oneshot || !opt->netwatch)) {
		fprintf(stderr, "rwlayerd: --watch-only runs only the netwatch: "
			"not with --oneshot or --no-netwatch\n");
		return -1;
	}
	if (opt->root && opt->root[0] != '/') {
		fprintf(stderr, "rwlayerd: --root %s: not an absolute path\n",
			opt->root);
		return -1;
	}
	return 0;
}

/* ${hostname}, ${mac}, ${ip}: read afresh at the start and each reload. */
static void read_vars(struct rwld *d)
{
	struct rwld_bootif_sources src = RWLD_BOOTIF_SOURCES_SYSTEM;
	enum rwld_bootif_origin origin;

	if (gethostname(d->hostname, sizeof(d->hostname)) < 0)
		d->hostname[0] = '\0';
	d->hostname[sizeof(d->hostname) - 1] = '\0';
	src.iface = d->opt.iface;
	origin = rwld_bootif_choose(&src, d->bootif);
	d->mac[0] = d->ip[0] = '\0';
	if (d->bootif[0])
		rwld_bootif_addresses(d->bootif, d->mac, d->ip);
	d->vars = (struct rwl_tab_vars){
		.hostname = d->hostname[0] ? d->hostname : NULL,
		.mac = d->mac[0] ? d->mac : NULL,
		.ip = d->ip[0] ? d->ip : NULL,
	};
	if (d->bootif[0])
		rwld_log(LOG_INFO, "boot interface %s (from %s): mac %s, ip %s",
			 d->bootif, rwld_bootif_origin_name(origin),
			 d->mac[0] ? d->mac : "none", d->ip[0] ? d->ip : "none");
	else
		/* An overlaytab that uses them says so itself when they are unset. */
		rwld_log(d->opt.netwatch ? LOG_WARNING : LOG_INFO,
			 "no boot interface found (no --iface, BOOTIF=, ip=, or "
			 "default route): ${mac} and ${ip} unset");
}

/* The overlaytab, with --upper-size applied (the kernel's rwlayer.size=). */
static int load_table(const struct rwld *d, struct rwl_tab *tab)
{
	if (rwld_rules_load(d->config, &d->vars, tab) < 0)
		return -1;
	if (d->opt.upper_size && !strcmp(tab->mount.upper, "tmpfs"))
		tab->mount.upper_size = d->opt.upper_size;
	else if (d->opt.upper_size)
		rwld_log(LOG_WARNING, "--upper-size: the upper is %s, not a "
			 "tmpfs: ignored", tab->mount.upper);
	return 0;
}

/* @root + @path, "/" + "/var" = "/var", "/sysroot" + "/" = "/sysroot". */
static char *rooted(const char *root, const char *path)
{
	char *out;

	if (!root || !strcmp(root, "/"))
		return strdup(path);
	if (asprintf(&out, "%s%s", root, strcmp(path, "/") ? path : "") < 0)
		return NULL;
	return out;
}

static const char *nl_why(struct rwl_nl *nl, int err)
{
	static char buf[512];

	/* With @nl, ENOENT is a missing events group, not a missing family. */
	snprintf(buf, sizeof(buf), "%s%s%s", err == -ENOENT && !nl ?
		 rwl_nl_missing_family_reason(RWL_NL_SYSFS_MODULE) : strerror(-err),
		 nl && rwl_nl_extack(nl) ? ": " : "",
		 nl && rwl_nl_extack(nl) ? rwl_nl_extack(nl) : "");
	return buf;
}

/*
 * Take over the union at the target, or make it.  A union over the
 * running system's own root cannot be made from here: processes would
 * keep the root they have; that is the initramfs' job (--root).
 */
static int setup_mount(struct rwld *d)
{
	int err = rwld_mount_find(d->nl, d->path, &d->mount);

	if (err == 0) {
		rwld_log(LOG_NOTICE, "%s: taking over rwlayer mount %u",
			 d->path, d->mount.id);
		return 0;
	}
	if (err != -ENOENT)
		return err;
	if (!strcmp(d->path, "/")) {
		rwld_log(LOG_ERR, "/ is not an rwlayer mount, and a union over "
			 "the running root cannot be made here: make it from "
			 "the initramfs (rwlayerd --oneshot --root /sysroot)");
		return -EINVAL;
	}
	return rwld_mount_create(d->nl, &d->tab.mount, d->opt.root, d->path,
				 &d->mount);
}

static int start_rules(struct rwld *d)
{
	int err;

	d->config = d->opt.config ? strdup(d->opt.config) :
		    rooted(d->opt.root, RWLD_DEFAULT_CONFIG);
	if (!d->config)
		return -ENOMEM;
	if (load_table(d, &d->tab) < 0)
		return -EINVAL;
	d->path = rooted(d->opt.root, d->tab.mount.target);
	if (!d->path)
		return -ENOMEM;
	err = rwl_nl_open(&d->nl);
	if (err < 0) {
		rwld_log(LOG_ERR, "rwlayer netlink: %s", nl_why(NULL, err));
		return err;
	}
	err = setup_mount(d);
	if (err < 0)
		return err;
	err = rwld_rules_apply(d->nl, &d->tab, &d->mount, "start");
	if (err < 0) {
		/* All or nothing: a union made for rules it cannot have goes. */
		rwld_mount_destroy(&d->mount);
		return err;
	}
	d->events_ctx = (struct rwld_events_ctx){
		.mount_id = d->mount.id, .target = d->tab.mount.target,
	};
	return 0;
}

static bool same_mount_setup(const struct rwl_tab_mount *a,
			     const struct rwl_tab_mount *b)
{
	if (strcmp(a->target, b->target) || strcmp(a->upper, b->upper) ||
	    a->upper_size != b->upper_size || a->num_lowers != b->num_lowers ||
	    !a->upper_fstype != !b->upper_fstype ||
	    (a->upper_fstype && strcmp(a->upper_fstype, b->upper_fstype)))
		return false;
	for (size_t i = 0; i < a->num_lowers; i++)
		if (strcmp(a->lowers[i], b->lowers[i]))
			return false;
	return true;
}

static void notify_status(const struct rwld *d)
{
	if (d->opt.watch_only)
		rwld_notify_status("watching boot interface %s", d->bootif);
	else
		rwld_notify_status("%zu rules on %s (mount %u)%s%s",
				   d->tab.num_rules, d->tab.mount.target,
				   d->events_ctx.mount_id,
				   d->netwatch ? "; watching " : "",
				   d->netwatch ? d->bootif : "");
}

/* The mount if it went away and came back (someone remounted it). */
static int refind_mount(struct rwld *d)
{
	if (d->events_ctx.mount_id)
		return 0;
	rwld_mount_free(&d->mount);
	if (rwld_mount_find(d->nl, d->path, &d->mount) < 0) {
		rwld_log(LOG_ERR, "%s: no rwlayer mount there any more: rules "
			 "cannot be applied", d->path);
		return -ENOENT;
	}
	d->events_ctx.mount_id = d->mount.id;
	return 0;
}

/* systemd wants the time of a RELOADING=1, to match it with READY=1. */
static unsigned long long monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 +
	       (unsigned long long)ts.tv_nsec / 1000;
}

/* SIGHUP: the file again; only the difference goes to the kernel. */
static void reload(struct rwld *d)
{
	struct rwl_tab tab;
	char state[96];

	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 monotonic_usec());
	rwld_notify(state);
	rwld_log(LOG_NOTICE, "SIGHUP: %s", d->opt.watch_only ?
		 "nothing to reload with --watch-only" : "reloading the overlaytab");
	if (!d->opt.watch_only) {
		read_vars(d);
		if (load_table(d, &tab) < 0) {
			rwld_log(LOG_ERR, "reload: the file has errors: keeping "
				 "the current rules");
		} else if (strcmp(tab.mount.target, d->tab.mount.target)) {
			rwld_log(LOG_ERR, "reload: @mount changed from %s to %s: "
				 "that needs a restart; keeping the current rules",
				 d->tab.mount.target, tab.mount.target);
			rwl_tab_free(&tab);
		} else if (refind_mount(d) < 0 ||
			   rwld_rules_apply(d->nl, &tab, &d->mount, "reload") < 0) {
			rwld_log(LOG_ERR, "reload: keeping the current rules");
			rwl_tab_free(&tab);
		} else {
			if (!same_mount_setup(&tab.mount, &d->tab.mount))
				rwld_log(LOG_WARNING, "reload: @lower or @upper "
					 "changed: that takes a new mount (the "
					 "next boot); the rules are applied now");
			rwl_tab_free(&d->tab);
			d->tab = tab;
			d->events_ctx.target = d->tab.mount.target;
		}
	}
	rwld_notify("READY=1");
	notify_status(d);
}

/* Events were lost: the kernel's rules may have moved under us. */
static void resync(struct rwld *d)
{
	rwld_log(LOG_WARNING, "rwlayer events were lost (receive buffer "
		 "overflow): checking the rules against the table");
	if (refind_mount(d) < 0)
		return;
	if (rwld_rules_apply(d->nl, &d->tab, &d->mount, "resync") < 0)
		rwld_log(LOG_ERR, "resync: the rules could not be restored");
}

static int open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* Returns 1 to go on, 0 to exit cleanly. */
static int handle_signal(struct rwld *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return 1;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return 1;
	}
	rwld_log(LOG_NOTICE, "SIG%s from pid %u: exiting; the layers stay mounted",
		 sigabbrev_np((int)si.ssi_signo), si.ssi_pid);
	rwld_notify("STOPPING=1");
	return 0;
}

static int open_watchers(struct rwld *d)
{
	int err;

	if (d->opt.netwatch && d->bootif[0]) {
		err = rwld_netwatch_open(d->bootif, &d->netwatch);
		if (err < 0)
			rwld_log(LOG_ERR, "netwatch: cannot watch %s: %s; going on "
				 "without it", d->bootif, strerror(-err));
	} else if (d->opt.netwatch) {
		rwld_log(LOG_WARNING, "netwatch: no boot interface to watch");
	}
	if (d->opt.watch_only)
		return 0;
	err = rwl_nl_open(&d->events);
	if (err == 0)
		err = rwl_nl_subscribe_events(d->events);
	if (err < 0) {
		rwld_log(LOG_ERR, "rwlayer events: %s", nl_why(d->events, err));
		return err;
	}
	return 0;
}

static int event_loop(struct rwld *d)
{
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = d->events ? rwl_nl_fd(d->events) : -1, .events = POLLIN },
			{ .fd = d->netwatch ? rwld_netwatch_fd(d->netwatch) : -1,
			  .events = POLLIN },
		};
		int err;

		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rwld_log(LOG_ERR, "poll: %m");
			return 1;
		}
		if (fds[0].revents && !handle_signal(d))
			return 0;
		if (fds[1].revents) {
			err = rwl_nl_recv_events(d->events, rwld_event_log,
						 &d->events_ctx);
			if (err == -ENOBUFS)
				resync(d);
			else if (err < 0 && err != -EINTR) {
				rwld_log(LOG_ERR, "rwlayer events: %s",
					 strerror(-err));
				return 1;
			}
		}
		if (fds[2].revents && rwld_netwatch_handle(d->netwatch) < 0) {
			rwld_log(LOG_ERR, "netwatch: stopped after an error");
			rwld_netwatch_close(d->netwatch);
			d->netwatch = NULL;
		}
	}
}

static void cleanup(struct rwld *d)
{
	rwld_netwatch_close(d->netwatch);
	rwl_nl_close(d->events);
	rwl_nl_close(d->nl);
	rwld_mount_free(&d->mount);
	rwl_tab_free(&d->tab);
	free(d->path);
	free(d->config);
	if (d->sigfd >= 0)
		close(d->sigfd);
	rwld_log_close();
}

int main(int argc, char **argv)
{
	struct rwld d = { .sigfd = -1 };
	int status = 1;

	if (parse_options(argc, argv, &d.opt) < 0)
		return 2;
	rwld_log_open(&(struct rwld_log_config){
		.to_stderr = d.opt.foreground || d.opt.oneshot ||
			     isatty(STDERR_FILENO),
		.verbose = d.opt.verbose,
	});
	/* Block the signals first: a SIGHUP during the start waits for the loop. */
	d.sigfd = open_signals();
	if (d.sigfd < 0) {
		rwld_log(LOG_ERR, "signalfd: %m");
		goto out;
	}
	read_vars(&d);
	if (!d.opt.watch_only && start_rules(&d) < 0)
		goto out;
	if (d.opt.oneshot) {
		status = 0;
		goto out;
	}
	if (open_watchers(&d) < 0)
		goto out;
	if (!d.opt.foreground && daemon(0, 0) < 0) {
		rwld_log(LOG_ERR, "daemon: %m");
		goto out;
	}
	rwld_notify("READY=1");
	notify_status(&d);
	rwld_log(LOG_INFO, "running");
	status = event_loop(&d);
out:
	cleanup(&d);
	return status;
}
