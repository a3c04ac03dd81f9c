/* Unit tests for the store's alert queries: the backlog query, the oldest due task,
 * the alerts table, retention, and the leadership lease that fences the leader's
 * writes. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

typedef TestStore Fixture;

#define LEADER "host-a:1:100"
#define OTHER "host-b:2:100"
#define HOUR_MS 3600000

/* Takes the lease for HOLDER at NOW (SQLite's clock; PostgreSQL uses its own)
 * for LEASE_MS; returns the term (0: another holds it). */
static int64_t acquire(Store *store, const char *holder, int64_t now, int64_t lease_ms)
{
    char err[256];
    int64_t term = -1;
    assert_int_equal(store_leader_acquire(store, holder, now, lease_ms, &term, err, sizeof err), 0);
    return term;
}

/* The fence of a lease of an hour from 0, for the leader's writes. */
static StoreFence leader_fence(Store *store)
{
    int64_t term = acquire(store, LEADER, 0, HOUR_MS);
    assert_true(term > 0);
    return (StoreFence){.holder = LEADER, .term = term};
}

/* Records an alert through the store (FENCE NULL: an instance's own). */
static StoreResult record(Store *store, const StoreFence *fence, const char *kind,
                          const char *instance, bool firing, int64_t count, int64_t now,
                          int64_t after_id, int64_t *id)
{
    char err[256];
    StoreAlertRecord alert = {.kind = kind, .instance = instance, .firing = firing,
                              .count = count, .details = "{}", .now = now,
                              .after_id = after_id};
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    StoreResult result = store_alert_insert(store, fence, &alert, id, err, sizeof err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    return result;
}

static int64_t insert(Store *store, const char *business_id, const char *type, const char *url,
                      int64_t now)
{
    TaskRequest request;
    test_task_request(&request, business_id, type, url, NULL, "{}");
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(test_create_task(store, &request, 1, "msg", now, &id), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

/* Claims TASK_ID's host at NOW and records OUTCOME for it. */
static void finish(Store *store, int64_t task_id, const char *host, AttemptOutcomeKind kind,
                   int64_t now)
{
    char err[256];
    Task claimed[4];
    size_t count = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(store, host, now, 1000, "0123456789abcdef0123456789abcdef", 4, claimed, &count, err, sizeof err), 0);
    for (size_t i = 0; i < count; i++)
        task_clear(&claimed[i]);
    AttemptOutcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.attempt.task_id = task_id;
    outcome.attempt.attempt = 1;
    outcome.attempt.status_code = kind == ATTEMPT_OUTCOME_SUCCEEDED ? 200 : 500;
    if (kind != ATTEMPT_OUTCOME_SUCCEEDED)
        strcpy(outcome.attempt.error_class, "http_status");
    outcome.kind = kind;
    outcome.manual_reason = "exhausted";
    strcpy(outcome.claim_token, "0123456789abcdef0123456789abcdef");
    size_t fenced;
    assert_int_equal(store_record_outcomes(store, &outcome, 1, now, &fenced, err, sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
}

static void test_backlog(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    AlertBacklog backlog;
    assert_int_equal(store_alert_backlog(fixture->store, 0, &backlog, err, sizeof err), 0);
    assert_int_equal(backlog.count, 0);
    int64_t a = insert(fixture->store, "A", "PAY", "http://a/1", 0);
    finish(fixture->store, a, "http://a", ATTEMPT_OUTCOME_MANUAL, 1000);
    int64_t b = insert(fixture->store, "B", "PAY", "http://b/1", 0);
    finish(fixture->store, b, "http://b", ATTEMPT_OUTCOME_MANUAL, 2000);
    int64_t c = insert(fixture->store, "C", "ORDER", "http://c/1", 0);
    finish(fixture->store, c, "http://c", ATTEMPT_OUTCOME_MANUAL, 3000);
    assert_int_equal(store_alert_backlog(fixture->store, 0, &backlog, err, sizeof err), 0);
    assert_int_equal(backlog.count, 3);
    assert_int_equal(backlog.oldest_task_id, a);
    assert_int_equal(backlog.oldest_moved_at, 1000);
    assert_int_equal(backlog.sample_count, 3);
    assert_int_equal(backlog.type_count, 2);
    assert_string_equal(backlog.by_type[0].business_type, "PAY"); /* the largest first */
    assert_int_equal(backlog.by_type[0].count, 2);
    /* The window: only entries moved at or after SINCE. */
    assert_int_equal(store_alert_backlog(fixture->store, 1500, &backlog, err, sizeof err), 0);
    assert_int_equal(backlog.count, 2);
    assert_int_equal(backlog.oldest_task_id, b);
}

static void test_alerts_table(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    int64_t first, second;
    StoreFence fence = leader_fence(fixture->store);
    StoreAlertRecord one = {.kind = "manual_backlog", .firing = true, .count = 12,
                            .details = "{\"n\":1}", .now = 100};
    StoreAlertRecord two = {.kind = "delivery_lag", .instance = LEADER, .firing = true,
                            .count = 400, .details = "{\"n\":2}", .now = 200};
    assert_int_equal(store_alert_insert(fixture->store, &fence, &one, &first, err, sizeof err), STORE_OK);
    assert_int_equal(store_alert_insert(fixture->store, NULL, &two, &second, err, sizeof err), STORE_OK);
    for (int64_t id = first; id <= second; id += second - first)
        assert_int_equal(store_alert_claim(fixture->store, &fence, id, 250, HOUR_MS, err, sizeof err), STORE_OK);
    StoredAlert *alerts;
    size_t count;
    assert_int_equal(store_alert_unsent(fixture->store, &alerts, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(alerts[0].id, first);
    assert_string_equal(alerts[0].details, "{\"n\":1}");
    store_alert_list_free(alerts, count);
    /* The command sink took the first, the webhook did not; both took the second. */
    StoredAlert mark = {.id = first, .command_sent_at = 250, .send_error = "webhook: HTTP 500"};
    assert_int_equal(store_alert_mark(fixture->store, &fence, &mark, err, sizeof err), 0);
    mark = (StoredAlert){.id = second, .webhook_sent_at = 290, .command_sent_at = 300,
                         .sent_at = 300};
    assert_int_equal(store_alert_mark(fixture->store, &fence, &mark, err, sizeof err), 0);
    assert_int_equal(store_alert_unsent(fixture->store, &alerts, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(alerts[0].send_error, "webhook: HTTP 500");
    assert_int_equal(alerts[0].command_sent_at, 250);
    assert_int_equal(alerts[0].webhook_sent_at, 0);
    store_alert_list_free(alerts, count);
    assert_int_equal(store_alert_list(fixture->store, INT64_MAX, 10, &alerts, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(alerts[0].id, second); /* newest first */
    assert_int_equal(alerts[0].sent_at, 300);
    assert_int_equal(alerts[0].webhook_sent_at, 290);
    assert_string_equal(alerts[0].instance, LEADER);
    assert_string_equal(alerts[1].instance, "");
    store_alert_list_free(alerts, count);
    StoredAlert latest;
    assert_int_equal(store_alert_latest(fixture->store, "manual_backlog", NULL, &latest, err, sizeof err), STORE_OK);
    assert_true(latest.firing);
    assert_int_equal(latest.count, 12);
    stored_alert_clear(&latest);
    assert_int_equal(store_alert_latest(fixture->store, "nothing", NULL, &latest, err, sizeof err), STORE_NOT_FOUND);
}

static void test_retention_deletes_only_old_finished_work(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    StoreFence fence = leader_fence(fixture->store);
    int64_t old_ok = insert(fixture->store, "OLD-OK", "T", "http://a/1", 100);
    finish(fixture->store, old_ok, "http://a", ATTEMPT_OUTCOME_SUCCEEDED, 200);
    int64_t old_open = insert(fixture->store, "OLD-OPEN", "T", "http://b/1", 100);
    finish(fixture->store, old_open, "http://b", ATTEMPT_OUTCOME_MANUAL, 200);
    int64_t old_pending = insert(fixture->store, "OLD-PENDING", "T", "http://c/1", 100);
    int64_t old_resolved = insert(fixture->store, "OLD-RESOLVED", "T", "http://d/1", 100);
    finish(fixture->store, old_resolved, "http://d", ATTEMPT_OUTCOME_MANUAL, 200);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_resolve(fixture->store, old_resolved, 0, "done", "ops", 300, &(char *){NULL}, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    int64_t new_ok = insert(fixture->store, "NEW-OK", "T", "http://e/1", 5000);
    finish(fixture->store, new_ok, "http://e", ATTEMPT_OUTCOME_SUCCEEDED, 5000);
    int64_t deleted = 0;
    bool pending = false;
    assert_int_equal(store_retention_pending(fixture->store, 50, &pending, err, sizeof err), 0);
    assert_false(pending); /* nothing that old */
    assert_int_equal(store_retention_pending(fixture->store, 1000, &pending, err, sizeof err), 0);
    assert_true(pending);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, 500, &deleted, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_true(deleted >= 2);
    Task task;
    assert_int_equal(store_task_get(fixture->store, old_ok, &task, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_task_get(fixture->store, old_resolved, &task, err, sizeof err), STORE_NOT_FOUND);
    int64_t kept[] = {old_open, old_pending, new_ok};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(store_task_get(fixture->store, kept[i], &task, err, sizeof err), STORE_OK);
        task_clear(&task);
    }
    /* Attempts, entries and actions went with their tasks; the open entry stays. */
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 2);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), 1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM actions"), 0);
    /* Nothing more to do: a second step deletes nothing, and says so first. */
    assert_int_equal(store_retention_pending(fixture->store, 1000, &pending, err, sizeof err), 0);
    assert_false(pending);
    assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, 500, &deleted, err, sizeof err), 0);
    assert_int_equal(deleted, 0);
}

static void test_retention_works_in_batches(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    StoreFence fence = leader_fence(fixture->store);
    for (int i = 0; i < 7; i++) {
        char id[16];
        snprintf(id, sizeof id, "B%d", i);
        insert(fixture->store, id, "T", "http://a/1", 100);
    }
    Task claimed[8];
    size_t count = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://a", 200, 100, "0123456789abcdef0123456789abcdef", 8, claimed, &count, err, sizeof err), 0);
    AttemptOutcome outcomes[8];
    memset(outcomes, 0, sizeof outcomes);
    for (size_t i = 0; i < count; i++) {
        outcomes[i].attempt.task_id = claimed[i].id;
        outcomes[i].attempt.attempt = claimed[i].attempts; /* the claim's id */
        outcomes[i].kind = ATTEMPT_OUTCOME_SUCCEEDED;
        strcpy(outcomes[i].claim_token, claimed[i].claim_token);
        task_clear(&claimed[i]);
    }
    size_t fenced;
    assert_int_equal(store_record_outcomes(fixture->store, outcomes, count, 200, &fenced, err, sizeof err), 0);
    assert_int_equal(fenced, 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    int64_t deleted;
    assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, 3, &deleted, err, sizeof err), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks"), 4);
    assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, 3, &deleted, err, sizeof err), 0);
    assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, 3, &deleted, err, sizeof err), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks"), 0);
}

/* Claims HOST's due tasks at NOW and records KIND for each (their claim's id). */
static void deliver(Store *store, const char *host, AttemptOutcomeKind kind, int64_t now)
{
    char err[256];
    Task claimed[4];
    size_t count = 0;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(store, host, now, 1000, "0123456789abcdef0123456789abcdef", 4, claimed, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    AttemptOutcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.attempt.task_id = claimed[0].id;
    outcome.attempt.attempt = claimed[0].attempts;
    outcome.attempt.status_code = kind == ATTEMPT_OUTCOME_SUCCEEDED ? 200 : 500;
    if (kind != ATTEMPT_OUTCOME_SUCCEEDED)
        strcpy(outcome.attempt.error_class, "http_status");
    outcome.kind = kind;
    outcome.manual_reason = "exhausted";
    strcpy(outcome.claim_token, claimed[0].claim_token);
    task_clear(&claimed[0]);
    size_t fenced;
    assert_int_equal(store_record_outcomes(store, &outcome, 1, now, &fenced, err, sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
}

static void retry(Store *store, int64_t task_id, int64_t now)
{
    char err[256], *host = NULL;
    ManualRepair repair = {.max_retry = 1, .actor = "ops"};
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_manual_retry(store, task_id, 0, &repair, "retry", NULL, now, &host, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    free(host);
}

/* Whether every task and everything of its is whole: no failed task without
 * its manual entries, and no entry, action, attempt (or body) without its task. */
static void assert_nothing_orphaned(const Fixture *fixture)
{
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks t WHERE t.status = 'failed'"
                                               " AND NOT EXISTS (SELECT 1 FROM manual m WHERE m.task_id = t.id)"), 0);
    static const char *const children[] = {"manual", "actions", "attempts", "task_bodies"};
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        if (strcmp(children[i], "task_bodies") == 0 && !test_backend_is_postgresql())
            continue; /* SQLite keeps the payload in tasks */
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s c WHERE NOT EXISTS"
                                  " (SELECT 1 FROM tasks t WHERE t.id = c.task_id)", children[i]);
        assert_int_equal(test_store_query(fixture, sql), 0);
    }
}

/* A bulk resolve closes more entries than a retention batch, all at one
 * resolved_at: retention deletes each task with its entries, batch after
 * batch, never one without the other (a batch boundary once split them, and
 * the tasks left without entries were never deleted). Entries of tasks that
 * are not deleted stay, whatever their resolved_at. */
static void test_retention_deletes_tasks_with_their_entries(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    StoreFence fence = leader_fence(fixture->store);
    enum { RESOLVED = 12, BATCH = 5 };
    /* A failed task an earlier version left without its entries goes too
     * (the oldest, so the first step takes it). */
    int64_t orphan = insert(fixture->store, "ORPHAN", "T", "http://f/1", 100);
    deliver(fixture->store, "http://f", ATTEMPT_OUTCOME_MANUAL, 200);
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM manual WHERE task_id = %lld RETURNING task_id",
             (long long)orphan);
    assert_int_equal(test_store_query(fixture, sql), orphan);
    int64_t resolved[RESOLVED];
    for (int i = 0; i < RESOLVED; i++) {
        char business_id[16];
        snprintf(business_id, sizeof business_id, "R%d", i);
        resolved[i] = insert(fixture->store, business_id, "T", "http://a/1", 100);
        deliver(fixture->store, "http://a", ATTEMPT_OUTCOME_MANUAL, 200);
    }
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    for (int i = 0; i < RESOLVED; i++)
        assert_int_equal(store_manual_resolve(fixture->store, resolved[i], 0, "bulk", "ops", 300, &(char *){NULL}, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    /* Retried at 300 (an entry resolved as 'retried' before the cutoff), then:
     * delivered (goes, with its entry); failed again, open (stays, both
     * entries); still waiting (stays, with its entry). */
    int64_t delivered = insert(fixture->store, "DELIVERED", "T", "http://b/1", 100);
    deliver(fixture->store, "http://b", ATTEMPT_OUTCOME_MANUAL, 200);
    retry(fixture->store, delivered, 300);
    deliver(fixture->store, "http://b", ATTEMPT_OUTCOME_SUCCEEDED, 400);
    int64_t failed_again = insert(fixture->store, "AGAIN", "T", "http://c/1", 100);
    deliver(fixture->store, "http://c", ATTEMPT_OUTCOME_MANUAL, 200);
    retry(fixture->store, failed_again, 300);
    deliver(fixture->store, "http://c", ATTEMPT_OUTCOME_MANUAL, 400);
    int64_t waiting = insert(fixture->store, "WAITING", "T", "http://d/1", 100);
    deliver(fixture->store, "http://d", ATTEMPT_OUTCOME_MANUAL, 200);
    retry(fixture->store, waiting, 300);
    /* Resolved after the cutoff: stays. */
    int64_t late = insert(fixture->store, "LATE", "T", "http://e/1", 100);
    deliver(fixture->store, "http://e", ATTEMPT_OUTCOME_MANUAL, 200);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_manual_resolve(fixture->store, late, 0, "later", "ops", 2000, &(char *){NULL}, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), RESOLVED + 5);

    bool pending = true;
    int steps = 0;
    for (;;) {
        int64_t deleted = 0;
        assert_int_equal(store_retention_pending(fixture->store, 1000, &pending, err, sizeof err), 0);
        if (!pending)
            break;
        assert_true(++steps <= RESOLVED); /* each step makes progress */
        assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
        assert_int_equal(store_retention_step(fixture->store, &fence, 0, 1000, BATCH, &deleted, err, sizeof err), 0);
        assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
        if (steps > 1) /* the first step takes the orphan */
            assert_nothing_orphaned(fixture);
        assert_true(deleted > 0 && deleted <= BATCH); /* tasks, each with all of its rows */
    }
    Task task;
    for (int i = 0; i < RESOLVED; i++)
        assert_int_equal(store_task_get(fixture->store, resolved[i], &task, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_task_get(fixture->store, delivered, &task, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_task_get(fixture->store, orphan, &task, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks"), 3);
    const struct { int64_t task_id; int entries; } kept[] = {{failed_again, 2}, {waiting, 1}, {late, 1}};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM manual WHERE task_id = %lld",
                 (long long)kept[i].task_id);
        assert_int_equal(test_store_query(fixture, sql), kept[i].entries);
    }
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual"), 4);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM manual WHERE state = 'open'"), 1);
    /* Their attempts and actions stay too (2 + 1 + 1 attempts; a retry each, a resolve). */
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"), 4);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM actions"), 3);
    assert_nothing_orphaned(fixture);
}

static void instance_write(Store *store, const StoreInstance *instance, int64_t forget)
{
    char err[256];
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_instance_beat(store, instance, forget, err, sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
}

/* The instances table: a heartbeat inserts, then updates; silent rows are
 * forgotten; a stop removes its own. */
static void test_instances(void **state)
{
    Fixture *fixture = *state;
    char err[256];
    StoreInstance a = {.id = "host-a:1:100", .host = "host-a", .pid = 1, .version = "0.1.0",
                       .started_at = 100, .heartbeat_at = 1000, .leader = true, .deliveries = 5};
    StoreInstance b = {.id = "host-b:2:100", .host = "host-b", .pid = 2, .version = "0.2.0",
                       .started_at = 100, .heartbeat_at = 2000, .leader = false};
    instance_write(fixture->store, &a, 0);
    b.leader = true; /* what it believes of itself: the lease says otherwise */
    instance_write(fixture->store, &b, 0);
    assert_true(acquire(fixture->store, a.id, 0, HOUR_MS) > 0);
    a.heartbeat_at = 3000;
    a.deliveries = 9;
    instance_write(fixture->store, &a, 0);
    StoreInstance *rows;
    size_t count;
    assert_int_equal(store_instance_list(fixture->store, 5000, &rows, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(rows[0].id, a.id); /* the latest heartbeat first */
    assert_int_equal(rows[0].deliveries, 9);
    assert_true(rows[0].leader);
    assert_string_equal(rows[1].host, "host-b");
    assert_string_equal(rows[1].version, "0.2.0");
    assert_int_equal(rows[1].pid, 2);
    assert_false(rows[1].leader);
    free(rows);
    /* B fell silent before 2500: the next heartbeat forgets it. */
    instance_write(fixture->store, &a, 2500);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM instances"), 1);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_instance_leave(fixture->store, a.id, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_instance_list(fixture->store, 5000, &rows, &count, err, sizeof err), 0);
    assert_int_equal(count, 0);
    free(rows);
}

/* The lease: taken, renewed under the same term, refused to another while it
 * runs (PostgreSQL; SQLite's one heraldd takes it whoever held it), taken
 * over with a higher term once it expired, taken anew (a higher term) by its
 * own holder after it expired; a clean stop ends it. */
static void test_lease(void **state)
{
    Fixture *fixture = *state;
    Store *store = fixture->store;
    bool shared = store_is_shared(store);
    int64_t first = acquire(store, LEADER, 1000, HOUR_MS);
    assert_true(first > 0);
    assert_int_equal(acquire(store, LEADER, 2000, HOUR_MS), first); /* a renewal */
    int64_t other = acquire(store, OTHER, 3000, HOUR_MS);
    if (shared) {
        assert_int_equal(other, 0);
        /* It expires (on the server's clock): the other takes it, a new term. */
        assert_int_equal(acquire(store, LEADER, 0, 1), first);
        usleep(20 * 1000);
        other = acquire(store, OTHER, 0, HOUR_MS);
    }
    assert_int_equal(other, first + 1);
    assert_int_equal(acquire(store, OTHER, 4000, HOUR_MS), other);
    if (shared) /* while it runs, the first holder gets nothing */
        assert_int_equal(acquire(store, LEADER, 5000, HOUR_MS), 0);
    /* A clean stop ends it; the next to ask takes it with the next term. */
    char err[256];
    StoreFence fence = {.holder = OTHER, .term = other};
    assert_int_equal(store_leader_release(store, &fence, 6000, err, sizeof err), 0);
    int64_t again = acquire(store, LEADER, 7000, 100);
    assert_int_equal(again, other + 1);
    if (!shared) /* SQLite: its own expired lease, taken again, is a new term */
        assert_int_equal(acquire(store, LEADER, 9000, HOUR_MS), again + 1);
    StoreInstance *rows;
    size_t count;
    assert_int_equal(store_instance_list(store, 9000, &rows, &count, err, sizeof err), 0);
    free(rows);
}

/* Every leader action is refused under a stale term: the alert insert, the
 * claim of an alert to send, the hold that retention runs under; the newer
 * term's go through. */
static void test_fenced_actions(void **state)
{
    Fixture *fixture = *state;
    Store *store = fixture->store;
    char err[256];
    int64_t stale = acquire(store, LEADER, 0, 1);
    if (store_is_shared(store))
        usleep(20 * 1000); /* the server's clock passes the 1 ms lease */
    int64_t current = acquire(store, OTHER, 100, HOUR_MS);
    assert_true(current > stale);
    StoreFence old = {.holder = LEADER, .term = stale};
    StoreFence now = {.holder = OTHER, .term = current};
    int64_t id = 0;
    assert_int_equal(record(store, &old, "manual_backlog", NULL, true, 3, 200, 0, &id),
                     STORE_NOT_FOUND);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM alerts"), 0);
    assert_int_equal(record(store, &now, "manual_backlog", NULL, true, 3, 200, 0, &id), STORE_OK);
    /* The right holder with an old term is refused too. */
    StoreFence old_term = {.holder = OTHER, .term = current - 1};
    assert_int_equal(store_alert_claim(store, &old_term, id, 300, HOUR_MS, err, sizeof err),
                     STORE_NOT_FOUND);
    assert_int_equal(store_alert_claim(store, &old, id, 300, HOUR_MS, err, sizeof err),
                     STORE_NOT_FOUND);
    assert_int_equal(store_alert_claim(store, &now, id, 300, HOUR_MS, err, sizeof err), STORE_OK);
    bool held = true;
    assert_int_equal(store_leader_hold(store, &old, 400, &held, err, sizeof err), 0);
    assert_false(held);
    assert_int_equal(store_leader_hold(store, &now, 400, &held, err, sizeof err), 0);
    assert_true(held);
    int64_t deleted = -1;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(store_retention_step(store, &old, 400, 1000, 10, &deleted, err, sizeof err),
                     STORE_NOT_FOUND);
    assert_int_equal(store_retention_step(store, &now, 400, 1000, 10, &deleted, err, sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
}

/* An alert being sent is claimed: nobody else claims it while the claim runs,
 * its holder may claim it again (its record was not written), a mark under
 * another claim changes nothing, and a sent alert is claimed by nobody. */
static void test_alert_claims(void **state)
{
    Fixture *fixture = *state;
    Store *store = fixture->store;
    char err[256];
    StoreFence first = leader_fence(store);
    int64_t id;
    assert_int_equal(record(store, &first, "manual_backlog", NULL, true, 3, 100, 0, &id), STORE_OK);
    assert_int_equal(store_alert_claim(store, &first, id, 200, HOUR_MS, err, sizeof err), STORE_OK);
    assert_int_equal(store_alert_claim(store, &first, id, 200, HOUR_MS, err, sizeof err), STORE_OK);
    /* A later term (the same holder's lease, ended and taken again) waits for the claim. */
    StoreFence release = first;
    assert_int_equal(store_leader_release(store, &release, 300, err, sizeof err), 0);
    StoreFence second = {.holder = OTHER, .term = acquire(store, OTHER, 400, HOUR_MS)};
    assert_true(second.term > first.term);
    assert_int_equal(store_alert_claim(store, &second, id, 500, HOUR_MS, err, sizeof err),
                     STORE_NOT_FOUND);
    StoredAlert mark = {.id = id, .webhook_sent_at = 600, .sent_at = 600};
    assert_int_equal(store_alert_mark(store, &second, &mark, err, sizeof err), 0);
    StoredAlert *alerts;
    size_t count;
    assert_int_equal(store_alert_unsent(store, &alerts, &count, err, sizeof err), 0);
    assert_int_equal(count, 1); /* not the second's claim: nothing recorded */
    store_alert_list_free(alerts, count);
    assert_int_equal(store_alert_mark(store, &first, &mark, err, sizeof err), 0);
    assert_int_equal(store_alert_unsent(store, &alerts, &count, err, sizeof err), 0);
    assert_int_equal(count, 0);
    store_alert_list_free(alerts, count);
    assert_int_equal(store_alert_claim(store, &second, id, 700, HOUR_MS, err, sizeof err),
                     STORE_NOT_FOUND); /* sent */
}

/* Per-instance alerts: each (kind, instance) has its own latest state; the
 * firing list has one row per (kind, instance) that fires; after_id records
 * only while nothing newer of the same (kind, instance) was recorded. */
static void test_alerts_per_instance(void **state)
{
    Fixture *fixture = *state;
    Store *store = fixture->store;
    char err[256];
    StoreFence fence = leader_fence(store);
    int64_t a, b, backlog, resolved;
    assert_int_equal(record(store, NULL, "delivery_lag", LEADER, true, 40, 100, 0, &a), STORE_OK);
    assert_int_equal(record(store, NULL, "delivery_lag", OTHER, true, 50, 110, 0, &b), STORE_OK);
    assert_int_equal(record(store, &fence, "manual_backlog", NULL, true, 3, 120, 0, &backlog),
                     STORE_OK);
    StoredAlert latest;
    assert_int_equal(store_alert_latest(store, "delivery_lag", OTHER, &latest, err, sizeof err),
                     STORE_OK);
    assert_int_equal(latest.id, b);
    assert_string_equal(latest.instance, OTHER);
    stored_alert_clear(&latest);
    assert_int_equal(store_alert_latest(store, "delivery_lag", NULL, &latest, err, sizeof err),
                     STORE_NOT_FOUND);
    StoredAlert *firing;
    size_t count;
    assert_int_equal(store_alert_firing(store, &firing, &count, err, sizeof err), 0);
    assert_int_equal(count, 3);
    store_alert_list_free(firing, count);
    /* OTHER resolves its own; then the leader's resolve after B is refused. */
    assert_int_equal(record(store, NULL, "delivery_lag", OTHER, false, 0, 130, 0, &resolved),
                     STORE_OK);
    assert_int_equal(record(store, &fence, "delivery_lag", OTHER, false, 0, 140, b, &resolved),
                     STORE_NOT_FOUND);
    /* The leader resolves LEADER's... as one whose instance is gone. */
    assert_int_equal(record(store, &fence, "delivery_lag", LEADER, false, 40, 150, a, &resolved),
                     STORE_OK);
    assert_int_equal(store_alert_firing(store, &firing, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(firing[0].id, backlog);
    store_alert_list_free(firing, count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backlog, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_instances, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_alerts_table, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_lease, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_fenced_actions, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_alert_claims, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_alerts_per_instance, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retention_deletes_only_old_finished_work, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retention_works_in_batches, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_retention_deletes_tasks_with_their_entries, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests_name("store_alerts", tests, NULL, NULL);
}
