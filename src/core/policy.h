/*
 * policy: the retry arithmetic of a business type, pure (no I/O, no clock,
 * no randomness of its own) so it can be tested exhaustively.
 *
 * After failure k (k = 1, 2, ...) the next attempt waits:
 *   schedule set:       schedule[k-1], or its last entry once k passes its end
 *   exponential:        min(base_delay * 2^(k-1), max_delay)
 *   otherwise:          base_delay
 * spread uniformly by +-jitter (jitter 0.1 = +-10%). A receiver's Retry-After
 * can push the next attempt later, never sooner, bounded by max_delay.
 * A task has max_retry attempts in total; the failure of the last one moves
 * it to manual handling.
 */
#ifndef HERALD_POLICY_H
#define HERALD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define POLICY_SCHEDULE_MAX 32
#define POLICY_SUCCESS_BODY_MAX 128
#define POLICY_NAME_MAX 65 /* business type names: 64 characters + NUL */

typedef struct PolicySchedule {
    size_t count; /* 0 = no explicit schedule */
    int64_t delays_ms[POLICY_SCHEDULE_MAX];
} PolicySchedule;

typedef struct Policy {
    int64_t max_retry; /* attempts in total */
    int64_t base_delay_ms;
    int64_t max_delay_ms;
    bool exponential_backoff;
    double jitter; /* 0..1 */
    PolicySchedule schedule;
    char success_body[POLICY_SUCCESS_BODY_MAX]; /* "" = any 2xx body is success */
    int64_t timeout_ms;                         /* 0 = the [delivery] timeout */
    /* Consecutive failures of a receiver (store_breaker.c) at which this
     * type's failure opens the receiver's circuit; 0: its failures do not
     * count. */
    int64_t breaker_failures;
    /* ordering_on_failure: whether a task with an ordering_key that goes to
     * manual handling holds its key's later tasks until an operator retries
     * or resolves it (block, true), or lets the next go (skip). Taken into
     * each task when it is accepted. */
    bool ordering_block;
    /* [telemetry] propagate: receivers get a traceparent for their attempt's
     * span (telemetry.h); off by default, as it is sent to third parties. */
    bool propagate_trace;
    /* Signing (sign.h): the secrets as configured, and decoded. An empty
     * secret means the [delivery] one; no secret at all means unsigned. */
    char secret[SIGN_SECRET_MAX];
    char previous_secret[SIGN_SECRET_MAX];
    int64_t previous_secret_until; /* Unix ms; sign with both until then */
    SignKey key;
    SignKey previous_key;
} Policy;

typedef struct PolicyBusiness {
    char name[POLICY_NAME_MAX];
    Policy policy;
} PolicyBusiness;

/* The [retry] policy and the [business.NAME] ones; read-only once built. */
typedef struct PolicySet {
    Policy fallback;
    const PolicyBusiness *business;
    size_t business_count;
} PolicySet;

/* The policy of BUSINESS_TYPE, or the fallback if it has no section. */
const Policy *policy_set_find(const PolicySet *set, const char *business_type);

/* The delay after failure FAILURE (1-based), before jitter. */
int64_t policy_base_delay_ms(const Policy *policy, int failure);

/* The delay after failure FAILURE with jitter applied; RANDOM_UNIT is a
 * uniform random number in [0, 1). Never negative. */
int64_t policy_next_delay_ms(const Policy *policy, int failure, double random_unit);

/* DELAY_MS pushed out to a receiver's RETRY_AFTER_MS (< 0: none), which is
 * itself capped at the policy's max_delay. */
int64_t policy_apply_retry_after(const Policy *policy, int64_t delay_ms, int64_t retry_after_ms);

/* One attempt of a policy's planned schedule, in milliseconds after the
 * first attempt started. NOMINAL: the waits before jitter, attempts taking
 * no time. EARLIEST: the jitter's shortest waits. LATEST: its longest waits,
 * and each earlier attempt running to the request timeout (a wait starts
 * when the attempt before it ended). A receiver's Retry-After can push an
 * attempt past LATEST (each wait up to max_delay); a manual retry starts a
 * new schedule. */
typedef struct PolicyPlannedAttempt {
    int attempt;     /* 1-based */
    int64_t wait_ms; /* before jitter, from the end of the attempt before; 0 for the first */
    int64_t nominal_ms;
    int64_t earliest_ms;
    int64_t latest_ms;
} PolicyPlannedAttempt;

/* Fills PLAN with the policy's attempts (max_retry of them, at most
 * CAPACITY) for requests that time out after TIMEOUT_MS; returns how many. */
size_t policy_plan_attempts(const Policy *policy, int64_t timeout_ms, PolicyPlannedAttempt *plan,
                            size_t capacity);

/* True if a task that has made ATTEMPTS attempts with budget MAX_RETRY may
 * not try again. */
bool policy_is_exhausted(int64_t max_retry, int64_t attempts);

/* A claim's lease: twice the longest request timeout (DELIVERY_TIMEOUT_MS,
 * or a business type's own), and this margin for a busy scheduler or a slow
 * database. A delivery never outlives its timeout, so a lease needs no
 * renewal; an outcome written after its lease ended is fenced off
 * (store_record_outcomes). */
#define POLICY_LEASE_MARGIN_MS 10000
int64_t policy_set_lease_ms(const PolicySet *set, int64_t delivery_timeout_ms);

/* The shortest max_delay of SET's policies: how long a receiver may be held
 * for all of its tasks (a Retry-After), so that no business type waits past
 * its own cap because of another's answer. */
int64_t policy_set_shortest_max_delay_ms(const PolicySet *set);

#endif
