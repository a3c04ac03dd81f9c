/*
 * telemetry: spans out of heraldd, as OpenTelemetry traces over OTLP/HTTP.
 *
 * Threads that did something (an API thread after an intake, the delivery
 * loop after an attempt) build a Span (span.h) and hand it over with
 * telemetry_submit(), which never blocks on the network: it appends to a
 * bounded in-memory queue under a mutex held for a pointer swap, or drops
 * the span (counted) when the queue is full or the span is not sampled.
 * One thread of its own ("herald-otlp") takes batches from the queue,
 * encodes them (otlp.h), gzips them and POSTs them with libcurl; a collector
 * that is down, slow or answers an error costs dropped spans (counted in
 * /metrics), never delivery's time. Nothing is retried: a batch that fails
 * is dropped whole, so a dead collector cannot grow memory.
 *
 * Module state is one process-wide exporter, started by main once (when
 * [telemetry] endpoint is set) and stopped at shutdown after the threads
 * that submit have stopped.
 */
#ifndef HERALD_TELEMETRY_H
#define HERALD_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "span.h"
#include "trace_context.h"

#define TELEMETRY_BATCH_MAX 512 /* spans one export carries */

typedef struct TelemetryOptions {
    const char *endpoint;     /* OTLP/HTTP traces URL */
    const char *headers;      /* "name=value,..." (telemetry_headers.h) */
    const char *service_name; /* service.name */
    const char *instance_id;  /* service.instance.id: this heraldd's instance id */
    bool gzip;
    int64_t timeout_ms;  /* one export's longest wait */
    int64_t interval_ms; /* the longest a span waits before it is sent */
    int64_t queue_size;  /* spans waiting; past it new ones are dropped */
} TelemetryOptions;

/* Starts the exporter thread. The options' strings are copied. Returns 0, or
 * -1 with ERR set (nothing started). */
int telemetry_start(const TelemetryOptions *options, char *err, size_t errlen);

/* Sends what is queued for at most 2 s (an export in flight is cut off then,
 * so a hanging collector cannot hold a shutdown up), stops the thread and
 * frees everything; spans not sent count as dropped. Safe if never started.
 * Call once nothing submits. */
void telemetry_stop(void);

/* True while the exporter runs: spans are worth building. */
bool telemetry_exporting(void);

/* A span to build, as span_new makes it (span.h), when it is worth building
 * now: exporting, its trace (CONTEXT's flags) sampled, and the queue has
 * room; else NULL. One refused for want of room is counted as dropped here,
 * so a dead collector does not cost building spans only to free them. Spans
 * already sent are reused, so building one seldom allocates. The caller
 * fills it and hands it to telemetry_submit. */
Span *telemetry_span_new(const char *name, SpanKind kind, const TraceContext *context,
                         const uint8_t *parent, uint64_t start_unix_ns);

/* Takes SPAN (ownership passes): queued if exporting, sampled and there is
 * room; otherwise freed, and counted as dropped when exporting. */
void telemetry_submit(Span *span);

/* The context of a span in a trace: the caller's (PARENT, its trace and its
 * sampled flag: parent-based) or, with PARENT NULL, a new trace sampled with
 * probability RATIO (by its id, as the TraceIdRatioBased sampler does); a new
 * span id either way. Returns 0, or -1 if the random source fails. */
int telemetry_new_context(const TraceContext *parent, double ratio, TraceContext *out);

/* Appends the exporter's counters to /metrics' text: herald_telemetry_spans_
 * total{outcome="exported|dropped_queue_full|dropped_export_failed"} and
 * herald_telemetry_queue_spans. Returns 0, or -1 out of memory. */
int telemetry_render_metrics(Buffer *out);

#endif
