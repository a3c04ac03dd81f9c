/*
 * store/sqlite_manual: the SQLite backend's manual-handling queries (see
 * store.h): the statements of retrying and resolving entries
 * (store_manual.c), and the actions log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

int sqlite_manual_open_id(Store *base, int64_t task_id, int64_t *entry_id, char *err,
                          size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_OPEN_ID, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, task_id);
    int rc = sqlite_step(store, statement);
    *entry_id = rc == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    int result = 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sqlite_fail(store, "find open entry", err, errlen);
    sqlite3_reset(statement);
    return result;
}

int sqlite_manual_close(Store *base, int64_t entry_id, const char *resolution, const char *note,
                        int64_t now, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_CLOSE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_text(statement, ":resolution", resolution);
    sqlite_bind_text(statement, ":note", note);
    sqlite_bind_int64(statement, ":id", entry_id);
    return sqlite_step_done(store, statement, "close entry", err, errlen);
}

int sqlite_action_insert(Store *base, int64_t task_id, const char *action, const char *actor,
                         const char *note, const char *details, int64_t now, char *err,
                         size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ACTION_INSERT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, task_id);
    sqlite3_bind_text(statement, 2, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 4, note, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 5, details, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 6, now);
    return sqlite_step_done(store, statement, "record action", err, errlen);
}

StoreResult sqlite_manual_retry_task(Store *base, int64_t task_id, const ManualRepair *repair,
                                     int64_t now, char **host, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *host = NULL;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_RETRY_TASK, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":budget", repair->max_retry);
    sqlite_bind_text(statement, ":url", repair->target_url);
    sqlite_bind_text(statement, ":host", repair->target_url ? repair->target_host : NULL);
    sqlite_bind_int64(statement, ":has_payload", repair->payload != NULL);
    int payload_index = sqlite3_bind_parameter_index(statement, ":payload");
    if (repair->payload != NULL)
        sqlite3_bind_blob(statement, payload_index, repair->payload, (int)repair->payload_length,
                          SQLITE_STATIC);
    sqlite_bind_int64(statement, ":is_json", repair->payload_is_json);
    sqlite_bind_int64(statement, ":has_headers", repair->replace_headers);
    sqlite_bind_text(statement, ":headers", repair->headers_json);
    sqlite_bind_int64(statement, ":id", task_id);
    sqlite_bind_int64(statement, ":redeliver", repair->redeliver);
    sqlite_bind_int64(statement, ":hasten", repair->hasten);
    sqlite_bind_text(statement, ":expect", repair->expect_status);
    int rc = sqlite_step(store, statement);
    StoreResult result = STORE_OK;
    if (rc == SQLITE_ROW) {
        if (sqlite_column_text(statement, 0, host, NULL) != 0) {
            snprintf(err, errlen, "retry: out of memory");
            result = STORE_ERROR;
        }
        rc = sqlite_step(store, statement);
    } else if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND; /* the task is not failed (or succeeded, to redeliver) */
    }
    if (rc != SQLITE_DONE && result == STORE_OK) {
        sqlite_fail(store, "retry task", err, errlen);
        result = STORE_ERROR;
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != STORE_OK) {
        free(*host);
        *host = NULL;
    }
    return result;
}

static int sqlite_manual_read_match(sqlite3_stmt *statement, void *element)
{
    ManualMatch *match = element;
    match->task_id = sqlite3_column_int64(statement, 0);
    match->entry_id = sqlite3_column_int64(statement, 2);
    sqlite_column_copy(statement, 3, match->traceparent, sizeof match->traceparent);
    return sqlite_column_text(statement, 1, &match->business_type, NULL);
}

static void sqlite_manual_clear_match(void *element)
{
    ManualMatch *match = element;
    free(match->business_type);
    match->business_type = NULL;
}

int sqlite_manual_open_matching(Store *base, const ManualMatchFilter *filter, ManualMatch **out,
                                size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_MANUAL_MATCHING, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":type", filter->business_type);
    sqlite_bind_text(statement, ":reason", filter->reason);
    sqlite_bind_int64(statement, ":since", filter->since);
    sqlite_bind_int64(statement, ":until", filter->until);
    sqlite_bind_int64(statement, ":through", filter->through_id);
    void *matches = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(ManualMatch), sqlite_manual_read_match,
                            sqlite_manual_clear_match, "match entries", &matches, count, err,
                            errlen) != 0)
        return -1;
    *out = matches;
    return 0;
}

static int sqlite_action_read_row(sqlite3_stmt *statement, void *element)
{
    ManualAction *action = element;
    action->id = sqlite3_column_int64(statement, 0);
    action->task_id = sqlite3_column_int64(statement, 1);
    sqlite_copy_word(statement, 2, action->action);
    action->created_at = sqlite3_column_int64(statement, 6);
    if (sqlite_column_text(statement, 3, &action->actor, NULL) != 0 ||
        sqlite_column_text(statement, 4, &action->note, NULL) != 0 ||
        sqlite_column_text(statement, 5, &action->details, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_action_clear_element(void *element)
{
    manual_action_clear(element);
}

int sqlite_action_list(Store *base, int64_t task_id, ManualAction **out, size_t *count, char *err,
                       size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ACTION_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, task_id);
    void *actions = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(ManualAction), sqlite_action_read_row,
                            sqlite_action_clear_element, "list actions", &actions, count, err,
                            errlen) != 0)
        return -1;
    *out = actions;
    return 0;
}
