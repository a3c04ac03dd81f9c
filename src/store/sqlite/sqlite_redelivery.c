/*
 * store/sqlite_redelivery: redelivery jobs on SQLite (store_redelivery.c runs
 * them): the filter's count and next tasks, the job's row. One heraldd has
 * the database, so a lease is on its own clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

/* Binds VALUE to NAME, or NULL for 0: every term is bound every time (a
 * cached statement keeps its last bindings through a reset). */
static void sqlite_redelivery_bind_time(sqlite3_stmt *statement, const char *name,
                                        int64_t value)
{
    int index = sqlite3_bind_parameter_index(statement, name);
    if (index > 0 && value == 0)
        sqlite3_bind_null(statement, index);
    else if (index > 0)
        sqlite3_bind_int64(statement, index, value);
}

/* Binds FILTER's terms (NULL: any) and the id range. */
static void sqlite_redelivery_bind_match(sqlite3_stmt *statement, const RedeliveryFilter *filter,
                                         int64_t after_id, int64_t through_id)
{
    sqlite_bind_int64(statement, ":after", after_id);
    sqlite_bind_int64(statement, ":through", through_id);
    sqlite_bind_text(statement, ":status", filter->task_status);
    sqlite_bind_text(statement, ":type", filter->business_type);
    sqlite_bind_text(statement, ":receiver", filter->receiver);
    sqlite_bind_text(statement, ":prefix", filter->url_prefix);
    sqlite_bind_text(statement, ":class", filter->error_class);
    sqlite_redelivery_bind_time(statement, ":from", filter->created_from);
    sqlite_redelivery_bind_time(statement, ":to", filter->created_to);
}

int sqlite_redelivery_count(Store *base, const RedeliveryFilter *filter, int64_t after_id,
                            int64_t through_id, int64_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_COUNT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_redelivery_bind_match(statement, filter, after_id, through_id);
    *count = 0;
    return sqlite_single_int64(store, statement, count, "count a redelivery's tasks", err,
                               errlen);
}

int sqlite_task_newest_id(Store *base, int64_t *id, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_TASK_NEWEST, err, errlen);
    if (statement == NULL)
        return -1;
    *id = 0;
    return sqlite_single_int64(store, statement, id, "read the newest task", err, errlen);
}

int sqlite_redelivery_insert(Store *base, RedeliveryJob *job, int64_t now, char *err,
                             size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_INSERT, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_redelivery_bind_match(statement, &job->filter, 0, 0);
    sqlite_bind_int64(statement, ":full", job->full_schedule);
    sqlite_bind_int64(statement, ":pace", job->pace);
    sqlite_bind_text(statement, ":reason", job->reason);
    sqlite_bind_text(statement, ":actor", job->actor);
    sqlite_bind_int64(statement, ":through", job->through_id);
    sqlite_bind_int64(statement, ":matched", job->matched);
    sqlite_bind_int64(statement, ":now", now);
    if (sqlite_step_done(store, statement, "create a redelivery job", err, errlen) != 0)
        return -1;
    job->id = sqlite3_last_insert_rowid(store->db);
    snprintf(job->state, sizeof job->state, "running");
    job->created_at = job->updated_at = now;
    return 0;
}

int sqlite_redelivery_running(Store *base, const RedeliveryFilter *filter, int64_t *id,
                              char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_RUNNING, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_redelivery_bind_match(statement, filter, 0, 0);
    *id = 0;
    return sqlite_single_int64(store, statement, id, "look for a running redelivery job", err,
                               errlen);
}

static int sqlite_redelivery_read_row(sqlite3_stmt *statement, void *element)
{
    RedeliveryJob *job = element;
    job->id = sqlite3_column_int64(statement, 0);
    const unsigned char *state = sqlite3_column_text(statement, 1);
    snprintf(job->state, sizeof job->state, "%s", state ? (const char *)state : "");
    const unsigned char *status = sqlite3_column_text(statement, 5);
    snprintf(job->filter.task_status, sizeof job->filter.task_status, "%s",
             status ? (const char *)status : "");
    job->filter.created_from = sqlite3_column_int64(statement, 7);
    job->filter.created_to = sqlite3_column_int64(statement, 8);
    job->full_schedule = sqlite3_column_int(statement, 9) != 0;
    job->pace = sqlite3_column_int64(statement, 10);
    job->through_id = sqlite3_column_int64(statement, 14);
    job->cursor_id = sqlite3_column_int64(statement, 15);
    job->matched = sqlite3_column_int64(statement, 16);
    job->sent = sqlite3_column_int64(statement, 17);
    job->skipped = sqlite3_column_int64(statement, 18);
    job->created_at = sqlite3_column_int64(statement, 19);
    job->updated_at = sqlite3_column_int64(statement, 20);
    job->finished_at = sqlite3_column_int64(statement, 21);
    if (sqlite_column_text(statement, 2, &job->filter.business_type, NULL) != 0 ||
        sqlite_column_text(statement, 3, &job->filter.receiver, NULL) != 0 ||
        sqlite_column_text(statement, 4, &job->filter.url_prefix, NULL) != 0 ||
        sqlite_column_text(statement, 6, &job->filter.error_class, NULL) != 0 ||
        sqlite_column_text(statement, 11, &job->reason, NULL) != 0 ||
        sqlite_column_text(statement, 12, &job->actor, NULL) != 0 ||
        sqlite_column_text(statement, 13, &job->cancelled_by, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_redelivery_clear(void *element)
{
    redelivery_job_clear(element);
}

/* Runs STATEMENT (bound) for at most one job into OUT. */
static StoreResult sqlite_redelivery_one(SqliteStore *store, sqlite3_stmt *statement,
                                         RedeliveryJob *out, const char *what, char *err,
                                         size_t errlen)
{
    void *rows = NULL;
    size_t count = 0;
    if (sqlite_collect_rows(store, statement, sizeof(RedeliveryJob), sqlite_redelivery_read_row,
                            sqlite_redelivery_clear, what, &rows, &count, err, errlen) != 0)
        return STORE_ERROR;
    RedeliveryJob *jobs = rows;
    if (count == 0) {
        free(rows);
        return STORE_NOT_FOUND;
    }
    *out = jobs[0];
    free(rows);
    return STORE_OK;
}

StoreResult sqlite_redelivery_get(Store *base, int64_t id, RedeliveryJob *out, char *err,
                                  size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_GET, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":id", id);
    return sqlite_redelivery_one(store, statement, out, "read a redelivery job", err, errlen);
}

int sqlite_redelivery_list(Store *base, int64_t before, int limit, RedeliveryJob **out,
                           size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":before", before);
    sqlite_bind_int64(statement, ":limit", limit);
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(RedeliveryJob), sqlite_redelivery_read_row,
                            sqlite_redelivery_clear, "list redelivery jobs", &rows, count, err,
                            errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

int sqlite_redelivery_cancel(Store *base, int64_t id, const char *actor, int64_t now,
                             bool *changed, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_CANCEL, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":id", id);
    sqlite_bind_text(statement, ":actor", actor);
    sqlite_bind_int64(statement, ":now", now);
    int64_t cancelled = 0;
    if (sqlite_single_int64(store, statement, &cancelled, "cancel a redelivery job", err,
                            errlen) != 0)
        return -1;
    *changed = cancelled != 0;
    return 0;
}

StoreResult sqlite_redelivery_claim(Store *base, const char *token, int64_t lease_ms,
                                    int64_t now, RedeliveryJob *out, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_CLAIM, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_text(statement, ":token", token);
    sqlite_bind_int64(statement, ":lease", lease_ms);
    sqlite_bind_int64(statement, ":now", now);
    return sqlite_redelivery_one(store, statement, out, "claim a redelivery job", err, errlen);
}

StoreResult sqlite_redelivery_lock(Store *base, int64_t id, const char *token,
                                   int64_t *cursor_id, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_LOCK, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":id", id);
    sqlite_bind_text(statement, ":token", token);
    int64_t cursor = -1;
    if (sqlite_single_int64(store, statement, &cursor, "lock a redelivery job", err, errlen) != 0)
        return STORE_ERROR;
    if (cursor < 0)
        return STORE_NOT_FOUND;
    *cursor_id = cursor;
    return STORE_OK;
}

static int sqlite_redelivery_task_read(sqlite3_stmt *statement, void *element)
{
    StoreRedeliveryTask *task = element;
    task->id = sqlite3_column_int64(statement, 0);
    sqlite_column_copy(statement, 2, task->traceparent, sizeof task->traceparent);
    return sqlite_column_text(statement, 1, &task->business_type, NULL);
}

static void sqlite_redelivery_task_clear(void *element)
{
    StoreRedeliveryTask *task = element;
    free(task->business_type);
    task->business_type = NULL;
}

int sqlite_redelivery_tasks(Store *base, const RedeliveryJob *job, int limit,
                            StoreRedeliveryTask **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_TASKS, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_redelivery_bind_match(statement, &job->filter, job->cursor_id, job->through_id);
    sqlite_bind_int64(statement, ":limit", limit);
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoreRedeliveryTask),
                            sqlite_redelivery_task_read, sqlite_redelivery_task_clear,
                            "choose a redelivery's tasks", &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

StoreResult sqlite_redelivery_advance(Store *base, const RedeliveryJob *job, const char *token,
                                      const StoreRedeliveryAdvance *advance, int64_t now,
                                      char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_REDELIVERY_ADVANCE, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":id", job->id);
    sqlite_bind_text(statement, ":token", token);
    sqlite_bind_int64(statement, ":cursor", advance->cursor_id);
    sqlite_bind_int64(statement, ":sent", advance->sent);
    sqlite_bind_int64(statement, ":skipped", advance->skipped);
    sqlite_bind_int64(statement, ":done", advance->done);
    sqlite_bind_int64(statement, ":lease", advance->lease_ms);
    sqlite_bind_int64(statement, ":now", now);
    int64_t moved = 0;
    if (sqlite_single_int64(store, statement, &moved, "move a redelivery job on", err, errlen) !=
        0)
        return STORE_ERROR;
    return moved != 0 ? STORE_OK : STORE_NOT_FOUND;
}
