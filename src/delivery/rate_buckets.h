/*
 * rate_buckets: the receivers' rate buckets in memory (rate_limit.h), for a
 * database that keeps none: SQLite, where one heraldd has the database and
 * its scheduler alone sends (and PostgreSQL while migration 014 is held
 * back: each heraldd then keeps the rate alone). One TAT per rate-limited
 * receiver, sorted by key; a bucket that has filled up again is the same
 * as none and is dropped when the table grows. Used by the scheduler's
 * database worker only (scheduler_db.c); no lock. A restart forgets them:
 * a receiver may then get one burst early.
 */
#ifndef HERALD_RATE_BUCKETS_H
#define HERALD_RATE_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "rate_limit.h"

typedef struct RateBucket {
    char *receiver; /* owned */
    int64_t tat_us;
} RateBucket;

typedef struct RateBuckets {
    RateBucket *items; /* owned, sorted by receiver with strcmp */
    size_t count;
    size_t capacity;
} RateBuckets;

void rate_buckets_free(RateBuckets *buckets);

/* Takes up to WANT of RECEIVER's tokens under LIMIT at NOW_US
 * (rate_bucket_take); *WAIT_MS: until the next is free. Returns the tokens
 * taken, or -1 if out of memory (none taken). */
int64_t rate_buckets_take(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                          int64_t want, int64_t now_us, int64_t *wait_ms);

/* COUNT tokens taken and not used, given back (one worker: no other take
 * came between). */
void rate_buckets_give_back(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                            int64_t count);

/* COUNT requests taken a while ago go out at NOW_US (rate_bucket_charge). */
void rate_buckets_charge(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                         int64_t count, int64_t now_us);

#endif
