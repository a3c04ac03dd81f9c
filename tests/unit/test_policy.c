/* Unit tests for src/core/policy.c: every key, caps, schedules, jitter bounds. */
#include "test_support.h"

#include <string.h>

#include "policy.h"

#define MINUTE 60000

static Policy make_policy(void)
{
    Policy policy;
    memset(&policy, 0, sizeof policy);
    policy.max_retry = 5;
    policy.base_delay_ms = MINUTE;
    policy.max_delay_ms = 30 * MINUTE;
    policy.exponential_backoff = true;
    return policy;
}

static void test_exponential_doubles_to_the_cap(void **state)
{
    (void)state;
    Policy policy = make_policy();
    static const int64_t expected[] = {1, 2, 4, 8, 16, 30, 30, 30};
    for (int k = 1; k <= 8; k++)
        assert_int_equal(policy_base_delay_ms(&policy, k), expected[k - 1] * MINUTE);
    /* Huge failure counts neither overflow nor pass the cap. */
    assert_int_equal(policy_base_delay_ms(&policy, 1000000), 30 * MINUTE);
    policy.max_delay_ms = INT64_MAX;
    assert_true(policy_base_delay_ms(&policy, 200) > 0);
    /* Failure numbers below 1 count as the first. */
    policy = make_policy();
    assert_int_equal(policy_base_delay_ms(&policy, 0), MINUTE);
}

static void test_fixed_delay(void **state)
{
    (void)state;
    Policy policy = make_policy();
    policy.exponential_backoff = false;
    for (int k = 1; k <= 10; k++)
        assert_int_equal(policy_base_delay_ms(&policy, k), MINUTE);
}

static void test_schedule_overrides_and_repeats_last(void **state)
{
    (void)state;
    Policy policy = make_policy();
    policy.schedule.count = 3;
    policy.schedule.delays_ms[0] = 15000;
    policy.schedule.delays_ms[1] = 30000;
    policy.schedule.delays_ms[2] = 180 * MINUTE; /* beyond max_delay: the schedule rules */
    assert_int_equal(policy_base_delay_ms(&policy, 1), 15000);
    assert_int_equal(policy_base_delay_ms(&policy, 2), 30000);
    assert_int_equal(policy_base_delay_ms(&policy, 3), 180 * MINUTE);
    assert_int_equal(policy_base_delay_ms(&policy, 4), 180 * MINUTE);
    assert_int_equal(policy_base_delay_ms(&policy, 15), 180 * MINUTE);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    Policy policy = make_policy();
    policy.jitter = 0.1;
    assert_int_equal(policy_next_delay_ms(&policy, 1, 0.0), 54000);
    assert_int_equal(policy_next_delay_ms(&policy, 1, 0.5), 60000);
    int64_t top = policy_next_delay_ms(&policy, 1, 0.999999999);
    assert_true(top <= 66000 && top >= 65999);
    for (int i = 0; i < 1000; i++) {
        double r = (double)i / 1000.0;
        int64_t delay = policy_next_delay_ms(&policy, 3, r);
        assert_true(delay >= 4 * MINUTE * 9 / 10 && delay <= 4 * MINUTE * 11 / 10);
    }
    /* Out-of-range randomness is clamped, never widening the spread. */
    assert_int_equal(policy_next_delay_ms(&policy, 1, -5.0), 54000);
    assert_true(policy_next_delay_ms(&policy, 1, 7.0) <= 66000);
    policy.jitter = 0;
    assert_int_equal(policy_next_delay_ms(&policy, 1, 0.0), MINUTE);
    policy.jitter = 1.0;
    assert_int_equal(policy_next_delay_ms(&policy, 1, 0.0), 0);
}

static void test_retry_after(void **state)
{
    (void)state;
    Policy policy = make_policy();
    assert_int_equal(policy_apply_retry_after(&policy, MINUTE, -1), MINUTE);
    assert_int_equal(policy_apply_retry_after(&policy, MINUTE, 5000), MINUTE); /* never sooner */
    assert_int_equal(policy_apply_retry_after(&policy, MINUTE, 10 * MINUTE), 10 * MINUTE);
    assert_int_equal(policy_apply_retry_after(&policy, MINUTE, 600 * MINUTE), 30 * MINUTE);
}

static void test_exhaustion(void **state)
{
    (void)state;
    assert_false(policy_is_exhausted(5, 4));
    assert_true(policy_is_exhausted(5, 5));
    assert_true(policy_is_exhausted(1, 1));
    assert_false(policy_is_exhausted(1, 0));
}

static void test_set_lookup(void **state)
{
    (void)state;
    PolicyBusiness business[2];
    memset(business, 0, sizeof business);
    strcpy(business[0].name, "ORDER_UPDATE");
    business[0].policy = make_policy();
    business[0].policy.max_retry = 3;
    strcpy(business[1].name, "INVENTORY_DEDUCT");
    business[1].policy = make_policy();
    business[1].policy.max_retry = 7;
    PolicySet set = {.fallback = make_policy(), .business = business, .business_count = 2};
    assert_int_equal(policy_set_find(&set, "ORDER_UPDATE")->max_retry, 3);
    assert_int_equal(policy_set_find(&set, "INVENTORY_DEDUCT")->max_retry, 7);
    assert_ptr_equal(policy_set_find(&set, "UNKNOWN"), &set.fallback);
    assert_ptr_equal(policy_set_find(&set, "order_update"), &set.fallback);
    /* The cap of a receiver's hold: the shortest max_delay, the fallback's too. */
    assert_int_equal(policy_set_shortest_max_delay_ms(&set), 30 * MINUTE);
    business[1].policy.max_delay_ms = MINUTE;
    assert_int_equal(policy_set_shortest_max_delay_ms(&set), MINUTE);
    set.fallback.max_delay_ms = 1000;
    assert_int_equal(policy_set_shortest_max_delay_ms(&set), 1000);
}

static void test_plan(void **state)
{
    (void)state;
    Policy policy = make_policy(); /* 5 attempts: waits 1, 2, 4, 8 minutes */
    policy.jitter = 0.1;
    PolicyPlannedAttempt plan[POLICY_SCHEDULE_MAX];
    assert_int_equal(policy_plan_attempts(&policy, 10000, plan, 32), 5);
    static const int64_t nominal[] = {0, 1, 3, 7, 15};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(plan[i].attempt, i + 1);
        assert_int_equal(plan[i].nominal_ms, nominal[i] * MINUTE);
        assert_int_equal(plan[i].wait_ms, i == 0 ? 0 : ((int64_t)1 << (i - 1)) * MINUTE);
        /* +-10% of each wait, and the latest adds each earlier attempt's 10 s. */
        assert_int_equal(plan[i].earliest_ms, nominal[i] * MINUTE * 9 / 10);
        assert_int_equal(plan[i].latest_ms, nominal[i] * MINUTE * 11 / 10 + i * 10000);
    }
    /* A schedule's waits, repeating its last; no jitter: all three agree. */
    policy.jitter = 0;
    policy.schedule.count = 2;
    policy.schedule.delays_ms[0] = 5000;
    policy.schedule.delays_ms[1] = 60000;
    assert_int_equal(policy_plan_attempts(&policy, 0, plan, 32), 5);
    assert_int_equal(plan[4].nominal_ms, 5000 + 3 * 60000);
    assert_int_equal(plan[4].earliest_ms, plan[4].nominal_ms);
    assert_int_equal(plan[4].latest_ms, plan[4].nominal_ms);
    /* The capacity bounds the plan; a huge wait saturates, never wraps. */
    assert_int_equal(policy_plan_attempts(&policy, 0, plan, 3), 3);
    policy.schedule.count = 0;
    policy.max_delay_ms = INT64_MAX;
    policy.base_delay_ms = INT64_MAX / 2;
    policy.max_retry = 4;
    assert_int_equal(policy_plan_attempts(&policy, 10000, plan, 32), 4);
    assert_int_equal(plan[3].nominal_ms, INT64_MAX);
    assert_int_equal(plan[3].latest_ms, INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponential_doubles_to_the_cap),
        cmocka_unit_test(test_fixed_delay),
        cmocka_unit_test(test_schedule_overrides_and_repeats_last),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_set_lookup),
        cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
