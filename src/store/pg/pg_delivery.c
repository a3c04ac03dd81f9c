/*
 * store/pg_delivery: the PostgreSQL backend's scheduler queries (see
 * store.h): which hosts have work, claiming a host's due tasks (FOR UPDATE
 * SKIP LOCKED), recording a turn's outcomes (one statement), recovering
 * attempts cut off by a crash, the attempt log and the gauges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "utf8.h"

static int pg_host_read(const PGresult *result, int row, void *element)
{
    StoreHost *host = element;
    host->next_due = pg_column_int64(result, row, 1);
    return pg_column_text(result, row, 0, &host->target_host, NULL);
}

static void pg_host_clear(void *element)
{
    StoreHost *host = element;
    free(host->target_host);
    host->target_host = NULL;
}

int pg_host_list_pending(Store *base, StoreHost **out, size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    PGresult *result = pg_run(pg_of(base), PG_SQL_HOSTS_PENDING, NULL, "list hosts", err, errlen);
    if (result == NULL)
        return -1;
    void *hosts = NULL;
    if (pg_collect_rows(result, sizeof(StoreHost), pg_host_read, pg_host_clear, "list hosts",
                        &hosts, count, err, errlen) != 0)
        return -1;
    *out = hosts;
    return 0;
}

StoreResult pg_host_next_due(Store *base, const char *host, int64_t *out, char *err,
                             size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, host);
    PGresult *result = pg_run(pg_of(base), PG_SQL_HOST_NEXT_DUE, &params, "next due", err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    StoreResult found = PQntuples(result) > 0 ? STORE_OK : STORE_NOT_FOUND;
    if (found == STORE_OK)
        *out = pg_column_int64(result, 0, 0);
    PQclear(result);
    return found;
}

int pg_claim_due(Store *base, const char *host, int64_t now, int64_t lease_ms,
                 const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                 size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, host);
    pg_param_int64(&params, now);
    pg_param_int64(&params, (int64_t)limit);
    pg_param_int64(&params, lease_ms);
    pg_param_text(&params, claim_token);
    PGresult *result = pg_run(pg_of(base), PG_SQL_CLAIM, &params, "claim", err, errlen);
    if (result == NULL)
        return -1;
    size_t rows = (size_t)PQntuples(result);
    if (rows > limit)
        rows = limit; /* LIMIT rules it out */
    for (size_t i = 0; i < rows; i++)
        if (pg_task_read(result, (int)i, &out[*count + i]) != 0) {
            for (size_t j = 0; j < i; j++)
                task_clear(&out[*count + j]);
            PQclear(result);
            snprintf(err, errlen, "claim: out of memory");
            return -1;
        }
    PQclear(result);
    *count += rows;
    return 0;
}

int pg_claim_count(Store *base, const char *claim_token, int64_t task_id, int64_t *count,
                   char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, claim_token);
    pg_param_int64(&params, task_id);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_CLAIM_COUNT, &params, "read a claim back", err, errlen);
    if (result == NULL)
        return -1;
    *count = pg_column_int64(result, 0, 0);
    PQclear(result);
    return 0;
}

/* The text columns must hold UTF-8; a message herald cut to fit may end
 * inside a character, and PostgreSQL refuses that where SQLite stores it. */
static void pg_fit_utf8(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text);
    utf8_repair(out);
}

/* The arrays of PG_SQL_OUTCOME, in its order. */
enum { PG_OUTCOME_COLUMNS = 15 };
static const Oid pg_outcome_types[PG_OUTCOME_COLUMNS] = {
    PG_OID_INT8, PG_OID_INT4, PG_OID_INT8, PG_OID_INT8, PG_OID_INT4, PG_OID_TEXT, PG_OID_TEXT,
    PG_OID_BYTEA, PG_OID_BOOL, PG_OID_TEXT, PG_OID_INT8, PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT,
    PG_OID_TEXT,
};

static int pg_text_element(PgArray *array, const char *text)
{
    return pg_array_add(array, text, text ? strlen(text) : 0);
}

static int pg_outcome_add(PgArray *columns, const AttemptOutcome *outcome)
{
    static const char *const statuses[] = {
        [ATTEMPT_OUTCOME_SUCCEEDED] = "succeeded",
        [ATTEMPT_OUTCOME_RETRY] = "pending",
        [ATTEMPT_OUTCOME_MANUAL] = "failed",
    };
    const Attempt *attempt = &outcome->attempt;
    char message[ATTEMPT_ERROR_MESSAGE_MAX];
    char last_error[ATTEMPT_ERROR_CLASS_MAX + ATTEMPT_ERROR_MESSAGE_MAX + 4];
    char described[sizeof last_error];
    pg_fit_utf8(message, sizeof message, attempt->error_message);
    attempt_describe(attempt, described, sizeof described);
    pg_fit_utf8(last_error, sizeof last_error, described);
    bool failed = attempt->error_class[0] != '\0';
    int32_t status_code = attempt->status_code;
    int status = pg_array_add_int8(&columns[0], attempt->task_id);
    status |= pg_array_add_int4(&columns[1], attempt->attempt);
    status |= pg_array_add_int8(&columns[2], attempt->started_at);
    status |= pg_array_add_int8(&columns[3], attempt->duration_ms);
    status |= status_code != 0 ? pg_array_add_int4(&columns[4], status_code)
                               : pg_array_add(&columns[4], NULL, 0);
    status |= pg_text_element(&columns[5], failed ? attempt->error_class : NULL);
    status |= pg_text_element(&columns[6], failed ? message : NULL);
    status |= pg_array_add(&columns[7], attempt->response_body, attempt->response_length);
    status |= pg_array_add_bool(&columns[8], attempt->response_truncated);
    status |= pg_text_element(&columns[9], statuses[outcome->kind]);
    status |= pg_array_add_int8(&columns[10], outcome->next_attempt_at);
    status |= pg_text_element(&columns[11], last_error[0] ? last_error : NULL);
    status |= pg_text_element(&columns[12], outcome->kind == ATTEMPT_OUTCOME_MANUAL
                                                ? outcome->manual_reason
                                                : NULL);
    status |= pg_text_element(&columns[13], attempt->receiver);
    status |= pg_text_element(&columns[14], outcome->claim_token);
    return status;
}

int pg_record_outcomes(Store *base, AttemptOutcome *outcomes, size_t count, int64_t now, char *err,
                       size_t errlen)
{
    if (count == 0)
        return 0;
    PgArray columns[PG_OUTCOME_COLUMNS];
    int status = 0;
    for (int i = 0; i < PG_OUTCOME_COLUMNS; i++)
        status |= pg_array_init(&columns[i], pg_outcome_types[i]);
    for (size_t i = 0; i < count && status == 0; i++)
        status = pg_outcome_add(columns, &outcomes[i]);
    PGresult *result = NULL;
    if (status != 0) {
        snprintf(err, errlen, "record outcomes: out of memory");
    } else {
        PgParams params = {0};
        for (int i = 0; i < PG_OUTCOME_COLUMNS; i++)
            pg_param_array(&params, &columns[i]);
        pg_param_int64(&params, now);
        result = pg_run(pg_of(base), PG_SQL_OUTCOME, &params, "record outcomes", err, errlen);
    }
    for (int i = 0; i < PG_OUTCOME_COLUMNS; i++)
        pg_array_free(&columns[i]);
    if (result == NULL)
        return -1;
    /* The statement returns the ordinals of the outcomes that applied. */
    for (size_t i = 0; i < count; i++)
        outcomes[i].fenced = true;
    for (int row = 0; row < PQntuples(result); row++) {
        int64_t ordinal = pg_column_int64(result, row, 0);
        if (ordinal >= 1 && ordinal <= (int64_t)count)
            outcomes[ordinal - 1].fenced = false;
    }
    PQclear(result);
    return 0;
}

int pg_recover_interrupted(Store *base, int64_t now, StoreRescueScope scope, int *recovered,
                           int *moved, char *err, size_t errlen)
{
    PgParams params = {0};
    pg_param_int64(&params, now);
    pg_param_bool(&params, scope == STORE_RESCUE_ALL);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_RESCUE, &params, "rescue interrupted tasks", err, errlen);
    if (result == NULL)
        return -1;
    *recovered = (int)pg_column_int64(result, 0, 0);
    *moved = (int)pg_column_int64(result, 0, 1);
    PQclear(result);
    return 0;
}

static int pg_attempt_read(const PGresult *result, int row, void *element)
{
    Attempt *out = element;
    out->task_id = pg_column_int64(result, row, 0);
    out->attempt = (int)pg_column_int64(result, row, 1);
    out->started_at = pg_column_int64(result, row, 2);
    out->duration_ms = pg_column_int64(result, row, 3);
    out->status_code = (int)pg_column_int64(result, row, 4);
    pg_column_copy(result, row, 5, out->error_class, sizeof out->error_class);
    pg_column_copy(result, row, 6, out->error_message, sizeof out->error_message);
    out->response_truncated = pg_column_bool(result, row, 8);
    return pg_column_text(result, row, 7, &out->response_body, &out->response_length) != 0 ||
                   pg_column_text(result, row, 9, &out->receiver, NULL) != 0
               ? -1
               : 0;
}

static void pg_attempt_clear(void *element)
{
    attempt_clear(element);
}

int pg_attempt_list(Store *base, int64_t task_id, Attempt **out, size_t *count, char *err,
                    size_t errlen)
{
    *out = NULL;
    *count = 0;
    PgParams params = {0};
    pg_param_int64(&params, task_id);
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_ATTEMPT_LIST, &params, "list attempts", err, errlen);
    if (result == NULL)
        return -1;
    void *attempts = NULL;
    if (pg_collect_rows(result, sizeof(Attempt), pg_attempt_read, pg_attempt_clear,
                        "list attempts", &attempts, count, err, errlen) != 0)
        return -1;
    *out = attempts;
    return 0;
}

int pg_database_health(Store *base, StoreDatabaseHealth *out, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    PGresult *result = pg_run(store, PG_SQL_DEAD_TUPLES, NULL, "dead tuples", err, errlen);
    if (result == NULL)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        char name[32];
        pg_column_copy(result, row, 0, name, sizeof name);
        for (int i = 0; i < STORE_HEALTH_TABLES; i++) {
            if (strcmp(name, store_health_tables[i]) == 0)
                out->dead_tuples[i] = pg_column_int64(result, row, 1);
        }
    }
    PQclear(result);
    result = pg_run(store, PG_SQL_OLDEST_TRANSACTION, NULL, "oldest transaction", err, errlen);
    if (result == NULL)
        return -1;
    out->oldest_transaction_ms = pg_column_int64(result, 0, 0);
    PQclear(result);
    out->known = true;
    return 0;
}

int pg_count_gauges(Store *base, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                    size_t errlen)
{
    PgStore *store = pg_of(base);
    memset(tasks_by_status, 0, 4 * sizeof *tasks_by_status);
    *manual_open = 0;
    PGresult *result = pg_run(store, PG_SQL_COUNT_BY_STATUS, NULL, "count tasks", err, errlen);
    if (result == NULL)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        char name[16];
        TaskStatus status;
        pg_column_copy(result, row, 0, name, sizeof name);
        if (task_status_parse(name, &status) == 0)
            tasks_by_status[status] = pg_column_int64(result, row, 1);
    }
    PQclear(result);
    result = pg_run(store, PG_SQL_COUNT_MANUAL_OPEN, NULL, "count manual", err, errlen);
    if (result == NULL)
        return -1;
    *manual_open = pg_column_int64(result, 0, 0);
    PQclear(result);
    return 0;
}
