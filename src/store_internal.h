/*
 * store_internal: what the store's own files share (store.c opens and
 * migrates, store_tasks.c and later files hold the queries). Not for use
 * outside the store module.
 */
#ifndef HERALD_STORE_INTERNAL_H
#define HERALD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The columns of a task, in the order store_task_read_row() reads them. */
#define STORE_TASK_COLUMNS                                                                     \
    "id, webhook_id, business_id, business_type, target_url, payload, payload_is_json,"        \
    " headers, idempotency_key, status, attempts, max_retry, next_attempt_at, created_at,"     \
    " updated_at, last_status_code, last_error, target_host"
#define STORE_TASK_COLUMN_COUNT 18

/* Every statement the store runs, prepared once per connection on first use. */
typedef enum {
    STORE_SQL_BEGIN,
    STORE_SQL_COMMIT,
    STORE_SQL_ROLLBACK,
    STORE_SQL_SAVEPOINT,
    STORE_SQL_RELEASE,
    STORE_SQL_ROLLBACK_TO,
    STORE_SQL_PING,
    STORE_SQL_TASK_INSERT,
    STORE_SQL_TASK_GET,
    STORE_SQL_TASK_BY_KEY,
    STORE_SQL_TASK_BY_BUSINESS,
    STORE_SQL_HOSTS_PENDING,
    STORE_SQL_HOST_NEXT_DUE,
    STORE_SQL_CLAIM,
    STORE_SQL_ATTEMPT_INSERT,
    STORE_SQL_TASK_SUCCEEDED,
    STORE_SQL_TASK_RETRY,
    STORE_SQL_TASK_FAILED,
    STORE_SQL_MANUAL_INSERT,
    STORE_SQL_RECOVER_ATTEMPTS,
    STORE_SQL_RECOVER_TASKS,
    STORE_SQL_ATTEMPT_LIST,
    STORE_SQL_MANUAL_OPEN_ID,
    STORE_SQL_MANUAL_RETRY_TASK,
    STORE_SQL_MANUAL_CLOSE,
    STORE_SQL_MANUAL_MATCHING,
    STORE_SQL_ACTION_INSERT,
    STORE_SQL_ACTION_LIST,
    STORE_SQL_COUNT_BY_STATUS,
    STORE_SQL_COUNT_MANUAL_OPEN,
    STORE_SQL_BACKLOG_COUNT,
    STORE_SQL_BACKLOG_BY_TYPE,
    STORE_SQL_BACKLOG_SAMPLE,
    STORE_SQL_ALERT_INSERT,
    STORE_SQL_ALERT_SENT,
    STORE_SQL_ALERT_UNSENT,
    STORE_SQL_ALERT_LIST,
    STORE_SQL_ALERT_LATEST,
    STORE_SQL_RETENTION_BOUNDARY,
    STORE_SQL_RETENTION_SUCCEEDED,
    STORE_SQL_RETENTION_RESOLVED_TASKS,
    STORE_SQL_RETENTION_RESOLVED_ENTRIES,
    STORE_SQL_RETENTION_ALERTS,
    STORE_SQL_RETENTION_PENDING,
    STORE_SQL_COUNT,
} StoreSql;

/* Filter combinations of store_task_list and store_manual_list, one prepared
 * statement each. */
#define STORE_LIST_VARIANTS 16
#define STORE_MANUAL_LIST_VARIANTS 12

struct Store {
    sqlite3 *db;
    char path[1024];
    int schema_version;
    bool in_transaction; /* holding store_write_lock */
    int injected;        /* the error the fault seam just returned (SQLITE_OK: none) */
    sqlite3_stmt *statements[STORE_SQL_COUNT];
    sqlite3_stmt *list_statements[STORE_LIST_VARIANTS];
    sqlite3_stmt *manual_list_statements[STORE_MANUAL_LIST_VARIANTS];
};

/* The cached statement for SQL, reset and unbound, or NULL with ERR set. */
sqlite3_stmt *store_statement(Store *store, StoreSql sql, char *err, size_t errlen);

/* Prepares TEXT into *SLOT if it is empty; returns *SLOT or NULL with ERR. */
sqlite3_stmt *store_prepare_cached(Store *store, sqlite3_stmt **slot, const char *text, char *err,
                                   size_t errlen);

/* Fills ERR with WHAT and SQLite's message for the connection. Returns -1. */
int store_fail(Store *store, const char *what, char *err, size_t errlen);

/* sqlite3_step() for every statement the store runs: the fault seam's point
 * of entry (fault.h). Use it, never sqlite3_step, so every step can fail. */
int store_step(Store *store, sqlite3_stmt *statement);

/* Runs SQL (no rows) / SQL returning one integer into *OUT; on failure
 * returns -1 with "WHAT: message" (or SQL's) in ERR. */
int store_exec(Store *store, const char *sql, const char *what, char *err, size_t errlen);
int store_query_int(Store *store, const char *sql, int *out, char *err, size_t errlen);

/* Brings the schema of STORE up to the COUNT MIGRATIONS, or refuses a newer
 * one (store_schema.c). */
int store_apply_migrations(Store *store, const Migration *migrations, size_t count, char *err,
                           size_t errlen);

/* Reads the current row of a statement into ELEMENT (zeroed). Returns 0, or
 * -1 when out of memory; what it allocated stays in ELEMENT for CLEAR. */
typedef int (*StoreRowReader)(sqlite3_stmt *statement, void *element);

/* Steps STATEMENT (already bound) to its end, reading each row with READ_ROW
 * into a new array of ELEMENT_SIZE elements. On success the caller owns *OUT
 * (*COUNT elements); on failure nothing stays allocated (CLEAR frees one
 * element's contents) and ERR names WHAT. Resets and unbinds STATEMENT. */
int store_collect_rows(Store *store, sqlite3_stmt *statement, size_t element_size,
                       StoreRowReader read_row, void (*clear)(void *element), const char *what,
                       void **out, size_t *count, char *err, size_t errlen);

/* Steps a statement that returns no rows and resets it. Returns 0 or -1. */
int store_step_done(Store *store, sqlite3_stmt *statement, const char *what, char *err,
                    size_t errlen);

/* Bind VALUE to the named parameter NAME (":now"), if the statement has it. */
void store_bind_text(sqlite3_stmt *statement, const char *name, const char *value);
void store_bind_int64(sqlite3_stmt *statement, const char *name, int64_t value);

/* Reads STORE_TASK_COLUMNS starting at column 0 into OUT. Returns 0, or -1
 * if out of memory (OUT is then cleared). */
int store_task_read_row(sqlite3_stmt *statement, Task *out);

/* Duplicates column COLUMN as a NUL-terminated heap string (NULL for SQL NULL).
 * Returns 0, or -1 if out of memory. */
int store_column_text(sqlite3_stmt *statement, int column, char **out, size_t *out_length);

#endif
