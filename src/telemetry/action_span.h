/*
 * action_span: an operator's action on a task (a retry, a redelivery; one
 * task's, each of a bulk retry's, each a redelivery job sends) as a span
 * linked to the task's intake span, recording who did it (issue 27). The
 * API's handlers and the redelivery jobs' thread report through it, so the
 * span is built one way wherever the action happened.
 *
 * The span is in the trace of the operator's request when it carried a
 * traceparent (a child of its span), else in a new trace sampled as the
 * task's trace is (an action on a task whose trace is recorded is recorded
 * too). The task's later attempts stay children of its intake span: one
 * trace a task, the action joined to it by the link.
 */
#ifndef HERALD_ACTION_SPAN_H
#define HERALD_ACTION_SPAN_H

#include <stdint.h>

#include "span.h"
#include "trace_context.h"

/* What an action is, for the spans of the tasks it acts on. Borrowed. */
typedef struct ActionSpan {
    const char *name;           /* the span's name: "POST <route>", "redelivery job" */
    SpanKind kind;
    const char *route;          /* http.route; NULL: not an HTTP request */
    const char *action;         /* herald.action: "retry", "redeliver" */
    const char *actor;          /* herald.actor: any bytes (repaired to UTF-8) */
    const TraceContext *parent; /* the operator's request's span; NULL: none */
    int64_t job_id;             /* herald.redelivery.job_id; 0: none */
    uint64_t start_unix_ns;
    uint64_t end_unix_ns;
} ActionSpan;

/* Reports ACTION on task TASK_ID (of BUSINESS_TYPE, its intake span
 * TASK_TRACEPARENT, "" or NULL: none, and then nothing is reported) when
 * spans are exported. */
void action_span_report(const ActionSpan *action, int64_t task_id, const char *business_type,
                        const char *task_traceparent);

#endif
