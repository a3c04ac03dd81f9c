/*
 * task_render: tasks and attempts as the API shows them (the TASK and ATTEMPT
 * objects). The TASK writer is on the hot path, since every 201 carries the
 * task, so it writes text with json_write; callers that assemble a larger
 * cJSON document (every GET) get the same bytes as a raw item, after a check
 * that the stored payload is still JSON.
 */
#include "task_render.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json_check.h"
#include "trace_context.h"
#include "utf8.h"

cJSON *task_render_time(int64_t unix_ms)
{
    if (unix_ms == 0)
        return cJSON_CreateNull();
    char text[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(unix_ms, text);
    return cJSON_CreateString(text);
}

static cJSON *task_render_string_or_null(const char *text)
{
    return text ? cJSON_CreateString(text) : cJSON_CreateNull();
}

static void task_render_write_time(JsonWriter *writer, const char *key, int64_t unix_ms)
{
    /* Timestamps repeat within a reply (a new task's three are equal, and a
     * batch's tasks share them), so the last one formatted on this thread is
     * kept. */
    static _Thread_local bool formatted = false;
    static _Thread_local int64_t last_ms;
    static _Thread_local char last_text[CLOCK_RFC3339_SIZE];
    if (!formatted || unix_ms != last_ms) {
        clock_format_rfc3339(unix_ms, last_text);
        last_ms = unix_ms;
        formatted = true;
    }
    json_write_key(writer, key);
    json_write_string(writer, last_text);
}

void task_render_write_members(JsonWriter *writer, const Task *task)
{
    bool terminal = task->status == TASK_STATUS_SUCCEEDED || task->status == TASK_STATUS_FAILED;
    json_write_key(writer, "id");
    json_write_int(writer, task->id);
    json_write_key(writer, "webhook_id");
    json_write_string(writer, task->webhook_id);
    json_write_key(writer, "business_id");
    json_write_string(writer, task->business_id);
    json_write_key(writer, "business_type");
    json_write_string(writer, task->business_type);
    json_write_key(writer, "target_url");
    json_write_string(writer, task->target_url);
    json_write_key(writer, "status");
    json_write_string(writer, task_status_name(task->status));
    json_write_key(writer, "attempts");
    json_write_int(writer, task->attempts);
    json_write_key(writer, "max_retry");
    json_write_int(writer, task->max_retry);
    /* A task waiting behind its ordering key's head has no time of its own. */
    if (terminal || task->next_attempt_at == TASK_ORDERING_WAITING_AT) {
        json_write_key(writer, "next_attempt_at");
        json_write_null(writer);
    } else {
        task_render_write_time(writer, "next_attempt_at", task->next_attempt_at);
    }
    task_render_write_time(writer, "created_at", task->created_at);
    task_render_write_time(writer, "updated_at", task->updated_at);
    json_write_key(writer, "last_status_code");
    if (task->last_status_code)
        json_write_int(writer, task->last_status_code);
    else
        json_write_null(writer);
    json_write_key(writer, "last_error");
    json_write_string(writer, task->last_error);
    json_write_key(writer, "idempotency_key");
    json_write_string(writer, task->idempotency_key);
    /* Only where the task's place in its key was read (one task, not a
     * listing): {"key", "sequence", "waiting" behind its key's head}. */
    if (task->ordering_key != NULL && task->ordering_seq > 0) {
        json_write_key(writer, "ordering");
        json_write_begin_object(writer);
        json_write_key(writer, "key");
        json_write_string(writer, task->ordering_key);
        json_write_key(writer, "sequence");
        json_write_int(writer, task->ordering_seq);
        json_write_key(writer, "waiting");
        json_write_bool(writer, task->next_attempt_at == TASK_ORDERING_WAITING_AT);
        json_write_end_object(writer);
    }
    /* Its trace, where one task is read (a listing has none): the trace id,
     * the intake span's id (every attempt's parent), whether it is sampled. */
    TraceContext context;
    if (task->traceparent[0] != '\0' && trace_context_parse(task->traceparent, &context) == 0) {
        char trace_id[2 * TRACE_ID_SIZE + 1], span_id[2 * TRACE_SPAN_ID_SIZE + 1];
        trace_hex(context.trace_id, TRACE_ID_SIZE, trace_id);
        trace_hex(context.span_id, TRACE_SPAN_ID_SIZE, span_id);
        json_write_key(writer, "trace");
        json_write_begin_object(writer);
        json_write_key(writer, "trace_id");
        json_write_string(writer, trace_id);
        json_write_key(writer, "span_id");
        json_write_string(writer, span_id);
        json_write_key(writer, "sampled");
        json_write_bool(writer, (context.flags & TRACE_FLAG_SAMPLED) != 0);
        json_write_end_object(writer);
    }
    json_write_key(writer, "headers");
    if (task->headers_json)
        json_write_raw(writer, task->headers_json, strlen(task->headers_json));
    else
        json_write_raw(writer, "{}", 2);
    json_write_key(writer, "payload");
    if (task->payload_is_json)
        json_write_raw(writer, task->payload, strlen(task->payload));
    else
        json_write_string(writer, task->payload);
}

cJSON *task_render_task(const Task *task)
{
    /* A payload stored before herald checked the JSON grammar (a number such
     * as 01) is shown as the string of its bytes: a reply is always JSON. */
    Task shown = *task;
    if (shown.payload_is_json &&
        json_check(shown.payload, strlen(shown.payload), JSON_CHECK_DEPTH_MAX, NULL) != 0)
        shown.payload_is_json = false;
    JsonWriter writer;
    json_write_init(&writer, SIZE_MAX);
    json_write_begin_object(&writer);
    task_render_write_members(&writer, &shown);
    json_write_end_object(&writer);
    char *text = json_write_finish(&writer, NULL);
    cJSON *object = text ? cJSON_CreateRaw(text) : NULL;
    free(text);
    return object;
}

cJSON *task_render_attempt(const Attempt *attempt)
{
    cJSON *object = cJSON_CreateObject();
    char *body = attempt->response_body
                     ? utf8_sanitize(attempt->response_body, attempt->response_length)
                     : NULL;
    bool failed = attempt->error_class[0] != '\0';
    bool ok = object != NULL && (attempt->response_body == NULL || body != NULL) &&
              cJSON_AddNumberToObject(object, "attempt", attempt->attempt) &&
              cJSON_AddItemToObject(object, "started_at",
                                    task_render_time(attempt->started_at)) &&
              cJSON_AddNumberToObject(object, "duration_ms", (double)attempt->duration_ms) &&
              cJSON_AddItemToObject(object, "status_code",
                                    attempt->status_code ? cJSON_CreateNumber(attempt->status_code)
                                                         : cJSON_CreateNull()) &&
              cJSON_AddItemToObject(object, "error_class",
                                    task_render_string_or_null(failed ? attempt->error_class : NULL)) &&
              cJSON_AddItemToObject(object, "error_message",
                                    task_render_string_or_null(failed ? attempt->error_message : NULL)) &&
              cJSON_AddItemToObject(object, "response_body", task_render_string_or_null(body)) &&
              cJSON_AddBoolToObject(object, "response_truncated", attempt->response_truncated) &&
              cJSON_AddItemToObject(object, "receiver", task_render_string_or_null(attempt->receiver));
    free(body);
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}
