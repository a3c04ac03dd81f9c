/*
 * test_support: helpers shared by the unit tests (temporary directories and
 * files). Every path returned is heap-allocated and owned by the caller.
 */
#ifndef HERALD_TEST_SUPPORT_H
#define HERALD_TEST_SUPPORT_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "store.h"

/* A fresh directory under $TMPDIR (or /tmp). */
char *test_temp_dir(void);

/* Removes PATH and everything below it, then frees PATH. */
void test_remove_dir(char *path);

/* Writes CONTENT to DIR/NAME and returns the file's path. */
char *test_write_file(const char *dir, const char *name, const char *content);

/* DIR/NAME as a new string. */
char *test_path(const char *dir, const char *name);

struct TaskRequest;

/* Fills REQUEST (the caller task_request_clear()s it) with these fields and
 * its hash; KEY may be NULL; PAYLOAD is JSON text. */
void test_task_request(struct TaskRequest *request, const char *business_id, const char *type,
                       const char *url, const char *key, const char *payload);

/* Creates REQUEST as a new task (failing the test if it is not new or the
 * store fails) and returns 0 with its id in *ID. Inside a transaction. */
int test_create_task(Store *store, const struct TaskRequest *request, int max_retry,
                     const char *webhook_id, int64_t now, int64_t *id);

/* Creates a pending task (budget 5, payload {"a":1}) in a transaction of its
 * own, due at NOW, and returns its id; fails the test if that fails. */
int64_t test_insert_task(Store *store, const char *business_id, const char *type, const char *url,
                         const char *key, int64_t now);

/* Runs SQL (returning one integer) on the database at PATH through its own
 * connection, as an outside observer would. */
int test_query_int(const char *path, const char *sql);

/* Creates and migrates DIR/herald.db and returns its path. */
char *test_create_database(const char *dir);

struct Store;

/* An SQLite location for the database at PATH (borrowed). */
StoreLocation test_sqlite_location(const char *path, int64_t busy_timeout_ms);

/* The backend the store's contract tests run against: HERALD_TEST_BACKEND
 * ("sqlite", the default, or "postgresql", with HERALD_TEST_PG_DIR the socket
 * directory of a cluster the test run started; tests/unit/run.sh). */
bool test_backend_is_postgresql(void);

/* A database of the backend under test, in its own directory (SQLite) or of
 * its own (PostgreSQL), and an open Store on it: the fixture of the store
 * tests. test_store_setup (a cmocka setup) makes one, migrated, into
 * *state; test_store_teardown closes it and removes everything. */
typedef struct TestStore {
    char *dir;
    char *path;        /* SQLite */
    char *pg_database; /* PostgreSQL */
    char *url;
    StoreLocation location;
    struct Store *store;
} TestStore;

/* Makes FIXTURE's empty database and location (DIR may be preset). */
void test_database_make(TestStore *fixture);

/* Removes FIXTURE's database and directory. */
void test_database_drop(TestStore *fixture);

/* Runs SQL returning one integer (or boolean) on FIXTURE's database through
 * a connection of its own, as an outside observer would. */
long long test_store_query(const TestStore *fixture, const char *sql);

int test_store_setup(void **state);
int test_store_teardown(void **state);

#endif
