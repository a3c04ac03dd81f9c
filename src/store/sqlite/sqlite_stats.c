/*
 * store/sqlite_stats: what operators look at first, on SQLite: attempts per
 * minute (the console's chart) and the receivers with work or failures.
 * Reads only; see store.h.
 */
#include <stdbool.h>
#include <stdio.h>

#include "sqlite.h"

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

/* Steps STATEMENT (host, then two counts) into the receivers: pending and
 * delivering, or (FAILURES) failures followed by the latest failure's time,
 * class and message. Returns 0, or -1 with ERR. */
static int sqlite_receiver_rows(SqliteStore *store, sqlite3_stmt *statement, StoreReceiver **list,
                                size_t *used, size_t *capacity, bool failures, char *err,
                                size_t errlen)
{
    int rc;
    while ((rc = sqlite_step(store, statement)) == SQLITE_ROW) {
        const char *host = (const char *)sqlite3_column_text(statement, 0);
        StoreReceiver *entry = store_receiver_entry(list, used, capacity, host ? host : "");
        if (entry == NULL)
            break;
        if (!failures) {
            entry->pending = sqlite3_column_int64(statement, 1);
            entry->delivering = sqlite3_column_int64(statement, 2);
            continue;
        }
        entry->failures = sqlite3_column_int64(statement, 1);
        if (store_receiver_set_failure(entry, sqlite3_column_int64(statement, 2),
                                       (const char *)sqlite3_column_text(statement, 3),
                                       (const char *)sqlite3_column_text(statement, 4)) != 0)
            break;
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
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RECEIVER_BACKLOG, err, errlen);
    if (statement == NULL)
        goto failed;
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    if (sqlite_receiver_rows(store, statement, &list, &used, &capacity, false, err, errlen) != 0)
        goto failed;
    statement = sqlite_statement(store, STORE_SQL_RECEIVER_FAILURES, err, errlen);
    if (statement == NULL)
        goto failed;
    sqlite_bind_int64(statement, ":since", since);
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    if (sqlite_receiver_rows(store, statement, &list, &used, &capacity, true, err, errlen) != 0)
        goto failed;
    *out = list;
    *count = used;
    return 0;
failed:
    store_receiver_list_free(list, used);
    *out = NULL;
    *count = 0;
    return -1;
}
