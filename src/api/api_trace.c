/*
 * api_trace: the trace of the tasks a request creates (see the header).
 */
#include "api_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_span.h"
#include "api.h"
#include "config.h"
#include "telemetry.h"

/* Every tracestate header of CALL joined by ',' into OUT: true if the list is
 * valid and holds a member (else OUT means nothing). */
static bool api_trace_join_state(ApiCall *call, char *out, size_t size)
{
    enum { API_TRACE_STATE_HEADERS = 32 };
    const char *values[API_TRACE_STATE_HEADERS];
    size_t count = api_call_header_values(call, "tracestate", values, API_TRACE_STATE_HEADERS);
    if (count == 0 || count > API_TRACE_STATE_HEADERS)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t length = strlen(values[i]);
        if (used + (i > 0) + length >= size)
            return false; /* past TRACE_STATE_MAX: ignored whole */
        if (i > 0)
            out[used++] = ',';
        memcpy(out + used, values[i], length);
        used += length;
    }
    out[used] = '\0';
    return strchr(out, '=') != NULL && trace_state_is_valid(out);
}

void api_trace_intake_begin(ApiCall *call, TaskRequest *requests, size_t count,
                            ApiIntakeTrace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->start_unix_ns = span_now_ns();
    /* While the database cannot keep a trace (PostgreSQL, migration 019 held
     * back for an earlier release), a task gets none: its intake span would
     * have no attempts under it. */
    if (!store_traces_ready(api_call_reader(call)))
        return;
    TraceContext parent;
    /* traceparent sent twice is not one parent: ignored, as the standard says. */
    if (api_trace_request_parent(call, &parent)) {
        trace->has_parent = true;
        memcpy(trace->parent_span_id, parent.span_id, TRACE_SPAN_ID_SIZE);
    }
    /* A tracestate goes with a valid traceparent only (the standard's rule);
     * sent in several headers, they are one list, joined. */
    char tracestate[TRACE_STATE_MAX + 1] = "";
    if (trace->has_parent && !api_trace_join_state(call, tracestate, sizeof tracestate))
        tracestate[0] = '\0';
    const ApiOptions *options = api_call_options(call);
    const Config *config = options->config != NULL ? options->config() : NULL;
    double ratio = config != NULL ? config->telemetry_sample_ratio : 1.0;
    for (size_t i = 0; i < count; i++) {
        TraceContext context;
        if (telemetry_new_context(trace->has_parent ? &parent : NULL, ratio, &context) != 0)
            continue; /* the kernel's random source failed: this task goes untraced */
        trace_context_format(&context, requests[i].traceparent);
        if (tracestate[0] != '\0')
            requests[i].tracestate = strdup(tracestate); /* NULL: without it, not worth a 503 */
    }
}

void api_trace_intake_end(const ApiIntakeTrace *trace, const char *route, int status,
                          const IntakeJob *job)
{
    if (job->result != INTAKE_JOB_OK || !telemetry_exporting())
        return;
    uint64_t end = span_now_ns();
    for (size_t i = 0; i < job->count; i++) {
        const Task *task = &job->tasks[i];
        TraceContext context;
        if (job->duplicates[i] || trace_context_parse(task->traceparent, &context) != 0)
            continue;
        char name[SPAN_NAME_MAX];
        snprintf(name, sizeof name, "POST %s", route);
        Span *span = telemetry_span_new(name, SPAN_KIND_SERVER, &context,
                              trace->has_parent ? trace->parent_span_id : NULL,
                              trace->start_unix_ns);
        if (span == NULL)
            continue;
        span->end_unix_ns = end;
        span_set_trace_state(span, task->tracestate);
        span_add_string(span, "http.request.method", "POST");
        span_add_string(span, "http.route", route);
        span_add_int(span, "http.response.status_code", status);
        span_add_int(span, "herald.task.id", task->id);
        span_add_string(span, "herald.business_type", task->business_type);
        span_add_string(span, "herald.webhook_id", task->webhook_id);
        telemetry_submit(span);
    }
}

void api_trace_action_begin(ApiActionTrace *trace, const Task *task)
{
    memset(trace, 0, sizeof *trace);
    trace->task_id = task->id;
    snprintf(trace->business_type, sizeof trace->business_type, "%s",
             task->business_type ? task->business_type : "");
    memcpy(trace->traceparent, task->traceparent, sizeof trace->traceparent);
    trace->start_unix_ns = span_now_ns();
}

bool api_trace_request_parent(ApiCall *call, TraceContext *parent)
{
    const char *values[2];
    /* Sent twice, it is not one parent (as at intake). */
    return api_call_header_values(call, "traceparent", values, 1) == 1 &&
           trace_context_parse(values[0], parent) == 0;
}

void api_trace_action_end(ApiCall *call, const ApiActionTrace *trace, const char *route,
                          const char *action, const char *actor)
{
    if (!telemetry_exporting())
        return;
    TraceContext parent;
    char name[SPAN_NAME_MAX];
    snprintf(name, sizeof name, "POST %s", route);
    ActionSpan span = {.name = name, .kind = SPAN_KIND_SERVER, .route = route, .action = action,
                       .actor = actor,
                       .parent = api_trace_request_parent(call, &parent) ? &parent : NULL,
                       .start_unix_ns = trace->start_unix_ns, .end_unix_ns = span_now_ns()};
    action_span_report(&span, trace->task_id, trace->business_type, trace->traceparent);
}
