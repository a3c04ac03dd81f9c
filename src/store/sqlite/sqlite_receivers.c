/*
 * store/sqlite_receivers: receivers an operator paused, on SQLite: the list,
 * a pause, a resume and the audit rows (store_receivers.c runs them).
 */
#include <stdio.h>
#include <stdlib.h>

#include "sqlite.h"

static int sqlite_paused_read_row(sqlite3_stmt *statement, void *element)
{
    StorePaused *paused = element;
    paused->paused_at = sqlite3_column_int64(statement, 1);
    if (sqlite_column_text(statement, 0, &paused->receiver, NULL) != 0 ||
        sqlite_column_text(statement, 2, &paused->paused_by, NULL) != 0 ||
        sqlite_column_text(statement, 3, &paused->note, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_paused_clear(void *element)
{
    StorePaused *paused = element;
    free(paused->receiver);
    free(paused->paused_by);
    free(paused->note);
    *paused = (StorePaused){0};
}

int sqlite_paused_list(Store *base, StorePaused **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_PAUSED_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StorePaused), sqlite_paused_read_row,
                            sqlite_paused_clear, "list paused receivers", &rows, count, err,
                            errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

/* Steps STATEMENT, which returns the receiver's key only if it changed the
 * row, into *CHANGED. */
static int sqlite_receiver_change(SqliteStore *store, sqlite3_stmt *statement, bool *changed,
                                  const char *what, char *err, size_t errlen)
{
    int rc = sqlite_step(store, statement);
    *changed = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        rc = sqlite_step(store, statement);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (rc != SQLITE_DONE) {
        *changed = false;
        return sqlite_fail(store, what, err, errlen);
    }
    return 0;
}

int sqlite_receiver_pause(Store *base, const char *receiver, const char *actor, const char *note,
                          int64_t now, bool *changed, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RECEIVER_PAUSE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_text(statement, ":actor", actor);
    sqlite_bind_text(statement, ":note", note);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_receiver_change(store, statement, changed, "pause receiver", err, errlen);
}

int sqlite_receiver_resume(Store *base, const char *receiver, int64_t now, bool *changed,
                           char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RECEIVER_RESUME, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_receiver_change(store, statement, changed, "resume receiver", err, errlen);
}

int sqlite_receiver_action_insert(Store *base, const char *receiver, const char *action,
                                  const char *actor, const char *note, int64_t now, char *err,
                                  size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement =
        sqlite_statement(store, STORE_SQL_RECEIVER_ACTION_INSERT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_text(statement, ":action", action);
    sqlite_bind_text(statement, ":actor", actor);
    sqlite_bind_text(statement, ":note", note);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_step_done(store, statement, "record receiver action", err, errlen);
}

static int sqlite_receiver_action_read(sqlite3_stmt *statement, void *element)
{
    StoreReceiverAction *action = element;
    action->id = sqlite3_column_int64(statement, 0);
    sqlite_copy_word(statement, 1, action->action);
    action->created_at = sqlite3_column_int64(statement, 4);
    if (sqlite_column_text(statement, 2, &action->actor, NULL) != 0 ||
        sqlite_column_text(statement, 3, &action->note, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_receiver_action_clear(void *element)
{
    StoreReceiverAction *action = element;
    free(action->actor);
    free(action->note);
    action->actor = action->note = NULL;
}

int sqlite_receiver_action_list(Store *base, const char *receiver, int64_t before, int limit,
                                StoreReceiverAction **out, size_t *count, char *err,
                                size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement =
        sqlite_statement(store, STORE_SQL_RECEIVER_ACTION_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_int64(statement, ":before", before);
    sqlite_bind_int64(statement, ":limit", limit);
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoreReceiverAction),
                            sqlite_receiver_action_read, sqlite_receiver_action_clear,
                            "list receiver actions", &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}
