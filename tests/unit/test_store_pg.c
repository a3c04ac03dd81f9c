/* Unit tests of the PostgreSQL backend's own: migrations under the advisory
 * lock, connections lost and found again, the fault seam's dropped
 * connection, text that is not UTF-8, the claim's plan, a COMMIT answered
 * with a WARNING, a server that turns read-only, an unreachable server, and passwords kept out of what is logged. Run with a cluster (tests/unit/run.sh); each
 * test skips without one. */
#include "test_support.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault.h"
#include "store.h"
#include "pg.h"

static const Migration synthetic[] = {
    {1, "one", "CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);"},
    {2, "two", "ALTER TABLE things ADD COLUMN size integer NOT NULL DEFAULT 7;"},
    {3, "three", "CREATE INDEX things_name ON things (name);"},
};

static int setup(void **state)
{
    if (getenv("HERALD_TEST_PG_DIR") == NULL) {
        skip();
    }
    TestStore *fixture = calloc(1, sizeof *fixture);
    setenv("HERALD_TEST_BACKEND", "postgresql", 1);
    test_database_make(fixture);
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    TestStore *fixture = *state;
    store_close(fixture->store);
    test_database_drop(fixture);
    free(fixture);
    return 0;
}

static Store *open_with(TestStore *fixture, const Migration *list, size_t count, bool migrate,
                        char *err, size_t errlen)
{
    StoreOptions options = {.migrations = list, .migration_count = count, .migrate = migrate};
    return store_open(&fixture->location, &options, err, errlen);
}

/* Runs SQL (no rows) on FIXTURE's database as an outside session. */
static void outside(TestStore *fixture, const char *sql)
{
    const char *keywords[] = {"dbname", NULL};
    const char *values[] = {fixture->url, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(result));
    PQclear(result);
    PQfinish(conn);
}

/* Ends every session heraldd has on the database, as an operator would. */
static void terminate_sessions(TestStore *fixture)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
             " AND application_name = 'heraldd'",
             fixture->pg_database);
    outside(fixture, sql);
}

static void test_migration_upgrade_keeps_data(void **state)
{
    TestStore *fixture = *state;
    char err[512];
    Store *store = open_with(fixture, synthetic, 1, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(store_schema_version(store), 1);
    store_close(store);
    outside(fixture, "INSERT INTO things (id, name) VALUES (1, 'kept')");
    store = open_with(fixture, synthetic, 3, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(store_schema_version(store), 3);
    store_close(store);
    assert_int_equal(test_store_query(fixture, "SELECT size FROM things WHERE name = 'kept'"), 7);
    assert_int_equal(test_store_query(fixture, "SELECT max(version) FROM schema_migrations"), 3);
    /* Refused: newer than the binary; not current for a non-migrating one. */
    assert_null(open_with(fixture, synthetic, 2, true, err, sizeof err));
    assert_non_null(strstr(err, "schema version 3 is newer than this heraldd knows (2)"));
    assert_null(open_with(fixture, synthetic, 2, false, err, sizeof err));
}

static void test_failed_migration_changes_nothing(void **state)
{
    TestStore *fixture = *state;
    static const Migration broken[] = {
        {1, "one", "CREATE TABLE things (id bigint PRIMARY KEY);"},
        {2, "bad", "CREATE TABLE more (id bigint); THIS IS NOT SQL;"},
    };
    char err[512];
    assert_null(open_with(fixture, broken, 2, true, err, sizeof err));
    assert_non_null(strstr(err, "migration 002_bad"));
    assert_int_equal(test_store_query(fixture, "SELECT to_regclass('things') IS NOT NULL"), 0);
    assert_int_equal(test_store_query(fixture, "SELECT to_regclass('schema_migrations')"
                                               " IS NOT NULL"),
                     0);
}

typedef struct Migrator {
    TestStore *fixture;
    int ok;
} Migrator;

static void *migrate_in_thread(void *argument)
{
    Migrator *migrator = argument;
    char err[512];
    StoreOptions options = {.migrate = true};
    Store *store = store_open(&migrator->fixture->location, &options, err, sizeof err);
    migrator->ok = store != NULL;
    store_close(store);
    return NULL;
}

/* Several heraldd starting at once against one empty database: the advisory
 * lock makes one migrate and the others find it done. */
static void test_concurrent_start_ups_migrate_once(void **state)
{
    TestStore *fixture = *state;
    Migrator migrators[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        migrators[i] = (Migrator){.fixture = fixture};
        assert_int_equal(pthread_create(&threads[i], NULL, migrate_in_thread, &migrators[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_true(migrators[i].ok);
    }
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM schema_migrations"),
                     (long long)migrations_postgresql.count);
}

static Store *open_migrated(TestStore *fixture)
{
    char err[512];
    StoreOptions options = {.migrate = true};
    Store *store = store_open(&fixture->location, &options, err, sizeof err);
    if (store == NULL)
        fail_msg("open: %s", err);
    return store;
}

static int64_t create_task(Store *store, const char *business_id)
{
    TaskRequest request;
    test_task_request(&request, business_id, "T", "http://a/x", NULL, "{}");
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    test_create_task(store, &request, 3, "msg_pg", 10, &id);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

/* A session ended under it (a restart, pg_terminate_backend): a read made
 * outside a transaction goes through on a new connection; a transaction
 * that lost its session fails, and the next one works. */
static void test_lost_connection_is_found_again(void **state)
{
    TestStore *fixture = *state;
    fixture->store = open_migrated(fixture);
    int64_t id = create_task(fixture->store, "LOST-1");
    char err[512];
    Task task;
    terminate_sessions(fixture);
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_OK);
    task_clear(&task);
    /* Idle connection gone at BEGIN: begun again on a new one. */
    terminate_sessions(fixture);
    int64_t second = create_task(fixture->store, "LOST-2");
    assert_true(second > id);
    /* Gone inside a transaction: what was done is lost, never half-committed. */
    TaskRequest request;
    test_task_request(&request, "LOST-3", "T", "http://a/x", NULL, "{}");
    TaskCreation creation;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create(fixture->store, &request, 3, "msg_l", 10, &creation, err,
                                       sizeof err),
                     STORE_OK);
    terminate_sessions(fixture);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), -1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks"
                                               " WHERE business_id = 'LOST-3'"),
                     0);
    /* The client's retry then works. */
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create(fixture->store, &request, 3, "msg_l", 10, &creation, err,
                                       sizeof err),
                     STORE_OK);
    assert_true(creation.created);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    task_request_clear(&request);
}

/* The fault seam's "drop" cuts the connection under libpq: inside a
 * transaction the statement fails as a lost connection does. */
static void test_fault_seam_drops_the_connection(void **state)
{
    TestStore *fixture = *state;
    fixture->store = open_migrated(fixture);
    char err[512];
    assert_int_equal(fault_configure("other:2:1:drop", err, sizeof err), 0);
    TaskRequest request;
    test_task_request(&request, "DROP-1", "T", "http://a/x", NULL, "{}");
    TaskCreation creation;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0); /* operation 1 */
    assert_int_equal(store_task_create(fixture->store, &request, 3, "msg_d", 10, &creation, err,
                                       sizeof err),
                     STORE_ERROR); /* operation 2: dropped */
    store_rollback(fixture->store);
    assert_int_equal(fault_configure("count", err, sizeof err), 0);
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_create(fixture->store, &request, 3, "msg_d", 10, &creation, err,
                                       sizeof err),
                     STORE_OK);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    task_request_clear(&request);
}

/* PostgreSQL refuses text that is not UTF-8 where SQLite stores it; an error
 * message cut inside a character must still be recorded, or the outcome
 * could never be written. */
static void test_outcome_text_is_made_utf8(void **state)
{
    TestStore *fixture = *state;
    fixture->store = open_migrated(fixture);
    int64_t id = create_task(fixture->store, "UTF-1");
    char err[512];
    Task claimed[1];
    size_t count = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://a", 100, 4900, "0123456789abcdef0123456789abcdef", 1, claimed, &count,
                                     err, sizeof err),
                     0);
    assert_int_equal(count, 1);
    task_clear(&claimed[0]);
    AttemptOutcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.attempt.task_id = id;
    outcome.attempt.attempt = 1;
    strcpy(outcome.attempt.error_class, "http_status");
    strcpy(outcome.attempt.error_message, "cut \xe2\x82"); /* a euro sign, cut */
    outcome.attempt.response_body = "\xff\xfe raw bytes";
    outcome.attempt.response_length = 12;
    outcome.kind = ATTEMPT_OUTCOME_RETRY;
    outcome.next_attempt_at = 9000;
    strcpy(outcome.claim_token, "0123456789abcdef0123456789abcdef");
    size_t fenced;
    assert_int_equal(store_record_outcomes(fixture->store, &outcome, 1, 200, &fenced, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    Attempt *attempts;
    size_t attempt_count;
    assert_int_equal(store_attempt_list(fixture->store, id, &attempts, &attempt_count, err,
                                        sizeof err),
                     0);
    assert_int_equal(attempt_count, 1);
    assert_string_equal(attempts[0].error_message, "cut ??");
    assert_int_equal(attempts[0].response_length, 12); /* bytes stay bytes */
    assert_memory_equal(attempts[0].response_body, "\xff\xfe raw bytes", 12);
    store_attempt_list_free(attempts, attempt_count);
}

/* The claim picks a host's due tasks through the partial index of pending
 * work, in due order, locking no more than it takes (LIMIT above LockRows,
 * in a materialised CTE), whatever the plan cache decides: the plan of a
 * queue at scale, with 1% of 50,000 tasks pending. */
/* Two sweeps at once (two heraldd whose sweeps run together) rescue an ended
 * lease once: the rescue is one statement that locks the rows it picks and
 * skips those another sweep holds. Before, it was an INSERT of the attempt rows
 * then an UPDATE, and the second sweep's INSERT, not seeing the first's
 * uncommitted UPDATE, recorded the attempt a second time. */
static void test_concurrent_sweeps_rescue_once(void **state)
{
    TestStore *fixture = *state;
    fixture->store = open_migrated(fixture);
    char err[512];
    Store *other = open_migrated(fixture);
    assert_non_null(other);
    int64_t id = create_task(fixture->store, "SWEPT");
    Task claimed[1];
    size_t count = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    /* A lease already over when the claim commits. */
    assert_int_equal(store_claim_due(fixture->store, "http://a", 100, -1000,
                                     "0123456789abcdef0123456789abcdef", 1, claimed, &count, err,
                                     sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(count, 1);
    task_clear(&claimed[0]);
    int first = 0, second = 0, moved = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_recover_interrupted(fixture->store, 500, STORE_RESCUE_EXPIRED, &first,
                                               &moved, err, sizeof err), 0);
    /* The first sweep has not committed yet. */
    assert_int_equal(store_begin(other, err, sizeof err), 0);
    assert_int_equal(store_recover_interrupted(other, 500, STORE_RESCUE_EXPIRED, &second, &moved,
                                               err, sizeof err), 0);
    assert_int_equal(store_commit(other, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(first, 1);
    assert_int_equal(second, 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM attempts WHERE task_id = %lld",
             (long long)id);
    assert_int_equal(test_store_query(fixture, sql), 1);
    store_close(other);
}

/* A turn's outcomes past what one statement's arrays take (256 MiB: 300
 * responses of 1 MiB, max_response_bytes' ceiling, after a database blip) are
 * written all the same: store_record_outcomes writes bounded chunks. Before,
 * one statement took them all and failed "out of memory" at every retry, and
 * the scheduler claimed nothing more until a restart. */
static void test_outcomes_past_one_statements_limit_are_written(void **state)
{
    TestStore *fixture = *state;
    fixture->store = open_migrated(fixture);
    enum { MANY = 300 };
    static char response[1024 * 1024];
    memset(response, 'r', sizeof response);
    static AttemptOutcome outcomes[MANY];
    static Task claimed[MANY];
    char err[512];
    for (int i = 0; i < MANY; i++) {
        char name[32];
        snprintf(name, sizeof name, "BIG-%d", i);
        create_task(fixture->store, name);
    }
    size_t count = 0;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_claim_due(fixture->store, "http://a", 100, 60000,
                                     "0123456789abcdef0123456789abcdef", MANY, claimed, &count,
                                     err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(count, MANY);
    for (int i = 0; i < MANY; i++) {
        memset(&outcomes[i], 0, sizeof outcomes[i]);
        outcomes[i].attempt.task_id = claimed[i].id;
        outcomes[i].attempt.attempt = 1;
        outcomes[i].attempt.status_code = 200;
        outcomes[i].attempt.response_body = response;
        outcomes[i].attempt.response_length = sizeof response;
        outcomes[i].kind = ATTEMPT_OUTCOME_SUCCEEDED;
        strcpy(outcomes[i].claim_token, claimed[i].claim_token);
        task_clear(&claimed[i]);
    }
    size_t fenced = 1;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    if (store_record_outcomes(fixture->store, outcomes, MANY, 200, &fenced, err, sizeof err) != 0)
        fail_msg("record: %s", err);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(fenced, 0);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM tasks WHERE status = 'succeeded'"), MANY);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM attempts"
                                               " WHERE length(response_body) = 1048576"), MANY);
}

static void test_claim_uses_the_due_work_index(void **state)
{
    TestStore *fixture = *state;
    char err[512];
    fixture->store = open_with(fixture, NULL, 0, true, err, sizeof err);
    if (fixture->store == NULL)
        fail_msg("%s", err);
    outside(fixture,
            "INSERT INTO tasks (webhook_id, business_id, business_type, target_url, target_host,"
            " payload_is_json, request_hash, status, attempts, max_retry, next_attempt_at,"
            " created_at, updated_at) SELECT 'm' || i, 'B' || i, 'T', 'http://h' || (i % 20) ||"
            " '/x', 'http://h' || (i % 20) || ':80', true, '\\x00', CASE WHEN i % 5 = 0 THEN"
            " 'pending' ELSE 'succeeded' END, 0, 5, 1000 + i, 0, 0"
            " FROM generate_series(1, 50000) i; INSERT INTO task_queue (task_id, target_host,"
            " due_at) SELECT id, target_host, next_attempt_at FROM tasks WHERE status = 'pending'"
            " ON CONFLICT DO NOTHING; ANALYZE tasks; ANALYZE task_queue");
    const char *keywords[] = {"dbname", NULL};
    const char *values[] = {fixture->url, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *prepared = PQprepare(conn, "claim", pg_sql_text[PG_SQL_CLAIM], 0, NULL);
    assert_int_equal(PQresultStatus(prepared), PGRES_COMMAND_OK);
    PQclear(prepared);
    /* As the scheduler's session plans (pg_connect.c says why). */
    PQclear(PQexec(conn, "SET enable_bitmapscan = off; SET enable_seqscan = off"));
    static const char *const modes[] = {"force_generic_plan", "force_custom_plan"};
    for (size_t m = 0; m < 2; m++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SET plan_cache_mode = %s", modes[m]);
        PQclear(PQexec(conn, sql));
        PGresult *result = PQexec(conn, "EXPLAIN EXECUTE claim('http://h0:80', 99999999, 16, 5, 'token')");
        assert_int_equal(PQresultStatus(result), PGRES_TUPLES_OK);
        char plan[8192] = "";
        for (int row = 0; row < PQntuples(result); row++) {
            strncat(plan, PQgetvalue(result, row, 0), sizeof plan - strlen(plan) - 2);
            strcat(plan, "\n");
        }
        PQclear(result);
        const char *index = strstr(plan, "Index Scan using task_queue_due on task_queue");
        const char *lock = strstr(plan, "LockRows");
        const char *limit = strstr(plan, "Limit");
        if (index == NULL || lock == NULL || limit == NULL || !(limit < lock && lock < index))
            fail_msg("%s: the claim does not read the due-work index under LIMIT and LockRows:\n%s",
                     modes[m], plan);
        assert_null(strstr(plan, "Bitmap"));
        assert_null(strstr(plan, "Seq Scan"));
    }
    PQfinish(conn);
}

/* A WARNING during a COMMIT (what PostgreSQL sends when a commit's wait for
 * a synchronous standby is cancelled) makes store_commit fail: the
 * transaction committed, but not where it was asked to be durable. A
 * deferred trigger raises one at COMMIT, as the cancelled wait would. */
static void test_commit_with_a_warning_is_not_confirmed(void **state)
{
    TestStore *fixture = *state;
    static const Migration warning[] = {
        {1, "warn", "CREATE TABLE things (id bigint PRIMARY KEY);"
                    "CREATE FUNCTION things_warn() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN RAISE WARNING 'canceling wait for synchronous replication'; RETURN NULL; END $$;"
                    "CREATE CONSTRAINT TRIGGER things_warn AFTER INSERT ON things"
                    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION things_warn();"},
    };
    char err[512];
    Store *store = open_with(fixture, warning, 1, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(pg_exec(pg_of(store), "INSERT INTO things VALUES (1)", "insert", err,
                             sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), -1);
    assert_non_null(strstr(err, "may not be on the synchronous standby"));
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM things"), 1);
    /* The session goes on: a WARNING is not an error. */
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(pg_exec(pg_of(store), "DELETE FROM things", "delete", err, sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    store_close(store);
}

/* A server that stops taking writes (25006: a demoted primary, or
 * default_transaction_read_only) is left: the failing session drops its
 * connection, and a new one is refused while the server stays read-only. */
static void test_read_only_server_is_left(void **state)
{
    TestStore *fixture = *state;
    char err[512], sql[256];
    Store *store = open_with(fixture, synthetic, 1, true, err, sizeof err);
    assert_non_null(store);
    PgStore *pg = pg_of(store);
    uint64_t first = pg->connection;
    assert_int_equal(pg_exec(pg, "SET default_transaction_read_only = on", "set", err,
                             sizeof err), 0);
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(pg_exec(pg, "INSERT INTO things (id, name) VALUES (1, 'x')", "insert", err,
                             sizeof err), -1);
    assert_non_null(strstr(err, "25006"));
    assert_null(pg->conn); /* left, not used again */
    store_rollback(store);
    /* The next transaction is on a new session, which takes writes. */
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_true(pg->connection > first);
    assert_int_equal(pg_exec(pg, "INSERT INTO things (id, name) VALUES (1, 'x')", "insert", err,
                             sizeof err), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    /* A server read-only for every session is refused at connecting. */
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET default_transaction_read_only = on",
             fixture->pg_database);
    outside(fixture, sql);
    pg_drop_connection(pg);
    assert_int_equal(store_ping(store, err, sizeof err), -1);
    assert_non_null(strstr(err, "read-only"));
    snprintf(sql, sizeof sql,
             "BEGIN READ WRITE; ALTER DATABASE %s RESET default_transaction_read_only; COMMIT",
             fixture->pg_database);
    outside(fixture, sql);
    pg->next_connect_ms = 0; /* past the backoff */
    assert_int_equal(store_ping(store, err, sizeof err), 0);
    store_close(store);
}

static void test_unreachable_server(void **state)
{
    (void)state;
    StoreLocation location = {.kind = STORE_BACKEND_POSTGRESQL,
                              .url = "postgresql:///herald?host=/nonexistent-dir&user=herald",
                              .busy_timeout_ms = 100,
                              .statement_timeout_ms = 1000};
    char err[512];
    StoreOptions once = {.migrate = true};
    assert_null(store_open(&location, &once, err, sizeof err));
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    /* With a wait, it keeps trying that long, then says why it gave up. */
    StoreOptions waiting = {.migrate = true, .wait_ms = 400};
    int64_t started = clock_monotonic_ms();
    assert_null(store_open(&location, &waiting, err, sizeof err));
    assert_true(clock_monotonic_ms() - started >= 300);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    StoreInspection found;
    assert_int_equal(store_inspect(&location, &found, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
}

static void test_passwords_are_not_shown(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *shown;
    } cases[] = {
        {"postgresql://herald:s3cret@db:5432/herald", "postgresql://herald:***@db:5432/herald"},
        {"postgresql://db/herald?user=h&password=s3cret&sslmode=require",
         "postgresql://db/herald?user=h&password=***&sslmode=require"},
        {"postgresql://herald@db/herald", "postgresql://herald@db/herald"},
        {"postgresql:///herald?host=/run/pg", "postgresql:///herald?host=/run/pg"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        StoreLocation location = {.kind = STORE_BACKEND_POSTGRESQL, .url = cases[i].url};
        char out[256];
        assert_string_equal(store_location_name(&location, out, sizeof out), cases[i].shown);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migration_upgrade_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_start_ups_migrate_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_connection_is_found_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_seam_drops_the_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_text_is_made_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_uses_the_due_work_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_sweeps_rescue_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_past_one_statements_limit_are_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_with_a_warning_is_not_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_server_is_left, setup, teardown),
        cmocka_unit_test(test_unreachable_server),
        cmocka_unit_test(test_passwords_are_not_shown),
    };
    return cmocka_run_group_tests_name("store_pg", tests, NULL, NULL);
}
