/*
 * store/pg_manual: the PostgreSQL backend's manual-handling queries (see
 * store.h): listing entries, retrying and resolving them (the open entry is
 * locked first, so two operators or two heraldd repair a task once), and
 * the actions log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define PG_ENTRY_COLUMNS                                                                           \
    "m.id, m.task_id, t.business_id, t.business_type, t.target_url, m.reason, m.attempts,"         \
    " m.last_status_code, m.last_error, m.moved_at, m.state, m.resolved_at, m.resolution,"         \
    " m.note"

enum {
    PG_MANUAL_BY_TYPE = 1,
    PG_MANUAL_BY_TASK = 2,
    PG_MANUAL_BY_REASON = 4,
};

/* Assembled from fixed fragments by which filters are set (never from user
 * data): state (3 ways) x business type x task x reason. Parameters: after,
 * since, until, then type, task and reason when filtered, then the limit. */
static void pg_manual_list_text(const ManualFilter *filter, int flags, char *sql, size_t size)
{
    static const char *const states[] = {" AND m.state = 'open'", " AND m.state = 'resolved'", ""};
    int n = 3;
    char type[64] = "", task[64] = "", reason[64] = "";
    if (flags & PG_MANUAL_BY_TYPE)
        snprintf(type, sizeof type, " AND t.business_type = $%d::text", ++n);
    if (flags & PG_MANUAL_BY_TASK)
        snprintf(task, sizeof task, " AND m.task_id = $%d::bigint", ++n);
    if (flags & PG_MANUAL_BY_REASON)
        snprintf(reason, sizeof reason, " AND m.reason = $%d::text", ++n);
    snprintf(sql, size,
             "SELECT " PG_ENTRY_COLUMNS " FROM manual m JOIN tasks t ON t.id = m.task_id"
             " WHERE m.id > $1::bigint AND m.moved_at >= $2::bigint AND m.moved_at < $3::bigint"
             "%s%s%s%s ORDER BY m.id LIMIT $%d::integer",
             states[filter->state], type, task, reason, n + 1);
}

static int pg_entry_read(const PGresult *result, int row, void *element)
{
    ManualEntry *out = element;
    out->id = pg_column_int64(result, row, 0);
    out->task_id = pg_column_int64(result, row, 1);
    pg_column_copy(result, row, 5, out->reason, sizeof out->reason);
    out->attempts = (int)pg_column_int64(result, row, 6);
    out->last_status_code = (int)pg_column_int64(result, row, 7);
    out->moved_at = pg_column_int64(result, row, 9);
    char state[16];
    pg_column_copy(result, row, 10, state, sizeof state);
    out->open = strcmp(state, "open") == 0;
    out->resolved_at = pg_column_int64(result, row, 11);
    pg_column_copy(result, row, 12, out->resolution, sizeof out->resolution);
    if (pg_column_text(result, row, 2, &out->business_id, NULL) != 0 ||
        pg_column_text(result, row, 3, &out->business_type, NULL) != 0 ||
        pg_column_text(result, row, 4, &out->target_url, NULL) != 0 ||
        pg_column_text(result, row, 8, &out->last_error, NULL) != 0 ||
        pg_column_text(result, row, 13, &out->note, NULL) != 0)
        return -1;
    return 0;
}

static void pg_entry_clear(void *element)
{
    manual_entry_clear(element);
}

int pg_manual_list(Store *base, const ManualFilter *filter, ManualEntry **out, size_t *count,
                   char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    int flags = (filter->business_type ? PG_MANUAL_BY_TYPE : 0) |
                (filter->task_id > 0 ? PG_MANUAL_BY_TASK : 0) |
                (filter->reason ? PG_MANUAL_BY_REASON : 0);
    int variant = (int)filter->state * 8 + flags;
    char sql[1024];
    pg_manual_list_text(filter, flags, sql, sizeof sql);
    PgParams params = {0};
    pg_param_int64(&params, filter->after);
    pg_param_int64(&params, filter->since);
    pg_param_int64(&params, filter->until);
    if (flags & PG_MANUAL_BY_TYPE)
        pg_param_text(&params, filter->business_type);
    if (flags & PG_MANUAL_BY_TASK)
        pg_param_int64(&params, filter->task_id);
    if (flags & PG_MANUAL_BY_REASON)
        pg_param_text(&params, filter->reason);
    pg_param_int64(&params, filter->limit > 0 ? filter->limit : 1);
    PGresult *result = pg_run_slot(pg_of(base), PG_SLOT_MANUAL_LIST + variant, sql, &params,
                                   "list manual entries", err, errlen);
    if (result == NULL)
        return -1;
    void *entries = NULL;
    if (pg_collect_rows(result, sizeof(ManualEntry), pg_entry_read, pg_entry_clear,
                        "list manual entries", &entries, count, err, errlen) != 0)
        return -1;
    *out = entries;
    return 0;
}

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
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_MANUAL_RETRY_TASK, &params, "retry task", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    StoreResult found = STORE_NOT_FOUND; /* the task is not failed */
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
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_MANUAL_MATCHING, &params, "match entries", err, errlen);
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
