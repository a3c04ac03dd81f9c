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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

typedef struct MetricsGauges {
    int64_t tasks_by_status[4]; /* pending, delivering, succeeded, failed */
    int64_t manual_open;
    /* Ordering keys blocked by a head in manual handling, and for how long
     * the longest has been (seconds; 0: none). */
    int64_t ordering_blocked;
    double ordering_blocked_seconds;
    /* What the database server says (PostgreSQL): rendered when DATABASE_KNOWN. */
    bool database_known;
    const char *const *tables; /* the tables of DEAD_TUPLES, TABLE_COUNT of them */
    size_t table_count;
    const int64_t *dead_tuples;
    int64_t oldest_transaction_ms;
} MetricsGauges;

/* An intake response (POST /v1/tasks, /v1/tasks/batch) with STATUS_CODE. */
void metrics_count_intake(int status_code);

/* A finished delivery attempt: OUTCOME_CLASS is "success" or its error class. */
void metrics_count_delivery(const char *outcome_class, int64_t duration_ms);

/* Every attempt counted by metrics_count_delivery() since the start. */
uint64_t metrics_deliveries_total(void);

/* Time from a task's acceptance to the start of its first attempt. */
void metrics_observe_first_attempt_lag(int64_t lag_ms);

/* How far behind schedule the most overdue task that could be sent now is
 * (its receiver has a free slot: a receiver at its own concurrency limit
 * does not count), and when the scheduler last ran a turn of its loop
 * (monotonic ms): for /readyz and the delivery_lag alert. The lag is
 * computed when asked, from the due time of the work that waits, so it grows
 * while the scheduler is busy or held up and is never stale:
 *   metrics_set_waiting_due: the scheduler's earliest waiting due time
 *     (herald time; INT64_MAX: none);
 *   metrics_note_unseen_due / metrics_clear_unseen_due: the earliest due
 *     time of notices the scheduler has not taken yet (its inbox). */
void metrics_set_waiting_due(int64_t due_ms);
void metrics_note_unseen_due(int64_t due_ms);
void metrics_clear_unseen_due(void);
int64_t metrics_scheduler_lag(void);
void metrics_scheduler_alive(int64_t monotonic_ms);
int64_t metrics_scheduler_last_alive(void);

/* Whether this instance delivers: its scheduler turned within ALIVE_MS and
 * no task that could be sent now has waited longer than MAX_LAG_MS (*LAG_MS
 * gets the lag). /readyz and the delivery_lag alert both ask this. */
typedef enum {
    METRICS_READY,
    METRICS_SCHEDULER_SILENT,
    METRICS_LAGGING,
} MetricsReadiness;
MetricsReadiness metrics_readiness(int64_t alive_ms, int64_t max_lag_ms, int64_t *lag_ms);

void metrics_count_alert(const char *kind);

/* Whether this instance leads the heraldd sharing its database (runs the
 * singletons while it holds the leadership lease: store_leader_acquire);
 * herald_leader 1 or 0. */
void metrics_set_leader(bool leader);
bool metrics_leader(void);

/* This heraldd's id (roster.h) and version: herald_instance_info{id,version} 1,
 * so that each instance's series can be told apart and joined to
 * GET /v1/instances. Set once by main before the API starts (ID is copied). */
void metrics_set_instance(const char *id);

/* PostgreSQL: the server ("host:port") the session named SESSION (its
 * application_name) connected to: herald_database_session_info{session,
 * server} 1, for the last METRICS_SESSIONS_MAX names seen. Both copied. */
#define METRICS_SESSIONS_MAX 16
void metrics_set_database_session(const char *session, const char *server);

/* The process's sessions moved to another server (a failover, as heraldd
 * sees one): herald_database_failovers_total. Returns the new count. */
uint64_t metrics_count_database_failover(void);

/* One receiver (scheme://host:port) as the scheduler sees it. */
typedef struct MetricsReceiver {
    const char *key; /* borrowed for the call */
    int in_flight;
    int64_t lag_ms; /* how long its earliest due task has waited; 0 if none is due */
    int64_t held_until; /* Unix ms: it asked (Retry-After) to be left alone until then; 0 */
    bool paused;        /* an operator paused it (its waiting is not lag) */
    bool circuit_open;  /* its circuit breaker is open (its waiting is not lag) */
} MetricsReceiver;

/* The receivers with requests in flight, due tasks waiting, a hold, a pause or an open
 * circuit, most overdue
 * first, at most METRICS_RECEIVERS_MAX (the scheduler publishes them once a
 * second; they are copied). Returns 0, or -1 if out of memory (the old
 * snapshot stays). */
#define METRICS_RECEIVERS_MAX 100
int metrics_set_receivers(const MetricsReceiver *receivers, size_t count);

/* The in-flight count of receiver KEY in the last snapshot (0 if absent). */
int metrics_receiver_in_flight(const char *key);

/* Until when this heraldd holds receiver KEY (Retry-After), as of the last
 * snapshot: Unix ms, or 0. */
int64_t metrics_receiver_held_until(const char *key);

/* Frees the snapshot (at exit). */
void metrics_free(void);

/* Appends the exposition text to OUT. Returns 0, or -1 if out of memory. */
int metrics_render(Buffer *out, const MetricsGauges *gauges);

#endif
