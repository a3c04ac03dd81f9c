/* Unit tests for the store's delivery (store.h), run against each backend
 * (HERALD_TEST_BACKEND): claims in due order, outcomes fenced by their claim's
 * token, rescues that spend the budget, one history row per attempt,
 * outcomes written in bounded chunks, and the status line's counts. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store.h"

typedef TestStore Fixture;

#define insert test_insert_task

/* ---- delivery ---- */

/* The claim token of the tests' claims (claim_as for another). */
#define TOKEN "0123456789abcdef0123456789abcdef"

static size_t claim_as(Store *store, const char *host, int64_t now, size_t limit, Task *out,
                       const char *token)
{
    char err[256];
    size_t count = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    if (store_claim_due(store, host, now, 1000, token, limit, out, &count, err, sizeof err) != 0)
        fail_msg("claim: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(out[i].claim_token, token);
    return count;
}

static size_t claim(Store *store, const char *host, int64_t now, size_t limit, Task *out)
{
    return claim_as(store, host, now, limit, out, TOKEN);
}

/* Rescues the tasks in SCOPE at NOW; returns how many, with *MOVED those
 * moved to manual handling (MOVED may be NULL). */
static int rescue(Store *store, int64_t now, StoreRescueScope scope, int *moved)
{
    char err[256];
    int recovered = 0, moved_here = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    if (store_recover_interrupted(store, now, scope, &recovered, &moved_here, err, sizeof err) != 0)
        fail_msg("rescue: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    if (moved != NULL)
        *moved = moved_here;
    return recovered;
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
        /* The lease: on PostgreSQL it ends by the server's clock, not the
         * NOW the tests pass. */
        if (test_backend_is_postgresql())
            assert_true(llabs(tasks[i].next_attempt_at - (clock_wall_ms() + 1000)) < 60 * 1000);
        else
            assert_int_equal(tasks[i].next_attempt_at, 2000);
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
    snprintf(result.claim_token, sizeof result.claim_token, "%s", TOKEN);
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

    /* A late outcome for a task no longer in flight changes nothing: no
     * task, entry or attempt row (the scheduler logs it). */
    AttemptOutcome late = outcome(manual, 1, ATTEMPT_OUTCOME_MANUAL, 500, "http_status");
    assert_int_equal(record(fixture->store, &late, 1), 1);
    assert_true(late.fenced);
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
    assert_int_equal(count, 1);
    assert_int_equal(attempts[0].status_code, 410);
    assert_null(attempts[0].receiver); /* not given: not known */
    store_attempt_list_free(attempts, count);
}

/* The status line's counts (through the partial indexes) agree with the
 * gauges (a count of every task) at each step of the tasks' lives. */
static void assert_counts(Store *store, int64_t pending, int64_t delivering, int64_t manual_open)
{
    char err[256];
    StoreActiveCounts active;
    int64_t by_status[4], gauge_open;
    assert_int_equal(store_count_active(store, &active, err, sizeof err), 0);
    assert_int_equal(store_count_gauges(store, by_status, &gauge_open, err, sizeof err), 0);
    assert_int_equal(active.pending, pending);
    assert_int_equal(active.delivering, delivering);
    assert_int_equal(active.manual_open, manual_open);
    assert_int_equal(by_status[TASK_STATUS_PENDING], pending);
    assert_int_equal(by_status[TASK_STATUS_DELIVERING], delivering);
    assert_int_equal(gauge_open, manual_open);
}

static void test_counts_of_the_work_in_hand(void **state)
{
    Fixture *fixture = *state;
    assert_counts(fixture->store, 0, 0, 0);
    int64_t ok = insert(fixture->store, "OK", "T", "http://a/1", NULL, 100);
    int64_t gone = insert(fixture->store, "GONE", "T", "http://a/2", NULL, 100);
    insert(fixture->store, "LATER", "T", "http://b/1", NULL, 100);
    assert_counts(fixture->store, 3, 0, 0);
    Task tasks[2];
    assert_int_equal(claim(fixture->store, "http://a", 1000, 2, tasks), 2);
    task_clear(&tasks[0]);
    task_clear(&tasks[1]);
    assert_counts(fixture->store, 1, 2, 0);
    AttemptOutcome outcomes[2] = {
        outcome(ok, 1, ATTEMPT_OUTCOME_SUCCEEDED, 200, ""),
        outcome(gone, 1, ATTEMPT_OUTCOME_MANUAL, 410, "http_status"),
    };
    record(fixture->store, outcomes, 2);
    assert_counts(fixture->store, 1, 0, 1);
}

static void test_recover_interrupted(void **state)
{
    Fixture *fixture = *state;
    int64_t a = insert(fixture->store, "A", "T", "http://a/1", NULL, 100);
    int64_t b = insert(fixture->store, "B", "T", "http://b/1", NULL, 100);
    char err[256];
    Task tasks[2];
    size_t count = 0;
    /* A's lease has already ended when the claim commits; B's lasts an hour
     * (on the database's clock: the tests' NOW is not PostgreSQL's). */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://a", 1000, -1000, TOKEN, 5, tasks, &count, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://b", 1000, 3600 * 1000, TOKEN, 5, tasks, &count, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(count, 2);
    task_clear(&tasks[0]);
    task_clear(&tasks[1]);
    /* Only the expired lease is recovered. */
    int moved;
    assert_int_equal(rescue(fixture->store, 3000, STORE_RESCUE_EXPIRED, &moved), 1);
    assert_int_equal(moved, 0);
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
    assert_int_equal(attempts[0].started_at, 1000); /* when it was claimed */
    assert_int_equal(attempts[0].duration_ms, 2000);
    assert_string_equal(attempts[0].receiver, "http://a");
    store_attempt_list_free(attempts, attempt_count);
    /* A second sweep finds nothing more: one row per attempt. */
    assert_int_equal(rescue(fixture->store, 3000, STORE_RESCUE_EXPIRED, NULL), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 1);
    /* At start-up everything in flight is recovered, whatever its lease. */
    assert_int_equal(rescue(fixture->store, 3000, STORE_RESCUE_ALL, NULL), 1);
    assert_int_equal(store_task_get(fixture->store, b, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks WHERE claim_token IS NOT NULL"), 0);
}

/* A rescue counts as an attempt: a task whose every claim is cut off (it
 * crashes or hangs whatever heraldd sends it) ends in manual handling with
 * reason 'interrupted' once its budget is spent, instead of being rescued
 * forever. */
static void test_rescues_spend_the_budget(void **state)
{
    Fixture *fixture = *state;
    int64_t id = insert(fixture->store, "CRASHER", "T", "http://a/1", NULL, 100); /* budget 5 */
    Task tasks[1];
    int moved = 0;
    for (int attempt = 1; attempt <= 5; attempt++) {
        assert_int_equal(claim(fixture->store, "http://a", 1000 * attempt, 1, tasks), 1);
        assert_int_equal(tasks[0].attempts, attempt);
        task_clear(&tasks[0]);
        assert_int_equal(rescue(fixture->store, 1000 * attempt + 500, STORE_RESCUE_ALL, &moved), 1);
        assert_int_equal(moved, attempt == 5 ? 1 : 0);
    }
    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_FAILED);
    assert_int_equal(task.attempts, 5);
    task_clear(&task);
    assert_int_equal(claim(fixture->store, "http://a", 99999, 1, tasks), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual WHERE state = 'open'"
                                               " AND reason = 'interrupted' AND attempts = 5"), 1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"
                                               " WHERE error_class = 'interrupted'"), 5);
    assert_int_equal(test_store_query(fixture, "SELECT count(DISTINCT attempt) FROM attempts"), 5);
}

/* A cut-off attempt may have reached the receiver (its answer died with the
 * heraldd that sent it): one never ends a task by itself. A task whose last
 * attempt of its budget was cut off is sent again (same webhook-id), and
 * moves to manual handling only after STORE_RESCUE_STREAK cut-off attempts
 * in a row: at most max_retry + STORE_RESCUE_STREAK - 1 attempts. */
static void test_a_cut_off_attempt_never_ends_a_task_alone(void **state)
{
    Fixture *fixture = *state;
    int64_t id = insert(fixture->store, "ACKED", "T", "http://a/1", NULL, 100); /* budget 5 */
    Task tasks[1];
    /* Four attempts fail on their own (HTTP 503): four outcomes. */
    for (int attempt = 1; attempt <= 4; attempt++) {
        assert_int_equal(claim(fixture->store, "http://a", 1000 * attempt, 1, tasks), 1);
        task_clear(&tasks[0]);
        AttemptOutcome failed = outcome(id, attempt, ATTEMPT_OUTCOME_RETRY, 503, "http_status");
        failed.next_attempt_at = 1000 * attempt + 500;
        assert_int_equal(record(fixture->store, &failed, 1), 0);
    }
    int moved = 0;
    for (int attempt = 5; attempt <= 5 + STORE_RESCUE_STREAK - 1; attempt++) {
        assert_int_equal(claim(fixture->store, "http://a", 1000 * attempt, 1, tasks), 1);
        assert_int_equal(tasks[0].attempts, attempt);
        task_clear(&tasks[0]);
        assert_int_equal(rescue(fixture->store, 1000 * attempt + 200, STORE_RESCUE_ALL, &moved), 1);
        /* The fifth (the budget's last) and sixth are cut off: sent again. */
        assert_int_equal(moved, attempt == 5 + STORE_RESCUE_STREAK - 1 ? 1 : 0);
    }
    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_FAILED);
    assert_int_equal(task.attempts, 5 + STORE_RESCUE_STREAK - 1);
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual WHERE reason = 'interrupted'"), 1);
}

/* A rescued task says 'interrupted' and keeps the status code of its last
 * answer (the cut-off attempt had none); its manual entry copies both; its
 * next_attempt_at is the rescue's time, failed or not. A claim made before
 * herald had tokens (NULL) is rescued like any other. */
static void test_a_rescue_keeps_the_last_answer(void **state)
{
    Fixture *fixture = *state;
    int64_t id = insert(fixture->store, "OLD", "T", "http://a/1", NULL, 100); /* budget 5 */
    Task tasks[1];
    assert_int_equal(claim(fixture->store, "http://a", 1000, 1, tasks), 1);
    task_clear(&tasks[0]);
    AttemptOutcome failed = outcome(id, 1, ATTEMPT_OUTCOME_RETRY, 503, "http_status");
    failed.next_attempt_at = 1500;
    assert_int_equal(record(fixture->store, &failed, 1), 0);
    /* Attempts 2 to 5 are cut off: the budget is spent with a streak. */
    for (int attempt = 2; attempt <= 5; attempt++) {
        assert_int_equal(claim(fixture->store, "http://a", 1000 * attempt, 1, tasks), 1);
        task_clear(&tasks[0]);
        if (attempt == 2) /* as a claim of an older version left it */
            assert_int_equal(test_store_query(fixture, "UPDATE tasks SET claim_token = NULL"
                                                       " RETURNING 1"), 1);
        assert_int_equal(rescue(fixture->store, 1000 * attempt + 100, STORE_RESCUE_ALL, NULL), 1);
    }
    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_FAILED);
    assert_int_equal(task.next_attempt_at, 5100); /* the rescue's time, not the lease's end */
    assert_int_equal(task.last_status_code, 503);
    assert_string_equal(task.last_error, "interrupted");
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual WHERE reason ="
                                               " 'interrupted' AND last_status_code = 503 AND"
                                               " last_error = 'interrupted' AND attempts = 5"), 1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts WHERE error_class"
                                               " = 'interrupted' AND status_code IS NULL"), 4);
}

/* The attempt number is no fence on its own: a claim whose commit was lost
 * (asynchronous commit, a crash, a failover) leaves the count where it was,
 * and the next claim takes the same number. Its token differs, so the first
 * claim's late outcome is refused, and writes no attempt row. */
static void test_outcomes_are_fenced_by_token_not_attempt_number(void **state)
{
    Fixture *fixture = *state;
    int64_t id = insert(fixture->store, "LOST", "T", "http://a/1", NULL, 100);
    Task tasks[1];
    assert_int_equal(claim_as(fixture->store, "http://a", 1000, 1, tasks, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 1);
    task_clear(&tasks[0]);
    /* The claim's commit "was lost": the task is as before it. */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE tasks SET status = 'pending', attempts = 0,"
                              " next_attempt_at = 100, claim_token = NULL WHERE id = %lld"
                              " RETURNING 1", (long long)id);
    assert_int_equal(test_store_query(fixture, sql), 1);
    if (store_backend(fixture->store) == STORE_BACKEND_POSTGRESQL) /* and its queue row */
        assert_int_equal(test_store_query(fixture, "UPDATE task_queue SET delivering = false,"
                                                   " due_at = 100, lease_until = NULL"
                                                   " RETURNING 1"), 1);
    assert_int_equal(claim_as(fixture->store, "http://a", 1000, 1, tasks, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), 1);
    assert_int_equal(tasks[0].attempts, 1); /* the same number again */
    task_clear(&tasks[0]);
    AttemptOutcome stale = outcome(id, 1, ATTEMPT_OUTCOME_MANUAL, 410, "http_status");
    snprintf(stale.claim_token, sizeof stale.claim_token, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    stale.manual_reason = "gone";
    assert_int_equal(record(fixture->store, &stale, 1), 1);
    assert_true(stale.fenced);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), 0);
    AttemptOutcome current = outcome(id, 1, ATTEMPT_OUTCOME_SUCCEEDED, 200, "");
    snprintf(current.claim_token, sizeof current.claim_token, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_int_equal(record(fixture->store, &current, 1), 0);
    assert_false(current.fenced);
    char err[256];
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_SUCCEEDED);
    task_clear(&task);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 1);
}

/* A turn's outcomes are written in bounded chunks, however many and large:
 * one statement for all of them could pass what the server or the client
 * library takes, and fail the same way at every retry. */
static void test_outcomes_are_written_in_chunks(void **state)
{
    Fixture *fixture = *state;
    enum { MANY = STORE_OUTCOME_CHUNK_COUNT + 40 };
    static AttemptOutcome outcomes[MANY];
    static Task tasks[MANY];
    for (int i = 0; i < MANY; i++) {
        char business_id[32];
        snprintf(business_id, sizeof business_id, "MANY-%d", i);
        insert(fixture->store, business_id, "T", "http://a/1", NULL, 100);
    }
    assert_int_equal(claim(fixture->store, "http://a", 1000, MANY, tasks), MANY);
    /* A response of 1 MiB each: STORE_OUTCOME_CHUNK_BYTES holds a few. */
    static char response[1024 * 1024];
    memset(response, 'r', sizeof response);
    for (int i = 0; i < MANY; i++) {
        outcomes[i] = outcome(tasks[i].id, 1, ATTEMPT_OUTCOME_SUCCEEDED, 200, "");
        if (i < 20) {
            outcomes[i].attempt.response_body = response;
            outcomes[i].attempt.response_length = sizeof response;
        }
        task_clear(&tasks[i]);
    }
    assert_int_equal(record(fixture->store, outcomes, MANY), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks WHERE status = 'succeeded'"), MANY);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), MANY);
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
    assert_int_equal(rescue(fixture->store, 999999, STORE_RESCUE_ALL, NULL), 1);
    assert_int_equal(claim_as(fixture->store, "http://a", 999999, 1, tasks, "22222222222222222222222222222222"), 1);
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
    snprintf(current.claim_token, sizeof current.claim_token, "22222222222222222222222222222222");
    assert_int_equal(record(fixture->store, &current, 1), 0);
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.status, TASK_STATUS_SUCCEEDED);
    task_clear(&task);
    /* One row per attempt: the sweep's record of attempt 1 (the fenced
     * outcome adds none) and attempt 2's. */
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 2);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts WHERE attempt = 1"
                                               " AND error_class = 'interrupted'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_by_host_in_due_order, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_counts_of_the_work_in_hand, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_recover_interrupted, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_rescues_spend_the_budget, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_a_cut_off_attempt_never_ends_a_task_alone, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_a_rescue_keeps_the_last_answer, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_are_fenced_by_token_not_attempt_number, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_are_written_in_chunks, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_are_fenced_by_their_claim, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests_name("store_delivery", tests, NULL, NULL);
}
