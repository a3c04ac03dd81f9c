/*
 * deliver_trace: an attempt as a span (issue 27): kind CLIENT, in its task's
 * trace, child of the task's intake span (Task.traceparent), with the
 * OpenTelemetry HTTP conventions' attributes and herald's own; the
 * traceparent a receiver gets when its business type propagates; and the
 * ids the attempt's log line carries. A task without a trace (accepted
 * before herald kept them) has none of these.
 */
#ifndef HERALD_DELIVER_TRACE_H
#define HERALD_DELIVER_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "task.h"
#include "trace_context.h"

/* An attempt's span, from the start of its request. */
typedef struct DeliverTrace {
    bool traced;                 /* the task has a trace */
    TraceContext context;        /* the task's trace, this attempt's span id */
    uint8_t parent_span_id[TRACE_SPAN_ID_SIZE]; /* the intake span */
    uint64_t start_unix_ns;
} DeliverTrace;

/* Starts TRACE for an attempt of TASK now. */
void deliver_trace_start(DeliverTrace *trace, const Task *task);

/* The traceparent header's value for the receiver: this attempt's span. */
void deliver_trace_header(const DeliverTrace *trace, char out[TRACE_PARENT_LENGTH + 1]);

/* Ends the span with OUTCOME (its status code and error class), fills the
 * outcome's trace_id and span_id for its log line and hands the span to the
 * exporter when spans are exported and the trace is sampled. */
void deliver_trace_finish(const DeliverTrace *trace, const Task *task, AttemptOutcome *outcome);

/* URL without its user name and password, as url.full wants it, into OUT. */
void deliver_trace_strip_credentials(const char *url, char *out, size_t size);

#endif
