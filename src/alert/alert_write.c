/*
 * alert_write: an alert written to the alerts table (alert_store, through
 * the intake writer like every write), the time fields of its details
 * (alert_time), and each alert's state machine that decides when to write
 * one (alert_evaluate). Used by the checker (alert.c, alert_circuit.c) and
 * by the sending side (alert_send.c), apart from them so none calls another
 * back.
 */
#include "alert_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

cJSON *alert_time(int64_t unix_ms)
{
    char text[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(unix_ms, text);
    return cJSON_CreateString(text);
}

static StoreResult alert_apply_insert(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    AlertInsert *insert = job->context;
    StoreResult result = store_alert_insert(
        store, insert->fence.term > 0 ? &insert->fence : NULL, &insert->record, &insert->id, err,
        errlen);
    /* Refused is an answer, not a failure: the job commits nothing either way. */
    insert->refused = result == STORE_NOT_FOUND;
    return result == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

int alert_store(AlertChecker *checker, AlertInsert *insert, char *err, size_t errlen)
{
    return intake_run(checker->options.intake, alert_apply_insert, insert, err, errlen) ==
                   STORE_OK
               ? 0
               : -1;
}

/* Writes ALERT (its details JSON) unsent, logs it and counts it. An alert
 * that cannot be stored changes no state: the next interval fires it again,
 * so a bad moment of the disk delays an alert and never loses it. */
static void alert_record(AlertChecker *checker, AlertState *state, bool firing, int64_t count,
                         cJSON *details, int64_t now)
{
    cJSON_AddStringToObject(details, "kind", state->kind);
    if (state->instance != NULL)
        cJSON_AddStringToObject(details, "instance", state->instance);
    cJSON_AddStringToObject(details, "state", firing ? "firing" : "resolved");
    cJSON_AddNumberToObject(details, "count", (double)count);
    cJSON_AddItemToObject(details, "created_at", alert_time(now));
    char *text = cJSON_PrintUnformatted(details);
    const cJSON *summary = cJSON_GetObjectItemCaseSensitive(details, "text");
    char quoted[600];
    log_quote(quoted, sizeof quoted, cJSON_IsString(summary) ? summary->valuestring : "");
    cJSON_Delete(details);
    char err[512];
    AlertInsert insert = {
        .fence = state->fenced ? alert_lead_fence(&checker->lead) : (StoreFence){0},
        .record = {.kind = state->kind, .instance = state->instance, .firing = firing,
                   .count = count, .details = text, .now = now}};
    if (state->fenced && insert.fence.term == 0) {
        free(text);
        return; /* no longer leading */
    }
    if (text == NULL || alert_store(checker, &insert, err, sizeof err) != 0) {
        char reason[600];
        log_error("event=alert_not_recorded kind=%s state=%s text=%s error=%s retry=next_interval",
                  state->kind, firing ? "firing" : "resolved", quoted,
                  log_quote(reason, sizeof reason, text ? err : "out of memory"));
        free(text);
        return;
    }
    free(text);
    if (insert.refused) {
        alert_lead_fenced(&checker->lead, "the alert");
        return;
    }
    char instance[ALERT_INSTANCE_MAX + 16] = "";
    if (state->instance != NULL)
        snprintf(instance, sizeof instance, " instance=%s", state->instance);
    log_error("event=alert kind=%s%s state=%s count=%lld alert_id=%lld text=%s", state->kind,
              instance, firing ? "firing" : "resolved", (long long)count, (long long)insert.id,
              quoted);
    if (firing) {
        metrics_count_alert(state->kind);
        state->last_count = count;
        state->last_fired_at = now;
    }
    state->firing = firing;
}

void alert_evaluate(AlertChecker *checker, AlertState *state, bool condition, int64_t count,
                    cJSON *details, int64_t now)
{
    bool repeat = state->firing && (now - state->last_fired_at >= checker->options.cooldown_ms ||
                                    count >= 2 * state->last_count);
    if (condition && (!state->firing || repeat)) {
        alert_record(checker, state, true, count, details, now);
    } else if (!condition && state->firing) {
        alert_record(checker, state, false, count, details, now);
    } else {
        cJSON_Delete(details);
    }
}
