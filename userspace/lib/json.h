/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer: objects, arrays, strings (escaped per
 * RFC 8259, invalid UTF-8 replaced by U+FFFD), unsigned and signed
 * integers, booleans, null.  Compact by default; pretty indents by four.
 */
#ifndef RWL_JSON_H
#define RWL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Nesting deeper than this is a programming error; it sets failed. */
#define RWL_JSON_MAX_DEPTH 32

struct rwl_json {
	FILE *out;
	bool pretty;
	bool failed;			/* misuse: unbalanced or too deep */
	unsigned int depth;
	bool after_key;			/* a key was written, value next */
	bool has_items[RWL_JSON_MAX_DEPTH];	/* per open container */
	bool in_object[RWL_JSON_MAX_DEPTH];	/* object, not array */
};

void rwl_json_init(struct rwl_json *j, FILE *out, bool pretty);

void rwl_json_obj_begin(struct rwl_json *j);
void rwl_json_obj_end(struct rwl_json *j);
void rwl_json_arr_begin(struct rwl_json *j);
void rwl_json_arr_end(struct rwl_json *j);

/* The key of the next member (inside an object). */
void rwl_json_key(struct rwl_json *j, const char *key);

void rwl_json_str(struct rwl_json *j, const char *s);	/* NULL: null */
void rwl_json_u64(struct rwl_json *j, uint64_t v);
void rwl_json_i64(struct rwl_json *j, int64_t v);
void rwl_json_bool(struct rwl_json *j, bool v);
void rwl_json_null(struct rwl_json *j);

/* key + value in one call. */
void rwl_json_kv_str(struct rwl_json *j, const char *key, const char *s);
void rwl_json_kv_u64(struct rwl_json *j, const char *key, uint64_t v);
void rwl_json_kv_bool(struct rwl_json *j, const char *key, bool v);

/*
 * End a top-level value with a newline (one JSON value per line for
 * streams).  Returns 0, or -1 when the writer was misused or @out has
 * an error.
 */
int rwl_json_finish(struct rwl_json *j);

#endif /* RWL_JSON_H */
