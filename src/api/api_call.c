/*
 * api_call: see api_call.h. The accessors handlers use, suspend and resume,
 * and turning a reply into a libmicrohttpd response (api_call_send, called by
 * api.c once the handler has replied).
 */
#include "api_call.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "log.h"
#include "metrics.h"

/* ---- what handlers see (api_call.h) ---- */

const char *api_call_path_parameter(const ApiCall *call)
{
    return call->path_parameter ? call->path_parameter : "";
}

const char *api_call_query(ApiCall *call, const char *name)
{
    return MHD_lookup_connection_value(call->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *api_call_header(ApiCall *call, const char *name)
{
    return MHD_lookup_connection_value(call->connection, MHD_HEADER_KIND, name);
}

typedef struct ApiHeaderValues {
    const char *name;
    const char **values;
    size_t max;
    size_t count;
} ApiHeaderValues;

static enum MHD_Result api_call_collect_header(void *cls, enum MHD_ValueKind kind,
                                               const char *key, const char *value)
{
    (void)kind;
    ApiHeaderValues *wanted = cls;
    if (key != NULL && strcasecmp(key, wanted->name) == 0) {
        if (wanted->count < wanted->max)
            wanted->values[wanted->count] = value != NULL ? value : "";
        wanted->count++;
    }
    return MHD_YES;
}

size_t api_call_header_values(ApiCall *call, const char *name, const char **values, size_t max)
{
    ApiHeaderValues wanted = {.name = name, .values = values, .max = max, .count = 0};
    if (MHD_get_connection_values(call->connection, MHD_HEADER_KIND, api_call_collect_header,
                                  &wanted) < 0)
        return 0;
    return wanted.count;
}

const char *api_call_body(const ApiCall *call, size_t *length)
{
    *length = call->body.length;
    return call->body.data ? call->body.data : "";
}

Store *api_call_reader(ApiCall *call)
{
    if (call->reader == NULL)
        call->reader = store_pool_acquire(&call->api->readers);
    return call->reader;
}

Intake *api_call_intake(const ApiCall *call)
{
    return call->api->options.intake;
}

const char *api_call_actor(const ApiCall *call)
{
    return call->actor ? call->actor : "local";
}

bool api_call_read_page(ApiCall *call, long default_limit, const char *what, long *limit,
                        int64_t *before)
{
    const char *limit_text = api_call_query(call, "limit");
    const char *before_text = api_call_query(call, "before");
    char *end = NULL;
    *limit = limit_text ? strtol(limit_text, &end, 10) : default_limit;
    if (limit_text != NULL &&
        (*limit_text == '\0' || *end != '\0' || *limit < 1 || *limit > 500)) {
        api_call_fail(call, 400, "invalid_parameter", "limit",
                      "limit must be an integer from 1 to 500");
        return false;
    }
    long long value = before_text ? strtoll(before_text, &end, 10) : INT64_MAX;
    if (before_text != NULL && (*before_text == '\0' || *end != '\0' || value < 1)) {
        api_call_fail(call, 400, "invalid_parameter", "before",
                      "before must be %s (a positive integer)", what);
        return false;
    }
    *before = value;
    return true;
}

const ApiOptions *api_call_options(const ApiCall *call)
{
    return &call->api->options;
}

const NetGuard *api_call_guard(const ApiCall *call)
{
    return call->api->options.guard;
}

const PolicySet *api_call_policies(const ApiCall *call)
{
    return call->api->options.policies();
}

void api_call_announce_receivers(ApiCall *call)
{
    const ApiOptions *options = &call->api->options;
    if (options->on_receivers_changed != NULL)
        options->on_receivers_changed(options->on_tasks_due_argument);
}

void api_call_announce_due(ApiCall *call, const char *const *hosts, size_t count, int64_t due)
{
    const ApiOptions *options = &call->api->options;
    if (count > 0 && options->on_tasks_due != NULL)
        options->on_tasks_due(options->on_tasks_due_argument, hosts, count, due);
}

/* Drops any earlier reply: the last one set is the one sent. */
static void api_call_set_reply(ApiCall *call, int status, cJSON *body, char *text)
{
    cJSON_Delete(call->reply_body);
    free(call->reply_text);
    call->reply_body = body;
    call->reply_text = text;
    call->reply_static = NULL;
    call->reply_headers = NULL;
    call->status = status;
    call->has_reply = true;
}

void api_call_reply(ApiCall *call, int status, cJSON *body)
{
    api_call_set_reply(call, status, body, NULL);
}

void api_call_reply_text(ApiCall *call, int status, const char *content_type, char *text)
{
    api_call_set_reply(call, status, NULL, text);
    call->reply_type = content_type;
}

void api_call_reply_static(ApiCall *call, int status, const char *content_type, const char *data,
                           size_t size, const ApiHeader *headers)
{
    api_call_set_reply(call, status, NULL, NULL);
    call->reply_static = data;
    call->reply_size = size;
    call->reply_type = content_type;
    call->reply_headers = headers;
}

void api_call_reply_error(ApiCall *call, const ApiError *error)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *detail = cJSON_AddObjectToObject(body, "error");
    cJSON_AddStringToObject(detail, "code", error->code);
    cJSON_AddStringToObject(detail, "message", error->message);
    /* Always present, so every error has one shape: null when no single field is at fault. */
    if (error->field[0] != '\0')
        cJSON_AddStringToObject(detail, "field", error->field);
    else
        cJSON_AddNullToObject(detail, "field");
    if (error->task_id > 0)
        cJSON_AddNumberToObject(detail, "task_id", (double)error->task_id);
    api_call_reply(call, error->status, body);
}

void api_call_fail(ApiCall *call, int status, const char *code, const char *field,
                   const char *format, ...)
{
    ApiError error;
    char message[API_ERROR_MESSAGE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    api_error_set(&error, status, code, field, "%s", message);
    api_call_reply_error(call, &error);
}

void api_call_set_retry_after(ApiCall *call, int seconds)
{
    call->retry_after = seconds;
}

void api_call_set_state(ApiCall *call, void *state, void (*free_state)(void *state))
{
    call->state = state;
    call->free_state = free_state;
}

void *api_call_state(const ApiCall *call)
{
    return call->state;
}

void api_call_suspend(ApiCall *call, ApiHandler resumed)
{
    call->resumed = resumed;
    call->stage = API_CALL_SUSPENDED;
    MHD_suspend_connection(call->connection);
}

void api_call_resume(ApiCall *call)
{
    MHD_resume_connection(call->connection);
}

void api_call_submit(ApiCall *call, IntakeJob *job, ApiHandler resumed)
{
    /* Suspend first: the writer may finish and resume before submit returns. */
    api_call_suspend(call, resumed);
    char err[128];
    if (intake_submit(api_call_intake(call), job, err, sizeof err) != 0) {
        job->result = INTAKE_JOB_UNAVAILABLE;
        snprintf(job->message, sizeof job->message, "%s", err);
        api_call_resume(call);
    }
}

/* ---- sending ---- */

/* Every answer says its Content-Type is meant: a browser never guesses
 * another (a JSON error echoing input is never run as a page). */
static enum MHD_Result api_call_add_headers(struct MHD_Response *response,
                                            const char *content_type, const ApiHeader *extra)
{
    enum MHD_Result ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 content_type);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    for (const ApiHeader *header = extra; ok == MHD_YES && header && header->name; header++)
        ok = MHD_add_response_header(response, header->name, header->value);
    return ok;
}

/* Sends a text reply (e.g. /metrics; the text's memory goes to MHD) or a
 * static one (a console file; sent from where it is). */
static enum MHD_Result api_call_send_text(ApiCall *call)
{
    struct MHD_Response *response;
    if (call->reply_static != NULL) {
        response = MHD_create_response_from_buffer(call->reply_size, (void *)call->reply_static,
                                                   MHD_RESPMEM_PERSISTENT);
    } else {
        char *text = call->reply_text;
        call->reply_text = NULL;
        response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (response == NULL)
            free(text);
    }
    if (response == NULL)
        return MHD_NO;
    enum MHD_Result ok = api_call_add_headers(response, call->reply_type, call->reply_headers);
    if (ok == MHD_YES)
        ok = MHD_queue_response(call->connection, (unsigned int)call->status, response);
    MHD_destroy_response(response);
    return ok;
}

enum MHD_Result api_call_send(ApiCall *call)
{
    call->stage = API_CALL_REPLIED;
    if (call->route != NULL && call->route->intake)
        metrics_count_intake(call->status);
    if (call->reply_text != NULL || call->reply_static != NULL)
        return api_call_send_text(call);
    char *text = call->reply_body ? cJSON_PrintUnformatted(call->reply_body) : strdup("{}");
    if (text == NULL) {
        log_error("event=reply_failed error=\"out of memory\"");
        return MHD_NO;
    }
    size_t length = strlen(text);
    char *body = realloc(text, length + 2); /* a trailing newline is friendlier to curl users */
    if (body == NULL) {
        free(text);
        return MHD_NO;
    }
    body[length++] = '\n';
    body[length] = '\0';
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(body);
        return MHD_NO;
    }
    enum MHD_Result ok = api_call_add_headers(response, "application/json", NULL);
    char retry_after[16];
    if (ok == MHD_YES && call->retry_after > 0) {
        snprintf(retry_after, sizeof retry_after, "%d", call->retry_after);
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    }
    if (ok == MHD_YES && call->status == MHD_HTTP_METHOD_NOT_ALLOWED && call->allow[0] != '\0')
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, call->allow);
    /* While draining, every client is sent on its way after its reply. */
    if (ok == MHD_YES && (call->close_connection || atomic_load(&call->api->refuse_writes)))
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    if (ok == MHD_YES && call->status == MHD_HTTP_UNAUTHORIZED)
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     "Bearer realm=\"herald\"");
    if (ok == MHD_YES)
        ok = MHD_queue_response(call->connection, (unsigned int)call->status, response);
    MHD_destroy_response(response);
    return ok;
}
