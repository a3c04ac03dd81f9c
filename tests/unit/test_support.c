/*
 * test_support: see test_support.h.
 */
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store.h"
#include "task.h"

char *test_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    assert_true(asprintf(&path, "%s/herald-test-XXXXXX", base ? base : "/tmp") > 0);
    assert_non_null(mkdtemp(path));
    return path;
}

static int test_remove_entry(const char *path, const struct stat *status, int type,
                             struct FTW *walk)
{
    (void)status;
    (void)type;
    (void)walk;
    return remove(path);
}

void test_remove_dir(char *path)
{
    nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

char *test_path(const char *dir, const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    return path;
}

char *test_write_file(const char *dir, const char *name, const char *content)
{
    char *path = test_path(dir, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    assert_int_equal(fputs(content, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
    return path;
}

void test_task_request(TaskRequest *request, const char *business_id, const char *type,
                       const char *url, const char *key, const char *payload)
{
    memset(request, 0, sizeof *request);
    request->business_id = strdup(business_id);
    request->business_type = strdup(type);
    request->target_url = strdup(url);
    /* "http://a/x" -> "http://a": enough of a host key for tests. */
    const char *slash = strchr(strstr(url, "://") ? strstr(url, "://") + 3 : url, '/');
    request->target_host = slash ? strndup(url, (size_t)(slash - url)) : strdup(url);
    request->payload = strdup(payload);
    request->payload_length = strlen(payload);
    request->payload_is_json = true;
    request->idempotency_key = key ? strdup(key) : NULL;
    task_request_compute_hash(request);
}

int test_create_task(Store *store, const TaskRequest *request, int max_retry,
                     const char *webhook_id, int64_t now, int64_t *id)
{
    char err[512];
    TaskCreation creation;
    if (store_task_create(store, request, max_retry, webhook_id, now, &creation, err,
                          sizeof err) != STORE_OK)
        fail_msg("store_task_create: %s", err);
    if (!creation.created) {
        long long existing = (long long)creation.existing.id;
        task_clear(&creation.existing);
        fail_msg("store_task_create: the request repeats task %lld", existing);
    }
    *id = creation.id;
    return 0;
}

int64_t test_insert_task(Store *store, const char *business_id, const char *type, const char *url,
                         const char *key, int64_t now)
{
    TaskRequest request;
    test_task_request(&request, business_id, type, url, key, "{\"a\":1}");
    char err[256];
    int64_t id = 0;
    if (store_begin(store, err, sizeof err) != 0)
        fail_msg("insert: %s", err);
    test_create_task(store, &request, 5, "msg_test", now, &id);
    if (store_commit(store, err, sizeof err) != 0)
        fail_msg("insert: %s", err);
    task_request_clear(&request);
    return id;
}

StoreLocation test_sqlite_location(const char *path, int64_t busy_timeout_ms)
{
    return (StoreLocation){
        .kind = STORE_BACKEND_SQLITE, .path = path, .busy_timeout_ms = busy_timeout_ms};
}

char *test_create_database(const char *dir)
{
    char *path = test_path(dir, "herald.db");
    char err[512];
    StoreOptions options = {.migrate = true};
    StoreLocation location = test_sqlite_location(path, 1000);
    Store *store = store_open(&location, &options, err, sizeof err);
    if (store == NULL)
        fail_msg("store_open: %s", err);
    store_close(store);
    return path;
}

int test_query_int(const char *path, const char *sql)
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

bool test_backend_is_postgresql(void)
{
    const char *backend = getenv("HERALD_TEST_BACKEND");
    return backend != NULL && strcmp(backend, "postgresql") == 0;
}

/* Runs SQL as the cluster's superuser in its postgres database. */
static void test_pg_admin(const char *sql)
{
    const char *dir = getenv("HERALD_TEST_PG_DIR");
    if (dir == NULL)
        fail_msg("HERALD_TEST_PG_DIR is not set (tests/unit/run.sh starts a cluster)");
    const char *keywords[] = {"host", "user", "dbname", NULL};
    const char *values[] = {dir, "postgres", "postgres", NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 0);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("admin connection: %s", PQerrorMessage(conn));
    PGresult *result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(result));
    PQclear(result);
    PQfinish(conn);
}

void test_database_make(TestStore *fixture)
{
    static int made;
    if (fixture->dir == NULL)
        fixture->dir = test_temp_dir();
    if (!test_backend_is_postgresql()) {
        fixture->path = test_path(fixture->dir, "herald.db");
        fixture->location = test_sqlite_location(fixture->path, 1000);
        return;
    }
    assert_true(asprintf(&fixture->pg_database, "unit_%d_%d", (int)getpid(), ++made) > 0);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER herald", fixture->pg_database);
    test_pg_admin(sql);
    assert_true(asprintf(&fixture->url, "postgresql:///%s?host=%s&user=herald",
                         fixture->pg_database, getenv("HERALD_TEST_PG_DIR")) > 0);
    fixture->location = (StoreLocation){.kind = STORE_BACKEND_POSTGRESQL,
                                        .url = fixture->url,
                                        .busy_timeout_ms = 1000,
                                        .statement_timeout_ms = 10000};
}

void test_database_drop(TestStore *fixture)
{
    if (fixture->pg_database != NULL) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", fixture->pg_database);
        test_pg_admin(sql);
    }
    free(fixture->pg_database);
    free(fixture->url);
    free(fixture->path);
    fixture->pg_database = fixture->url = fixture->path = NULL;
    if (fixture->dir != NULL)
        test_remove_dir(fixture->dir);
    fixture->dir = NULL;
}

long long test_store_query(const TestStore *fixture, const char *sql)
{
    if (fixture->pg_database == NULL)
        return test_query_int(fixture->path, sql);
    const char *keywords[] = {"dbname", NULL};
    const char *values[] = {fixture->url, NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("connection: %s", PQerrorMessage(conn));
    PGresult *result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) < 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(result));
    const char *text = PQgetvalue(result, 0, 0);
    long long value = strcmp(text, "t") == 0 ? 1 : strcmp(text, "f") == 0 ? 0 : atoll(text);
    PQclear(result);
    PQfinish(conn);
    return value;
}

int test_store_setup(void **state)
{
    TestStore *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    test_database_make(fixture);
    char err[512];
    StoreOptions migrate = {.migrate = true};
    Store *first = store_open(&fixture->location, &migrate, err, sizeof err);
    if (first == NULL)
        fail_msg("store_open: %s", err);
    store_close(first);
    StoreOptions options = {0};
    fixture->store = store_open(&fixture->location, &options, err, sizeof err);
    if (fixture->store == NULL)
        fail_msg("store_open: %s", err);
    *state = fixture;
    return 0;
}

int test_store_teardown(void **state)
{
    TestStore *fixture = *state;
    store_close(fixture->store);
    test_database_drop(fixture);
    free(fixture);
    return 0;
}
