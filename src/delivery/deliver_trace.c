/*
 * deliver_trace: an attempt's span (see the header).
 */
#include "deliver_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "span.h"
#include "telemetry.h"

void deliver_trace_start(DeliverTrace *trace, const Task *task)
{
    memset(trace, 0, sizeof *trace);
    TraceContext parent;
    if (task->traceparent[0] == '\0' || trace_context_parse(task->traceparent, &parent) != 0)
        return;
    /* The sampled flag is the intake's decision, kept with the task. */
    if (telemetry_new_context(&parent, 1.0, &trace->context) != 0)
        return;
    memcpy(trace->parent_span_id, parent.span_id, TRACE_SPAN_ID_SIZE);
    trace->start_unix_ns = span_now_ns();
    trace->traced = true;
}

void deliver_trace_header(const DeliverTrace *trace, char out[TRACE_PARENT_LENGTH + 1])
{
    trace_context_format(&trace->context, out);
}

void deliver_trace_strip_credentials(const char *url, char *out, size_t size)
{
    const char *authority = strstr(url, "://");
    if (authority == NULL) {
        snprintf(out, size, "%s", url);
        return;
    }
    authority += 3;
    size_t length = strcspn(authority, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < length; i++)
        if (authority[i] == '@')
            at = authority + i; /* the last one: a password may hold '@' unencoded */
    if (at == NULL)
        snprintf(out, size, "%s", url);
    else
        snprintf(out, size, "%.*s%s", (int)(authority - url), url, at + 1);
}

/* server.address and server.port from a receiver "scheme://host:port". */
static void deliver_trace_server(Span *span, const char *receiver)
{
    const char *host = receiver != NULL ? strstr(receiver, "://") : NULL;
    if (host == NULL)
        return;
    host += 3;
    const char *colon = strrchr(host, ':');
    size_t length = colon != NULL ? (size_t)(colon - host) : strlen(host);
    if (length >= 2 && host[0] == '[' && host[length - 1] == ']') {
        host++; /* an IPv6 literal, without its brackets */
        length -= 2;
    }
    span_add_string_length(span, "server.address", host, length);
    if (colon != NULL)
        span_add_int(span, "server.port", strtol(colon + 1, NULL, 10));
}

void deliver_trace_finish(const DeliverTrace *trace, const Task *task, AttemptOutcome *outcome)
{
    if (!trace->traced)
        return;
    trace_hex(trace->context.trace_id, TRACE_ID_SIZE, outcome->trace_id);
    trace_hex(trace->context.span_id, TRACE_SPAN_ID_SIZE, outcome->span_id);
    Span *span = telemetry_span_new("POST", SPAN_KIND_CLIENT, &trace->context,
                                    trace->parent_span_id, trace->start_unix_ns);
    if (span == NULL)
        return;
    span->end_unix_ns = span_now_ns();
    span_set_trace_state(span, task->tracestate);
    const Attempt *attempt = &outcome->attempt;
    char url[TASK_TARGET_URL_MAX + 1];
    deliver_trace_strip_credentials(task->target_url, url, sizeof url);
    span_add_string(span, "http.request.method", "POST");
    span_add_string(span, "url.full", url);
    deliver_trace_server(span, task->target_host);
    if (attempt->status_code > 0)
        span_add_int(span, "http.response.status_code", attempt->status_code);
    if (attempt->error_class[0] != '\0') {
        span_add_string(span, "error.type", attempt->error_class);
        span->error = true;
    }
    span_add_int(span, "herald.task.id", task->id);
    span_add_string(span, "herald.business_type", task->business_type);
    span_add_int(span, "herald.attempt", attempt->attempt);
    span_add_string(span, "herald.webhook_id", task->webhook_id);
    telemetry_submit(span);
}
