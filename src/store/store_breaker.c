/*
 * store_breaker: each receiver's circuit breaker, counted as the scheduler's
 * outcomes are written (store_record_outcomes, before the tasks' ends), in
 * the same transaction: written once above the backends, which read and
 * write the receiver's row (breaker_read, breaker_ensure, breaker_write) and
 * claim its probe (claim_probe).
 *
 * The rule, applied to a receiver's outcomes in the order they ended. A
 * failure that counts against the receiver (attempt_counts_against_receiver,
 * of a type whose breaker_failures is not 0) adds one to its count; a
 * success, or any other answer the receiver gave (a 4xx, a 429: it is up),
 * resets the count and closes the circuit; anything else (herald's own
 * refusals, a type whose failures do not count) changes neither. When the
 * count reaches the failing task's breaker_failures the circuit opens:
 * every claim passes over the receiver's tasks (they wait, spending
 * nothing) except one probe at a time for the whole cluster, every probe
 * interval, doubling up to its cap while probes fail. Any failure while the
 * circuit is open, of whatever type or kind, including the one that opened
 * it, parks its task: pending again and due (the circuit holds it, not its
 * backoff), never moved to manual handling; the attempt is given back to
 * its budget when the circuit was open before it, when it was the probe,
 * or when it was the task's last. A probe's outcome always frees the probe
 * (its token is cleared), whatever it was.
 *
 * A circuit does not open while a heraldd of an earlier release (whose
 * claims do not look at circuits) shares the database: it would spend the
 * parked tasks' attempts (store_count_older_instances; the count goes on).
 *
 * A turn that failed is written again with the same outcomes: the decisions
 * the scheduler made (kind, next attempt, manual reason) are kept aside the
 * first time, and parking starts from them each time.
 *
 * Several heraldd write outcomes for one receiver at once. Rows are locked
 * in key order, and only in this step of a turn (the claims after it never
 * wait for a row: SKIP LOCKED), so two turns cannot wait for each other.
 * A receiver that is healthy costs one read without a lock: its row, if it
 * has one, is locked only when a failure is to be counted or a count to be
 * reset.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The migration (013 on both backends) that brought circuit breakers: a
 * heraldd that knows fewer would claim an open circuit's parked tasks. */
#define STORE_BREAKER_MIGRATION 13

/* What an outcome says of its receiver's health. */
typedef enum {
    BREAKER_NEUTRAL, /* nothing: herald's own refusal, or a type that does not count */
    BREAKER_HEALTHY, /* it answered: a success, or an answer it meant (4xx, 429) */
    BREAKER_FAILED,  /* a failure that counts against it */
} BreakerVerdict;

static BreakerVerdict store_breaker_verdict(const AttemptOutcome *outcome)
{
    if (outcome->kind == ATTEMPT_OUTCOME_SUCCEEDED)
        return BREAKER_HEALTHY;
    if (outcome->breaker_failures > 0)
        return BREAKER_FAILED; /* the scheduler counts it (receivers_judge) */
    if (outcome->attempt.status_code > 0 && !attempt_counts_against_receiver(&outcome->attempt))
        return BREAKER_HEALTHY;
    return BREAKER_NEUTRAL;
}

/* Receivers' outcomes in key order, each receiver's in the turn's order
 * (they are one array, so their addresses are that order). */
static int store_breaker_compare(const void *a, const void *b)
{
    const AttemptOutcome *left = *(const AttemptOutcome *const *)a;
    const AttemptOutcome *right = *(const AttemptOutcome *const *)b;
    int order = strcmp(left->attempt.receiver, right->attempt.receiver);
    if (order != 0)
        return order;
    return left < right ? -1 : left > right;
}

/* The scheduler's decision for OUTCOME, kept aside the first time it is
 * written and restored each time after (a turn retried after a failure). */
static void store_breaker_restore(AttemptOutcome *outcome)
{
    if (!outcome->breaker_saved) {
        outcome->decided_kind = outcome->kind;
        outcome->decided_next_attempt_at = outcome->next_attempt_at;
        outcome->decided_manual_reason = outcome->manual_reason;
        outcome->breaker_saved = true;
    } else {
        outcome->kind = outcome->decided_kind;
        outcome->next_attempt_at = outcome->decided_next_attempt_at;
        outcome->manual_reason = outcome->decided_manual_reason;
    }
    outcome->parked = false;
    outcome->extra_attempts = 0;
    outcome->breaker_change = ATTEMPT_BREAKER_KEPT;
    outcome->breaker_count = 0;
}

/* Parks OUTCOME, a failure while its receiver's circuit is open. */
static void store_breaker_park(AttemptOutcome *outcome, bool open_before, bool probe,
                               int64_t now)
{
    bool last = outcome->kind == ATTEMPT_OUTCOME_MANUAL;
    outcome->parked = true;
    outcome->extra_attempts = open_before || probe || last ? 1 : 0;
    /* Due: the circuit holds it, not its backoff, so a probe always has a
     * task to take and the backlog goes once the receiver is back. */
    outcome->kind = ATTEMPT_OUTCOME_RETRY;
    outcome->next_attempt_at = now;
    outcome->manual_reason = NULL;
}

/* Whether OUTCOME is the probe BEFORE names. */
static bool store_breaker_is_probe(const StoreBreaker *before, const AttemptOutcome *outcome)
{
    return before->probe_token[0] != '\0' &&
           strcmp(before->probe_token, outcome->claim_token) == 0;
}

/* One receiver's outcomes (ITEMS, COUNT, in order): reads its row (locked
 * only if something is to be written), applies the rule, parks, writes. */
static int store_breaker_receiver(Store *store, AttemptOutcome **items, size_t count,
                                  int64_t now, char *err, size_t errlen)
{
    const StoreBackend *backend = store->backend;
    const char *receiver = items[0]->attempt.receiver;
    bool failed = false, healthy = false;
    for (size_t i = 0; i < count; i++) {
        BreakerVerdict verdict = store_breaker_verdict(items[i]);
        failed |= verdict == BREAKER_FAILED;
        healthy |= verdict == BREAKER_HEALTHY;
    }
    StoreBreaker before;
    bool found = false;
    if (failed) {
        if (backend->breaker_ensure(store, receiver, now, err, errlen) != 0 ||
            backend->breaker_read(store, receiver, true, &before, &found, err, errlen) != 0)
            return -1;
    } else {
        /* A healthy receiver costs this read, and no lock. */
        for (int lock = 0; lock < 2; lock++) {
            if (backend->breaker_read(store, receiver, lock == 1, &before, &found, err,
                                      errlen) != 0)
                return -1;
            if (!found || (!before.open && before.probe_token[0] == '\0' &&
                           (!healthy || before.failures == 0)))
                return 0; /* nothing to reset, nothing parked */
        }
    }
    if (!found)
        memset(&before, 0, sizeof before);
    StoreBreaker state = before;
    bool reopened = false, probed = false, probe_failed = false, deferred = false;
    int older = -1; /* heraldd of an earlier release: not asked yet */
    for (size_t i = 0; i < count; i++) {
        AttemptOutcome *outcome = items[i];
        BreakerVerdict verdict = store_breaker_verdict(outcome);
        bool open_before = state.open;
        bool probe = store_breaker_is_probe(&before, outcome);
        probed |= probe;
        /* A probe that did not get an answer failed, counted or not. */
        probe_failed |= probe && verdict != BREAKER_HEALTHY;
        if (verdict == BREAKER_HEALTHY) {
            state.open = false;
            state.failures = 0;
            reopened = false;
            continue;
        }
        if (verdict == BREAKER_FAILED) {
            state.failures++;
            if (!state.open && state.failures >= outcome->breaker_failures) {
                if (older < 0) {
                    int64_t older_count = 0;
                    if (store_count_older_instances(store, STORE_BREAKER_MIGRATION,
                                                    &older_count, err, errlen) != 0)
                        return -1;
                    older = older_count > 0;
                }
                if (older)
                    deferred = true;
                else
                    state.open = reopened = true;
            }
        }
        if (state.open)
            store_breaker_park(outcome, open_before, probe, now);
    }
    AttemptOutcome *last = items[count - 1];
    StoreBreakerWrite write = {.state = state, .probe_in_ms = -1, .clear_probe = probed};
    int64_t first_wait = last->breaker_probe_ms > 0 ? last->breaker_probe_ms : 1000;
    int64_t cap = last->breaker_probe_max_ms > first_wait ? last->breaker_probe_max_ms : first_wait;
    if (state.open && (reopened || !before.open)) {
        write.state.opened_at = now;
        write.state.probe_interval_ms = first_wait;
        write.probe_in_ms = first_wait;
        last->breaker_change = ATTEMPT_BREAKER_OPENED;
    } else if (state.open) {
        write.state.opened_at = before.opened_at;
        write.state.probe_interval_ms = before.probe_interval_ms;
        if (probe_failed) { /* wait longer for the next */
            int64_t interval = before.probe_interval_ms * 2;
            write.state.probe_interval_ms = interval > cap ? cap : interval < first_wait ? first_wait : interval;
            last->breaker_change = ATTEMPT_BREAKER_PROBE_FAILED;
        }
        if (probed) /* the next probe after the interval, whatever this one was */
            write.probe_in_ms = write.state.probe_interval_ms;
    } else {
        write.state.opened_at = 0;
        write.state.probe_interval_ms = 0;
        write.clear_probe = true;
        write.closed = before.open;
        if (before.open)
            last->breaker_change = ATTEMPT_BREAKER_CLOSED;
        else if (deferred)
            last->breaker_change = ATTEMPT_BREAKER_DEFERRED;
    }
    last->breaker_count = state.failures;
    return backend->breaker_write(store, receiver, &write, now, err, errlen);
}

int store_breaker_count(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                        char *err, size_t errlen)
{
    size_t relevant = 0;
    for (size_t i = 0; i < count; i++) {
        store_breaker_restore(&outcomes[i]);
        relevant += outcomes[i].attempt.receiver != NULL ? 1 : 0;
    }
    if (relevant == 0 || store->backend->breaker_read == NULL ||
        (store->backend->breaker_ready != NULL && !store->backend->breaker_ready(store)))
        return 0; /* no breakers yet: nothing parks (a claim would not wait for them) */
    /* Usually a turn's outcomes are of a few receivers, often one: a small
     * array on the stack, and no sort when they are all one receiver's. */
    enum { STORE_BREAKER_STACK = 64 };
    AttemptOutcome *stack[STORE_BREAKER_STACK];
    AttemptOutcome **sorted = relevant <= STORE_BREAKER_STACK ? stack
                                                              : malloc(relevant * sizeof *sorted);
    if (sorted == NULL) {
        snprintf(err, errlen, "count the receivers' failures: out of memory");
        return -1;
    }
    relevant = 0;
    bool one_receiver = true;
    for (size_t i = 0; i < count; i++) {
        if (outcomes[i].attempt.receiver == NULL)
            continue;
        sorted[relevant] = &outcomes[i];
        one_receiver = one_receiver && (relevant == 0 || strcmp(sorted[0]->attempt.receiver,
                                                                outcomes[i].attempt.receiver) == 0);
        relevant++;
    }
    if (!one_receiver) /* already in the turn's order when one */
        qsort(sorted, relevant, sizeof *sorted, store_breaker_compare);
    int status = 0;
    for (size_t start = 0; start < relevant && status == 0;) {
        size_t end = one_receiver ? relevant : start + 1;
        while (end < relevant &&
               strcmp(sorted[end]->attempt.receiver, sorted[start]->attempt.receiver) == 0)
            end++;
        status = store_breaker_receiver(store, sorted + start, end - start, now, err, errlen);
        start = end;
    }
    if (sorted != stack)
        free(sorted);
    return status;
}
