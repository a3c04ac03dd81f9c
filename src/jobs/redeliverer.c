/*
 * redeliverer: see redeliverer.h. The thread sleeps on a condition variable
 * (woken by redeliverer_wake and redeliverer_stop) with a deadline: the
 * next look for a job, or the end of the pace's wait. It has no connection
 * of its own: everything it does goes through the writer.
 */
#include "redeliverer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_span.h"
#include "clock.h"
#include "log.h"
#include "redelivery.h"
#include "store_redelivery.h"
#include "task.h"

/* After a step that failed, how long before the next try. */
#define REDELIVERER_RETRY_MS 1000

struct Redeliverer {
    RedelivererOptions options;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards woken, stopping */
    pthread_cond_t wake;
    bool woken;
    bool stopping;
    /* The thread's own. */
    RedeliveryJob job; /* held while id != 0 */
    char token[TASK_CLAIM_TOKEN_SIZE];
};

/* What a write through the writer carries. */
typedef struct RedelivererWrite {
    Redeliverer *redeliverer;
    int limit;
    RedeliveryStep step;
    bool claimed;
} RedelivererWrite;

static int redeliverer_budget(const char *business_type, void *argument)
{
    Redeliverer *redeliverer = argument;
    return (int)policy_set_find(redeliverer->options.policies(), business_type)->max_retry;
}

static StoreResult redeliverer_apply_claim(Store *store, IntakeJob *job, char *err,
                                           size_t errlen)
{
    RedelivererWrite *write = job->context;
    Redeliverer *redeliverer = write->redeliverer;
    RedeliveryJob claimed = {0};
    StoreResult result = store_redelivery_claim(store, redeliverer->token, REDELIVERER_LEASE_MS,
                                                clock_now_ms(), &claimed, err, errlen);
    if (result == STORE_OK) {
        redelivery_job_clear(&redeliverer->job);
        redeliverer->job = claimed;
        write->claimed = true;
    } else if (result == STORE_NOT_FOUND) {
        result = STORE_OK; /* none to do: not a refusal */
    }
    return result;
}

static StoreResult redeliverer_apply_step(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    RedelivererWrite *write = job->context;
    Redeliverer *redeliverer = write->redeliverer;
    store_redelivery_step_clear(&write->step);
    return store_redelivery_step(store, &redeliverer->job, redeliverer->token, write->limit,
                                 REDELIVERER_LEASE_MS, clock_now_ms(), redeliverer_budget,
                                 redeliverer, &write->step, err, errlen);
}

/* Sleeps until MS from now, a wake-up or stop. Returns false once stopping. */
static bool redeliverer_wait(Redeliverer *redeliverer, int64_t ms)
{
    struct timespec deadline = clock_monotonic_deadline(ms);
    pthread_mutex_lock(&redeliverer->lock);
    while (!redeliverer->stopping && !redeliverer->woken)
        if (pthread_cond_timedwait(&redeliverer->wake, &redeliverer->lock, &deadline) != 0)
            break;
    redeliverer->woken = false;
    bool going = !redeliverer->stopping;
    pthread_mutex_unlock(&redeliverer->lock);
    return going;
}

/* A span for each task STEP of JOB sent again (action_span.h): the job's
 * creator is the actor; the spans start where the step did. */
static void redeliverer_trace(const RedeliveryJob *job, const RedeliveryStep *step,
                              uint64_t start_unix_ns)
{
    ActionSpan span = {.name = "redelivery job", .kind = SPAN_KIND_INTERNAL,
                       .action = "redeliver", .actor = job->actor, .job_id = job->id,
                       .start_unix_ns = start_unix_ns, .end_unix_ns = span_now_ns()};
    for (int64_t i = 0; i < step->sent; i++)
        action_span_report(&span, step->sent_tasks[i].task_id, step->sent_tasks[i].business_type,
                           step->sent_tasks[i].traceparent);
}

static void redeliverer_drop(Redeliverer *redeliverer)
{
    redelivery_job_clear(&redeliverer->job);
}

/* Looks for a job to work; returns whether one is held. */
static bool redeliverer_claim(Redeliverer *redeliverer)
{
    if (task_generate_claim_token(redeliverer->token) != 0) {
        log_error("event=redelivery_claim_failed error=\"the kernel's random source failed\"");
        return false;
    }
    RedelivererWrite write = {.redeliverer = redeliverer};
    char err[320];
    if (intake_run(redeliverer->options.intake, redeliverer_apply_claim, &write, err,
                   sizeof err) != STORE_OK) {
        log_debug("event=redelivery_claim_failed error=\"%s\"", err);
        return false;
    }
    if (write.claimed)
        log_info("event=redelivery_claimed job=%lld cursor=%lld sent=%lld",
                 (long long)redeliverer->job.id, (long long)redeliverer->job.cursor_id,
                 (long long)redeliverer->job.sent);
    return write.claimed;
}

/* One step of the held job. Returns how long to wait before the next. */
static int64_t redeliverer_step(Redeliverer *redeliverer)
{
    RedeliveryJob *job = &redeliverer->job;
    int limit = job->pace < REDELIVERER_CHUNK_MAX ? (int)job->pace : REDELIVERER_CHUNK_MAX;
    RedelivererWrite write = {.redeliverer = redeliverer, .limit = limit};
    char err[320];
    int64_t started = clock_monotonic_ms();
    uint64_t started_unix_ns = span_now_ns();
    StoreResult result =
        intake_run(redeliverer->options.intake, redeliverer_apply_step, &write, err, sizeof err);
    if (result == STORE_NOT_FOUND) {
        log_info("event=redelivery_released job=%lld detail=\"cancelled, or taken over by "
                 "another heraldd after this one's lease ended\"",
                 (long long)job->id);
        redeliverer_drop(redeliverer);
        return 0;
    }
    if (result != STORE_OK) {
        /* The next step reads the cursor the database has (a commit reported
         * failed may have moved it): nothing is sent twice. */
        log_warning("event=redelivery_step_failed job=%lld error=\"%s\"", (long long)job->id,
                    err);
        store_redelivery_step_clear(&write.step);
        return REDELIVERER_RETRY_MS;
    }
    RedeliveryStep *step = &write.step;
    redeliverer_trace(job, step, started_unix_ns);
    job->cursor_id = step->cursor_id;
    job->sent += step->sent;
    job->skipped += step->skipped;
    if (step->host_count > 0 && redeliverer->options.on_tasks_due != NULL)
        redeliverer->options.on_tasks_due(redeliverer->options.argument,
                                          (const char *const *)step->hosts, step->host_count,
                                          clock_now_ms());
    int64_t handled = step->sent + step->skipped;
    bool done = step->done;
    store_redelivery_step_clear(step);
    if (done) {
        log_info("event=redelivery_done job=%lld sent=%lld skipped=%lld", (long long)job->id,
                 (long long)job->sent, (long long)job->skipped);
        redeliverer_drop(redeliverer);
        return 0;
    }
    if (handled == 0) /* its next task is held by another session: in a while */
        return REDELIVERER_RETRY_MS;
    /* The pace: HANDLED tasks take HANDLED / pace seconds, the step included. */
    int64_t wait = handled * 1000 / job->pace - (clock_monotonic_ms() - started);
    return wait > 0 ? wait : 0;
}

static void *redeliverer_main(void *argument)
{
    Redeliverer *redeliverer = argument;
    pthread_setname_np(pthread_self(), "herald-redeliver");
    int64_t wait = 0;
    while (redeliverer_wait(redeliverer, wait)) {
        if (redeliverer->job.id == 0 && !redeliverer_claim(redeliverer)) {
            wait = REDELIVERER_POLL_MS;
            continue;
        }
        wait = redeliverer_step(redeliverer);
    }
    return NULL;
}

Redeliverer *redeliverer_start(const RedelivererOptions *options, char *err, size_t errlen)
{
    Redeliverer *redeliverer = calloc(1, sizeof *redeliverer);
    if (redeliverer == NULL) {
        snprintf(err, errlen, "redeliverer: out of memory");
        return NULL;
    }
    redeliverer->options = *options;
    pthread_mutex_init(&redeliverer->lock, NULL);
    clock_cond_init(&redeliverer->wake);
    if (pthread_create(&redeliverer->thread, NULL, redeliverer_main, redeliverer) != 0) {
        snprintf(err, errlen, "redeliverer: cannot start its thread");
        redeliverer_free(redeliverer);
        return NULL;
    }
    redeliverer->started = true;
    return redeliverer;
}

void redeliverer_wake(Redeliverer *redeliverer)
{
    pthread_mutex_lock(&redeliverer->lock);
    redeliverer->woken = true;
    pthread_cond_signal(&redeliverer->wake);
    pthread_mutex_unlock(&redeliverer->lock);
}

void redeliverer_stop(Redeliverer *redeliverer)
{
    if (redeliverer == NULL)
        return;
    pthread_mutex_lock(&redeliverer->lock);
    redeliverer->stopping = true;
    pthread_cond_signal(&redeliverer->wake);
    pthread_mutex_unlock(&redeliverer->lock);
    if (redeliverer->started)
        pthread_join(redeliverer->thread, NULL);
    redeliverer->started = false;
}

void redeliverer_free(Redeliverer *redeliverer)
{
    if (redeliverer == NULL)
        return;
    redeliverer_stop(redeliverer);
    redelivery_job_clear(&redeliverer->job);
    pthread_cond_destroy(&redeliverer->wake);
    pthread_mutex_destroy(&redeliverer->lock);
    free(redeliverer);
}
