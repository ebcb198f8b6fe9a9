/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP for the unit tests: one "ok N - what" line per check, the plan at
 * the end (the count is not known before), exit status 1 on a failure.
 */
#ifndef RWL_TESTS_TAP_H
#define RWL_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int tests_run, tests_failed;

static inline bool ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	if (!cond)
		tests_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

/* The plan, and main()'s exit status. */
static inline int tap_done(void)
{
	printf("1..%u\n", tests_run);
	return tests_failed ? 1 : 0;
}

#endif /* RWL_TESTS_TAP_H */
