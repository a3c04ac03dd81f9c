/*
 * api_repair: see api_repair.h. Each repair is a Repair (or, for a bulk
 * retry or resolve, a BulkAction) attached to its call: the request, the
 * intake job and what the job's APPLY left for the answer. APPLY runs on the
 * writer thread inside its transaction; on_done resumes the call (a bulk
 * action first submits its next chunk); the resumed handler answers on an
 * HTTP thread.
 */
#include "api_repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_span.h"
#include "api_manual.h"
#include "api_trace.h"
#include "store_ordering.h"
#include "auth.h"
#include "clock.h"
#include "log.h"
#include "manual_json.h"
#include "telemetry.h"

/* What a single repair keeps across its suspension. */
typedef struct Repair {
    ApiCall *call;
    IntakeJob job;
    int64_t task_id;
    int64_t now;
    ManualRetryRequest request; /* retry: the corrections */
    ManualRepair repair;        /* retry: points into request */
    char *details;              /* retry: what changed, for the action log */
    char *note;                 /* resolve */
    const char *actor;          /* the Auth's, which outlives every call */
    char *host;                 /* retry: set by APPLY, the task's receiver */
    ApiActionTrace trace;       /* retry: the task's trace, for the action's span */
} Repair;

static void api_repair_free(void *state)
{
    Repair *repair = state;
    manual_json_retry_clear(&repair->request);
    free(repair->details);
    free(repair->note);
    free(repair->host);
    free(repair);
}

static void api_repair_no_such_task(ApiCall *call)
{
    api_call_fail(call, 404, "not_found", "id", "no task with id \"%s\"",
                  api_call_path_parameter(call));
}

static void api_repair_not_in_manual(ApiCall *call, int64_t task_id)
{
    api_call_fail(call, 409, "not_in_manual", "id",
                  "task %lld is not in the open manual-handling list", (long long)task_id);
}

/* The task named by the path, for a repair: its id and business type (the
 * caller frees *BUSINESS_TYPE), or 0 with a 404 or 503 already set. */
static int64_t api_repair_find_task(ApiCall *call, char **business_type, ApiActionTrace *trace)
{
    int64_t task_id = api_manual_task_id(call);
    if (task_id == 0) {
        api_repair_no_such_task(call);
        return 0;
    }
    char err[256];
    Task task;
    StoreResult found = store_task_get(api_call_reader(call), task_id, &task, err, sizeof err);
    if (found == STORE_NOT_FOUND)
        api_repair_no_such_task(call);
    else if (found != STORE_OK)
        api_manual_unavailable(call, err);
    if (found != STORE_OK)
        return 0;
    if (trace != NULL)
        api_trace_action_begin(trace, &task);
    *business_type = task.business_type;
    task.business_type = NULL;
    task_clear(&task);
    return task_id;
}

/* A new Repair attached to CALL, or NULL with a 503 set. */
static Repair *api_repair_new(ApiCall *call, int64_t task_id)
{
    Repair *repair = calloc(1, sizeof *repair);
    if (repair == NULL) {
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return NULL;
    }
    repair->call = call;
    repair->task_id = task_id;
    repair->now = clock_now_ms();
    repair->actor = api_call_actor(call);
    api_call_set_state(call, repair, api_repair_free);
    return repair;
}

/* Runs on the writer thread once the job is committed (or failed). */
static void api_repair_committed(IntakeJob *job)
{
    Repair *repair = job->context;
    api_call_resume(repair->call);
}

/* Suspends CALL and hands REPAIR's job (APPLY) to the writer; RESUMED answers. */
static void api_repair_submit(ApiCall *call, Repair *repair, IntakeApply apply,
                              ApiHandler resumed)
{
    repair->job = (IntakeJob){.count = 1, .apply = apply, .on_done = api_repair_committed,
                              .context = repair};
    api_call_submit(call, &repair->job, resumed);
}

/* The common ends of a resumed repair: 409, 503, or the task as it is now. */
static bool api_repair_answer_failure(ApiCall *call, const Repair *repair)
{
    if (repair->job.result == INTAKE_JOB_REFUSED) {
        api_repair_not_in_manual(call, repair->task_id);
        return true;
    }
    if (repair->job.result != INTAKE_JOB_OK) {
        api_manual_unavailable(call, repair->job.message);
        return true;
    }
    return false;
}

static void api_repair_describe(ApiCall *call, int64_t task_id)
{
    cJSON *answer = api_manual_describe(call, task_id);
    if (answer != NULL)
        api_call_reply(call, 200, answer);
}

/* ---- retry ---- */

/* What a retry changed, for the action log. */
static char *api_repair_details(const ManualRetryRequest *request, int budget)
{
    cJSON *details = cJSON_CreateObject();
    if (request->target_url != NULL)
        cJSON_AddStringToObject(details, "target_url", request->target_url);
    if (request->payload != NULL)
        cJSON_AddBoolToObject(details, "payload_replaced", true);
    if (request->headers_given)
        cJSON_AddBoolToObject(details, "headers_replaced", true);
    cJSON_AddNumberToObject(details, "max_retry", budget);
    char *text = cJSON_PrintUnformatted(details);
    cJSON_Delete(details);
    return text;
}

static StoreResult api_repair_apply_retry(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    Repair *repair = job->context;
    free(repair->host);
    repair->host = NULL;
    return store_manual_retry(store, repair->task_id, 0, &repair->repair, "retry", repair->details,
                              repair->now, &repair->host, err, errlen);
}

static void api_repair_retried(ApiCall *call)
{
    Repair *repair = api_call_state(call);
    if (api_repair_answer_failure(call, repair))
        return;
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=manual_retry actor=%s task_id=%lld max_retry=%d target_url_changed=%s "
             "payload_changed=%s headers_changed=%s",
             log_quote(actor, sizeof actor, repair->actor), (long long)repair->task_id,
             repair->repair.max_retry, repair->request.target_url ? "yes" : "no",
             repair->request.payload ? "yes" : "no", repair->request.headers_given ? "yes" : "no");
    const char *hosts[] = {repair->host};
    api_call_announce_due(call, hosts, repair->host ? 1 : 0, repair->now);
    api_trace_action_end(call, &repair->trace, "/v1/manual/{id}/retry", "retry",
                         repair->actor);
    api_repair_describe(call, repair->task_id);
}

static void api_repair_retry(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    ManualRetryRequest request;
    ApiError error;
    if (manual_json_read_retry(body, length, api_call_guard(call), &request, &error) != 0) {
        manual_json_retry_clear(&request);
        api_call_reply_error(call, &error);
        return;
    }
    char *business_type = NULL;
    ApiActionTrace trace;
    int64_t task_id = api_repair_find_task(call, &business_type, &trace);
    Repair *repair = task_id ? api_repair_new(call, task_id) : NULL;
    if (repair == NULL) {
        free(business_type);
        manual_json_retry_clear(&request);
        return;
    }
    repair->trace = trace;
    repair->request = request; /* the repair owns it from here */
    int budget = request.max_retry > 0
                     ? request.max_retry
                     : (int)policy_set_find(api_call_policies(call), business_type)->max_retry;
    free(business_type);
    repair->details = api_repair_details(&repair->request, budget);
    repair->repair = (ManualRepair){
        .target_url = repair->request.target_url, .target_host = repair->request.target_host,
        .payload = repair->request.payload, .payload_length = repair->request.payload_length,
        .payload_is_json = repair->request.payload_is_json,
        .replace_headers = repair->request.headers_given,
        .headers_json = repair->request.headers_json, .max_retry = budget,
        .note = repair->request.note, .actor = repair->actor,
    };
    api_repair_submit(call, repair, api_repair_apply_retry, api_repair_retried);
}

/* ---- resolve ---- */

static StoreResult api_repair_apply_resolve(Store *store, IntakeJob *job, char *err,
                                            size_t errlen)
{
    Repair *repair = job->context;
    free(repair->host);
    repair->host = NULL;
    return store_manual_resolve(store, repair->task_id, 0, repair->note, repair->actor, repair->now,
                                &repair->host, err, errlen);
}

static void api_repair_resolved(ApiCall *call)
{
    Repair *repair = api_call_state(call);
    if (api_repair_answer_failure(call, repair))
        return;
    char actor[AUTH_NAME_MAX + 8];
    log_info("event=manual_resolve actor=%s task_id=%lld",
             log_quote(actor, sizeof actor, repair->actor), (long long)repair->task_id);
    /* The next task of its ordering key, if it blocked one. */
    const char *hosts[] = {repair->host};
    api_call_announce_due(call, hosts, repair->host ? 1 : 0, repair->now);
    api_repair_describe(call, repair->task_id);
}

static void api_repair_resolve(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    char *note = NULL;
    ApiError error;
    if (manual_json_read_resolve(body, length, &note, &error) != 0) {
        free(note);
        api_call_reply_error(call, &error);
        return;
    }
    char *business_type = NULL;
    int64_t task_id = api_repair_find_task(call, &business_type, NULL);
    free(business_type);
    Repair *repair = task_id ? api_repair_new(call, task_id) : NULL;
    if (repair == NULL) {
        free(note);
        return;
    }
    repair->note = note;
    api_repair_submit(call, repair, api_repair_apply_resolve, api_repair_resolved);
}

/* ---- bulk retry and resolve ---- */

/* A bulk retry or resolve across its chunks. */
typedef struct BulkAction {
    ApiCall *call;
    IntakeJob job;
    bool resolve; /* resolve the entries; otherwise send them again */
    ManualBulkRequest request;
    ManualMatch *matches;
    size_t count;
    size_t next;              /* the first match of the chunk being written */
    size_t chunk;             /* how many matches that chunk covers */
    char *hosts[API_REPAIR_BULK_CHUNK]; /* the chunk's retried tasks' receivers */
    size_t host_count;
    long changed;             /* committed so far */
    long chunk_changed;       /* in the chunk being written */
    bool chunk_retried[API_REPAIR_BULK_CHUNK]; /* which of the chunk's tasks were sent again */
    bool *retried;            /* which matches were, when spans are exported (else NULL) */
    uint64_t start_unix_ns;
    const PolicySet *policies;
    const char *actor;
    int64_t now;
} BulkAction;

static void api_repair_bulk_clear_hosts(BulkAction *bulk)
{
    for (size_t i = 0; i < bulk->host_count; i++)
        free(bulk->hosts[i]);
    bulk->host_count = 0;
}

static void api_repair_bulk_free(void *state)
{
    BulkAction *bulk = state;
    api_repair_bulk_clear_hosts(bulk);
    free(bulk->retried);
    store_manual_matches_free(bulk->matches, bulk->count);
    manual_json_bulk_clear(&bulk->request);
    free(bulk);
}

/* The chunk's entries, one by one (api_repair_apply_chunk). */
static StoreResult api_repair_apply_entries(Store *store, BulkAction *bulk, char *err,
                                           size_t errlen)
{
    for (size_t i = bulk->next; i < bulk->next + bulk->chunk; i++) {
        StoreResult result;
        char *host = NULL;
        if (bulk->resolve) {
            /* The entry listed, not a newer failure of the task since. */
            result = store_manual_resolve(store, bulk->matches[i].task_id,
                                          bulk->matches[i].entry_id, bulk->request.note,
                                          bulk->actor, bulk->now, &host, err, errlen);
        } else {
            int budget = (int)policy_set_find(bulk->policies, bulk->matches[i].business_type)
                             ->max_retry;
            ManualRepair repair = {.max_retry = budget, .note = bulk->request.note,
                                   .actor = bulk->actor};
            result = store_manual_retry(store, bulk->matches[i].task_id,
                                        bulk->matches[i].entry_id, &repair, "bulk_retry",
                                        NULL, bulk->now, &host, err, errlen);
        }
        if (result == STORE_ERROR)
            return STORE_ERROR;
        if (result == STORE_OK) {
            if (host != NULL)
                bulk->hosts[bulk->host_count++] = host;
            bulk->chunk_changed++;
        }
        bulk->chunk_retried[i - bulk->next] = result == STORE_OK && !bulk->resolve;
    }
    return STORE_OK;
}

/* One chunk, inside the writer's transaction: entries resolved or retried
 * meanwhile (STORE_NOT_FOUND) are skipped. The ordering keys its tasks
 * block move at its end, in the one order keys are locked in
 * (store_ordering_defer); a key a resolve lets go makes its next task's
 * receiver one of the chunk's hosts (at most one a resolved entry, so they
 * fit). */
static StoreResult api_repair_apply_chunk(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    BulkAction *bulk = job->context;
    api_repair_bulk_clear_hosts(bulk);
    bulk->chunk_changed = 0;
    if (store_ordering_defer(store, err, errlen) != 0)
        return STORE_ERROR;
    if (api_repair_apply_entries(store, bulk, err, errlen) != STORE_OK) {
        store_ordering_defer_drop(store);
        return STORE_ERROR;
    }
    char **released;
    size_t count;
    if (store_ordering_settle(store, bulk->now, &released, &count, err, errlen) != 0)
        return STORE_ERROR;
    for (size_t i = 0; i < count; i++) {
        if (bulk->host_count < API_REPAIR_BULK_CHUNK)
            bulk->hosts[bulk->host_count++] = released[i];
        else
            free(released[i]); /* found by the scheduler's next reading of the hosts */
    }
    free(released);
    return STORE_OK;
}

static void api_repair_bulk_committed(IntakeJob *job);

/* Submits the chunk starting at bulk->next. Returns 0, or -1 with the job
 * marked unavailable. Called on an HTTP thread (the first) or the writer's. */
static int api_repair_bulk_submit(BulkAction *bulk)
{
    bulk->chunk = bulk->count - bulk->next < API_REPAIR_BULK_CHUNK ? bulk->count - bulk->next
                                                                   : API_REPAIR_BULK_CHUNK;
    bulk->job = (IntakeJob){.count = bulk->chunk ? bulk->chunk : 1,
                            .apply = api_repair_apply_chunk,
                            .on_done = api_repair_bulk_committed, .context = bulk};
    char err[128];
    if (intake_submit(api_call_intake(bulk->call), &bulk->job, err, sizeof err) != 0) {
        bulk->job.result = INTAKE_JOB_UNAVAILABLE;
        snprintf(bulk->job.message, sizeof bulk->job.message, "%s", err);
        return -1;
    }
    return 0;
}

/* On the writer thread, after each chunk: tell the scheduler about its
 * tasks, then write the next chunk or wake the call. */
static void api_repair_bulk_committed(IntakeJob *job)
{
    BulkAction *bulk = job->context;
    if (job->result == INTAKE_JOB_OK) {
        bulk->changed += bulk->chunk_changed;
        if (bulk->retried != NULL)
            memcpy(bulk->retried + bulk->next, bulk->chunk_retried, bulk->chunk);
        api_call_announce_due(bulk->call, (const char *const *)bulk->hosts, bulk->host_count,
                              bulk->now);
        api_repair_bulk_clear_hosts(bulk);
        bulk->next += bulk->chunk;
        if (bulk->next < bulk->count) {
            log_info("event=manual_bulk_progress action=%s changed=%ld written=%zu matched=%zu",
                     bulk->resolve ? "resolve" : "retry", bulk->changed, bulk->next, bulk->count);
            if (api_repair_bulk_submit(bulk) == 0)
                return;
        }
    }
    api_call_resume(bulk->call);
}

/* A span for each task a bulk retry sent again (those of the chunks that
 * committed), as for a single retry (api_trace_action_end). */
static void api_repair_bulk_trace(ApiCall *call, BulkAction *bulk)
{
    if (bulk->retried == NULL)
        return;
    TraceContext parent;
    ActionSpan span = {.name = "POST /v1/manual/retry", .kind = SPAN_KIND_SERVER,
                       .route = "/v1/manual/retry", .action = "retry", .actor = bulk->actor,
                       .parent = api_trace_request_parent(call, &parent) ? &parent : NULL,
                       .start_unix_ns = bulk->start_unix_ns, .end_unix_ns = span_now_ns()};
    for (size_t i = 0; i < bulk->count; i++)
        if (bulk->retried[i])
            action_span_report(&span, bulk->matches[i].task_id, bulk->matches[i].business_type,
                               bulk->matches[i].traceparent);
}

static void api_repair_bulk_done(ApiCall *call)
{
    BulkAction *bulk = api_call_state(call);
    api_repair_bulk_trace(call, bulk);
    const char *verb = bulk->resolve ? "resolved" : "retried";
    char actor[AUTH_NAME_MAX + 8];
    bool complete = bulk->job.result == INTAKE_JOB_OK && bulk->next >= bulk->count;
    log_info("event=manual_bulk_%s actor=%s matched=%zu %s=%ld dry_run=%s business_type=%s "
             "reason=%s task_ids=%zu all=%s through_id=%lld complete=%s",
             bulk->resolve ? "resolve" : "retry", log_quote(actor, sizeof actor, bulk->actor),
             bulk->count, verb, bulk->changed, bulk->request.dry_run ? "yes" : "no",
             bulk->request.business_type ? bulk->request.business_type : "any",
             bulk->request.reason ? bulk->request.reason : "any", bulk->request.task_id_count,
             bulk->request.all ? "yes" : "no",
             (long long)(bulk->request.through_id == INT64_MAX ? -1 : bulk->request.through_id),
             complete ? "yes" : "no");
    if (!complete) {
        char message[400];
        snprintf(message, sizeof message, "%.200s (%ld of %zu matching entries were %s "
                 "before it; the rest are still open: ask again)", bulk->job.message,
                 bulk->changed, bulk->count, verb);
        api_manual_unavailable(call, message);
        return;
    }
    /* The matches are in entry id order: the last is the bound that binds a
     * confirmed run to this selection (0: nothing matched). */
    int64_t through_id = bulk->count > 0 ? bulk->matches[bulk->count - 1].entry_id : 0;
    cJSON *answer = cJSON_CreateObject();
    if (answer == NULL || cJSON_AddNumberToObject(answer, "matched", (double)bulk->count) == NULL ||
        cJSON_AddNumberToObject(answer, verb, (double)bulk->changed) == NULL ||
        cJSON_AddBoolToObject(answer, "dry_run", bulk->request.dry_run) == NULL ||
        cJSON_AddNumberToObject(answer, "through_id", (double)through_id) == NULL) {
        cJSON_Delete(answer);
        api_manual_unavailable(call, "out of memory");
        return;
    }
    api_call_reply(call, 200, answer);
}

/* Keeps the matches the request's task_ids select (all when it names none). */
static void api_repair_bulk_select(BulkAction *bulk)
{
    size_t kept = 0;
    for (size_t i = 0; i < bulk->count; i++) {
        if (manual_json_bulk_selects(&bulk->request, bulk->matches[i].task_id))
            bulk->matches[kept++] = bulk->matches[i];
        else
            free(bulk->matches[i].business_type);
    }
    bulk->count = kept;
}

static void api_repair_bulk(ApiCall *call, bool resolve)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    BulkAction *bulk = calloc(1, sizeof *bulk);
    if (bulk == NULL) {
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_call_set_state(call, bulk, api_repair_bulk_free);
    ApiError error;
    if (manual_json_read_bulk(body, length, resolve, &bulk->request, &error) != 0) {
        api_call_reply_error(call, &error);
        return;
    }
    bulk->call = call;
    bulk->resolve = resolve;
    bulk->policies = api_call_policies(call);
    bulk->actor = api_call_actor(call);
    bulk->now = clock_now_ms();
    bulk->start_unix_ns = span_now_ns();
    char err[256];
    ManualMatchFilter filter = {.business_type = bulk->request.business_type,
                                .reason = bulk->request.reason,
                                .since = bulk->request.since,
                                .until = bulk->request.until,
                                .through_id = bulk->request.through_id};
    if (store_manual_open_matching(api_call_reader(call), &filter, &bulk->matches, &bulk->count,
                                   err, sizeof err) != 0) {
        api_manual_unavailable(call, err);
        return;
    }
    api_repair_bulk_select(bulk);
    bulk->job.result = INTAKE_JOB_OK;
    if (bulk->request.dry_run || bulk->count == 0) {
        bulk->next = bulk->count;
        api_repair_bulk_done(call);
        return;
    }
    if (!resolve && telemetry_exporting()) /* NULL: the spans go unreported */
        bulk->retried = calloc(bulk->count, sizeof *bulk->retried);
    /* Suspend first: the writer may finish and resume before submit returns. */
    api_call_suspend(call, api_repair_bulk_done);
    if (api_repair_bulk_submit(bulk) != 0)
        api_call_resume(call);
}

static void api_repair_bulk_retry(ApiCall *call)
{
    api_repair_bulk(call, false);
}

static void api_repair_bulk_resolve(ApiCall *call)
{
    api_repair_bulk(call, true);
}

const ApiRoute api_repair_routes[] = {
    {.method = "POST", .pattern = "/v1/manual/retry", .json_body = true, .writes = true, .handler = api_repair_bulk_retry},
    {.method = "POST", .pattern = "/v1/manual/resolve", .json_body = true, .writes = true, .handler = api_repair_bulk_resolve},
    {.method = "POST", .pattern = "/v1/manual/{id}/retry", .json_body = true, .writes = true, .handler = api_repair_retry},
    {.method = "POST", .pattern = "/v1/manual/{id}/resolve", .json_body = true, .writes = true, .handler = api_repair_resolve},
};

const size_t api_repair_route_count = sizeof api_repair_routes / sizeof api_repair_routes[0];
