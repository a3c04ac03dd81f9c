/*
 * store/sqlite: the SQLite backend's helpers every file of it uses:
 * failures, steps (with the fault seam's hook), the statement cache, rows,
 * transactions and savepoints, closing. Opening is sqlite_open.c, the
 * table of functions sqlite_backend.c. See sqlite.h for the file family.
 */
#include "sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault.h"
#include "log.h"

/* Held from sqlite_begin() to commit/rollback by whichever connection writes. */
static pthread_mutex_t sqlite_write_lock = PTHREAD_MUTEX_INITIALIZER;

int sqlite_fail(SqliteStore *store, const char *what, char *err, size_t errlen)
{
    if (store->injected != SQLITE_OK) {
        /* The fault seam failed it: the connection's own message is stale. */
        snprintf(err, errlen, "%s: %s (injected fault)", what, sqlite3_errstr(store->injected));
        store->injected = SQLITE_OK;
        return -1;
    }
    snprintf(err, errlen, "%s: %s (%s)", what, sqlite3_errmsg(store->db),
             sqlite3_errstr(sqlite3_extended_errcode(store->db)));
    return -1;
}

/* The SQLite error the fault seam's KIND stands for. */
static int sqlite_fault_code(FaultKind kind)
{
    switch (kind) {
    case FAULT_FULL: return SQLITE_FULL;
    case FAULT_IOERR:
    case FAULT_DROP:
    case FAULT_LOST: return SQLITE_IOERR_WRITE;
    case FAULT_BUSY: return SQLITE_BUSY;
    case FAULT_NONE: break;
    }
    return SQLITE_OK;
}

int sqlite_step(SqliteStore *store, sqlite3_stmt *statement)
{
    FaultKind kind = fault_next();
    int injected = sqlite_fault_code(kind);
    if (kind == FAULT_LOST) {
        /* The statement runs; then its result is reported lost. */
        int rc = sqlite3_step(statement);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return rc;
        store->injected = injected;
        return injected;
    }
    if (injected != SQLITE_OK) {
        store->injected = injected;
        return injected;
    }
    return sqlite3_step(statement);
}

sqlite3_stmt *sqlite_prepare_cached(SqliteStore *store, sqlite3_stmt **slot, const char *text,
                                    char *err, size_t errlen)
{
    if (*slot == NULL) {
        if (sqlite3_prepare_v3(store->db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
            SQLITE_OK) {
            sqlite_fail(store, "prepare", err, errlen);
            *slot = NULL;
            return NULL;
        }
    }
    return *slot;
}

sqlite3_stmt *sqlite_statement(SqliteStore *store, StoreSql sql, char *err, size_t errlen)
{
    return sqlite_prepare_cached(store, &store->statements[sql], sqlite_sql_text[sql], err, errlen);
}

int sqlite_step_done(SqliteStore *store, sqlite3_stmt *statement, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite_step(store, statement);
    int result = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        result = sqlite_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

int sqlite_collect_rows(SqliteStore *store, sqlite3_stmt *statement, size_t element_size,
                        StoreRowReader read_row, void (*clear)(void *element), const char *what,
                        void **out, size_t *count, char *err, size_t errlen)
{
    char *elements = NULL;
    size_t used = 0, capacity = 0;
    int rc;
    int result = 0;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        if (used == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            char *grown = realloc(elements, capacity * element_size);
            if (grown == NULL) {
                result = -1;
                break;
            }
            elements = grown;
        }
        void *element = elements + used * element_size;
        memset(element, 0, element_size);
        used++; /* counted even if the read fails, so its allocations are freed */
        if (read_row(statement, element) != 0) {
            result = -1;
            break;
        }
    }
    if (result != 0)
        snprintf(err, errlen, "%s: out of memory", what);
    else if (rc != SQLITE_DONE)
        result = sqlite_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0) {
        for (size_t i = 0; i < used; i++)
            clear(elements + i * element_size);
        free(elements);
        return -1;
    }
    *out = elements;
    *count = used;
    return 0;
}

void sqlite_bind_text(sqlite3_stmt *statement, const char *name, const char *value)
{
    int index = sqlite3_bind_parameter_index(statement, name);
    if (index > 0)
        sqlite3_bind_text(statement, index, value, -1, SQLITE_STATIC);
}

void sqlite_bind_int64(sqlite3_stmt *statement, const char *name, int64_t value)
{
    int index = sqlite3_bind_parameter_index(statement, name);
    if (index > 0)
        sqlite3_bind_int64(statement, index, value);
}

void sqlite_column_copy(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    snprintf(out, size, "%s", text ? text : "");
}

void sqlite_copy_word(sqlite3_stmt *statement, int column, char out[MANUAL_WORD_MAX])
{
    sqlite_column_copy(statement, column, out, MANUAL_WORD_MAX);
}

int sqlite_column_text(sqlite3_stmt *statement, int column, char **out, size_t *out_length)
{
    *out = NULL;
    if (out_length)
        *out_length = 0;
    if (sqlite3_column_type(statement, column) == SQLITE_NULL)
        return 0;
    const void *data = sqlite3_column_blob(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return -1;
    if (length > 0)
        memcpy(copy, data, length);
    copy[length] = '\0';
    *out = copy;
    if (out_length)
        *out_length = length;
    return 0;
}

int sqlite_exec(SqliteStore *store, const char *sql, const char *what, char *err, size_t errlen)
{
    FaultKind kind = fault_next();
    store->injected = kind == FAULT_LOST ? SQLITE_OK : sqlite_fault_code(kind);
    if (store->injected != SQLITE_OK)
        return sqlite_fail(store, what, err, errlen);
    char *message = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, message ? message : sqlite3_errmsg(store->db));
        sqlite3_free(message);
        return -1;
    }
    if (kind == FAULT_LOST) {
        store->injected = sqlite_fault_code(kind);
        return sqlite_fail(store, what, err, errlen);
    }
    return 0;
}

int sqlite_query_int(SqliteStore *store, const char *sql, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK)
        return sqlite_fail(store, sql, err, errlen);
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW)
        return sqlite_fail(store, sql, err, errlen);
    return 0;
}

void sqlite_close(Store *base)
{
    SqliteStore *store = sqlite_of(base);
    if (store == NULL)
        return;
    if (store->in_transaction)
        sqlite_rollback(base);
    for (int i = 0; i < STORE_SQL_COUNT; i++)
        sqlite3_finalize(store->statements[i]);
    for (int listing = 0; listing < STORE_LISTING_COUNT; listing++)
        for (int i = 0; i < STORE_LIST_VARIANTS; i++)
            sqlite3_finalize(store->list_statements[listing][i]);
    sqlite3_close(store->db); /* all statements are finalized, so this closes */
    free(store);
}

int sqlite_schema_version(Store *base)
{
    SqliteStore *store = sqlite_of(base);
    return store->schema_version;
}

/* Moves the WAL into the database file and truncates it (a clean stop
 * leaves no WAL to replay). */
int sqlite_tidy(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    return sqlite_exec(store, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint", err, errlen);
}

int sqlite_ping(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_PING, err, errlen);
    if (statement == NULL)
        return -1;
    return sqlite_step_done(store, statement, "ping", err, errlen);
}

int sqlite_begin(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_BEGIN, err, errlen);
    if (statement == NULL)
        return -1;
    pthread_mutex_lock(&sqlite_write_lock);
    if (sqlite_step_done(store, statement, "begin", err, errlen) != 0) {
        /* A BEGIN that failed after it took effect (the fault seam's lost
         * reply) must not leave the write lock held. */
        if (!sqlite3_get_autocommit(store->db) &&
            sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
            log_error("event=rollback_failed error=\"%s\"", sqlite3_errmsg(store->db));
        pthread_mutex_unlock(&sqlite_write_lock);
        return -1;
    }
    store->in_transaction = true;
    return 0;
}

static void sqlite_end_transaction(SqliteStore *store)
{
    if (store->in_transaction) {
        store->in_transaction = false;
        pthread_mutex_unlock(&sqlite_write_lock);
    }
}

int sqlite_single_int64(SqliteStore *store, sqlite3_stmt *statement, int64_t *out,
                               const char *what, char *err, size_t errlen)
{
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(statement, 0);
    sqlite3_reset(statement);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(store, what, err, errlen);
    return 0;
}

int sqlite_commit(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_COMMIT, err, errlen);
    if (statement == NULL || sqlite_step_done(store, statement, "commit", err, errlen) != 0) {
        /* A failed COMMIT (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY) may leave the
         * transaction open; roll it back so nothing of it can commit later. */
        sqlite_rollback(&store->base);
        return -1;
    }
    sqlite_end_transaction(store);
    return 0;
}

void sqlite_rollback(Store *base)
{
    SqliteStore *store = sqlite_of(base);
    if (!sqlite3_get_autocommit(store->db)) {
        char err[256];
        sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ROLLBACK, err, sizeof err);
        /* ROLLBACK can only fail if no transaction is active, which we checked;
         * it is how a failure is undone, so the fault seam never fails it. */
        if (statement != NULL) {
            sqlite3_step(statement);
            sqlite3_reset(statement);
        }
    }
    sqlite_end_transaction(store);
}

static int sqlite_run(SqliteStore *store, StoreSql sql, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *statement = sqlite_statement(store, sql, err, errlen);
    if (statement == NULL)
        return -1;
    return sqlite_step_done(store, statement, what, err, errlen);
}

int sqlite_savepoint(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    return sqlite_run(store, STORE_SQL_SAVEPOINT, "savepoint", err, errlen);
}

int sqlite_savepoint_release(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    return sqlite_run(store, STORE_SQL_RELEASE, "release savepoint", err, errlen);
}

int sqlite_savepoint_rollback(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    if (sqlite_run(store, STORE_SQL_ROLLBACK_TO, "rollback to savepoint", err, errlen) != 0)
        return -1;
    return sqlite_run(store, STORE_SQL_RELEASE, "release savepoint", err, errlen);
}
