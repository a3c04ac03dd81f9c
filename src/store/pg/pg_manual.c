/*
 * store/pg_manual: the PostgreSQL backend's manual-handling queries (see
 * store.h): the statements of retrying and resolving entries
 * (store_manual.c; the open entry is locked first, so two operators or two
 * heraldd repair a task once), and the actions log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

int pg_manual_open_id(Store *base, int64_t task_id, int64_t *entry_id, char *err,
                      size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    PGresult *result = pg_run(pg_of(base), PG_SQL_MANUAL_OPEN_ID, &params, "find open entry",
                              err, errlen);
    if (result == NULL)
        return -1;
    *entry_id = PQntuples(result) > 0 ? pg_column_int64(result, 0, 0) : 0;
    PQclear(result);
    return 0;
}

int pg_manual_close(Store *base, int64_t entry_id, const char *resolution, const char *note,
                    int64_t now, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, entry_id);
    pg_param_int64(&params, now);
    pg_param_text(&params, resolution);
    pg_param_text(&params, note);
    return pg_run_done(pg_of(base), PG_SQL_MANUAL_CLOSE, &params, "close entry", err, errlen);
}

int pg_action_insert(Store *base, int64_t task_id, const char *action, const char *actor,
                     const char *note, const char *details, int64_t now, char *err,
                     size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    pg_param_text(&params, action);
    pg_param_text(&params, actor);
    pg_param_text(&params, note);
    pg_param_text(&params, details);
    pg_param_int64(&params, now);
    return pg_run_done(pg_of(base), PG_SQL_ACTION_INSERT, &params, "record action", err,
                       errlen);
}

StoreResult pg_manual_retry_task(Store *base, int64_t task_id, const ManualRepair *repair,
                                 int64_t now, char **host, char *err, size_t errlen)
{
    *host = NULL;
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    pg_param_int64(&params, now);
    pg_param_int64(&params, repair->max_retry);
    pg_param_text(&params, repair->target_url);
    pg_param_text(&params, repair->target_url ? repair->target_host : NULL);
    pg_param_bool(&params, repair->payload != NULL);
    pg_param_bool(&params, repair->payload_is_json);
    pg_param_bytes(&params, repair->payload ? repair->payload : "", repair->payload_length);
    pg_param_bool(&params, repair->replace_headers);
    pg_param_text(&params, repair->headers_json);
    pg_param_bool(&params, repair->redeliver);
    pg_param_bool(&params, repair->hasten);
    pg_param_text(&params, repair->expect_status);
    /* From migration 016 the retry's schedule starts again (tasks.retry_base). */
    PgSql sql = pg_schema_has(pg_of(base), PG_SCHEMA_RETRY_BASE) ? PG_SQL_MANUAL_RETRY_TASK
                                                                 : PG_SQL_MANUAL_RETRY_TASK_NO_BASE;
    PGresult *result = pg_run(pg_of(base), sql, &params, "retry task", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    StoreResult found = STORE_NOT_FOUND; /* not failed (or succeeded, to redeliver) */
    if (PQntuples(result) > 0) {
        found = STORE_OK;
        if (pg_column_text(result, 0, 0, host, NULL) != 0) {
            snprintf(err, errlen, "retry: out of memory");
            found = STORE_ERROR;
        }
    }
    PQclear(result);
    return found;
}

static int pg_match_read(const PGresult *result, int row, void *element)
{
    ManualMatch *match = element;
    match->task_id = pg_column_int64(result, row, 0);
    match->entry_id = pg_column_int64(result, row, 2);
    pg_column_copy(result, row, 3, match->traceparent, sizeof match->traceparent);
    return pg_column_text(result, row, 1, &match->business_type, NULL);
}

static void pg_match_clear(void *element)
{
    ManualMatch *match = element;
    free(match->business_type);
    match->business_type = NULL;
}

int pg_manual_open_matching(Store *base, const ManualMatchFilter *filter, ManualMatch **out,
                            size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    PgParams params = {0};
    pg_param_text(&params, filter->business_type);
    pg_param_int64(&params, filter->since);
    pg_param_int64(&params, filter->until);
    pg_param_text(&params, filter->reason);
    pg_param_int64(&params, filter->through_id);
    PgSql matching = pg_schema_has(pg_of(base), PG_SCHEMA_TRACE) ? PG_SQL_MANUAL_MATCHING
                                                                 : PG_SQL_MANUAL_MATCHING_UNTRACED;
    PGresult *result = pg_run(pg_of(base), matching, &params, "match entries", err, errlen);
    if (result == NULL)
        return -1;
    void *matches = NULL;
    if (pg_collect_rows(result, sizeof(ManualMatch), pg_match_read, pg_match_clear,
                        "match entries", &matches, count, err, errlen) != 0)
        return -1;
    *out = matches;
    return 0;
}

static int pg_action_read(const PGresult *result, int row, void *element)
{
    ManualAction *action = element;
    action->id = pg_column_int64(result, row, 0);
    action->task_id = pg_column_int64(result, row, 1);
    pg_column_copy(result, row, 2, action->action, sizeof action->action);
    action->created_at = pg_column_int64(result, row, 6);
    if (pg_column_text(result, row, 3, &action->actor, NULL) != 0 ||
        pg_column_text(result, row, 4, &action->note, NULL) != 0 ||
        pg_column_text(result, row, 5, &action->details, NULL) != 0)
        return -1;
    return 0;
}

static void pg_action_clear(void *element)
{
    manual_action_clear(element);
}

int pg_action_list(Store *base, int64_t task_id, ManualAction **out, size_t *count, char *err,
                   size_t errlen)
{
    *out = NULL;
    *count = 0;
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_ACTION_LIST, &params, "list actions", err, errlen);
    if (result == NULL)
        return -1;
    void *actions = NULL;
    if (pg_collect_rows(result, sizeof(ManualAction), pg_action_read, pg_action_clear,
                        "list actions", &actions, count, err, errlen) != 0)
        return -1;
    *out = actions;
    return 0;
}
