/*
 * store/sqlite_delivery: the SQLite backend's scheduler queries (see
 * store.h): which hosts have work, claiming a host's due tasks, recording
 * outcomes, recovering attempts cut off by a crash, and the attempt log.
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
                claimed++;
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

static int sqlite_insert_attempt(SqliteStore *store, const Attempt *attempt, char *err,
                                 size_t errlen)
{
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
        sqlite3_bind_blob(statement, 8, attempt->response_body, (int)attempt->response_length,
                          SQLITE_STATIC);
    sqlite3_bind_int(statement, 9, attempt->response_truncated ? 1 : 0);
    if (attempt->receiver != NULL)
        sqlite3_bind_text(statement, 10, attempt->receiver, -1, SQLITE_STATIC);
    return sqlite_step_done(store, statement, "insert attempt", err, errlen);
}

/* Applies OUTCOME to its task. Returns 1 if the task was updated, 0 if its
 * claim had ended (see store_record_outcomes), -1 on error. */
static int sqlite_update_task(SqliteStore *store, const AttemptOutcome *outcome, int64_t now,
                              char *err, size_t errlen)
{
    static const StoreSql statements[] = {
        [ATTEMPT_OUTCOME_SUCCEEDED] = STORE_SQL_TASK_SUCCEEDED,
        [ATTEMPT_OUTCOME_RETRY] = STORE_SQL_TASK_RETRY,
        [ATTEMPT_OUTCOME_MANUAL] = STORE_SQL_TASK_FAILED,
    };
    const Attempt *attempt = &outcome->attempt;
    sqlite3_stmt *statement = sqlite_statement(store, statements[outcome->kind], err, errlen);
    if (statement == NULL)
        return -1;
    char last_error[ATTEMPT_ERROR_CLASS_MAX + ATTEMPT_ERROR_MESSAGE_MAX + 4];
    attempt_describe(attempt, last_error, sizeof last_error);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":id", attempt->task_id);
    sqlite_bind_int64(statement, ":attempt", attempt->attempt);
    sqlite_bind_text(statement, ":token", outcome->claim_token);
    sqlite_bind_int64(statement, ":next", outcome->next_attempt_at);
    sqlite_bind_text(statement, ":error", last_error[0] ? last_error : NULL);
    int code_index = sqlite3_bind_parameter_index(statement, ":code");
    if (attempt->status_code > 0)
        sqlite3_bind_int(statement, code_index, attempt->status_code);
    if (sqlite_step_done(store, statement, "update task", err, errlen) != 0)
        return -1;
    return sqlite3_changes(store->db) > 0;
}

static int sqlite_insert_manual(SqliteStore *store, const AttemptOutcome *outcome, int64_t now,
                                char *err, size_t errlen)
{
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_INSERT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":reason", outcome->manual_reason);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":id", outcome->attempt.task_id);
    return sqlite_step_done(store, statement, "insert manual", err, errlen);
}

int sqlite_record_outcomes(Store *base, AttemptOutcome *outcomes, size_t count, int64_t now,
                           char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    for (size_t i = 0; i < count; i++) {
        /* The task first: only an outcome whose claim holds is recorded. */
        int updated = sqlite_update_task(store, &outcomes[i], now, err, errlen);
        if (updated < 0)
            return -1;
        outcomes[i].fenced = !updated;
        if (!updated)
            continue;
        if (sqlite_insert_attempt(store, &outcomes[i].attempt, err, errlen) != 0)
            return -1;
        if (outcomes[i].kind == ATTEMPT_OUTCOME_MANUAL &&
            sqlite_insert_manual(store, &outcomes[i], now, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Runs one statement of the rescue; returns its changes, or -1. */
static int sqlite_rescue_step(SqliteStore *store, StoreSql sql, int64_t now, bool all,
                              const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *statement = sqlite_statement(store, sql, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":all", all ? 1 : 0);
    if (sqlite_step_done(store, statement, what, err, errlen) != 0)
        return -1;
    return sqlite3_changes(store->db);
}

int sqlite_recover_interrupted(Store *base, int64_t now, StoreRescueScope scope, int *recovered,
                               int *moved, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    bool all = scope == STORE_RESCUE_ALL;
    if (sqlite_rescue_step(store, STORE_SQL_RESCUE_ATTEMPTS, now, all,
                           "record interrupted attempts", err, errlen) < 0)
        return -1;
    int entries = sqlite_rescue_step(store, STORE_SQL_RESCUE_MANUAL, now, all,
                                     "move interrupted tasks to manual handling", err, errlen);
    if (entries < 0)
        return -1;
    int tasks = sqlite_rescue_step(store, STORE_SQL_RESCUE_TASKS, now, all,
                                   "rescue interrupted tasks", err, errlen);
    if (tasks < 0)
        return -1;
    *recovered = tasks;
    *moved = entries;
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
