/*
 * api_receivers: see api_receivers.h. A ReceiverChange is attached to its
 * call across the suspension: APPLY runs on the writer thread inside its
 * transaction, on_done resumes the call, and the resumed handler answers on
 * an HTTP thread and tells the scheduler.
 */
#include "api_receivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_manual.h"
#include "auth.h"
#include "clock.h"
#include "log.h"
#include "manual_json.h"
#include "store_receivers.h"
#include "task_render.h"
#include "task_url.h"

typedef struct ReceiverChange {
    ApiCall *call;
    IntakeJob job;
    char *receiver; /* the key */
    char *note;     /* NULL: none */
    bool pause;
    int64_t now;
    bool changed;  /* set by APPLY */
    int64_t older; /* set by APPLY: heraldd that would not honour a pause */
} ReceiverChange;

static void api_receivers_free(void *state)
{
    ReceiverChange *change = state;
    free(change->receiver);
    free(change->note);
    free(change);
}

static StoreResult api_receivers_apply(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    ReceiverChange *change = job->context;
    change->changed = false;
    /* A heraldd of an earlier release (a rolling upgrade under way) claims
     * without looking at pauses: a pause it would not keep is refused. */
    if (change->pause && store_count_older_instances(store, STORE_PAUSE_MIGRATION,
                                                     &change->older, err, errlen) != 0)
        return STORE_ERROR;
    if (change->older > 0)
        return STORE_NOT_FOUND;
    return store_receiver_set_paused(store, change->receiver, change->pause,
                                     api_call_actor(change->call), change->note, change->now,
                                     &change->changed, err, errlen) == 0
               ? STORE_OK
               : STORE_ERROR;
}

static void api_receivers_committed(IntakeJob *job)
{
    ReceiverChange *change = job->context;
    api_call_resume(change->call);
}

static void api_receivers_done(ApiCall *call)
{
    ReceiverChange *change = api_call_state(call);
    /* Whatever the answer, the scheduler reads the list again: a commit whose
     * reply was lost (a 503 here, "changed": false when asked again) may have
     * changed it all the same, and the read is cheap. */
    api_call_announce_receivers(call);
    if (change->job.result == INTAKE_JOB_REFUSED) {
        api_call_fail(call, 409, "upgrade_in_progress", NULL,
                      "%lld heraldd of an earlier release share the database and would go on "
                      "sending to a paused receiver; pause it once every heraldd is upgraded",
                      (long long)change->older);
        return;
    }
    if (change->job.result != INTAKE_JOB_OK) {
        api_manual_unavailable(call, change->job.message);
        return;
    }
    if (change->changed) {
        char actor[AUTH_NAME_MAX + 8], note[MANUAL_NOTE_MAX * 4 + 8];
        log_warning("event=receiver_%s receiver=%s actor=%s note=%s",
                    change->pause ? "paused" : "resumed", change->receiver,
                    log_quote(actor, sizeof actor, api_call_actor(call)),
                    log_quote(note, sizeof note, change->note ? change->note : ""));
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "receiver", change->receiver);
    cJSON_AddBoolToObject(body, "paused", change->pause);
    cJSON_AddBoolToObject(body, "changed", change->changed);
    api_call_reply(call, 200, body);
}

/* The path's receiver as its key (the caller frees it), or NULL with a 400
 * set. */
static char *api_receivers_key(ApiCall *call)
{
    char *receiver = NULL, message[256];
    if (task_url_check(api_call_path_parameter(call), NULL, &receiver, NULL, message,
                       sizeof message) != 0) {
        /* task_url_check names target_url: here it is the receiver. */
        const char *reason = strncmp(message, "target_url ", 11) == 0 ? message + 11 : message;
        api_call_fail(call, 400, "invalid_parameter", "receiver",
                      "the receiver must be scheme://host:port as GET /v1/receivers lists it "
                      "(percent-encoded in the path), or a URL of it: %s",
                      reason);
        return NULL;
    }
    return receiver;
}

/* GET /v1/receivers/{receiver}/actions?limit=&before= */
static void api_receivers_actions(ApiCall *call)
{
    long limit;
    int64_t before;
    if (!api_call_read_page(call, 100, "an action id", &limit, &before))
        return;
    char *receiver = api_receivers_key(call);
    if (receiver == NULL)
        return;
    StoreReceiverAction *actions;
    size_t count;
    char err[256];
    if (store_receiver_actions(api_call_reader(call), receiver, before, (int)limit + 1, &actions,
                               &count, err, sizeof err) != 0) {
        free(receiver);
        api_manual_unavailable(call, err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "receiver", receiver);
    cJSON *array = cJSON_AddArrayToObject(body, "actions");
    bool more = count > (size_t)limit;
    size_t shown = more ? (size_t)limit : count;
    for (size_t i = 0; i < shown; i++) {
        cJSON *object = cJSON_CreateObject();
        cJSON_AddNumberToObject(object, "id", (double)actions[i].id);
        cJSON_AddStringToObject(object, "action", actions[i].action);
        cJSON_AddStringToObject(object, "actor", actions[i].actor ? actions[i].actor : "");
        cJSON_AddItemToObject(object, "note", actions[i].note ? cJSON_CreateString(actions[i].note)
                                                              : cJSON_CreateNull());
        cJSON_AddItemToObject(object, "created_at", task_render_time(actions[i].created_at));
        cJSON_AddItemToArray(array, object);
    }
    if (more)
        cJSON_AddNumberToObject(body, "next_before", (double)actions[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_before");
    store_receiver_actions_free(actions, count);
    free(receiver);
    api_call_reply(call, 200, body);
}

/* POST /v1/receivers/{receiver}/pause and /resume */
static void api_receivers_change(ApiCall *call, bool pause)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    char *note = NULL;
    ApiError error;
    if (manual_json_read_pause(body, length, &note, &error) != 0) {
        free(note);
        api_call_reply_error(call, &error);
        return;
    }
    char *receiver = api_receivers_key(call);
    if (receiver == NULL) {
        free(note);
        return;
    }
    ReceiverChange *change = calloc(1, sizeof *change);
    if (change == NULL) {
        free(note);
        free(receiver);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    *change = (ReceiverChange){.call = call, .receiver = receiver, .note = note, .pause = pause,
                               .now = clock_now_ms()};
    api_call_set_state(call, change, api_receivers_free);
    change->job = (IntakeJob){.count = 1, .apply = api_receivers_apply, .alone = true,
                              .on_done = api_receivers_committed, .context = change};
    api_call_submit(call, &change->job, api_receivers_done);
}

static void api_receivers_pause(ApiCall *call)
{
    api_receivers_change(call, true);
}

static void api_receivers_resume(ApiCall *call)
{
    api_receivers_change(call, false);
}

static const char *const api_receivers_actions_query[] = {"limit", "before", NULL};

const ApiRoute api_receivers_routes[] = {
    {.method = "GET", .pattern = "/v1/receivers/{receiver}/actions",
     .query = api_receivers_actions_query, .handler = api_receivers_actions},
    {.method = "POST", .pattern = "/v1/receivers/{receiver}/pause", .json_body = true,
     .writes = true, .handler = api_receivers_pause},
    {.method = "POST", .pattern = "/v1/receivers/{receiver}/resume", .json_body = true,
     .writes = true, .handler = api_receivers_resume},
};

const size_t api_receivers_route_count =
    sizeof api_receivers_routes / sizeof api_receivers_routes[0];
