/*
 * store/sqlite_manual: the SQLite backend's manual-handling queries (see
 * store.h): listing entries, retrying and resolving them, and the actions
 * log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

#define STORE_ENTRY_COLUMNS                                                                        \
    "m.id, m.task_id, t.business_id, t.business_type, t.target_url, m.reason, m.attempts,"         \
    " m.last_status_code, m.last_error, m.moved_at, m.state, m.resolved_at, m.resolution,"         \
    " m.note"

enum {
    STORE_MANUAL_BY_TYPE = 1,
    STORE_MANUAL_BY_TASK = 2,
    STORE_MANUAL_BY_REASON = 4,
};

/* Assembled from fixed fragments by which filters are set (never from user
 * data): state (3 ways) x business type x task x reason. */
static sqlite3_stmt *sqlite_manual_list_statement(SqliteStore *store, const ManualFilter *filter,
                                                  char *err, size_t errlen)
{
    int flags = (filter->business_type ? STORE_MANUAL_BY_TYPE : 0) |
                (filter->task_id > 0 ? STORE_MANUAL_BY_TASK : 0) |
                (filter->reason ? STORE_MANUAL_BY_REASON : 0);
    int variant = (int)filter->state * 8 + flags;
    if (store->manual_list_statements[variant] != NULL)
        return store->manual_list_statements[variant];
    static const char *const states[] = {" AND m.state = 'open'", " AND m.state = 'resolved'", ""};
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT " STORE_ENTRY_COLUMNS " FROM manual m JOIN tasks t ON t.id = m.task_id"
             " WHERE m.id > :after AND m.moved_at >= :since AND m.moved_at < :until%s%s%s%s"
             " ORDER BY m.id LIMIT :limit",
             states[filter->state],
             flags & STORE_MANUAL_BY_TYPE ? " AND t.business_type = :type" : "",
             flags & STORE_MANUAL_BY_TASK ? " AND m.task_id = :task" : "",
             flags & STORE_MANUAL_BY_REASON ? " AND m.reason = :reason" : "");
    return sqlite_prepare_cached(store, &store->manual_list_statements[variant], sql, err, errlen);
}

static void sqlite_copy_word(sqlite3_stmt *statement, int column, char out[MANUAL_WORD_MAX])
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    snprintf(out, MANUAL_WORD_MAX, "%s", text ? text : "");
}

static int sqlite_entry_read_row(sqlite3_stmt *statement, ManualEntry *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(statement, 0);
    out->task_id = sqlite3_column_int64(statement, 1);
    sqlite_copy_word(statement, 5, out->reason);
    out->attempts = sqlite3_column_int(statement, 6);
    out->last_status_code = sqlite3_column_int(statement, 7);
    out->moved_at = sqlite3_column_int64(statement, 9);
    const char *state = (const char *)sqlite3_column_text(statement, 10);
    out->open = state != NULL && strcmp(state, "open") == 0;
    out->resolved_at = sqlite3_column_int64(statement, 11);
    sqlite_copy_word(statement, 12, out->resolution);
    if (sqlite_column_text(statement, 2, &out->business_id, NULL) != 0 ||
        sqlite_column_text(statement, 3, &out->business_type, NULL) != 0 ||
        sqlite_column_text(statement, 4, &out->target_url, NULL) != 0 ||
        sqlite_column_text(statement, 8, &out->last_error, NULL) != 0 ||
        sqlite_column_text(statement, 13, &out->note, NULL) != 0) {
        manual_entry_clear(out);
        return -1;
    }
    return 0;
}

int sqlite_manual_list(Store *base, const ManualFilter *filter, ManualEntry **out, size_t *count,
                       char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_manual_list_statement(store, filter, err, errlen);
    if (statement == NULL)
        return -1;
    int limit = filter->limit > 0 ? filter->limit : 1;
    ManualEntry *entries = calloc((size_t)limit, sizeof *entries);
    if (entries == NULL) {
        snprintf(err, errlen, "list manual entries: out of memory");
        return -1;
    }
    sqlite_bind_int64(statement, ":after", filter->after);
    sqlite_bind_int64(statement, ":since", filter->since);
    sqlite_bind_int64(statement, ":until", filter->until);
    sqlite_bind_text(statement, ":reason", filter->reason);
    sqlite_bind_text(statement, ":type", filter->business_type);
    sqlite_bind_int64(statement, ":task", filter->task_id);
    sqlite_bind_int64(statement, ":limit", limit);
    size_t used = 0;
    int rc;
    int result = 0;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW && used < (size_t)limit) {
        if (sqlite_entry_read_row(statement, &entries[used]) != 0) {
            snprintf(err, errlen, "list manual entries: out of memory");
            result = -1;
            break;
        }
        used++;
    }
    if (result == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = sqlite_fail(store, "list manual entries", err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0) {
        store_manual_list_free(entries, used);
        return -1;
    }
    *out = entries;
    *count = used;
    return 0;
}

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
    int rc = sqlite_step(store, statement);
    StoreResult result = STORE_OK;
    if (rc == SQLITE_ROW) {
        if (sqlite_column_text(statement, 0, host, NULL) != 0) {
            snprintf(err, errlen, "retry: out of memory");
            result = STORE_ERROR;
        }
        rc = sqlite_step(store, statement);
    } else if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND; /* the task is not failed */
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
