/*
 * store/pg_alerts: the PostgreSQL backend's alert checker queries (see
 * store.h): the manual backlog, the alerts table and retention; the
 * leadership lease's statements; and the instances table (GET /v1/instances).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* Runs SQL with PARAMS expecting one integer row; *OUT keeps its value if
 * there is none. */
static int pg_single_int64(PgStore *store, PgSql sql, const PgParams *params, int64_t *out,
                           const char *what, char *err, size_t errlen)
{
    PGresult *result = pg_run(store, sql, params, what, err, errlen);
    if (result == NULL)
        return -1;
    if (PQntuples(result) > 0)
        *out = pg_column_int64(result, 0, 0);
    PQclear(result);
    return 0;
}

int pg_alert_backlog(Store *base, int64_t since, AlertBacklog *out, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    memset(out, 0, sizeof *out);
    PgParams params = {0};
    pg_param_int64(&params, since);
    if (pg_single_int64(store, PG_SQL_BACKLOG_COUNT, &params, &out->count, "backlog", err,
                        errlen) != 0)
        return -1;
    if (out->count == 0)
        return 0;
    PGresult *by_type =
        pg_run(store, PG_SQL_BACKLOG_BY_TYPE, &params, "backlog by type", err, errlen);
    if (by_type == NULL)
        return -1;
    for (int row = 0; row < PQntuples(by_type) && out->type_count < ALERT_TYPES_MAX; row++) {
        pg_column_copy(by_type, row, 0, out->by_type[out->type_count].business_type,
                     sizeof out->by_type[0].business_type);
        out->by_type[out->type_count++].count = pg_column_int64(by_type, row, 1);
    }
    PQclear(by_type);
    PGresult *sample = pg_run(store, PG_SQL_BACKLOG_SAMPLE, &params, "backlog sample", err, errlen);
    if (sample == NULL)
        return -1;
    for (int row = 0; row < PQntuples(sample) && out->sample_count < ALERT_SAMPLE_MAX; row++) {
        int64_t task_id = pg_column_int64(sample, row, 0);
        if (out->sample_count == 0) {
            out->oldest_task_id = task_id;
            out->oldest_moved_at = pg_column_int64(sample, row, 1);
        }
        out->sample_task_ids[out->sample_count++] = task_id;
    }
    PQclear(sample);
    return 0;
}

/* Runs SQL with PARAMS, which returns at most one row: STORE_OK with its
 * first column in *OUT (if OUT), STORE_NOT_FOUND without a row. */
static StoreResult pg_row_or_none(PgStore *store, PgSql sql, const PgParams *params,
                                  int64_t *out, const char *what, char *err, size_t errlen)
{
    PGresult *result = pg_run(store, sql, params, what, err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    bool found = PQntuples(result) > 0;
    if (found && out != NULL)
        *out = pg_column_int64(result, 0, 0);
    PQclear(result);
    return found ? STORE_OK : STORE_NOT_FOUND;
}

StoreResult pg_alert_insert(Store *base, const StoreFence *fence, const StoreAlertRecord *record,
                            int64_t *id, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, record->kind);
    pg_param_text(&params, record->instance);
    pg_param_text(&params, record->firing ? "firing" : "resolved");
    pg_param_int64(&params, record->count);
    pg_param_text(&params, record->details);
    pg_param_int64(&params, record->now);
    pg_param_text(&params, fence ? fence->holder : NULL);
    pg_param_int64(&params, fence ? fence->term : 0);
    pg_param_int64(&params, record->after_id);
    return pg_row_or_none(pg_of(base), PG_SQL_ALERT_INSERT, &params, id, "record alert", err,
                          errlen);
}

StoreResult pg_alert_claim(Store *base, const StoreFence *fence, int64_t id, int64_t now,
                           int64_t claim_ms, char *err, size_t errlen)
{
    (void)now; /* the claim's end is on the server's clock */
    PgParams params = {0};
    pg_param_int64(&params, id);
    pg_param_text(&params, fence->holder);
    pg_param_int64(&params, fence->term);
    pg_param_int64(&params, claim_ms);
    return pg_row_or_none(pg_of(base), PG_SQL_ALERT_CLAIM, &params, NULL, "claim alert", err,
                          errlen);
}

int pg_alert_mark(Store *base, const StoreFence *fence, const StoredAlert *alert, char *err,
                  size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, alert->id);
    /* 0 stays NULL: not (yet) sent. */
    pg_param_int64_or_null(&params, alert->webhook_sent_at);
    pg_param_int64_or_null(&params, alert->command_sent_at);
    pg_param_int64_or_null(&params, alert->sent_at);
    pg_param_text(&params, alert->send_error);
    pg_param_text(&params, fence->holder);
    pg_param_int64(&params, fence->term);
    return pg_run_done(pg_of(base), PG_SQL_ALERT_SENT, &params, "mark alert", err, errlen);
}

/* ---- leadership (store_leader.c runs the transactions) ---- */

int pg_leader_acquire(Store *base, const char *holder, int64_t now, int64_t lease_ms,
                      int64_t *term, char *err, size_t errlen)
{
    (void)now; /* the lease is on the server's clock */
    PgParams params = {0};
    pg_param_text(&params, holder);
    pg_param_int64(&params, lease_ms);
    *term = 0;
    return pg_row_or_none(pg_of(base), PG_SQL_LEADER_ACQUIRE, &params, term, "take the lead",
                          err, errlen) == STORE_ERROR
               ? -1
               : 0;
}

int pg_leader_release(Store *base, const StoreFence *fence, int64_t now, char *err,
                      size_t errlen)
{
    (void)now;
    PgParams params = {0};
    pg_param_text(&params, fence->holder);
    pg_param_int64(&params, fence->term);
    return pg_run_done(pg_of(base), PG_SQL_LEADER_RELEASE, &params, "give up the lead", err,
                       errlen);
}

int pg_leader_hold(Store *base, const StoreFence *fence, int64_t now, bool *held, char *err,
                   size_t errlen)
{
    (void)now;
    PgParams params = {0};
    pg_param_text(&params, fence->holder);
    pg_param_int64(&params, fence->term);
    StoreResult found = pg_row_or_none(pg_of(base), PG_SQL_LEADER_HOLD, &params, NULL,
                                       "check the lead", err, errlen);
    *held = found == STORE_OK;
    return found == STORE_ERROR ? -1 : 0;
}

static int pg_alert_read(const PGresult *result, int row, void *element)
{
    StoredAlert *out = element;
    out->id = pg_column_int64(result, row, 0);
    pg_column_copy(result, row, 1, out->kind, sizeof out->kind);
    char state[16];
    pg_column_copy(result, row, 2, state, sizeof state);
    out->firing = strcmp(state, "firing") == 0;
    out->count = pg_column_int64(result, row, 3);
    out->created_at = pg_column_int64(result, row, 5);
    out->sent_at = pg_column_int64(result, row, 6);
    out->webhook_sent_at = pg_column_int64(result, row, 8);
    out->command_sent_at = pg_column_int64(result, row, 9);
    pg_column_copy(result, row, 10, out->instance, sizeof out->instance);
    if (pg_column_text(result, row, 4, &out->details, NULL) != 0 ||
        pg_column_text(result, row, 7, &out->send_error, NULL) != 0)
        return -1;
    return 0;
}

static void pg_alert_clear(void *element)
{
    stored_alert_clear(element);
}

/* Runs SQL with PARAMS into a new array of alerts. */
static int pg_alert_collect(PgStore *store, PgSql sql, const PgParams *params, StoredAlert **out,
                            size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    PGresult *result = pg_run(store, sql, params, "list alerts", err, errlen);
    if (result == NULL)
        return -1;
    void *alerts = NULL;
    if (pg_collect_rows(result, sizeof(StoredAlert), pg_alert_read, pg_alert_clear,
                        "list alerts", &alerts, count, err, errlen) != 0)
        return -1;
    *out = alerts;
    return 0;
}

int pg_alert_unsent(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    return pg_alert_collect(pg_of(base), PG_SQL_ALERT_UNSENT, NULL, out, count, err, errlen);
}

int pg_alert_list(Store *base, int64_t before, int limit, StoredAlert **out, size_t *count,
                  char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, before);
    pg_param_int64(&params, limit);
    return pg_alert_collect(pg_of(base), PG_SQL_ALERT_LIST, &params, out, count, err, errlen);
}

int pg_alert_firing(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    return pg_alert_collect(pg_of(base), PG_SQL_ALERT_FIRING, NULL, out, count, err, errlen);
}

int pg_alert_latest(Store *base, const char *kind, const char *instance, StoredAlert **out,
                    size_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, kind);
    pg_param_text(&params, instance);
    return pg_alert_collect(pg_of(base), PG_SQL_ALERT_LATEST, &params, out, count, err, errlen);
}

int pg_retention_boundary(Store *base, int64_t cutoff, int64_t *boundary, char *err,
                          size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, cutoff);
    *boundary = INT64_MAX;
    return pg_single_int64(pg_of(base), PG_SQL_RETENTION_BOUNDARY, &params, boundary,
                           "retention boundary", err, errlen);
}

int pg_retention_select(Store *base, StoreRetentionSet set, int64_t cutoff, int64_t boundary,
                        size_t limit, int64_t *ids, size_t *count, char *err, size_t errlen)
{
    PgSql sql = set == STORE_RETENTION_SUCCEEDED  ? PG_SQL_RETENTION_SUCCEEDED
                : set == STORE_RETENTION_RESOLVED ? PG_SQL_RETENTION_RESOLVED
                                                  : PG_SQL_RETENTION_ALERTS;
    *count = 0;
    PgParams params = {0};
    pg_param_int64(&params, cutoff);
    if (set != STORE_RETENTION_ALERTS) /* alerts are not bound by task ids */
        pg_param_int64(&params, boundary);
    pg_param_int64(&params, (int64_t)limit);
    PGresult *result = pg_run(pg_of(base), sql, &params, "retention", err, errlen);
    if (result == NULL)
        return -1;
    for (int row = 0; row < PQntuples(result) && *count < limit; row++)
        ids[(*count)++] = pg_column_int64(result, row, 0);
    PQclear(result);
    return 0;
}

/* Runs SQL with IDS as its one array parameter and adds what it deleted to
 * *DELETED (the count it returns, or the rows it deleted). */
static int pg_retention_delete(PgStore *store, PgSql sql, const int64_t *ids, size_t count,
                               int64_t *deleted, char *err, size_t errlen)
{
    PgArray array;
    int status = pg_array_init(&array, PG_OID_INT8);
    for (size_t i = 0; i < count && status == 0; i++)
        status = pg_array_add_int8(&array, ids[i]);
    if (status != 0) {
        pg_array_free(&array);
        snprintf(err, errlen, "retention: out of memory");
        return -1;
    }
    PgParams params = {0};
    pg_param_array(&params, &array);
    PGresult *result = pg_run(store, sql, &params, "retention", err, errlen);
    pg_array_free(&array);
    if (result == NULL)
        return -1;
    if (PQntuples(result) == 1 && PQnfields(result) == 1)
        *deleted += pg_column_int64(result, 0, 0);
    else
        *deleted += atoll(PQcmdTuples(result));
    PQclear(result);
    return 0;
}

int pg_retention_delete_tasks(Store *base, const int64_t *ids, size_t count, int64_t *deleted,
                              char *err, size_t errlen)
{
    return pg_retention_delete(pg_of(base), PG_SQL_RETENTION_DELETE_TASKS, ids, count, deleted,
                               err, errlen);
}

int pg_retention_delete_alerts(Store *base, const int64_t *ids, size_t count, int64_t *deleted,
                               char *err, size_t errlen)
{
    return pg_retention_delete(pg_of(base), PG_SQL_RETENTION_DELETE_ALERTS, ids, count, deleted,
                               err, errlen);
}

/* ---- instances ---- */

int pg_instance_beat(Store *base, const StoreInstance *instance, int64_t forget_before, char *err,
                     size_t errlen)
{
    PgStore *store = pg_of(base);
    PgParams params = {0};
    pg_param_text(&params, instance->id);
    pg_param_text(&params, instance->host);
    pg_param_int64(&params, instance->pid);
    pg_param_text(&params, instance->version);
    pg_param_int64(&params, instance->started_at);
    pg_param_int64(&params, instance->heartbeat_at);
    pg_param_bool(&params, instance->leader);
    pg_param_int64(&params, instance->deliveries);
    pg_param_int64(&params, store->schema_known);
    PgParams forget = {0};
    pg_param_int64(&forget, forget_before);
    return pg_run_done(store, PG_SQL_INSTANCE_BEAT, &params, "instance heartbeat", err, errlen) ||
                   pg_run_done(store, PG_SQL_INSTANCE_FORGET, &forget, "forget instances", err,
                               errlen)
               ? -1
               : 0;
}

int pg_instance_leave(Store *base, const char *id, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, id);
    return pg_run_done(pg_of(base), PG_SQL_INSTANCE_LEAVE, &params, "instance leaves", err,
                       errlen);
}

static void pg_instance_clear(void *element)
{
    (void)element; /* no allocations of its own */
}

static int pg_instance_read(const PGresult *result, int row, void *element)
{
    StoreInstance *out = element;
    pg_column_copy(result, row, 0, out->id, sizeof out->id);
    pg_column_copy(result, row, 1, out->host, sizeof out->host);
    out->pid = pg_column_int64(result, row, 2);
    pg_column_copy(result, row, 3, out->version, sizeof out->version);
    out->started_at = pg_column_int64(result, row, 4);
    out->heartbeat_at = pg_column_int64(result, row, 5);
    out->leader = pg_column_bool(result, row, 6);
    out->deliveries = pg_column_int64(result, row, 7);
    return 0;
}

int pg_instance_list(Store *base, int64_t now, StoreInstance **out, size_t *count, char *err,
                     size_t errlen)
{
    (void)now; /* leases are on the server's clock */
    *out = NULL;
    *count = 0;
    PGresult *result = pg_run(pg_of(base), PG_SQL_INSTANCE_LIST, NULL, "list instances", err,
                              errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StoreInstance), pg_instance_read, pg_instance_clear,
                        "list instances",
                        &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}
