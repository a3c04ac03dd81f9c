/*
 * clock: the two clocks herald uses and the one time format it shows.
 *
 * herald time (clock_now_ms) is the wall clock read once, at the first call,
 * and advanced by the monotonic clock from then on. Every time herald stores
 * and schedules by (created, due, moved, leases) is herald time, so stepping
 * the system clock while herald runs neither makes retries due early (a burst)
 * nor late (a stall); a restart re-anchors it. Stored values are Unix
 * milliseconds, meaningful across restarts. The real wall clock
 * (clock_wall_ms) is used only where the outside world compares it with its
 * own: webhook-timestamp. Times are formatted as RFC 3339 UTC with
 * milliseconds only at the edges (JSON, CLI).
 *
 * On a database several heraldd share, herald time is the database server's
 * clock: clock_sync.c measures the offset of the server's clock from the local
 * herald time (at start and every heartbeat) and sets it here, so that the
 * times each instance writes and compares (created, due, heartbeats) agree
 * whatever an instance's own clock says. Leases are safer still: the server
 * computes and compares them itself (store.h, store_claim_due).
 */
#ifndef HERALD_CLOCK_H
#define HERALD_CLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2026-11-21T13:45:07.123Z" plus NUL */
#define CLOCK_RFC3339_SIZE 25

/* herald time, Unix milliseconds: the local clock (clock_local_ms) plus the
 * offset to a shared database's clock (0 on SQLite). The local part never
 * steps while the process runs; the offset changes only when a measurement
 * finds the two clocks apart by more than clock_sync's tolerance. */
int64_t clock_now_ms(void);

/* The local part: the wall clock read at the first call, advanced by the
 * monotonic clock. */
int64_t clock_local_ms(void);

/* The offset of the database's clock from clock_local_ms(), in ms (set by
 * clock_sync.c; any thread may read it). */
void clock_set_offset_ms(int64_t offset_ms);
int64_t clock_offset_ms(void);

/* The system's wall clock now, Unix milliseconds (it may step). */
int64_t clock_wall_ms(void);

/* How far the wall clock has moved away from the local part of herald time
 * (clock_local_ms), in ms. */
int64_t clock_wall_drift_ms(void);

/* Tests: replaces the wall and monotonic sources (NULL: the system's) and
 * re-anchors herald time. Call before any other thread uses the clock. */
void clock_set_sources(int64_t (*wall_ms)(void), int64_t (*monotonic_ms)(void));

/* Monotonic clock, milliseconds from an arbitrary origin. */
int64_t clock_monotonic_ms(void);

/* The CLOCK_MONOTONIC time MS milliseconds from now, for
 * pthread_cond_timedwait on a condition variable set to that clock (the
 * system's monotonic clock, not the test source above). */
struct timespec clock_monotonic_deadline(int64_t ms);

/* Initialises COND so that its timed waits take clock_monotonic_deadline()'s
 * deadlines: a step of the wall clock neither cuts a wait short nor stretches
 * it. (With these arguments glibc's initialisers cannot fail.) */
void clock_cond_init(pthread_cond_t *cond);

/* Formats UNIX_MS as RFC 3339 UTC with milliseconds into OUT. */
void clock_format_rfc3339(int64_t unix_ms, char out[CLOCK_RFC3339_SIZE]);

/* Parses an RFC 3339 timestamp ("2026-11-21T13:45:07Z", optional fraction,
 * "Z" or "+hh:mm"/"-hh:mm" offset). Returns 0, or -1 if malformed. */
int clock_parse_rfc3339(const char *text, int64_t *unix_ms);

#endif
