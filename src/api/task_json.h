/*
 * task_json: the wire format of tasks, in one place.
 *
 * Reading: a request body is checked (UTF-8, no NUL, parseable, an object),
 * then each task object is validated field by field into a TaskRequest; the
 * first rule broken becomes a 422 naming the field ("tasks[3].target_url").
 * Unknown fields are refused too, so a typo such as "max_retries" is never
 * silently ignored. Writing a task back out is task_render's job.
 */
#ifndef HERALD_TASK_JSON_H
#define HERALD_TASK_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "api_error.h"
#include "attempt.h"
#include "json_raw.h"
#include "netguard.h"
#include "task.h"

/* Parses a request body. On success returns 0 and *OUT is a document the
 * caller owns (cJSON_Delete); on failure returns -1 with a 400 in ERROR. */
int task_json_parse_document(const char *body, size_t length, cJSON **out, ApiError *error);

/* Validates the task request OBJECT, whose text is SPAN of TEXT (the parsed
 * body), into OUT, which the caller must task_request_clear(). PREFIX is put
 * before field names in errors ("" or "tasks[3]."). IDEMPOTENCY_HEADER is the
 * Idempotency-Key request header or NULL. A target_url whose host is a literal
 * address GUARD blocks is refused (GUARD NULL: no check). Returns 0, or -1
 * with ERROR set (OUT is then cleared). */
int task_json_read_request(const cJSON *object, const char *text, JsonSpan span,
                           const char *prefix, const char *idempotency_header,
                           const NetGuard *guard, TaskRequest *out, ApiError *error);

/* Parses BODY (LENGTH bytes) and validates it as one task request into OUT,
 * which the caller must task_request_clear() after success. Returns 0, or -1
 * with a 400 or 422 in ERROR (OUT is then empty). */
int task_json_read_body(const char *body, size_t length, const char *idempotency_header,
                        const NetGuard *guard, TaskRequest *out, ApiError *error);

/* The largest batch: POST /v1/tasks/batch takes 1 to this many tasks. */
#define TASK_JSON_BATCH_MAX 1000

/* Parses BODY as a batch {"tasks": [TASK...]} and validates every task. On
 * success *OUT is an array of *COUNT requests the caller owns (clear each,
 * then free the array); on failure returns -1 with a 400 or 422 in ERROR
 * naming the first field at fault ("tasks[3].target_url"), and *OUT is NULL. */
int task_json_read_batch(const char *body, size_t length, const NetGuard *guard,
                         TaskRequest **out, size_t *count, ApiError *error);

/* Intake's rules for a target_url value, for other requests that carry one:
 * on success *URL and *HOST are heap strings the caller frees. */
int task_json_read_target_url_value(const cJSON *item, const NetGuard *guard, char **url,
                                    char **host, ApiError *error);

/* Intake's rules for a headers value: on success *HEADERS_JSON (the caller
 * frees it) is its compact JSON text, or NULL for an empty object. */
int task_json_read_headers_value(const cJSON *item, char **headers_json, ApiError *error);

/* Intake's rules for a payload value whose text is SPAN of TEXT: on success
 * *PAYLOAD (the caller frees it) holds the bytes to send. */
int task_json_read_payload_value(const cJSON *item, const char *text, JsonSpan span,
                                 char **payload, size_t *length, bool *is_json, ApiError *error);

#endif
