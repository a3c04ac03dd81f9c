/*
 * api_system: see api_system.h.
 */
#include "api_system.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buffer.h"
#include "clock.h"
#include "config.h"
#include "assets.h"
#include "json_check.h"
#include "metrics.h"
#include "roster.h"
#include "store_ordering.h"
#include "telemetry.h"

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
    const Config *config = options->config();
    int64_t lag_ms;
    MetricsReadiness readiness = metrics_readiness(config_scheduler_alive_ms(config),
                                                   config->alert_max_lag_ms, &lag_ms);
    char err[256];
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "scheduler_lag_seconds", (double)lag_ms / 1000.0);
    /* A heraldd that cannot reach its database cannot accept work: a load balancer
     * should send clients to another instance until it can. */
    if (store_ping(api_call_reader(call), err, sizeof err) != 0) {
        cJSON_AddStringToObject(body, "status", "not_ready");
        cJSON_AddStringToObject(body, "reason", "the database cannot be reached");
        cJSON_AddStringToObject(body, "error", err);
        api_call_set_retry_after(call, 1);
        api_call_reply(call, 503, body);
    } else if (readiness == METRICS_SCHEDULER_SILENT) {
        cJSON_AddStringToObject(body, "status", "not_ready");
        cJSON_AddStringToObject(body, "reason", "the scheduler has not run recently");
        api_call_reply(call, 503, body);
    } else if (readiness == METRICS_LAGGING) {
        cJSON_AddStringToObject(body, "status", "not_ready");
        cJSON_AddStringToObject(body, "reason",
                                "tasks that could be sent now wait longer than max_lag");
        api_call_reply(call, 503, body);
    } else {
        cJSON_AddStringToObject(body, "status", "ready");
        api_call_reply(call, 200, body);
    }
}

static void api_system_metrics(ApiCall *call)
{
    MetricsGauges gauges = {0};
    StoreDatabaseHealth health;
    char err[256];
    int64_t blocked_since = 0;
    if (store_count_gauges(api_call_reader(call), gauges.tasks_by_status, &gauges.manual_open,
                           err, sizeof err) != 0 ||
        store_ordering_blocked(api_call_reader(call), INT64_MAX, &gauges.ordering_blocked,
                               &blocked_since, err, sizeof err) != 0 ||
        store_database_health(api_call_reader(call), &health, err, sizeof err) != 0) {
        api_call_set_retry_after(call, 1);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    int64_t now = clock_now_ms();
    gauges.ordering_blocked_seconds =
        blocked_since > 0 && now > blocked_since ? (double)(now - blocked_since) / 1000.0 : 0;
    gauges.database_known = health.known;
    gauges.tables = store_health_tables;
    gauges.table_count = STORE_HEALTH_TABLES;
    gauges.dead_tuples = health.dead_tuples;
    gauges.oldest_transaction_ms = health.oldest_transaction_ms;
    Buffer text;
    buffer_init(&text, API_SYSTEM_METRICS_MAX);
    if (metrics_render(&text, &gauges) != 0 || telemetry_render_metrics(&text) != 0 ||
        buffer_append(&text, "", 0) != 0) {
        buffer_free(&text);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_call_reply_text(call, 200, "text/plain; version=0.0.4; charset=utf-8", text.data);
}

/* GET /v1/openapi.yaml: the description this binary was built with (assets.h). */
static void api_system_openapi(ApiCall *call)
{
    const Asset *asset = assets_find("/v1/openapi.yaml");
    if (asset == NULL) {
        api_call_fail(call, 404, "not_found", NULL, "this heraldd was built without it");
        return;
    }
    api_call_reply_static(call, 200, asset->content_type, asset->data, asset->size, NULL);
}

cJSON *api_system_render_alert(const StoredAlert *alert)
{
    cJSON *object = cJSON_CreateObject();
    char time_text[CLOCK_RFC3339_SIZE];
    cJSON_AddNumberToObject(object, "id", (double)alert->id);
    cJSON_AddStringToObject(object, "kind", alert->kind);
    if (alert->instance[0] != '\0')
        cJSON_AddStringToObject(object, "instance", alert->instance);
    else
        cJSON_AddNullToObject(object, "instance");
    cJSON_AddStringToObject(object, "state", alert->firing ? "firing" : "resolved");
    cJSON_AddNumberToObject(object, "count", (double)alert->count);
    clock_format_rfc3339(alert->created_at, time_text);
    cJSON_AddStringToObject(object, "created_at", time_text);
    if (alert->sent_at > 0) {
        clock_format_rfc3339(alert->sent_at, time_text);
        cJSON_AddStringToObject(object, "sent_at", time_text);
    } else {
        cJSON_AddNullToObject(object, "sent_at");
    }
    cJSON *sinks = cJSON_AddObjectToObject(object, "sinks");
    const struct {
        const char *name;
        int64_t sent_at;
    } taken[] = {{"webhook", alert->webhook_sent_at}, {"command", alert->command_sent_at}};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        if (taken[i].sent_at > 0) {
            clock_format_rfc3339(taken[i].sent_at, time_text);
            cJSON_AddStringToObject(sinks, taken[i].name, time_text);
        } else {
            cJSON_AddNullToObject(sinks, taken[i].name);
        }
    }
    if (alert->send_error != NULL)
        cJSON_AddStringToObject(object, "send_error", alert->send_error);
    else
        cJSON_AddNullToObject(object, "send_error");
    cJSON *details = alert->details ? json_check_parse_string(alert->details) : NULL;
    cJSON_AddItemToObject(object, "details", details ? details : cJSON_CreateNull());
    return object;
}

/* GET /v1/alerts?limit=&before=: newest first. */
static void api_system_alerts(ApiCall *call)
{
    long limit;
    int64_t before;
    if (!api_call_read_page(call, 50, "an alert id", &limit, &before))
        return;
    StoredAlert *alerts;
    size_t count;
    char err[256];
    if (store_alert_list(api_call_reader(call), before, (int)limit + 1, &alerts, &count, err,
                         sizeof err) != 0) {
        api_call_set_retry_after(call, 1);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    bool more = count > (size_t)limit;
    size_t shown = more ? (size_t)limit : count;
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "alerts");
    for (size_t i = 0; i < shown; i++)
        cJSON_AddItemToArray(array, api_system_render_alert(&alerts[i]));
    if (more)
        cJSON_AddNumberToObject(body, "next_before", (double)alerts[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_before");
    store_alert_list_free(alerts, count);
    api_call_reply(call, 200, body);
}

static const char *const api_system_alerts_query[] = {"limit", "before", NULL};

/* GET /v1/instances: the heraldd using this database, the latest heartbeat
 * first; "alive" if it beat within ROSTER_ALIVE_MS; "leader" if it holds the
 * leadership lease as the database sees it now. */
static void api_system_instances(ApiCall *call)
{
    StoreInstance *instances;
    size_t count;
    char err[256], time_text[CLOCK_RFC3339_SIZE];
    int64_t now = clock_now_ms();
    if (store_instance_list(api_call_reader(call), now, &instances, &count, err, sizeof err) !=
        0) {
        api_call_set_retry_after(call, 1);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "instances");
    for (size_t i = 0; i < count; i++) {
        const StoreInstance *instance = &instances[i];
        cJSON *object = cJSON_CreateObject();
        cJSON_AddStringToObject(object, "id", instance->id);
        cJSON_AddStringToObject(object, "host", instance->host);
        cJSON_AddNumberToObject(object, "pid", (double)instance->pid);
        cJSON_AddStringToObject(object, "version", instance->version);
        clock_format_rfc3339(instance->started_at, time_text);
        cJSON_AddStringToObject(object, "started_at", time_text);
        clock_format_rfc3339(instance->heartbeat_at, time_text);
        cJSON_AddStringToObject(object, "heartbeat_at", time_text);
        cJSON_AddBoolToObject(object, "alive", now - instance->heartbeat_at <= ROSTER_ALIVE_MS);
        cJSON_AddBoolToObject(object, "leader", instance->leader);
        cJSON_AddNumberToObject(object, "deliveries", (double)instance->deliveries);
        cJSON_AddItemToArray(array, object);
    }
    free(instances);
    api_call_reply(call, 200, body);
}

const ApiRoute api_system_routes[] = {
    {.method = "GET", .pattern = "/healthz", .public = true, .handler = api_system_health},
    {.method = "GET", .pattern = "/readyz", .public = true, .handler = api_system_ready},
    {.method = "GET", .pattern = "/metrics", .handler = api_system_metrics},
    {.method = "GET", .pattern = "/v1/alerts", .query = api_system_alerts_query, .handler = api_system_alerts},
    {.method = "GET", .pattern = "/v1/instances", .handler = api_system_instances},
    {.method = "GET", .pattern = "/v1/openapi.yaml", .public = true, .handler = api_system_openapi},
};

const size_t api_system_route_count = sizeof api_system_routes / sizeof api_system_routes[0];
