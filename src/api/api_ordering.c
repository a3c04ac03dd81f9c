/*
 * api_ordering: see api_ordering.h.
 */
#include "api_ordering.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_manual.h"
#include "store_ordering.h"
#include "task_render.h"

/* One key as the API shows it. */
static cJSON *api_ordering_render(const StoreOrderingKey *key)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddNumberToObject(object, "id", (double)key->id);
    cJSON_AddStringToObject(object, "receiver", key->receiver);
    cJSON_AddStringToObject(object, "ordering_key", key->ordering_key);
    cJSON_AddNumberToObject(object, "last_sequence", (double)key->last_seq);
    /* The head: the sequence number that may be attempted now (past the
     * last: the key is idle, every task of it done). */
    cJSON_AddNumberToObject(object, "head_sequence", (double)key->head_seq);
    int64_t waiting = key->last_seq - key->head_seq;
    cJSON_AddNumberToObject(object, "waiting", (double)(waiting > 0 ? waiting : 0));
    cJSON_AddBoolToObject(object, "blocked", key->blocked_task_id != 0);
    if (key->blocked_task_id != 0) {
        cJSON_AddNumberToObject(object, "blocked_task_id", (double)key->blocked_task_id);
        cJSON_AddItemToObject(object, "blocked_since", task_render_time(key->blocked_at));
    } else {
        cJSON_AddNullToObject(object, "blocked_task_id");
        cJSON_AddNullToObject(object, "blocked_since");
    }
    cJSON_AddItemToObject(object, "updated_at", task_render_time(key->updated_at));
    return object;
}

/* GET /v1/ordering-keys */
static void api_ordering_list(ApiCall *call)
{
    long limit;
    int64_t before;
    if (!api_call_read_page(call, 100, "an ordering key id", &limit, &before))
        return;
    const char *blocked = api_call_query(call, "blocked");
    if (blocked != NULL && strcmp(blocked, "true") != 0 && strcmp(blocked, "false") != 0) {
        api_call_fail(call, 400, "invalid_parameter", "blocked", "blocked is true or false");
        return;
    }
    StoreOrderingFilter filter = {
        .blocked_only = blocked != NULL && strcmp(blocked, "true") == 0,
        .receiver = api_call_query(call, "receiver"),
        .ordering_key = api_call_query(call, "key"),
        .before = before,
        .limit = (int)limit + 1,
    };
    StoreOrderingKey *keys;
    size_t count;
    char err[320];
    if (store_ordering_list(api_call_reader(call), &filter, &keys, &count, err, sizeof err) !=
        0) {
        api_manual_unavailable(call, err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "ordering_keys");
    bool more = count > (size_t)limit;
    size_t shown = more ? (size_t)limit : count;
    for (size_t i = 0; i < shown; i++)
        cJSON_AddItemToArray(array, api_ordering_render(&keys[i]));
    if (more)
        cJSON_AddNumberToObject(body, "next_before", (double)keys[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_before");
    store_ordering_list_free(keys, count);
    api_call_reply(call, 200, body);
}

static const char *const api_ordering_query[] = {"blocked", "receiver", "key", "limit", "before",
                                                 NULL};

const ApiRoute api_ordering_routes[] = {
    {.method = "GET", .pattern = "/v1/ordering-keys", .query = api_ordering_query,
     .handler = api_ordering_list},
};

const size_t api_ordering_route_count = sizeof api_ordering_routes / sizeof api_ordering_routes[0];
