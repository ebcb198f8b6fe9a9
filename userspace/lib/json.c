// SPDX-License-Identifier: GPL-2.0
/*
 * A streaming JSON writer (RFC 8259).  Strings are escaped as the RFC
 * requires ('"', '\\' and control characters); bytes that are not valid
 * UTF-8 (a path may hold any bytes) become U+FFFD so the output always
 * parses.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void rwl_json_init(struct rwl_json *j, FILE *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
}

static void rwl_json_newline(struct rwl_json *j)
{
	unsigned int i;

	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("    ", j->out);
}

/* Separator and indentation before a value or a key. */
static void rwl_json_before_item(struct rwl_json *j, bool is_key)
{
	if (j->after_key) {
		if (is_key)
			j->failed = true;
		j->after_key = false;
		return;
	}
	if (!j->depth)
		return;
	/* inside an object every item needs its key first */
	if (j->in_object[j->depth - 1] != is_key)
		j->failed = true;
	if (j->has_items[j->depth - 1])
		fputc(',', j->out);
	j->has_items[j->depth - 1] = true;
	rwl_json_newline(j);
}

static void rwl_json_begin(struct rwl_json *j, bool object)
{
	rwl_json_before_item(j, false);
	fputc(object ? '{' : '[', j->out);
	if (j->depth == RWL_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	j->has_items[j->depth] = false;
	j->in_object[j->depth] = object;
	j->depth++;
}

static void rwl_json_end(struct rwl_json *j, bool object)
{
	if (!j->depth || j->in_object[j->depth - 1] != object || j->after_key) {
		j->failed = true;
		return;
	}
	j->depth--;
	if (j->has_items[j->depth])
		rwl_json_newline(j);
	fputc(object ? '}' : ']', j->out);
}

void rwl_json_obj_begin(struct rwl_json *j)
{
	rwl_json_begin(j, true);
}

void rwl_json_obj_end(struct rwl_json *j)
{
	rwl_json_end(j, true);
}

void rwl_json_arr_begin(struct rwl_json *j)
{
	rwl_json_begin(j, false);
}

void rwl_json_arr_end(struct rwl_json *j)
{
	rwl_json_end(j, false);
}

/*
 * Length of the valid UTF-8 sequence at @s (1..4), or 0 when it is not
 * one: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t rwl_json_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void rwl_json_write_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		size_t len;

		switch (*s) {
		case '"': fputs("\\\"", out); s++; continue;
		case '\\': fputs("\\\\", out); s++; continue;
		case '\b': fputs("\\b", out); s++; continue;
		case '\f': fputs("\\f", out); s++; continue;
		case '\n': fputs("\\n", out); s++; continue;
		case '\r': fputs("\\r", out); s++; continue;
		case '\t': fputs("\\t", out); s++; continue;
		}
		if (*s < 0x20) {
			fprintf(out, "\\u%04x", *s);
			s++;
			continue;
		}
		len = rwl_json_utf8_len(s);
		if (!len) {
			fputs("\xef\xbf\xbd", out);
			s++;
			continue;
		}
		fwrite(s, 1, len, out);
		s += len;
	}
	fputc('"', out);
}

void rwl_json_key(struct rwl_json *j, const char *key)
{
	rwl_json_before_item(j, true);
	rwl_json_write_string(j->out, key);
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = true;
}

void rwl_json_str(struct rwl_json *j, const char *s)
{
	if (!s) {
		rwl_json_null(j);
		return;
	}
	rwl_json_before_item(j, false);
	rwl_json_write_string(j->out, s);
}

void rwl_json_u64(struct rwl_json *j, uint64_t v)
{
	rwl_json_before_item(j, false);
	fprintf(j->out, "%" PRIu64, v);
}

void rwl_json_i64(struct rwl_json *j, int64_t v)
{
	rwl_json_before_item(j, false);
	fprintf(j->out, "%" PRId64, v);
}

void rwl_json_bool(struct rwl_json *j, bool v)
{
	rwl_json_before_item(j, false);
	fputs(v ? "true" : "false", j->out);
}

void rwl_json_null(struct rwl_json *j)
{
	rwl_json_before_item(j, false);
	fputs("null", j->out);
}

void rwl_json_kv_str(struct rwl_json *j, const char *key, const char *s)
{
	rwl_json_key(j, key);
	rwl_json_str(j, s);
}

void rwl_json_kv_u64(struct rwl_json *j, const char *key, uint64_t v)
{
	rwl_json_key(j, key);
	rwl_json_u64(j, v);
}

void rwl_json_kv_bool(struct rwl_json *j, const char *key, bool v)
{
	rwl_json_key(j, key);
	rwl_json_bool(j, v);
}

int rwl_json_finish(struct rwl_json *j)
{
	if (j->depth || j->after_key)
		j->failed = true;
	fputc('\n', j->out);
	if (fflush(j->out) || ferror(j->out))
		return -1;
	return j->failed ? -1 : 0;
}
