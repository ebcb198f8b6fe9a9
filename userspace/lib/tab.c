// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/overlaytab: parsing and validation.  The grammar and every decision
 * about it (suffixes, $$, CRLF, what may nest) are written down in
 * overlaytab(5); this file follows that page.
 *
 * A line is split into columns on the raw text, and option columns into
 * KEY=VALUE items, before ${variables} are replaced in each piece, so a
 * variable's value can never add a column or an option.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tab.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One column or piece of a column, as written. */
struct rwl_token {
	const char *text;
	size_t len;
	unsigned int col;		/* 1-based byte column of text[0] */
};

struct rwl_option {
	struct rwl_token key, value;
};

/* Where a directive that may appear once was first seen. */
struct rwl_origin {
	char *file;			/* NULL: not seen yet */
	unsigned int line;
};

struct rwl_parser {
	const struct rwl_tab_vars *vars;
	struct rwl_tab *tab;
	struct rwl_tab_diag *diag;
	size_t rules_cap;
	const char *name;		/* the file being read */
	unsigned int line;
	struct rwl_origin mount, upper;
	bool failed;
	bool capped;			/* RWL_TAB_MAX_ERRORS reached */
	bool too_many_rules;		/* reported once */
};

/* Suffixes of a limit: the n-th one multiplies by base^n. */
struct rwl_units {
	const char *suffixes;
	uint64_t base;
	const char *hint;
};

static const struct rwl_units rwl_size_units = {
	"KMGT", 1024, "K, M, G or T for powers of 1024"
};
static const struct rwl_units rwl_count_units = {
	"km", 1000, "k or m for powers of 1000"
};

static const char *const rwl_kind_names[] = {
	[RWLAYER_RULE_UNION] = "union",
	[RWLAYER_RULE_EMPTY] = "empty",
	[RWLAYER_RULE_FILE] = "file",
};

enum rwl_rule_opt {
	RWL_OPT_SIZE, RWL_OPT_INODES, RWL_OPT_WARN,
	RWL_OPT_MODE, RWL_OPT_UID, RWL_OPT_GID,
};
static const char *const rwl_rule_opt_names[] = {
	[RWL_OPT_SIZE] = "size", [RWL_OPT_INODES] = "inodes",
	[RWL_OPT_WARN] = "warn", [RWL_OPT_MODE] = "mode",
	[RWL_OPT_UID] = "uid", [RWL_OPT_GID] = "gid",
};

enum rwl_upper_opt { RWL_UPPER_SIZE, RWL_UPPER_FSTYPE };
static const char *const rwl_upper_opt_names[] = {
	[RWL_UPPER_SIZE] = "size", [RWL_UPPER_FSTYPE] = "fstype",
};

enum rwl_directive { RWL_DIR_MOUNT, RWL_DIR_LOWER, RWL_DIR_UPPER };
static const char *const rwl_directive_names[] = {
	[RWL_DIR_MOUNT] = "@mount", [RWL_DIR_LOWER] = "@lower",
	[RWL_DIR_UPPER] = "@upper",
};

/* Index of the @len bytes at @word in @names, or -1. */
static int rwl_lookup(const char *const *names, size_t num, const char *word,
		      size_t len)
{
	size_t i;

	for (i = 0; i < num; i++) {
		if (names[i] && strlen(names[i]) == len &&
		    !memcmp(names[i], word, len))
			return (int)i;
	}
	return -1;
}

/* Diagnostics */

static void rwl_diag_add(struct rwl_tab_diag *diag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rwl_diag_add(struct rwl_tab_diag *diag, const char *fmt, ...)
{
	char **msgs, *msg;
	va_list ap;
	int ret;

	msgs = realloc(diag->msgs, (diag->num + 1) * sizeof(*msgs));
	if (!msgs)
		return;
	diag->msgs = msgs;
	va_start(ap, fmt);
	ret = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ret >= 0)
		diag->msgs[diag->num++] = msg;
}

static void rwl_report_at(struct rwl_parser *p, const char *file,
			  unsigned int line, unsigned int col,
			  const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void rwl_report_at(struct rwl_parser *p, const char *file,
			  unsigned int line, unsigned int col,
			  const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int ret;

	p->failed = true;
	if (p->capped)
		return;
	if (p->diag->num >= RWL_TAB_MAX_ERRORS) {
		p->capped = true;
		rwl_diag_add(p->diag, "%s: too many errors, stopped after %d",
			     file, RWL_TAB_MAX_ERRORS);
		return;
	}
	va_start(ap, fmt);
	ret = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return;
	rwl_diag_add(p->diag, "%s:%u:%u: %s", file, line, col, msg);
	free(msg);
}

/* A message about the current line. */
#define rwl_report(p, col, ...) \
	rwl_report_at(p, (p)->name, (p)->line, col, __VA_ARGS__)

/* Whole-file problems have no line to point at. */
static void rwl_report_file(struct rwl_parser *p, const char *file,
			    const char *what, int err)
{
	p->failed = true;
	rwl_diag_add(p->diag, "%s: %s: %s", file, what, strerror(err));
}

/*
 * The column of byte @off of @tok.  After a substitution offsets no longer
 * match the text as written, so such a token is pointed at as a whole.
 */
static unsigned int rwl_col(const struct rwl_token *tok, size_t off)
{
	if (memchr(tok->text, '$', tok->len))
		return tok->col;
	return tok->col + (unsigned int)off;
}

/* Variables */

struct rwl_str {
	char *s;
	size_t len, cap;
};

static bool rwl_str_add(struct rwl_str *str, const char *text, size_t len)
{
	size_t cap = str->cap ? str->cap : 64;
	char *s;

	while (cap < str->len + len + 1)
		cap *= 2;
	if (cap != str->cap) {
		s = realloc(str->s, cap);
		if (!s)
			return false;
		str->s = s;
		str->cap = cap;
	}
	memcpy(str->s + str->len, text, len);
	str->len += len;
	str->s[str->len] = '\0';
	return true;
}

/* Reports an unknown or unset variable; NULL then. */
static const char *rwl_var(struct rwl_parser *p, const char *name, size_t len,
			   unsigned int col)
{
	static const char *const names[] = { "hostname", "mac", "ip" };
	const struct rwl_tab_vars *v = p->vars;
	const char *value = NULL;

	switch (rwl_lookup(names, ARRAY_SIZE(names), name, len)) {
	case 0:
		value = v ? v->hostname : NULL;
		break;
	case 1:
		value = v ? v->mac : NULL;
		break;
	case 2:
		value = v ? v->ip : NULL;
		break;
	default:
		rwl_report(p, col, "unknown variable ${%.*s} (hostname, mac or ip)",
			   (int)len, name);
		return NULL;
	}
	if (!value)
		rwl_report(p, col, "${%.*s} is not known on this system",
			   (int)len, name);
	return value;
}

/* @tok with ${name} replaced and $$ made $, or NULL after a report. */
static char *rwl_expand(struct rwl_parser *p, const struct rwl_token *tok)
{
	struct rwl_str out = { 0 };
	const char *c, *close, *value;
	size_t i = 0, rest;

	if (!rwl_str_add(&out, "", 0))
		goto err_oom;
	while (i < tok->len) {
		c = tok->text + i;
		rest = tok->len - i;
		if (*c != '$') {
			if (!rwl_str_add(&out, c, 1))
				goto err_oom;
			i++;
			continue;
		}
		if (rest >= 2 && c[1] == '$') {
			if (!rwl_str_add(&out, "$", 1))
				goto err_oom;
			i += 2;
			continue;
		}
		if (rest < 2 || c[1] != '{') {
			rwl_report(p, tok->col + (unsigned int)i,
				   "'$' starts a ${variable}; write $$ for a dollar sign");
			goto err;
		}
		close = memchr(c + 2, '}', rest - 2);
		if (!close) {
			rwl_report(p, tok->col + (unsigned int)i,
				   "unterminated ${ (no closing '}')");
			goto err;
		}
		value = rwl_var(p, c + 2, (size_t)(close - c - 2),
				tok->col + (unsigned int)i);
		if (!value)
			goto err;
		if (!rwl_str_add(&out, value, strlen(value)))
			goto err_oom;
		i = (size_t)(close - tok->text) + 1;
	}
	return out.s;

err_oom:
	rwl_report(p, tok->col, "out of memory");
err:
	free(out.s);
	return NULL;
}

/* Paths */

/* Whether @path is @dir or below it; both normalized. */
static bool rwl_path_within(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (len == 1)
		return true;
	return !strncmp(path, dir, len) && (!path[len] || path[len] == '/');
}

static bool rwl_path_below(const char *path, const char *dir)
{
	return strcmp(path, dir) && rwl_path_within(path, dir);
}

/* Absolute and normalized, the way the module wants a rule path. */
static bool rwl_check_path(struct rwl_parser *p, const struct rwl_token *tok,
			   const char *path, const char *what)
{
	const char *c = path, *end;
	size_t len;

	if (*path != '/') {
		rwl_report(p, tok->col, "%s '%s' is not absolute", what, path);
		return false;
	}
	if (strlen(path) >= RWLAYER_PATH_MAX) {
		rwl_report(p, tok->col, "%s is longer than %d bytes", what,
			   RWLAYER_PATH_MAX - 1);
		return false;
	}
	if (!strcmp(path, "/"))
		return true;
	while (*c == '/') {
		c++;
		end = strchrnul(c, '/');
		len = (size_t)(end - c);
		if (!len) {
			rwl_report(p, rwl_col(tok, (size_t)(c - 1 - path)),
				   "%s '%s' has an empty component (// or a trailing /)",
				   what, path);
			return false;
		}
		if ((len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.')) {
			rwl_report(p, rwl_col(tok, (size_t)(c - path)),
				   "%s '%s' has a '.' or '..' component",
				   what, path);
			return false;
		}
		if (len > NAME_MAX) {
			rwl_report(p, rwl_col(tok, (size_t)(c - path)),
				   "%s has a component longer than %d bytes",
				   what, NAME_MAX);
			return false;
		}
		c = end;
	}
	return true;
}

/* Option values */

/* A positive number with at most one suffix from @units. */
static bool rwl_parse_limit(struct rwl_parser *p, const char *key,
			    const struct rwl_token *tok, const char *text,
			    const struct rwl_units *units, uint64_t *out)
{
	size_t n = strspn(text, "0123456789"), i;
	const char *unit;
	uint64_t value = 0;
	unsigned int digit;

	if (!n) {
		rwl_report(p, tok->col, "%s=%s is not a number", key, text);
		return false;
	}
	for (i = 0; i < n; i++) {
		digit = (unsigned int)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			goto err_overflow;
		value = value * 10 + digit;
	}
	if (text[n]) {
		unit = text[n + 1] ? NULL : strchr(units->suffixes, text[n]);
		if (!unit) {
			rwl_report(p, rwl_col(tok, n),
				   "%s=%s has a bad suffix '%s' (%s)", key, text,
				   text + n, units->hint);
			return false;
		}
		for (i = 0; i <= (size_t)(unit - units->suffixes); i++) {
			if (value > UINT64_MAX / units->base)
				goto err_overflow;
			value *= units->base;
		}
	}
	if (!value) {
		rwl_report(p, tok->col,
			   "%s= must be positive (leave it out for no limit)",
			   key);
		return false;
	}
	*out = value;
	return true;

err_overflow:
	rwl_report(p, tok->col, "%s=%s is too large (at most 2^64-1)", key,
		   text);
	return false;
}

/* N or N%, 1 to 100. */
static bool rwl_parse_percent(struct rwl_parser *p, const struct rwl_token *tok,
			      const char *text, unsigned int *out)
{
	size_t n = strspn(text, "0123456789");
	unsigned long value;

	if (!n || n > 3 || (text[n] && strcmp(text + n, "%")))
		goto err;
	value = strtoul(text, NULL, 10);
	if (value < 1 || value > 100)
		goto err;
	*out = (unsigned int)value;
	return true;

err:
	rwl_report(p, tok->col, "warn=%s is not a percentage from 1 to 100",
		   text);
	return false;
}

static bool rwl_parse_mode(struct rwl_parser *p, const struct rwl_token *tok,
			   const char *text, mode_t *out)
{
	size_t n = strspn(text, "01234567"), i;
	unsigned int value = 0;

	for (i = 0; i < n && value <= 07777; i++)
		value = value * 8 + (unsigned int)(text[i] - '0');
	if (!n || text[n] || value > 07777) {
		rwl_report(p, tok->col, "mode=%s is not an octal mode up to 7777",
			   text);
		return false;
	}
	*out = value;
	return true;
}

/* A decimal id; (uid_t)-1 means "no change" to chown(2), so it is refused. */
static bool rwl_parse_id_number(const char *text, uint32_t *out)
{
	size_t n = strspn(text, "0123456789");
	unsigned long long value;

	if (!n || text[n] || n > 10)
		return false;
	value = strtoull(text, NULL, 10);
	if (value >= UINT32_MAX)
		return false;
	*out = (uint32_t)value;
	return true;
}

static size_t rwl_nss_bufsize(int name)
{
	long size = sysconf(name);

	return size > 0 ? (size_t)size : 16384;
}

/* getpwnam_r()/getgrnam_r(), as the library may run in a threaded daemon. */
static bool rwl_user_id(const char *name, uint32_t *out)
{
	size_t size = rwl_nss_bufsize(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *found = NULL;
	char *buf = NULL, *bigger;
	int err;

	do {
		bigger = realloc(buf, size);
		if (!bigger)
			break;
		buf = bigger;
		err = getpwnam_r(name, &pw, buf, size, &found);
		size *= 2;
	} while (err == ERANGE);
	if (found)
		*out = found->pw_uid;
	free(buf);
	return found;
}

static bool rwl_group_id(const char *name, uint32_t *out)
{
	size_t size = rwl_nss_bufsize(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *found = NULL;
	char *buf = NULL, *bigger;
	int err;

	do {
		bigger = realloc(buf, size);
		if (!bigger)
			break;
		buf = bigger;
		err = getgrnam_r(name, &gr, buf, size, &found);
		size *= 2;
	} while (err == ERANGE);
	if (found)
		*out = found->gr_gid;
	free(buf);
	return found;
}

static bool rwl_parse_owner(struct rwl_parser *p, const struct rwl_token *tok,
			    const char *text, bool user, uint32_t *out)
{
	if (rwl_parse_id_number(text, out))
		return true;
	if (strspn(text, "0123456789") == strlen(text)) {
		rwl_report(p, tok->col, "%s=%s is too large (at most %u)",
			   user ? "uid" : "gid", text, UINT32_MAX - 1);
		return false;
	}
	if (user ? rwl_user_id(text, out) : rwl_group_id(text, out))
		return true;
	rwl_report(p, tok->col, "%s=%s: no such %s", user ? "uid" : "gid", text,
		   user ? "user" : "group");
	return false;
}

/* Option lists */

/*
 * The next comma-separated item of @tok from *@pos, split at its '='.
 * Returns false at the end; *@valid says whether the item was well formed
 * (a malformed one is reported here).
 */
static bool rwl_next_option(struct rwl_parser *p, const struct rwl_token *tok,
			    size_t *pos, struct rwl_option *opt, bool *valid)
{
	const char *start = tok->text + *pos, *comma, *eq;
	size_t len;

	if (*pos > tok->len)
		return false;
	comma = memchr(start, ',', tok->len - *pos);
	len = comma ? (size_t)(comma - start) : tok->len - *pos;
	opt->key = (struct rwl_token){ start, len, tok->col + (unsigned int)*pos };
	*pos += len + 1;
	*valid = false;
	if (!len) {
		/* Point at the stray comma: the one ending or before the item. */
		rwl_report(p, opt->key.col - (comma ? 0 : 1),
			   "empty option (a stray ',')");
		return true;
	}
	eq = memchr(start, '=', len);
	if (!eq || eq == start) {
		rwl_report(p, opt->key.col, "option '%.*s' is not KEY=VALUE",
			   (int)len, start);
		return true;
	}
	opt->key.len = (size_t)(eq - start);
	opt->value = (struct rwl_token){ eq + 1, len - opt->key.len - 1,
					 opt->key.col + (unsigned int)opt->key.len + 1 };
	if (!opt->value.len) {
		rwl_report(p, opt->value.col, "%.*s= needs a value",
			   (int)opt->key.len, opt->key.text);
		return true;
	}
	*valid = true;
	return true;
}

/* The index of @opt's key in @names, once per list; -1 after a report. */
static int rwl_option_index(struct rwl_parser *p, const struct rwl_option *opt,
			    const char *const *names, size_t num,
			    unsigned int *seen, const char *known)
{
	const struct rwl_token *key = &opt->key;
	int idx = rwl_lookup(names, num, key->text, key->len);

	if (idx < 0) {
		rwl_report(p, key->col, "unknown option '%.*s' (%s)",
			   (int)key->len, key->text, known);
		return -1;
	}
	if (*seen & (1u << idx)) {
		rwl_report(p, key->col, "%s= given twice", names[idx]);
		return -1;
	}
	*seen |= 1u << idx;
	return idx;
}

/* Rules */

static bool rwl_parse_kind(struct rwl_parser *p, const struct rwl_token *tok,
			   enum rwlayer_rule_kind *kind)
{
	int idx = rwl_lookup(rwl_kind_names, ARRAY_SIZE(rwl_kind_names),
			     tok->text, tok->len);

	if (idx < 0) {
		rwl_report(p, tok->col, "unknown kind '%.*s' (union, empty or file)",
			   (int)tok->len, tok->text);
		return false;
	}
	*kind = (enum rwlayer_rule_kind)idx;
	return true;
}

static bool rwl_apply_rule_option(struct rwl_parser *p, enum rwl_rule_opt idx,
				  const struct rwl_token *tok, const char *text,
				  struct rwl_tab_rule *rule)
{
	switch (idx) {
	case RWL_OPT_SIZE:
		return rwl_parse_limit(p, "size", tok, text, &rwl_size_units,
				       &rule->max_bytes);
	case RWL_OPT_INODES:
		return rwl_parse_limit(p, "inodes", tok, text, &rwl_count_units,
				       &rule->max_inodes);
	case RWL_OPT_WARN:
		return rwl_parse_percent(p, tok, text, &rule->warn);
	case RWL_OPT_MODE:
		return (rule->has_mode = rwl_parse_mode(p, tok, text, &rule->mode));
	case RWL_OPT_UID:
		return (rule->has_uid = rwl_parse_owner(p, tok, text, true,
							&rule->uid));
	case RWL_OPT_GID:
		return (rule->has_gid = rwl_parse_owner(p, tok, text, false,
							&rule->gid));
	}
	return false;
}

/* mode=, uid= and gid= describe the directory an empty rule creates. */
static bool rwl_option_fits_kind(struct rwl_parser *p, enum rwl_rule_opt idx,
				 const struct rwl_option *opt,
				 enum rwlayer_rule_kind kind)
{
	if (idx < RWL_OPT_MODE || !kind || kind == RWLAYER_RULE_EMPTY)
		return true;
	rwl_report(p, opt->key.col,
		   "%s= is only for empty rules (it is the owner or mode of the directory they create)",
		   rwl_rule_opt_names[idx]);
	return false;
}

static bool rwl_parse_rule_options(struct rwl_parser *p,
				   const struct rwl_token *tok,
				   struct rwl_tab_rule *rule)
{
	struct rwl_token warn_key = { 0 };
	struct rwl_option opt;
	unsigned int seen = 0;
	bool ok = true, valid;
	size_t pos = 0;
	char *text;
	int idx;

	while (rwl_next_option(p, tok, &pos, &opt, &valid)) {
		idx = valid ? rwl_option_index(p, &opt, rwl_rule_opt_names,
					       ARRAY_SIZE(rwl_rule_opt_names),
					       &seen,
					       "size, inodes, warn, mode, uid or gid")
			    : -1;
		if (idx < 0 || !rwl_option_fits_kind(p, idx, &opt, rule->kind)) {
			ok = false;
			continue;
		}
		if (idx == RWL_OPT_WARN)
			warn_key = opt.key;
		text = rwl_expand(p, &opt.value);
		ok = text && rwl_apply_rule_option(p, idx, &opt.value, text,
						   rule) && ok;
		free(text);
	}
	if (ok && rule->warn && !rule->max_bytes && !rule->max_inodes) {
		rwl_report(p, warn_key.col,
			   "warn= needs size= or inodes= to measure against");
		ok = false;
	}
	return ok;
}

/* Duplicates and rules that would have to live inside a file. */
static bool rwl_check_against_rules(struct rwl_parser *p,
				    const struct rwl_tab_rule *rule)
{
	const struct rwl_tab_rule *old;
	size_t i;

	for (i = 0; i < p->tab->num_rules; i++) {
		old = &p->tab->rules[i];
		if (!strcmp(old->path, rule->path)) {
			rwl_report(p, rule->column,
				   "duplicate rule for %s (first at %s:%u)",
				   rule->path, old->file, old->line);
			return false;
		}
		if (old->kind == RWLAYER_RULE_FILE &&
		    rwl_path_below(rule->path, old->path)) {
			rwl_report(p, rule->column,
				   "%s is below the file rule for %s (at %s:%u); a file has nothing below it",
				   rule->path, old->path, old->file, old->line);
			return false;
		}
		if (rule->kind == RWLAYER_RULE_FILE &&
		    rwl_path_below(old->path, rule->path)) {
			rwl_report(p, rule->column,
				   "file rule for %s would have the rule for %s below it (at %s:%u); a file has nothing below it",
				   rule->path, old->path, old->file, old->line);
			return false;
		}
	}
	return true;
}

static bool rwl_add_rule(struct rwl_parser *p, struct rwl_tab_rule *rule)
{
	struct rwl_tab *tab = p->tab;
	struct rwl_tab_rule *rules;
	size_t cap;

	if (tab->num_rules == RWL_TAB_MAX_RULES) {
		if (!p->too_many_rules)
			rwl_report(p, rule->column,
				   "too many rules (a mount takes at most %d)",
				   RWL_TAB_MAX_RULES);
		p->too_many_rules = true;
		return false;
	}
	rule->file = strdup(p->name);
	if (!rule->file)
		goto err_oom;
	if (tab->num_rules == p->rules_cap) {
		cap = p->rules_cap ? p->rules_cap * 2 : 16;
		rules = realloc(tab->rules, cap * sizeof(*rules));
		if (!rules)
			goto err_oom;
		tab->rules = rules;
		p->rules_cap = cap;
	}
	tab->rules[tab->num_rules++] = *rule;
	return true;

err_oom:
	free(rule->file);
	rwl_report(p, rule->column, "out of memory");
	return false;
}

/* PATH KIND [OPTIONS] */
static void rwl_parse_rule(struct rwl_parser *p, const struct rwl_token *cols,
			   size_t num_cols)
{
	struct rwl_tab_rule rule = { .line = p->line, .column = cols[0].col };
	bool ok;

	rule.path = rwl_expand(p, &cols[0]);
	ok = rule.path && rwl_check_path(p, &cols[0], rule.path, "rule path");
	if (num_cols < 2) {
		rwl_report(p, cols[0].col + (unsigned int)cols[0].len,
			   "missing kind after the path (union, empty or file)");
		ok = false;
	} else if (!rwl_parse_kind(p, &cols[1], &rule.kind)) {
		ok = false;
	}
	if (num_cols >= 3 && !rwl_parse_rule_options(p, &cols[2], &rule))
		ok = false;
	if (num_cols > 3) {
		rwl_report(p, cols[3].col,
			   "extra column '%.*s' (PATH KIND OPTIONS, with no spaces between options)",
			   (int)cols[3].len, cols[3].text);
		ok = false;
	}
	if (ok && rwl_check_against_rules(p, &rule) && rwl_add_rule(p, &rule))
		return;
	free(rule.path);
}

/* Directives */

/* At least one and at most @max_args columns after the directive. */
static bool rwl_check_arity(struct rwl_parser *p, const struct rwl_token *cols,
			    size_t num_cols, size_t max_args, const char *usage)
{
	if (num_cols < 2) {
		rwl_report(p, cols[0].col + (unsigned int)cols[0].len,
			   "%.*s needs %s", (int)cols[0].len, cols[0].text,
			   usage);
		return false;
	}
	if (num_cols > max_args + 1) {
		rwl_report(p, cols[max_args + 1].col,
			   "extra column '%.*s' (%.*s takes %s)",
			   (int)cols[max_args + 1].len, cols[max_args + 1].text,
			   (int)cols[0].len, cols[0].text, usage);
		return false;
	}
	return true;
}

/* For directives that may appear once in all files together. */
static bool rwl_claim_once(struct rwl_parser *p, const struct rwl_token *dir,
			   struct rwl_origin *origin)
{
	if (origin->file) {
		rwl_report(p, dir->col, "%.*s given twice (first at %s:%u)",
			   (int)dir->len, dir->text, origin->file,
			   origin->line);
		return false;
	}
	origin->file = strdup(p->name);
	origin->line = p->line;
	if (!origin->file) {
		rwl_report(p, dir->col, "out of memory");
		return false;
	}
	return true;
}

/* An absolute directory argument, expanded; NULL after a report. */
static char *rwl_path_arg(struct rwl_parser *p, const struct rwl_token *tok,
			  const char *what)
{
	char *path = rwl_expand(p, tok);

	if (path && !rwl_check_path(p, tok, path, what)) {
		free(path);
		return NULL;
	}
	return path;
}

static void rwl_parse_mount(struct rwl_parser *p, const struct rwl_token *cols,
			    size_t num_cols)
{
	char *target;

	if (!rwl_check_arity(p, cols, num_cols, 1, "a directory") ||
	    !rwl_claim_once(p, &cols[0], &p->mount))
		return;
	target = rwl_path_arg(p, &cols[1], "@mount directory");
	if (target)
		p->tab->mount.target = target;
}

static void rwl_parse_lower(struct rwl_parser *p, const struct rwl_token *cols,
			    size_t num_cols)
{
	struct rwl_tab_mount *mount = &p->tab->mount;
	char **lowers, *dir;

	if (!rwl_check_arity(p, cols, num_cols, 1, "a directory"))
		return;
	if (mount->num_lowers == RWL_TAB_MAX_LOWERS) {
		rwl_report(p, cols[0].col,
			   "too many @lower directories (at most %d: the module stacks 32 lowers, the root is one)",
			   RWL_TAB_MAX_LOWERS);
		return;
	}
	dir = rwl_path_arg(p, &cols[1], "@lower directory");
	if (!dir)
		return;
	lowers = realloc(mount->lowers, (mount->num_lowers + 1) * sizeof(*lowers));
	if (!lowers) {
		free(dir);
		rwl_report(p, cols[0].col, "out of memory");
		return;
	}
	mount->lowers = lowers;
	mount->lowers[mount->num_lowers++] = dir;
}

/* A name mount(2) could know: letters, digits, '.', '_', '-'. */
static bool rwl_parse_fstype(struct rwl_parser *p, const struct rwl_token *tok,
			     const char *text, char **out)
{
	static const char fstype_chars[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	if (text[strspn(text, fstype_chars)]) {
		rwl_report(p, tok->col, "fstype=%s is not a filesystem type name",
			   text);
		return false;
	}
	*out = strdup(text);
	if (!*out)
		rwl_report(p, tok->col, "out of memory");
	return *out;
}

static void rwl_parse_upper_options(struct rwl_parser *p,
				    const struct rwl_token *tok,
				    struct rwl_tab_mount *mount)
{
	bool tmpfs = !strcmp(mount->upper, "tmpfs"), valid;
	struct rwl_option opt;
	unsigned int seen = 0;
	size_t pos = 0;
	char *text;
	int idx;

	while (rwl_next_option(p, tok, &pos, &opt, &valid)) {
		idx = valid ? rwl_option_index(p, &opt, rwl_upper_opt_names,
					       ARRAY_SIZE(rwl_upper_opt_names),
					       &seen, "size for tmpfs, fstype for a device")
			    : -1;
		if (idx < 0)
			continue;
		if (tmpfs != (idx == RWL_UPPER_SIZE)) {
			rwl_report(p, opt.key.col, "%s= is only for %s upper",
				   rwl_upper_opt_names[idx],
				   tmpfs ? "a device" : "a tmpfs");
			continue;
		}
		text = rwl_expand(p, &opt.value);
		if (!text)
			continue;
		if (idx == RWL_UPPER_SIZE)
			rwl_parse_limit(p, "size", &opt.value, text,
					&rwl_size_units, &mount->upper_size);
		else
			rwl_parse_fstype(p, &opt.value, text,
					 &mount->upper_fstype);
		free(text);
	}
}

/* @upper tmpfs [size=BYTES] or @upper DEVICE [fstype=TYPE] */
static void rwl_parse_upper(struct rwl_parser *p, const struct rwl_token *cols,
			    size_t num_cols)
{
	struct rwl_tab_mount *mount = &p->tab->mount;

	if (!rwl_check_arity(p, cols, num_cols, 2,
			     "tmpfs [size=BYTES] or DEVICE [fstype=TYPE]") ||
	    !rwl_claim_once(p, &cols[0], &p->upper))
		return;
	if (cols[1].len == 5 && !memcmp(cols[1].text, "tmpfs", 5)) {
		mount->upper = strdup("tmpfs");
		if (!mount->upper)
			rwl_report(p, cols[1].col, "out of memory");
	} else {
		mount->upper = rwl_path_arg(p, &cols[1], "@upper device");
	}
	if (mount->upper && num_cols == 3)
		rwl_parse_upper_options(p, &cols[2], mount);
}

static void rwl_parse_directive(struct rwl_parser *p,
				const struct rwl_token *cols, size_t num_cols)
{
	switch (rwl_lookup(rwl_directive_names, ARRAY_SIZE(rwl_directive_names),
			   cols[0].text, cols[0].len)) {
	case RWL_DIR_MOUNT:
		rwl_parse_mount(p, cols, num_cols);
		break;
	case RWL_DIR_LOWER:
		rwl_parse_lower(p, cols, num_cols);
		break;
	case RWL_DIR_UPPER:
		rwl_parse_upper(p, cols, num_cols);
		break;
	default:
		rwl_report(p, cols[0].col,
			   "unknown directive '%.*s' (@mount, @lower or @upper)",
			   (int)cols[0].len, cols[0].text);
	}
}

/* Lines */

/* NUL and control bytes other than tab make a line unreadable. */
static bool rwl_check_bytes(struct rwl_parser *p, const char *line, size_t len)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)line[i];
		if (!c) {
			rwl_report(p, (unsigned int)i + 1, "NUL byte");
			return false;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			rwl_report(p, (unsigned int)i + 1,
				   "control character 0x%02x (columns are separated by spaces and tabs)",
				   c);
			return false;
		}
	}
	return true;
}

/*
 * Splits at spaces and tabs; a '#' that starts a column starts a comment.
 * Stores at most @max columns and returns how many there are.
 */
static size_t rwl_split_columns(const char *line, size_t len,
				struct rwl_token *cols, size_t max)
{
	size_t i = 0, num = 0, start;

	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			return num;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (num < max)
			cols[num] = (struct rwl_token){ line + start, i - start,
							(unsigned int)start + 1 };
		num++;
	}
}

static void rwl_parse_line(struct rwl_parser *p, const char *line, size_t len)
{
	struct rwl_token cols[4];
	size_t num_cols;

	if (len && line[len - 1] == '\r')
		len--;
	if (len > RWL_TAB_MAX_LINE) {
		rwl_report(p, RWL_TAB_MAX_LINE + 1, "line longer than %d bytes",
			   RWL_TAB_MAX_LINE);
		return;
	}
	if (!rwl_check_bytes(p, line, len))
		return;
	num_cols = rwl_split_columns(line, len, cols, ARRAY_SIZE(cols));
	if (!num_cols)
		return;
	if (cols[0].text[0] == '@')
		rwl_parse_directive(p, cols, num_cols);
	else
		rwl_parse_rule(p, cols, num_cols);
}

static void rwl_parse_text(struct rwl_parser *p, const char *name,
			   const char *buf, size_t len)
{
	const char *line = buf, *end = buf + len, *nl;

	p->name = name;
	p->line = 0;
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		p->line++;
		rwl_parse_line(p, line, (size_t)((nl ? nl : end) - line));
		line = nl ? nl + 1 : end;
	}
}

/* The table as a whole */

static void rwl_parser_init(struct rwl_parser *p,
			    const struct rwl_tab_vars *vars,
			    struct rwl_tab *tab, struct rwl_tab_diag *diag)
{
	*p = (struct rwl_parser){ .vars = vars, .tab = tab, .diag = diag };
	*tab = (struct rwl_tab){ 0 };
	*diag = (struct rwl_tab_diag){ 0 };
}

/* What only the whole table can tell: each rule against @mount. */
static void rwl_check_rules_in_mount(struct rwl_parser *p)
{
	const char *target = p->tab->mount.target ? p->tab->mount.target : "/";
	const struct rwl_tab_rule *rule;
	size_t i;

	for (i = 0; i < p->tab->num_rules; i++) {
		rule = &p->tab->rules[i];
		if (!rwl_path_within(rule->path, target))
			rwl_report_at(p, rule->file, rule->line, rule->column,
				      "%s is not inside the @mount directory %s",
				      rule->path, target);
		else if (!strcmp(rule->path, target) &&
			 rule->kind != RWLAYER_RULE_UNION)
			rwl_report_at(p, rule->file, rule->line, rule->column,
				      "the mount's root %s can only have a union rule",
				      rule->path);
	}
}

static bool rwl_set_defaults(struct rwl_tab_mount *mount)
{
	if (!mount->target)
		mount->target = strdup("/");
	if (!mount->upper)
		mount->upper = strdup("tmpfs");
	return mount->target && mount->upper;
}

static int rwl_rule_cmp(const void *a, const void *b)
{
	const struct rwl_tab_rule *ra = a, *rb = b;

	return strcmp(ra->path, rb->path);
}

/* All or nothing: the table, or no table and the messages. */
static int rwl_parser_finish(struct rwl_parser *p, const char *name)
{
	rwl_check_rules_in_mount(p);
	if (!p->failed && !rwl_set_defaults(&p->tab->mount))
		rwl_report_file(p, name, "cannot keep the table", ENOMEM);
	free(p->mount.file);
	free(p->upper.file);
	if (p->failed) {
		rwl_tab_free(p->tab);
		return -1;
	}
	if (p->tab->num_rules)
		qsort(p->tab->rules, p->tab->num_rules, sizeof(*p->tab->rules),
		      rwl_rule_cmp);
	return 0;
}

int rwl_tab_parse_buf(const char *name, const char *buf, size_t len,
		      const struct rwl_tab_vars *vars, struct rwl_tab *tab,
		      struct rwl_tab_diag *diag)
{
	struct rwl_parser p;

	rwl_parser_init(&p, vars, tab, diag);
	rwl_parse_text(&p, name, buf, len);
	return rwl_parser_finish(&p, name);
}

/* Files */

/* The whole of @path, at most RWL_TAB_MAX_FILE bytes; -errno on failure. */
static int rwl_read_file(const char *path, char **out, size_t *out_len)
{
	size_t len = 0, cap = 4096;
	char *buf, *bigger;
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = -EISDIR;
	if (fstat(fd, &st) || S_ISDIR(st.st_mode))
		goto out_close;
	err = -ENOMEM;
	buf = malloc(cap);
	if (!buf)
		goto out_close;
	for (;;) {
		err = -EFBIG;
		if (len > RWL_TAB_MAX_FILE)
			goto out_free;
		err = -ENOMEM;
		if (len == cap) {
			cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger)
				goto out_free;
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		err = -errno;
		if (n < 0)
			goto out_free;
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*out_len = len;
	return 0;

out_free:
	free(buf);
out_close:
	close(fd);
	return err;
}

/* Reads and parses one file; false when it does not exist. */
static bool rwl_parse_file(struct rwl_parser *p, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = rwl_read_file(path, &buf, &len);
	if (err == -ENOENT)
		return false;
	if (err == -EFBIG)
		rwl_report_file(p, path, "cannot read more than 1 MiB", EFBIG);
	else if (err)
		rwl_report_file(p, path, "cannot read", -err);
	if (err)
		return true;
	rwl_parse_text(p, path, buf, len);
	free(buf);
	return true;
}

static int rwl_strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool rwl_is_conf(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".conf");
}

/* The *.conf names in @dir, sorted; -errno on failure. */
static int rwl_list_conf(const char *dir, char ***out, size_t *out_num)
{
	char **names = NULL, **bigger;
	size_t num = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		if (!rwl_is_conf(de->d_name))
			continue;
		bigger = realloc(names, (num + 1) * sizeof(*names));
		if (!bigger || !(bigger[num] = strdup(de->d_name))) {
			names = bigger ? bigger : names;
			err = -ENOMEM;
			break;
		}
		names = bigger;
		num++;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		while (num)
			free(names[--num]);
		free(names);
		return err;
	}
	if (num)
		qsort(names, num, sizeof(*names), rwl_strcmp_ptr);
	*out = names;
	*out_num = num;
	return 0;
}

/* Every @dir/ *.conf in name order; false when @dir does not exist. */
static bool rwl_parse_conf_dir(struct rwl_parser *p, const char *dir)
{
	char **names = NULL, *path;
	size_t num = 0, i;
	int err;

	err = rwl_list_conf(dir, &names, &num);
	if (err == -ENOENT)
		return false;
	if (err) {
		rwl_report_file(p, dir, "cannot list", -err);
		return true;
	}
	for (i = 0; i < num; i++) {
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			rwl_report_file(p, dir, "cannot list", ENOMEM);
			break;
		}
		rwl_parse_file(p, path);
		free(path);
	}
	for (i = 0; i < num; i++)
		free(names[i]);
	free(names);
	return true;
}

int rwl_tab_load(const char *path, const struct rwl_tab_vars *vars,
		 struct rwl_tab *tab, struct rwl_tab_diag *diag)
{
	struct rwl_parser p;
	bool have_file, have_dir;
	char *dir;

	rwl_parser_init(&p, vars, tab, diag);
	have_file = rwl_parse_file(&p, path);
	if (asprintf(&dir, "%s.d", path) < 0) {
		rwl_report_file(&p, path, "cannot read", ENOMEM);
		return rwl_parser_finish(&p, path);
	}
	have_dir = rwl_parse_conf_dir(&p, dir);
	free(dir);
	if (!have_file && !have_dir)
		rwl_report_file(&p, path, "cannot read (nor a .d directory)",
				ENOENT);
	return rwl_parser_finish(&p, path);
}

static int rwl_rule_path_cmp(const void *key, const void *elem)
{
	const struct rwl_tab_rule *rule = elem;

	return strcmp(key, rule->path);
}

const struct rwl_tab_rule *rwl_tab_find(const struct rwl_tab *tab,
					const char *path)
{
	if (!tab->num_rules)
		return NULL;
	return bsearch(path, tab->rules, tab->num_rules, sizeof(*tab->rules),
		       rwl_rule_path_cmp);
}

const char *rwl_tab_mount_path(const struct rwl_tab *tab,
			       const struct rwl_tab_rule *rule)
{
	size_t len = strlen(tab->mount.target);

	if (len == 1)
		return rule->path;
	return rule->path[len] ? rule->path + len : "/";
}

void rwl_tab_free(struct rwl_tab *tab)
{
	size_t i;

	for (i = 0; i < tab->num_rules; i++) {
		free(tab->rules[i].path);
		free(tab->rules[i].file);
	}
	free(tab->rules);
	for (i = 0; i < tab->mount.num_lowers; i++)
		free(tab->mount.lowers[i]);
	free(tab->mount.lowers);
	free(tab->mount.target);
	free(tab->mount.upper);
	free(tab->mount.upper_fstype);
	*tab = (struct rwl_tab){ 0 };
}

void rwl_tab_diag_free(struct rwl_tab_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->num; i++)
		free(diag->msgs[i]);
	free(diag->msgs);
	*diag = (struct rwl_tab_diag){ 0 };
}
