/*
 * store/pg_stats: what operators look at first, on PostgreSQL: attempts per
 * minute (the console's chart) and the receivers with work or failures,
 * across every heraldd sharing the database. Reads only; see store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

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

/* The latest failed attempt's time and "class: message" into ENTRY. */
static int pg_receiver_last_error(PgStore *store, int64_t attempt_id, StoreReceiver *entry,
                                  char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, attempt_id);
    PGresult *result = pg_run(store, PG_SQL_ATTEMPT_ERROR, &params, "read an attempt", err, errlen);
    if (result == NULL)
        return -1;
    if (PQntuples(result) == 1) {
        entry->last_failure_at = pg_column_int64(result, 0, 0);
        char class[64], message[512];
        pg_column_copy(result, 0, 1, class, sizeof class);
        pg_column_copy(result, 0, 2, message, sizeof message);
        size_t size = strlen(class) + strlen(message) + 3;
        entry->last_error = malloc(size);
        if (entry->last_error != NULL)
            snprintf(entry->last_error, size, "%s%s%s", class, *message ? ": " : "", message);
    }
    PQclear(result);
    return 0;
}

int pg_receiver_load(Store *base, int64_t since, size_t limit, StoreReceiver **out,
                     size_t *count, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    StoreReceiver *list = NULL;
    size_t used = 0, capacity = 0;
    int64_t *last_ids = NULL;
    PgParams params = {0};
    pg_param_int64(&params, (int64_t)limit);
    PGresult *result = pg_run(store, PG_SQL_RECEIVER_BACKLOG, &params, "list receivers", err,
                              errlen);
    if (result == NULL)
        goto failed;
    for (int row = 0; row < PQntuples(result); row++) {
        char host[TASK_TARGET_URL_MAX + 1];
        pg_column_copy(result, row, 0, host, sizeof host);
        StoreReceiver *entry = store_receiver_entry(&list, &used, &capacity, host);
        if (entry == NULL) {
            PQclear(result);
            snprintf(err, errlen, "list receivers: out of memory");
            goto failed;
        }
        entry->pending = pg_column_int64(result, row, 1);
        entry->delivering = pg_column_int64(result, row, 2);
    }
    PQclear(result);
    PgParams failures = {0};
    pg_param_int64(&failures, since);
    pg_param_int64(&failures, (int64_t)limit);
    result = pg_run(store, PG_SQL_RECEIVER_FAILURES, &failures, "list receivers", err, errlen);
    if (result == NULL)
        goto failed;
    last_ids = calloc(limit + used + 1, sizeof *last_ids); /* by entry index */
    for (int row = 0; last_ids != NULL && row < PQntuples(result); row++) {
        char host[TASK_TARGET_URL_MAX + 1];
        pg_column_copy(result, row, 0, host, sizeof host);
        StoreReceiver *entry = store_receiver_entry(&list, &used, &capacity, host);
        if (entry == NULL) {
            free(last_ids);
            last_ids = NULL;
            break;
        }
        entry->failures = pg_column_int64(result, row, 1);
        last_ids[entry - list] = pg_column_int64(result, row, 2);
    }
    PQclear(result);
    if (last_ids == NULL) {
        snprintf(err, errlen, "list receivers: out of memory");
        goto failed;
    }
    for (size_t i = 0; i < used; i++) {
        if (last_ids[i] > 0 && pg_receiver_last_error(store, last_ids[i], &list[i], err, errlen) != 0)
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
