/*
 * store/pg_redelivery: redelivery jobs on PostgreSQL (store_redelivery.c
 * runs them): the filter's count and next tasks, the job's row. A job's
 * lease is on the server's clock, which every heraldd sharing the database
 * compares alike. The table comes with migration 015 (held back while a
 * heraldd of an earlier release beats): redelivery_ready says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* The id range and FILTER's terms ($1 .. $9; NULL: any). */
static void pg_redelivery_match(PgParams *params, const RedeliveryFilter *filter,
                                int64_t after_id, int64_t through_id)
{
    pg_param_int64(params, after_id);
    pg_param_int64(params, through_id);
    pg_param_text(params, filter->task_status);
    pg_param_text(params, filter->business_type);
    pg_param_text(params, filter->receiver);
    pg_param_text(params, filter->url_prefix);
    pg_param_int64_or_null(params, filter->created_from);
    pg_param_int64_or_null(params, filter->created_to);
    pg_param_text(params, filter->error_class);
}

/* Runs SQL (one integer) into *OUT. */
static int pg_redelivery_int64(PgStore *store, PgSql sql, PgParams *params, int64_t *out,
                               const char *what, char *err, size_t errlen)
{
    PGresult *result = pg_run(store, sql, params, what, err, errlen);
    if (result == NULL)
        return -1;
    *out = PQntuples(result) > 0 ? pg_column_int64(result, 0, 0) : 0;
    PQclear(result);
    return 0;
}

int pg_redelivery_count(Store *base, const RedeliveryFilter *filter, int64_t after_id,
                        int64_t through_id, int64_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_redelivery_match(&params, filter, after_id, through_id);
    return pg_redelivery_int64(pg_of(base), PG_SQL_REDELIVERY_COUNT, &params, count,
                               "count a redelivery's tasks", err, errlen);
}

int pg_task_newest_id(Store *base, int64_t *id, char *err, size_t errlen)
{
    return pg_redelivery_int64(pg_of(base), PG_SQL_TASK_NEWEST, NULL, id, "read the newest task",
                               err, errlen);
}

int pg_redelivery_insert(Store *base, RedeliveryJob *job, int64_t now, char *err, size_t errlen)
{
    PgParams params = {0};
    const RedeliveryFilter *filter = &job->filter;
    pg_param_text(&params, filter->business_type);
    pg_param_text(&params, filter->receiver);
    pg_param_text(&params, filter->url_prefix);
    pg_param_text(&params, filter->task_status);
    pg_param_text(&params, filter->error_class);
    pg_param_int64_or_null(&params, filter->created_from);
    pg_param_int64_or_null(&params, filter->created_to);
    pg_param_bool(&params, job->full_schedule);
    pg_param_int64(&params, job->pace);
    pg_param_text(&params, job->reason);
    pg_param_text(&params, job->actor);
    pg_param_int64(&params, job->through_id);
    pg_param_int64(&params, job->matched);
    pg_param_int64(&params, now);
    if (pg_redelivery_int64(pg_of(base), PG_SQL_REDELIVERY_INSERT, &params, &job->id,
                            "create a redelivery job", err, errlen) != 0)
        return -1;
    snprintf(job->state, sizeof job->state, "running");
    job->created_at = job->updated_at = now;
    return 0;
}

int pg_redelivery_running(Store *base, const RedeliveryFilter *filter, int64_t *id, char *err,
                          size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, filter->task_status);
    pg_param_text(&params, filter->business_type);
    pg_param_text(&params, filter->receiver);
    pg_param_text(&params, filter->url_prefix);
    pg_param_int64_or_null(&params, filter->created_from);
    pg_param_int64_or_null(&params, filter->created_to);
    pg_param_text(&params, filter->error_class);
    return pg_redelivery_int64(pg_of(base), PG_SQL_REDELIVERY_RUNNING, &params, id,
                               "look for a running redelivery job", err, errlen);
}

static int pg_redelivery_read(const PGresult *result, int row, void *element)
{
    RedeliveryJob *job = element;
    job->id = pg_column_int64(result, row, 0);
    snprintf(job->state, sizeof job->state, "%s", PQgetvalue(result, row, 1));
    snprintf(job->filter.task_status, sizeof job->filter.task_status, "%s",
             PQgetvalue(result, row, 5));
    job->filter.created_from = pg_column_int64(result, row, 7);
    job->filter.created_to = pg_column_int64(result, row, 8);
    job->full_schedule = pg_column_bool(result, row, 9);
    job->pace = pg_column_int64(result, row, 10);
    job->through_id = pg_column_int64(result, row, 14);
    job->cursor_id = pg_column_int64(result, row, 15);
    job->matched = pg_column_int64(result, row, 16);
    job->sent = pg_column_int64(result, row, 17);
    job->skipped = pg_column_int64(result, row, 18);
    job->created_at = pg_column_int64(result, row, 19);
    job->updated_at = pg_column_int64(result, row, 20);
    job->finished_at = pg_column_int64(result, row, 21);
    if (pg_column_text(result, row, 2, &job->filter.business_type, NULL) != 0 ||
        pg_column_text(result, row, 3, &job->filter.receiver, NULL) != 0 ||
        pg_column_text(result, row, 4, &job->filter.url_prefix, NULL) != 0 ||
        pg_column_text(result, row, 6, &job->filter.error_class, NULL) != 0 ||
        pg_column_text(result, row, 11, &job->reason, NULL) != 0 ||
        pg_column_text(result, row, 12, &job->actor, NULL) != 0 ||
        pg_column_text(result, row, 13, &job->cancelled_by, NULL) != 0)
        return -1;
    return 0;
}

static void pg_redelivery_clear(void *element)
{
    redelivery_job_clear(element);
}

/* Runs SQL for jobs into *OUT (*COUNT). */
static int pg_redelivery_rows(PgStore *store, PgSql sql, PgParams *params, const char *what,
                              RedeliveryJob **out, size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    PGresult *result = pg_run(store, sql, params, what, err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(RedeliveryJob), pg_redelivery_read, pg_redelivery_clear,
                        what, &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

/* SQL's one job, if any, into OUT. */
static StoreResult pg_redelivery_one(PgStore *store, PgSql sql, PgParams *params,
                                     const char *what, RedeliveryJob *out, char *err,
                                     size_t errlen)
{
    RedeliveryJob *jobs;
    size_t count;
    if (pg_redelivery_rows(store, sql, params, what, &jobs, &count, err, errlen) != 0)
        return STORE_ERROR;
    StoreResult found = count > 0 ? STORE_OK : STORE_NOT_FOUND;
    if (count > 0)
        *out = jobs[0];
    free(jobs);
    return found;
}

StoreResult pg_redelivery_get(Store *base, int64_t id, RedeliveryJob *out, char *err,
                              size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, id);
    return pg_redelivery_one(pg_of(base), PG_SQL_REDELIVERY_GET, &params,
                             "read a redelivery job", out, err, errlen);
}

int pg_redelivery_list(Store *base, int64_t before, int limit, RedeliveryJob **out,
                       size_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, before);
    pg_param_int64(&params, limit);
    return pg_redelivery_rows(pg_of(base), PG_SQL_REDELIVERY_LIST, &params,
                              "list redelivery jobs", out, count, err, errlen);
}

int pg_redelivery_cancel(Store *base, int64_t id, const char *actor, int64_t now, bool *changed,
                         char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, id);
    pg_param_text(&params, actor);
    pg_param_int64(&params, now);
    int64_t cancelled = 0;
    if (pg_redelivery_int64(pg_of(base), PG_SQL_REDELIVERY_CANCEL, &params, &cancelled,
                            "cancel a redelivery job", err, errlen) != 0)
        return -1;
    *changed = cancelled != 0;
    return 0;
}

StoreResult pg_redelivery_claim(Store *base, const char *token, int64_t lease_ms, int64_t now,
                                RedeliveryJob *out, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, token);
    pg_param_int64(&params, lease_ms);
    pg_param_int64(&params, now);
    return pg_redelivery_one(pg_of(base), PG_SQL_REDELIVERY_CLAIM, &params,
                             "claim a redelivery job", out, err, errlen);
}

StoreResult pg_redelivery_lock(Store *base, int64_t id, const char *token, int64_t *cursor_id,
                               char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, id);
    pg_param_text(&params, token);
    PGresult *result = pg_run(pg_of(base), PG_SQL_REDELIVERY_LOCK, &params,
                              "lock a redelivery job", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    StoreResult found = PQntuples(result) > 0 ? STORE_OK : STORE_NOT_FOUND;
    if (found == STORE_OK)
        *cursor_id = pg_column_int64(result, 0, 0);
    PQclear(result);
    return found;
}

static int pg_redelivery_task_read(const PGresult *result, int row, void *element)
{
    StoreRedeliveryTask *task = element;
    task->id = pg_column_int64(result, row, 0);
    pg_column_copy(result, row, 2, task->traceparent, sizeof task->traceparent);
    return pg_column_text(result, row, 1, &task->business_type, NULL);
}

static void pg_redelivery_task_clear(void *element)
{
    StoreRedeliveryTask *task = element;
    free(task->business_type);
    task->business_type = NULL;
}

int pg_redelivery_tasks(Store *base, const RedeliveryJob *job, int limit,
                        StoreRedeliveryTask **out, size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    PgParams params = {0};
    pg_redelivery_match(&params, &job->filter, job->cursor_id, job->through_id);
    pg_param_int64(&params, limit);
    PgSql tasks = pg_schema_has(pg_of(base), PG_SCHEMA_TRACE) ? PG_SQL_REDELIVERY_TASKS
                                                              : PG_SQL_REDELIVERY_TASKS_UNTRACED;
    PGresult *result = pg_run(pg_of(base), tasks, &params,
                              "choose a redelivery's tasks", err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StoreRedeliveryTask), pg_redelivery_task_read,
                        pg_redelivery_task_clear, "choose a redelivery's tasks", &rows, count,
                        err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

int pg_redelivery_lock_tasks(Store *base, const StoreRedeliveryTask *tasks, size_t count,
                             size_t *usable, char *err, size_t errlen)
{
    *usable = 0;
    PgArray ids;
    int status = pg_array_init(&ids, PG_OID_INT8);
    for (size_t i = 0; status == 0 && i < count; i++)
        status = pg_array_add_int8(&ids, tasks[i].id);
    if (status != 0) {
        pg_array_free(&ids);
        snprintf(err, errlen, "lock a redelivery's tasks: out of memory");
        return -1;
    }
    PgParams params = {0};
    pg_param_array(&params, &ids);
    PGresult *result = pg_run(pg_of(base), PG_SQL_REDELIVERY_LOCK_TASKS, &params,
                              "lock a redelivery's tasks", err, errlen);
    pg_array_free(&ids);
    if (result == NULL)
        return -1;
    int64_t first_held = pg_column_is_null(result, 0, 0) ? 0 : pg_column_int64(result, 0, 0);
    PQclear(result);
    while (*usable < count && (first_held == 0 || tasks[*usable].id < first_held))
        (*usable)++;
    return 0;
}

StoreResult pg_redelivery_advance(Store *base, const RedeliveryJob *job, const char *token,
                                  const StoreRedeliveryAdvance *advance, int64_t now, char *err,
                                  size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, job->id);
    pg_param_text(&params, token);
    pg_param_int64(&params, advance->cursor_id);
    pg_param_int64(&params, advance->sent);
    pg_param_int64(&params, advance->skipped);
    pg_param_bool(&params, advance->done);
    pg_param_int64(&params, advance->lease_ms);
    pg_param_int64(&params, now);
    int64_t moved = 0;
    if (pg_redelivery_int64(pg_of(base), PG_SQL_REDELIVERY_ADVANCE, &params, &moved,
                            "move a redelivery job on", err, errlen) != 0)
        return STORE_ERROR;
    return moved != 0 ? STORE_OK : STORE_NOT_FOUND;
}

bool pg_redelivery_ready(Store *base)
{
    return pg_schema_has(pg_of(base), PG_SCHEMA_REDELIVERY);
}
