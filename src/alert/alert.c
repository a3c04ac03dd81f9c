/*
 * alert: see alert.h.
 *
 * Each kind of alert is a small state machine (AlertState): quiet -> firing
 * when its condition holds; firing -> firing again only after the cooldown
 * or when the measured count has doubled; firing -> quiet with one
 * "resolved" notice. An alert is first written to the alerts table unsent,
 * then handed to the sinks; whatever is still unsent is tried again each
 * interval, so a sink that is down loses nothing. Where several heraldd share
 * a database, one of them leads (alert_lead.h: a lease with a term) and alone
 * runs what they share: the backlog alert, the sinks, resolving the alerts of
 * instances that are gone, retention; each of those writes names the term,
 * and the database refuses it once a newer term leads.
 *
 * delivery_lag is each instance's own: it names the instance (the alerts
 * table's instance, and "instance" in its details), and the instance raises
 * and resolves its own. One that stops or is killed cannot resolve it; the
 * leader does, once that instance is gone (no row in the instances table, or
 * no heartbeat within ROSTER_ALIVE_MS; with SQLite, any other instance than
 * itself). A restarted instance has a new id, so its predecessor's alert is
 * one of those. An instance the leader took for gone (frozen a while) finds
 * its alert resolved and raises it again if it still lags.
 */
#include "alert.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert_internal.h"
#include "alert_sink.h"
#include "clock.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define ALERT_RETENTION_BATCH 500
#define ALERT_RETENTION_BATCHES_PER_TURN 20
/* ---- writes: each goes through the intake writer (intake_run) ---- */

typedef struct AlertRetention {
    StoreFence fence;
    int64_t cutoff;
    int64_t deleted; /* out */
    bool refused;    /* out: the lease no longer holds */
} AlertRetention;

static StoreResult alert_apply_retention_step(Store *store, IntakeJob *job, char *err,
                                              size_t errlen)
{
    AlertRetention *retention = job->context;
    StoreResult result = store_retention_step(store, &retention->fence, clock_now_ms(),
                                              retention->cutoff, ALERT_RETENTION_BATCH,
                                              &retention->deleted, err, errlen);
    retention->refused = result == STORE_NOT_FOUND;
    return result == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

static void alert_check_backlog(AlertChecker *checker, int64_t now)
{
    const AlertOptions *options = &checker->options;
    AlertBacklog backlog;
    char err[512];
    if (store_alert_backlog(checker->store, now - options->window_ms, &backlog, err,
                            sizeof err) != 0) {
        log_error("event=alert_check_failed kind=manual_backlog error=\"%s\"", err);
        return;
    }
    bool condition = backlog.count >= options->threshold;
    cJSON *details = cJSON_CreateObject();
    char text[256];
    if (condition || !checker->backlog.firing)
        snprintf(text, sizeof text,
                 "%lld notifications failed for good in the last %llds and wait in manual "
                 "handling (threshold %lld)",
                 (long long)backlog.count, (long long)(options->window_ms / 1000),
                 (long long)options->threshold);
    else
        snprintf(text, sizeof text,
                 "manual handling is back below the threshold: %lld open in the last %llds",
                 (long long)backlog.count, (long long)(options->window_ms / 1000));
    cJSON_AddStringToObject(details, "text", text);
    cJSON_AddNumberToObject(details, "threshold", (double)options->threshold);
    cJSON_AddNumberToObject(details, "window_seconds", (double)(options->window_ms / 1000));
    cJSON *by_type = cJSON_AddObjectToObject(details, "by_business_type");
    for (size_t i = 0; i < backlog.type_count; i++)
        cJSON_AddNumberToObject(by_type, backlog.by_type[i].business_type,
                                (double)backlog.by_type[i].count);
    if (backlog.count > 0) {
        cJSON *oldest = cJSON_AddObjectToObject(details, "oldest");
        cJSON_AddNumberToObject(oldest, "task_id", (double)backlog.oldest_task_id);
        cJSON_AddItemToObject(oldest, "moved_at", alert_time(backlog.oldest_moved_at));
    }
    cJSON *sample = cJSON_AddArrayToObject(details, "sample_task_ids");
    for (size_t i = 0; i < backlog.sample_count; i++)
        cJSON_AddItemToArray(sample, cJSON_CreateNumber((double)backlog.sample_task_ids[i]));
    alert_evaluate(checker, &checker->backlog, condition, backlog.count, details, now);
}

/* While STATE (this instance's own alert) fires, whether the leader has
 * resolved it meanwhile, taking this instance for gone (it was frozen or
 * cut off a while): then it is quiet again, and fires anew if the condition
 * still holds. */
static void alert_check_own(AlertChecker *checker, AlertState *state)
{
    if (!state->firing || !store_is_shared(checker->store))
        return;
    StoredAlert latest;
    char err[256];
    if (store_alert_latest(checker->store, state->kind, state->instance, &latest, err,
                           sizeof err) != STORE_OK)
        return;
    if (!latest.firing)
        state->firing = false;
    stored_alert_clear(&latest);
}

/* delivery_lag: this instance has stopped delivering. Asked of the
 * scheduler's published state, not the database: the oldest due task in the
 * database may only wait for a receiver at its own concurrency limit (a hung
 * receiver), which is that receiver's lag (herald_receiver_lag_seconds), not
 * a stuck scheduler. A scheduler that stops turning is caught by its
 * heartbeat. */
static void alert_check_lag(AlertChecker *checker, int64_t now)
{
    const AlertOptions *options = &checker->options;
    alert_check_own(checker, &checker->lag);
    int64_t lag_ms;
    MetricsReadiness readiness =
        metrics_readiness(options->scheduler_alive_ms, options->max_lag_ms, &lag_ms);
    bool condition = readiness != METRICS_READY;
    cJSON *details = cJSON_CreateObject();
    char text[256];
    const char *self = options->instance_id;
    if (readiness == METRICS_SCHEDULER_SILENT)
        snprintf(text, sizeof text,
                 "instance %s: the scheduler has not run for over %llds: it is stuck", self,
                 (long long)(options->scheduler_alive_ms / 1000));
    else if (condition)
        snprintf(text, sizeof text,
                 "instance %s: a notification that could be sent now has waited %llds (max_lag "
                 "%llds): the scheduler is stuck or overwhelmed",
                 self, (long long)(lag_ms / 1000), (long long)(options->max_lag_ms / 1000));
    else
        snprintf(text, sizeof text,
                 "instance %s: deliveries are on time again (the most overdue sendable task "
                 "waits %llds, max_lag %llds)",
                 self, (long long)(lag_ms / 1000), (long long)(options->max_lag_ms / 1000));
    cJSON_AddStringToObject(details, "text", text);
    cJSON_AddNumberToObject(details, "lag_seconds", (double)lag_ms / 1000.0);
    cJSON_AddNumberToObject(details, "max_lag_seconds", (double)options->max_lag_ms / 1000.0);
    cJSON_AddBoolToObject(details, "scheduler_silent", readiness == METRICS_SCHEDULER_SILENT);
    alert_evaluate(checker, &checker->lag, condition, lag_ms / 1000, details, now);
}

/* Deletes what retention allows in batches, each a write through intake
 * under the lease's term, asking first (a read) whether there is anything
 * to delete, so an idle turn and the end of the work cost no empty write
 * transaction. */
static void alert_apply_retention(AlertChecker *checker, int64_t now)
{
    int64_t cutoff = now - checker->options.retention_ms;
    int64_t total = 0;
    char err[512], quoted[600];
    for (int batch = 0; batch < ALERT_RETENTION_BATCHES_PER_TURN && checker->lead.leader;
         batch++) {
        bool pending = false;
        AlertRetention retention = {.fence = alert_lead_fence(&checker->lead), .cutoff = cutoff};
        if (store_retention_pending(checker->store, cutoff, &pending, err, sizeof err) != 0 ||
            (pending && intake_run(checker->options.intake, alert_apply_retention_step,
                                   &retention, err, sizeof err) != STORE_OK)) {
            log_error("event=retention_failed error=%s", log_quote(quoted, sizeof quoted, err));
            break;
        }
        if (retention.refused) {
            alert_lead_fenced(&checker->lead, "retention");
            break;
        }
        total += retention.deleted;
        if (!pending || retention.deleted == 0)
            break;
    }
    if (total > 0)
        log_info("event=retention deleted_rows=%lld", (long long)total);
}

/* An alert that was firing when the last leader stopped is still firing. */
static void alert_restore(AlertChecker *checker, AlertState *state)
{
    StoredAlert latest;
    char err[256];
    state->firing = false;
    if (store_alert_latest(checker->store, state->kind, state->instance, &latest, err,
                           sizeof err) != STORE_OK)
        return;
    state->firing = latest.firing;
    state->last_count = latest.count;
    state->last_fired_at = latest.created_at;
    stored_alert_clear(&latest);
}

/* Takes or renews the lease. A new term restores the backlog's state: the
 * last leader may have raised or resolved it. */
static void alert_lead(AlertChecker *checker)
{
    bool acquired = false;
    int64_t lease_ms = alert_lead_lease_ms(checker->options.interval_ms);
    if (alert_lead_renew(&checker->lead, lease_ms, &acquired) && acquired) {
        alert_restore(checker, &checker->backlog);
        alert_restore(checker, &checker->circuits);
        alert_restore(checker, &checker->ordering);
    }
}

/* One turn. Every instance watches its own deliveries (delivery_lag); the
 * leader alone watches what they share (the manual backlog), sends every
 * instance's alerts, resolves those of instances that are gone and applies
 * retention, so nothing is raised, sent or deleted twice. */
static void alert_turn(AlertChecker *checker)
{
    int64_t now = clock_now_ms();
    alert_lead(checker);
    alert_check_lag(checker, now);
    if (!checker->lead.leader)
        return;
    alert_check_backlog(checker, now);
    alert_check_circuits(checker, now);
    alert_check_ordering(checker, now);
    alert_resolve_gone(checker, now);
    if (checker->webhook_url != NULL || checker->command != NULL)
        alert_send_pending(checker);
    alert_apply_retention(checker, now);
}

/* Takes over options a reload left, between turns. Called with the lock held. */
static void alert_take_pending(AlertChecker *checker)
{
    if (!checker->has_pending)
        return;
    checker->options.interval_ms = checker->pending.interval_ms;
    checker->options.window_ms = checker->pending.window_ms;
    checker->options.threshold = checker->pending.threshold;
    checker->options.cooldown_ms = checker->pending.cooldown_ms;
    checker->options.max_lag_ms = checker->pending.max_lag_ms;
    checker->options.breaker_alert_after_ms = checker->pending.breaker_alert_after_ms;
    checker->options.ordering_alert_after_ms = checker->pending.ordering_alert_after_ms;
    checker->options.scheduler_alive_ms = checker->pending.scheduler_alive_ms;
    checker->options.retention_ms = checker->pending.retention_ms;
    free(checker->webhook_url);
    free(checker->command);
    checker->webhook_url = checker->pending_webhook_url;
    checker->command = checker->pending_command;
    checker->pending_webhook_url = NULL;
    checker->pending_command = NULL;
    checker->has_pending = false;
}

void alert_update(AlertChecker *checker, const AlertOptions *options)
{
    pthread_mutex_lock(&checker->lock);
    free(checker->pending_webhook_url);
    free(checker->pending_command);
    checker->pending = *options;
    checker->pending_webhook_url = options->webhook_url[0] ? strdup(options->webhook_url) : NULL;
    checker->pending_command = options->command[0] ? strdup(options->command) : NULL;
    checker->has_pending = true;
    pthread_cond_signal(&checker->wake);
    pthread_mutex_unlock(&checker->lock);
}

static void *alert_main(void *argument)
{
    AlertChecker *checker = argument;
    pthread_setname_np(pthread_self(), "herald-watch");
    fault_set_role("alert");
    pthread_mutex_lock(&checker->lock);
    while (!checker->stopping) {
        alert_take_pending(checker);
        pthread_mutex_unlock(&checker->lock);
        /* A full turn every interval; between them, when the interval is
         * longer than a third of the lease, a renewal alone. */
        int64_t start = clock_monotonic_ms();
        int64_t interval = checker->options.interval_ms;
        int64_t renew_every = alert_lead_renew_every_ms(alert_lead_lease_ms(interval));
        if (start >= checker->next_full_turn) {
            checker->next_full_turn = start + interval;
            alert_turn(checker);
        } else {
            alert_lead(checker);
        }
        int64_t until_full = checker->next_full_turn - clock_monotonic_ms();
        int64_t wait = until_full < renew_every ? until_full : renew_every;
        pthread_mutex_lock(&checker->lock);
        struct timespec deadline = clock_monotonic_deadline(wait > 0 ? wait : 0);
        while (!checker->stopping && !checker->has_pending &&
               pthread_cond_timedwait(&checker->wake, &checker->lock, &deadline) == 0) {
        }
    }
    pthread_mutex_unlock(&checker->lock);
    return NULL;
}

static void alert_free(AlertChecker *checker)
{
    if (checker->store != NULL)
        alert_lead_release(&checker->lead); /* a clean stop hands the lead on at once */
    store_close(checker->store);
    free(checker->webhook_url);
    free(checker->command);
    free(checker->pending_webhook_url);
    free(checker->pending_command);
    pthread_cond_destroy(&checker->wake);
    pthread_mutex_destroy(&checker->lock);
    free(checker);
}

AlertChecker *alert_start(const AlertOptions *options, char *err, size_t errlen)
{
    AlertChecker *checker = calloc(1, sizeof *checker);
    if (checker == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    checker->options = *options;
    checker->backlog.kind = "manual_backlog";
    checker->backlog.fenced = true;
    checker->circuits.kind = "circuit_open";
    checker->circuits.fenced = true;
    checker->ordering.kind = "ordering_blocked";
    checker->ordering.fenced = true;
    checker->lag.kind = "delivery_lag";
    checker->lag.instance = options->instance_id;
    pthread_mutex_init(&checker->lock, NULL);
    clock_cond_init(&checker->wake);
    if (options->webhook_url[0] != '\0')
        checker->webhook_url = strdup(options->webhook_url);
    if (options->command[0] != '\0')
        checker->command = strdup(options->command);
    /* Its sessions are named for operators (and tests) to find in
     * pg_stat_activity: "heraldd/alert:PID". */
    char application_name[48];
    snprintf(application_name, sizeof application_name, "heraldd/alert:%ld", (long)getpid());
    StoreOptions store_options = {.durability = STORE_DURABILITY_FULL,
                                  .application_name = application_name};
    checker->store = store_open(options->store_location, &store_options, err, errlen);
    if (checker->store == NULL) {
        alert_free(checker);
        return NULL;
    }
    /* The backlog's state is restored when this instance takes the lead; its
     * own delivery_lag starts quiet (a new id: a predecessor's alert is
     * resolved by the leader). */
    checker->lead = (AlertLead){.store = checker->store, .holder = options->instance_id,
                                .shared = store_is_shared(checker->store)};
    int rc = pthread_create(&checker->thread, NULL, alert_main, checker);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the alert thread: %s", strerror(rc));
        alert_free(checker);
        return NULL;
    }
    return checker;
}

void alert_stop(AlertChecker *checker)
{
    if (checker == NULL)
        return;
    pthread_mutex_lock(&checker->lock);
    checker->stopping = true;
    pthread_cond_signal(&checker->wake);
    pthread_mutex_unlock(&checker->lock);
    pthread_join(checker->thread, NULL);
    alert_free(checker);
}
