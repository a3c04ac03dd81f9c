/* Unit tests for src/delivery/host_table.c: entries, limits, heap order, holds,
 * forgetting idle hosts. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>

#include "host_table.h"

static void test_claimable_hosts_in_due_order(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 2), 0);
    assert_null(host_table_peek(&table));
    Host *a = host_table_get(&table, "http://a:80");
    Host *b = host_table_get(&table, "http://b:80");
    Host *c = host_table_get(&table, "http://c:80");
    assert_ptr_equal(host_table_get(&table, "http://a:80"), a);
    host_table_set_due(&table, a, 300);
    host_table_set_due(&table, b, 100);
    host_table_set_due(&table, c, 200);
    assert_ptr_equal(host_table_peek(&table), b);
    /* A saturated host leaves the heap until a slot frees. */
    host_table_add_in_flight(&table, b, 2);
    assert_ptr_equal(host_table_peek(&table), c);
    host_table_add_in_flight(&table, b, -1);
    assert_ptr_equal(host_table_peek(&table), b);
    /* Earlier news moves a host up; later news does not move it down. */
    host_table_note_due(&table, a, 50);
    assert_ptr_equal(host_table_peek(&table), a);
    host_table_note_due(&table, a, 500);
    assert_int_equal(host_next_due(a), 50);
    host_table_set_due(&table, a, 400);
    assert_ptr_equal(host_table_peek(&table), b);
    host_table_free(&table);
}

static void test_idle_hosts_are_forgotten(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 4), 0);
    Host *a = host_table_get(&table, "http://a:80");
    host_table_set_due(&table, a, 100);
    host_table_add_in_flight(&table, a, 1);
    host_table_set_due(&table, a, HOST_TABLE_IDLE); /* in flight: kept */
    assert_ptr_equal(host_table_find(&table, "http://a:80"), a);
    assert_null(host_table_peek(&table));
    host_table_add_in_flight(&table, a, -1); /* idle now: dropped */
    assert_null(host_table_find(&table, "http://a:80"));
    assert_int_equal(table.count, 0);
    host_table_free(&table);
}

static void test_many_hosts_keep_heap_order(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 1), 0);
    enum { HOSTS = 1000 };
    for (int i = 0; i < HOSTS; i++) {
        char key[32];
        snprintf(key, sizeof key, "http://h%d:80", i);
        Host *host = host_table_get(&table, key);
        assert_non_null(host);
        host_table_set_due(&table, host, (int64_t)((i * 7919) % HOSTS));
    }
    assert_int_equal(table.count, HOSTS);
    /* Taking the top and saturating it must yield due times in order. */
    int64_t previous = -1;
    for (int i = 0; i < HOSTS; i++) {
        Host *top = host_table_peek(&table);
        assert_non_null(top);
        assert_true(host_next_due(top) >= previous);
        previous = host_next_due(top);
        host_table_add_in_flight(&table, top, 1);
    }
    assert_null(host_table_peek(&table));
    host_table_free(&table);
}

/* A hold (a receiver's Retry-After) makes a host ready only at its end, only
 * lengthens, keeps an idle host known until it ends, and ends by the clock. */
static void test_holds(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 2), 0);
    Host *a = host_table_get(&table, "http://a:80");
    Host *b = host_table_get(&table, "http://b:80");
    host_table_set_due(&table, a, 100);
    host_table_set_due(&table, b, 200);
    assert_ptr_equal(host_table_peek(&table), a);
    assert_true(host_table_hold(&table, a, 1000));
    assert_int_equal(host_ready_at(a), 1000);
    assert_int_equal(host_next_due(a), 100); /* the tasks' own due time stays */
    assert_ptr_equal(host_table_peek(&table), b);
    assert_false(host_table_hold(&table, a, 900)); /* never shortened */
    assert_true(host_table_hold(&table, a, 1500));
    assert_int_equal(host_held_until(a), 1500);
    /* Work due after the hold is ready when due. */
    host_table_set_due(&table, b, 5000);
    assert_true(host_table_hold(&table, b, 3000));
    assert_int_equal(host_ready_at(b), 5000);
    /* Idle and held: kept, so a task that comes meanwhile still waits. */
    host_table_set_due(&table, a, HOST_TABLE_IDLE);
    assert_ptr_equal(host_table_find(&table, "http://a:80"), a);
    host_table_expire_holds(&table, 1499);
    assert_ptr_equal(host_table_find(&table, "http://a:80"), a);
    host_table_note_due(&table, a, 1200);
    assert_int_equal(host_ready_at(a), 1500);
    host_table_set_due(&table, a, HOST_TABLE_IDLE);
    host_table_expire_holds(&table, 1500); /* ended: lifted, and the idle entry dropped */
    assert_null(host_table_find(&table, "http://a:80"));
    host_table_expire_holds(&table, 3000);
    assert_int_equal(host_held_until(b), 0);
    assert_int_equal(host_ready_at(b), 5000);
    assert_ptr_equal(host_table_peek(&table), b);
    host_table_free(&table);
}

/* The paused set is exactly the list given: hosts on it are never claimable
 * and kept while idle; one that is no longer on it is claimable again (or
 * dropped when idle); a paused receiver with no entry gets one. */
static void test_paused(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 2), 0);
    Host *a = host_table_get(&table, "http://a:80");
    Host *b = host_table_get(&table, "http://b:80");
    host_table_set_due(&table, a, 100);
    host_table_set_due(&table, b, 200);
    const HostGate paused[] = {{.key = "http://a:80", .paused = true},
                               {.key = "http://c:80", .paused = true}}; /* sorted */
    assert_int_equal(host_table_set_gates(&table, paused, 2), 0);
    assert_true(host_paused(a));
    assert_false(host_paused(b));
    assert_ptr_equal(host_table_peek(&table), b); /* a is due first, but paused */
    Host *c = host_table_find(&table, "http://c:80");
    assert_non_null(c);
    assert_true(host_paused(c));
    host_table_note_due(&table, c, 50); /* work for a paused receiver waits */
    assert_ptr_equal(host_table_peek(&table), b);
    host_table_set_due(&table, b, HOST_TABLE_IDLE);
    assert_null(host_table_peek(&table));
    /* Resumed: a is claimable again; c, idle once its work is gone, is dropped. */
    host_table_set_due(&table, c, HOST_TABLE_IDLE);
    assert_int_equal(host_table_set_gates(&table, NULL, 0), 0);
    assert_false(host_paused(a));
    assert_ptr_equal(host_table_peek(&table), a);
    assert_null(host_table_find(&table, "http://c:80"));
    host_table_free(&table);
}

/* An open circuit: one request at a time, not before its next probe, kept
 * while idle. Closed: it ramps up by one per success to per_host_limit. */
static void test_open_circuit_and_ramp(void **state)
{
    (void)state;
    HostTable table;
    assert_int_equal(host_table_init(&table, 4), 0);
    Host *a = host_table_get(&table, "http://a:80");
    host_table_set_due(&table, a, 100);
    HostGate open = {.key = "http://a:80", .open = true, .probe_at = 500};
    assert_int_equal(host_table_set_gates(&table, &open, 1), 0);
    assert_true(host_open(a));
    assert_int_equal(host_table_limit(&table, a), 1);
    assert_int_equal(host_ready_at(a), 500); /* due at 100, but the probe waits */
    assert_ptr_equal(host_table_peek(&table), a);
    host_table_add_in_flight(&table, a, 1); /* the probe */
    assert_null(host_table_peek(&table));
    host_table_add_in_flight(&table, a, -1);
    host_table_set_due(&table, a, HOST_TABLE_IDLE);
    assert_ptr_equal(host_table_find(&table, "http://a:80"), a); /* kept while open */
    /* Closed with its backlog: 1, then one more per success, then the full
     * limit (an idle host is dropped: nothing to ramp into). */
    host_table_set_due(&table, a, 100);
    assert_int_equal(host_table_set_gates(&table, NULL, 0), 0);
    assert_false(host_open(a));
    assert_int_equal(host_table_limit(&table, a), 1);
    assert_int_equal(host_ready_at(a), 100);
    host_table_add_in_flight(&table, a, 1);
    assert_null(host_table_peek(&table)); /* at its ramp's limit */
    host_table_note_success(&table, a);
    assert_int_equal(host_table_limit(&table, a), 2);
    assert_ptr_equal(host_table_peek(&table), a);
    host_table_note_success(&table, a);
    assert_int_equal(host_table_limit(&table, a), 3);
    host_table_note_success(&table, a);
    assert_int_equal(host_table_limit(&table, a), 4);
    host_table_note_success(&table, a); /* past the limit: no ramp any more */
    assert_int_equal(host_table_limit(&table, a), 4);
    /* Open again while ramping: back to the probe alone. */
    assert_int_equal(host_table_set_gates(&table, &open, 1), 0);
    assert_int_equal(host_table_limit(&table, a), 1);
    assert_null(host_table_peek(&table)); /* one in flight already */
    host_table_free(&table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claimable_hosts_in_due_order),
        cmocka_unit_test(test_idle_hosts_are_forgotten),
        cmocka_unit_test(test_many_hosts_keep_heap_order),
        cmocka_unit_test(test_holds),
        cmocka_unit_test(test_paused),
        cmocka_unit_test(test_open_circuit_and_ramp),
    };
    return cmocka_run_group_tests_name("host_table", tests, NULL, NULL);
}
