/*
 * store/sqlite_tasks: the SQLite backend's task queries (see store.h):
 * creating a task unless it repeats one, and get by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

int sqlite_task_read_row(sqlite3_stmt *statement, Task *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(statement, 0);
    snprintf(out->webhook_id, sizeof out->webhook_id, "%s",
             (const char *)sqlite3_column_text(statement, 1));
    const char *status = (const char *)sqlite3_column_text(statement, 9);
    if (status == NULL || task_status_parse(status, &out->status) != 0)
        out->status = TASK_STATUS_PENDING; /* the CHECK constraint rules this out */
    out->payload_is_json = sqlite3_column_int(statement, 6) != 0;
    out->attempts = sqlite3_column_int(statement, 10);
    out->max_retry = sqlite3_column_int(statement, 11);
    out->next_attempt_at = sqlite3_column_int64(statement, 12);
    out->created_at = sqlite3_column_int64(statement, 13);
    out->updated_at = sqlite3_column_int64(statement, 14);
    out->last_status_code = sqlite3_column_int(statement, 15);
    if (sqlite_column_text(statement, 2, &out->business_id, NULL) != 0 ||
        sqlite_column_text(statement, 3, &out->business_type, NULL) != 0 ||
        sqlite_column_text(statement, 4, &out->target_url, NULL) != 0 ||
        sqlite_column_text(statement, 5, &out->payload, &out->payload_length) != 0 ||
        sqlite_column_text(statement, 7, &out->headers_json, NULL) != 0 ||
        sqlite_column_text(statement, 8, &out->idempotency_key, NULL) != 0 ||
        sqlite_column_text(statement, 16, &out->last_error, NULL) != 0 ||
        sqlite_column_text(statement, 17, &out->target_host, NULL) != 0 ||
        sqlite_column_text(statement, 19, &out->tracestate, NULL) != 0) {
        task_clear(out);
        return -1;
    }
    sqlite_column_copy(statement, 18, out->traceparent, sizeof out->traceparent);
    return 0;
}

static int sqlite_task_insert(SqliteStore *store, const TaskRequest *request, int max_retry,
                              const char *webhook_id, int64_t now, int64_t *out_id, char *err,
                              size_t errlen)
{
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_TASK_INSERT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, request->business_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, request->business_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 4, request->target_url, -1, SQLITE_STATIC);
    sqlite3_bind_blob(statement, 5, request->payload, (int)request->payload_length, SQLITE_STATIC);
    sqlite3_bind_int(statement, 6, request->payload_is_json ? 1 : 0);
    sqlite3_bind_text(statement, 7, request->headers_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 8, request->idempotency_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(statement, 9, request->hash, TASK_HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_int(statement, 10, max_retry);
    sqlite3_bind_int64(statement, 11, now);
    sqlite3_bind_int64(statement, 12, now);
    sqlite3_bind_int64(statement, 13, now);
    sqlite3_bind_text(statement, 14, request->target_host, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 15, store_task_dedup_url(request), -1, SQLITE_STATIC);
    if (request->traceparent[0] != '\0')
        sqlite3_bind_text(statement, 16, request->traceparent, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 17, request->tracestate, -1, SQLITE_STATIC);
    if (sqlite_step_done(store, statement, "insert task", err, errlen) != 0)
        return -1;
    *out_id = sqlite3_last_insert_rowid(store->db);
    return 0;
}

/* Steps STATEMENT expecting at most one task row. */
static StoreResult sqlite_task_fetch_one(SqliteStore *store, sqlite3_stmt *statement, Task *out,
                                         unsigned char hash[TASK_HASH_SIZE], char *err,
                                         size_t errlen)
{
    StoreResult result;
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        sqlite_fail(store, "read task", err, errlen);
        result = STORE_ERROR;
    } else if (sqlite_task_read_row(statement, out) != 0) {
        snprintf(err, errlen, "read task: out of memory");
        result = STORE_ERROR;
    } else {
        result = STORE_OK;
        if (hash != NULL) {
            const void *stored = sqlite3_column_blob(statement, STORE_TASK_COLUMN_COUNT);
            int length = sqlite3_column_bytes(statement, STORE_TASK_COLUMN_COUNT);
            memset(hash, 0, TASK_HASH_SIZE);
            if (stored != NULL && length == TASK_HASH_SIZE)
                memcpy(hash, stored, TASK_HASH_SIZE);
        }
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

StoreResult sqlite_task_get(Store *base, int64_t id, Task *out, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_TASK_GET, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(statement, 1, id);
    return sqlite_task_fetch_one(store, statement, out, NULL, err, errlen);
}

/* The task REQUEST repeats, if any (see store_task_create). */
static StoreResult sqlite_task_find_repeated(SqliteStore *store, const TaskRequest *request,
                                             TaskCreation *out, char *err, size_t errlen)
{
    sqlite3_stmt *statement;
    if (request->idempotency_key != NULL) {
        statement = sqlite_statement(store, STORE_SQL_TASK_BY_KEY, err, errlen);
        if (statement == NULL)
            return STORE_ERROR;
        sqlite3_bind_text(statement, 1, request->idempotency_key, -1, SQLITE_STATIC);
        return sqlite_task_fetch_one(store, statement, &out->existing, out->existing_hash, err,
                                     errlen);
    }
    /* By the normal form, then (a task stored before herald normalised, if
     * the URL was written otherwise) by the URL as written. */
    const char *identities[2] = {task_request_identity(request),
                                 store_task_written_identity(request)};
    StoreResult result = STORE_NOT_FOUND;
    for (size_t i = 0; i < 2 && result == STORE_NOT_FOUND && identities[i] != NULL; i++) {
        statement = sqlite_statement(store, STORE_SQL_TASK_BY_BUSINESS, err, errlen);
        if (statement == NULL)
            return STORE_ERROR;
        sqlite3_bind_text(statement, 1, request->business_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 2, request->business_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 3, identities[i], -1, SQLITE_STATIC);
        result = sqlite_task_fetch_one(store, statement, &out->existing, out->existing_hash, err,
                                       errlen);
    }
    return result;
}

/* One writer at a time (the process lock and SQLite's own), so looking
 * before inserting is enough: nobody can insert the same task in between. */
StoreResult sqlite_task_create(Store *base, const TaskRequest *request, int max_retry,
                               const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                               size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    memset(out, 0, sizeof *out);
    StoreResult found = sqlite_task_find_repeated(store, request, out, err, errlen);
    if (found != STORE_NOT_FOUND)
        return found; /* STORE_OK: out->existing; or STORE_ERROR */
    if (sqlite_task_insert(store, request, max_retry, webhook_id, now, &out->id, err, errlen) !=
        0)
        return STORE_ERROR;
    out->created = true;
    return STORE_OK;
}
