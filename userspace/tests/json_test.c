// SPDX-License-Identifier: GPL-2.0
/*
 * lib/json.c: the exact bytes written, string escaping, misuse detection.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

/* A writer on a memory stream; take() closes it and returns the text. */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
	struct rwl_json j;
};

static void mem_open(struct mem *m, bool pretty)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	rwl_json_init(&m->j, m->f, pretty);
}

static char *mem_take(struct mem *m, int *finish)
{
	*finish = rwl_json_finish(&m->j);
	fclose(m->f);
	return m->buf;
}

static void expect(struct mem *m, const char *want, int want_finish,
		   const char *what)
{
	int finish;
	char *got = mem_take(m, &finish);

	if (!ok(!strcmp(got, want) && finish == want_finish, "%s", what))
		printf("#   got \"%s\" (finish %d), want \"%s\" (%d)\n", got,
		       finish, want, want_finish);
	free(got);
}

static void test_compact(void)
{
	struct mem m;

	mem_open(&m, false);
	rwl_json_obj_begin(&m.j);
	rwl_json_kv_str(&m.j, "path", "/var");
	rwl_json_kv_u64(&m.j, "max", UINT64_MAX);
	rwl_json_key(&m.j, "neg");
	rwl_json_i64(&m.j, INT64_MIN);
	rwl_json_kv_bool(&m.j, "ro", false);
	rwl_json_kv_str(&m.j, "none", NULL);
	rwl_json_key(&m.j, "list");
	rwl_json_arr_begin(&m.j);
	rwl_json_u64(&m.j, 1);
	rwl_json_arr_begin(&m.j);
	rwl_json_arr_end(&m.j);
	rwl_json_obj_begin(&m.j);
	rwl_json_obj_end(&m.j);
	rwl_json_arr_end(&m.j);
	rwl_json_obj_end(&m.j);
	expect(&m, "{\"path\":\"/var\",\"max\":18446744073709551615,"
	       "\"neg\":-9223372036854775808,\"ro\":false,\"none\":null,"
	       "\"list\":[1,[],{}]}\n", 0, "compact object with nested values");
}

static void test_pretty(void)
{
	struct mem m;

	mem_open(&m, true);
	rwl_json_obj_begin(&m.j);
	rwl_json_key(&m.j, "a");
	rwl_json_arr_begin(&m.j);
	rwl_json_u64(&m.j, 1);
	rwl_json_u64(&m.j, 2);
	rwl_json_arr_end(&m.j);
	rwl_json_key(&m.j, "e");
	rwl_json_arr_begin(&m.j);
	rwl_json_arr_end(&m.j);
	rwl_json_obj_end(&m.j);
	expect(&m, "{\n    \"a\": [\n        1,\n        2\n    ],\n"
	       "    \"e\": []\n}\n", 0, "pretty output indents by four");
}

static void string_case(const char *in, const char *want, const char *what)
{
	struct mem m;

	mem_open(&m, false);
	rwl_json_str(&m.j, in);
	expect(&m, want, 0, what);
}

static void test_strings(void)
{
	string_case("a\"b\\c", "\"a\\\"b\\\\c\"\n", "quote and backslash escaped");
	string_case("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"\n", "short escapes");
	string_case("\x01\x1f", "\"\\u0001\\u001f\"\n", "other controls as \\u00XX");
	string_case("\x7f/", "\"\x7f/\"\n", "DEL and slash as they are");
	string_case("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n",
		    "valid UTF-8 of 2, 3 and 4 bytes kept");
	string_case("a\xff" "b", "\"a\xef\xbf\xbd" "b\"\n",
		    "invalid byte becomes U+FFFD");
	string_case("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"\n",
		    "overlong form rejected");
	string_case("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\n",
		    "UTF-16 surrogate rejected");
	string_case("\xf4\x90\x80\x80",
		    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\n",
		    "above U+10FFFF rejected");
	string_case("\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"\n",
		    "sequence cut by the end of the string");
	string_case("", "\"\"\n", "empty string");
}

static void test_misuse(void)
{
	struct mem m;
	int i;

	mem_open(&m, false);
	rwl_json_obj_begin(&m.j);
	expect(&m, "{\n", -1, "unclosed object fails finish");

	mem_open(&m, false);
	rwl_json_arr_begin(&m.j);
	rwl_json_key(&m.j, "k");
	rwl_json_u64(&m.j, 1);
	rwl_json_arr_end(&m.j);
	expect(&m, "[\"k\":1]\n", -1, "key inside an array fails finish");

	mem_open(&m, false);
	rwl_json_obj_begin(&m.j);
	rwl_json_u64(&m.j, 1);
	rwl_json_obj_end(&m.j);
	expect(&m, "{1}\n", -1, "value without key in an object fails");

	mem_open(&m, false);
	rwl_json_obj_begin(&m.j);
	rwl_json_arr_end(&m.j);
	expect(&m, "{\n", -1, "mismatched close fails");

	mem_open(&m, false);
	for (i = 0; i < RWL_JSON_MAX_DEPTH + 1; i++)
		rwl_json_arr_begin(&m.j);
	for (i = 0; i < RWL_JSON_MAX_DEPTH; i++)
		rwl_json_arr_end(&m.j);
	{
		int finish;
		char *got = mem_take(&m, &finish);

		ok(finish == -1, "nesting past RWL_JSON_MAX_DEPTH fails");
		free(got);
	}
}

int main(void)
{
	test_compact();
	test_pretty();
	test_strings();
	test_misuse();
	return tap_done();
}
