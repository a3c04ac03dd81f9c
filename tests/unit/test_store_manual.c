/* Unit tests for the store's manual-handling queries: listing (every filter
 * shape), retrying, resolving and the action log of the manual-handling
 * table. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef TestStore Fixture;

/* A task of TYPE whose one attempt ended at MOVED_AT as KIND (failed for good,
 * reason "exhausted", or succeeded). */
static int64_t finished_task(Store *store, const char *business_id, const char *type,
                             int64_t moved_at, AttemptOutcomeKind kind)
{
    TaskRequest request;
    test_task_request(&request, business_id, type, "http://a/x", NULL, "{}");
    request.headers_json = strdup("{\"X-Old\":\"1\"}");
    char err[256];
    int64_t id;
    Task claimed[1];
    size_t count = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(test_create_task(store, &request, 1, "msg_m", 0, &id), 0);
    assert_int_equal(store_claim_due(store, "http://a", 0, 1000, "0123456789abcdef0123456789abcdef", 1, claimed, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    task_clear(&claimed[0]);
    AttemptOutcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.attempt.task_id = id;
    outcome.attempt.attempt = 1;
    outcome.attempt.status_code = 500;
    strcpy(outcome.attempt.error_class, "http_status");
    strcpy(outcome.attempt.error_message, "HTTP 500");
    outcome.kind = kind;
    if (kind == ATTEMPT_OUTCOME_MANUAL)
        outcome.manual_reason = "exhausted";
    else
        outcome.attempt.status_code = 200;
    strcpy(outcome.claim_token, "0123456789abcdef0123456789abcdef");
    size_t fenced;
    assert_int_equal(store_record_outcomes(store, &outcome, 1, moved_at, &fenced, err, sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

static int64_t failed_task(Store *store, const char *business_id, const char *type,
                           int64_t moved_at)
{
    return finished_task(store, business_id, type, moved_at, ATTEMPT_OUTCOME_MANUAL);
}

static size_t list(Store *store, ManualFilter filter, int64_t *task_ids)
{
    if (filter.limit == 0)
        filter.limit = 100;
    if (filter.until == 0)
        filter.until = INT64_MAX;
    ManualEntry *entries;
    size_t count;
    char err[256];
    if (store_manual_list(store, &filter, &entries, &count, err, sizeof err) != 0)
        fail_msg("list: %s", err);
    for (size_t i = 0; i < count; i++)
        task_ids[i] = entries[i].task_id;
    store_manual_list_free(entries, count);
    return count;
}

static void test_list_filters_and_pages(void **state)
{
    Fixture *fixture = *state;
    int64_t a = failed_task(fixture->store, "A", "PAY", 1000);
    int64_t b = failed_task(fixture->store, "B", "ORDER", 2000);
    int64_t c = failed_task(fixture->store, "C", "PAY", 3000);
    int64_t ids[8];
    assert_int_equal(list(fixture->store, (ManualFilter){.state = MANUAL_STATE_OPEN}, ids), 3);
    assert_int_equal(ids[0], a); /* oldest first */
    assert_int_equal(ids[2], c);
    assert_int_equal(list(fixture->store, (ManualFilter){.business_type = "PAY"}, ids), 2);
    assert_int_equal(ids[1], c);
    assert_int_equal(list(fixture->store, (ManualFilter){.since = 1500, .until = 2500}, ids), 1);
    assert_int_equal(ids[0], b);
    assert_int_equal(list(fixture->store, (ManualFilter){.task_id = c}, ids), 1);
    assert_int_equal(list(fixture->store, (ManualFilter){.reason = "exhausted"}, ids), 3);
    assert_int_equal(list(fixture->store, (ManualFilter){.reason = "gone"}, ids), 0);
    assert_int_equal(list(fixture->store, (ManualFilter){.reason = "exhausted", .business_type = "ORDER"}, ids), 1);
    /* Keyset pages by entry id. */
    ManualEntry *entries;
    size_t count;
    char err[256];
    ManualFilter page = {.limit = 2, .until = INT64_MAX};
    assert_int_equal(store_manual_list(fixture->store, &page, &entries, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(entries[0].business_id, "A");
    assert_string_equal(entries[0].reason, "exhausted");
    assert_int_equal(entries[0].attempts, 1);
    assert_int_equal(entries[0].last_status_code, 500);
    assert_string_equal(entries[0].last_error, "http_status: HTTP 500");
    assert_int_equal(entries[0].moved_at, 1000);
    assert_true(entries[0].open);
    page.after = entries[1].id;
    store_manual_list_free(entries, count);
    assert_int_equal(list(fixture->store, page, ids), 1);
    assert_int_equal(ids[0], c);
    assert_int_equal(list(fixture->store, (ManualFilter){.state = MANUAL_STATE_RESOLVED}, ids), 0);
}

static const char *const shape_types[] = {"PAY", "ORDER"};

/* Whether FILTER picks the I-th entry of test_every_filter_shape (type
 * shape_types[I % 2], moved at 1000 * (I + 1), reason "exhausted"). */
static bool shape_picks(const ManualFilter *filter, int i, const bool *open, const int64_t *ids)
{
    return (filter->state == MANUAL_STATE_ALL || open[i] == (filter->state == MANUAL_STATE_OPEN)) &&
           (filter->business_type == NULL || strcmp(shape_types[i % 2], filter->business_type) == 0) &&
           (filter->task_id == 0 || ids[i] == filter->task_id) &&
           (filter->reason == NULL || strcmp(filter->reason, "exhausted") == 0) &&
           1000 * (i + 1) >= filter->since;
}

/* Every shape of the manual listing (three states, each of type, task and
 * reason on or off), twice, so each prepared statement is used again, paged
 * two at a time: the entries the same filter picks here, oldest first. */
static void test_every_filter_shape(void **state)
{
    Fixture *fixture = *state;
    const char *const *types = shape_types;
    int64_t ids[8];
    bool open[8];
    for (int i = 0; i < 8; i++) {
        char business_id[16];
        snprintf(business_id, sizeof business_id, "S%d", i);
        ids[i] = failed_task(fixture->store, business_id, types[i % 2], 1000 * (i + 1));
        open[i] = i % 3 != 0;
    }
    char err[256];
    for (int i = 0; i < 8; i++)
        if (!open[i])
            assert_int_equal(store_manual_resolve(fixture->store, ids[i], 0, "done", "ops",
                                                  9000, &(char *){NULL}, err, sizeof err),
                             STORE_OK);
    for (int round = 0; round < 2; round++)
        for (int shape = 0; shape < 24; shape++) {
            ManualFilter filter = {
                .state = shape % 3 == 0   ? MANUAL_STATE_OPEN
                         : shape % 3 == 1 ? MANUAL_STATE_RESOLVED
                                          : MANUAL_STATE_ALL,
                .business_type = shape / 3 & 1 ? types[round] : NULL,
                .task_id = shape / 3 & 2 ? ids[round ? 3 : 4] : 0,
                .reason = shape / 3 & 4 ? (round ? "exhausted" : "gone") : NULL,
                .since = round ? 2000 : 0,
                .until = INT64_MAX,
                .limit = 2,
            };
            int next = 0; /* the next of IDS the listing should give */
            for (;;) {
                ManualEntry *entries;
                size_t count;
                assert_int_equal(store_manual_list(fixture->store, &filter, &entries, &count, err,
                                                   sizeof err), 0);
                for (size_t e = 0; e < count; e++) {
                    while (next < 8 &&
                           !shape_picks(&filter, next, open, ids))
                        next++;
                    assert_true(next < 8);
                    assert_int_equal(entries[e].task_id, ids[next++]);
                    filter.after = entries[e].id;
                }
                store_manual_list_free(entries, count);
                if (count < 2)
                    break;
            }
            /* Nothing the filter picks was left out after the last one given. */
            while (next < 8 &&
                   !shape_picks(&filter, next, open, ids))
                next++;
            assert_int_equal(next, 8);
        }
}

static void test_retry_with_corrections(void **state)
{
    Fixture *fixture = *state;
    int64_t id = failed_task(fixture->store, "R", "PAY", 1000);
    ManualRepair repair = {.target_url = "http://fixed/notify", .target_host = "http://fixed:80",
                           .payload = "[1]", .payload_length = 3, .payload_is_json = true,
                           .replace_headers = true, .headers_json = "{\"X-New\":\"2\"}",
                           .max_retry = 4, .note = "wrong URL", .actor = "ops"};
    char err[256];
    char *host = NULL;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_retry(fixture->store, id, 0, &repair, "retry", "{\"a\":1}", 5000,
                                        &host, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_string_equal(host, "http://fixed:80");
    free(host);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.next_attempt_at, 5000);
    assert_int_equal(task.attempts, 1);
    assert_int_equal(task.max_retry, 1 + 4); /* a fresh budget on top of what was spent */
    assert_string_equal(task.target_url, "http://fixed/notify");
    assert_string_equal(task.payload, "[1]");
    assert_string_equal(task.headers_json, "{\"X-New\":\"2\"}");
    assert_string_equal(task.webhook_id, "msg_m");
    task_clear(&task);
    /* The task keeps the identity it was created with: the client's retry of
     * its original request repeats it; one for the new URL is a new task. */
    TaskRequest original, for_new_url;
    test_task_request(&original, "R", "PAY", "http://a/x", NULL, "{}");
    test_task_request(&for_new_url, "R", "PAY", "http://fixed/notify", NULL, "{}");
    TaskCreation creation;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create(fixture->store, &original, 1, "msg_o", 6000, &creation, err,
                                       sizeof err), STORE_OK);
    assert_false(creation.created);
    assert_int_equal(creation.existing.id, id);
    task_clear(&creation.existing);
    assert_int_equal(store_task_create(fixture->store, &for_new_url, 1, "msg_n", 6000, &creation,
                                       err, sizeof err), STORE_OK);
    assert_true(creation.created);
    store_rollback(fixture->store);
    task_request_clear(&original);
    task_request_clear(&for_new_url);
    int64_t ids[4];
    assert_int_equal(list(fixture->store, (ManualFilter){.state = MANUAL_STATE_OPEN}, ids), 0);
    ManualEntry *entries;
    size_t count;
    ManualFilter resolved = {.state = MANUAL_STATE_RESOLVED, .limit = 10, .until = INT64_MAX};
    assert_int_equal(store_manual_list(fixture->store, &resolved, &entries, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(entries[0].resolution, "retried");
    assert_string_equal(entries[0].note, "wrong URL");
    assert_int_equal(entries[0].resolved_at, 5000);
    store_manual_list_free(entries, count);
    ManualAction *actions;
    assert_int_equal(store_action_list(fixture->store, id, &actions, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(actions[0].action, "retry");
    assert_string_equal(actions[0].actor, "ops");
    assert_string_equal(actions[0].details, "{\"a\":1}");
    store_action_list_free(actions, count);
    /* Not in the open list any more: a second retry finds nothing. */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_retry(fixture->store, id, 0, &repair, "retry", NULL, 6000, &host,
                                        err, sizeof err), STORE_NOT_FOUND);
    store_rollback(fixture->store);
}

static void test_retry_without_corrections_keeps_the_task(void **state)
{
    Fixture *fixture = *state;
    int64_t id = failed_task(fixture->store, "K", "PAY", 1000);
    ManualRepair repair = {.max_retry = 2, .actor = "local"};
    char err[256];
    char *host = NULL;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_retry(fixture->store, id, 0, &repair, "bulk_retry", NULL, 5000, &host,
                                        err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_string_equal(host, "http://a");
    free(host);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_string_equal(task.target_url, "http://a/x");
    assert_string_equal(task.payload, "{}");
    assert_string_equal(task.headers_json, "{\"X-Old\":\"1\"}");
    task_clear(&task);
}

/* Replacing the headers with none (the API's "headers": {}) leaves NULL. */
static void test_retry_can_drop_the_headers(void **state)
{
    Fixture *fixture = *state;
    int64_t id = failed_task(fixture->store, "D", "PAY", 1000);
    ManualRepair repair = {.replace_headers = true, .max_retry = 1, .actor = "local"};
    char err[256];
    char *host = NULL;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_retry(fixture->store, id, 0, &repair, "retry", NULL, 5000, &host,
                                        err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    free(host);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_null(task.headers_json);
    assert_string_equal(task.payload, "{}");
    task_clear(&task);
}

static void test_resolve_and_matching(void **state)
{
    Fixture *fixture = *state;
    int64_t a = failed_task(fixture->store, "A", "PAY", 1000);
    int64_t b = failed_task(fixture->store, "B", "ORDER", 2000);
    int64_t c = failed_task(fixture->store, "C", "PAY", 3000);
    char err[256];
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_resolve(fixture->store, a, 0, "refunded by hand", "ops", 4000, &(char *){NULL}, err, sizeof err), STORE_OK);
    assert_int_equal(store_manual_resolve(fixture->store, a, 0, "again", "ops", 4000, &(char *){NULL}, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    /* A bulk action names the entry it listed: another entry of the task (a
     * newer failure) is not that one, and is left alone. */
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT id FROM manual WHERE task_id = %lld", (long long)b);
    int64_t listed = test_store_query(fixture, sql);
    ManualRepair repair = {.max_retry = 1, .actor = "ops"};
    char *host = NULL;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_resolve(fixture->store, b, listed + 1000, "not this", "ops", 4000, &(char *){NULL}, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_manual_retry(fixture->store, b, listed + 1000, &repair, "bulk_retry", NULL, 4000, &host, err, sizeof err), STORE_NOT_FOUND);
    assert_null(host);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM manual WHERE task_id = %lld AND state = 'open'",
             (long long)b);
    assert_int_equal(test_store_query(fixture, sql), 1);
    Task task;
    assert_int_equal(store_task_get(fixture->store, a, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_FAILED); /* resolving sends nothing */
    task_clear(&task);
    ManualMatch *matches;
    size_t count;
    ManualMatchFilter pay = {.business_type = "PAY", .until = INT64_MAX, .through_id = INT64_MAX};
    assert_int_equal(store_manual_open_matching(fixture->store, &pay, &matches, &count, err, sizeof err), 0);
    assert_int_equal(count, 1); /* a is resolved */
    assert_int_equal(matches[0].task_id, c);
    assert_string_equal(matches[0].business_type, "PAY");
    store_manual_matches_free(matches, count);
    ManualMatchFilter early = {.until = 2500, .through_id = INT64_MAX};
    assert_int_equal(store_manual_open_matching(fixture->store, &early, &matches, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(matches[0].task_id, b);
    store_manual_matches_free(matches, count);
    /* By reason: every one here ran out of attempts; none was gone. */
    ManualMatchFilter exhausted = {.reason = "exhausted", .until = INT64_MAX, .through_id = INT64_MAX};
    assert_int_equal(store_manual_open_matching(fixture->store, &exhausted, &matches, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(matches[0].task_id, b); /* oldest entry first */
    int64_t b_entry = matches[0].entry_id;
    assert_true(b_entry > 0 && matches[1].entry_id > b_entry);
    store_manual_matches_free(matches, count);
    /* Up to an entry id: what a dry run counted, and nothing that came after. */
    exhausted.through_id = b_entry;
    assert_int_equal(store_manual_open_matching(fixture->store, &exhausted, &matches, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(matches[0].entry_id, b_entry);
    store_manual_matches_free(matches, count);
    ManualMatchFilter gone = {.reason = "gone", .until = INT64_MAX, .through_id = INT64_MAX};
    assert_int_equal(store_manual_open_matching(fixture->store, &gone, &matches, &count, err, sizeof err), 0);
    assert_int_equal(count, 0);
    store_manual_matches_free(matches, count);
}

/* A redelivery sends a task that succeeded or failed again, as it is, with a
 * budget on top of its attempts; a failed task's open entry is closed; a task
 * in hand is refused and nothing is written. */
static void test_redeliver(void **state)
{
    Fixture *fixture = *state;
    Store *store = fixture->store;
    int64_t ok = finished_task(store, "OK", "PAY", 1000, ATTEMPT_OUTCOME_SUCCEEDED);
    int64_t failed = failed_task(store, "NO", "PAY", 1000);
    ManualRepair repair = {.max_retry = 1, .note = "lost by the receiver", .actor = "ops"};
    char err[256];
    char *host = NULL;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_task_redeliver(store, ok, &repair, "{\"schedule\":\"once\"}", 5000,
                                          &host, err, sizeof err), STORE_OK);
    assert_string_equal(host, "http://a");
    free(host);
    /* Now pending: a second redelivery is refused. */
    assert_int_equal(store_task_redeliver(store, ok, &repair, NULL, 5000, &host, err, sizeof err),
                     STORE_NOT_FOUND);
    assert_null(host);
    repair.max_retry = 3;
    assert_int_equal(store_task_redeliver(store, failed, &repair, NULL, 6000, &host, err,
                                          sizeof err), STORE_OK);
    free(host);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    Task task;
    assert_int_equal(store_task_get(store, ok, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.attempts, 1);
    assert_int_equal(task.max_retry, 2);
    assert_int_equal(task.next_attempt_at, 5000);
    assert_string_equal(task.webhook_id, "msg_m");
    assert_string_equal(task.payload, "{}");
    task_clear(&task);
    assert_int_equal(store_task_get(store, failed, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.max_retry, 4);
    task_clear(&task);
    int64_t ids[4];
    assert_int_equal(list(store, (ManualFilter){.state = MANUAL_STATE_OPEN}, ids), 0);
    ManualEntry *entries;
    size_t count;
    assert_int_equal(store_manual_list(store, &(ManualFilter){.state = MANUAL_STATE_ALL,
                                                              .task_id = failed, .limit = 10,
                                                              .until = INT64_MAX},
                                       &entries, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(entries[0].resolution, "retried");
    assert_string_equal(entries[0].note, "lost by the receiver");
    store_manual_list_free(entries, count);
    ManualAction *actions;
    assert_int_equal(store_action_list(store, ok, &actions, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(actions[0].action, "redeliver");
    assert_string_equal(actions[0].actor, "ops");
    assert_string_equal(actions[0].note, "lost by the receiver");
    assert_string_equal(actions[0].details, "{\"schedule\":\"once\"}");
    store_action_list_free(actions, count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_filter_shape, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retry_with_corrections, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retry_without_corrections_keeps_the_task, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retry_can_drop_the_headers, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_and_matching, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_redeliver, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests_name("store_manual", tests, NULL, NULL);
}
