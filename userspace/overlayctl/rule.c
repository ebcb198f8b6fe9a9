// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl rule add|del|set|show and overlayctl reset.
 *
 * PATH is a system path; the mount that holds it and the path inside it
 * come from /proc/self/mountinfo (see ctl_find_path).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"

/* The options a rule command accepts. */
enum ctl_rule_opt {
	OPT_SIZE = 1 << 0,
	OPT_INODES = 1 << 1,
	OPT_WARN = 1 << 2,
	OPT_MODE = 1 << 3,
	OPT_UID = 1 << 4,
	OPT_GID = 1 << 5,
};

#define CTL_LIMIT_OPTS (OPT_SIZE | OPT_INODES | OPT_WARN)
#define CTL_OWNER_OPTS (OPT_MODE | OPT_UID | OPT_GID)

struct ctl_rule_args {
	struct rwl_nl_rule rule;	/* path is argv's, not owned */
	struct rwl_nl_rule_change change;
};

static int ctl_parse_id(const char *value, bool group, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (value[0] >= '0' && value[0] <= '9' && !*end && !errno &&
	    v <= UINT32_MAX - 1) {
		*out = (uint32_t)v;
		return 0;
	}
	if (group) {
		struct group *gr = getgrnam(value);

		if (gr) {
			*out = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(value);

		if (pw) {
			*out = pw->pw_uid;
			return 0;
		}
	}
	return -ENOENT;
}

static int ctl_parse_mode(const char *value, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 8);
	if (!*value || *end || errno || v > 07777)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* One KEY=VALUE of those in @allowed. */
static int ctl_parse_rule_opt(const char *arg, unsigned int allowed,
			      struct ctl_rule_args *a)
{
	const char *value = strchr(arg, '=');
	size_t klen = value ? (size_t)(value - arg) : strlen(arg);
	unsigned int warn;
	int err = -EINVAL;

#define KEY_IS(k) (klen == strlen(k) && !strncmp(arg, k, klen))
	if (!value) {
		ctl_err("'%s': expected OPTION=VALUE", arg);
		return -EINVAL;
	}
	value++;
	if (KEY_IS("size") && (allowed & OPT_SIZE)) {
		err = rwl_parse_size(value, &a->change.max_bytes);
		a->rule.max_bytes = a->change.max_bytes;
		a->change.set_max_bytes = true;
	} else if (KEY_IS("inodes") && (allowed & OPT_INODES)) {
		err = rwl_parse_count(value, &a->change.max_inodes);
		a->rule.max_inodes = a->change.max_inodes;
		a->change.set_max_inodes = true;
	} else if (KEY_IS("warn") && (allowed & OPT_WARN)) {
		err = rwl_parse_percent(value, &warn);
		a->rule.warn = a->change.warn = (uint8_t)warn;
		a->change.set_warn = true;
	} else if (KEY_IS("mode") && (allowed & OPT_MODE)) {
		err = ctl_parse_mode(value, &a->rule.mode);
		a->rule.has_mode = true;
	} else if (KEY_IS("uid") && (allowed & OPT_UID)) {
		err = ctl_parse_id(value, false, &a->rule.uid);
		a->rule.has_uid = true;
	} else if (KEY_IS("gid") && (allowed & OPT_GID)) {
		err = ctl_parse_id(value, true, &a->rule.gid);
		a->rule.has_gid = true;
	} else {
		ctl_err("'%.*s': not an option here (allowed: %s%s%s%s%s%s)",
			(int)klen, arg,
			allowed & OPT_SIZE ? "size= " : "",
			allowed & OPT_INODES ? "inodes= " : "",
			allowed & OPT_WARN ? "warn=" : "",
			allowed & OPT_MODE ? " mode=" : "",
			allowed & OPT_UID ? " uid=" : "",
			allowed & OPT_GID ? " gid=" : "");
		return -EINVAL;
	}
	if (err == -ENOENT)
		ctl_err("'%s': no such %s", arg, KEY_IS("uid") ? "user" : "group");
	else if (err)
		ctl_err("'%s': invalid value (%s)", arg, strerror(-err));
#undef KEY_IS
	return err;
}

/* Parse argv[@first..] as options; 0 or -EINVAL (reported). */
static int ctl_parse_rule_opts(int argc, char **argv, int first,
			       unsigned int allowed, struct ctl_rule_args *a)
{
	int i;

	for (i = first; i < argc; i++) {
		if (ctl_global_opt(argv[i]))
			continue;
		if (ctl_parse_rule_opt(argv[i], allowed, a))
			return -EINVAL;
	}
	return 0;
}

/* A command's PATH: the mount that holds it, the path inside. */
struct ctl_target {
	struct rwl_nl *nl;
	struct ctl_mounts mounts;
	const struct rwl_nl_mount *mount;
	char *inner;
};

/* Open the family, find the mount of @path; 0 or an exit code. */
static int ctl_target_open(const char *path, struct ctl_target *t)
{
	memset(t, 0, sizeof(*t));
	if (ctl_nl_open(&t->nl))
		return CTL_EXIT_ERROR;
	if (ctl_mounts_load(t->nl, &t->mounts)) {
		rwl_nl_close(t->nl);
		return CTL_EXIT_ERROR;
	}
	t->mount = ctl_find_path(&t->mounts, path, &t->inner);
	if (!t->mount) {
		ctl_mounts_free(&t->mounts);
		rwl_nl_close(t->nl);
		return CTL_EXIT_NO_MOUNT;
	}
	return 0;
}

static void ctl_target_close(struct ctl_target *t)
{
	free(t->inner);
	ctl_mounts_free(&t->mounts);
	rwl_nl_close(t->nl);
}

static int ctl_rule_add(int argc, char **argv)
{
	struct ctl_rule_args a = { 0 };
	struct ctl_target t;
	int ret, err;

	if (argc < 4) {
		ctl_usage_of("rule");
		return CTL_EXIT_ERROR;
	}
	a.rule.kind = rwl_nl_kind_from_name(argv[3]);
	if (!a.rule.kind) {
		ctl_err("rule add %s: '%s' is not a kind (union, empty or file)",
			argv[2], argv[3]);
		return CTL_EXIT_ERROR;
	}
	if (ctl_parse_rule_opts(argc, argv, 4,
				CTL_LIMIT_OPTS |
				(a.rule.kind == RWLAYER_RULE_EMPTY ? CTL_OWNER_OPTS : 0),
				&a))
		return CTL_EXIT_ERROR;
	ret = ctl_target_open(argv[2], &t);
	if (ret)
		return ret;
	a.rule.mount_id = t.mount->id;
	a.rule.path = t.inner;
	err = rwl_nl_add_rule(t.nl, &a.rule);
	if (err)
		ctl_nl_err(t.nl, err, "rule add %s", argv[2]);
	ctl_target_close(&t);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

static int ctl_rule_del(int argc, char **argv)
{
	struct ctl_target t;
	int ret, err;

	if (argc != 3) {
		ctl_usage_of("rule");
		return CTL_EXIT_ERROR;
	}
	ret = ctl_target_open(argv[2], &t);
	if (ret)
		return ret;
	err = rwl_nl_del_rule(t.nl, t.mount->id, t.inner);
	if (err)
		ctl_nl_err(t.nl, err, "rule del %s", argv[2]);
	ctl_target_close(&t);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

static int ctl_rule_set(int argc, char **argv)
{
	struct ctl_rule_args a = { 0 };
	struct ctl_target t;
	int ret, err;

	if (argc < 4) {
		ctl_usage_of("rule");
		return CTL_EXIT_ERROR;
	}
	if (ctl_parse_rule_opts(argc, argv, 3, CTL_LIMIT_OPTS, &a))
		return CTL_EXIT_ERROR;
	if (!a.change.set_max_bytes && !a.change.set_max_inodes &&
	    !a.change.set_warn) {
		ctl_err("rule set %s: nothing to change (size=, inodes=, warn=)",
			argv[2]);
		return CTL_EXIT_ERROR;
	}
	ret = ctl_target_open(argv[2], &t);
	if (ret)
		return ret;
	err = rwl_nl_set_rule(t.nl, t.mount->id, t.inner, &a.change);
	if (err)
		ctl_nl_err(t.nl, err, "rule set %s", argv[2]);
	ctl_target_close(&t);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

static void ctl_rule_show_text(const char *mountpoint,
			       const struct rwl_nl_rule *r)
{
	char a[RWL_FMT_LEN], b[RWL_FMT_LEN];

	printf("rule %s on %s (mount %u)\n", r->path, mountpoint, r->mount_id);
	printf("    kind        %s\n", rwl_nl_kind_name(r->kind) ?
	       rwl_nl_kind_name(r->kind) : "?");
	printf("    size        %s of %s\n", rwl_fmt_size(a, r->bytes),
	       r->max_bytes ? rwl_fmt_size_exact(b, r->max_bytes) : "no limit");
	printf("    inodes      %s of %s\n", rwl_fmt_count(a, r->inodes),
	       r->max_inodes ? rwl_fmt_count_exact(b, r->max_inodes) : "no limit");
	if (r->warn)
		printf("    warn        %u%%\n", r->warn);
	else
		printf("    warn        -\n");
	printf("    copy-ups    %llu (%s)\n", (unsigned long long)r->copy_ups,
	       rwl_fmt_size(a, r->copy_up_bytes));
	printf("    whiteouts   %llu\n", (unsigned long long)r->whiteouts);
	printf("    errors      %llu\n", (unsigned long long)r->errors);
	printf("    open files  %u\n", r->open_files);
	if (r->has_mode)
		printf("    mode        %04o\n", r->mode);
	if (r->has_uid)
		printf("    uid         %u\n", r->uid);
	if (r->has_gid)
		printf("    gid         %u\n", r->gid);
}

static int ctl_rule_show(int argc, char **argv)
{
	struct rwl_nl_rule rule;
	struct ctl_target t;
	const char *path = NULL;
	int i, ret, err;

	for (i = 2; i < argc; i++) {
		if (ctl_global_opt(argv[i]))
			continue;
		if (path) {
			ctl_usage_of("rule");
			return CTL_EXIT_ERROR;
		}
		path = argv[i];
	}
	if (!path) {
		ctl_usage_of("rule");
		return CTL_EXIT_ERROR;
	}
	ret = ctl_target_open(path, &t);
	if (ret)
		return ret;
	err = rwl_nl_get_rule(t.nl, t.mount->id, t.inner, &rule);
	if (err) {
		ctl_nl_err(t.nl, err, "rule show %s", path);
	} else if (ctl_opts.json) {
		struct rwl_json j;

		rwl_json_init(&j, stdout, ctl_opts.pretty);
		ctl_json_rule(&j, &rule);
		rwl_json_finish(&j);
	} else {
		const char *where = ctl_mountpoint(&t.mounts, t.mount);

		ctl_rule_show_text(where ? where : "?", &rule);
	}
	rwl_nl_rule_free(&rule);
	ctl_target_close(&t);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

int ctl_cmd_rule(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {
		{ "add", ctl_rule_add },
		{ "del", ctl_rule_del },
		{ "set", ctl_rule_set },
		{ "show", ctl_rule_show },
	};
	size_t i;

	if (argc >= 2)
		for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (!strcmp(argv[1], subs[i].name))
				return subs[i].fn(argc, argv);
	ctl_usage_of("rule");
	return CTL_EXIT_ERROR;
}

/*
 * A reset drops cached directories above mount points inside the rule,
 * which detaches what is mounted there (rwlayer.rst, "Reset"): name them
 * and count them.
 */
static size_t ctl_mounts_below(const char *path)
{
	struct rwl_mountinfo_list all;
	char *norm, *below;
	size_t n = 0;

	if (rwl_mountinfo_read_all(&all))
		return 0;
	norm = rwl_path_normalize(path);
	for (size_t i = 0; norm && i < all.num; i++) {
		below = rwl_path_below(all.mounts[i].mountpoint, norm);
		if (below && strcmp(below, "/")) {
			if (!n++)
				ctl_err("reset %s: filesystems are mounted below it, "
					"and a reset would detach them; unmount them "
					"first, or --force:", path);
			fprintf(stderr, "  %s\n", all.mounts[i].mountpoint);
		}
		free(below);
	}
	free(norm);
	rwl_mountinfo_list_free(&all);
	return n;
}

int ctl_cmd_reset(int argc, char **argv)
{
	const char *path = NULL;
	struct ctl_target t;
	bool force = false;
	int i, ret, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f")) {
			force = true;
		} else if (ctl_global_opt(argv[i])) {
			continue;
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			ctl_usage_of("reset");
			return CTL_EXIT_ERROR;
		}
	}
	if (!path) {
		ctl_usage_of("reset");
		return CTL_EXIT_ERROR;
	}
	ret = ctl_target_open(path, &t);
	if (ret)
		return ret;
	if (!force && ctl_mounts_below(path)) {
		ctl_target_close(&t);
		return CTL_EXIT_ERROR;
	}
	err = rwl_nl_reset_rule(t.nl, t.mount->id, t.inner, force);
	if (err == -EBUSY && !rwl_nl_extack(t.nl))
		ctl_err("reset %s: %s (files are open inside; --force discards anyway)",
			path, strerror(EBUSY));
	else if (err)
		ctl_nl_err(t.nl, err, "reset %s", path);
	ctl_target_close(&t);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}
