/*
 * store/sqlite_list: the SQLite backend's listings (store_list.c decides
 * them): a statement assembled from fixed fragments by which conditions
 * apply (never from user data), prepared once per variant, its rows read
 * as tasks or manual entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

#define STORE_ENTRY_COLUMNS                                                                        \
    "m.id, m.task_id, t.business_id, t.business_type, t.target_url, m.reason, m.attempts,"         \
    " m.last_status_code, m.last_error, m.moved_at, m.state, m.resolved_at, m.resolution,"         \
    " m.note"

/* Parameters are ?N, whatever their type. */
static void sqlite_list_parameter(char *out, size_t size, int number, StoreListValue value)
{
    (void)value;
    snprintf(out, size, "?%d", number);
}

static const StoreListSql sqlite_list_sql = {
    .conditions =
        {
            [STORE_LIST_TASK_BUSINESS_ID] = "business_id = ",
            [STORE_LIST_TASK_TYPE] = "business_type = ",
            [STORE_LIST_TASK_STATUS] = "status = ",
            [STORE_LIST_TASK_KEY] = "idempotency_key = ",
            [STORE_LIST_TASK_BELOW] = "id < ",
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
            [STORE_LISTING_TASKS] = "SELECT " STORE_TASK_COLUMNS " FROM tasks WHERE 1",
            [STORE_LISTING_MANUAL] = "SELECT " STORE_ENTRY_COLUMNS " FROM manual m JOIN tasks t"
                                     " ON t.id = m.task_id WHERE 1",
        },
    .tails =
        {
            [STORE_LISTING_TASKS] = " ORDER BY id DESC LIMIT ",
            [STORE_LISTING_MANUAL] = " ORDER BY m.id LIMIT ",
        },
    .parameter = sqlite_list_parameter,
};

static sqlite3_stmt *sqlite_list_statement(SqliteStore *store, const StoreListQuery *query,
                                           char *err, size_t errlen)
{
    sqlite3_stmt **slot = &store->list_statements[query->listing][query->variant];
    if (*slot != NULL)
        return *slot;
    char sql[1024];
    if (store_list_text(query, &sqlite_list_sql, sql, sizeof sql) != 0) {
        snprintf(err, errlen, "list: the statement does not fit");
        return NULL;
    }
    return sqlite_prepare_cached(store, slot, sql, err, errlen);
}

static int sqlite_entry_read_row(sqlite3_stmt *statement, void *element)
{
    ManualEntry *out = element;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(statement, 0);
    out->task_id = sqlite3_column_int64(statement, 1);
    sqlite_copy_word(statement, 5, out->reason);
    out->attempts = sqlite3_column_int(statement, 6);
    out->last_status_code = sqlite3_column_int(statement, 7);
    out->moved_at = sqlite3_column_int64(statement, 9);
    const char *state = (const char *)sqlite3_column_text(statement, 10);
    out->open = state != NULL && strcmp(state, "open") == 0;
    out->resolved_at = sqlite3_column_int64(statement, 11);
    sqlite_copy_word(statement, 12, out->resolution);
    if (sqlite_column_text(statement, 2, &out->business_id, NULL) != 0 ||
        sqlite_column_text(statement, 3, &out->business_type, NULL) != 0 ||
        sqlite_column_text(statement, 4, &out->target_url, NULL) != 0 ||
        sqlite_column_text(statement, 8, &out->last_error, NULL) != 0 ||
        sqlite_column_text(statement, 13, &out->note, NULL) != 0) {
        manual_entry_clear(out);
        return -1;
    }
    return 0;
}

static void sqlite_entry_clear_element(void *element)
{
    manual_entry_clear(element);
}

static int sqlite_task_read_element(sqlite3_stmt *statement, void *element)
{
    return sqlite_task_read_row(statement, element);
}

static void sqlite_task_clear_element(void *element)
{
    task_clear(element);
}

int sqlite_list(Store *base, const StoreListQuery *query, void **out, size_t *count, char *err,
                size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_list_statement(store, query, err, errlen);
    if (statement == NULL)
        return -1;
    int parameter = 0;
    for (size_t i = 0; i < query->count; i++) {
        const StoreListTerm *term = &query->terms[i];
        if (term->value == STORE_LIST_TEXT)
            sqlite3_bind_text(statement, ++parameter, term->text, -1, SQLITE_STATIC);
        else if (term->value == STORE_LIST_NUMBER)
            sqlite3_bind_int64(statement, ++parameter, term->number);
    }
    sqlite3_bind_int(statement, ++parameter, query->limit);
    bool tasks = query->listing == STORE_LISTING_TASKS;
    return sqlite_collect_rows(store, statement, tasks ? sizeof(Task) : sizeof(ManualEntry),
                               tasks ? sqlite_task_read_element : sqlite_entry_read_row,
                               tasks ? sqlite_task_clear_element : sqlite_entry_clear_element,
                               tasks ? "list tasks" : "list manual entries", out, count, err,
                               errlen);
}
