/*
 * api_manual: see api_manual.h. The reads are here; the repairs, which
 * write through the intake writer, are api_repair.c's.
 */
#include "api_manual.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "manual_json.h"
#include "task_json.h"
#include "task_render.h"

int64_t api_manual_task_id(ApiCall *call)
{
    const char *text = api_call_path_parameter(call);
    if (text[0] < '1' || text[0] > '9')
        return 0;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0' ? (int64_t)value : 0;
}

void api_manual_unavailable(ApiCall *call, const char *err)
{
    api_call_set_retry_after(call, 1);
    api_call_fail(call, 503, "unavailable", NULL, "the database cannot do this now: %s", err);
}

static int api_manual_query_time(ApiCall *call, const char *name, int64_t *out)
{
    const char *text = api_call_query(call, name);
    if (text == NULL)
        return 0;
    if (clock_parse_rfc3339(text, out) != 0) {
        api_call_fail(call, 400, "invalid_parameter", name,
                      "%s must be an RFC 3339 time, e.g. 2026-11-21T08:00:00Z", name);
        return -1;
    }
    return 0;
}

static int api_manual_read_filter(ApiCall *call, ManualFilter *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->until = INT64_MAX;
    filter->limit = API_MANUAL_LIST_DEFAULT;
    const char *state = api_call_query(call, "state");
    if (state == NULL || strcmp(state, "open") == 0)
        filter->state = MANUAL_STATE_OPEN;
    else if (strcmp(state, "resolved") == 0)
        filter->state = MANUAL_STATE_RESOLVED;
    else if (strcmp(state, "all") == 0)
        filter->state = MANUAL_STATE_ALL;
    else {
        api_call_fail(call, 400, "invalid_parameter", "state",
                      "state must be open, resolved or all");
        return -1;
    }
    filter->business_type = api_call_query(call, "business_type");
    if (filter->business_type != NULL && !task_business_type_is_valid(filter->business_type)) {
        api_call_fail(call, 400, "invalid_parameter", "business_type",
                      "business_type must match [A-Za-z0-9_.:-]{1,64}");
        return -1;
    }
    filter->reason = api_call_query(call, "reason");
    if (filter->reason != NULL && !manual_reason_is_valid(filter->reason)) {
        api_call_fail(call, 400, "invalid_parameter", "reason",
                      "reason must be " MANUAL_REASONS_TEXT);
        return -1;
    }
    if (api_manual_query_time(call, "since", &filter->since) != 0 ||
        api_manual_query_time(call, "until", &filter->until) != 0)
        return -1;
    const char *limit = api_call_query(call, "limit");
    const char *after = api_call_query(call, "after");
    char *end = NULL;
    if (limit != NULL) {
        long value = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || value < 1 || value > API_MANUAL_LIST_MAX) {
            api_call_fail(call, 400, "invalid_parameter", "limit",
                          "limit must be an integer from 1 to %d", API_MANUAL_LIST_MAX);
            return -1;
        }
        filter->limit = (int)value;
    }
    if (after != NULL) {
        long long value = strtoll(after, &end, 10);
        if (*after == '\0' || *end != '\0' || value < 1) {
            api_call_fail(call, 400, "invalid_parameter", "after",
                          "after must be an entry id (a positive integer)");
            return -1;
        }
        filter->after = value;
    }
    return 0;
}

static void api_manual_list(ApiCall *call)
{
    ManualFilter filter;
    if (api_manual_read_filter(call, &filter) != 0)
        return;
    int page = filter.limit;
    filter.limit = page + 1; /* one more tells whether there is a next page */
    ManualEntry *entries;
    size_t count;
    char err[256];
    if (store_manual_list(api_call_reader(call), &filter, &entries, &count, err, sizeof err) !=
        0) {
        api_manual_unavailable(call, err);
        return;
    }
    bool more = count > (size_t)page;
    size_t shown = more ? (size_t)page : count;
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "entries");
    for (size_t i = 0; i < shown; i++)
        cJSON_AddItemToArray(array, manual_json_render_entry(&entries[i]));
    if (more)
        cJSON_AddNumberToObject(body, "next_after", (double)entries[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_after");
    store_manual_list_free(entries, count);
    api_call_reply(call, 200, body);
}

cJSON *api_manual_describe(ApiCall *call, int64_t task_id)
{
    Store *store = api_call_reader(call);
    char err[256];
    Task task;
    StoreResult found = store_task_get(store, task_id, &task, err, sizeof err);
    if (found != STORE_OK) {
        if (found == STORE_NOT_FOUND)
            api_call_fail(call, 404, "not_found", "id", "no task with id %lld",
                          (long long)task_id);
        else
            api_manual_unavailable(call, err);
        return NULL;
    }
    ManualFilter filter = {.state = MANUAL_STATE_ALL, .task_id = task_id, .until = INT64_MAX,
                           .limit = API_MANUAL_LIST_MAX};
    ManualEntry *entries = NULL;
    ManualAction *actions = NULL;
    Attempt *attempts = NULL;
    size_t entry_count = 0, action_count = 0, attempt_count = 0;
    if (store_manual_list(store, &filter, &entries, &entry_count, err, sizeof err) != 0 ||
        store_action_list(store, task_id, &actions, &action_count, err, sizeof err) != 0 ||
        store_attempt_list(store, task_id, &attempts, &attempt_count, err, sizeof err) != 0) {
        task_clear(&task);
        store_manual_list_free(entries, entry_count);
        store_action_list_free(actions, action_count);
        api_manual_unavailable(call, err);
        return NULL;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "task", task_render_task(&task));
    cJSON *attempt_array = cJSON_AddArrayToObject(body, "attempts");
    for (size_t i = 0; i < attempt_count; i++)
        cJSON_AddItemToArray(attempt_array, task_render_attempt(&attempts[i]));
    store_attempt_list_free(attempts, attempt_count);
    cJSON *entry_array = cJSON_AddArrayToObject(body, "entries");
    for (size_t i = 0; i < entry_count; i++)
        cJSON_AddItemToArray(entry_array, manual_json_render_entry(&entries[i]));
    cJSON *action_array = cJSON_AddArrayToObject(body, "actions");
    for (size_t i = 0; i < action_count; i++)
        cJSON_AddItemToArray(action_array, manual_json_render_action(&actions[i]));
    task_clear(&task);
    store_manual_list_free(entries, entry_count);
    store_action_list_free(actions, action_count);
    return body;
}

static void api_manual_show(ApiCall *call)
{
    int64_t task_id = api_manual_task_id(call);
    if (task_id == 0) {
        api_call_fail(call, 404, "not_found", "id", "no task with id \"%s\"",
                      api_call_path_parameter(call));
        return;
    }
    cJSON *body = api_manual_describe(call, task_id);
    if (body != NULL)
        api_call_reply(call, 200, body);
}

static const char *const api_manual_list_query[] = {"state", "business_type", "reason", "since",
                                                    "until", "limit", "after", NULL};

const ApiRoute api_manual_routes[] = {
    {.method = "GET", .pattern = "/v1/manual", .query = api_manual_list_query, .handler = api_manual_list},
    {.method = "GET", .pattern = "/v1/manual/{id}", .handler = api_manual_show},
};

const size_t api_manual_route_count = sizeof api_manual_routes / sizeof api_manual_routes[0];
