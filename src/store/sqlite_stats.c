/*
 * store/sqlite_stats: what operators look at first, on SQLite: attempts per
 * minute (the console's chart) and the receivers with work or failures.
 * Reads only; see store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

int sqlite_attempt_series(Store *base, int64_t since, int64_t bucket_ms, size_t count,
                          int64_t *delivered, int64_t *failed, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ATTEMPT_SERIES, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":since", since);
    sqlite_bind_int64(statement, ":bucket", bucket_ms);
    sqlite_bind_int64(statement, ":until", since + (int64_t)count * bucket_ms);
    int rc;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        int64_t bucket = sqlite3_column_int64(statement, 0);
        if (bucket >= 0 && (size_t)bucket < count) {
            delivered[bucket] = sqlite3_column_int64(statement, 1);
            failed[bucket] = sqlite3_column_int64(statement, 2);
        }
    }
    sqlite3_reset(statement);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(store, "count attempts", err, errlen);
}

/* The latest failed attempt's time and "class: message" into ENTRY. */
static int sqlite_receiver_last_error(SqliteStore *store, int64_t attempt_id, StoreReceiver *entry,
                                      char *err, size_t errlen)
{
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ATTEMPT_ERROR, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":id", attempt_id);
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW) {
        entry->last_failure_at = sqlite3_column_int64(statement, 0);
        const char *class = (const char *)sqlite3_column_text(statement, 1);
        const char *message = (const char *)sqlite3_column_text(statement, 2);
        size_t size = strlen(class ? class : "") + strlen(message ? message : "") + 3;
        entry->last_error = malloc(size);
        if (entry->last_error != NULL)
            snprintf(entry->last_error, size, "%s%s%s", class ? class : "",
                     message && *message ? ": " : "", message ? message : "");
    }
    sqlite3_reset(statement);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(store, "read an attempt", err, errlen);
    return 0;
}

/* Steps STATEMENT (host, then two counts) into the receivers: pending and
 * delivering, or (LAST_IDS given) failures and the latest failed attempt's id,
 * by entry index. Returns 0, or -1 with ERR. */
static int sqlite_receiver_rows(SqliteStore *store, sqlite3_stmt *statement, StoreReceiver **list,
                                size_t *used, size_t *capacity, int64_t *last_ids, char *err,
                                size_t errlen)
{
    int rc;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        const char *host = (const char *)sqlite3_column_text(statement, 0);
        StoreReceiver *entry = store_receiver_entry(list, used, capacity, host ? host : "");
        if (entry == NULL)
            break;
        if (last_ids == NULL) {
            entry->pending = sqlite3_column_int64(statement, 1);
            entry->delivering = sqlite3_column_int64(statement, 2);
        } else {
            entry->failures = sqlite3_column_int64(statement, 1);
            last_ids[entry - *list] = sqlite3_column_int64(statement, 2);
        }
    }
    sqlite3_reset(statement);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_ROW) {
        snprintf(err, errlen, "list receivers: out of memory");
        return -1;
    }
    return sqlite_fail(store, "list receivers", err, errlen);
}

int sqlite_receiver_load(Store *base, int64_t since, size_t limit, StoreReceiver **out,
                         size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    StoreReceiver *list = NULL;
    size_t used = 0, capacity = 0;
    int64_t *last_ids = NULL;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RECEIVER_BACKLOG, err, errlen);
    if (statement == NULL)
        goto failed;
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    if (sqlite_receiver_rows(store, statement, &list, &used, &capacity, NULL, err, errlen) != 0)
        goto failed;
    statement = sqlite_statement(store, STORE_SQL_RECEIVER_FAILURES, err, errlen);
    if (statement == NULL)
        goto failed;
    sqlite_bind_int64(statement, ":since", since);
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    last_ids = calloc(limit + used + 1, sizeof *last_ids); /* by entry index */
    if (last_ids == NULL) {
        snprintf(err, errlen, "list receivers: out of memory");
        goto failed;
    }
    if (sqlite_receiver_rows(store, statement, &list, &used, &capacity, last_ids, err, errlen) != 0)
        goto failed;
    for (size_t i = 0; i < used; i++) {
        if (last_ids[i] > 0 &&
            sqlite_receiver_last_error(store, last_ids[i], &list[i], err, errlen) != 0)
            goto failed;
    }
    free(last_ids);
    *out = list;
    *count = used;
    return 0;
failed:
    free(last_ids);
    store_receiver_list_free(list, used);
    *out = NULL;
    *count = 0;
    return -1;
}
