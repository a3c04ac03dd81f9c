/*
 * policy: see policy.h.
 */
#include "policy.h"

#include <math.h>
#include <string.h>

const Policy *policy_set_find(const PolicySet *set, const char *business_type)
{
    for (size_t i = 0; i < set->business_count; i++) {
        if (strcmp(set->business[i].name, business_type) == 0)
            return &set->business[i].policy;
    }
    return &set->fallback;
}

int64_t policy_base_delay_ms(const Policy *policy, int failure)
{
    if (failure < 1)
        failure = 1;
    if (policy->schedule.count > 0) {
        size_t index = (size_t)failure - 1;
        if (index >= policy->schedule.count)
            index = policy->schedule.count - 1;
        return policy->schedule.delays_ms[index];
    }
    if (!policy->exponential_backoff)
        return policy->base_delay_ms;
    /* Double until the cap; stopping early also avoids overflow. */
    int64_t delay = policy->base_delay_ms;
    for (int k = 1; k < failure && delay < policy->max_delay_ms; k++)
        delay = delay > INT64_MAX / 2 ? INT64_MAX : delay * 2;
    return delay < policy->max_delay_ms ? delay : policy->max_delay_ms;
}

int64_t policy_next_delay_ms(const Policy *policy, int failure, double random_unit)
{
    int64_t delay = policy_base_delay_ms(policy, failure);
    if (policy->jitter <= 0)
        return delay;
    if (random_unit < 0)
        random_unit = 0;
    if (random_unit >= 1)
        random_unit = nextafter(1.0, 0.0);
    double factor = 1.0 + policy->jitter * (2.0 * random_unit - 1.0);
    double spread = (double)delay * factor;
    if (spread < 0)
        return 0;
    if (spread >= (double)INT64_MAX)
        return INT64_MAX;
    return (int64_t)llround(spread);
}

int64_t policy_apply_retry_after(const Policy *policy, int64_t delay_ms, int64_t retry_after_ms)
{
    if (retry_after_ms < 0)
        return delay_ms;
    if (retry_after_ms > policy->max_delay_ms)
        retry_after_ms = policy->max_delay_ms;
    return retry_after_ms > delay_ms ? retry_after_ms : delay_ms;
}

/* A + B, held at INT64_MAX rather than wrapping. */
static int64_t policy_add_ms(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

size_t policy_plan_attempts(const Policy *policy, int64_t timeout_ms, PolicyPlannedAttempt *plan,
                            size_t capacity)
{
    size_t count = policy->max_retry > 0 ? (size_t)policy->max_retry : 0;
    if (count > capacity)
        count = capacity;
    int64_t nominal = 0, earliest = 0, latest = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t wait = 0;
        if (i > 0) {
            int failure = (int)i;
            wait = policy_base_delay_ms(policy, failure);
            nominal = policy_add_ms(nominal, wait);
            earliest = policy_add_ms(earliest, policy_next_delay_ms(policy, failure, 0.0));
            latest = policy_add_ms(policy_add_ms(latest, timeout_ms),
                                   policy_next_delay_ms(policy, failure, 1.0));
        }
        plan[i] = (PolicyPlannedAttempt){.attempt = (int)i + 1,
                                         .wait_ms = wait,
                                         .nominal_ms = nominal,
                                         .earliest_ms = earliest,
                                         .latest_ms = latest};
    }
    return count;
}

bool policy_is_exhausted(int64_t max_retry, int64_t attempts)
{
    return attempts >= max_retry;
}

int64_t policy_set_shortest_max_delay_ms(const PolicySet *set)
{
    int64_t shortest = set->fallback.max_delay_ms;
    for (size_t i = 0; i < set->business_count; i++) {
        if (set->business[i].policy.max_delay_ms < shortest)
            shortest = set->business[i].policy.max_delay_ms;
    }
    return shortest;
}

int64_t policy_set_lease_ms(const PolicySet *set, int64_t delivery_timeout_ms)
{
    int64_t longest = delivery_timeout_ms;
    for (size_t i = 0; i < set->business_count; i++) {
        if (set->business[i].policy.timeout_ms > longest)
            longest = set->business[i].policy.timeout_ms;
    }
    return 2 * longest + POLICY_LEASE_MARGIN_MS;
}
