/*
 * metrics: herald's counters and histograms, in Prometheus text format.
 *
 * Process-wide and lock-free: every value is an atomic, updated from any
 * thread (HTTP threads count intake responses, the scheduler counts
 * deliveries) and read when /metrics is scraped. Gauges that live in the
 * database (tasks by status, open manual entries) are passed in by the
 * caller at render time.
 */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

typedef struct MetricsGauges {
    int64_t tasks_by_status[4]; /* pending, delivering, succeeded, failed */
    int64_t manual_open;
} MetricsGauges;

/* An intake response (POST /v1/tasks, /v1/tasks/batch) with STATUS_CODE. */
void metrics_count_intake(int status_code);

/* A finished delivery attempt: OUTCOME_CLASS is "success" or its error class. */
void metrics_count_delivery(const char *outcome_class, int64_t duration_ms);

/* Time from a task's acceptance to the start of its first attempt. */
void metrics_observe_first_attempt_lag(int64_t lag_ms);

/* How far behind schedule due tasks are, and when the scheduler last ran a
 * turn of its loop (monotonic ms): for /readyz and the lag alert. */
void metrics_set_scheduler_lag(int64_t lag_ms);
int64_t metrics_scheduler_lag(void);
void metrics_scheduler_alive(int64_t monotonic_ms);
int64_t metrics_scheduler_last_alive(void);

void metrics_count_alert(const char *kind);

/* Appends the exposition text to OUT. Returns 0, or -1 if out of memory. */
int metrics_render(Buffer *out, const MetricsGauges *gauges);

#endif
