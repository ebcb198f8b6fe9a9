// SPDX-License-Identifier: GPL-2.0
/*
 * lib/fmt.c: sizes and counts both ways.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fmt_case {
	uint64_t value;
	const char *text;
};

static void test_fmt(const char *what, char *(*fn)(char *, uint64_t),
		     const struct fmt_case *cases, size_t num)
{
	char buf[RWL_FMT_LEN];
	size_t i;

	for (i = 0; i < num; i++) {
		fn(buf, cases[i].value);
		ok(!strcmp(buf, cases[i].text), "%s(%llu) = \"%s\" (got \"%s\")",
		   what, (unsigned long long)cases[i].value, cases[i].text, buf);
	}
}

static void test_size(void)
{
	static const struct fmt_case cases[] = {
		{ 0, "0" },
		{ 1023, "1023" },
		{ 1024, "1K" },
		{ 1536, "1.5K" },
		{ 2047, "1.9K" },		/* rounded down, never up */
		{ 12 * 1048576ULL + 3 * 104858ULL + 100, "12.3M" },
		{ 1048576ULL + 3 * 104858ULL + 100, "1.3M" },
		{ 128 * 1048576ULL, "128M" },
		{ 128 * 1048576ULL - 1, "127M" },
		{ 100 * 1048576ULL - 1, "99.9M" },
		{ 150 * 1048576ULL + 1, "150M" },
		{ 2ULL << 40, "2T" },
		{ UINT64_MAX, "15.9E" },
	};

	test_fmt("rwl_fmt_size", rwl_fmt_size, cases, ARRAY_SIZE(cases));
}

static void test_count(void)
{
	static const struct fmt_case cases[] = {
		{ 999, "999" },
		{ 1000, "1k" },
		{ 1500, "1.5k" },
		{ 20000, "20k" },
		{ 20999, "20.9k" },
		{ 999999, "999k" },
		{ 3200000, "3.2m" },
	};

	test_fmt("rwl_fmt_count", rwl_fmt_count, cases, ARRAY_SIZE(cases));
}

static void test_exact(void)
{
	static const struct fmt_case sizes[] = {
		{ 0, "0" },
		{ 1000, "1000" },
		{ 1536 * 1024ULL, "1536K" },
		{ 128 * 1048576ULL, "128M" },
		{ 1ULL << 50, "1024T" },	/* no unit past T: parsable */
		{ 128 * 1048576ULL + 1, "134217729" },
	};
	static const struct fmt_case counts[] = {
		{ 50000, "50k" },
		{ 50001, "50001" },
		{ 5000000000ULL, "5000m" },
	};

	test_fmt("rwl_fmt_size_exact", rwl_fmt_size_exact, sizes,
		 ARRAY_SIZE(sizes));
	test_fmt("rwl_fmt_count_exact", rwl_fmt_count_exact, counts,
		 ARRAY_SIZE(counts));
}

struct parse_case {
	const char *text;
	int err;
	uint64_t value;
};

static void test_parse(const char *what, int (*fn)(const char *, uint64_t *),
		       const struct parse_case *cases, size_t num)
{
	size_t i;

	for (i = 0; i < num; i++) {
		uint64_t v = 12345;
		int err = fn(cases[i].text, &v);

		if (cases[i].err)
			ok(err == cases[i].err && v == 12345,
			   "%s(\"%s\") fails with %s (got %d)", what,
			   cases[i].text, strerror(-cases[i].err), err);
		else
			ok(!err && v == cases[i].value,
			   "%s(\"%s\") = %llu (got %d, %llu)", what, cases[i].text,
			   (unsigned long long)cases[i].value, err,
			   (unsigned long long)v);
	}
}

static void test_parse_size(void)
{
	static const struct parse_case cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "128M", 0, 128 * 1048576ULL },
		{ "1g", 0, 1ULL << 30 },
		{ "2T", 0, 2ULL << 40 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },	/* 2^64 */
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "12X", -EINVAL, 0 },
		{ "1MB", -EINVAL, 0 },
		{ "1.5M", -EINVAL, 0 },
		{ "1E", -EINVAL, 0 },
	};

	test_parse("rwl_parse_size", rwl_parse_size, cases, ARRAY_SIZE(cases));
}

static void test_parse_count(void)
{
	static const struct parse_case cases[] = {
		{ "50k", 0, 50000 },
		{ "2m", 0, 2000000 },
		{ "7", 0, 7 },
		{ "50K", -EINVAL, 0 },		/* K is 1024: a size, not a count */
		{ "1g", -EINVAL, 0 },
		{ "k", -EINVAL, 0 },
	};

	test_parse("rwl_parse_count", rwl_parse_count, cases, ARRAY_SIZE(cases));
}

static void test_parse_percent(void)
{
	static const struct {
		const char *text;
		int err;
		unsigned int value;
	} cases[] = {
		{ "80%", 0, 80 }, { "80", 0, 80 }, { "0", 0, 0 }, { "100%", 0, 100 },
		{ "101", -ERANGE, 0 }, { "%", -EINVAL, 0 }, { "80%%", -EINVAL, 0 },
		{ "", -EINVAL, 0 }, { "8a", -EINVAL, 0 }, { "99999999999", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int v = 777;
		int err = rwl_parse_percent(cases[i].text, &v);

		ok(err == cases[i].err && v == (err ? 777 : cases[i].value),
		   "rwl_parse_percent(\"%s\") = %d, %u", cases[i].text, err, v);
	}
}

int main(void)
{
	test_size();
	test_count();
	test_exact();
	test_parse_size();
	test_parse_count();
	test_parse_percent();
	return tap_done();
}
