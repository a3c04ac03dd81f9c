/* Unit tests of the SQLite backend's own: its migrations (a synthetic set and
 * the real ones from every version), the rewrite of migration 003 under
 * writable_schema, a "defensive" SQLite, and failing to open a file. */
#include "test_support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* ---- migrations ---- */

static const Migration synthetic[] = {
    {1, "one", "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"},
    {2, "two", "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 7;"},
    {3, "three", "CREATE INDEX things_name ON things (name);"},
};

static Store *open_with(const char *path, const Migration *list, size_t count, bool migrate,
                        char *err, size_t errlen)
{
    StoreLocation location = test_sqlite_location(path, 1000);
    StoreOptions options = {.migrations = list,
                            .migration_count = count, .migrate = migrate};
    return store_open(&location, &options, err, errlen);
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
    assert_int_equal(test_query_int(path, "SELECT size FROM things WHERE name = 'kept'"), 7);
    assert_int_equal(test_query_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM schema_migrations"), 3);
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
    assert_int_equal(test_query_int(path, "PRAGMA user_version"), 0);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'things'"), 0);
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

/* Creates PATH's database at schema version FROM. */
static void create_at_version(const char *path, size_t from)
{
    char err[512];
    Store *old = open_with(path, migrations_sqlite.list, from, true, err, sizeof err);
    if (old == NULL)
        fail_msg("create at version %zu: %s", from, err);
    store_close(old);
}

/* Opens PATH with every migration, failing the test with the reason if not. */
static void upgrade_to_current(const char *path)
{
    char err[512];
    Store *store = open_with(path, migrations_sqlite.list, migrations_sqlite.count, true, err, sizeof err);
    if (store == NULL)
        fail_msg("upgrade: %s", err);
    assert_int_equal(store_schema_version(store), (int)migrations_sqlite.count);
    store_close(store);
}

static void test_real_migrations_upgrade_from_each_version(void **state)
{
    (void)state;
    for (size_t from = 0; from < migrations_sqlite.count; from++) {
        char *dir = test_temp_dir();
        char *path = test_path(dir, "m.db");
        if (from > 0)
            create_at_version(path, from);
        upgrade_to_current(path);
        free(path);
        test_remove_dir(dir);
    }
}

/* Inserts a task row with STATUS by hand; returns the SQLite result code. */
static int insert_with_status(const char *path, const char *status)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = sqlite3_mprintf(
        "INSERT INTO tasks (webhook_id, business_id, business_type, target_url, target_host,"
        " payload, payload_is_json, request_hash, status, max_retry, next_attempt_at,"
        " created_at, updated_at) VALUES ('msg_x', %Q, 'T', 'http://h/', 'http://h:80', '{}',"
        " 1, x'00', %Q, 3, 1, 1, 1)",
        status, status);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    sqlite3_close(db);
    return rc;
}

/* Migration 003 rewrites the status CHECK by editing sqlite_schema: the rows
 * stay, the rule is the same, and the slow IN form is gone. */
static void test_status_check_rewrite_keeps_rows_and_rule(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *path = test_path(dir, "m.db");
    create_at_version(path, 2);
    assert_int_equal(insert_with_status(path, "pending"), SQLITE_OK);
    upgrade_to_current(path);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM tasks"), 1);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'tasks'"
                                          " AND instr(sql, 'status IN (') = 0"
                                          " AND instr(sql, 'status = ''failed''') > 0"),
                     1);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM sqlite_schema"
                                          " WHERE name = 'migration_003_guard'"),
                     0);
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM pragma_integrity_check"
                                          " WHERE integrity_check = 'ok'"),
                     1);
    const char *allowed[] = {"delivering", "succeeded", "failed"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(insert_with_status(path, allowed[i]), SQLITE_OK);
    assert_int_equal(insert_with_status(path, "bogus"), SQLITE_CONSTRAINT);
    assert_int_equal(insert_with_status(path, "Pending"), SQLITE_CONSTRAINT);
    free(path);
    test_remove_dir(dir);
}

static int defensive_on(sqlite3 *db, char **message, const struct sqlite3_api_routines *api)
{
    (void)message;
    (void)api;
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    return SQLITE_OK;
}

/* A SQLite that opens every connection "defensive" forbids writable_schema;
 * migration 003 still applies. */
static void test_migrations_run_on_a_defensive_sqlite(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *path = test_path(dir, "m.db");
    create_at_version(path, 2);
    assert_int_equal(sqlite3_auto_extension((void (*)(void))defensive_on), SQLITE_OK);
    upgrade_to_current(path); /* a failure here leaves the extension: the run ends anyway */
    sqlite3_reset_auto_extension();
    assert_int_equal(test_query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'tasks'"
                                          " AND instr(sql, 'status IN (') = 0"),
                     1);
    free(path);
    test_remove_dir(dir);
}

static void test_open_failure_is_reported(void **state)
{
    (void)state;
    char err[512];
    StoreOptions options = {.migrate = true};
    StoreLocation location = test_sqlite_location("/nonexistent-dir/x/herald.db", 100);
    Store *store = store_open(&location, &options, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, "/nonexistent-dir/x/herald.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migration_upgrade_keeps_data),
        cmocka_unit_test(test_failed_migration_changes_nothing),
        cmocka_unit_test(test_newer_schema_is_refused),
        cmocka_unit_test(test_real_migrations_upgrade_from_each_version),
        cmocka_unit_test(test_status_check_rewrite_keeps_rows_and_rule),
        cmocka_unit_test(test_migrations_run_on_a_defensive_sqlite),
        cmocka_unit_test(test_open_failure_is_reported),
    };
    return cmocka_run_group_tests_name("store_sqlite", tests, NULL, NULL);
}
