/* Unit tests for src/common/metrics.c: counters, histogram buckets, the text format. */
#include "test_support.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"

static char *render(void)
{
    static Buffer out;
    buffer_free(&out);
    buffer_init(&out, 1 << 20);
    MetricsGauges gauges = {.tasks_by_status = {1, 2, 3, 4}, .manual_open = 5};
    assert_int_equal(metrics_render(&out, &gauges), 0);
    assert_int_equal(buffer_append(&out, "", 0), 0);
    return out.data;
}

static void expect_line(const char *text, const char *line)
{
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s\n", line);
    if (strstr(text, needle) == NULL)
        fail_msg("missing line \"%s\"", line);
}

#define FIXED_NOW 1700000000000LL

static int64_t fixed_clock(void)
{
    return FIXED_NOW;
}

static void test_counters_and_gauges(void **state)
{
    (void)state;
    metrics_count_intake(201);
    metrics_count_intake(201);
    metrics_count_intake(418); /* not a code we list: "other" */
    metrics_count_delivery("success", 3);
    metrics_count_delivery("timeout", 10000);
    metrics_count_delivery("something_new", 1);
    metrics_count_alert("manual_backlog");
    clock_set_sources(fixed_clock, fixed_clock);
    /* The lag is the age of the earliest work waiting: the scheduler's own,
     * or a notice it has not taken yet; computed when asked. */
    metrics_set_waiting_due(FIXED_NOW - 1500);
    metrics_note_unseen_due(FIXED_NOW - 3000);
    assert_int_equal(metrics_scheduler_lag(), 3000);
    metrics_clear_unseen_due();
    metrics_note_unseen_due(FIXED_NOW + 1000); /* not due yet: no lag */
    assert_int_equal(metrics_scheduler_lag(), 1500);
    const char *text = render();
    expect_line(text, "herald_tasks{status=\"failed\"} 4");
    expect_line(text, "herald_manual_open 5");
    expect_line(text, "herald_intake_requests_total{code=\"201\"} 2");
    expect_line(text, "herald_intake_requests_total{code=\"other\"} 1");
    expect_line(text, "herald_deliveries_total{outcome=\"success\"} 1");
    expect_line(text, "herald_deliveries_total{outcome=\"timeout\"} 1");
    expect_line(text, "herald_deliveries_total{outcome=\"other\"} 1");
    expect_line(text, "herald_alerts_fired_total{kind=\"manual_backlog\"} 1");
    expect_line(text, "herald_scheduler_lag_seconds 1.500");
    expect_line(text, "# TYPE herald_deliveries_total counter");
}

static void test_database_health_and_leader(void **state)
{
    (void)state;
    static Buffer out;
    buffer_init(&out, 1 << 20);
    static const char *const tables[] = {"tasks", "attempts"};
    static const int64_t dead[] = {120, 7};
    MetricsGauges gauges = {.database_known = true, .tables = tables, .table_count = 2,
                            .dead_tuples = dead, .oldest_transaction_ms = 2500};
    metrics_set_leader(true);
    assert_int_equal(metrics_render(&out, &gauges), 0);
    assert_int_equal(buffer_append(&out, "", 0), 0);
    expect_line(out.data, "herald_db_dead_tuples{table=\"tasks\"} 120");
    expect_line(out.data, "herald_db_dead_tuples{table=\"attempts\"} 7");
    expect_line(out.data, "herald_db_oldest_transaction_seconds 2.500");
    expect_line(out.data, "herald_leader 1");
    buffer_free(&out);
    /* Unknown (SQLite): not shown at all. */
    const char *text = render();
    assert_null(strstr(text, "herald_db_"));
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    /* From the previous test: 3 ms, 10 s, 1 ms. Add 2.5 ms exactly (le is inclusive). */
    metrics_count_delivery("success", 2);
    const char *text = render();
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"0.001\"} 1");
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"0.0025\"} 2");
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"0.005\"} 3");
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"5\"} 3");
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"10\"} 4");
    expect_line(text, "herald_delivery_duration_seconds_bucket{le=\"+Inf\"} 4");
    expect_line(text, "herald_delivery_duration_seconds_count 4");
    expect_line(text, "herald_delivery_duration_seconds_sum 10.006000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_gauges),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_database_health_and_leader),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
