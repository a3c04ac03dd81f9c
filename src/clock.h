/*
 * clock: the two clocks herald uses and the one time format it shows.
 *
 * Stored times are Unix milliseconds from the wall clock (they must mean the
 * same thing after a restart); timeouts and sleeps use the monotonic clock so
 * that a wall-clock jump neither fires timers early nor stalls them. Times are
 * formatted as RFC 3339 UTC with milliseconds only at the edges (JSON, CLI).
 */
#ifndef HERALD_CLOCK_H
#define HERALD_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-21T13:45:07.123Z" plus NUL */
#define CLOCK_RFC3339_SIZE 25

/* Wall clock, Unix milliseconds. */
int64_t clock_now_ms(void);

/* Monotonic clock, milliseconds from an arbitrary origin. */
int64_t clock_monotonic_ms(void);

/* Formats UNIX_MS as RFC 3339 UTC with milliseconds into OUT. */
void clock_format_rfc3339(int64_t unix_ms, char out[CLOCK_RFC3339_SIZE]);

/* Parses an RFC 3339 timestamp ("2026-11-21T13:45:07Z", optional fraction,
 * "Z" or "+hh:mm"/"-hh:mm" offset). Returns 0, or -1 if malformed. */
int clock_parse_rfc3339(const char *text, int64_t *unix_ms);

#endif
