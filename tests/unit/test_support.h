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

/* Runs SQL (returning one integer) on the database at PATH through its own
 * connection, as an outside observer would. */
int test_query_int(const char *path, const char *sql);

/* Creates and migrates DIR/herald.db and returns its path. */
char *test_create_database(const char *dir);

struct Store;

/* An SQLite location for the database at PATH (borrowed). */
StoreLocation test_sqlite_location(const char *path, int64_t busy_timeout_ms);

/* A migrated database in its own directory, opened: the fixture of the store
 * tests. test_store_setup (a cmocka setup) makes one into *state;
 * test_store_teardown closes it and removes everything. */
typedef struct TestStore {
    char *dir;
    char *path;
    struct Store *store;
} TestStore;

int test_store_setup(void **state);
int test_store_teardown(void **state);

#endif
