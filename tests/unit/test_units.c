/* Unit tests for src/common/units.c: durations and sizes. */
#include "test_support.h"

#include <string.h>

#include "units.h"

static void test_durations_accept_every_unit(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"0", 0},           {"30", 30000},       {"500ms", 500},      {"30s", 30000},
        {"1m", 60000},      {"2h", 7200000},     {"1d", 86400000},    {"15s", 15000},
        {"0ms", 0},         {"90m", 5400000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = -1;
        char err[128] = "";
        assert_int_equal(units_parse_duration_ms(cases[i].text, &ms, err, sizeof err), 0);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void test_durations_reject_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "s", "-1s", "+1s", "1.5s", "1 s", "1sec", "1S",
                                      "10x", "1w", "ms", "99999999999999999999", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        char err[128] = "";
        assert_int_equal(units_parse_duration_ms(bad[i], &ms, err, sizeof err), -1);
        assert_int_equal(ms, 42);
        assert_true(strlen(err) > 0);
    }
}

static void test_durations_reject_overflow(void **state)
{
    (void)state;
    int64_t ms;
    char err[128];
    /* 10^17 days overflows int64 milliseconds. */
    assert_int_equal(units_parse_duration_ms("100000000000000000d", &ms, err, sizeof err), -1);
    assert_non_null(strstr(err, "too large"));
    assert_int_equal(units_parse_duration_ms("9223372036854775807ms", &ms, err, sizeof err), 0);
    assert_int_equal(units_parse_duration_ms("9223372036854775808ms", &ms, err, sizeof err), -1);
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {{"0", 0},           {"4096", 4096},       {"12B", 12},
                 {"4KiB", 4096},     {"256KiB", 262144},   {"1MiB", 1048576},
                 {"2GiB", 2147483648ULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t bytes = 0;
        char err[128];
        assert_int_equal(units_parse_size(cases[i].text, &bytes, err, sizeof err), 0);
        assert_true(bytes == cases[i].bytes);
    }
    static const char *const bad[] = {"", "KiB", "4kib", "4KB", "4 KiB", "-4", "1.5MiB",
                                      "99999999999999999999GiB", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t bytes;
        char err[128] = "";
        assert_int_equal(units_parse_size(bad[i], &bytes, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_error_names_the_problem(void **state)
{
    (void)state;
    int64_t ms;
    char err[160];
    assert_int_equal(units_parse_duration_ms("10x", &ms, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown unit \"x\""));
    uint64_t bytes;
    assert_int_equal(units_parse_size("abc", &bytes, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid size \"abc\""));
}

static void test_durations_written_for_people(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "0s"},           {-5, "0s"},          {1, "1ms"},
        {1500, "1s 500ms"},  {60000, "1m"},       {15300000, "4h 15m"},
        {90061001, "1d 1h 1m 1s 1ms"},
        {INT64_MAX, "106751991167d 7h 12m 55s 807ms"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[UNITS_DURATION_TEXT_MAX];
        units_format_duration_ms(cases[i].ms, text);
        assert_string_equal(text, cases[i].text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations_accept_every_unit),
        cmocka_unit_test(test_durations_reject_malformed),
        cmocka_unit_test(test_durations_reject_overflow),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_error_names_the_problem),
        cmocka_unit_test(test_durations_written_for_people),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
