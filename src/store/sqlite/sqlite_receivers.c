/*
 * store/sqlite_receivers: receivers an operator paused, on SQLite: the list,
 * a pause, a resume and the audit rows (store_receivers.c runs them); and
 * their circuit breakers' rows and probe (store_breaker.c runs them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

static int sqlite_gate_read_row(sqlite3_stmt *statement, void *element)
{
    StoreGate *paused = element;
    paused->paused_at = sqlite3_column_int64(statement, 1);
    paused->paused = sqlite3_column_int(statement, 4) != 0;
    paused->open = sqlite3_column_int(statement, 5) != 0;
    paused->failures = sqlite3_column_int(statement, 6);
    paused->opened_at = sqlite3_column_int64(statement, 7);
    paused->next_probe_at = sqlite3_column_int64(statement, 8);
    paused->probe_until = sqlite3_column_int64(statement, 9);
    if (sqlite_column_text(statement, 0, &paused->receiver, NULL) != 0 ||
        sqlite_column_text(statement, 2, &paused->paused_by, NULL) != 0 ||
        sqlite_column_text(statement, 3, &paused->note, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_gate_clear(void *element)
{
    StoreGate *paused = element;
    free(paused->receiver);
    free(paused->paused_by);
    free(paused->note);
    *paused = (StoreGate){0};
}

int sqlite_gate_list(Store *base, StoreGate **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_GATE_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoreGate), sqlite_gate_read_row,
                            sqlite_gate_clear, "list paused receivers", &rows, count, err,
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

/* ---- circuit breakers (store_breaker.c) ---- */

int sqlite_claim_probe(Store *base, const char *host, int64_t now, int64_t lease_ms,
                       const char *claim_token, Task *out, size_t *count, char *err,
                       size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_PROBE_GATE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":token", claim_token);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":lease_ms", lease_ms);
    sqlite_bind_text(statement, ":host", host);
    if (sqlite_step_done(store, statement, "claim a probe", err, errlen) != 0)
        return -1;
    if (sqlite3_changes(store->db) == 0)
        return 0; /* not due, or out already, or nothing to send */
    /* The row names this token now: the claim passes the open circuit. */
    return sqlite_claim_due(base, host, now, lease_ms, claim_token, 1, out, count, err, errlen);
}

int sqlite_breaker_read(Store *base, const char *receiver, bool lock, StoreBreaker *out,
                        bool *found, char *err, size_t errlen)
{
    (void)lock; /* one writer: the transaction holds the database */
    SqliteStore *store = sqlite_of(base);
    memset(out, 0, sizeof *out);
    *found = false;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_BREAKER_READ, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW) {
        *found = true;
        out->open = sqlite3_column_int(statement, 0) != 0;
        out->failures = sqlite3_column_int(statement, 1);
        out->opened_at = sqlite3_column_int64(statement, 2);
        out->probe_interval_ms = sqlite3_column_int64(statement, 3);
        const unsigned char *token = sqlite3_column_text(statement, 4);
        snprintf(out->probe_token, sizeof out->probe_token, "%s",
                 token != NULL ? (const char *)token : "");
        rc = sqlite_step(store, statement);
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (rc != SQLITE_DONE)
        return sqlite_fail(store, "read a receiver's breaker", err, errlen);
    return 0;
}

int sqlite_breaker_ensure(Store *base, const char *receiver, int64_t now, char *err,
                          size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_BREAKER_ENSURE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_step_done(store, statement, "add a receiver's breaker", err, errlen);
}

int sqlite_breaker_write(Store *base, const char *receiver, const StoreBreakerWrite *write,
                         int64_t now, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_BREAKER_WRITE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":receiver", receiver);
    sqlite_bind_int64(statement, ":open", write->state.open ? 1 : 0);
    sqlite_bind_int64(statement, ":failures", write->state.failures);
    sqlite_bind_int64(statement, ":opened_at", write->state.opened_at);
    sqlite_bind_int64(statement, ":interval", write->state.probe_interval_ms);
    sqlite_bind_int64(statement, ":probe_in", write->probe_in_ms);
    sqlite_bind_int64(statement, ":clear", write->clear_probe ? 1 : 0);
    sqlite_bind_int64(statement, ":closed", write->closed ? 1 : 0);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_step_done(store, statement, "write a receiver's breaker", err, errlen);
}

int sqlite_breaker_forget_probes(Store *base, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement =
        sqlite_statement(store, STORE_SQL_BREAKER_FORGET_PROBES, err, errlen);
    if (statement == NULL)
        return -1;
    return sqlite_step_done(store, statement, "forget the probes out", err, errlen);
}
