/* Unit tests for src/core/rate_limit.c: parsing a rate, and the bucket
 * (GCRA) never letting more than the rate plus the burst through in any
 * window, whatever the pattern of asking. */
#include "test_support.h"

#include <string.h>

#include "rate_limit.h"

static void test_rates_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t interval_us;
        int64_t burst;
    } cases[] = {
        {"50/s", 20000, 5},     {"1/s", 1000000, 1},   {"3/s", 333334, 1},
        {"30/min", 2000000, 1}, {"6000/min", 10000, 10}, {"100000/s", 10, 10000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        RateLimit limit;
        char err[128] = "";
        assert_int_equal(rate_limit_parse(cases[i].text, &limit, err, sizeof err), 0);
        assert_int_equal(limit.interval_us, cases[i].interval_us);
        assert_int_equal(limit.burst, cases[i].burst);
        assert_string_equal(limit.text, cases[i].text);
    }
    RateLimit none;
    char err[128] = "";
    assert_int_equal(rate_limit_parse("0", &none, err, sizeof err), 0);
    assert_int_equal(none.interval_us, 0);
}

static void test_rates_reject_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"",      "50",     "50/",    "/s",     "-5/s",
                                      "0/s",   "5/h",    "5/S",    "5 /s",   "1.5/s",
                                      "100001/s", "6000001/min", "99999999999999999999/s",
                                      "+5/s",  "5/sec"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        RateLimit limit;
        char err[128] = "";
        assert_int_equal(rate_limit_parse(bad[i], &limit, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

/* At most COUNT taken in any window of WINDOW_US among TIMES (sorted). */
static int64_t most_in_window(const int64_t *times, size_t count, int64_t window_us)
{
    int64_t most = 0;
    size_t start = 0;
    for (size_t end = 0; end < count; end++) {
        while (times[end] - times[start] >= window_us)
            start++;
        if ((int64_t)(end - start + 1) > most)
            most = (int64_t)(end - start + 1);
    }
    return most;
}

static void test_bucket_keeps_the_rate_in_every_window(void **state)
{
    (void)state;
    RateLimit limit;
    char err[128];
    assert_int_equal(rate_limit_parse("50/s", &limit, err, sizeof err), 0);
    enum { TAKEN_MAX = 4000 };
    static int64_t times[TAKEN_MAX];
    size_t taken = 0;
    int64_t tat = 0, now = 1700000000000000;
    unsigned seed = 7;
    /* Asking at random moments for random amounts, as schedulers do. */
    while (taken < TAKEN_MAX - 16) {
        seed = seed * 1103515245u + 12345u;
        int64_t want = 1 + (seed >> 16) % 8;
        int64_t wait = 0;
        int64_t got = rate_bucket_take(&tat, now, &limit, want, &wait);
        assert_true(got >= 0 && got <= want);
        assert_true(got == want || wait > 0);
        for (int64_t i = 0; i < got; i++)
            times[taken++] = now;
        seed = seed * 1103515245u + 12345u;
        now += (seed >> 16) % 30000; /* up to 30 ms later */
    }
    int64_t most = most_in_window(times, taken, 1000000);
    assert_true(most <= 50 + limit.burst);
    assert_true(most >= 50); /* and it does not starve */
    /* Over the whole run, the rate itself. */
    double seconds = (double)(times[taken - 1] - times[0]) / 1e6;
    assert_true((double)taken <= 50.0 * seconds + (double)limit.burst);
}

static void test_bucket_waits_for_the_next_token(void **state)
{
    (void)state;
    RateLimit limit;
    char err[128];
    assert_int_equal(rate_limit_parse("10/s", &limit, err, sizeof err), 0);
    assert_int_equal(limit.burst, 1);
    int64_t tat = 0, wait = -1, now = 5000000;
    assert_int_equal(rate_bucket_take(&tat, now, &limit, 3, &wait), 1);
    assert_int_equal(wait, 100000);
    assert_int_equal(rate_bucket_take(&tat, now + 99999, &limit, 1, &wait), 0);
    assert_int_equal(wait, 1);
    assert_int_equal(rate_bucket_take(&tat, now + 100000, &limit, 1, &wait), 1);
    /* Tokens given back are taken again at once. */
    rate_bucket_give_back(&tat, &limit, 1);
    assert_int_equal(rate_bucket_take(&tat, now + 100000, &limit, 1, &wait), 1);
    /* An idle bucket fills up to the burst, never more. */
    assert_int_equal(rate_bucket_take(&tat, now + 60000000, &limit, 5, &wait), 1);
}

static void test_bucket_after_a_faster_rate_and_a_late_charge(void **state)
{
    (void)state;
    RateLimit slow, fast;
    char err[128];
    assert_int_equal(rate_limit_parse("60/min", &slow, err, sizeof err), 0);
    slow.burst = 20;
    assert_int_equal(rate_limit_parse("100/s", &fast, err, sizeof err), 0);
    int64_t tat = 0, wait = 0, now = 1000000000;
    assert_int_equal(rate_bucket_take(&tat, now, &slow, 20, &wait), 20);
    /* Twenty seconds charged at the old rate; a reload raised it: a burst at
     * most is owed under the new one, not twenty seconds. */
    assert_int_equal(rate_bucket_take(&tat, now, &fast, 5, &wait), 0);
    assert_true(wait <= fast.interval_us);
    assert_int_equal(rate_bucket_take(&tat, now + fast.interval_us, &fast, 5, &wait), 1);
    /* Tokens taken at NOW whose requests go out a second later count from then. */
    int64_t late = 0;
    assert_int_equal(rate_bucket_take(&late, now, &fast, 10, &wait), 10);
    rate_bucket_charge(&late, now + 1000000, &fast, 10);
    assert_int_equal(late, now + 1000000 + 10 * fast.interval_us);
    assert_int_equal(rate_bucket_take(&late, now + 1000000, &fast, 10, &wait), 0);
    /* A charge never lowers what is owed. */
    rate_bucket_charge(&late, now, &fast, 1);
    assert_int_equal(late, now + 1000000 + 10 * fast.interval_us);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_parse),
        cmocka_unit_test(test_rates_reject_malformed),
        cmocka_unit_test(test_bucket_keeps_the_rate_in_every_window),
        cmocka_unit_test(test_bucket_waits_for_the_next_token),
        cmocka_unit_test(test_bucket_after_a_faster_rate_and_a_late_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
