/*
 * store/pg_receivers: receivers an operator paused, on PostgreSQL: the
 * list, a pause, a resume and the audit rows (store_receivers.c runs them).
 * The claim statement (pg_sql.c) reads the same rows, so a pause holds for
 * every heraldd sharing the database from its commit on. And their circuit
 * breakers' rows and probe claim (store_breaker.c runs them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "pg_ordering.h"

static int pg_gate_read(const PGresult *result, int row, void *element)
{
    StoreGate *paused = element;
    paused->paused_at = pg_column_int64(result, row, 1);
    paused->paused = pg_column_bool(result, row, 4);
    paused->open = pg_column_bool(result, row, 5);
    paused->failures = (int)pg_column_int64(result, row, 6);
    paused->opened_at = pg_column_int64(result, row, 7);
    paused->next_probe_at = pg_column_int64(result, row, 8);
    paused->probe_until = pg_column_int64(result, row, 9);
    if (pg_column_text(result, row, 0, &paused->receiver, NULL) != 0 ||
        pg_column_text(result, row, 2, &paused->paused_by, NULL) != 0 ||
        pg_column_text(result, row, 3, &paused->note, NULL) != 0)
        return -1;
    return 0;
}

static void pg_gate_clear(void *element)
{
    StoreGate *paused = element;
    free(paused->receiver);
    free(paused->paused_by);
    free(paused->note);
    *paused = (StoreGate){0};
}

int pg_gate_list(Store *base, StoreGate **out, size_t *count, char *err, size_t errlen)
{
    if (!pg_schema_has(pg_of(base), PG_SCHEMA_RECEIVERS))
        return 0; /* none yet: pg.h */
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_GATE_LIST, NULL, "list paused receivers", err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StoreGate), pg_gate_read, pg_gate_clear,
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

/* ---- circuit breakers (store_breaker.c) ---- */

int pg_claim_probe(Store *base, const char *host, int64_t now, int64_t lease_ms,
                   const char *claim_token, Task *out, size_t *count, char *err, size_t errlen)
{
    if (!pg_schema_has(pg_of(base), PG_SCHEMA_RECEIVERS))
        return 0; /* no circuit yet: pg.h */
    PgParams params = {0};
    pg_param_text(&params, host);
    pg_param_int64(&params, now);
    pg_param_int64(&params, lease_ms);
    pg_param_text(&params, claim_token);
    /* From migration 014 a receiver's Retry-After hold (any heraldd's) holds its probe too. */
    PgSql sql = pg_schema_has(pg_of(base), PG_SCHEMA_TRACE) ? PG_SQL_CLAIM_PROBE
                : pg_schema_has(pg_of(base), PG_SCHEMA_ORDERING_COLUMNS) ? PG_SQL_CLAIM_PROBE_UNTRACED
                : pg_schema_has(pg_of(base), PG_SCHEMA_RETRY_BASE) ? PG_SQL_CLAIM_PROBE_UNORDERED
                : pg_schema_has(pg_of(base), PG_SCHEMA_RATES)    ? PG_SQL_CLAIM_PROBE_NO_BASE
                                                                 : PG_SQL_CLAIM_PROBE_UNHELD;
    PGresult *result = pg_run(pg_of(base), sql, &params, "claim a probe", err, errlen);
    if (result == NULL)
        return -1;
    int status = 0;
    if (PQntuples(result) > 0) { /* LIMIT 1 */
        if (pg_task_read(result, 0, &out[*count]) != 0) {
            snprintf(err, errlen, "claim a probe: out of memory");
            status = -1;
        } else if (pg_claim_read_extra(result, 0, &out[*count]) != 0) {
            task_clear(&out[*count]);
            snprintf(err, errlen, "claim a probe: out of memory");
            status = -1;
        } else {
            (*count)++;
        }
    }
    PQclear(result);
    return status;
}

int pg_breaker_read(Store *base, const char *receiver, bool lock, StoreBreaker *out,
                    bool *found, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    *found = false;
    PgParams params = {0};
    pg_param_text(&params, receiver);
    PGresult *result = pg_run(pg_of(base), lock ? PG_SQL_BREAKER_READ_LOCK : PG_SQL_BREAKER_READ,
                              &params, "read a receiver's breaker", err, errlen);
    if (result == NULL)
        return -1;
    if (PQntuples(result) > 0) {
        *found = true;
        out->open = pg_column_bool(result, 0, 0);
        out->failures = (int)pg_column_int64(result, 0, 1);
        out->opened_at = pg_column_int64(result, 0, 2);
        out->probe_interval_ms = pg_column_int64(result, 0, 3);
        if (!PQgetisnull(result, 0, 4))
            snprintf(out->probe_token, sizeof out->probe_token, "%s",
                     PQgetvalue(result, 0, 4));
    }
    PQclear(result);
    return 0;
}

int pg_breaker_ensure(Store *base, const char *receiver, int64_t now, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, now);
    PGresult *result = pg_run(pg_of(base), PG_SQL_BREAKER_ENSURE, &params,
                              "add a receiver's breaker", err, errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

int pg_breaker_write(Store *base, const char *receiver, const StoreBreakerWrite *write,
                     int64_t now, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_bool(&params, write->state.open);
    pg_param_int64(&params, write->state.failures);
    pg_param_int64(&params, write->state.opened_at);
    pg_param_int64(&params, write->state.probe_interval_ms);
    pg_param_int64(&params, write->probe_in_ms);
    pg_param_bool(&params, write->clear_probe);
    pg_param_bool(&params, write->closed);
    pg_param_int64(&params, now);
    PGresult *result = pg_run(pg_of(base), PG_SQL_BREAKER_WRITE, &params,
                              "write a receiver's breaker", err, errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

bool pg_breaker_ready(Store *base)
{
    return pg_schema_has(pg_of(base), PG_SCHEMA_RECEIVERS);
}
