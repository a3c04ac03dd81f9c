/*
 * scheduler_rate: see scheduler_rate.h.
 */
#include "scheduler_rate.h"

#include <stdbool.h>
#include <stdio.h>

#include "clock.h"
#include "log.h"
#include "store_receivers.h"

void scheduler_rate_share_holds(Store *store, SchedulerTurn *turn)
{
    for (size_t i = 0; i < turn->outcome_count; i++) {
        AttemptOutcome *outcome = &turn->outcomes[i];
        if (outcome->hold_ms <= 0 || outcome->attempt.receiver == NULL)
            continue;
        char err[320];
        if (store_receiver_hold(store, outcome->attempt.receiver, outcome->hold_ms, turn->now,
                                err, sizeof err) != 0) {
            log_warning("event=receiver_hold_not_shared receiver=%s error=\"%s\" detail=\"only "
                        "this heraldd holds it\"",
                        outcome->attempt.receiver, err);
            continue;
        }
        outcome->hold_ms = 0; /* once: a turn written again does not stretch it */
    }
}

/* Gives back the tokens TURN's first COUNT claims took and did not use. */
static void scheduler_rate_return(Store *store, RateBuckets *buckets, SchedulerTurn *turn,
                                  size_t count)
{
    for (size_t i = 0; i < count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        int64_t unused = (int64_t)claim->granted - (int64_t)claim->count;
        if (claim->rate.interval_us == 0 || unused <= 0)
            continue;
        char err[320];
        StoreRateTake take = {.stamp_us = claim->rate_stamp_us};
        if (claim->rate_local)
            rate_buckets_give_back(buckets, claim->host_key, &claim->rate, unused);
        else if (store_rate_give_back(store, claim->host_key, &claim->rate, unused, &take, err,
                                      sizeof err) != 0)
            /* Spent unused: the receiver gets less than its rate a moment. */
            log_debug("event=rate_tokens_lost receiver=%s count=%lld error=\"%s\"",
                      claim->host_key, (long long)unused, err);
        claim->granted = claim->count;
    }
}

int scheduler_rate_take(Store *store, RateBuckets *buckets, SchedulerTurn *turn, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < turn->claim_count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        claim->granted = 0;
        claim->wait_ms = 0;
        claim->rate_local = false;
        if (claim->rate.interval_us == 0)
            continue;
        StoreRateTake take = {0};
        claim->rate_taken_ms = clock_monotonic_ms();
        StoreResult taken = store_rate_take(store, claim->host_key, &claim->rate,
                                            (int64_t)claim->limit, &take, err, errlen);
        int64_t granted = take.granted;
        claim->wait_ms = take.wait_ms;
        claim->rate_stamp_us = take.stamp_us;
        if (taken == STORE_NOT_FOUND) {
            claim->rate_local = true;
            granted = rate_buckets_take(buckets, claim->host_key, &claim->rate,
                                        (int64_t)claim->limit, clock_monotonic_ms() * 1000,
                                        &claim->wait_ms);
            if (granted < 0) {
                snprintf(err, errlen, "rate limit: out of memory");
                taken = STORE_ERROR;
            }
        }
        if (taken == STORE_ERROR) { /* nothing claimed yet: give back all taken */
            scheduler_rate_return(store, buckets, turn, i);
            return -1;
        }
        claim->granted = (size_t)granted;
    }
    return 0;
}

size_t scheduler_rate_allowed(const SchedulerClaim *claim)
{
    if (claim->rate.interval_us == 0 || claim->granted >= claim->limit)
        return claim->limit;
    return claim->granted;
}

void scheduler_rate_settle(Store *store, RateBuckets *buckets, SchedulerTurn *turn)
{
    scheduler_rate_return(store, buckets, turn, turn->claim_count);
    int64_t now = clock_monotonic_ms();
    for (size_t i = 0; i < turn->claim_count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        /* A turn that took an interval or more: the bucket refilled meanwhile. */
        if (claim->rate.interval_us == 0 || claim->count == 0 ||
            (now - claim->rate_taken_ms) * 1000 < claim->rate.interval_us)
            continue;
        char err[320];
        if (claim->rate_local)
            rate_buckets_charge(buckets, claim->host_key, &claim->rate, (int64_t)claim->count,
                                now * 1000);
        else if (store_rate_charge(store, claim->host_key, &claim->rate, (int64_t)claim->count,
                                   err, sizeof err) != 0)
            log_warning("event=rate_charge_failed receiver=%s error=\"%s\" detail=\"a turn "
                        "that took long: its requests may go beside another burst\"",
                        claim->host_key, err);
    }
}
