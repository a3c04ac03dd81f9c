/*
 * store_list: the listings (GET /v1/tasks, GET /v1/manual), written once
 * above the backends (see store.h): which filter becomes which condition,
 * in which order, the pages (keyset: below the last task id seen, above the
 * last entry id) and the limit. A backend turns a StoreListQuery into its
 * statement (backend.h) and reads the rows.
 */
#include "backend.h"

#include <stdio.h>

/* Adds CONDITION with its value (TEXT, else NUMBER) to QUERY; BIT (its
 * place among the listing's optional conditions, or -1 for one always
 * there) goes into the variant. */
static void store_list_add(StoreListQuery *query, int bit, StoreListCondition condition,
                           const char *text, int64_t number)
{
    StoreListTerm *term = &query->terms[query->count++];
    *term = (StoreListTerm){.condition = condition, .text = text, .number = number};
    term->value = text != NULL ? STORE_LIST_TEXT : STORE_LIST_NUMBER;
    if (bit >= 0)
        query->variant |= 1u << bit;
}

/* Adds CONDITION, which takes no value, to QUERY, with BIT as above. */
static void store_list_flag(StoreListQuery *query, int bit, StoreListCondition condition)
{
    store_list_add(query, bit, condition, NULL, 0);
    query->terms[query->count - 1].value = STORE_LIST_NO_VALUE;
}

int store_task_list(Store *store, const TaskFilter *filter, Task **out_tasks, size_t *out_count,
                    char *err, size_t errlen)
{
    StoreListQuery query = {.listing = STORE_LISTING_TASKS,
                            .limit = filter->limit > 0 ? filter->limit : 1};
    if (filter->business_id != NULL)
        store_list_add(&query, 0, STORE_LIST_TASK_BUSINESS_ID, filter->business_id, 0);
    if (filter->business_type != NULL)
        store_list_add(&query, 1, STORE_LIST_TASK_TYPE, filter->business_type, 0);
    if (filter->has_status)
        store_list_add(&query, 2, STORE_LIST_TASK_STATUS, task_status_name(filter->status), 0);
    if (filter->idempotency_key != NULL)
        store_list_add(&query, 3, STORE_LIST_TASK_KEY, filter->idempotency_key, 0);
    if (filter->after > 0)
        store_list_add(&query, 4, STORE_LIST_TASK_BELOW, NULL, filter->after);
    void *rows = NULL;
    *out_tasks = NULL;
    *out_count = 0;
    if (store->backend->list(store, &query, &rows, out_count, err, errlen) != 0)
        return -1;
    *out_tasks = rows;
    return 0;
}

int store_manual_list(Store *store, const ManualFilter *filter, ManualEntry **out, size_t *count,
                      char *err, size_t errlen)
{
    StoreListQuery query = {.listing = STORE_LISTING_MANUAL,
                            .limit = filter->limit > 0 ? filter->limit : 1};
    store_list_add(&query, -1, STORE_LIST_MANUAL_ABOVE, NULL, filter->after);
    store_list_add(&query, -1, STORE_LIST_MANUAL_SINCE, NULL, filter->since);
    store_list_add(&query, -1, STORE_LIST_MANUAL_UNTIL, NULL, filter->until);
    if (filter->state == MANUAL_STATE_OPEN)
        store_list_flag(&query, 0, STORE_LIST_MANUAL_OPEN);
    else if (filter->state == MANUAL_STATE_RESOLVED)
        store_list_flag(&query, 1, STORE_LIST_MANUAL_RESOLVED);
    if (filter->business_type != NULL)
        store_list_add(&query, 2, STORE_LIST_MANUAL_TYPE, filter->business_type, 0);
    if (filter->task_id > 0)
        store_list_add(&query, 3, STORE_LIST_MANUAL_TASK, NULL, filter->task_id);
    if (filter->reason != NULL)
        store_list_add(&query, 4, STORE_LIST_MANUAL_REASON, filter->reason, 0);
    void *rows = NULL;
    *out = NULL;
    *count = 0;
    if (store->backend->list(store, &query, &rows, count, err, errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}
