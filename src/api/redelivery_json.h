/*
 * redelivery_json: the request of POST /v1/redeliveries, read strictly (an
 * unknown or repeated field, a bad value: a 422 naming the field), and a
 * redelivery job (redelivery.h) as the API shows it.
 */
#ifndef HERALD_REDELIVERY_JSON_H
#define HERALD_REDELIVERY_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "redelivery.h"

typedef struct RedeliveryRequest {
    RedeliveryJob job; /* filter, full_schedule, pace and reason (owned) */
    bool dry_run;
} RedeliveryRequest;

/* {"filter": {"business_type", "receiver", "url_prefix", "status",
 * "error_class", "created_after", "created_before"}, "schedule":
 * "once"|"full", "pace": tasks a second, "reason", "dry_run"} into OUT (the
 * caller clears OUT->job). Returns 0, or -1 with ERROR. */
int redelivery_json_read(const char *body, size_t length, RedeliveryRequest *out,
                         ApiError *error);

/* JOB as {"id", "state", "filter", "schedule", "pace", "reason", "actor",
 * "matched", "sent", "skipped", "remaining", "created_at", ...}. NULL if out
 * of memory. */
cJSON *redelivery_json_render(const RedeliveryJob *job);

#endif
