/*
 * rate_limit: a receiver's request rate ([receiver.PATTERN] rate_limit =
 * 50/s or 3000/min, rate_burst) and the bucket that keeps it.
 *
 * The bucket is the generic cell rate algorithm (GCRA): a token bucket kept
 * as one number, TAT, the time the next request would be due if requests
 * had gone exactly at the rate. A request may go at NOW while
 * TAT - NOW < burst * interval; each one that goes moves TAT on by the
 * interval. So in any window of W at most W / interval + burst requests go,
 * and a receiver idle for a while gets a burst, never more.
 *
 * On SQLite (one heraldd) the buckets live in the scheduler's memory
 * (src/delivery/rate_buckets.c); on PostgreSQL TAT is a row of receiver_rates that every
 * heraldd sharing the database takes from, the same arithmetic done in one
 * statement on the server's clock (PG_SQL_RATE_TAKE).
 */
#ifndef HERALD_RATE_LIMIT_H
#define HERALD_RATE_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATE_LIMIT_TEXT_MAX 32
/* The fastest rate herald keeps: one request a microsecond would round. */
#define RATE_LIMIT_MAX_PER_SECOND 100000
#define RATE_LIMIT_BURST_MAX 100000

typedef struct RateLimit {
    int64_t interval_us; /* between requests at the rate, rounded up; 0: no limit */
    int64_t burst;       /* requests that may go back to back (>= 1 with a limit) */
    char text[RATE_LIMIT_TEXT_MAX]; /* as configured, e.g. "50/s"; "" without */
} RateLimit;

/* Parses "COUNT/s", "COUNT/min" (COUNT 1..RATE_LIMIT_MAX_PER_SECOND a
 * second) or "0" (no limit) into OUT, with the default burst: a tenth of a
 * second's requests, at least 1. Returns 0, or -1 with ERR. */
int rate_limit_parse(const char *text, RateLimit *out, char *err, size_t errlen);

/* Takes up to WANT tokens from the bucket *TAT_US (Unix microseconds; 0 for
 * a new bucket) under LIMIT at NOW_US, moving *TAT_US on by the ones taken.
 * *WAIT_US: how long after NOW_US the next token is free (0: now).
 * Returns the tokens taken (0 .. WANT). */
int64_t rate_bucket_take(int64_t *tat_us, int64_t now_us, const RateLimit *limit, int64_t want,
                         int64_t *wait_us);

/* Gives COUNT tokens taken but not used back to the bucket *TAT_US (only
 * while no other take came between: the caller's to check). */
void rate_bucket_give_back(int64_t *tat_us, const RateLimit *limit, int64_t count);

/* COUNT requests whose tokens were taken a while ago go out at NOW_US: the
 * bucket counts them from now (the time between refilled it meanwhile, and
 * another take then would let a second burst out beside them). At most
 * burst tokens: the bucket stays within a burst of NOW_US. */
void rate_bucket_charge(int64_t *tat_us, int64_t now_us, const RateLimit *limit, int64_t count);

#endif
