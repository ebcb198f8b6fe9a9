// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the overlaytab parser (lib/tab.c), TAP output.  Every
 * malformed construct is checked for its exact first message, column
 * included; good inputs are checked value by value.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tab.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1024ULL * 1024)

static const struct rwl_tab_vars test_vars = {
	.hostname = "pc1",
	.mac = "52:54:00:12:34:56",
	.ip = NULL,			/* unset: ${ip} is an error */
};

static void print_diag(const struct rwl_tab_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->num; i++)
		printf("#   %s\n", diag->msgs[i]);
}

static bool tab_is_empty(const struct rwl_tab *tab)
{
	return !tab->num_rules && !tab->rules && !tab->mount.target &&
	       !tab->mount.upper && !tab->mount.num_lowers;
}

/* Parses @len bytes named "t"; prints the messages of a failure. */
static int parse_len(const char *text, size_t len, struct rwl_tab *tab,
		     struct rwl_tab_diag *diag)
{
	return rwl_tab_parse_buf("t", text, len, &test_vars, tab, diag);
}

static int parse(const char *text, struct rwl_tab *tab,
		 struct rwl_tab_diag *diag)
{
	return parse_len(text, strlen(text), tab, diag);
}

/* Malformed input: what, the text, and the exact first message. */
struct bad_case {
	const char *what;
	const char *text;
	const char *first;
};

static const struct bad_case bad_cases[] = {
	/* kinds and columns */
	{ "unknown kind", "/var unoin\n",
	  "t:1:6: unknown kind 'unoin' (union, empty or file)" },
	{ "missing kind", "/var\n",
	  "t:1:5: missing kind after the path (union, empty or file)" },
	{ "missing kind before a comment", "  /var  # no kind\n",
	  "t:1:7: missing kind after the path (union, empty or file)" },
	{ "extra column", "/var union size=1M inodes=5\n",
	  "t:1:20: extra column 'inodes=5' (PATH KIND OPTIONS, with no spaces between options)" },
	/* sizes */
	{ "bad size suffix", "/var union size=12X\n",
	  "t:1:19: size=12X has a bad suffix 'X' (K, M, G or T for powers of 1024)" },
	{ "lower-case size suffix", "/var union size=1k\n",
	  "t:1:18: size=1k has a bad suffix 'k' (K, M, G or T for powers of 1024)" },
	{ "trailing B on a size", "/var union size=1MB\n",
	  "t:1:18: size=1MB has a bad suffix 'MB' (K, M, G or T for powers of 1024)" },
	{ "size not a number", "/var union size=M\n",
	  "t:1:17: size=M is not a number" },
	{ "size >= 2^64", "/var union size=18446744073709551616\n",
	  "t:1:17: size=18446744073709551616 is too large (at most 2^64-1)" },
	{ "size >= 2^64 by its suffix", "/var union size=16777216T\n",
	  "t:1:17: size=16777216T is too large (at most 2^64-1)" },
	{ "zero size", "/var union size=0\n",
	  "t:1:17: size= must be positive (leave it out for no limit)" },
	{ "zero size with a suffix", "/var union size=0G\n",
	  "t:1:17: size= must be positive (leave it out for no limit)" },
	{ "inodes with a size suffix", "/var union inodes=5K\n",
	  "t:1:20: inodes=5K has a bad suffix 'K' (k or m for powers of 1000)" },
	{ "zero inodes", "/var union inodes=0\n",
	  "t:1:19: inodes= must be positive (leave it out for no limit)" },
	/* warn= */
	{ "warn=0%", "/var union size=1M,warn=0%\n",
	  "t:1:25: warn=0% is not a percentage from 1 to 100" },
	{ "warn=101", "/var union size=1M,warn=101\n",
	  "t:1:25: warn=101 is not a percentage from 1 to 100" },
	{ "warn=50%%", "/var union size=1M,warn=50%%\n",
	  "t:1:25: warn=50%% is not a percentage from 1 to 100" },
	{ "warn without a limit", "/var union warn=80%\n",
	  "t:1:12: warn= needs size= or inodes= to measure against" },
	/* mode=, uid=, gid= */
	{ "mode on a union rule", "/var union mode=755\n",
	  "t:1:12: mode= is only for empty rules (it is the owner or mode of the directory they create)" },
	{ "uid on a file rule", "/etc/x file uid=0\n",
	  "t:1:13: uid= is only for empty rules (it is the owner or mode of the directory they create)" },
	{ "mode not octal", "/tmp empty mode=8\n",
	  "t:1:17: mode=8 is not an octal mode up to 7777" },
	{ "mode above 07777", "/tmp empty mode=17777\n",
	  "t:1:17: mode=17777 is not an octal mode up to 7777" },
	{ "mode with a letter", "/tmp empty mode=u+rwx\n",
	  "t:1:17: mode=u+rwx is not an octal mode up to 7777" },
	{ "unknown user", "/tmp empty uid=no-such-user-rwl\n",
	  "t:1:16: uid=no-such-user-rwl: no such user" },
	{ "unknown group", "/tmp empty gid=no-such-group-rwl\n",
	  "t:1:16: gid=no-such-group-rwl: no such group" },
	{ "uid (uid_t)-1", "/tmp empty uid=4294967295\n",
	  "t:1:16: uid=4294967295 is too large (at most 4294967294)" },
	/* option syntax */
	{ "unknown option", "/var union color=red\n",
	  "t:1:12: unknown option 'color' (size, inodes, warn, mode, uid or gid)" },
	{ "repeated option", "/var union size=1M,size=2M\n",
	  "t:1:20: size= given twice" },
	{ "empty option", "/var union size=1M,,inodes=5\n",
	  "t:1:20: empty option (a stray ',')" },
	{ "trailing comma", "/var union size=1M,\n",
	  "t:1:19: empty option (a stray ',')" },
	{ "leading comma", "/var union ,size=1M\n",
	  "t:1:12: empty option (a stray ',')" },
	{ "option without =", "/var union ro\n",
	  "t:1:12: option 'ro' is not KEY=VALUE" },
	{ "option without a key", "/var union =5\n",
	  "t:1:12: option '=5' is not KEY=VALUE" },
	{ "option without a value", "/var union size=\n",
	  "t:1:17: size= needs a value" },
	/* paths */
	{ "relative path", "var union\n",
	  "t:1:1: rule path 'var' is not absolute" },
	{ "trailing slash", "/var/ union\n",
	  "t:1:5: rule path '/var/' has an empty component (// or a trailing /)" },
	{ "double slash", "\t/var//log union\n",
	  "t:1:6: rule path '/var//log' has an empty component (// or a trailing /)" },
	{ "dot component", "/var/./log union\n",
	  "t:1:6: rule path '/var/./log' has a '.' or '..' component" },
	{ "dot-dot component", "/var/.. union\n",
	  "t:1:6: rule path '/var/..' has a '.' or '..' component" },
	{ "error column of a substituted path",
	  "/srv/${hostname}/ union\n",
	  "t:1:1: rule path '/srv/pc1/' has an empty component (// or a trailing /)" },
	/* how rules relate */
	{ "duplicate path", "# c\n/var union\n/var empty\n",
	  "t:3:1: duplicate rule for /var (first at t:2)" },
	{ "duplicate through a variable", "/h/pc1 union\n/h/${hostname} union\n",
	  "t:2:1: duplicate rule for /h/pc1 (first at t:1)" },
	{ "rule under a file rule",
	  "/etc/machine-id file\n  /etc/machine-id/x union\n",
	  "t:2:3: /etc/machine-id/x is below the file rule for /etc/machine-id (at t:1); a file has nothing below it" },
	{ "file rule above a rule", "/etc/x/y union\n/etc/x file\n",
	  "t:2:1: file rule for /etc/x would have the rule for /etc/x/y below it (at t:1); a file has nothing below it" },
	{ "root as an empty rule", "/ empty\n",
	  "t:1:1: the mount's root / can only have a union rule" },
	{ "rule outside @mount", "@mount /sysroot\n/var union\n",
	  "t:2:1: /var is not inside the @mount directory /sysroot" },
	{ "rule beside @mount sharing a prefix",
	  "/sysroot2 union\n@mount /sysroot\n",
	  "t:1:1: /sysroot2 is not inside the @mount directory /sysroot" },
	{ "@mount root as a file rule", "@mount /sysroot\n/sysroot file\n",
	  "t:2:1: the mount's root /sysroot can only have a union rule" },
	/* bytes of the line */
	{ "control character", "/var\vunion\n",
	  "t:1:5: control character 0x0b (columns are separated by spaces and tabs)" },
	{ "CR inside a line", "/var\runion\n",
	  "t:1:5: control character 0x0d (columns are separated by spaces and tabs)" },
	/* variables */
	{ "unknown variable", "/srv/${host}/x union\n",
	  "t:1:6: unknown variable ${host} (hostname, mac or ip)" },
	{ "empty variable name", "/srv/${} union\n",
	  "t:1:6: unknown variable ${} (hostname, mac or ip)" },
	{ "unset variable", "/srv/${ip} union\n",
	  "t:1:6: ${ip} is not known on this system" },
	{ "unterminated ${", "/srv/${hostname union\n",
	  "t:1:6: unterminated ${ (no closing '}')" },
	{ "lone $", "/srv/a$b union\n",
	  "t:1:7: '$' starts a ${variable}; write $$ for a dollar sign" },
	{ "$ at the end", "/srv/a$ union\n",
	  "t:1:7: '$' starts a ${variable}; write $$ for a dollar sign" },
	{ "variable column inside an option", "/var union size=1M,warn=${mac}\n",
	  "t:1:25: warn=52:54:00:12:34:56 is not a percentage from 1 to 100" },
	{ "unknown variable in an option", "/var union size=${sz}\n",
	  "t:1:17: unknown variable ${sz} (hostname, mac or ip)" },
	/* directives */
	{ "unknown directive", "@mnt /\n",
	  "t:1:1: unknown directive '@mnt' (@mount, @lower or @upper)" },
	{ "@mount twice", "@mount /a\n\n@mount /a\n",
	  "t:3:1: @mount given twice (first at t:1)" },
	{ "@upper twice", "@upper tmpfs\n@upper tmpfs size=1G\n",
	  "t:2:1: @upper given twice (first at t:1)" },
	{ "@mount without a directory", "@mount\n",
	  "t:1:7: @mount needs a directory" },
	{ "@mount with an extra column", "@mount / x\n",
	  "t:1:10: extra column 'x' (@mount takes a directory)" },
	{ "@lower with options", "@lower /srv/a size=1M\n",
	  "t:1:15: extra column 'size=1M' (@lower takes a directory)" },
	{ "@upper without an argument", "@upper   # nothing\n",
	  "t:1:7: @upper needs tmpfs [size=BYTES] or DEVICE [fstype=TYPE]" },
	{ "@upper with an extra column", "@upper tmpfs size=1G x\n",
	  "t:1:22: extra column 'x' (@upper takes tmpfs [size=BYTES] or DEVICE [fstype=TYPE])" },
	{ "@upper tmpfs with fstype", "@upper tmpfs fstype=ext4\n",
	  "t:1:14: fstype= is only for a device upper" },
	{ "@upper device with size", "@upper /dev/vdb size=1G\n",
	  "t:1:17: size= is only for a tmpfs upper" },
	{ "@upper unknown option", "@upper tmpfs color=red\n",
	  "t:1:14: unknown option 'color' (size for tmpfs, fstype for a device)" },
	{ "@upper empty option", "@upper tmpfs size=1G,\n",
	  "t:1:21: empty option (a stray ',')" },
	{ "@upper repeated option", "@upper tmpfs size=1G,size=2G\n",
	  "t:1:22: size= given twice" },
	{ "@upper bad size", "@upper tmpfs size=1X\n",
	  "t:1:20: size=1X has a bad suffix 'X' (K, M, G or T for powers of 1024)" },
	{ "@upper zero size", "@upper tmpfs size=0\n",
	  "t:1:19: size= must be positive (leave it out for no limit)" },
	{ "@upper relative device", "@upper vdb\n",
	  "t:1:8: @upper device 'vdb' is not absolute" },
	{ "@upper bad fstype", "@upper /dev/vdb fstype=ext/4\n",
	  "t:1:24: fstype=ext/4 is not a filesystem type name" },
	{ "@mount not normalized", "@mount /sysroot/\n",
	  "t:1:16: @mount directory '/sysroot/' has an empty component (// or a trailing /)" },
	{ "@lower relative", "@lower srv/${hostname}\n",
	  "t:1:8: @lower directory 'srv/pc1' is not absolute" },
	{ "@lower unset variable", "@lower /srv/${ip}\n",
	  "t:1:13: ${ip} is not known on this system" },
};

/* Built inputs the table cannot hold as literals. */
static char *repeat_lines(const char *fmt, unsigned int count)
{
	size_t cap = (size_t)count * 64 + 1, len = 0;
	char *text = malloc(cap);
	unsigned int i;

	for (i = 0; text && i < count; i++)
		len += (size_t)snprintf(text + len, cap - len, fmt, i);
	return text;
}

static void check_bad_case(const char *what, const char *text, size_t len,
			   const char *first)
{
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	ret = parse_len(text, len, &tab, &diag);
	if (!ok(ret == -1 && diag.num >= 1 && !strcmp(diag.msgs[0], first) &&
		tab_is_empty(&tab), "bad: %s", what)) {
		printf("#   want: %s\n#   got %d:\n", first, ret);
		print_diag(&diag);
	}
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

static void test_bad_cases(void)
{
	static const char nul_text[] = "/var union\n/tmp em\0pty\n";
	const struct bad_case *c;
	char *text;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		c = &bad_cases[i];
		check_bad_case(c->what, c->text, strlen(c->text), c->first);
	}
	check_bad_case("NUL byte", nul_text, sizeof(nul_text) - 1,
		       "t:2:8: NUL byte");

	text = repeat_lines("/r%u union\n", RWL_TAB_MAX_RULES + 1);
	check_bad_case("65 rules", text, strlen(text),
		       "t:65:1: too many rules (a mount takes at most 64)");
	free(text);

	text = repeat_lines("@lower /l%u\n", RWL_TAB_MAX_LOWERS + 1);
	check_bad_case("32 @lower", text, strlen(text),
		       "t:32:1: too many @lower directories (at most 31: the module stacks 32 lowers, the root is one)");
	free(text);
}

/* A line over the limit, and paths over PATH_MAX and NAME_MAX. */
static void test_long_inputs(void)
{
	char line[RWL_TAB_MAX_LINE + 16], name[300], path[32 * 16 + 1];
	struct rwl_tab_vars vars = test_vars;
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	size_t i;
	int ret;

	memset(line, 'x', sizeof(line));
	memcpy(line, "/var union size=", 16);
	check_bad_case("line of 4097 bytes", line, RWL_TAB_MAX_LINE + 1,
		       "t:1:4097: line longer than 4096 bytes");

	/* Exactly RWL_TAB_MAX_LINE bytes, then CRLF: fine. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "/var union", 10);
	line[RWL_TAB_MAX_LINE - 1] = '#';
	memcpy(line + RWL_TAB_MAX_LINE, "\r\n", 2);
	ret = parse_len(line, RWL_TAB_MAX_LINE + 2, &tab, &diag);
	ok(ret == 0 && tab.num_rules == 1, "a line of exactly 4096 bytes");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	memset(name, 'h', 256);
	name[256] = '\0';
	vars.hostname = name;
	ret = rwl_tab_parse_buf("t", "/${hostname} union", 18, &vars, &tab,
				&diag);
	ok(ret == -1 && diag.num == 1 &&
	   !strcmp(diag.msgs[0], "t:1:1: rule path has a component longer than 255 bytes"),
	   "bad: a component of 256 bytes");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	/* 16 components of 1 + 255 bytes: 4096 bytes, one too many. */
	name[255] = '\0';
	for (i = 0; i < 16; i++)
		memcpy(path + i * 12, "/${hostname}", 12);
	strcpy(path + 16 * 12, " union");
	ret = rwl_tab_parse_buf("t", path, strlen(path), &vars, &tab, &diag);
	ok(ret == -1 && diag.num == 1 &&
	   !strcmp(diag.msgs[0], "t:1:1: rule path is longer than 4095 bytes"),
	   "bad: a path of 4096 bytes");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	strcpy(path + 15 * 12, " union");
	ret = rwl_tab_parse_buf("t", path, strlen(path), &vars, &tab, &diag);
	ok(ret == 0 && tab.num_rules == 1 && strlen(tab.rules[0].path) == 15 * 256,
	   "a path of 3840 bytes from variables");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

/* Every error is reported, up to the cap. */
static void test_keeps_going(void)
{
	static const char text[] =
		"/var unoin\n"
		"/tmp empty\n"
		"/x union size=1Q\n"
		"/y union\n"
		"@mnt /\n";
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	char *many;
	int ret;

	ret = parse(text, &tab, &diag);
	ok(ret == -1 && diag.num == 3 &&
	   !strncmp(diag.msgs[0], "t:1:6: ", 7) &&
	   !strncmp(diag.msgs[1], "t:3:16: ", 8) &&
	   !strncmp(diag.msgs[2], "t:5:1: ", 7) && tab_is_empty(&tab),
	   "three bad lines, three messages, no table");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	ret = parse("/a unoin,size=0\n/b union size=1M,size=0,warn=0\n", &tab,
		    &diag);
	ok(ret == -1 && diag.num == 3 &&
	   !strcmp(diag.msgs[1], "t:2:18: size= given twice") &&
	   !strcmp(diag.msgs[2], "t:2:30: warn=0 is not a percentage from 1 to 100"),
	   "several errors on one line");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	many = repeat_lines("/r%u unoin\n", RWL_TAB_MAX_ERRORS + 10);
	ret = parse(many, &tab, &diag);
	ok(ret == -1 && diag.num == RWL_TAB_MAX_ERRORS + 1 &&
	   !strcmp(diag.msgs[RWL_TAB_MAX_ERRORS - 1],
		   "t:50:6: unknown kind 'unoin' (union, empty or file)") &&
	   !strcmp(diag.msgs[RWL_TAB_MAX_ERRORS],
		   "t: too many errors, stopped after 50"),
	   "messages stop after 50");
	free(many);
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

static const char full_example[] =
	"# a diskless client\n"
	"\n"
	"@mount /                       # the root\n"
	"@lower /srv/hosts/${hostname}  # per host\n"
	"@lower /srv/mac/${mac}\n"
	"@upper tmpfs size=512M\n"
	"/var               union  size=128M,inodes=20k,warn=80%\n"
	"/var/tmp           empty  mode=1777\n"
	"/tmp\t\tempty  size=64M,mode=1777,uid=0,gid=0\n"
	"/etc/udev/rules.d  union\n"
	"/etc/machine-id    file   # trailing comment\n";

static void test_full_example(void)
{
	const struct rwl_tab_rule *var, *tmp, *vtmp;
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	ret = parse(full_example, &tab, &diag);
	if (!ok(ret == 0 && diag.num == 0 && tab.num_rules == 5,
		"the example parses into 5 rules"))
		print_diag(&diag);
	if (ret)
		return;
	ok(!strcmp(tab.mount.target, "/") && !strcmp(tab.mount.upper, "tmpfs") &&
	   tab.mount.upper_size == 512 * MiB && !tab.mount.upper_fstype,
	   "@mount / and @upper tmpfs size=512M");
	ok(tab.mount.num_lowers == 2 &&
	   !strcmp(tab.mount.lowers[0], "/srv/hosts/pc1") &&
	   !strcmp(tab.mount.lowers[1], "/srv/mac/52:54:00:12:34:56"),
	   "@lower with ${hostname} and ${mac}, topmost first");
	ok(!strcmp(tab.rules[0].path, "/etc/machine-id") &&
	   !strcmp(tab.rules[1].path, "/etc/udev/rules.d") &&
	   !strcmp(tab.rules[2].path, "/tmp") &&
	   !strcmp(tab.rules[3].path, "/var") &&
	   !strcmp(tab.rules[4].path, "/var/tmp"), "rules sorted by path");
	var = rwl_tab_find(&tab, "/var");
	ok(var && var->kind == RWLAYER_RULE_UNION &&
	   var->max_bytes == 128 * MiB && var->max_inodes == 20000 &&
	   var->warn == 80 && !var->has_mode && !var->has_uid &&
	   !var->has_gid && var->line == 7 && var->column == 1 &&
	   !strcmp(var->file, "t"), "/var union size=128M,inodes=20k,warn=80%%");
	vtmp = rwl_tab_find(&tab, "/var/tmp");
	ok(vtmp && vtmp->kind == RWLAYER_RULE_EMPTY && vtmp->has_mode &&
	   vtmp->mode == 01777 && !vtmp->max_bytes && !vtmp->has_uid,
	   "/var/tmp empty mode=1777");
	tmp = rwl_tab_find(&tab, "/tmp");
	ok(tmp && tmp->kind == RWLAYER_RULE_EMPTY && tmp->max_bytes == 64 * MiB &&
	   tmp->mode == 01777 && tmp->has_uid && tmp->uid == 0 &&
	   tmp->has_gid && tmp->gid == 0, "/tmp empty with tabs, size, mode, uid, gid");
	ok(rwl_tab_find(&tab, "/etc/machine-id")->kind == RWLAYER_RULE_FILE,
	   "/etc/machine-id file with a trailing comment");
	ok(!rwl_tab_find(&tab, "/va") && !rwl_tab_find(&tab, "/vars") &&
	   !rwl_tab_find(&tab, "/"), "rwl_tab_find: exact paths only");
	rwl_tab_free(&tab);
	ok(tab_is_empty(&tab) && !rwl_tab_find(&tab, "/var"),
	   "rwl_tab_free leaves an empty table");
}

/* One rule line, its parsed rule in *@tab (freed by the caller). */
static const struct rwl_tab_rule *parse_rule(const char *text,
					     struct rwl_tab *tab)
{
	struct rwl_tab_diag diag;
	int ret = parse(text, tab, &diag);

	print_diag(&diag);
	rwl_tab_diag_free(&diag);
	return ret == 0 && tab->num_rules == 1 ? &tab->rules[0] : NULL;
}

static void test_limits(void)
{
	static const struct {
		const char *text;
		uint64_t bytes, inodes;
	} cases[] = {
		{ "/v union size=1", 1, 0 },
		{ "/v union size=1K", 1024, 0 },
		{ "/v union size=3M", 3 * MiB, 0 },
		{ "/v union size=2G", 2048 * MiB, 0 },
		{ "/v union size=1T", 1ULL << 40, 0 },
		{ "/v union size=16777215T", 16777215ULL << 40, 0 },
		{ "/v union size=18446744073709551615", UINT64_MAX, 0 },
		{ "/v union size=007", 7, 0 },
		{ "/v union inodes=7", 0, 7 },
		{ "/v union inodes=5k", 0, 5000 },
		{ "/v union inodes=2m", 0, 2000000 },
		{ "/v file size=4K,inodes=1", 4096, 1 },
	};
	const struct rwl_tab_rule *rule;
	struct rwl_tab tab;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		rule = parse_rule(cases[i].text, &tab);
		ok(rule && rule->max_bytes == cases[i].bytes &&
		   rule->max_inodes == cases[i].inodes, "limits: %s",
		   cases[i].text);
		rwl_tab_free(&tab);
	}
}

static void test_options(void)
{
	struct passwd *nobody = getpwnam("nobody");
	struct group *root_group = getgrnam("root");
	const struct rwl_tab_rule *rule;
	struct rwl_tab tab;

	rule = parse_rule("/v union size=1M,warn=80", &tab);
	ok(rule && rule->warn == 80, "warn=80 without %%");
	rwl_tab_free(&tab);
	rule = parse_rule("/v union inodes=1,warn=100%", &tab);
	ok(rule && rule->warn == 100, "warn=100%% with only inodes=");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty mode=0", &tab);
	ok(rule && rule->has_mode && rule->mode == 0, "mode=0");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty mode=07777", &tab);
	ok(rule && rule->has_mode && rule->mode == 07777, "mode=07777");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty uid=root,gid=root", &tab);
	ok(rule && rule->has_uid && rule->uid == 0 && rule->has_gid &&
	   root_group && rule->gid == root_group->gr_gid,
	   "uid=root,gid=root by name");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty uid=nobody", &tab);
	ok(rule && nobody && rule->uid == nobody->pw_uid && !rule->has_gid,
	   "uid=nobody is the passwd entry's uid");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty uid=4294967294,gid=1000", &tab);
	ok(rule && rule->uid == 4294967294u && rule->gid == 1000,
	   "numeric uid and gid");
	rwl_tab_free(&tab);
	rule = parse_rule("/v empty", &tab);
	ok(rule && !rule->has_mode && !rule->has_uid && !rule->has_gid &&
	   !rule->max_bytes && !rule->warn, "no options: nothing set");
	rwl_tab_free(&tab);
}

static void test_syntax(void)
{
	const struct rwl_tab_rule *rule;
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	rule = parse_rule("/srv/a$$b union", &tab);
	ok(rule && !strcmp(rule->path, "/srv/a$b"), "$$ is a dollar sign");
	rwl_tab_free(&tab);
	rule = parse_rule("/a#b union #c", &tab);
	ok(rule && !strcmp(rule->path, "/a#b"),
	   "'#' inside a column is not a comment");
	rwl_tab_free(&tab);
	rule = parse_rule("/var union size=1M\r\n", &tab);
	ok(rule && rule->max_bytes == MiB, "CRLF line ends");
	rwl_tab_free(&tab);
	rule = parse_rule("  \t/h/${hostname}-${mac}\tunion\tsize=1M  ", &tab);
	ok(rule && !strcmp(rule->path, "/h/pc1-52:54:00:12:34:56") &&
	   rule->column == 4, "variables in a path; column of an indented rule");
	rwl_tab_free(&tab);
	rule = parse_rule("/ union", &tab);
	ok(rule && !strcmp(rule->path, "/") &&
	   !strcmp(rwl_tab_mount_path(&tab, rule), "/"), "a root union rule");
	rwl_tab_free(&tab);

	ret = parse("", &tab, &diag);
	ok(ret == 0 && !diag.num && !tab.num_rules && !tab.mount.num_lowers &&
	   !strcmp(tab.mount.target, "/") && !strcmp(tab.mount.upper, "tmpfs") &&
	   !tab.mount.upper_size, "empty input: the defaults");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	ret = parse("# only\n\n   \n\t# comments\n", &tab, &diag);
	ok(ret == 0 && !tab.num_rules, "comments and blank lines only");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	ret = parse("/var union\n/var/log union\n/tmp empty\n/tmp/x union\n"
		    "/etc/a file\n/etc/ab file\n/etc/a.d union", &tab, &diag);
	ok(ret == 0 && tab.num_rules == 7,
	   "union under union, rules under empty, file beside a longer name");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

static void test_mount_directives(void)
{
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	char *text;
	int ret;

	ret = parse("/sysroot/var union\n@mount /sysroot\n/sysroot union\n"
		    "@upper /dev/disk/by-label/rw fstype=ext4\n", &tab, &diag);
	ok(ret == 0 && !strcmp(tab.mount.target, "/sysroot") &&
	   !strcmp(tab.mount.upper, "/dev/disk/by-label/rw") &&
	   !strcmp(tab.mount.upper_fstype, "ext4") && !tab.mount.upper_size,
	   "@mount after a rule, @upper on a device");
	ok(ret == 0 && tab.num_rules == 2 &&
	   !strcmp(tab.rules[1].path, "/sysroot/var") &&
	   !strcmp(rwl_tab_mount_path(&tab, &tab.rules[1]), "/var") &&
	   !strcmp(rwl_tab_mount_path(&tab, &tab.rules[0]), "/"),
	   "system paths in the table, mount paths from rwl_tab_mount_path()");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	ret = parse("@upper /dev/vdb\n", &tab, &diag);
	ok(ret == 0 && !strcmp(tab.mount.upper, "/dev/vdb") &&
	   !tab.mount.upper_fstype, "@upper device without fstype");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	text = repeat_lines("@lower /l%u\n", RWL_TAB_MAX_LOWERS);
	ret = parse(text, &tab, &diag);
	ok(ret == 0 && tab.mount.num_lowers == RWL_TAB_MAX_LOWERS &&
	   !strcmp(tab.mount.lowers[30], "/l30"), "31 @lower lines");
	free(text);
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	text = repeat_lines("/r%u union\n", RWL_TAB_MAX_RULES);
	ret = parse(text, &tab, &diag);
	ok(ret == 0 && tab.num_rules == RWL_TAB_MAX_RULES &&
	   !strcmp(tab.rules[0].path, "/r0") &&
	   !strcmp(tab.rules[1].path, "/r1") &&
	   !strcmp(tab.rules[2].path, "/r10"), "64 rules, in strcmp order");
	free(text);
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

/* rwl_tab_load() */

static char tmpdir[] = "/tmp/tab_test.XXXXXX";

/* @name inside tmpdir; valid until the next call. */
static const char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *name, const char *text)
{
	const char *path = tmp_path(name);
	FILE *f;

	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static int load(const char *name, struct rwl_tab *tab,
		struct rwl_tab_diag *diag)
{
	return rwl_tab_load(tmp_path(name), &test_vars, tab, diag);
}

/* Whether @msg is @want with each "$T" standing for tmpdir. */
static bool msg_is(const char *msg, const char *want)
{
	size_t len = strlen(tmpdir);

	while (*want) {
		if (!strncmp(want, "$T", 2)) {
			if (strncmp(msg, tmpdir, len))
				return false;
			msg += len;
			want += 2;
		} else if (*msg++ != *want++) {
			return false;
		}
	}
	return !*msg;
}

/* A file of @size bytes: comment lines, then one rule. */
static void write_big_file(const char *name, size_t size)
{
	static const char rule[] = "/var union\n";
	char *text = malloc(size + 1);
	size_t i;

	if (!text)
		exit(1);
	memset(text, ' ', size);
	for (i = 0; i + 80 < size; i += 80) {
		text[i] = '#';
		text[i + 79] = '\n';
	}
	memcpy(text + size - strlen(rule), rule, strlen(rule));
	text[size] = '\0';
	write_file(name, text);
	free(text);
}

/* Files over a page are read whole; over RWL_TAB_MAX_FILE not at all. */
static void test_load_sizes(void)
{
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	write_big_file("big", RWL_TAB_MAX_FILE);
	ret = load("big", &tab, &diag);
	ok(ret == 0 && tab.num_rules == 1 && tab.rules[0].line == 13108,
	   "a file of exactly 1 MiB");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	write_big_file("big", RWL_TAB_MAX_FILE + 1);
	ret = load("big", &tab, &diag);
	ok(ret == -1 && diag.num == 1 &&
	   msg_is(diag.msgs[0], "$T/big: cannot read more than 1 MiB: File too large"),
	   "a file of 1 MiB + 1 byte");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	write_file("big.d", "");
	ret = load("big", &tab, &diag);
	ok(ret == -1 && diag.num == 2 &&
	   msg_is(diag.msgs[1], "$T/big.d: cannot list: Not a directory"),
	   "a .d that is not a directory");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
	unlink(tmp_path("big"));
	unlink(tmp_path("big.d"));
}

static const char *const load_files[] = {
	"tab.d/9-b.conf", "tab.d/10-a.conf", "tab.d/README",
	"tab.d/c.conf.bak", "tab.d/.hidden.conf",
};

static void test_load(void)
{
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	if (!mkdtemp(tmpdir) || mkdir(tmp_path("tab.d"), 0755)) {
		perror(tmpdir);
		exit(1);
	}
	write_file("tab", "@upper tmpfs size=1G\n/var union\n");
	write_file(load_files[0], "/etc/b file\n");
	write_file(load_files[1], "/etc/a file\n@lower /srv/${hostname}\n");
	write_file(load_files[2], "not a rule\n");
	write_file(load_files[3], "not a rule\n");
	write_file(load_files[4], "not a rule\n");
	ret = load("tab", &tab, &diag);
	if (!ok(ret == 0 && tab.num_rules == 3 && tab.mount.upper_size == 1024 * MiB &&
		tab.mount.num_lowers == 1 && rwl_tab_find(&tab, "/etc/a") &&
		rwl_tab_find(&tab, "/etc/b"), "file and .d/*.conf merged, others skipped"))
		print_diag(&diag);
	ok(ret == 0 && msg_is(rwl_tab_find(&tab, "/etc/b")->file, "$T/tab.d/9-b.conf") &&
	   rwl_tab_find(&tab, "/etc/b")->line == 1, "a rule knows its file");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	write_file("tab.d/9-b.conf", "/etc/a union\n/var/x empty mode=9\n");
	ret = load("tab", &tab, &diag);
	ok(ret == -1 && diag.num == 2 && tab_is_empty(&tab) &&
	   msg_is(diag.msgs[0], "$T/tab.d/9-b.conf:1:1: duplicate rule for /etc/a (first at $T/tab.d/10-a.conf:1)") &&
	   msg_is(diag.msgs[1], "$T/tab.d/9-b.conf:2:19: mode=9 is not an octal mode up to 7777"),
	   "errors across files name the real file; strcmp order (10-a before 9-b)");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	write_file("tab.d/9-b.conf", "@upper tmpfs\n");
	ret = load("tab", &tab, &diag);
	ok(ret == -1 && diag.num == 1 &&
	   msg_is(diag.msgs[0], "$T/tab.d/9-b.conf:1:1: @upper given twice (first at $T/tab:1)"),
	   "@upper in the file and in a .conf");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	write_file("tab.d/9-b.conf", "# nothing\n");
	unlink(tmp_path("tab"));
	ret = load("tab", &tab, &diag);
	ok(ret == 0 && tab.num_rules == 1 && !strcmp(tab.rules[0].path, "/etc/a"),
	   "no file, only the .d directory");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	ret = load("none", &tab, &diag);
	ok(ret == -1 && diag.num == 1 &&
	   msg_is(diag.msgs[0], "$T/none: cannot read (nor a .d directory): No such file or directory"),
	   "neither file nor directory");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	mkdir(tmp_path("tab.d/d.conf"), 0755);
	ret = load("tab", &tab, &diag);
	ok(ret == -1 && diag.num == 1 &&
	   msg_is(diag.msgs[0], "$T/tab.d/d.conf: cannot read: Is a directory"),
	   "a directory named *.conf");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);

	rmdir(tmp_path("tab.d/d.conf"));
	for (size_t i = 0; i < ARRAY_SIZE(load_files); i++)
		unlink(tmp_path(load_files[i]));
	rmdir(tmp_path("tab.d"));
	test_load_sizes();
	rmdir(tmpdir);
}

/* The sample file shipped in etc/, when run from userspace/ (make check). */
static void test_sample(void)
{
	const struct rwl_tab_rule *var, *tmp;
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	if (access("etc/overlaytab", R_OK)) {
		printf("ok %u # SKIP etc/overlaytab: not run from userspace/\n",
		       ++tests_run);
		printf("ok %u # SKIP etc/overlaytab: not run from userspace/\n",
		       ++tests_run);
		return;
	}
	ret = rwl_tab_load("etc/overlaytab", &test_vars, &tab, &diag);
	if (!ok(ret == 0 && tab.num_rules == 8, "etc/overlaytab parses"))
		print_diag(&diag);
	var = rwl_tab_find(&tab, "/var");
	tmp = rwl_tab_find(&tab, "/tmp");
	ok(var && var->kind == RWLAYER_RULE_UNION && var->max_bytes &&
	   var->max_inodes && var->warn == 80 && tmp &&
	   tmp->kind == RWLAYER_RULE_EMPTY && tmp->mode == 01777 &&
	   tmp->max_bytes && rwl_tab_find(&tab, "/var/tmp") &&
	   rwl_tab_find(&tab, "/var/lib/dbus") &&
	   rwl_tab_find(&tab, "/etc/udev/rules.d") &&
	   rwl_tab_find(&tab, "/etc/machine-id") &&
	   rwl_tab_find(&tab, "/etc/resolv.conf") &&
	   rwl_tab_find(&tab, "/etc/adjtime"),
	   "etc/overlaytab: /var with limits and warn=80%%, /tmp empty 1777, the rest");
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
}

int main(void)
{
	test_bad_cases();
	test_long_inputs();
	test_keeps_going();
	test_full_example();
	test_limits();
	test_options();
	test_syntax();
	test_mount_directives();
	test_load();
	test_sample();
	return tap_done();
}
