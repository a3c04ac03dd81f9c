/*
 * store/pg_list: the PostgreSQL backend's listings (store_list.c decides
 * them): a statement assembled from fixed fragments by which conditions
 * apply (never from user data), prepared once per variant on each
 * connection, its rows read as tasks or manual entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define PG_ENTRY_COLUMNS                                                                           \
    "m.id, m.task_id, t.business_id, t.business_type, t.target_url, m.reason, m.attempts,"         \
    " m.last_status_code, m.last_error, m.moved_at, m.state, m.resolved_at, m.resolution,"         \
    " m.note"

/* Parameters are $N with their type: text, bigint, and the limit's integer. */
static void pg_list_parameter(char *out, size_t size, int number, StoreListValue value)
{
    snprintf(out, size, "$%d::%s", number,
             value == STORE_LIST_TEXT     ? "text"
             : value == STORE_LIST_NUMBER ? "bigint"
                                          : "integer");
}

static const StoreListSql pg_list_sql = {
    .conditions =
        {
            [STORE_LIST_TASK_BUSINESS_ID] = "t.business_id = ",
            [STORE_LIST_TASK_TYPE] = "t.business_type = ",
            [STORE_LIST_TASK_STATUS] = "t.status = ",
            [STORE_LIST_TASK_KEY] = "t.idempotency_key = ",
            [STORE_LIST_TASK_BELOW] = "t.id < ",
            [STORE_LIST_MANUAL_ABOVE] = "m.id > ",
            [STORE_LIST_MANUAL_SINCE] = "m.moved_at >= ",
            [STORE_LIST_MANUAL_UNTIL] = "m.moved_at < ",
            [STORE_LIST_MANUAL_OPEN] = "m.state = 'open'",
            [STORE_LIST_MANUAL_RESOLVED] = "m.state = 'resolved'",
            [STORE_LIST_MANUAL_TYPE] = "t.business_type = ",
            [STORE_LIST_MANUAL_TASK] = "m.task_id = ",
            [STORE_LIST_MANUAL_REASON] = "m.reason = ",
        },
    .heads =
        {
            [STORE_LISTING_TASKS] = "SELECT " PG_TASK_COLUMNS " FROM tasks t JOIN task_bodies b"
                                    " ON b.task_id = t.id WHERE true",
            [STORE_LISTING_MANUAL] = "SELECT " PG_ENTRY_COLUMNS " FROM manual m JOIN tasks t"
                                     " ON t.id = m.task_id WHERE true",
        },
    .tails =
        {
            [STORE_LISTING_TASKS] = " ORDER BY t.id DESC LIMIT ",
            [STORE_LISTING_MANUAL] = " ORDER BY m.id LIMIT ",
        },
    .parameter = pg_list_parameter,
};

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

static int pg_task_read_element(const PGresult *result, int row, void *element)
{
    return pg_task_read(result, row, element);
}

static void pg_task_clear_element(void *element)
{
    task_clear(element);
}

int pg_list(Store *base, const StoreListQuery *query, void **out, size_t *count, char *err,
            size_t errlen)
{
    *out = NULL;
    *count = 0;
    char sql[2048];
    if (store_list_text(query, &pg_list_sql, sql, sizeof sql) != 0) {
        snprintf(err, errlen, "list: the statement does not fit");
        return -1;
    }
    PgParams params = {0};
    for (size_t i = 0; i < query->count; i++) {
        const StoreListTerm *term = &query->terms[i];
        if (term->value == STORE_LIST_TEXT)
            pg_param_text(&params, term->text);
        else if (term->value == STORE_LIST_NUMBER)
            pg_param_int64(&params, term->number);
    }
    pg_param_int64(&params, query->limit);
    bool tasks = query->listing == STORE_LISTING_TASKS;
    const char *what = tasks ? "list tasks" : "list manual entries";
    PGresult *result =
        pg_run_slot(pg_of(base), PG_SLOT_LIST + (int)query->listing * STORE_LIST_VARIANTS +
                                     (int)query->variant,
                    sql, &params, what, err, errlen);
    if (result == NULL)
        return -1;
    return pg_collect_rows(result, tasks ? sizeof(Task) : sizeof(ManualEntry),
                           tasks ? pg_task_read_element : pg_entry_read,
                           tasks ? pg_task_clear_element : pg_entry_clear, what, out, count, err,
                           errlen);
}
