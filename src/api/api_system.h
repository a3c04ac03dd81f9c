/*
 * api_system: endpoints about herald itself rather than its tasks:
 * GET /healthz (liveness: the process and its database answer), GET /readyz
 * (readiness: the scheduler runs and keeps up), GET /metrics (Prometheus).
 */
#ifndef HERALD_API_SYSTEM_H
#define HERALD_API_SYSTEM_H

#include <stddef.h>

#include "alert_types.h"
#include "api_call.h"

extern const ApiRoute api_system_routes[];
extern const size_t api_system_route_count;

/* ALERT as the API shows it (GET /v1/alerts, GET /v1/overview); the caller
 * owns the object. */
cJSON *api_system_render_alert(const StoredAlert *alert);

#endif
