// SPDX-License-Identifier: GPL-2.0
/*
 * Human-readable sizes and counts, and the parsers of the same notation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

/*
 * @v in units of @base^k, with the unit letters @units (k = 1..): see
 * rwl_fmt_size.  Division is by repeated @base so no power overflows.
 */
static char *rwl_fmt_scaled(char buf[RWL_FMT_LEN], uint64_t v, uint64_t base,
			    const char *units)
{
	uint64_t whole = v, rem = 0, scale = 1;
	size_t unit = 0;

	if (v < base) {
		snprintf(buf, RWL_FMT_LEN, "%" PRIu64, v);
		return buf;
	}
	while (whole >= base && units[unit]) {
		whole /= base;
		scale *= base;
		unit++;
	}
	rem = v - whole * scale;
	if (!rem || whole >= 100)
		snprintf(buf, RWL_FMT_LEN, "%" PRIu64 "%c", whole, units[unit - 1]);
	else	/* rem < scale <= base^6 < 2^61, so rem * 10 fits */
		snprintf(buf, RWL_FMT_LEN, "%" PRIu64 ".%" PRIu64 "%c", whole,
			 rem * 10 / scale, units[unit - 1]);
	return buf;
}

char *rwl_fmt_size(char buf[RWL_FMT_LEN], uint64_t bytes)
{
	return rwl_fmt_scaled(buf, bytes, 1024, "KMGTPE");
}

char *rwl_fmt_count(char buf[RWL_FMT_LEN], uint64_t n)
{
	return rwl_fmt_scaled(buf, n, 1000, "kmgtpe");
}

/* The largest unit of @units (powers of @base) that divides @v exactly. */
static char *rwl_fmt_exact(char buf[RWL_FMT_LEN], uint64_t v, uint64_t base,
			   const char *units)
{
	size_t unit = 0;

	while (v && v % base == 0 && units[unit]) {
		v /= base;
		unit++;
	}
	if (unit)
		snprintf(buf, RWL_FMT_LEN, "%" PRIu64 "%c", v, units[unit - 1]);
	else
		snprintf(buf, RWL_FMT_LEN, "%" PRIu64, v);
	return buf;
}

char *rwl_fmt_size_exact(char buf[RWL_FMT_LEN], uint64_t bytes)
{
	return rwl_fmt_exact(buf, bytes, 1024, "KMGT");
}

char *rwl_fmt_count_exact(char buf[RWL_FMT_LEN], uint64_t n)
{
	return rwl_fmt_exact(buf, n, 1000, "km");
}

/*
 * Digits and at most one suffix from @units (case-insensitive when
 * @any_case), each the next power of @base.
 */
static int rwl_parse_scaled(const char *s, uint64_t base, const char *units,
			    bool any_case, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *unit;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s) {
		char c = *s;

		if (any_case && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		unit = strchr(units, c);
		if (!unit || s[1])
			return -EINVAL;
		for (; unit >= units; unit--)
			mult *= base;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int rwl_parse_size(const char *s, uint64_t *out)
{
	return rwl_parse_scaled(s, 1024, "KMGT", true, out);
}

int rwl_parse_count(const char *s, uint64_t *out)
{
	return rwl_parse_scaled(s, 1000, "km", false, out);
}

int rwl_parse_percent(const char *s, unsigned int *out)
{
	uint64_t v;
	char digits[8];
	size_t len = strlen(s);
	int err;

	if (len && s[len - 1] == '%')
		len--;
	if (!len || len >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, len);
	digits[len] = '\0';
	err = rwl_parse_scaled(digits, 1, "", false, &v);
	if (err)
		return err;
	if (v > 100)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}
