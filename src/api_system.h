/*
 * api_system: endpoints about herald itself rather than its tasks:
 * GET /healthz (liveness: the process and its database answer), GET /readyz
 * (readiness: the scheduler runs and keeps up), GET /metrics (Prometheus).
 */
#ifndef HERALD_API_SYSTEM_H
#define HERALD_API_SYSTEM_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_system_routes[];
extern const size_t api_system_route_count;

#endif
