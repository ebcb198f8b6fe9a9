/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Human-readable numbers, both ways.
 *
 * Sizes use K, M, G, T, P, E as powers of 1024 (as in overlaytab(5) and
 * the rule= mount option); counts use k, m, g as powers of 1000.
 */
#ifndef RWL_FMT_H
#define RWL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any output of the functions below, NUL included. */
#define RWL_FMT_LEN 24

/*
 * @bytes as "0", "512", "1.5K", "12.3M", "128M", "2T": below 1024 the
 * plain number; else in the largest unit that gives a value >= 1: whole
 * when exact, else with one decimal below 100 and none from 100 up,
 * rounded down so that a use never looks bigger than it is (at most 6
 * characters).  Returns @buf.
 */
char *rwl_fmt_size(char buf[RWL_FMT_LEN], uint64_t bytes);

/* @n as "999", "1.5k", "20k", "20.9k", "3.2m": powers of 1000, same rules. */
char *rwl_fmt_count(char buf[RWL_FMT_LEN], uint64_t n);

/*
 * Exact forms for settings, where rounding would mislead: the largest unit
 * the parsers below accept that divides the value ("128M", "1536K", "50k")
 * or the plain number ("1000", "50001").
 */
char *rwl_fmt_size_exact(char buf[RWL_FMT_LEN], uint64_t bytes);
char *rwl_fmt_count_exact(char buf[RWL_FMT_LEN], uint64_t n);

/*
 * Parse a size: digits then optionally one of K M G T (powers of 1024, also
 * lower case).  Returns 0 and *@out, or -EINVAL (not a size) or -ERANGE
 * (over 2^64-1).  Until lib/tab.h exports its option parser, this is the
 * one overlayctl uses.
 */
int rwl_parse_size(const char *s, uint64_t *out);

/* Parse a count: digits then optionally k or m (powers of 1000). */
int rwl_parse_count(const char *s, uint64_t *out);

/* Parse a percentage "N" or "N%", 0..100. */
int rwl_parse_percent(const char *s, unsigned int *out);

#endif /* RWL_FMT_H */
