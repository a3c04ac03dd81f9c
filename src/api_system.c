/*
 * api_system: see api_system.h.
 */
#include "api_system.h"

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

const ApiRoute api_system_routes[] = {
    {"GET", "/healthz", false, false, true, api_system_health},
};

const size_t api_system_route_count = sizeof api_system_routes / sizeof api_system_routes[0];
