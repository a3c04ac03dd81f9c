/* Unit tests of PostgreSQL's migration runner (store/pg/pg_schema.c) and its
 * reading of a migration's text (store/pg/pg_migration.c): every migration
 * built into heraldd keeps the rules; a migration outlives the session's
 * statement_timeout, which is back afterwards; a no-transaction migration
 * builds its index concurrently, is recorded only once it succeeded, and an
 * index a cut-short build left INVALID is dropped and built again; a
 * migration that waits for a table's lock gives up after its short
 * lock_timeout and is tried again; two start-ups run a slow migration once;
 * a migration that takes away what older heraldd use waits for them.
 * The text tests run anywhere; the others with a cluster (tests/unit/run.sh)
 * and skip without one. */
#include "test_support.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "store.h"
#include "pg.h"

static int setup(void **state)
{
    if (getenv("HERALD_TEST_PG_DIR") == NULL) {
        skip();
    }
    TestStore *fixture = calloc(1, sizeof *fixture);
    setenv("HERALD_TEST_BACKEND", "postgresql", 1);
    test_database_make(fixture);
    /* Short, so a migration that outlives it shows the runner lifted it. */
    fixture->location.statement_timeout_ms = 300;
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    TestStore *fixture = *state;
    test_database_drop(fixture);
    free(fixture);
    return 0;
}

static Store *open_with(TestStore *fixture, const Migration *list, size_t count, char *err,
                        size_t errlen)
{
    StoreOptions options = {.migrations = list, .migration_count = count, .migrate = true};
    return store_open(&fixture->location, &options, err, errlen);
}

/* A session of the test's own on FIXTURE's database. */
static PGconn *outside_connect(const TestStore *fixture)
{
    const char *keywords[] = {"dbname", NULL};
    const char *values[] = {fixture->url, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    return conn;
}

/* Runs SQL on CONN; true if it succeeded. */
static bool outside_run(PGconn *conn, const char *sql)
{
    PGresult *result = PQexec(conn, sql);
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK ||
              PQresultStatus(result) == PGRES_TUPLES_OK;
    PQclear(result);
    return ok;
}

static void test_text_rules(void **state)
{
    (void)state;
    char err[512], name[64];
    /* Every migration built into heraldd keeps the rules of its kind. */
    for (size_t i = 0; i < migrations_postgresql.count; i++)
        if (pg_migration_check(&migrations_postgresql.list[i], err, sizeof err) != 0)
            fail_msg("%s", err);
    /* 010 and 011 run outside a transaction (their batches, CONCURRENTLY);
     * 001 and 012 inside one. */
    for (size_t i = 0; i < migrations_postgresql.count; i++) {
        int version = migrations_postgresql.list[i].version;
        if (version == 1 || version == 10 || version == 11 || version == 12)
            assert_int_equal(pg_migration_outside_transaction(&migrations_postgresql.list[i]),
                             version == 10 || version == 11);
    }
    /* Only 011 (tasks' indexes on status) waits, for heraldd before 009; and
     * 018 (ordering keys used from it on), for heraldd before it. */
    for (size_t i = 0; i < migrations_postgresql.count; i++) {
        int version = migrations_postgresql.list[i].version;
        assert_int_equal(pg_migration_needs_no_older(&migrations_postgresql.list[i]),
                         version == 11 ? 9 : version == 18 ? 18 : 0);
    }

    const Migration split = {
        9, "split",
        "-- a comment, ending as a statement would;\n" PG_MIGRATION_NO_TRANSACTION "\n\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_b ON a (b)\n    WHERE c IS NOT NULL;\n"
        "  -- between\n"
        "create unique index concurrently if not exists a_c on a (c);  \n"
        "DROP INDEX CONCURRENTLY IF EXISTS a_d;\nANALYZE a"};
    assert_true(pg_migration_outside_transaction(&split));
    assert_int_equal(pg_migration_check(&split, err, sizeof err), 0);
    const char *cursor = split.sql, *start;
    size_t length;
    const char *expected[] = {
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_b ON a (b)\n    WHERE c IS NOT NULL;",
        "create unique index concurrently if not exists a_c on a (c);",
        "DROP INDEX CONCURRENTLY IF EXISTS a_d;", "ANALYZE a"};
    const char *names[] = {"a_b", "a_c", NULL, NULL};
    for (int i = 0; i < 4; i++) {
        cursor = pg_migration_statement(cursor, &start, &length);
        assert_non_null(cursor);
        assert_int_equal(length, strlen(expected[i]));
        assert_memory_equal(start, expected[i], length);
        assert_int_equal(pg_migration_index_name(start, length, name, sizeof name),
                         names[i] != NULL);
        if (names[i] != NULL)
            assert_string_equal(name, names[i]);
    }
    assert_null(pg_migration_statement(cursor, &start, &length));

    /* What would stop writes, or not survive a second run, is refused. */
    const Migration refused[] = {
        {9, "plain", PG_MIGRATION_NO_TRANSACTION "\nCREATE INDEX a_b ON a (b);\n"},
        {9, "again", PG_MIGRATION_NO_TRANSACTION "\nCREATE INDEX CONCURRENTLY a_b ON a (b);\n"},
        {9, "drop", PG_MIGRATION_NO_TRANSACTION "\nDROP INDEX a_b;\n"},
        {9, "inside", "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_b ON a (b);\n"},
        {9, "empty", PG_MIGRATION_NO_TRANSACTION "\n-- nothing\n"},
        {9, "held", PG_MIGRATION_ONCE_NO_OLDER "008\nDROP TABLE a;\n"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        err[0] = '\0';
        assert_int_equal(pg_migration_check(&refused[i], err, sizeof err), -1);
        assert_non_null(strstr(err, refused[i].name));
    }
    /* A comment that names CONCURRENTLY is no statement. */
    const Migration commented = {9, "commented",
                                 "-- not CONCURRENTLY: a new table\nCREATE TABLE a (b int);\n"};
    assert_int_equal(pg_migration_check(&commented, err, sizeof err), 0);
}

static long long session_statement_timeout(Store *store)
{
    int64_t ms = -1;
    char err[256];
    assert_int_equal(pg_query_int64(pg_of(store),
                                    "SELECT (extract(epoch FROM current_setting("
                                    "'statement_timeout')::interval) * 1000)::bigint",
                                    "statement_timeout", &ms, err, sizeof err),
                     0);
    return (long long)ms;
}

/* Statements longer than statement_timeout (300 ms here), in a transaction
 * and out of one, succeed; the session's own timeout is back afterwards. */
static void test_migration_outlives_statement_timeout(void **state)
{
    TestStore *fixture = *state;
    static const Migration slow[] = {
        {1, "table", "CREATE TABLE things (id bigint PRIMARY KEY, name text);\n"
                     "SELECT pg_sleep(0.6);\n"},
        {2, "index", PG_MIGRATION_NO_TRANSACTION "\nSELECT pg_sleep(0.6);\n"
                     "CREATE INDEX CONCURRENTLY IF NOT EXISTS things_name ON things (name);\n"},
    };
    char err[512];
    Store *store = open_with(fixture, slow, 2, err, sizeof err);
    if (store == NULL)
        fail_msg("open: %s", err);
    assert_int_equal(store_schema_version(store), 2);
    assert_int_equal(session_statement_timeout(store), 300);
    store_close(store);
    assert_int_equal(test_store_query(fixture, "SELECT indisvalid::integer FROM pg_index"
                                               " WHERE indexrelid = 'things_name'::regclass"),
                     1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM schema_migrations"), 2);
}

/* A concurrent build that fails leaves its index INVALID and the migration
 * unrecorded; the next start drops that index and builds it again. */
static void test_invalid_index_is_built_again(void **state)
{
    TestStore *fixture = *state;
    static const Migration list[] = {
        {1, "table", "CREATE TABLE things (id bigint PRIMARY KEY, name text);\n"
                     "INSERT INTO things VALUES (1, 'same'), (2, 'same');\n"},
        {2, "unique", PG_MIGRATION_NO_TRANSACTION "\n"
                      "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS things_name"
                      " ON things (name);\n"},
    };
    char err[512];
    assert_null(open_with(fixture, list, 2, err, sizeof err));
    assert_non_null(strstr(err, "migration 002_unique"));
    assert_int_equal(test_store_query(fixture, "SELECT max(version) FROM schema_migrations"), 1);
    assert_int_equal(test_store_query(fixture, "SELECT indisvalid::integer FROM pg_index"
                                               " WHERE indexrelid = 'things_name'::regclass"),
                     0);
    /* IF NOT EXISTS alone would keep the invalid index and record the
     * migration; the runner drops it and builds it again. */
    PGconn *conn = outside_connect(fixture);
    assert_true(outside_run(conn, "DELETE FROM things WHERE id = 2"));
    PQfinish(conn);
    Store *store = open_with(fixture, list, 2, err, sizeof err);
    if (store == NULL)
        fail_msg("open: %s", err);
    store_close(store);
    assert_int_equal(test_store_query(fixture, "SELECT indisvalid::integer FROM pg_index"
                                               " WHERE indexrelid = 'things_name'::regclass"),
                     1);
    assert_int_equal(test_store_query(fixture, "SELECT max(version) FROM schema_migrations"), 2);
}

typedef struct Holder {
    PGconn *conn;
    int64_t hold_ms;
} Holder;

static void *release_later(void *argument)
{
    Holder *holder = argument;
    usleep((useconds_t)holder->hold_ms * 1000);
    outside_run(holder->conn, "COMMIT");
    return NULL;
}

typedef struct Writer {
    TestStore *fixture;
    int64_t took_ms;
    bool ok;
} Writer;

/* Another heraldd's write, made while the migration's ALTER TABLE queues for
 * its lock (and so in front of this write). */
static void *write_meanwhile(void *argument)
{
    Writer *writer = argument;
    usleep(300 * 1000);
    PGconn *conn = outside_connect(writer->fixture);
    int64_t began = clock_monotonic_ms();
    writer->ok = outside_run(conn, "INSERT INTO things VALUES (2, 'meanwhile')");
    writer->took_ms = clock_monotonic_ms() - began;
    PQfinish(conn);
    return NULL;
}

/* A transaction holding a lock the migration's ALTER TABLE waits for: the
 * migration gives up after its short lock_timeout (so writes queued behind
 * it wait no longer than that) and is tried again until it gets through. */
static void test_lock_timeout_is_retried(void **state)
{
    TestStore *fixture = *state;
    static const Migration list[] = {
        {1, "table", "CREATE TABLE things (id bigint PRIMARY KEY, name text);\n"},
        {2, "column", "ALTER TABLE things ADD COLUMN size integer;\n"},
    };
    char err[512];
    Store *store = open_with(fixture, list, 1, err, sizeof err);
    assert_non_null(store);
    store_close(store);
    /* The busy_timeout (1 s in the fixture) would have waited too; a longer
     * one shows the migration's own, shorter, timeout is the one applied. */
    fixture->location.busy_timeout_ms = 60000;
    Holder holder = {.conn = outside_connect(fixture), .hold_ms = 2500};
    assert_true(outside_run(holder.conn, "BEGIN"));
    assert_true(outside_run(holder.conn, "INSERT INTO things VALUES (1, 'held')"));
    Writer writer = {.fixture = fixture};
    pthread_t thread, writing;
    assert_int_equal(pthread_create(&thread, NULL, release_later, &holder), 0);
    assert_int_equal(pthread_create(&writing, NULL, write_meanwhile, &writer), 0);
    int64_t began = clock_monotonic_ms();
    store = open_with(fixture, list, 2, err, sizeof err);
    int64_t took = clock_monotonic_ms() - began;
    pthread_join(thread, NULL);
    pthread_join(writing, NULL);
    PQfinish(holder.conn);
    if (store == NULL)
        fail_msg("open: %s", err);
    store_close(store);
    assert_true(took >= 2000); /* it waited for the holder, by retries */
    /* The write queued behind the migration's lock for one lock_timeout at
     * most, not until the holder was done. */
    assert_true(writer.ok);
    if (writer.took_ms > 1500)
        fail_msg("a write waited %lld ms behind the migration", (long long)writer.took_ms);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM information_schema.columns"
                                               " WHERE table_name = 'things'"
                                               " AND column_name = 'size'"),
                     1);
}

typedef struct Starter {
    TestStore *fixture;
    const Migration *list;
    size_t count;
    bool ok;
    char err[512];
} Starter;

static void *start_in_thread(void *argument)
{
    Starter *starter = argument;
    Store *store = open_with(starter->fixture, starter->list, starter->count, starter->err,
                             sizeof starter->err);
    starter->ok = store != NULL;
    store_close(store);
    return NULL;
}

/* Two start-ups at once while a no-transaction migration takes longer than
 * statement_timeout: one runs it, the other waits and finds it done. */
static void test_two_start_ups_run_a_slow_migration_once(void **state)
{
    TestStore *fixture = *state;
    static const Migration list[] = {
        {1, "table", "CREATE TABLE things (id bigint PRIMARY KEY, name text);\n"},
        {2, "slow", PG_MIGRATION_NO_TRANSACTION "\n"
                    "INSERT INTO things SELECT coalesce(max(id), 0) + 1, 'run' FROM things;\n"
                    "SELECT pg_sleep(1);\n"},
    };
    Starter starters[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        starters[i] = (Starter){.fixture = fixture, .list = list, .count = 2};
        assert_int_equal(pthread_create(&threads[i], NULL, start_in_thread, &starters[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        if (!starters[i].ok)
            fail_msg("start %d: %s", i, starters[i].err);
    }
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM things"), 1);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM schema_migrations"), 2);
}

/* A migration that takes away what older heraldd use waits while one of them
 * beats: the start-up applies what comes before it, leaves it and what
 * follows, and the other sessions accept that schema; once the older
 * heraldd's heartbeat is a minute old, the next start-up applies it. */
static void test_a_migration_waits_for_older_heraldd(void **state)
{
    TestStore *fixture = *state;
    static const Migration list[] = {
        {1, "instances", "CREATE TABLE instances (id text PRIMARY KEY, heartbeat_at bigint,"
                         " schema_known integer NOT NULL DEFAULT 0);\n"},
        {2, "things", "CREATE TABLE things (id bigint PRIMARY KEY);\n"},
        {3, "drop", PG_MIGRATION_ONCE_NO_OLDER "002\n" PG_MIGRATION_NO_TRANSACTION "\n"
                    "DROP TABLE IF EXISTS things;\n"},
        {4, "after", "CREATE TABLE later (id bigint);\n"},
    };
    assert_int_equal(pg_migration_needs_no_older(&list[2]), 2);
    assert_int_equal(pg_migration_needs_no_older(&list[1]), 0);
    char err[512];
    Store *store = open_with(fixture, list, 1, err, sizeof err);
    assert_non_null(store);
    /* An older heraldd (it knows one migration) beats now, a newer one too. */
    assert_int_equal(test_store_query(fixture, "INSERT INTO instances VALUES ('old', (extract("
                                               "epoch FROM clock_timestamp()) * 1000)::bigint, 1),"
                                               " ('new', 0, 4) RETURNING 1"),
                     1);
    store_close(store);
    store = open_with(fixture, list, 4, err, sizeof err);
    if (store == NULL)
        fail_msg("%s", err);
    assert_int_equal(store_schema_version(store), 2);
    store_close(store);
    assert_int_equal(test_store_query(fixture, "SELECT max(version) FROM schema_migrations"), 2);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM things"), 0);
    StoreOptions check = {.migrations = list, .migration_count = 4, .migrate = false};
    store = store_open(&fixture->location, &check, err, sizeof err);
    if (store == NULL)
        fail_msg("a session that does not migrate refused the held-back schema: %s", err);
    store_close(store);
    /* Its heartbeat is over a minute old: applied, with what follows. */
    assert_int_equal(test_store_query(fixture, "UPDATE instances SET heartbeat_at ="
                                               " heartbeat_at - 61000 WHERE id = 'old'"
                                               " RETURNING 1"),
                     1);
    store = open_with(fixture, list, 4, err, sizeof err);
    if (store == NULL)
        fail_msg("%s", err);
    assert_int_equal(store_schema_version(store), 4);
    store_close(store);
    assert_int_equal(test_store_query(fixture, "SELECT count(*) FROM pg_class WHERE relname"
                                               " IN ('things', 'later')"), 1);
}

/* Every built-in migration run outside a transaction can be run again from
 * its start after a crash that cut it short, even after its last statement
 * (it is recorded only after that): the schema is brought up to each such
 * migration, its record removed, and the next start-up must finish. */
static void test_each_migration_runs_again_after_a_crash(void **state)
{
    TestStore *fixture = *state;
    char err[512];
    for (size_t n = 1; n <= migrations_postgresql.count; n++) {
        if (!pg_migration_outside_transaction(&migrations_postgresql.list[n - 1]))
            continue;
        Store *store = open_with(fixture, migrations_postgresql.list, n, err, sizeof err);
        if (store == NULL)
            fail_msg("up to %zu: %s", n, err);
        store_close(store);
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM schema_migrations WHERE version = %d RETURNING 1",
                 migrations_postgresql.list[n - 1].version);
        assert_int_equal(test_store_query(fixture, sql), 1);
        store = open_with(fixture, migrations_postgresql.list, n, err, sizeof err);
        if (store == NULL)
            fail_msg("migration %d run again: %s", migrations_postgresql.list[n - 1].version, err);
        store_close(store);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_rules),
        cmocka_unit_test_setup_teardown(test_migration_outlives_statement_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_index_is_built_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_timeout_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_migration_waits_for_older_heraldd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_migration_runs_again_after_a_crash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_start_ups_run_a_slow_migration_once, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
