/*
 * store/pg_tasks: the PostgreSQL backend's task queries (see store.h):
 * creating a task unless it repeats one, get by id, and the filtered
 * newest-first listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

int pg_task_read(const PGresult *result, int row, Task *out)
{
    memset(out, 0, sizeof *out);
    out->id = pg_column_int64(result, row, 0);
    pg_column_copy(result, row, 1, out->webhook_id, sizeof out->webhook_id);
    char status[16];
    pg_column_copy(result, row, 9, status, sizeof status);
    if (task_status_parse(status, &out->status) != 0)
        out->status = TASK_STATUS_PENDING; /* the CHECK constraint rules this out */
    out->payload_is_json = pg_column_bool(result, row, 6);
    out->attempts = (int)pg_column_int64(result, row, 10);
    out->max_retry = (int)pg_column_int64(result, row, 11);
    out->next_attempt_at = pg_column_int64(result, row, 12);
    out->created_at = pg_column_int64(result, row, 13);
    out->updated_at = pg_column_int64(result, row, 14);
    out->last_status_code = (int)pg_column_int64(result, row, 15);
    if (pg_column_text(result, row, 2, &out->business_id, NULL) != 0 ||
        pg_column_text(result, row, 3, &out->business_type, NULL) != 0 ||
        pg_column_text(result, row, 4, &out->target_url, NULL) != 0 ||
        pg_column_text(result, row, 5, &out->payload, &out->payload_length) != 0 ||
        pg_column_text(result, row, 7, &out->headers_json, NULL) != 0 ||
        pg_column_text(result, row, 8, &out->idempotency_key, NULL) != 0 ||
        pg_column_text(result, row, 16, &out->last_error, NULL) != 0 ||
        pg_column_text(result, row, 17, &out->target_host, NULL) != 0) {
        task_clear(out);
        return -1;
    }
    /* The trace, where the statement reads it (claims and one task's read,
     * from migration 019): found by name, as it follows other extras. */
    int traceparent = PQfnumber(result, "traceparent");
    if (traceparent >= 0) {
        pg_column_copy(result, row, traceparent, out->traceparent, sizeof out->traceparent);
        if (pg_column_text(result, row, traceparent + 1, &out->tracestate, NULL) != 0) {
            task_clear(out);
            return -1;
        }
    }
    return 0;
}

/* Reads the one task row of RESULT (freed here), with its request hash
 * after the task's columns when HASH is not NULL. */
static StoreResult pg_task_fetch_one(PGresult *result, Task *out,
                                     unsigned char hash[TASK_HASH_SIZE], char *err,
                                     size_t errlen)
{
    if (result == NULL)
        return STORE_ERROR;
    StoreResult found = STORE_NOT_FOUND;
    if (PQntuples(result) > 0) {
        found = STORE_OK;
        if (pg_task_read(result, 0, out) != 0) {
            snprintf(err, errlen, "read task: out of memory");
            found = STORE_ERROR;
        } else if (hash != NULL) {
            memset(hash, 0, TASK_HASH_SIZE);
            if (PQgetlength(result, 0, PG_TASK_COLUMN_COUNT) == TASK_HASH_SIZE)
                memcpy(hash, PQgetvalue(result, 0, PG_TASK_COLUMN_COUNT), TASK_HASH_SIZE);
        }
    }
    PQclear(result);
    return found;
}

StoreResult pg_task_get(Store *base, int64_t id, Task *out, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, id);
    PgStore *store = pg_of(base);
    PgSql get = pg_schema_has(store, PG_SCHEMA_TRACE) ? PG_SQL_TASK_GET : PG_SQL_TASK_GET_UNTRACED;
    return pg_task_fetch_one(pg_run(store, get, &params, "read task", err, errlen), out, NULL, err,
                             errlen);
}

/* The row of the task REQUEST repeats, if any. */
static StoreResult pg_task_find_repeated_row(PgStore *store, const TaskRequest *request,
                                             TaskCreation *out, char *err, size_t errlen)
{
    PgParams params = {0};
    PGresult *result;
    if (request->idempotency_key != NULL) {
        pg_param_text(&params, request->idempotency_key);
        result = pg_run(store, PG_SQL_TASK_BY_KEY, &params, "find task", err, errlen);
    } else {
        pg_param_text(&params, request->business_type);
        pg_param_text(&params, request->business_id);
        pg_param_text(&params, task_request_identity(request));
        pg_param_text(&params, request->target_url);
        result = pg_run(store, PG_SQL_TASK_BY_BUSINESS, &params, "find task", err, errlen);
    }
    return pg_task_fetch_one(result, &out->existing, out->existing_hash, err, errlen);
}

/* The task REQUEST repeats, if any (see store_task_create).
 *
 * The answer "already stored" must be as durable as a new task's 201. The
 * row found may be committed on the primary only: its COMMIT's wait for a
 * synchronous standby was cancelled (that request was answered 503, and
 * this is its retry). A transaction that wrote no WAL commits without
 * flushing or waiting for the standby (a transaction id alone is not
 * enough); so this one rewrites the task's body as it is, and its COMMIT
 * waits for the WAL up to its own commit record, which holds the row's. */
static StoreResult pg_task_find_repeated(PgStore *store, const TaskRequest *request,
                                         TaskCreation *out, char *err, size_t errlen)
{
    StoreResult found = pg_task_find_repeated_row(store, request, out, err, errlen);
    if (found != STORE_OK)
        return found;
    PgParams params = {0};
    pg_param_int64(&params, out->existing.id);
    if (pg_run_done(store, PG_SQL_TASK_TOUCH, &params, "find task", err, errlen) != 0) {
        task_clear(&out->existing);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* Insert first: a new task costs one round trip. Nothing inserted means a
 * unique index holds the task this one repeats, written by this
 * transaction or committed by another (INSERT ... ON CONFLICT waits for a
 * concurrent one to finish first), so the lookup that follows sees it. */
StoreResult pg_task_create(Store *base, const TaskRequest *request, int max_retry,
                           const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                           size_t errlen)
{
    PgStore *store = pg_of(base);
    memset(out, 0, sizeof *out);
    PgParams params = {0};
    pg_param_text(&params, webhook_id);
    pg_param_text(&params, request->business_id);
    pg_param_text(&params, request->business_type);
    pg_param_text(&params, request->target_url);
    pg_param_text(&params, request->target_host);
    pg_param_bool(&params, request->payload_is_json);
    pg_param_text(&params, request->idempotency_key);
    pg_param_bytes(&params, request->hash, TASK_HASH_SIZE);
    pg_param_int64(&params, max_retry);
    pg_param_int64(&params, now);
    pg_param_bytes(&params, request->payload ? request->payload : "", request->payload_length);
    pg_param_text(&params, request->headers_json);
    pg_param_text(&params, store_task_dedup_url(request));
    pg_param_text(&params, store_task_written_identity(request));
    PgSql insert = PG_SQL_TASK_INSERT_UNTRACED;
    if (pg_schema_has(store, PG_SCHEMA_TRACE)) {
        insert = PG_SQL_TASK_INSERT;
        pg_param_text(&params, request->traceparent[0] != '\0' ? request->traceparent : NULL);
        pg_param_text(&params, request->tracestate);
    }
    PGresult *result = pg_run(store, insert, &params, "insert task", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    int rows = PQntuples(result);
    if (rows > 0)
        out->id = pg_column_int64(result, 0, 0);
    PQclear(result);
    if (rows > 0) {
        out->created = true;
        return STORE_OK;
    }
    StoreResult found = pg_task_find_repeated(store, request, out, err, errlen);
    if (found == STORE_NOT_FOUND) {
        /* Held by a row deleted since (retention): rare enough to refuse. */
        snprintf(err, errlen, "insert task: a task this one repeats was deleted meanwhile");
        return STORE_ERROR;
    }
    return found;
}

/* The arrays PG_SQL_TASK_INSERT_MANY takes, in its order: thirteen, then now,
 * then (from migration 019) the trace's two. */
enum { PG_MANY_COLUMNS = 15, PG_MANY_BEFORE_NOW = 13 };
static const Oid pg_many_types[PG_MANY_COLUMNS] = {
    PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT,  PG_OID_TEXT, PG_OID_BOOL, PG_OID_TEXT,
    PG_OID_BYTEA, PG_OID_INT4, PG_OID_BYTEA, PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT,
    PG_OID_TEXT,
};

static int pg_many_add(PgArray *columns, const TaskCreateItem *item)
{
    const TaskRequest *request = item->request;
    const char *texts[] = {item->webhook_id, request->business_id, request->business_type,
                           request->target_url, request->target_host};
    for (int i = 0; i < 5; i++) {
        if (pg_array_add(&columns[i], texts[i], strlen(texts[i])) != 0)
            return -1;
    }
    const char *key = request->idempotency_key;
    const char *headers = request->headers_json;
    const char *dedup_url = store_task_dedup_url(request);
    const char *written = store_task_written_identity(request);
    const char *traceparent = request->traceparent[0] != '\0' ? request->traceparent : NULL;
    const char *tracestate = request->tracestate;
    return pg_array_add_bool(&columns[5], request->payload_is_json) != 0 ||
                   pg_array_add(&columns[6], key, key ? strlen(key) : 0) != 0 ||
                   pg_array_add(&columns[7], request->hash, TASK_HASH_SIZE) != 0 ||
                   pg_array_add_int4(&columns[8], item->max_retry) != 0 ||
                   pg_array_add(&columns[9], request->payload ? request->payload : "",
                                request->payload_length) != 0 ||
                   pg_array_add(&columns[10], headers, headers ? strlen(headers) : 0) != 0 ||
                   pg_array_add(&columns[11], dedup_url, dedup_url ? strlen(dedup_url) : 0) != 0 ||
                   pg_array_add(&columns[12], written, written ? strlen(written) : 0) != 0 ||
                   pg_array_add(&columns[13], traceparent,
                                traceparent ? strlen(traceparent) : 0) != 0 ||
                   pg_array_add(&columns[14], tracestate, tracestate ? strlen(tracestate) : 0) != 0
               ? -1
               : 0;
}

/* Inserts ITEMS with one statement; marks OUT[i] created for each one that
 * was. Returns 0, or -1 with ERR. */
static int pg_task_insert_many(PgStore *store, const TaskCreateItem *items, size_t count,
                               int64_t now, TaskCreation *out, char *err, size_t errlen)
{
    PgArray columns[PG_MANY_COLUMNS];
    int status = 0;
    for (int i = 0; i < PG_MANY_COLUMNS; i++)
        status |= pg_array_init(&columns[i], pg_many_types[i]);
    for (size_t i = 0; i < count && status == 0; i++)
        status = pg_many_add(columns, &items[i]);
    PGresult *result = NULL;
    if (status != 0) {
        snprintf(err, errlen, "insert tasks: out of memory");
    } else {
        PgParams params = {0};
        for (int i = 0; i < PG_MANY_BEFORE_NOW; i++)
            pg_param_array(&params, &columns[i]);
        pg_param_int64(&params, now);
        PgSql insert = PG_SQL_TASK_INSERT_MANY_UNTRACED;
        if (pg_schema_has(store, PG_SCHEMA_TRACE)) {
            insert = PG_SQL_TASK_INSERT_MANY;
            for (int i = PG_MANY_BEFORE_NOW; i < PG_MANY_COLUMNS; i++)
                pg_param_array(&params, &columns[i]);
        }
        result = pg_run(store, insert, &params, "insert tasks", err, errlen);
    }
    for (int i = 0; i < PG_MANY_COLUMNS; i++)
        pg_array_free(&columns[i]);
    if (result == NULL)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        int64_t position = pg_column_int64(result, row, 0);
        if (position >= 1 && (size_t)position <= count) {
            out[position - 1].created = true;
            out[position - 1].id = pg_column_int64(result, row, 1);
        }
    }
    PQclear(result);
    return 0;
}

StoreResult pg_task_create_many(Store *base, const TaskCreateItem *items, size_t count,
                                int64_t now, TaskCreation *out, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    memset(out, 0, count * sizeof *out);
    if (pg_task_insert_many(store, items, count, now, out, err, errlen) != 0)
        return STORE_ERROR;
    /* What was not inserted repeats a task a unique index holds: committed
     * before, or one of ITEMS (this transaction's, so visible now). */
    for (size_t i = 0; i < count; i++) {
        if (out[i].created)
            continue;
        StoreResult found = pg_task_find_repeated(store, items[i].request, &out[i], err, errlen);
        if (found != STORE_OK) {
            if (found == STORE_NOT_FOUND)
                snprintf(err, errlen, "insert task: a task this one repeats was deleted meanwhile");
            for (size_t j = 0; j <= i; j++)
                task_clear(&out[j].existing);
            memset(out, 0, count * sizeof *out);
            return STORE_ERROR;
        }
    }
    return STORE_OK;
}

bool pg_traces_ready(Store *base)
{
    return pg_schema_has(pg_of(base), PG_SCHEMA_TRACE);
}
