/*
 * api_system: see api_system.h.
 */
#include "api_system.h"

#include <stdlib.h>

#include "api.h"
#include "buffer.h"
#include "clock.h"
#include "metrics.h"

#define API_SYSTEM_METRICS_MAX (1024 * 1024)

static void api_system_health(ApiCall *call)
{
    char err[256];
    cJSON *body = cJSON_CreateObject();
    if (store_ping(api_call_reader(call), err, sizeof err) != 0) {
        cJSON_AddStringToObject(body, "status", "unavailable");
        cJSON_AddStringToObject(body, "error", err);
        api_call_set_retry_after(call, 1);
        api_call_reply(call, 503, body);
        return;
    }
    cJSON_AddStringToObject(body, "status", "ok");
    api_call_reply(call, 200, body);
}

static void api_system_ready(ApiCall *call)
{
    const ApiOptions *options = api_call_options(call);
    int64_t silent_ms = clock_monotonic_ms() - metrics_scheduler_last_alive();
    int64_t lag_ms = metrics_scheduler_lag();
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "scheduler_lag_seconds", (double)lag_ms / 1000.0);
    if (silent_ms > options->ready_alive_ms) {
        cJSON_AddStringToObject(body, "status", "not_ready");
        cJSON_AddStringToObject(body, "reason", "the scheduler has not run recently");
        api_call_reply(call, 503, body);
    } else if (lag_ms > options->ready_max_lag_ms) {
        cJSON_AddStringToObject(body, "status", "not_ready");
        cJSON_AddStringToObject(body, "reason", "due tasks wait longer than max_lag");
        api_call_reply(call, 503, body);
    } else {
        cJSON_AddStringToObject(body, "status", "ready");
        api_call_reply(call, 200, body);
    }
}

static void api_system_metrics(ApiCall *call)
{
    MetricsGauges gauges;
    char err[256];
    if (store_count_gauges(api_call_reader(call), gauges.tasks_by_status, &gauges.manual_open,
                           err, sizeof err) != 0) {
        api_call_set_retry_after(call, 1);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    Buffer text;
    buffer_init(&text, API_SYSTEM_METRICS_MAX);
    if (metrics_render(&text, &gauges) != 0 || buffer_append(&text, "", 0) != 0) {
        buffer_free(&text);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_call_reply_text(call, 200, "text/plain; version=0.0.4; charset=utf-8", text.data);
}

const ApiRoute api_system_routes[] = {
    {.method = "GET", .pattern = "/healthz", .public = true, .handler = api_system_health},
    {.method = "GET", .pattern = "/readyz", .public = true, .handler = api_system_ready},
    {.method = "GET", .pattern = "/metrics", .handler = api_system_metrics},
};

const size_t api_system_route_count = sizeof api_system_routes / sizeof api_system_routes[0];
