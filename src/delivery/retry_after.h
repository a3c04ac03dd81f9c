/*
 * retry_after: the Retry-After response header (RFC 9110 10.2.3), either
 * delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT").
 */
#ifndef HERALD_RETRY_AFTER_H
#define HERALD_RETRY_AFTER_H

#include <stdint.h>

/* Longest delay we accept from a header (longer values are capped to it). */
#define RETRY_AFTER_MAX_MS (366LL * 86400 * 1000)

/* The delay VALUE asks for, in ms from NOW_MS (0 if the date is past), or
 * -1 if VALUE is not a valid Retry-After. */
int64_t retry_after_parse(const char *value, int64_t now_ms);

#endif
