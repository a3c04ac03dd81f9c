/*
 * api_redeliver: see api_redeliver.h. A Redelivery is attached to its call
 * across the suspension: APPLY runs on the writer thread inside its
 * transaction, on_done resumes the call, and the resumed handler answers on
 * an HTTP thread.
 */
#include "api_redeliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_manual.h"
#include "api_trace.h"
#include "auth.h"
#include "clock.h"
#include "log.h"
#include "manual_json.h"

typedef struct Redelivery {
    ApiCall *call;
    IntakeJob job;
    int64_t task_id;
    int64_t now;
    ManualRedeliverRequest request;
    ManualRepair repair; /* the budget, the reason as its note, the actor */
    char *details;       /* for the audit trail */
    char *host;          /* set by APPLY: the task's receiver */
    ApiActionTrace trace; /* the task's trace, for the action's span */
} Redelivery;

static void api_redeliver_free(void *state)
{
    Redelivery *redelivery = state;
    free(redelivery->request.reason);
    free(redelivery->details);
    free(redelivery->host);
    free(redelivery);
}

static void api_redeliver_not_finished(ApiCall *call, int64_t task_id, const char *status)
{
    api_call_fail(call, 409, "task_not_finished", "id",
                  "task %lld is %s: it will be delivered anyway; only a task that succeeded "
                  "or failed can be sent again",
                  (long long)task_id, status);
}

static StoreResult api_redeliver_apply(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    Redelivery *redelivery = job->context;
    free(redelivery->host);
    redelivery->host = NULL;
    return store_task_redeliver(store, redelivery->task_id, &redelivery->repair,
                                redelivery->details, redelivery->now, &redelivery->host, err,
                                errlen);
}

/* Runs on the writer thread once the job is committed (or failed). */
static void api_redeliver_committed(IntakeJob *job)
{
    Redelivery *redelivery = job->context;
    api_call_resume(redelivery->call);
}

static void api_redeliver_done(ApiCall *call)
{
    Redelivery *redelivery = api_call_state(call);
    if (redelivery->job.result == INTAKE_JOB_REFUSED) {
        /* Between the look and the write the task changed: sent again by
         * someone else (pending again), or gone (retention). Read what it is. */
        Task task;
        char err[256];
        StoreResult found =
            store_task_get(api_call_reader(call), redelivery->task_id, &task, err, sizeof err);
        if (found == STORE_NOT_FOUND) {
            api_call_fail(call, 404, "not_found", "id", "no task with id \"%lld\"",
                          (long long)redelivery->task_id);
        } else if (found != STORE_OK) {
            api_manual_unavailable(call, err);
        } else if (task.status == TASK_STATUS_PENDING || task.status == TASK_STATUS_DELIVERING) {
            api_redeliver_not_finished(call, redelivery->task_id,
                                       task_status_name(task.status));
            task_clear(&task);
        } else {
            /* Sent again by another request and finished already. */
            api_call_fail(call, 409, "task_changed", "id",
                          "task %lld was sent again by another request while this one waited "
                          "and is %s now; ask again to send it once more",
                          (long long)redelivery->task_id, task_status_name(task.status));
            task_clear(&task);
        }
        return;
    }
    if (redelivery->job.result != INTAKE_JOB_OK) {
        api_manual_unavailable(call, redelivery->job.message);
        return;
    }
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=task_redeliver actor=%s task_id=%lld schedule=%s max_retry=%d",
             log_quote(actor, sizeof actor, redelivery->repair.actor),
             (long long)redelivery->task_id, redelivery->request.full_schedule ? "full" : "once",
             redelivery->repair.max_retry);
    const char *hosts[] = {redelivery->host};
    api_call_announce_due(call, hosts, redelivery->host ? 1 : 0, redelivery->now);
    api_trace_action_end(call, &redelivery->trace, "/v1/tasks/{id}/redeliver", "redeliver",
                         redelivery->repair.actor);
    cJSON *answer = api_manual_describe(call, redelivery->task_id);
    if (answer != NULL)
        api_call_reply(call, 200, answer);
}

/* What the audit trail keeps of the request beside its reason. */
static char *api_redeliver_details(bool full_schedule, int budget)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "schedule", full_schedule ? "full" : "once");
    cJSON_AddNumberToObject(details, "max_retry", budget);
    char *text = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);
    return text;
}

/* POST /v1/tasks/{id}/redeliver */
static void api_redeliver_task(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    ManualRedeliverRequest request;
    ApiError error;
    if (manual_json_read_redeliver(body, length, &request, &error) != 0) {
        free(request.reason);
        api_call_reply_error(call, &error);
        return;
    }
    int64_t task_id = api_manual_task_id(call);
    Task task;
    char err[256];
    StoreResult found = task_id ? store_task_get(api_call_reader(call), task_id, &task, err,
                                                 sizeof err)
                                : STORE_NOT_FOUND;
    if (found != STORE_OK) {
        free(request.reason);
        if (found == STORE_NOT_FOUND)
            api_call_fail(call, 404, "not_found", "id", "no task with id \"%s\"",
                          api_call_path_parameter(call));
        else
            api_manual_unavailable(call, err);
        return;
    }
    if (task.status == TASK_STATUS_PENDING || task.status == TASK_STATUS_DELIVERING) {
        free(request.reason);
        api_redeliver_not_finished(call, task_id, task_status_name(task.status));
        task_clear(&task);
        return;
    }
    int budget = request.full_schedule
                     ? (int)policy_set_find(api_call_policies(call), task.business_type)->max_retry
                     : 1;
    ApiActionTrace trace;
    api_trace_action_begin(&trace, &task);
    task_clear(&task);
    Redelivery *redelivery = calloc(1, sizeof *redelivery);
    char *details = api_redeliver_details(request.full_schedule, budget);
    if (redelivery == NULL || details == NULL) {
        free(redelivery);
        free(details);
        free(request.reason);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    *redelivery = (Redelivery){.call = call, .task_id = task_id, .now = clock_now_ms(),
                               .request = request, .details = details, .trace = trace};
    redelivery->repair = (ManualRepair){.max_retry = budget,
                                        .note = redelivery->request.reason,
                                        .actor = api_call_actor(call),
                                        .redeliver = true};
    api_call_set_state(call, redelivery, api_redeliver_free);
    redelivery->job = (IntakeJob){.count = 1, .apply = api_redeliver_apply,
                                  .on_done = api_redeliver_committed, .context = redelivery};
    api_call_submit(call, &redelivery->job, api_redeliver_done);
}

const ApiRoute api_redeliver_routes[] = {
    {.method = "POST", .pattern = "/v1/tasks/{id}/redeliver", .json_body = true, .writes = true,
     .handler = api_redeliver_task},
};

const size_t api_redeliver_route_count =
    sizeof api_redeliver_routes / sizeof api_redeliver_routes[0];
