/*
 * store/pg_stats: what operators look at first, on PostgreSQL: attempts per
 * minute (the console's chart) and the receivers with work or failures,
 * across every heraldd sharing the database, and the server's clock, which
 * every heraldd sharing it keeps its time by (clock_sync.c). Reads only; see
 * store.h.
 */
#include <stdbool.h>
#include <stdio.h>

#include "pg.h"

int pg_attempt_series(Store *base, int64_t since, int64_t bucket_ms, size_t count,
                      int64_t *delivered, int64_t *failed, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, since);
    pg_param_int64(&params, bucket_ms);
    pg_param_int64(&params, since + (int64_t)count * bucket_ms);
    PGresult *result = pg_run(pg_of(base), PG_SQL_ATTEMPT_SERIES, &params, "count attempts", err,
                              errlen);
    if (result == NULL)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        int64_t bucket = pg_column_int64(result, row, 0);
        if (bucket >= 0 && (size_t)bucket < count) {
            delivered[bucket] = pg_column_int64(result, row, 1);
            failed[bucket] = pg_column_int64(result, row, 2);
        }
    }
    PQclear(result);
    return 0;
}

/* Adds RESULT's rows (host, then two counts) to the receivers: pending and
 * delivering, or (FAILURES) failures followed by the latest failure's time,
 * class and message. Returns 0, or -1 if out of memory. */
static int pg_receiver_rows(PGresult *result, StoreReceiver **list, size_t *used,
                            size_t *capacity, bool failures)
{
    for (int row = 0; row < PQntuples(result); row++) {
        char host[TASK_TARGET_URL_MAX + 1];
        pg_column_copy(result, row, 0, host, sizeof host);
        StoreReceiver *entry = store_receiver_entry(list, used, capacity, host);
        if (entry == NULL)
            return -1;
        if (!failures) {
            entry->pending = pg_column_int64(result, row, 1);
            entry->delivering = pg_column_int64(result, row, 2);
            continue;
        }
        entry->failures = pg_column_int64(result, row, 1);
        if (store_receiver_set_failure(entry, pg_column_int64(result, row, 2),
                                       PQgetvalue(result, row, 3),
                                       PQgetvalue(result, row, 4)) != 0)
            return -1;
    }
    return 0;
}

int pg_receiver_load(Store *base, int64_t since, size_t limit, StoreReceiver **out,
                     size_t *count, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    StoreReceiver *list = NULL;
    size_t used = 0, capacity = 0;
    PgParams backlog = {0};
    pg_param_int64(&backlog, (int64_t)limit);
    PgParams failures = {0};
    pg_param_int64(&failures, since);
    pg_param_int64(&failures, (int64_t)limit);
    const struct {
        PgSql sql;
        PgParams *params;
    } reads[] = {{PG_SQL_RECEIVER_BACKLOG, &backlog}, {PG_SQL_RECEIVER_FAILURES, &failures}};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        PGresult *result = pg_run(store, reads[i].sql, reads[i].params, "list receivers", err,
                                  errlen);
        if (result == NULL)
            goto failed;
        int rows = pg_receiver_rows(result, &list, &used, &capacity, i == 1);
        PQclear(result);
        if (rows != 0) {
            snprintf(err, errlen, "list receivers: out of memory");
            goto failed;
        }
    }
    *out = list;
    *count = used;
    return 0;
failed:
    store_receiver_list_free(list, used);
    *out = NULL;
    *count = 0;
    return -1;
}

int pg_clock_read(Store *base, int64_t *server_ms, char *err, size_t errlen)
{
    PGresult *result = pg_run(pg_of(base), PG_SQL_CLOCK, NULL, "read the clock", err, errlen);
    if (result == NULL)
        return -1;
    *server_ms = pg_column_int64(result, 0, 0);
    PQclear(result);
    return 0;
}
