/*
 * units: parsing of the human-friendly durations and sizes in herald.conf.
 *
 * Durations: an integer followed by ms, s, m, h or d ("500ms", "30s", "1m",
 * "2h", "1d"); a bare integer is seconds. Sizes: an integer followed by B,
 * KiB, MiB or GiB ("4KiB", "256KiB", "1MiB"); a bare integer is bytes. Both
 * are kept in the smallest unit (milliseconds, bytes) and reject overflow,
 * signs, fractions and trailing garbage with a message naming what is wrong.
 * A duration is also written back for people: its non-zero units.
 */
#ifndef HERALD_UNITS_H
#define HERALD_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 and sets *OUT_MS, or -1 with a message in ERR. */
int units_parse_duration_ms(const char *text, int64_t *out_ms, char *err, size_t errlen);

/* Returns 0 and sets *OUT_BYTES, or -1 with a message in ERR. */
int units_parse_size(const char *text, uint64_t *out_bytes, char *err, size_t errlen);

/* MS (>= 0) as people read a span: its non-zero units, largest first
 * ("4h 15m", "1d 2h 30m 10s 500ms"), "0s" for none. */
#define UNITS_DURATION_TEXT_MAX 48
void units_format_duration_ms(int64_t ms, char out[UNITS_DURATION_TEXT_MAX]);

#endif
