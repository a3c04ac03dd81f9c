/*
 * store/pg_ordering: the statements of strict order per key on PostgreSQL
 * (store_ordering.c decides when each runs), and what a claim returns after
 * the task's columns. Several heraldd share the keys: a key's row is
 * locked by the intake that takes a place in it and by every step that
 * moves it (store_ordering.h gives the order locks are taken in); a task's
 * due time is written to tasks and to its hot queue row alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "pg_ordering.h"

int pg_claim_read_extra(const PGresult *result, int row, Task *task)
{
    task->retry_base = (int)pg_column_int64(result, row, PG_TASK_COLUMN_COUNT);
    task->ordering_seq = pg_column_int64(result, row, PG_TASK_COLUMN_COUNT + 2);
    return pg_column_text(result, row, PG_TASK_COLUMN_COUNT + 1, &task->ordering_key, NULL);
}

int pg_ordering_enqueue(Store *base, int64_t task_id, const char *receiver, const char *key,
                        bool block, int64_t now, int64_t *seq, bool *waiting, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_text(&params, key);
    pg_param_int64(&params, now);
    pg_param_bool(&params, block);
    pg_param_int64(&params, task_id);
    pg_param_int64(&params, STORE_ORDERING_WAITING);
    PGresult *result = pg_run(pg_of(base), PG_SQL_ORDERING_ENQUEUE, &params,
                              "take a place in an ordering key", err, errlen);
    if (result == NULL)
        return -1;
    int status = 0;
    if (PQntuples(result) == 1) {
        *seq = pg_column_int64(result, 0, 0);
        *waiting = pg_column_bool(result, 0, 1);
    } else {
        snprintf(err, errlen, "take a place in an ordering key: no row");
        status = -1;
    }
    PQclear(result);
    return status;
}

StoreResult pg_ordering_place(Store *base, int64_t task_id, bool lock, StoreOrderingPlace *out,
                              char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    PGresult *result =
        pg_run(pg_of(base), lock ? PG_SQL_ORDERING_PLACE_LOCK : PG_SQL_ORDERING_PLACE, &params,
               "read a task's ordering key", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    if (PQntuples(result) == 1) {
        out->keyed = true;
        out->key_id = pg_column_int64(result, 0, 0);
        out->seq = pg_column_int64(result, 0, 1);
        out->block = pg_column_bool(result, 0, 2);
        pg_column_copy(result, 0, 3, out->status, sizeof out->status);
        out->head_seq = pg_column_int64(result, 0, 4);
        out->last_seq = pg_column_int64(result, 0, 5);
        out->blocked_task_id = pg_column_int64(result, 0, 6);
        pg_column_copy(result, 0, 7, out->key, sizeof out->key);
        pg_column_copy(result, 0, 8, out->receiver, sizeof out->receiver);
    }
    PQclear(result);
    return STORE_OK;
}

int pg_ordering_pass(Store *base, int64_t key_id, int64_t seq, int64_t now, char **released_host,
                     char *err, size_t errlen)
{
    *released_host = NULL;
    PgParams params = {0};
    pg_param_int64(&params, key_id);
    pg_param_int64(&params, seq);
    pg_param_int64(&params, now);
    pg_param_int64(&params, STORE_ORDERING_WAITING);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_ORDERING_PASS, &params, "move an ordering key on", err, errlen);
    if (result == NULL)
        return -1;
    int status = 0;
    if (PQntuples(result) > 0 && pg_column_text(result, 0, 0, released_host, NULL) != 0) {
        snprintf(err, errlen, "move an ordering key on: out of memory");
        status = -1;
    }
    PQclear(result);
    return status;
}

int pg_ordering_block(Store *base, int64_t key_id, int64_t task_id, int64_t now, char *err,
                      size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, key_id);
    pg_param_int64(&params, task_id);
    pg_param_int64(&params, now);
    return pg_run_done(pg_of(base), PG_SQL_ORDERING_BLOCK, &params, "block an ordering key", err,
                       errlen);
}

int pg_ordering_rewait(Store *base, int64_t task_id, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    pg_param_int64(&params, STORE_ORDERING_WAITING);
    return pg_run_done(pg_of(base), PG_SQL_ORDERING_REWAIT, &params,
                       "keep a task waiting for its ordering key", err, errlen);
}

static void pg_ordering_key_clear(void *element)
{
    StoreOrderingKey *key = element;
    free(key->receiver);
    free(key->ordering_key);
}

static int pg_ordering_key_read(const PGresult *result, int row, void *element)
{
    StoreOrderingKey *key = element;
    key->id = pg_column_int64(result, row, 0);
    key->last_seq = pg_column_int64(result, row, 3);
    key->head_seq = pg_column_int64(result, row, 4);
    key->blocked_task_id = pg_column_int64(result, row, 5);
    key->blocked_at = pg_column_int64(result, row, 6);
    key->updated_at = pg_column_int64(result, row, 7);
    if (pg_column_text(result, row, 1, &key->receiver, NULL) != 0 ||
        pg_column_text(result, row, 2, &key->ordering_key, NULL) != 0)
        return -1;
    return 0;
}

int pg_ordering_list(Store *base, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                     size_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, filter->before);
    pg_param_bool(&params, filter->blocked_only);
    pg_param_text(&params, filter->receiver);
    pg_param_text(&params, filter->ordering_key);
    pg_param_int64(&params, filter->limit);
    pg_param_bool(&params, filter->oldest_blocked_first);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_ORDERING_LIST, &params, "list ordering keys", err, errlen);
    if (result == NULL)
        return -1;
    return pg_collect_rows(result, sizeof **out, pg_ordering_key_read, pg_ordering_key_clear,
                           "list ordering keys", (void **)out, count, err, errlen);
}

int pg_ordering_blocked(Store *base, int64_t before, int64_t *count, int64_t *oldest_at,
                        char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, before);
    PGresult *result = pg_run(pg_of(base), PG_SQL_ORDERING_BLOCKED, &params,
                              "count blocked ordering keys", err, errlen);
    if (result == NULL)
        return -1;
    if (PQntuples(result) == 1) {
        *count = pg_column_int64(result, 0, 0);
        *oldest_at = pg_column_int64(result, 0, 1);
    }
    PQclear(result);
    return 0;
}

bool pg_ordering_ready(Store *base)
{
    return pg_schema_has(pg_of(base), PG_SCHEMA_ORDERING);
}

bool pg_ordering_known(Store *base)
{
    return pg_schema_has(pg_of(base), PG_SCHEMA_ORDERING_COLUMNS);
}

static int pg_ordering_id_read(const PGresult *result, int row, void *element)
{
    *(int64_t *)element = pg_column_int64(result, row, 0);
    return 0;
}

static void pg_ordering_id_clear(void *element)
{
    (void)element;
}

int pg_ordering_stalled(Store *base, int limit, int64_t **ids, size_t *count, char *err,
                        size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, limit);
    PGresult *result = pg_run(pg_of(base), PG_SQL_ORDERING_STALLED, &params,
                              "find stalled ordering keys", err, errlen);
    if (result == NULL)
        return -1;
    return pg_collect_rows(result, sizeof **ids, pg_ordering_id_read, pg_ordering_id_clear,
                           "find stalled ordering keys", (void **)ids, count, err, errlen);
}
