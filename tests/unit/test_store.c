/* Unit tests for the store (store.h), run against each backend
 * (HERALD_TEST_BACKEND): opening, the task queries, claims and outcomes. */
#include "test_support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef TestStore Fixture;

static void make_request(TaskRequest *request, const char *business_id, const char *type,
                         const char *url, const char *key)
{
    test_task_request(request, business_id, type, url, key, "{\"a\":1}");
}

static int64_t insert(Store *store, const char *business_id, const char *type, const char *url,
                      const char *key, int64_t now)
{
    TaskRequest request;
    make_request(&request, business_id, type, url, key);
    char err[256];
    int64_t id = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    if (test_create_task(store, &request, 5, "msg_test", now, &id) != 0)
        fail_msg("insert: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

static void test_fresh_database_is_migrated(void **state)
{
    Fixture *fixture = *state;
    const MigrationSet *set =
        test_backend_is_postgresql() ? &migrations_postgresql : &migrations_sqlite;
    assert_int_equal(store_schema_version(fixture->store), (int)set->count);
    char err[256];
    assert_int_equal(store_ping(fixture->store, err, sizeof err), 0);
    /* A second connection that does not migrate accepts the current schema. */
    StoreOptions options = {.migrate = false};
    Store *other = store_open(&fixture->location, &options, err, sizeof err);
    assert_non_null(other);
    store_close(other);
}

static void test_insert_get_round_trip(void **state)
{
    Fixture *fixture = *state;
    TaskRequest request;
    make_request(&request, "P1", "PAYMENT_SUCCESS", "https://order/notify", "key-1");
    request.headers_json = strdup("{\"X-Tenant\":\"a\"}");
    task_request_compute_hash(&request);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 7, "msg_x", 1234, &id), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.id, id);
    assert_string_equal(task.webhook_id, "msg_x");
    assert_string_equal(task.business_id, "P1");
    assert_string_equal(task.business_type, "PAYMENT_SUCCESS");
    assert_string_equal(task.target_url, "https://order/notify");
    assert_string_equal(task.payload, "{\"a\":1}");
    assert_int_equal(task.payload_length, 7);
    assert_true(task.payload_is_json);
    assert_string_equal(task.headers_json, "{\"X-Tenant\":\"a\"}");
    assert_string_equal(task.idempotency_key, "key-1");
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.attempts, 0);
    assert_int_equal(task.max_retry, 7);
    assert_int_equal(task.next_attempt_at, 1234);
    assert_int_equal(task.created_at, 1234);
    assert_int_equal(task.last_status_code, 0);
    assert_null(task.last_error);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, id + 100, &task, err, sizeof err), STORE_NOT_FOUND);

    task_request_clear(&request);
}

/* store_task_create on REQUEST: STORE_OK; *CREATED and the id made or found. */
static int64_t create(Store *store, const TaskRequest *request, bool *created,
                      unsigned char hash[TASK_HASH_SIZE])
{
    char err[256];
    TaskCreation creation;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_task_create(store, request, 5, "msg_c", 10, &creation, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    *created = creation.created;
    if (creation.created)
        return creation.id;
    if (hash != NULL)
        memcpy(hash, creation.existing_hash, TASK_HASH_SIZE);
    int64_t id = creation.existing.id;
    task_clear(&creation.existing);
    return id;
}

static void test_create_finds_what_a_request_repeats(void **state)
{
    Fixture *fixture = *state;
    TaskRequest keyed, same_key, keyless, keyless_again, other_url;
    make_request(&keyed, "P1", "PAYMENT_SUCCESS", "https://order/notify", "key-1");
    make_request(&same_key, "P9", "PAYMENT_SUCCESS", "https://else/", "key-1");
    make_request(&keyless, "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&keyless_again, "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&other_url, "P1", "PAYMENT_SUCCESS", "https://other/", NULL);
    bool created;
    unsigned char hash[TASK_HASH_SIZE];
    int64_t first = create(fixture->store, &keyed, &created, NULL);
    assert_true(created);
    /* The key decides, and the caller learns the first request's hash. */
    assert_int_equal(create(fixture->store, &same_key, &created, hash), first);
    assert_false(created);
    assert_memory_equal(hash, keyed.hash, TASK_HASH_SIZE);
    /* Without a key: only tasks also created without one count. */
    int64_t plain = create(fixture->store, &keyless, &created, NULL);
    assert_true(created);
    assert_true(plain != first);
    assert_int_equal(create(fixture->store, &keyless_again, &created, NULL), plain);
    assert_false(created);
    int64_t other = create(fixture->store, &other_url, &created, NULL);
    assert_true(created);
    assert_true(other != plain);
    task_request_clear(&keyed);
    task_request_clear(&same_key);
    task_request_clear(&keyless);
    task_request_clear(&keyless_again);
    task_request_clear(&other_url);
}

/* store_task_create_many: each item as if created alone, in order, so an
 * item repeats one committed before or one earlier in the same call. */
static void test_create_many_is_create_in_order(void **state)
{
    Fixture *fixture = *state;
    TaskRequest committed, requests[6];
    make_request(&committed, "P0", "PAYMENT_SUCCESS", "https://order/notify", "key-0");
    bool created;
    int64_t earlier = create(fixture->store, &committed, &created, NULL);
    assert_true(created);
    make_request(&requests[0], "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&requests[1], "P1", "PAYMENT_SUCCESS", "https://order/notify", NULL);
    make_request(&requests[2], "P0", "PAYMENT_SUCCESS", "https://order/notify", "key-0");
    make_request(&requests[3], "P2", "ORDER_UPDATE", "https://order/notify", "key-2");
    make_request(&requests[4], "P3", "ORDER_UPDATE", "https://else/", "key-2"); /* reused */
    make_request(&requests[5], "P1", "PAYMENT_SUCCESS", "https://other/", NULL);
    const char *ids[6] = {"msg_m0", "msg_m1", "msg_m2", "msg_m3", "msg_m4", "msg_m5"};
    TaskCreateItem items[6];
    for (int i = 0; i < 6; i++)
        items[i] = (TaskCreateItem){.request = &requests[i], .max_retry = 3 + i,
                                    .webhook_id = ids[i]};
    TaskCreation out[6];
    char err[256];
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create_many(fixture->store, items, 6, 20, out, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    bool expect_created[6] = {true, false, false, true, false, true};
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i].created, expect_created[i]);
    assert_int_equal(out[1].existing.id, out[0].id);
    assert_int_equal(out[2].existing.id, earlier);
    assert_memory_equal(out[2].existing_hash, committed.hash, TASK_HASH_SIZE);
    assert_int_equal(out[4].existing.id, out[3].id);
    assert_memory_equal(out[4].existing_hash, requests[3].hash, TASK_HASH_SIZE);
    assert_true(out[0].id < out[3].id && out[3].id < out[5].id); /* ids in order */
    Task task;
    assert_int_equal(store_task_get(fixture->store, out[3].id, &task, err, sizeof err), STORE_OK);
    assert_string_equal(task.webhook_id, "msg_m3");
    assert_int_equal(task.max_retry, 6);
    assert_int_equal(task.created_at, 20);
    assert_string_equal(task.idempotency_key, "key-2");
    assert_memory_equal(task.payload, "{\"a\":1}", task.payload_length);
    task_clear(&task);
    for (int i = 0; i < 6; i++) {
        task_clear(&out[i].existing);
        task_request_clear(&requests[i]);
    }
    task_request_clear(&committed);
    /* Nothing at all is fine too. */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create_many(fixture->store, items, 0, 20, out, err, sizeof err),
                     STORE_OK);
    store_rollback(fixture->store);
}

static void test_rollback_discards(void **state)
{
    Fixture *fixture = *state;
    TaskRequest request;
    make_request(&request, "P1", "T", "http://a/", NULL);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 5, "m", 1, &id), 0);
    store_rollback(fixture->store);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_NOT_FOUND);
    /* A savepoint undoes only its own part. */
    int64_t kept, undone;
    TaskRequest second;
    make_request(&second, "P2", "T", "http://a/", NULL);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &request, 5, "m", 1, &kept), 0);
    assert_int_equal(store_savepoint(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_create_task(fixture->store, &second, 5, "m", 1, &undone), 0);
    assert_int_equal(store_savepoint_rollback(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_get(fixture->store, kept, &task, err, sizeof err), STORE_OK);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, undone, &task, err, sizeof err), STORE_NOT_FOUND);
    task_request_clear(&request);
    task_request_clear(&second);
}

static void expect_ids(Store *store, const TaskFilter *filter, const int64_t *ids, size_t count)
{
    Task *tasks;
    size_t found;
    char err[256];
    assert_int_equal(store_task_list(store, filter, &tasks, &found, err, sizeof err), 0);
    assert_int_equal(found, count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(tasks[i].id, ids[i]);
    store_task_list_free(tasks, found);
}

static void test_list_filters_and_pages(void **state)
{
    Fixture *fixture = *state;
    int64_t a = insert(fixture->store, "P1", "PAY", "http://a/", NULL, 1);
    int64_t b = insert(fixture->store, "P1", "ORDER", "http://a/", NULL, 2);
    int64_t c = insert(fixture->store, "P2", "PAY", "http://a/", NULL, 3);
    int64_t d = insert(fixture->store, "P3", "PAY", "http://b/", NULL, 4);
    int64_t e = insert(fixture->store, "P4", "KEYED", "http://b/", "KEY-1", 5);
    TaskFilter by_key = {.limit = 10, .idempotency_key = "KEY-1"};
    expect_ids(fixture->store, &by_key, (int64_t[]){e}, 1);
    TaskFilter by_key_and_type = {.limit = 10, .idempotency_key = "KEY-1", .business_type = "ORDER"};
    expect_ids(fixture->store, &by_key_and_type, NULL, 0);
    TaskFilter no_key = {.limit = 10, .idempotency_key = "KEY-2"};
    expect_ids(fixture->store, &no_key, NULL, 0);
    TaskFilter all = {.limit = 10, .after = e};
    expect_ids(fixture->store, &all, (int64_t[]){d, c, b, a}, 4);
    TaskFilter page = {.limit = 2, .after = e};
    expect_ids(fixture->store, &page, (int64_t[]){d, c}, 2);
    page.after = c;
    expect_ids(fixture->store, &page, (int64_t[]){b, a}, 2);
    page.after = a;
    expect_ids(fixture->store, &page, NULL, 0);
    TaskFilter by_id = {.limit = 10, .business_id = "P1"};
    expect_ids(fixture->store, &by_id, (int64_t[]){b, a}, 2);
    TaskFilter by_type = {.limit = 10, .business_type = "PAY"};
    expect_ids(fixture->store, &by_type, (int64_t[]){d, c, a}, 3);
    TaskFilter both = {.limit = 10, .business_type = "PAY", .business_id = "P1"};
    expect_ids(fixture->store, &both, (int64_t[]){a}, 1);
    TaskFilter pending = {.limit = 10, .has_status = true, .status = TASK_STATUS_PENDING, .after = d};
    expect_ids(fixture->store, &pending, (int64_t[]){c, b, a}, 3);
    TaskFilter failed = {.limit = 10, .has_status = true, .status = TASK_STATUS_FAILED};
    expect_ids(fixture->store, &failed, NULL, 0);
}

/* ---- delivery ---- */

static size_t claim(Store *store, const char *host, int64_t now, size_t limit, Task *out)
{
    char err[256];
    size_t count = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    if (store_claim_due(store, host, now, now + 1000, limit, out, &count, err, sizeof err) != 0)
        fail_msg("claim: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    return count;
}

static void test_claim_by_host_in_due_order(void **state)
{
    Fixture *fixture = *state;
    int64_t a1 = insert(fixture->store, "A1", "T", "http://a/1", NULL, 300);
    int64_t a2 = insert(fixture->store, "A2", "T", "http://a/2", NULL, 100);
    int64_t a3 = insert(fixture->store, "A3", "T", "http://a/3", NULL, 200);
    int64_t future = insert(fixture->store, "A4", "T", "http://a/4", NULL, 5000);
    int64_t b1 = insert(fixture->store, "B1", "T", "http://b/1", NULL, 50);
    char err[256];
    StoreHost *hosts;
    size_t host_count;
    assert_int_equal(store_host_list_pending(fixture->store, &hosts, &host_count, err, sizeof err), 0);
    assert_int_equal(host_count, 2);
    assert_string_equal(hosts[0].target_host, "http://a");
    assert_int_equal(hosts[0].next_due, 100);
    assert_string_equal(hosts[1].target_host, "http://b");
    assert_int_equal(hosts[1].next_due, 50);
    store_host_list_free(hosts, host_count);

    Task tasks[8];
    assert_int_equal(claim(fixture->store, "http://a", 1000, 2, tasks), 2);
    /* Earliest due first; RETURNING order is not promised, so sort out by id. */
    int64_t first = tasks[0].id, second = tasks[1].id;
    assert_true((first == a2 && second == a3) || (first == a3 && second == a2));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tasks[i].status, TASK_STATUS_DELIVERING);
        assert_int_equal(tasks[i].attempts, 1);
        assert_int_equal(tasks[i].next_attempt_at, 2000); /* the lease */
        assert_string_equal(tasks[i].target_host, "http://a");
        task_clear(&tasks[i]);
    }
    int64_t next_due = 0;
    assert_int_equal(store_host_next_due(fixture->store, "http://a", &next_due, err, sizeof err), STORE_OK);
    assert_int_equal(next_due, 300);
    assert_int_equal(claim(fixture->store, "http://a", 1000, 5, tasks), 1);
    assert_int_equal(tasks[0].id, a1);
    task_clear(&tasks[0]);
    /* Not due yet; and another host's tasks are never claimed for this one. */
    assert_int_equal(claim(fixture->store, "http://a", 1000, 5, tasks), 0);
    assert_int_equal(store_host_next_due(fixture->store, "http://a", &next_due, err, sizeof err), STORE_OK);
    assert_int_equal(next_due, 5000);
    assert_int_equal(claim(fixture->store, "http://a", 6000, 5, tasks), 1);
    assert_int_equal(tasks[0].id, future);
    task_clear(&tasks[0]);
    assert_int_equal(store_host_next_due(fixture->store, "http://a", &next_due, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(claim(fixture->store, "http://b", 1000, 5, tasks), 1);
    assert_int_equal(tasks[0].id, b1);
    task_clear(&tasks[0]);
}

static AttemptOutcome outcome(int64_t task_id, int attempt, AttemptOutcomeKind kind, int code,
                              const char *error_class)
{
    AttemptOutcome result;
    memset(&result, 0, sizeof result);
    result.attempt.task_id = task_id;
    result.attempt.attempt = attempt;
    result.attempt.started_at = 1000;
    result.attempt.duration_ms = 12;
    result.attempt.status_code = code;
    snprintf(result.attempt.error_class, sizeof result.attempt.error_class, "%s", error_class);
    if (error_class[0])
        snprintf(result.attempt.error_message, sizeof result.attempt.error_message, "HTTP %d", code);
    result.kind = kind;
    result.next_attempt_at = 9000;
    result.manual_reason = "exhausted";
    return result;
}

/* Records OUTCOMES; returns how many were fenced off. */
static size_t record(Store *store, AttemptOutcome *outcomes, size_t count)
{
    char err[256];
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    size_t fenced;
    if (store_record_outcomes(store, outcomes, count, 1500, &fenced, err, sizeof err) != 0)
        fail_msg("record: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    return fenced;
}

static void test_outcomes(void **state)
{
    Fixture *fixture = *state;
    int64_t ok = insert(fixture->store, "OK", "T", "http://a/1", NULL, 100);
    int64_t retry = insert(fixture->store, "RETRY", "T", "http://a/2", NULL, 100);
    int64_t manual = insert(fixture->store, "MANUAL", "T", "http://a/3", NULL, 100);
    Task tasks[3];
    assert_int_equal(claim(fixture->store, "http://a", 1000, 3, tasks), 3);
    for (int i = 0; i < 3; i++)
        task_clear(&tasks[i]);
    AttemptOutcome outcomes[3] = {
        outcome(ok, 1, ATTEMPT_OUTCOME_SUCCEEDED, 200, ""),
        outcome(retry, 1, ATTEMPT_OUTCOME_RETRY, 503, "http_status"),
        outcome(manual, 1, ATTEMPT_OUTCOME_MANUAL, 410, "http_status"),
    };
    outcomes[0].attempt.response_body = "ok";
    outcomes[0].attempt.response_length = 2;
    outcomes[0].attempt.receiver = "http://a";
    outcomes[2].manual_reason = "gone";
    record(fixture->store, outcomes, 3);

    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, ok, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_SUCCEEDED);
    assert_int_equal(task.last_status_code, 200);
    assert_null(task.last_error);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, retry, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.next_attempt_at, 9000);
    assert_int_equal(task.attempts, 1);
    assert_string_equal(task.last_error, "http_status: HTTP 503");
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, manual, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_FAILED);
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual WHERE reason = 'gone' AND state = 'open'"
                                " AND attempts = 1 AND last_status_code = 410"), 1);

    /* A late outcome for a task no longer in flight changes nothing but the log. */
    AttemptOutcome late = outcome(manual, 1, ATTEMPT_OUTCOME_MANUAL, 500, "http_status");
    assert_int_equal(record(fixture->store, &late, 1), 1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), 1);

    Attempt *attempts;
    size_t count;
    assert_int_equal(store_attempt_list(fixture->store, ok, &attempts, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(attempts[0].attempt, 1);
    assert_int_equal(attempts[0].status_code, 200);
    assert_string_equal(attempts[0].error_class, "");
    assert_int_equal(attempts[0].response_length, 2);
    assert_memory_equal(attempts[0].response_body, "ok", 2);
    assert_string_equal(attempts[0].receiver, "http://a");
    store_attempt_list_free(attempts, count);
    assert_int_equal(store_attempt_list(fixture->store, manual, &attempts, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(attempts[0].status_code, 410);
    assert_null(attempts[0].receiver); /* not given: not known */
    assert_int_equal(attempts[1].status_code, 500);
    store_attempt_list_free(attempts, count);
}

static void test_recover_interrupted(void **state)
{
    Fixture *fixture = *state;
    int64_t a = insert(fixture->store, "A", "T", "http://a/1", NULL, 100);
    int64_t b = insert(fixture->store, "B", "T", "http://b/1", NULL, 100);
    char err[256];
    Task tasks[2];
    size_t count = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://a", 1000, 2000, 5, tasks, &count, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://b", 1000, 9000, 5, tasks, &count, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(count, 2);
    task_clear(&tasks[0]);
    task_clear(&tasks[1]);
    /* Only the expired lease is recovered at 3000. */
    int recovered;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_recover_interrupted(fixture->store, 3000, 3000, &recovered, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(recovered, 1);
    Task task;
    assert_int_equal(store_task_get(fixture->store, a, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.next_attempt_at, 3000);
    assert_int_equal(task.attempts, 1); /* the cut-off attempt stays counted and logged */
    task_clear(&task);
    Attempt *attempts;
    size_t attempt_count;
    assert_int_equal(store_attempt_list(fixture->store, a, &attempts, &attempt_count, err, sizeof err), 0);
    assert_int_equal(attempt_count, 1);
    assert_string_equal(attempts[0].error_class, "interrupted");
    assert_int_equal(attempts[0].attempt, 1);
    assert_string_equal(attempts[0].receiver, "http://a");
    store_attempt_list_free(attempts, attempt_count);
    /* At start-up everything in flight is recovered, whatever its lease. */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_recover_interrupted(fixture->store, 3000, INT64_MAX, &recovered, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(recovered, 1);
    assert_int_equal(store_task_get(fixture->store, b, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    task_clear(&task);
}

/* An outcome is fenced by its claim: once the lease ended and the task was
 * claimed again (by any heraldd), the first claim's outcome cannot overwrite
 * what the second does; the second's applies. */
static void test_outcomes_are_fenced_by_their_claim(void **state)
{
    Fixture *fixture = *state;
    int64_t id = insert(fixture->store, "FENCE", "T", "http://a/1", NULL, 100);
    Task tasks[1];
    assert_int_equal(claim(fixture->store, "http://a", 1000, 1, tasks), 1);
    assert_int_equal(tasks[0].attempts, 1);
    task_clear(&tasks[0]);
    char err[256];
    int recovered;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_recover_interrupted(fixture->store, 999999, 999999, &recovered, err,
                                               sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(recovered, 1);
    assert_int_equal(claim(fixture->store, "http://a", 999999, 1, tasks), 1);
    assert_int_equal(tasks[0].attempts, 2); /* the second claim */
    task_clear(&tasks[0]);
    AttemptOutcome stale = outcome(id, 1, ATTEMPT_OUTCOME_MANUAL, 410, "http_status");
    stale.manual_reason = "gone";
    assert_int_equal(record(fixture->store, &stale, 1), 1);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_DELIVERING);
    assert_int_equal(task.attempts, 2);
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), 0);
    AttemptOutcome current = outcome(id, 2, ATTEMPT_OUTCOME_SUCCEEDED, 200, "");
    assert_int_equal(record(fixture->store, &current, 1), 0);
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_SUCCEEDED);
    task_clear(&task);
    /* Both requests were made: both are in the attempt log (with the sweep's). */
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database_is_migrated, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_insert_get_round_trip, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_discards, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_create_finds_what_a_request_repeats, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_create_many_is_create_in_order, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_claim_by_host_in_due_order, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_recover_interrupted, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_are_fenced_by_their_claim, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
