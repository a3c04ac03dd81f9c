/*
 * store: everything herald keeps, behind one small interface.
 *
 * This is the only module that knows SQL (nothing else includes sqlite3.h),
 * so a second backend (PostgreSQL, for several heraldd on one database) means
 * a second implementation of this header, not changes to the API or the
 * scheduler. A Store is one database connection, used by one thread at a
 * time; each thread that touches the database opens its own.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction is on
 * disk when store_commit() returns. Writes run inside store_begin() /
 * store_commit(), which also hold the process-wide write lock
 * (store_write_lock in store.c) so this process's writers queue on a mutex
 * instead of spinning in SQLite's busy handler.
 *
 * Functions return 0 (or STORE_OK) on success and -1 (STORE_ERROR) with a
 * message in ERR; any such failure means "the database cannot do this now"
 * (disk full, locked, I/O error) and is reported as 503 by the API.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrations.h"
#include "task.h"

typedef struct Store Store;

typedef enum {
    STORE_ERROR = -1,
    STORE_OK = 0,
    STORE_NOT_FOUND = 1,
} StoreResult;

typedef struct StoreOptions {
    int64_t busy_timeout_ms;
    /* Migrations to bring the schema up to; NULL = the ones built in. The
     * connection that opens the database first should migrate; others pass
     * migrate = false and are refused if the schema is not current. */
    const Migration *migrations;
    size_t migration_count;
    bool migrate;
} StoreOptions;

/* Opens PATH (created if missing), sets the pragmas and checks or applies
 * migrations. Returns a Store the caller owns (store_close), or NULL with a
 * message in ERR. A schema newer than the known migrations is refused. */
Store *store_open(const char *path, const StoreOptions *options, char *err, size_t errlen);

void store_close(Store *store);

/* The schema version of the open database. */
int store_schema_version(Store *store);

/* A cheap query proving the database answers. */
int store_ping(Store *store, char *err, size_t errlen);

/* BEGIN IMMEDIATE (takes the write lock) / COMMIT / ROLLBACK. After a failed
 * commit the transaction has been rolled back and the lock released. */
int store_begin(Store *store, char *err, size_t errlen);
int store_commit(Store *store, char *err, size_t errlen);
void store_rollback(Store *store);

/* A nested scope inside a transaction that can be undone on its own. */
int store_savepoint(Store *store, char *err, size_t errlen);
int store_savepoint_release(Store *store, char *err, size_t errlen);
int store_savepoint_rollback(Store *store, char *err, size_t errlen);

/* ---- tasks (store_tasks.c) ---- */

/* Inserts REQUEST as a new pending task due at NOW. *OUT_ID is its id. */
int store_task_insert(Store *store, const TaskRequest *request, int max_retry,
                      const char *webhook_id, int64_t now, int64_t *out_id, char *err,
                      size_t errlen);

/* Loads task ID into OUT (which the caller must task_clear()). */
StoreResult store_task_get(Store *store, int64_t id, Task *out, char *err, size_t errlen);

/* The task holding idempotency key KEY, with its request hash. */
StoreResult store_task_find_by_idempotency_key(Store *store, const char *key, Task *out,
                                               unsigned char hash[TASK_HASH_SIZE], char *err,
                                               size_t errlen);

/* The oldest task with this (business_type, business_id, target_url). */
StoreResult store_task_find_by_business(Store *store, const char *business_type,
                                        const char *business_id, const char *target_url,
                                        Task *out, char *err, size_t errlen);

typedef struct TaskFilter {
    const char *business_id;   /* NULL = any */
    const char *business_type; /* NULL = any */
    bool has_status;
    TaskStatus status;
    int64_t after; /* list ids below this (keyset pagination); 0 = from the newest */
    int limit;
} TaskFilter;

/* Tasks matching FILTER, newest first. *OUT_TASKS is an array of *OUT_COUNT
 * tasks the caller owns (store_task_list_free). */
int store_task_list(Store *store, const TaskFilter *filter, Task **out_tasks, size_t *out_count,
                    char *err, size_t errlen);

void store_task_list_free(Task *tasks, size_t count);

#endif
