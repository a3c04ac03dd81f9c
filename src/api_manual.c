/*
 * api_manual: see api_manual.h.
 *
 * Repairs are rare and small, so they write on the HTTP thread through its
 * read connection (in a transaction of their own) rather than through the
 * intake writer; after the commit the scheduler is told which hosts have
 * work again. A bulk retry only makes tasks due: they still go out through
 * the scheduler and its per-host limits, so a recovering receiver is not
 * flooded.
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

/* Parses the {id} of the path; 0 if it is not a task id. */
static int64_t api_manual_task_id(ApiCall *call)
{
    const char *text = api_call_path_parameter(call);
    if (text[0] < '1' || text[0] > '9')
        return 0;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0' ? (int64_t)value : 0;
}

static void api_manual_unavailable(ApiCall *call, const char *err)
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

/* {"task": TASK, "attempts": [...], "entries": [ENTRY...], "actions": [ACTION...]}
 * for TASK_ID, or a 404/503 reply. */
static cJSON *api_manual_describe(ApiCall *call, int64_t task_id)
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

static void api_manual_not_in_manual(ApiCall *call, int64_t task_id)
{
    api_call_fail(call, 409, "not_in_manual", "id",
                  "task %lld is not in the open manual-handling list", (long long)task_id);
}

static void api_manual_no_such_task(ApiCall *call)
{
    api_call_fail(call, 404, "not_found", "id", "no task with id \"%s\"",
                  api_call_path_parameter(call));
}

/* The task named by the path, for a repair: its id and business type (the
 * caller frees *BUSINESS_TYPE), or 0 with a 404 or 503 already set. */
static int64_t api_manual_find_task(ApiCall *call, char **business_type)
{
    int64_t task_id = api_manual_task_id(call);
    if (task_id == 0) {
        api_manual_no_such_task(call);
        return 0;
    }
    char err[256];
    Task task;
    StoreResult found = store_task_get(api_call_reader(call), task_id, &task, err, sizeof err);
    if (found == STORE_NOT_FOUND)
        api_manual_no_such_task(call);
    else if (found != STORE_OK)
        api_manual_unavailable(call, err);
    if (found != STORE_OK)
        return 0;
    *business_type = task.business_type;
    task.business_type = NULL;
    task_clear(&task);
    return task_id;
}

/* What a retry changed, for the action log. */
static char *api_manual_details(const ManualRetryRequest *request, int budget)
{
    cJSON *details = cJSON_CreateObject();
    if (request->target_url != NULL)
        cJSON_AddStringToObject(details, "target_url", request->target_url);
    if (request->payload != NULL)
        cJSON_AddBoolToObject(details, "payload_replaced", true);
    cJSON_AddNumberToObject(details, "max_retry", budget);
    char *text = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);
    return text;
}

static void api_manual_retry(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    ManualRetryRequest request;
    ApiError error;
    if (manual_json_read_retry(body, length, api_call_guard(call), &request, &error) != 0) {
        manual_json_retry_clear(&request);
        api_call_reply_error(call, &error);
        return;
    }
    char *business_type = NULL;
    int64_t task_id = api_manual_find_task(call, &business_type);
    if (task_id == 0) {
        manual_json_retry_clear(&request);
        return;
    }
    int budget = request.max_retry > 0
                     ? request.max_retry
                     : (int)policy_set_find(api_call_policies(call), business_type)->max_retry;
    free(business_type);
    char *details = api_manual_details(&request, budget);
    ManualRepair repair = {
        .target_url = request.target_url, .target_host = request.target_host,
        .payload = request.payload, .payload_length = request.payload_length,
        .payload_is_json = request.payload_is_json, .max_retry = budget,
        .note = request.note, .actor = api_call_actor(call),
    };
    Store *store = api_call_reader(call);
    char err[256];
    int64_t now = clock_now_ms();
    char *host = NULL;
    StoreResult result = STORE_ERROR;
    if (store_begin(store, err, sizeof err) == 0) {
        result = store_manual_retry(store, task_id, &repair, "retry", details, now, &host, err,
                                    sizeof err);
        if (result != STORE_OK)
            store_rollback(store);
        else if (store_commit(store, err, sizeof err) != 0)
            result = STORE_ERROR;
    }
    free(details);
    bool url_changed = request.target_url != NULL, payload_changed = request.payload != NULL;
    manual_json_retry_clear(&request);
    if (result != STORE_OK) {
        if (result == STORE_NOT_FOUND)
            api_manual_not_in_manual(call, task_id);
        else
            api_manual_unavailable(call, err);
        free(host);
        return;
    }
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=manual_retry actor=%s task_id=%lld max_retry=%d target_url_changed=%s "
             "payload_changed=%s",
             log_quote(actor, sizeof actor, api_call_actor(call)), (long long)task_id, budget,
             url_changed ? "yes" : "no", payload_changed ? "yes" : "no");
    const char *hosts[] = {host};
    api_call_announce_due(call, hosts, 1, now);
    free(host);
    cJSON *answer = api_manual_describe(call, task_id);
    if (answer != NULL)
        api_call_reply(call, 200, answer);
}

static void api_manual_resolve(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    char *note = NULL;
    ApiError error;
    if (manual_json_read_resolve(body, length, &note, &error) != 0) {
        free(note);
        api_call_reply_error(call, &error);
        return;
    }
    char *business_type = NULL;
    int64_t task_id = api_manual_find_task(call, &business_type);
    free(business_type);
    if (task_id == 0) {
        free(note);
        return;
    }
    Store *store = api_call_reader(call);
    char err[256];
    StoreResult result = STORE_ERROR;
    if (store_begin(store, err, sizeof err) == 0) {
        result = store_manual_resolve(store, task_id, note, api_call_actor(call), clock_now_ms(),
                                      err, sizeof err);
        if (result != STORE_OK)
            store_rollback(store);
        else if (store_commit(store, err, sizeof err) != 0)
            result = STORE_ERROR;
    }
    free(note);
    if (result == STORE_NOT_FOUND) {
        api_manual_not_in_manual(call, task_id);
        return;
    }
    if (result != STORE_OK) {
        api_manual_unavailable(call, err);
        return;
    }
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=manual_resolve actor=%s task_id=%lld",
             log_quote(actor, sizeof actor, api_call_actor(call)), (long long)task_id);
    cJSON *answer = api_manual_describe(call, task_id);
    if (answer != NULL)
        api_call_reply(call, 200, answer);
}

/* Retries every open entry matching REQUEST inside one transaction; appends
 * the hosts of retried tasks to HOSTS (caller frees). Returns the number
 * retried, or -1. */
static long api_manual_retry_matches(ApiCall *call, Store *store, const ManualMatch *matches,
                                     size_t count, const ManualBulkRequest *request, int64_t now,
                                     char **hosts, char *err, size_t errlen)
{
    long retried = 0;
    for (size_t i = 0; i < count; i++) {
        int budget =
            (int)policy_set_find(api_call_policies(call), matches[i].business_type)->max_retry;
        ManualRepair repair = {.max_retry = budget, .note = request->note,
                               .actor = api_call_actor(call)};
        StoreResult result = store_manual_retry(store, matches[i].task_id, &repair, "bulk_retry",
                                                NULL, now, &hosts[retried], err, errlen);
        if (result == STORE_ERROR)
            return -1;
        if (result == STORE_OK)
            retried++;
    }
    return retried;
}

static void api_manual_bulk_retry(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    ManualBulkRequest request;
    ApiError error;
    if (manual_json_read_bulk(body, length, &request, &error) != 0) {
        manual_json_bulk_clear(&request);
        api_call_reply_error(call, &error);
        return;
    }
    Store *store = api_call_reader(call);
    char err[256];
    int64_t now = clock_now_ms();
    ManualMatch *matches = NULL;
    size_t count = 0;
    char **hosts = NULL;
    long retried = 0;
    if (store_begin(store, err, sizeof err) != 0)
        goto unavailable;
    if (store_manual_open_matching(store, request.business_type, request.since, request.until,
                                   &matches, &count, err, sizeof err) != 0) {
        store_rollback(store);
        goto unavailable;
    }
    if (!request.dry_run) {
        hosts = calloc(count ? count : 1, sizeof *hosts);
        retried = hosts ? api_manual_retry_matches(call, store, matches, count, &request, now,
                                                   hosts, err, sizeof err)
                        : -1;
        if (hosts == NULL)
            snprintf(err, sizeof err, "out of memory");
    }
    if (retried < 0) {
        store_rollback(store);
        goto unavailable;
    }
    if (store_commit(store, err, sizeof err) != 0)
        goto unavailable;
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=manual_bulk_retry actor=%s matched=%zu retried=%ld dry_run=%s "
             "business_type=%s all=%s",
             log_quote(actor, sizeof actor, api_call_actor(call)), count, retried,
             request.dry_run ? "yes" : "no",
             request.business_type ? request.business_type : "any", request.all ? "yes" : "no");
    api_call_announce_due(call, (const char *const *)hosts, (size_t)retried, now);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "matched", (double)count);
    cJSON_AddNumberToObject(answer, "retried", (double)retried);
    cJSON_AddBoolToObject(answer, "dry_run", request.dry_run);
    api_call_reply(call, 200, answer);
    goto done;
unavailable:
    api_manual_unavailable(call, err);
done:
    for (long i = 0; hosts != NULL && i < (long)count; i++)
        free(hosts[i]);
    free(hosts);
    store_manual_matches_free(matches, count);
    manual_json_bulk_clear(&request);
}

static const char *const api_manual_list_query[] = {"state", "business_type", "since", "until",
                                                    "limit", "after", NULL};

const ApiRoute api_manual_routes[] = {
    {.method = "GET", .pattern = "/v1/manual", .query = api_manual_list_query, .handler = api_manual_list},
    {.method = "POST", .pattern = "/v1/manual/retry", .json_body = true, .writes = true, .handler = api_manual_bulk_retry},
    {.method = "GET", .pattern = "/v1/manual/{id}", .handler = api_manual_show},
    {.method = "POST", .pattern = "/v1/manual/{id}/retry", .json_body = true, .writes = true, .handler = api_manual_retry},
    {.method = "POST", .pattern = "/v1/manual/{id}/resolve", .json_body = true, .writes = true, .handler = api_manual_resolve},
};

const size_t api_manual_route_count = sizeof api_manual_routes / sizeof api_manual_routes[0];
