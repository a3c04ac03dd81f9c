/*
 * action_span: an operator's action on a task as a span (see the header).
 */
#include "action_span.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry.h"
#include "utf8.h"

void action_span_report(const ActionSpan *action, int64_t task_id, const char *business_type,
                        const char *task_traceparent)
{
    TraceContext task_context, context;
    if (!telemetry_exporting() || task_traceparent == NULL ||
        trace_context_parse(task_traceparent, &task_context) != 0)
        return;
    double ratio = (task_context.flags & TRACE_FLAG_SAMPLED) ? 1.0 : 0.0;
    if (telemetry_new_context(action->parent, ratio, &context) != 0)
        return; /* the random source failed: this one goes unreported */
    Span *span = telemetry_span_new(action->name, action->kind, &context,
                                    action->parent ? action->parent->span_id : NULL,
                                    action->start_unix_ns);
    if (span == NULL)
        return;
    span->end_unix_ns = action->end_unix_ns;
    span->has_link = true;
    span->link = task_context;
    if (action->route != NULL) {
        span_add_string(span, "http.request.method", "POST");
        span_add_string(span, "http.route", action->route);
    }
    span_add_string(span, "herald.action", action->action);
    /* A token's name is any bytes the tokens file holds; OTLP strings are UTF-8. */
    const char *actor = action->actor != NULL ? action->actor : "";
    char *repaired = utf8_is_valid(actor, strlen(actor)) ? NULL
                                                          : utf8_sanitize(actor, strlen(actor));
    span_add_string(span, "herald.actor", repaired != NULL ? repaired : actor);
    free(repaired);
    span_add_int(span, "herald.task.id", task_id);
    span_add_string(span, "herald.business_type", business_type ? business_type : "");
    if (action->job_id != 0)
        span_add_int(span, "herald.redelivery.job_id", action->job_id);
    telemetry_submit(span);
}
