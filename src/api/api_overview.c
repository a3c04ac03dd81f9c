/*
 * api_overview: see api_overview.h.
 */
#include "api_overview.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_system.h"
#include "clock.h"
#include "config.h"
#include "config_receiver.h"
#include "metrics.h"
#include "store.h"
#include "store_receivers.h"
#include "task_render.h"

#define API_OVERVIEW_MINUTE_MS 60000

static void api_overview_unavailable(ApiCall *call, const char *err)
{
    api_call_set_retry_after(call, 1);
    api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
}

/* The alerts whose latest state is firing: one per kind, and per instance
 * for an instance's own (delivery_lag). Returns 0, or -1 with ERR. */
static int api_overview_firing(Store *store, cJSON *array, char *err, size_t errlen)
{
    StoredAlert *alerts;
    size_t count;
    if (store_alert_firing(store, &alerts, &count, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, api_system_render_alert(&alerts[i]));
    store_alert_list_free(alerts, count);
    return 0;
}

/* GET /v1/overview */
static void api_overview_show(ApiCall *call)
{
    Store *store = api_call_reader(call);
    char err[256];
    int64_t by_status[4], manual_open;
    int64_t delivered[API_OVERVIEW_MINUTES] = {0}, failed[API_OVERVIEW_MINUTES] = {0};
    /* Whole minutes, the current (partial) one last. */
    int64_t now = clock_now_ms();
    int64_t since = (now / API_OVERVIEW_MINUTE_MS - (API_OVERVIEW_MINUTES - 1)) *
                    API_OVERVIEW_MINUTE_MS;
    cJSON *body = cJSON_CreateObject();
    cJSON *alerts = cJSON_CreateArray();
    if (store_count_gauges(store, by_status, &manual_open, err, sizeof err) != 0 ||
        store_attempt_series(store, since, API_OVERVIEW_MINUTE_MS, API_OVERVIEW_MINUTES,
                             delivered, failed, err, sizeof err) != 0 ||
        api_overview_firing(store, alerts, err, sizeof err) != 0) {
        cJSON_Delete(body);
        cJSON_Delete(alerts);
        api_overview_unavailable(call, err);
        return;
    }
    cJSON *tasks = cJSON_AddObjectToObject(body, "tasks");
    for (int status = 0; status < 4; status++)
        cJSON_AddNumberToObject(tasks, task_status_name((TaskStatus)status),
                                (double)by_status[status]);
    cJSON_AddNumberToObject(body, "manual_open", (double)manual_open);
    cJSON_AddItemToObject(body, "alerts_firing", alerts);
    cJSON_AddNumberToObject(body, "scheduler_lag_seconds",
                            (double)metrics_scheduler_lag() / 1000.0);
    cJSON *minutes = cJSON_AddObjectToObject(body, "per_minute");
    cJSON_AddItemToObject(minutes, "since", task_render_time(since));
    cJSON *delivered_array = cJSON_AddArrayToObject(minutes, "delivered");
    cJSON *failed_array = cJSON_AddArrayToObject(minutes, "failed");
    for (int i = 0; i < API_OVERVIEW_MINUTES; i++) {
        cJSON_AddItemToArray(delivered_array, cJSON_CreateNumber((double)delivered[i]));
        cJSON_AddItemToArray(failed_array, cJSON_CreateNumber((double)failed[i]));
    }
    api_call_reply(call, 200, body);
}

/* RECEIVER's circuit breaker (store_breaker.c): "closed", "open" (its tasks
 * parked), or "probing" (open, its probe out); its failures in a row that
 * count; when it opened and when the next probe may go. */
static void api_overview_add_circuit(cJSON *object, const StoreReceiver *receiver)
{
    const char *circuit = !receiver->circuit_open                  ? "closed"
                          : receiver->probe_until > clock_now_ms() ? "probing"
                                                                   : "open";
    cJSON_AddStringToObject(object, "circuit", circuit);
    cJSON_AddNumberToObject(object, "consecutive_failures",
                            (double)receiver->consecutive_failures);
    cJSON_AddItemToObject(object, "opened_at", task_render_time(receiver->opened_at));
    cJSON_AddItemToObject(object, "next_probe_at", task_render_time(receiver->next_probe_at));
    cJSON_AddNumberToObject(object, "parked",
                            receiver->circuit_open ? (double)receiver->pending : 0.0);
}

/* GET /v1/receivers */
static void api_overview_receivers(ApiCall *call)
{
    char err[256];
    int64_t since = clock_now_ms() - API_OVERVIEW_MINUTES * API_OVERVIEW_MINUTE_MS;
    StoreReceiver *receivers;
    size_t count;
    if (store_receiver_list(api_call_reader(call), since, API_OVERVIEW_RECEIVERS_MAX, &receivers,
                            &count, err, sizeof err) != 0) {
        api_overview_unavailable(call, err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "failures_since", task_render_time(since));
    cJSON *array = cJSON_AddArrayToObject(body, "receivers");
    for (size_t i = 0; i < count; i++) {
        const StoreReceiver *receiver = &receivers[i];
        cJSON *object = cJSON_CreateObject();
        cJSON_AddStringToObject(object, "receiver", receiver->host);
        cJSON_AddNumberToObject(object, "pending", (double)receiver->pending);
        cJSON_AddNumberToObject(object, "in_flight", (double)receiver->delivering);
        cJSON_AddNumberToObject(object, "failures", (double)receiver->failures);
        cJSON_AddItemToObject(object, "last_failure_at",
                              task_render_time(receiver->last_failure_at));
        cJSON_AddItemToObject(object, "last_error",
                              receiver->last_error ? cJSON_CreateString(receiver->last_error)
                                                   : cJSON_CreateNull());
        /* This heraldd's hold (the scheduler's snapshot, a second old at most). */
        int64_t held_until = metrics_receiver_held_until(receiver->host);
        cJSON_AddItemToObject(object, "held_until",
                              held_until > clock_now_ms() ? task_render_time(held_until)
                                                          : cJSON_CreateNull());
        cJSON_AddBoolToObject(object, "paused", receiver->paused);
        cJSON_AddItemToObject(object, "paused_at", receiver->paused
                                                       ? task_render_time(receiver->paused_at)
                                                       : cJSON_CreateNull());
        cJSON_AddItemToObject(object, "paused_by", receiver->paused_by
                                                       ? cJSON_CreateString(receiver->paused_by)
                                                       : cJSON_CreateNull());
        cJSON_AddItemToObject(object, "pause_note", receiver->pause_note
                                                        ? cJSON_CreateString(receiver->pause_note)
                                                        : cJSON_CreateNull());
        api_overview_add_circuit(object, receiver);
        /* Its [receiver.PATTERN] rate_limit, as this heraldd's configuration says. */
        const RateLimit *rate = config_receiver_rate(api_call_options(call)->config(),
                                                     receiver->host);
        cJSON_AddItemToObject(object, "rate_limit",
                              rate ? cJSON_CreateString(rate->text) : cJSON_CreateNull());
        cJSON_AddItemToObject(object, "rate_burst", rate ? cJSON_CreateNumber((double)rate->burst)
                                                         : cJSON_CreateNull());
        cJSON_AddItemToArray(array, object);
    }
    store_receiver_list_free(receivers, count);
    api_call_reply(call, 200, body);
}

const ApiRoute api_overview_routes[] = {
    {.method = "GET", .pattern = "/v1/overview", .handler = api_overview_show},
    {.method = "GET", .pattern = "/v1/receivers", .handler = api_overview_receivers},
};

const size_t api_overview_route_count = sizeof api_overview_routes / sizeof api_overview_routes[0];
