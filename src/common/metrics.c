/*
 * metrics: see metrics.h. Histograms keep cumulative-ready bucket counts and
 * a sum in microseconds, all atomics; rendering reads each once.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "version.h"

static const double metrics_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10,
                                         30,     60};
#define METRICS_BUCKET_COUNT (sizeof metrics_buckets / sizeof metrics_buckets[0])

typedef struct MetricsHistogram {
    atomic_ullong buckets[METRICS_BUCKET_COUNT + 1]; /* the last one is +Inf */
    atomic_ullong sum_us;
    atomic_ullong count;
} MetricsHistogram;

/* Every error class deliver.c and the store's lease sweep give an attempt. */
static const char *const metrics_outcomes[] = {
    "success",       "timeout",  "connect",         "dns",   "tls",
    "network",       "protocol", "response_too_large", "http_status", "redirect",
    "body_mismatch", "gone",     "url",             "transport", "interrupted",
    "blocked_address", "other",
};
#define METRICS_OUTCOME_COUNT (sizeof metrics_outcomes / sizeof metrics_outcomes[0])

static const int metrics_intake_codes[] = {200, 201, 400, 401, 404, 405, 409, 413, 415, 422, 503};
#define METRICS_INTAKE_CODE_COUNT (sizeof metrics_intake_codes / sizeof metrics_intake_codes[0])

static const char *const metrics_alert_kinds[] = {"manual_backlog", "delivery_lag",
                                                  "circuit_open"};
#define METRICS_ALERT_KIND_COUNT (sizeof metrics_alert_kinds / sizeof metrics_alert_kinds[0])

static atomic_ullong metrics_deliveries[METRICS_OUTCOME_COUNT];
static atomic_ullong metrics_intake[METRICS_INTAKE_CODE_COUNT + 1]; /* + other */
static atomic_ullong metrics_alerts[METRICS_ALERT_KIND_COUNT];
static MetricsHistogram metrics_delivery_duration;
static MetricsHistogram metrics_first_attempt_lag;
static atomic_llong metrics_waiting_due = INT64_MAX;
static atomic_llong metrics_unseen_due = INT64_MAX;
static atomic_llong metrics_alive_ms;

/* The receivers snapshot: owned copies, replaced whole under the lock. */
static pthread_mutex_t metrics_receivers_lock = PTHREAD_MUTEX_INITIALIZER;
static MetricsReceiver *metrics_receivers;
static size_t metrics_receiver_count;

static void metrics_observe(MetricsHistogram *histogram, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    double seconds = (double)ms / 1000.0;
    size_t bucket = 0;
    while (bucket < METRICS_BUCKET_COUNT && seconds > metrics_buckets[bucket])
        bucket++;
    atomic_fetch_add(&histogram->buckets[bucket], 1);
    atomic_fetch_add(&histogram->sum_us, (unsigned long long)ms * 1000);
    atomic_fetch_add(&histogram->count, 1);
}

void metrics_count_intake(int status_code)
{
    size_t index = 0;
    while (index < METRICS_INTAKE_CODE_COUNT && metrics_intake_codes[index] != status_code)
        index++;
    atomic_fetch_add(&metrics_intake[index], 1);
}

void metrics_count_delivery(const char *outcome_class, int64_t duration_ms)
{
    size_t index = 0;
    while (index < METRICS_OUTCOME_COUNT - 1 && strcmp(metrics_outcomes[index], outcome_class) != 0)
        index++;
    atomic_fetch_add(&metrics_deliveries[index], 1);
    metrics_observe(&metrics_delivery_duration, duration_ms);
}

uint64_t metrics_deliveries_total(void)
{
    uint64_t total = 0;
    for (size_t i = 0; i < METRICS_OUTCOME_COUNT; i++)
        total += atomic_load(&metrics_deliveries[i]);
    return total;
}

void metrics_observe_first_attempt_lag(int64_t lag_ms)
{
    metrics_observe(&metrics_first_attempt_lag, lag_ms);
}

void metrics_set_waiting_due(int64_t due_ms)
{
    atomic_store(&metrics_waiting_due, due_ms);
}

void metrics_note_unseen_due(int64_t due_ms)
{
    long long seen = atomic_load(&metrics_unseen_due);
    while (due_ms < seen && !atomic_compare_exchange_weak(&metrics_unseen_due, &seen, due_ms))
        ;
}

void metrics_clear_unseen_due(void)
{
    atomic_store(&metrics_unseen_due, INT64_MAX);
}

int64_t metrics_scheduler_lag(void)
{
    int64_t due = atomic_load(&metrics_waiting_due);
    int64_t unseen = atomic_load(&metrics_unseen_due);
    if (unseen < due)
        due = unseen;
    int64_t now = clock_now_ms();
    return due < now ? now - due : 0;
}

static atomic_bool metrics_is_leader;

void metrics_set_leader(bool leader)
{
    atomic_store(&metrics_is_leader, leader);
}

bool metrics_leader(void)
{
    return atomic_load(&metrics_is_leader);
}

static char metrics_instance_id[128];

static int metrics_printf(Buffer *out, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* The sessions' servers: guarded by metrics_sessions_lock. */
static pthread_mutex_t metrics_sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char session[64];
    char server[160];
} metrics_sessions[METRICS_SESSIONS_MAX];
static size_t metrics_session_count;
static atomic_ullong metrics_database_failovers;

/* A label value: quotes and backslashes would end it early. */
static void metrics_copy_label(char *out, size_t size, const char *value)
{
    snprintf(out, size, "%s", value);
    for (char *c = out; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\' || *c == '\n')
            *c = '_';
    }
}

void metrics_set_database_session(const char *session, const char *server)
{
    if (pthread_mutex_lock(&metrics_sessions_lock) != 0)
        return;
    size_t i = 0;
    while (i < metrics_session_count && strcmp(metrics_sessions[i].session, session) != 0)
        i++;
    if (i == METRICS_SESSIONS_MAX) { /* full: the oldest name gives way */
        memmove(&metrics_sessions[0], &metrics_sessions[1],
                sizeof metrics_sessions[0] * (METRICS_SESSIONS_MAX - 1));
        i = METRICS_SESSIONS_MAX - 1;
    } else if (i == metrics_session_count) {
        metrics_session_count++;
    }
    metrics_copy_label(metrics_sessions[i].session, sizeof metrics_sessions[i].session, session);
    metrics_copy_label(metrics_sessions[i].server, sizeof metrics_sessions[i].server, server);
    pthread_mutex_unlock(&metrics_sessions_lock);
}

uint64_t metrics_count_database_failover(void)
{
    return atomic_fetch_add(&metrics_database_failovers, 1) + 1;
}

static int metrics_render_database_sessions(Buffer *out)
{
    int failed = metrics_printf(out,
                                "# HELP herald_database_failovers_total Times this instance's "
                                "database sessions moved to another server.\n"
                                "# TYPE herald_database_failovers_total counter\n"
                                "herald_database_failovers_total %llu\n",
                                atomic_load(&metrics_database_failovers));
    if (pthread_mutex_lock(&metrics_sessions_lock) != 0)
        return -1;
    if (metrics_session_count > 0)
        failed |= metrics_printf(out, "# HELP herald_database_session_info The database server "
                                      "each session is connected to, by application_name.\n"
                                      "# TYPE herald_database_session_info gauge\n");
    for (size_t i = 0; i < metrics_session_count; i++)
        failed |= metrics_printf(out, "herald_database_session_info{session=\"%s\",server=\"%s\"} 1\n",
                                 metrics_sessions[i].session, metrics_sessions[i].server);
    pthread_mutex_unlock(&metrics_sessions_lock);
    return failed;
}

void metrics_set_instance(const char *id)
{
    /* A label value: the id is host:pid:start, and a host name has no quote or
     * backslash, but one that had would break the exposition format. */
    size_t used = 0;
    for (const char *c = id; *c != '\0' && used + 1 < sizeof metrics_instance_id; c++)
        metrics_instance_id[used++] = (*c == '"' || *c == '\\' || *c == '\n') ? '_' : *c;
    metrics_instance_id[used] = '\0';
}

void metrics_scheduler_alive(int64_t monotonic_ms)
{
    atomic_store(&metrics_alive_ms, monotonic_ms);
}

int64_t metrics_scheduler_last_alive(void)
{
    return atomic_load(&metrics_alive_ms);
}

MetricsReadiness metrics_readiness(int64_t alive_ms, int64_t max_lag_ms, int64_t *lag_ms)
{
    *lag_ms = metrics_scheduler_lag();
    if (clock_monotonic_ms() - metrics_scheduler_last_alive() > alive_ms)
        return METRICS_SCHEDULER_SILENT;
    return *lag_ms > max_lag_ms ? METRICS_LAGGING : METRICS_READY;
}

void metrics_count_alert(const char *kind)
{
    for (size_t i = 0; i < METRICS_ALERT_KIND_COUNT; i++) {
        if (strcmp(metrics_alert_kinds[i], kind) == 0)
            atomic_fetch_add(&metrics_alerts[i], 1);
    }
}

static void metrics_free_receivers(MetricsReceiver *receivers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((char *)receivers[i].key);
    free(receivers);
}

int metrics_set_receivers(const MetricsReceiver *receivers, size_t count)
{
    if (count > METRICS_RECEIVERS_MAX)
        count = METRICS_RECEIVERS_MAX;
    MetricsReceiver *copy = calloc(count ? count : 1, sizeof *copy);
    if (copy == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        copy[i] = receivers[i];
        copy[i].key = strdup(receivers[i].key);
        if (copy[i].key == NULL) {
            metrics_free_receivers(copy, i);
            return -1;
        }
    }
    pthread_mutex_lock(&metrics_receivers_lock);
    MetricsReceiver *old = metrics_receivers;
    size_t old_count = metrics_receiver_count;
    metrics_receivers = copy;
    metrics_receiver_count = count;
    pthread_mutex_unlock(&metrics_receivers_lock);
    metrics_free_receivers(old, old_count);
    return 0;
}

/* A copy of receiver KEY's row of the last snapshot (without its key), or
 * zeros if it has none. */
static MetricsReceiver metrics_receiver_get(const char *key)
{
    MetricsReceiver found = {0};
    pthread_mutex_lock(&metrics_receivers_lock);
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        if (strcmp(metrics_receivers[i].key, key) == 0)
            found = metrics_receivers[i];
    }
    pthread_mutex_unlock(&metrics_receivers_lock);
    found.key = NULL;
    return found;
}

int metrics_receiver_in_flight(const char *key)
{
    return metrics_receiver_get(key).in_flight;
}

int64_t metrics_receiver_held_until(const char *key)
{
    return metrics_receiver_get(key).held_until;
}

void metrics_free(void)
{
    pthread_mutex_lock(&metrics_receivers_lock);
    metrics_free_receivers(metrics_receivers, metrics_receiver_count);
    metrics_receivers = NULL;
    metrics_receiver_count = 0;
    pthread_mutex_unlock(&metrics_receivers_lock);
}

static int metrics_printf(Buffer *out, const char *format, ...)
{
    char line[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line)
        return -1;
    return buffer_append(out, line, (size_t)length);
}

static int metrics_render_histogram(Buffer *out, const char *name, const char *help,
                                    MetricsHistogram *histogram)
{
    int failed = metrics_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cumulative = 0;
    for (size_t i = 0; i <= METRICS_BUCKET_COUNT; i++) {
        cumulative += atomic_load(&histogram->buckets[i]);
        if (i < METRICS_BUCKET_COUNT)
            failed |= metrics_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
                                     metrics_buckets[i], cumulative);
        else
            failed |= metrics_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, cumulative);
    }
    failed |= metrics_printf(out, "%s_sum %.6f\n%s_count %llu\n", name,
                             (double)atomic_load(&histogram->sum_us) / 1e6, name, cumulative);
    return failed ? -1 : 0;
}

/* VALUE as a Prometheus label value: backslash, quote and newline escaped. */
static void metrics_label(const char *value, char *out, size_t size)
{
    size_t used = 0;
    for (const char *p = value; *p != '\0' && used + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            out[used++] = '\\';
            out[used++] = *p;
        } else if (*p == '\n') {
            out[used++] = '\\';
            out[used++] = 'n';
        } else {
            out[used++] = *p;
        }
    }
    out[used] = '\0';
}

static int metrics_render_receivers(Buffer *out)
{
    int failed = metrics_printf(
        out, "# HELP herald_receiver_in_flight Requests in flight to a receiver "
             "(scheme://host:port).\n# TYPE herald_receiver_in_flight gauge\n");
    pthread_mutex_lock(&metrics_receivers_lock);
    char label[300];
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        metrics_label(metrics_receivers[i].key, label, sizeof label);
        failed |= metrics_printf(out, "herald_receiver_in_flight{receiver=\"%s\"} %d\n", label,
                                 metrics_receivers[i].in_flight);
    }
    failed |= metrics_printf(out, "# HELP herald_receiver_lag_seconds How long a receiver's "
                                  "earliest due task has waited (it may be at its own "
                                  "concurrency limit).\n"
                                  "# TYPE herald_receiver_lag_seconds gauge\n");
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        metrics_label(metrics_receivers[i].key, label, sizeof label);
        failed |= metrics_printf(out, "herald_receiver_lag_seconds{receiver=\"%s\"} %.3f\n",
                                 label, (double)metrics_receivers[i].lag_ms / 1000.0);
    }
    failed |= metrics_printf(out, "# HELP herald_receiver_paused 1 for a receiver an operator "
                                  "paused (nothing is sent to it until resumed).\n"
                                  "# TYPE herald_receiver_paused gauge\n");
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        if (!metrics_receivers[i].paused)
            continue;
        metrics_label(metrics_receivers[i].key, label, sizeof label);
        failed |= metrics_printf(out, "herald_receiver_paused{receiver=\"%s\"} 1\n", label);
    }
    size_t open_count = 0;
    for (size_t i = 0; i < metrics_receiver_count; i++)
        open_count += metrics_receivers[i].circuit_open ? 1 : 0;
    failed |= metrics_printf(out, "# HELP herald_receivers_circuit_open Receivers whose circuit "
                                  "breaker is open (their tasks are parked; one probe at a "
                                  "time).\n"
                                  "# TYPE herald_receivers_circuit_open gauge\n"
                                  "herald_receivers_circuit_open %zu\n"
                                  "# HELP herald_receiver_circuit_open 1 for a receiver whose "
                                  "circuit breaker is open.\n"
                                  "# TYPE herald_receiver_circuit_open gauge\n",
                             open_count);
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        if (!metrics_receivers[i].circuit_open)
            continue;
        metrics_label(metrics_receivers[i].key, label, sizeof label);
        failed |= metrics_printf(out, "herald_receiver_circuit_open{receiver=\"%s\"} 1\n",
                                 label);
    }
    failed |= metrics_printf(out, "# HELP herald_receiver_held_seconds How much longer this "
                                  "heraldd leaves a receiver alone, as its 429 or 503 "
                                  "Retry-After asked.\n"
                                  "# TYPE herald_receiver_held_seconds gauge\n");
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < metrics_receiver_count; i++) {
        if (metrics_receivers[i].held_until <= now)
            continue;
        metrics_label(metrics_receivers[i].key, label, sizeof label);
        failed |= metrics_printf(out, "herald_receiver_held_seconds{receiver=\"%s\"} %.3f\n",
                                 label,
                                 (double)(metrics_receivers[i].held_until - now) / 1000.0);
    }
    pthread_mutex_unlock(&metrics_receivers_lock);
    return failed;
}

int metrics_render(Buffer *out, const MetricsGauges *gauges)
{
    static const char *const statuses[] = {"pending", "delivering", "succeeded", "failed"};
    int failed = metrics_printf(out, "# HELP herald_tasks Tasks in the database by status.\n"
                                     "# TYPE herald_tasks gauge\n");
    for (size_t i = 0; i < 4; i++)
        failed |= metrics_printf(out, "herald_tasks{status=\"%s\"} %lld\n", statuses[i],
                                 (long long)gauges->tasks_by_status[i]);
    failed |= metrics_printf(out,
                             "# HELP herald_manual_open Open entries in the manual-handling table.\n"
                             "# TYPE herald_manual_open gauge\nherald_manual_open %lld\n",
                             (long long)gauges->manual_open);
    failed |= metrics_printf(out,
                             "# HELP herald_ordering_keys_blocked Ordering keys whose head is in "
                             "manual handling and blocks the tasks behind it.\n"
                             "# TYPE herald_ordering_keys_blocked gauge\n"
                             "herald_ordering_keys_blocked %lld\n"
                             "# HELP herald_ordering_blocked_seconds How long the longest "
                             "blocked ordering key has been blocked.\n"
                             "# TYPE herald_ordering_blocked_seconds gauge\n"
                             "herald_ordering_blocked_seconds %.3f\n",
                             (long long)gauges->ordering_blocked,
                             gauges->ordering_blocked_seconds);
    failed |= metrics_printf(out, "# HELP herald_deliveries_total Delivery attempts by outcome.\n"
                                  "# TYPE herald_deliveries_total counter\n");
    for (size_t i = 0; i < METRICS_OUTCOME_COUNT; i++)
        failed |= metrics_printf(out, "herald_deliveries_total{outcome=\"%s\"} %llu\n",
                                 metrics_outcomes[i], atomic_load(&metrics_deliveries[i]));
    failed |= metrics_printf(out, "# HELP herald_intake_requests_total Task intake responses by "
                                  "HTTP status.\n# TYPE herald_intake_requests_total counter\n");
    for (size_t i = 0; i <= METRICS_INTAKE_CODE_COUNT; i++) {
        unsigned long long value = atomic_load(&metrics_intake[i]);
        if (i < METRICS_INTAKE_CODE_COUNT)
            failed |= metrics_printf(out, "herald_intake_requests_total{code=\"%d\"} %llu\n",
                                     metrics_intake_codes[i], value);
        else
            failed |= metrics_printf(out, "herald_intake_requests_total{code=\"other\"} %llu\n",
                                     value);
    }
    failed |= metrics_render_histogram(out, "herald_delivery_duration_seconds",
                                       "Duration of delivery attempts.",
                                       &metrics_delivery_duration);
    failed |= metrics_render_histogram(out, "herald_first_attempt_lag_seconds",
                                       "Time from a task's acceptance to its first attempt.",
                                       &metrics_first_attempt_lag);
    failed |= metrics_printf(out,
                             "# HELP herald_scheduler_lag_seconds How late the most overdue task "
                             "whose receiver has a free slot is.\n"
                             "# TYPE herald_scheduler_lag_seconds gauge\n"
                             "herald_scheduler_lag_seconds %.3f\n",
                             (double)metrics_scheduler_lag() / 1000.0);
    failed |= metrics_render_receivers(out);
    if (gauges->database_known) {
        failed |= metrics_printf(out, "# HELP herald_db_dead_tuples Dead row versions waiting "
                                      "for vacuum, by table.\n"
                                      "# TYPE herald_db_dead_tuples gauge\n");
        for (size_t i = 0; i < gauges->table_count; i++)
            failed |= metrics_printf(out, "herald_db_dead_tuples{table=\"%s\"} %lld\n",
                                     gauges->tables[i], (long long)gauges->dead_tuples[i]);
        failed |= metrics_printf(out,
                                 "# HELP herald_db_oldest_transaction_seconds How long the "
                                 "oldest open transaction on the database has run.\n"
                                 "# TYPE herald_db_oldest_transaction_seconds gauge\n"
                                 "herald_db_oldest_transaction_seconds %.3f\n",
                                 (double)gauges->oldest_transaction_ms / 1000.0);
    }
    failed |= metrics_render_database_sessions(out);
    failed |= metrics_printf(out,
                             "# HELP herald_leader Whether this instance runs the singletons "
                             "(alerts on the manual backlog, sending alerts, retention).\n"
                             "# TYPE herald_leader gauge\nherald_leader %d\n",
                             metrics_leader() ? 1 : 0);
    failed |= metrics_printf(out,
                             "# HELP herald_clock_offset_seconds The database server's clock "
                             "minus this machine's, as last measured (0 where the database is "
                             "not shared); herald time follows the server's.\n"
                             "# TYPE herald_clock_offset_seconds gauge\n"
                             "herald_clock_offset_seconds %.3f\n",
                             (double)clock_offset_ms() / 1000.0);
    failed |= metrics_printf(out,
                             "# HELP herald_instance_info This heraldd: its id (host:pid:start, "
                             "as in GET /v1/instances) and version.\n"
                             "# TYPE herald_instance_info gauge\n"
                             "herald_instance_info{id=\"%s\",version=\"%s\"} 1\n",
                             metrics_instance_id, HERALD_VERSION);
    failed |= metrics_printf(out, "# HELP herald_alerts_fired_total Alerts fired by kind.\n"
                                  "# TYPE herald_alerts_fired_total counter\n");
    for (size_t i = 0; i < METRICS_ALERT_KIND_COUNT; i++)
        failed |= metrics_printf(out, "herald_alerts_fired_total{kind=\"%s\"} %llu\n",
                                 metrics_alert_kinds[i], atomic_load(&metrics_alerts[i]));
    return failed ? -1 : 0;
}
