/*
 * store/sqlite_ordering: the statements of strict order per key on SQLite
 * (store_ordering.c decides when each runs). One writer holds the database
 * for the whole transaction, so reading a key's row is as good as locking
 * it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

/* Steps STATEMENT (a write that may return one row) to its end; *ROW: it
 * returned one, whose integer columns 0..COUNT-1 are in VALUES and whose
 * column 0 as text, when TEXT is not NULL, in *TEXT (heap). Resets it. */
static int sqlite_ordering_run(SqliteStore *store, sqlite3_stmt *statement, const char *what,
                               bool *row, int64_t *values, int count, char **text, char *err,
                               size_t errlen)
{
    int rc;
    int result = 0;
    if (row != NULL)
        *row = false;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        if (row == NULL || *row)
            continue;
        *row = true;
        for (int i = 0; i < count; i++)
            values[i] = sqlite3_column_int64(statement, i);
        if (text != NULL && sqlite_column_text(statement, 0, text, NULL) != 0) {
            snprintf(err, errlen, "%s: out of memory", what);
            result = -1;
        }
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = sqlite_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0 && text != NULL) {
        free(*text);
        *text = NULL;
    }
    return result;
}

int sqlite_ordering_enqueue(Store *base, int64_t task_id, const char *receiver, const char *key,
                            bool block, int64_t now, int64_t *seq, bool *waiting, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_KEY, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_text(statement, ":key", key);
    sqlite_bind_int64(statement, ":now", now);
    bool row;
    int64_t values[3] = {0, 0, 0}; /* id, last_seq (the task's), head_seq */
    if (sqlite_ordering_run(store, statement, "take a place in an ordering key", &row, values, 3,
                            NULL, err, errlen) != 0)
        return -1;
    if (!row) {
        snprintf(err, errlen, "take a place in an ordering key: no row");
        return -1;
    }
    *seq = values[1];
    *waiting = values[1] > values[2];
    statement = sqlite_statement(store, STORE_SQL_ORDERING_TASK, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":key", key);
    sqlite_bind_int64(statement, ":key_id", values[0]);
    sqlite_bind_int64(statement, ":seq", values[1]);
    sqlite_bind_int64(statement, ":block", block ? 1 : 0);
    sqlite_bind_int64(statement, ":waiting", values[1] > values[2] ? 1 : 0);
    sqlite_bind_int64(statement, ":waiting_at", STORE_ORDERING_WAITING);
    sqlite_bind_int64(statement, ":id", task_id);
    return sqlite_step_done(store, statement, "place a task in its ordering key", err, errlen);
}

StoreResult sqlite_ordering_place(Store *base, int64_t task_id, bool lock,
                                  StoreOrderingPlace *out, char *err, size_t errlen)
{
    (void)lock; /* the writer's transaction holds the database */
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_PLACE, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":id", task_id);
    int rc = sqlite_step(store, statement);
    StoreResult result = STORE_OK;
    if (rc == SQLITE_ROW) {
        out->keyed = true;
        out->key_id = sqlite3_column_int64(statement, 0);
        out->seq = sqlite3_column_int64(statement, 1);
        out->block = sqlite3_column_int(statement, 2) != 0;
        const char *status = (const char *)sqlite3_column_text(statement, 3);
        snprintf(out->status, sizeof out->status, "%s", status ? status : "");
        out->head_seq = sqlite3_column_int64(statement, 4);
        out->last_seq = sqlite3_column_int64(statement, 5);
        out->blocked_task_id = sqlite3_column_int64(statement, 6);
        const char *key = (const char *)sqlite3_column_text(statement, 7);
        snprintf(out->key, sizeof out->key, "%s", key ? key : "");
        const char *receiver = (const char *)sqlite3_column_text(statement, 8);
        snprintf(out->receiver, sizeof out->receiver, "%s", receiver ? receiver : "");
    } else if (rc != SQLITE_DONE) {
        sqlite_fail(store, "read a task's ordering key", err, errlen);
        result = STORE_ERROR;
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

int sqlite_ordering_pass(Store *base, int64_t key_id, int64_t seq, int64_t now,
                         char **released_host, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *released_host = NULL;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_PASS, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":key_id", key_id);
    sqlite_bind_int64(statement, ":seq", seq);
    sqlite_bind_int64(statement, ":now", now);
    bool row;
    int64_t values[2] = {0, 0}; /* head_seq, last_seq */
    if (sqlite_ordering_run(store, statement, "move an ordering key on", &row, values, 2, NULL,
                            err, errlen) != 0)
        return -1;
    if (!row || values[0] > values[1])
        return 0; /* not its head any more, or nothing waits */
    statement = sqlite_statement(store, STORE_SQL_ORDERING_RELEASE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":key_id", key_id);
    sqlite_bind_int64(statement, ":seq", values[0]);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":waiting_at", STORE_ORDERING_WAITING);
    return sqlite_ordering_run(store, statement, "release the next task of an ordering key", &row,
                               values, 0, released_host, err, errlen);
}

int sqlite_ordering_block(Store *base, int64_t key_id, int64_t task_id, int64_t now, char *err,
                          size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_BLOCK, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":task", task_id);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":key_id", key_id);
    return sqlite_step_done(store, statement, "block an ordering key", err, errlen);
}

int sqlite_ordering_rewait(Store *base, int64_t task_id, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_REWAIT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":waiting_at", STORE_ORDERING_WAITING);
    sqlite_bind_int64(statement, ":id", task_id);
    return sqlite_step_done(store, statement, "keep a task waiting for its ordering key", err,
                            errlen);
}

static void sqlite_ordering_key_clear(void *element)
{
    StoreOrderingKey *key = element;
    free(key->receiver);
    free(key->ordering_key);
}

static int sqlite_ordering_key_read(sqlite3_stmt *statement, void *element)
{
    StoreOrderingKey *key = element;
    key->id = sqlite3_column_int64(statement, 0);
    key->last_seq = sqlite3_column_int64(statement, 3);
    key->head_seq = sqlite3_column_int64(statement, 4);
    key->blocked_task_id = sqlite3_column_int64(statement, 5);
    key->blocked_at = sqlite3_column_int64(statement, 6);
    key->updated_at = sqlite3_column_int64(statement, 7);
    if (sqlite_column_text(statement, 1, &key->receiver, NULL) != 0 ||
        sqlite_column_text(statement, 2, &key->ordering_key, NULL) != 0)
        return -1;
    return 0;
}

int sqlite_ordering_list(Store *base, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                         size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":before", filter->before);
    sqlite_bind_int64(statement, ":blocked", filter->blocked_only ? 1 : 0);
    sqlite_bind_text(statement, ":receiver", filter->receiver);
    sqlite_bind_text(statement, ":key", filter->ordering_key);
    sqlite_bind_int64(statement, ":limit", filter->limit);
    sqlite_bind_int64(statement, ":oldest", filter->oldest_blocked_first ? 1 : 0);
    return sqlite_collect_rows(store, statement, sizeof **out, sqlite_ordering_key_read,
                               sqlite_ordering_key_clear, "list ordering keys", (void **)out,
                               count, err, errlen);
}

int sqlite_ordering_blocked(Store *base, int64_t before, int64_t *count, int64_t *oldest_at,
                            char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_BLOCKED, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":before", before);
    bool row;
    int64_t values[2] = {0, 0};
    if (sqlite_ordering_run(store, statement, "count blocked ordering keys", &row, values, 2,
                            NULL, err, errlen) != 0)
        return -1;
    *count = values[0];
    *oldest_at = values[1];
    return 0;
}

static int sqlite_ordering_id_read(sqlite3_stmt *statement, void *element)
{
    *(int64_t *)element = sqlite3_column_int64(statement, 0);
    return 0;
}

static void sqlite_ordering_id_clear(void *element)
{
    (void)element;
}

int sqlite_ordering_stalled(Store *base, int limit, int64_t **ids, size_t *count, char *err,
                            size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ORDERING_STALLED, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":limit", limit);
    return sqlite_collect_rows(store, statement, sizeof **ids, sqlite_ordering_id_read,
                               sqlite_ordering_id_clear, "find stalled ordering keys",
                               (void **)ids, count, err, errlen);
}
