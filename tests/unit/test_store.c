/* Unit tests for src/store.c and src/store_tasks.c against temporary databases. */
#include "test_support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef struct Fixture {
    char *dir;
    char *path;
    Store *store;
} Fixture;

static int setup(void **state)
{
    Fixture *fixture = calloc(1, sizeof *fixture);
    fixture->dir = test_temp_dir();
    fixture->path = test_path(fixture->dir, "herald.db");
    char err[512];
    StoreOptions options = {.busy_timeout_ms = 1000, .migrate = true};
    fixture->store = store_open(fixture->path, &options, err, sizeof err);
    if (fixture->store == NULL)
        fail_msg("store_open: %s", err);
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    Fixture *fixture = *state;
    store_close(fixture->store);
    free(fixture->path);
    test_remove_dir(fixture->dir);
    free(fixture);
    return 0;
}

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
    if (store_task_insert(store, &request, 5, "msg_test", now, &id, err, sizeof err) != 0)
        fail_msg("insert: %s", err);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

static void test_fresh_database_is_migrated(void **state)
{
    Fixture *fixture = *state;
    assert_int_equal(store_schema_version(fixture->store), (int)migration_count);
    char err[256];
    assert_int_equal(store_ping(fixture->store, err, sizeof err), 0);
    /* A second connection that does not migrate accepts the current schema. */
    StoreOptions options = {.busy_timeout_ms = 1000, .migrate = false};
    Store *other = store_open(fixture->path, &options, err, sizeof err);
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
    assert_int_equal(store_task_insert(fixture->store, &request, 7, "msg_x", 1234, &id, err, sizeof err), 0);
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

    unsigned char hash[TASK_HASH_SIZE];
    assert_int_equal(store_task_find_by_idempotency_key(fixture->store, "key-1", &task, hash, err, sizeof err), STORE_OK);
    assert_memory_equal(hash, request.hash, TASK_HASH_SIZE);
    task_clear(&task);
    assert_int_equal(store_task_find_by_idempotency_key(fixture->store, "nope", &task, hash, err, sizeof err), STORE_NOT_FOUND);
    assert_int_equal(store_task_find_by_business(fixture->store, "PAYMENT_SUCCESS", "P1", "https://order/notify", &task, err, sizeof err), STORE_OK);
    assert_int_equal(task.id, id);
    task_clear(&task);
    assert_int_equal(store_task_find_by_business(fixture->store, "PAYMENT_SUCCESS", "P1", "https://other/", &task, err, sizeof err), STORE_NOT_FOUND);
    task_request_clear(&request);
}

static void test_rollback_discards(void **state)
{
    Fixture *fixture = *state;
    TaskRequest request;
    make_request(&request, "P1", "T", "http://a/", NULL);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_insert(fixture->store, &request, 5, "m", 1, &id, err, sizeof err), 0);
    store_rollback(fixture->store);
    Task task;
    assert_int_equal(store_task_get(fixture->store, id, &task, err, sizeof err), STORE_NOT_FOUND);
    /* A savepoint undoes only its own part. */
    int64_t kept, undone;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_insert(fixture->store, &request, 5, "m", 1, &kept, err, sizeof err), 0);
    assert_int_equal(store_savepoint(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_insert(fixture->store, &request, 5, "m", 1, &undone, err, sizeof err), 0);
    assert_int_equal(store_savepoint_rollback(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_commit(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_get(fixture->store, kept, &task, err, sizeof err), STORE_OK);
    task_clear(&task);
    assert_int_equal(store_task_get(fixture->store, undone, &task, err, sizeof err), STORE_NOT_FOUND);
    task_request_clear(&request);
}

static void test_idempotency_key_is_unique(void **state)
{
    Fixture *fixture = *state;
    insert(fixture->store, "P1", "T", "http://a/", "dup", 1);
    TaskRequest request;
    make_request(&request, "P2", "T", "http://a/", "dup");
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(fixture->store, err, sizeof err), 0);
    assert_int_equal(store_task_insert(fixture->store, &request, 5, "m", 1, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "UNIQUE"));
    store_rollback(fixture->store);
    task_request_clear(&request);
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
    TaskFilter all = {.limit = 10};
    expect_ids(fixture->store, &all, (int64_t[]){d, c, b, a}, 4);
    TaskFilter page = {.limit = 2};
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

/* ---- migrations ---- */

static const Migration synthetic[] = {
    {1, "one", "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"},
    {2, "two", "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 7;"},
    {3, "three", "CREATE INDEX things_name ON things (name);"},
};

static Store *open_with(const char *path, const Migration *list, size_t count, bool migrate,
                        char *err, size_t errlen)
{
    StoreOptions options = {.busy_timeout_ms = 1000, .migrations = list,
                            .migration_count = count, .migrate = migrate};
    return store_open(path, &options, err, errlen);
}

static int query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *statement;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    int value = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

static void test_migration_upgrade_keeps_data(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *path = test_path(dir, "m.db");
    char err[512];
    Store *store = open_with(path, synthetic, 1, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(store_schema_version(store), 1);
    store_close(store);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO things (name) VALUES ('kept')", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store = open_with(path, synthetic, 3, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(store_schema_version(store), 3);
    store_close(store);
    assert_int_equal(query_int(path, "SELECT size FROM things WHERE name = 'kept'"), 7);
    assert_int_equal(query_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(query_int(path, "SELECT count(*) FROM schema_migrations"), 3);
    free(path);
    test_remove_dir(dir);
}

static void test_failed_migration_changes_nothing(void **state)
{
    (void)state;
    static const Migration broken[] = {
        {1, "one", "CREATE TABLE things (id INTEGER PRIMARY KEY);"},
        {2, "bad", "CREATE TABLE more (id INTEGER); THIS IS NOT SQL;"},
    };
    char *dir = test_temp_dir();
    char *path = test_path(dir, "m.db");
    char err[512];
    Store *store = open_with(path, broken, 2, true, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, "migration 002_bad"));
    /* All-or-nothing: not even migration 1 stayed. */
    assert_int_equal(query_int(path, "PRAGMA user_version"), 0);
    assert_int_equal(query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'things'"), 0);
    free(path);
    test_remove_dir(dir);
}

static void test_newer_schema_is_refused(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *path = test_path(dir, "m.db");
    char err[512];
    Store *store = open_with(path, synthetic, 3, true, err, sizeof err);
    assert_non_null(store);
    store_close(store);
    store = open_with(path, synthetic, 2, true, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, "schema version 3 is newer than this heraldd knows (2)"));
    /* A non-migrating connection refuses a schema that is not exactly current. */
    store = open_with(path, synthetic, 2, false, err, sizeof err);
    assert_null(store);
    free(path);
    test_remove_dir(dir);
}

static void test_real_migrations_upgrade_from_each_version(void **state)
{
    (void)state;
    for (size_t from = 0; from < migration_count; from++) {
        char *dir = test_temp_dir();
        char *path = test_path(dir, "m.db");
        char err[512];
        if (from > 0) {
            Store *old = open_with(path, migration_list, from, true, err, sizeof err);
            assert_non_null(old);
            store_close(old);
        }
        Store *store = open_with(path, migration_list, migration_count, true, err, sizeof err);
        if (store == NULL)
            fail_msg("upgrade from %zu: %s", from, err);
        assert_int_equal(store_schema_version(store), (int)migration_count);
        store_close(store);
        free(path);
        test_remove_dir(dir);
    }
}

static void test_open_failure_is_reported(void **state)
{
    (void)state;
    char err[512];
    StoreOptions options = {.busy_timeout_ms = 100, .migrate = true};
    Store *store = store_open("/nonexistent-dir/x/herald.db", &options, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, "/nonexistent-dir/x/herald.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database_is_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_get_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key_is_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_pages, setup, teardown),
        cmocka_unit_test(test_migration_upgrade_keeps_data),
        cmocka_unit_test(test_failed_migration_changes_nothing),
        cmocka_unit_test(test_newer_schema_is_refused),
        cmocka_unit_test(test_real_migrations_upgrade_from_each_version),
        cmocka_unit_test(test_open_failure_is_reported),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
