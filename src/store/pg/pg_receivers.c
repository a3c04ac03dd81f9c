/*
 * store/pg_receivers: receivers an operator paused, on PostgreSQL: the
 * list, a pause, a resume and the audit rows (store_receivers.c runs them).
 * The claim statement (pg_sql.c) reads the same rows, so a pause holds for
 * every heraldd sharing the database from its commit on.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pg.h"

static int pg_paused_read(const PGresult *result, int row, void *element)
{
    StorePaused *paused = element;
    paused->paused_at = pg_column_int64(result, row, 1);
    if (pg_column_text(result, row, 0, &paused->receiver, NULL) != 0 ||
        pg_column_text(result, row, 2, &paused->paused_by, NULL) != 0 ||
        pg_column_text(result, row, 3, &paused->note, NULL) != 0)
        return -1;
    return 0;
}

static void pg_paused_clear(void *element)
{
    StorePaused *paused = element;
    free(paused->receiver);
    free(paused->paused_by);
    free(paused->note);
    *paused = (StorePaused){0};
}

int pg_paused_list(Store *base, StorePaused **out, size_t *count, char *err, size_t errlen)
{
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_PAUSED_LIST, NULL, "list paused receivers", err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StorePaused), pg_paused_read, pg_paused_clear,
                        "list paused receivers", &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

/* Runs SQL, which returns the receiver's key only if it changed the row. */
static int pg_receiver_change(Store *base, PgSql sql, const PgParams *params, bool *changed,
                              const char *what, char *err, size_t errlen)
{
    *changed = false;
    PGresult *result = pg_run(pg_of(base), sql, params, what, err, errlen);
    if (result == NULL)
        return -1;
    *changed = PQntuples(result) > 0;
    PQclear(result);
    return 0;
}

int pg_receiver_pause(Store *base, const char *receiver, const char *actor, const char *note,
                      int64_t now, bool *changed, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, now);
    pg_param_text(&params, actor);
    pg_param_text(&params, note);
    return pg_receiver_change(base, PG_SQL_RECEIVER_PAUSE, &params, changed, "pause receiver",
                              err, errlen);
}

int pg_receiver_resume(Store *base, const char *receiver, int64_t now, bool *changed, char *err,
                       size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, now);
    return pg_receiver_change(base, PG_SQL_RECEIVER_RESUME, &params, changed, "resume receiver",
                              err, errlen);
}

int pg_receiver_action_insert(Store *base, const char *receiver, const char *action,
                              const char *actor, const char *note, int64_t now, char *err,
                              size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_text(&params, action);
    pg_param_text(&params, actor);
    pg_param_text(&params, note);
    pg_param_int64(&params, now);
    return pg_run_done(pg_of(base), PG_SQL_RECEIVER_ACTION_INSERT, &params,
                       "record receiver action", err, errlen);
}

static int pg_receiver_action_read(const PGresult *result, int row, void *element)
{
    StoreReceiverAction *action = element;
    action->id = pg_column_int64(result, row, 0);
    pg_column_copy(result, row, 1, action->action, sizeof action->action);
    action->created_at = pg_column_int64(result, row, 4);
    if (pg_column_text(result, row, 2, &action->actor, NULL) != 0 ||
        pg_column_text(result, row, 3, &action->note, NULL) != 0)
        return -1;
    return 0;
}

static void pg_receiver_action_clear(void *element)
{
    StoreReceiverAction *action = element;
    free(action->actor);
    free(action->note);
    action->actor = action->note = NULL;
}

int pg_receiver_action_list(Store *base, const char *receiver, int64_t before, int limit,
                            StoreReceiverAction **out, size_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, before);
    pg_param_int64(&params, limit);
    PGresult *result = pg_run(pg_of(base), PG_SQL_RECEIVER_ACTION_LIST, &params,
                              "list receiver actions", err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StoreReceiverAction), pg_receiver_action_read,
                        pg_receiver_action_clear, "list receiver actions", &rows, count, err,
                        errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}

int pg_older_instances(Store *base, int version, int64_t *count, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, version);
    PGresult *result = pg_run(pg_of(base), PG_SQL_OLDER_INSTANCES, &params,
                              "count heraldd of earlier releases", err, errlen);
    if (result == NULL)
        return -1;
    *count = PQntuples(result) > 0 ? pg_column_int64(result, 0, 0) : 0;
    PQclear(result);
    return 0;
}
