/*
 * api_manual: the /v1/manual routes, where operators repair what failed:
 * list entries and show one (task, attempts, entries, actions) here; retry
 * with corrections, resolve by hand and retry many at once after an outage
 * in api_repair.c.
 */
#ifndef HERALD_API_MANUAL_H
#define HERALD_API_MANUAL_H

#include <stddef.h>
#include <stdint.h>

#include "api_call.h"

#define API_MANUAL_LIST_DEFAULT 100
#define API_MANUAL_LIST_MAX 500

/* The task id of the path's {id}; 0 if it is not one. */
int64_t api_manual_task_id(ApiCall *call);

/* {"task": TASK, "attempts": [...], "entries": [ENTRY...], "actions":
 * [ACTION...]} for TASK_ID (the caller owns it), or NULL with a 404 or 503
 * already set as the reply. */
cJSON *api_manual_describe(ApiCall *call, int64_t task_id);

/* Replies 503 unavailable (Retry-After: 1) quoting ERR. */
void api_manual_unavailable(ApiCall *call, const char *err);

extern const ApiRoute api_manual_routes[];
extern const size_t api_manual_route_count;

#endif
