/*
 * store_redelivery: see store_redelivery.h, written once above the
 * backends. A step sends each task again as store_task_redeliver does (a
 * pending one made due now, ManualRepair.hasten), so its audit trail and
 * its open manual entry end as a single redelivery's would; a task that
 * changed since the step chose it (claimed, sent again) is skipped.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL while migration 015 is held back has no jobs yet. */
static int store_redelivery_check(Store *store, char *err, size_t errlen)
{
    if (store->backend->redelivery_ready == NULL || store->backend->redelivery_ready(store))
        return 0;
    snprintf(err, errlen, "redelivery jobs need migration 015, held back while a heraldd of "
                          "an earlier release shares the database");
    return -1;
}

void store_redelivery_tasks_free(StoreRedeliveryTask *tasks, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(tasks[i].business_type);
    free(tasks);
}

int store_redelivery_count(Store *store, const RedeliveryFilter *filter, int64_t after_id,
                           int64_t through_id, int64_t *count, char *err, size_t errlen)
{
    return store->backend->redelivery_count(store, filter, after_id, through_id, count, err,
                                            errlen);
}

int store_task_newest_id(Store *store, int64_t *id, char *err, size_t errlen)
{
    return store->backend->task_newest_id(store, id, err, errlen);
}

StoreResult store_redelivery_create(Store *store, RedeliveryJob *job, int64_t now, char *err,
                                    size_t errlen)
{
    if (store_redelivery_check(store, err, errlen) != 0)
        return STORE_ERROR;
    int64_t running = 0;
    if (store->backend->redelivery_running(store, &job->filter, &running, err, errlen) != 0)
        return STORE_ERROR;
    if (running != 0) {
        job->id = running;
        return STORE_NOT_FOUND;
    }
    return store->backend->redelivery_insert(store, job, now, err, errlen) == 0 ? STORE_OK
                                                                                : STORE_ERROR;
}

StoreResult store_redelivery_get(Store *store, int64_t id, RedeliveryJob *out, char *err,
                                 size_t errlen)
{
    if (store_redelivery_check(store, err, errlen) != 0)
        return STORE_ERROR;
    StoreResult found = store->backend->redelivery_get(store, id, out, err, errlen);
    if (found != STORE_OK || strcmp(out->state, "running") != 0)
        return found;
    if (store_redelivery_count(store, &out->filter, out->cursor_id, out->through_id,
                               &out->remaining, err, errlen) != 0) {
        redelivery_job_clear(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

int store_redelivery_list(Store *store, int64_t before, int limit, RedeliveryJob **out,
                          size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    if (store_redelivery_check(store, err, errlen) != 0)
        return -1;
    return store->backend->redelivery_list(store, before, limit, out, count, err, errlen);
}

void store_redelivery_list_free(RedeliveryJob *jobs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        redelivery_job_clear(&jobs[i]);
    free(jobs);
}

StoreResult store_redelivery_cancel(Store *store, int64_t id, const char *actor, int64_t now,
                                    bool *changed, char *err, size_t errlen)
{
    *changed = false;
    if (store_redelivery_check(store, err, errlen) != 0)
        return STORE_ERROR;
    if (store->backend->redelivery_cancel(store, id, actor, now, changed, err, errlen) != 0)
        return STORE_ERROR;
    if (*changed)
        return STORE_OK;
    RedeliveryJob job;
    StoreResult found = store->backend->redelivery_get(store, id, &job, err, errlen);
    if (found == STORE_OK)
        redelivery_job_clear(&job);
    return found;
}

StoreResult store_redelivery_claim(Store *store, const char *token, int64_t lease_ms,
                                   int64_t now, RedeliveryJob *out, char *err, size_t errlen)
{
    if (store->backend->redelivery_ready != NULL && !store->backend->redelivery_ready(store))
        return STORE_NOT_FOUND; /* none can exist yet */
    return store->backend->redelivery_claim(store, token, lease_ms, now, out, err, errlen);
}

void store_redelivery_step_clear(RedeliveryStep *step)
{
    for (size_t i = 0; i < step->host_count; i++)
        free(step->hosts[i]);
    free(step->hosts);
    free(step->sent_tasks);
    memset(step, 0, sizeof *step);
}

/* Sends TASK of JOB again; *HOST its receiver if it did. */
static StoreResult store_redelivery_send(Store *store, const RedeliveryJob *job,
                                         const StoreRedeliveryTask *task, int budget,
                                         int64_t now, char **host, char *err, size_t errlen)
{
    char note[REDELIVERY_REASON_MAX + 64];
    snprintf(note, sizeof note, "%s (redelivery job %lld)", job->reason, (long long)job->id);
    char details[160];
    snprintf(details, sizeof details,
             "{\"schedule\":\"%s\",\"max_retry\":%d,\"redelivery_job\":%lld}",
             job->full_schedule ? "full" : "once", budget, (long long)job->id);
    /* Only as the job chose it: a task sent again or retried by hand since
     * (the step's select locks nothing) is skipped, not sent once more. */
    ManualRepair repair = {.max_retry = budget, .note = note, .actor = job->actor,
                           .redeliver = true, .hasten = true,
                           .expect_status = job->filter.task_status};
    return store_task_redeliver(store, task->id, &repair, details, now, host, err, errlen);
}

StoreResult store_redelivery_step(Store *store, const RedeliveryJob *job, const char *token,
                                  int limit, int64_t lease_ms, int64_t now,
                                  int (*budget_for)(const char *business_type, void *argument),
                                  void *argument, RedeliveryStep *out, char *err,
                                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* The cursor as the database has it, the job's row held for the step: a
     * step before this one whose commit was reported failed may have moved
     * it (the caller's copy is only a guess). */
    RedeliveryJob at = *job;
    StoreResult held = store->backend->redelivery_lock(store, job->id, token, &at.cursor_id, err,
                                                       errlen);
    if (held != STORE_OK)
        return held;
    job = &at;
    StoreRedeliveryTask *tasks = NULL;
    size_t count = 0;
    if (store->backend->redelivery_tasks(store, job, limit, &tasks, &count, err, errlen) != 0)
        return STORE_ERROR;
    /* The job is done when fewer tasks than asked are left, unless the chunk
     * stops early at a task another session holds (tried again next step). */
    bool done = count < (size_t)limit;
    StoreResult status = STORE_ERROR;
    size_t usable = count;
    if (store->backend->redelivery_lock_tasks != NULL && count > 0) {
        if (store->backend->redelivery_lock_tasks(store, tasks, count, &usable, err, errlen) != 0)
            goto out;
        if (usable < count)
            done = false;
    }
    out->hosts = calloc(count ? count : 1, sizeof *out->hosts);
    out->sent_tasks = calloc(count ? count : 1, sizeof *out->sent_tasks);
    if (out->hosts == NULL || out->sent_tasks == NULL) {
        snprintf(err, errlen, "redelivery: out of memory");
        goto out;
    }
    /* The ordering keys of the chunk's tasks move at its end, in the one
     * order keys are locked in (store_ordering_defer). */
    if (store_ordering_defer(store, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < usable; i++) {
        int budget = job->full_schedule ? budget_for(tasks[i].business_type, argument) : 1;
        char *host = NULL;
        StoreResult sent = store_redelivery_send(store, job, &tasks[i], budget, now, &host, err,
                                                 errlen);
        if (sent == STORE_ERROR)
            goto out;
        if (sent == STORE_NOT_FOUND) {
            out->skipped++;
            continue;
        }
        RedeliverySent *noted = &out->sent_tasks[out->sent++];
        noted->task_id = tasks[i].id;
        snprintf(noted->business_type, sizeof noted->business_type, "%s",
                 tasks[i].business_type ? tasks[i].business_type : "");
        memcpy(noted->traceparent, tasks[i].traceparent, sizeof noted->traceparent);
        if (host != NULL)
            out->hosts[out->host_count++] = host;
    }
    char **released; /* none: a redelivery only unblocks or keeps waiting */
    size_t released_count;
    if (store_ordering_settle(store, now, &released, &released_count, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < released_count; i++)
        free(released[i]);
    free(released);
    out->done = done;
    StoreRedeliveryAdvance advance = {.cursor_id = usable ? tasks[usable - 1].id : job->cursor_id,
                                      .sent = out->sent, .skipped = out->skipped,
                                      .done = out->done, .lease_ms = lease_ms};
    out->cursor_id = advance.cursor_id;
    status = store->backend->redelivery_advance(store, job, token, &advance, now, err, errlen);
out:
    store_ordering_defer_drop(store); /* a step that failed part-way */
    store_redelivery_tasks_free(tasks, count);
    if (status != STORE_OK)
        store_redelivery_step_clear(out);
    return status;
}
