/*
 * store/sqlite_delivery: the SQLite backend's scheduler queries (see
 * store.h): which hosts have work, claiming a host's due tasks, the
 * statements of an attempt's end (store_outcome.c; one statement a row:
 * SQLite runs in-process, so a row costs no round trip), the rescue's
 * select, and the attempt log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

int sqlite_host_list_pending(Store *base, StoreHost **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_HOSTS_PENDING, err, errlen);
    if (statement == NULL)
        return -1;
    StoreHost *hosts = NULL;
    size_t used = 0, capacity = 0;
    int result = 0;
    /* Skip-scan: each step seeks to the first pending task of the next host. */
    for (;;) {
        sqlite3_bind_text(statement, 1, used ? hosts[used - 1].target_host : "", -1, SQLITE_STATIC);
        int rc = sqlite_step(store, statement);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            result = sqlite_fail(store, "list hosts", err, errlen);
            break;
        }
        if (used == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            StoreHost *grown = realloc(hosts, capacity * sizeof *grown);
            if (grown == NULL) {
                result = -1;
                snprintf(err, errlen, "list hosts: out of memory");
                break;
            }
            hosts = grown;
        }
        hosts[used].next_due = sqlite3_column_int64(statement, 1);
        if (sqlite_column_text(statement, 0, &hosts[used].target_host, NULL) != 0) {
            result = -1;
            snprintf(err, errlen, "list hosts: out of memory");
            break;
        }
        used++;
        sqlite3_reset(statement);
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0) {
        store_host_list_free(hosts, used);
        return -1;
    }
    *out = hosts;
    *count = used;
    return 0;
}

StoreResult sqlite_host_next_due(Store *base, const char *host, int64_t *out, char *err,
                                 size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_HOST_NEXT_DUE, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(statement, 1, host, -1, SQLITE_STATIC);
    int rc = sqlite_step(store, statement);
    StoreResult result = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(statement, 0);
        result = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        sqlite_fail(store, "next due", err, errlen);
        result = STORE_ERROR;
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

int sqlite_claim_due(Store *base, const char *host, int64_t now, int64_t lease_ms,
                     const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                     size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_CLAIM, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":lease_ms", lease_ms);
    sqlite_bind_text(statement, ":token", claim_token);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_text(statement, ":host", host);
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    size_t claimed = 0;
    int rc;
    int result = 0;
    /* RETURNING yields each row as it is updated: step to the end regardless. */
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        if (claimed < limit && result == 0) {
            if (sqlite_task_read_row(statement, &out[*count + claimed]) != 0) {
                snprintf(err, errlen, "claim: out of memory");
                result = -1;
            } else {
                Task *task = &out[*count + claimed];
                task->retry_base = sqlite3_column_int(statement, STORE_TASK_COLUMN_COUNT);
                task->ordering_seq = sqlite3_column_int64(statement, STORE_TASK_COLUMN_COUNT + 2);
                claimed++; /* cleared with the rest if its key cannot be read */
                if (sqlite_column_text(statement, STORE_TASK_COLUMN_COUNT + 1,
                                       &task->ordering_key, NULL) != 0) {
                    snprintf(err, errlen, "claim: out of memory");
                    result = -1;
                }
            }
        }
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = sqlite_fail(store, "claim", err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0) {
        for (size_t i = 0; i < claimed; i++)
            task_clear(&out[*count + i]);
        return -1;
    }
    *count += claimed;
    return 0;
}

int sqlite_claim_count(Store *base, const char *claim_token, int64_t task_id, int64_t *count,
                       char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_CLAIM_COUNT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":token", claim_token);
    sqlite_bind_int64(statement, ":id", task_id);
    return sqlite_single_int64(store, statement, count, "read a claim back", err, errlen);
}

int sqlite_attempt_insert(Store *base, const Attempt *const *attempts, size_t count, char *err,
                          size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    for (size_t i = 0; i < count; i++) {
        const Attempt *attempt = attempts[i];
        sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ATTEMPT_INSERT, err, errlen);
        if (statement == NULL)
            return -1;
        sqlite3_bind_int64(statement, 1, attempt->task_id);
        sqlite3_bind_int(statement, 2, attempt->attempt);
        sqlite3_bind_int64(statement, 3, attempt->started_at);
        sqlite3_bind_int64(statement, 4, attempt->duration_ms);
        if (attempt->status_code > 0)
            sqlite3_bind_int(statement, 5, attempt->status_code);
        if (attempt->error_class[0] != '\0') {
            sqlite3_bind_text(statement, 6, attempt->error_class, -1, SQLITE_STATIC);
            sqlite3_bind_text(statement, 7, attempt->error_message, -1, SQLITE_STATIC);
        }
        if (attempt->response_body != NULL)
            sqlite3_bind_blob(statement, 8, attempt->response_body,
                              (int)attempt->response_length, SQLITE_STATIC);
        sqlite3_bind_int(statement, 9, attempt->response_truncated ? 1 : 0);
        if (attempt->receiver != NULL)
            sqlite3_bind_text(statement, 10, attempt->receiver, -1, SQLITE_STATIC);
        if (sqlite_step_done(store, statement, "insert attempt", err, errlen) != 0)
            return -1;
    }
    return 0;
}

int sqlite_task_end(Store *base, StoreTaskEnd *ends, size_t count, int64_t now, char *err,
                    size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    for (size_t i = 0; i < count; i++) {
        const StoreTaskEnd *end = &ends[i];
        sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_TASK_END, err, errlen);
        if (statement == NULL)
            return -1;
        sqlite_bind_text(statement, ":status", end->status);
        sqlite_bind_int64(statement, ":next", end->next_attempt_at);
        sqlite_bind_int64(statement, ":now", now);
        sqlite_bind_text(statement, ":error", end->last_error);
        sqlite_bind_int64(statement, ":id", end->task_id);
        sqlite_bind_int64(statement, ":attempt", end->attempt);
        sqlite_bind_text(statement, ":token", end->claim_token);
        sqlite_bind_int64(statement, ":extra", end->extra_attempts);
        if (end->last_status_code > 0)
            sqlite3_bind_int(statement, sqlite3_bind_parameter_index(statement, ":code"),
                             end->last_status_code);
        if (sqlite_step_done(store, statement, "end the task's attempt", err, errlen) != 0)
            return -1;
        ends[i].applied = sqlite3_changes(store->db) > 0;
    }
    return 0;
}

int sqlite_manual_insert(Store *base, const int64_t *task_ids, const char *const *reasons,
                         size_t count, int64_t now, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    for (size_t i = 0; i < count; i++) {
        sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_INSERT, err, errlen);
        if (statement == NULL)
            return -1;
        sqlite_bind_text(statement, ":reason", reasons[i]);
        sqlite_bind_int64(statement, ":now", now);
        sqlite_bind_int64(statement, ":id", task_ids[i]);
        if (sqlite_step_done(store, statement, "insert manual", err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int sqlite_rescued_read_row(sqlite3_stmt *statement, void *element)
{
    StoreRescued *out = element;
    out->task_id = sqlite3_column_int64(statement, 0);
    out->attempts = sqlite3_column_int(statement, 1);
    out->max_retry = sqlite3_column_int(statement, 2);
    out->claimed_at = sqlite3_column_int64(statement, 3);
    out->last_status_code = sqlite3_column_int(statement, 4);
    out->interrupted_before = sqlite3_column_int(statement, 5);
    out->receiver_open = sqlite3_column_int(statement, 8) != 0;
    return sqlite_column_text(statement, 6, &out->claim_token, NULL) != 0 ||
                   sqlite_column_text(statement, 7, &out->target_host, NULL) != 0
               ? -1
               : 0;
}

int sqlite_rescue_select(Store *base, int64_t now, bool all, StoreRescued **out, size_t *count,
                         char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RESCUE_SELECT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":all", all ? 1 : 0);
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoreRescued), sqlite_rescued_read_row,
                            store_rescued_clear, "select interrupted tasks", &rows,
                            count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

static int sqlite_attempt_read_row(sqlite3_stmt *statement, void *element)
{
    Attempt *out = element;
    out->task_id = sqlite3_column_int64(statement, 0);
    out->attempt = sqlite3_column_int(statement, 1);
    out->started_at = sqlite3_column_int64(statement, 2);
    out->duration_ms = sqlite3_column_int64(statement, 3);
    out->status_code = sqlite3_column_int(statement, 4);
    const char *error_class = (const char *)sqlite3_column_text(statement, 5);
    const char *error_message = (const char *)sqlite3_column_text(statement, 6);
    snprintf(out->error_class, sizeof out->error_class, "%s", error_class ? error_class : "");
    snprintf(out->error_message, sizeof out->error_message, "%s",
             error_message ? error_message : "");
    out->response_truncated = sqlite3_column_int(statement, 8) != 0;
    return sqlite_column_text(statement, 7, &out->response_body, &out->response_length) != 0 ||
                   sqlite_column_text(statement, 9, &out->receiver, NULL) != 0
               ? -1
               : 0;
}

static void sqlite_attempt_clear_element(void *element)
{
    attempt_clear(element);
}

int sqlite_attempt_list(Store *base, int64_t task_id, Attempt **out, size_t *count, char *err,
                        size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ATTEMPT_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, task_id);
    void *attempts = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(Attempt), sqlite_attempt_read_row,
                            sqlite_attempt_clear_element, "list attempts", &attempts, count, err,
                            errlen) != 0)
        return -1;
    *out = attempts;
    return 0;
}

int sqlite_count_active(Store *base, StoreActiveCounts *out, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_COUNT_ACTIVE, err, errlen);
    if (statement == NULL)
        return -1;
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW) {
        out->pending = sqlite3_column_int64(statement, 0);
        out->delivering = sqlite3_column_int64(statement, 1);
        out->manual_open = sqlite3_column_int64(statement, 2);
    }
    int status = rc == SQLITE_ROW ? 0 : sqlite_fail(store, "count the work in hand", err, errlen);
    sqlite3_reset(statement);
    return status;
}

int sqlite_count_gauges(Store *base, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                        size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    memset(tasks_by_status, 0, 4 * sizeof *tasks_by_status);
    *manual_open = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_COUNT_BY_STATUS, err, errlen);
    if (statement == NULL)
        return -1;
    int rc;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        TaskStatus status;
        const char *name = (const char *)sqlite3_column_text(statement, 0);
        if (name != NULL && task_status_parse(name, &status) == 0)
            tasks_by_status[status] = sqlite3_column_int64(statement, 1);
    }
    sqlite3_reset(statement);
    if (rc != SQLITE_DONE)
        return sqlite_fail(store, "count tasks", err, errlen);
    statement = sqlite_statement(store, STORE_SQL_COUNT_MANUAL_OPEN, err, errlen);
    if (statement == NULL)
        return -1;
    rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW)
        *manual_open = sqlite3_column_int64(statement, 0);
    sqlite3_reset(statement);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(store, "count manual", err, errlen);
}
