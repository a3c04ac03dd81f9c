/*
 * api_trace: a task's trace at its intake (issue 27). Each task a request
 * creates gets the context of its own intake span: a child of the caller's
 * span when the request carries a valid W3C traceparent (its tracestate kept
 * with the task), else the root of a new trace sampled by [telemetry]
 * sample_ratio. The context is stored with the task (TaskRequest.traceparent),
 * so every attempt, on whichever heraldd, is a child of that span. An invalid
 * traceparent or tracestate is ignored, as the standard says, never an error.
 */
#ifndef HERALD_API_TRACE_H
#define HERALD_API_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_call.h"
#include "trace_context.h"

/* What the intake spans need once the tasks are stored. */
typedef struct ApiIntakeTrace {
    bool has_parent;
    uint8_t parent_span_id[TRACE_SPAN_ID_SIZE]; /* the caller's span */
    uint64_t start_unix_ns;
} ApiIntakeTrace;

/* Gives each of REQUESTS (COUNT) its trace from CALL's headers; fills TRACE. */
void api_trace_intake_begin(ApiCall *call, TaskRequest *requests, size_t count,
                            ApiIntakeTrace *trace);

/* Reports the intake span (kind SERVER) of each task JOB created (not its
 * duplicates), answered with STATUS on ROUTE, when spans are exported. */
void api_trace_intake_end(const ApiIntakeTrace *trace, const char *route, int status,
                          const IntakeJob *job);

/* The task an operator acted on, for the action's span. */
typedef struct ApiActionTrace {
    int64_t task_id;
    char business_type[TASK_BUSINESS_TYPE_MAX + 1];
    char traceparent[TASK_TRACEPARENT_SIZE]; /* the task's intake span; "" none */
    uint64_t start_unix_ns;
} ApiActionTrace;

/* Notes TASK's trace and the time, as the action on it begins. */
void api_trace_action_begin(ApiActionTrace *trace, const Task *task);

/* True if CALL carries one valid traceparent, parsed into PARENT. */
bool api_trace_request_parent(ApiCall *call, TraceContext *parent);

/* Reports an operator's ACTION on a task ("retry", "redeliver"), committed,
 * as a span (kind SERVER, named "POST ROUTE") recording ACTOR, linked to the
 * task's intake span: in the trace of the operator's request when it carries
 * a traceparent, else in a new one, sampled as the task's trace is (an
 * action on a task whose trace is recorded is recorded too). The task's later
 * attempts stay children of its intake span (action_span.h). */
void api_trace_action_end(ApiCall *call, const ApiActionTrace *trace, const char *route,
                          const char *action, const char *actor);

#endif
