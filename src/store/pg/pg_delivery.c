/*
 * store/pg_delivery: the PostgreSQL backend's scheduler queries (see
 * store.h): which hosts have work, claiming a host's due tasks (FOR UPDATE
 * SKIP LOCKED), the statements of an attempt's end (store_outcome.c; one
 * array-bound statement per step and chunk), the rescue's select, the
 * attempt log and the gauges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "pg_ordering.h"
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
    PgStore *store = pg_of(base);
    PgSql claim = pg_schema_has(store, PG_SCHEMA_TRACE)             ? PG_SQL_CLAIM
                  : pg_schema_has(store, PG_SCHEMA_ORDERING_COLUMNS) ? PG_SQL_CLAIM_UNTRACED
                  : pg_schema_has(store, PG_SCHEMA_RETRY_BASE) ? PG_SQL_CLAIM_UNORDERED
                  : pg_schema_has(store, PG_SCHEMA_RATES)     ? PG_SQL_CLAIM_NO_BASE
                  : pg_schema_has(store, PG_SCHEMA_RECEIVERS) ? PG_SQL_CLAIM_UNHELD
                                                              : PG_SQL_CLAIM_UNGATED;
    PGresult *result = pg_run(store, claim, &params, "claim", err, errlen);
    if (result == NULL)
        return -1;
    size_t rows = (size_t)PQntuples(result);
    if (rows > limit)
        rows = limit; /* LIMIT rules it out */
    for (size_t i = 0; i < rows; i++) {
        int read = pg_task_read(result, (int)i, &out[*count + i]);
        if (read == 0 && pg_claim_read_extra(result, (int)i, &out[*count + i]) != 0) {
            task_clear(&out[*count + i]);
            read = -1;
        }
        if (read != 0) {
            for (size_t j = 0; j < i; j++)
                task_clear(&out[*count + j]);
            PQclear(result);
            snprintf(err, errlen, "claim: out of memory");
            return -1;
        }
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

static int pg_text_element(PgArray *array, const char *text)
{
    return pg_array_add(array, text, text ? strlen(text) : 0);
}

/* Runs SQL, which takes COUNT arrays of TYPES (filled by ADD for each of
 * ROWS rows of ITEMS), then *NOW unless NULL: the statements of an
 * attempt's end, one per chunk. Returns its result, or NULL with ERR
 * naming WHAT. */
static PGresult *pg_run_rows(PgStore *store, PgSql sql, const Oid *types, int count,
                             int (*add)(PgArray *columns, const void *item), const void *items,
                             size_t item_size, size_t rows, const int64_t *now, const char *what,
                             char *err, size_t errlen)
{
    enum { PG_ROWS_COLUMNS_MAX = 12 };
    PgArray columns[PG_ROWS_COLUMNS_MAX];
    int status = count <= PG_ROWS_COLUMNS_MAX ? 0 : -1;
    int initialised = 0;
    for (; initialised < count && status == 0; initialised++)
        status = pg_array_init(&columns[initialised], types[initialised]);
    for (size_t i = 0; i < rows && status == 0; i++)
        status = add(columns, (const char *)items + i * item_size);
    PGresult *result = NULL;
    if (status != 0) {
        snprintf(err, errlen, "%s: out of memory", what);
    } else {
        PgParams params = {0};
        for (int i = 0; i < count; i++)
            pg_param_array(&params, &columns[i]);
        if (now != NULL)
            pg_param_int64(&params, *now);
        result = pg_run(store, sql, &params, what, err, errlen);
    }
    for (int i = 0; i < initialised; i++)
        pg_array_free(&columns[i]);
    return result;
}

/* PG_SQL_TASK_END's arrays, in its order. */
static const Oid pg_task_end_types[] = {PG_OID_INT8, PG_OID_INT4, PG_OID_TEXT, PG_OID_TEXT,
                                        PG_OID_INT8, PG_OID_INT4, PG_OID_TEXT, PG_OID_INT4};

static int pg_task_end_add(PgArray *columns, const void *item)
{
    const StoreTaskEnd *end = item;
    char last_error[ATTEMPT_ERROR_CLASS_MAX + ATTEMPT_ERROR_MESSAGE_MAX + 4];
    if (end->last_error != NULL)
        pg_fit_utf8(last_error, sizeof last_error, end->last_error);
    int status = pg_array_add_int8(&columns[0], end->task_id);
    status |= pg_array_add_int4(&columns[1], end->attempt);
    status |= pg_text_element(&columns[2], end->claim_token);
    status |= pg_text_element(&columns[3], end->status);
    status |= pg_array_add_int8(&columns[4], end->next_attempt_at);
    status |= end->last_status_code > 0 ? pg_array_add_int4(&columns[5], end->last_status_code)
                                        : pg_array_add(&columns[5], NULL, 0);
    status |= pg_text_element(&columns[6], end->last_error != NULL ? last_error : NULL);
    status |= pg_array_add_int4(&columns[7], end->extra_attempts);
    return status;
}

int pg_task_end(Store *base, StoreTaskEnd *ends, size_t count, int64_t now, char *err,
                size_t errlen)
{
    PGresult *result = pg_run_rows(pg_of(base), PG_SQL_TASK_END, pg_task_end_types,
                                   (int)(sizeof pg_task_end_types / sizeof *pg_task_end_types),
                                   pg_task_end_add, ends, sizeof *ends, count, &now,
                                   "end the tasks' attempts", err, errlen);
    if (result == NULL)
        return -1;
    /* The statement returns the ordinals of the ends that applied. */
    for (size_t i = 0; i < count; i++)
        ends[i].applied = false;
    for (int row = 0; row < PQntuples(result); row++) {
        int64_t ordinal = pg_column_int64(result, row, 0);
        if (ordinal >= 1 && ordinal <= (int64_t)count)
            ends[ordinal - 1].applied = true;
    }
    PQclear(result);
    return 0;
}

/* PG_SQL_ATTEMPT_INSERT's arrays, in its order. */
static const Oid pg_attempt_types[] = {PG_OID_INT8, PG_OID_INT4,  PG_OID_INT8, PG_OID_INT8,
                                       PG_OID_INT4, PG_OID_TEXT,  PG_OID_TEXT, PG_OID_BYTEA,
                                       PG_OID_BOOL, PG_OID_TEXT};

static int pg_attempt_add(PgArray *columns, const void *item)
{
    const Attempt *attempt = *(const Attempt *const *)item;
    char message[ATTEMPT_ERROR_MESSAGE_MAX];
    pg_fit_utf8(message, sizeof message, attempt->error_message);
    bool failed = attempt->error_class[0] != '\0';
    int status = pg_array_add_int8(&columns[0], attempt->task_id);
    status |= pg_array_add_int4(&columns[1], attempt->attempt);
    status |= pg_array_add_int8(&columns[2], attempt->started_at);
    status |= pg_array_add_int8(&columns[3], attempt->duration_ms);
    status |= attempt->status_code > 0 ? pg_array_add_int4(&columns[4], attempt->status_code)
                                       : pg_array_add(&columns[4], NULL, 0);
    status |= pg_text_element(&columns[5], failed ? attempt->error_class : NULL);
    status |= pg_text_element(&columns[6], failed ? message : NULL);
    status |= pg_array_add(&columns[7], attempt->response_body, attempt->response_length);
    status |= pg_array_add_bool(&columns[8], attempt->response_truncated);
    status |= pg_text_element(&columns[9], attempt->receiver);
    return status;
}

int pg_attempt_insert(Store *base, const Attempt *const *attempts, size_t count, char *err,
                      size_t errlen)
{
    PGresult *result = pg_run_rows(pg_of(base), PG_SQL_ATTEMPT_INSERT, pg_attempt_types,
                                   (int)(sizeof pg_attempt_types / sizeof *pg_attempt_types),
                                   pg_attempt_add, attempts, sizeof *attempts, count, NULL,
                                   "insert attempts", err, errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

int pg_manual_insert(Store *base, const int64_t *task_ids, const char *const *reasons,
                     size_t count, int64_t now, char *err, size_t errlen)
{
    PgArray ids, texts;
    int status = pg_array_init(&ids, PG_OID_INT8);
    status |= pg_array_init(&texts, PG_OID_TEXT);
    for (size_t i = 0; i < count && status == 0; i++)
        status = pg_array_add_int8(&ids, task_ids[i]) | pg_text_element(&texts, reasons[i]);
    if (status != 0) {
        snprintf(err, errlen, "insert manual: out of memory");
    } else {
        PgParams params = {0};
        pg_param_array(&params, &ids);
        pg_param_array(&params, &texts);
        pg_param_int64(&params, now);
        status = pg_run_done(pg_of(base), PG_SQL_MANUAL_INSERT, &params, "insert manual", err,
                             errlen);
    }
    pg_array_free(&ids);
    pg_array_free(&texts);
    return status;
}

static int pg_rescued_read(const PGresult *result, int row, void *element)
{
    StoreRescued *out = element;
    out->task_id = pg_column_int64(result, row, 0);
    out->attempts = (int)pg_column_int64(result, row, 1);
    out->max_retry = (int)pg_column_int64(result, row, 2);
    out->claimed_at = pg_column_int64(result, row, 3);
    out->last_status_code = (int)pg_column_int64(result, row, 4);
    out->interrupted_before = (int)pg_column_int64(result, row, 5);
    out->receiver_open = pg_column_bool(result, row, 8);
    return pg_column_text(result, row, 6, &out->claim_token, NULL) != 0 ||
                   pg_column_text(result, row, 7, &out->target_host, NULL) != 0
               ? -1
               : 0;
}

int pg_rescue_select(Store *base, int64_t now, bool all, StoreRescued **out, size_t *count,
                     char *err, size_t errlen)
{
    (void)now; /* the lease ends by the server's clock */
    *out = NULL;
    *count = 0;
    PgParams params = {0};
    pg_param_bool(&params, all);
    PgStore *store = pg_of(base);
    PGresult *result = pg_run(store,
                              pg_schema_has(store, PG_SCHEMA_RECEIVERS)
                                  ? PG_SQL_RESCUE_SELECT
                                  : PG_SQL_RESCUE_SELECT_UNGATED,
                              &params,
                              "select interrupted tasks", err, errlen);
    if (result == NULL)
        return -1;
    void *rows = NULL;
    if (pg_collect_rows(result, sizeof(StoreRescued), pg_rescued_read, store_rescued_clear,
                        "select interrupted tasks", &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
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

int pg_count_active(Store *base, StoreActiveCounts *out, char *err, size_t errlen)
{
    PGresult *result =
        pg_run(pg_of(base), PG_SQL_COUNT_ACTIVE, NULL, "count the work in hand", err, errlen);
    if (result == NULL)
        return -1;
    out->pending = pg_column_int64(result, 0, 0);
    out->delivering = pg_column_int64(result, 0, 1);
    out->manual_open = pg_column_int64(result, 0, 2);
    PQclear(result);
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
