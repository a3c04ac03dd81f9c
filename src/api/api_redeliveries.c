/*
 * api_redeliveries: see api_redeliveries.h. A JobWrite is attached to its
 * call across the suspension, as api_redeliver.c's Redelivery is: APPLY
 * runs on the writer thread inside its transaction, on_done resumes the
 * call, and the resumed handler answers on an HTTP thread.
 */
#include "api_redeliveries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_manual.h"
#include "clock.h"
#include "log.h"
#include "redelivery_json.h"
#include "store_redelivery.h"

typedef struct JobWrite {
    ApiCall *call;
    IntakeJob job;
    RedeliveryJob redelivery; /* the new job, or the one to cancel (its id) */
    bool cancel;
    bool changed; /* a cancel stopped it */
    int64_t now;
} JobWrite;

static void api_redeliveries_free(void *state)
{
    JobWrite *write = state;
    redelivery_job_clear(&write->redelivery);
    free(write);
}

static StoreResult api_redeliveries_apply(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    JobWrite *write = job->context;
    if (write->cancel)
        return store_redelivery_cancel(store, write->redelivery.id, write->redelivery.actor,
                                       write->now, &write->changed, err, errlen);
    return store_redelivery_create(store, &write->redelivery, write->now, err, errlen);
}

static void api_redeliveries_committed(IntakeJob *job)
{
    JobWrite *write = job->context;
    api_call_resume(write->call);
}

/* {"redelivery": job ID as read now} with STATUS, or a 404/503. */
static void api_redeliveries_reply_job(ApiCall *call, int status, int64_t id, int changed)
{
    RedeliveryJob job;
    char err[320];
    StoreResult found = store_redelivery_get(api_call_reader(call), id, &job, err, sizeof err);
    if (found == STORE_NOT_FOUND) {
        api_call_fail(call, 404, "not_found", "id", "no redelivery job with id %lld",
                      (long long)id);
        return;
    }
    if (found != STORE_OK) {
        api_manual_unavailable(call, err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *rendered = redelivery_json_render(&job);
    redelivery_job_clear(&job);
    if (body == NULL || rendered == NULL) {
        cJSON_Delete(body);
        cJSON_Delete(rendered);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    cJSON_AddItemToObject(body, "redelivery", rendered);
    if (changed >= 0)
        cJSON_AddBoolToObject(body, "changed", changed != 0);
    api_call_reply(call, status, body);
}

static void api_redeliveries_done(ApiCall *call)
{
    JobWrite *write = api_call_state(call);
    if (write->job.result == INTAKE_JOB_REFUSED && !write->cancel) {
        api_call_fail(call, 409, "redelivery_running", "filter",
                      "redelivery job %lld with the same filter is running (see GET "
                      "/v1/redeliveries/%lld); cancel it first, or let it end",
                      (long long)write->redelivery.id, (long long)write->redelivery.id);
        return;
    }
    if (write->job.result == INTAKE_JOB_REFUSED) {
        api_call_fail(call, 404, "not_found", "id", "no redelivery job with id %lld",
                      (long long)write->redelivery.id);
        return;
    }
    if (write->job.result != INTAKE_JOB_OK) {
        api_manual_unavailable(call, write->job.message);
        return;
    }
    char actor[160];
    if (write->cancel) {
        log_info("event=redelivery_cancelled actor=%s job=%lld changed=%s",
                 log_quote(actor, sizeof actor, write->redelivery.actor),
                 (long long)write->redelivery.id, write->changed ? "true" : "false");
        api_redeliveries_reply_job(call, 200, write->redelivery.id, write->changed);
        return;
    }
    const RedeliveryJob *job = &write->redelivery;
    log_info("event=redelivery_created actor=%s job=%lld matched=%lld status=%s schedule=%s "
             "pace=%lld",
             log_quote(actor, sizeof actor, job->actor), (long long)job->id,
             (long long)job->matched, job->filter.task_status,
             job->full_schedule ? "full" : "once", (long long)job->pace);
    const ApiOptions *options = api_call_options(call);
    if (options->on_redelivery_created != NULL)
        options->on_redelivery_created(options->on_tasks_due_argument);
    api_redeliveries_reply_job(call, 201, job->id, -1);
}

/* Submits WRITE (owned by the call from here). */
static void api_redeliveries_submit(ApiCall *call, JobWrite *write)
{
    write->call = call;
    write->now = clock_now_ms();
    api_call_set_state(call, write, api_redeliveries_free);
    write->job = (IntakeJob){.count = 1, .apply = api_redeliveries_apply,
                             .on_done = api_redeliveries_committed, .context = write};
    api_call_submit(call, &write->job, api_redeliveries_done);
}

/* POST /v1/redeliveries */
static void api_redeliveries_create(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    RedeliveryRequest request;
    ApiError error;
    if (redelivery_json_read(body, length, &request, &error) != 0) {
        api_call_reply_error(call, &error);
        return;
    }
    RedeliveryJob *job = &request.job;
    Store *reader = api_call_reader(call);
    char err[320];
    if (store_task_newest_id(reader, &job->through_id, err, sizeof err) != 0 ||
        store_redelivery_count(reader, &job->filter, 0, job->through_id, &job->matched, err,
                               sizeof err) != 0) {
        redelivery_job_clear(job);
        api_manual_unavailable(call, err);
        return;
    }
    if (request.dry_run) {
        cJSON *answer = cJSON_CreateObject();
        cJSON_AddBoolToObject(answer, "dry_run", true);
        cJSON_AddNumberToObject(answer, "matched", (double)job->matched);
        cJSON_AddNumberToObject(answer, "through_id", (double)job->through_id);
        redelivery_job_clear(job);
        api_call_reply(call, 200, answer);
        return;
    }
    JobWrite *write = calloc(1, sizeof *write);
    job->actor = strdup(api_call_actor(call));
    if (write == NULL || job->actor == NULL) {
        free(write);
        redelivery_job_clear(job);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    write->redelivery = *job;
    api_redeliveries_submit(call, write);
}

/* The path's job id, or 0 with a 404 set. */
static int64_t api_redeliveries_id(ApiCall *call)
{
    int64_t id = api_manual_task_id(call); /* the same rule: a positive integer */
    if (id == 0)
        api_call_fail(call, 404, "not_found", "id", "no redelivery job with id \"%s\"",
                      api_call_path_parameter(call));
    return id;
}

/* GET /v1/redeliveries/{id} */
static void api_redeliveries_show(ApiCall *call)
{
    int64_t id = api_redeliveries_id(call);
    if (id != 0)
        api_redeliveries_reply_job(call, 200, id, -1);
}

/* POST /v1/redeliveries/{id}/cancel */
static void api_redeliveries_cancel(ApiCall *call)
{
    int64_t id = api_redeliveries_id(call);
    if (id == 0)
        return;
    JobWrite *write = calloc(1, sizeof *write);
    char *actor = strdup(api_call_actor(call));
    if (write == NULL || actor == NULL) {
        free(write);
        free(actor);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    write->cancel = true;
    write->redelivery.id = id;
    write->redelivery.actor = actor;
    api_redeliveries_submit(call, write);
}

/* GET /v1/redeliveries?limit=&before= */
static void api_redeliveries_list(ApiCall *call)
{
    long limit;
    int64_t before;
    if (!api_call_read_page(call, 50, "a redelivery job id", &limit, &before))
        return;
    RedeliveryJob *jobs;
    size_t count;
    char err[320];
    if (store_redelivery_list(api_call_reader(call), before, (int)limit + 1, &jobs, &count, err,
                              sizeof err) != 0) {
        api_manual_unavailable(call, err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "redeliveries");
    bool more = count > (size_t)limit;
    size_t shown = more ? (size_t)limit : count;
    for (size_t i = 0; i < shown; i++)
        cJSON_AddItemToArray(array, redelivery_json_render(&jobs[i]));
    if (more)
        cJSON_AddNumberToObject(body, "next_before", (double)jobs[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_before");
    store_redelivery_list_free(jobs, count);
    api_call_reply(call, 200, body);
}

static const char *const api_redeliveries_page_query[] = {"limit", "before", NULL};

const ApiRoute api_redeliveries_routes[] = {
    {.method = "POST", .pattern = "/v1/redeliveries", .json_body = true, .writes = true,
     .handler = api_redeliveries_create},
    {.method = "GET", .pattern = "/v1/redeliveries", .query = api_redeliveries_page_query,
     .handler = api_redeliveries_list},
    {.method = "GET", .pattern = "/v1/redeliveries/{id}", .handler = api_redeliveries_show},
    {.method = "POST", .pattern = "/v1/redeliveries/{id}/cancel", .json_body = true,
     .writes = true, .handler = api_redeliveries_cancel},
};

const size_t api_redeliveries_route_count =
    sizeof api_redeliveries_routes / sizeof api_redeliveries_routes[0];
