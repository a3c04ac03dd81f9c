/*
 * manual_json: the wire format of the manual-handling API: ENTRY and ACTION
 * objects, and the bodies of repair requests (validated with intake's rules).
 */
#ifndef HERALD_MANUAL_JSON_H
#define HERALD_MANUAL_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_error.h"
#include "manual.h"
#include "netguard.h"

#define MANUAL_NOTE_MAX 1024 /* characters */

/* POST /v1/manual/{id}/retry: every field optional. Strings are owned. */
typedef struct ManualRetryRequest {
    char *target_url;
    char *target_host;
    char *payload;
    size_t payload_length;
    bool payload_is_json;
    bool headers_given; /* "headers" was in the body: they replace the task's */
    char *headers_json; /* compact JSON object; NULL when given as {} */
    int max_retry; /* 0 = the business type's policy */
    char *note;
} ManualRetryRequest;

/* Most task ids one bulk request may name. */
#define MANUAL_BULK_IDS_MAX 1000

/* POST /v1/manual/retry and POST /v1/manual/resolve: which open entries
 * (every filter given must match), and what to record. */
typedef struct ManualBulkRequest {
    char *business_type; /* NULL = any */
    char *reason;        /* "exhausted" or "gone"; NULL = any */
    int64_t since;       /* moved_at >= since */
    int64_t until;       /* moved_at < until */
    int64_t *task_ids;   /* sorted, distinct; NULL = any (an operator's selection) */
    size_t task_id_count;
    /* Entry ids up to this one: a dry run's "through_id", so the confirmed
     * run takes what it counted and nothing that arrived since. INT64_MAX
     * when not given (every match, as before). Not a filter on its own. */
    int64_t through_id;
    bool dry_run;
    bool all; /* said "all": true; without it a request must give a filter */
    char *note;
} ManualBulkRequest;

/* POST /v1/tasks/{id}/redeliver. The reason is owned. */
typedef struct ManualRedeliverRequest {
    char *reason;       /* required: for the audit trail */
    bool full_schedule; /* the business type's whole schedule; false: one attempt */
} ManualRedeliverRequest;

/* Each reads BODY (LENGTH bytes; an empty body is allowed where every field
 * is optional). Returns 0, or -1 with a 400/422 in ERROR. The caller clears
 * OUT with the matching _clear function either way. */
/* Helpers for the request readers of this folder (redelivery_json.c too).
 * Each fails with a 422 validation_failed naming FIELD in ERROR and -1. */
int manual_json_fail(ApiError *error, const char *field, const char *message);
/* BODY as a JSON object (an empty body is {} when EMPTY_ALLOWED), or NULL. */
cJSON *manual_json_parse(const char *body, size_t length, bool empty_allowed, ApiError *error);
/* ITEM as a note: 1 to MANUAL_NOTE_MAX characters, no control characters but
 * newline and tab; *NOTE on the heap. */
int manual_json_read_text(const cJSON *item, const char *field, char **note, ApiError *error);
/* TEXT as a JSON string, or null for NULL. */
cJSON *manual_json_text(const char *text);
/* ITEM as an RFC 3339 time into *OUT (Unix ms). */
int manual_json_read_time(const cJSON *item, const char *field, int64_t *out, ApiError *error);

int manual_json_read_retry(const char *body, size_t length, const NetGuard *guard,
                           ManualRetryRequest *out, ApiError *error);
int manual_json_read_resolve(const char *body, size_t length, char **note, ApiError *error);
/* POST /v1/receivers/{receiver}/pause and /resume: an optional note. */
int manual_json_read_pause(const char *body, size_t length, char **note, ApiError *error);
int manual_json_read_redeliver(const char *body, size_t length, ManualRedeliverRequest *out,
                               ApiError *error);
/* NOTE_REQUIRED: a bulk resolve must say why (unless it is a dry run). */
int manual_json_read_bulk(const char *body, size_t length, bool note_required,
                          ManualBulkRequest *out, ApiError *error);

/* Whether TASK_ID is among REQUEST's task_ids (always, when it names none). */
bool manual_json_bulk_selects(const ManualBulkRequest *request, int64_t task_id);

void manual_json_retry_clear(ManualRetryRequest *request);
void manual_json_bulk_clear(ManualBulkRequest *request);

/* Objects the caller owns; NULL if out of memory. */
cJSON *manual_json_render_entry(const ManualEntry *entry);
cJSON *manual_json_render_action(const ManualAction *action);

#endif
