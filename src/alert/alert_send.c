/*
 * alert_send: the leader's part of the alert checker that concerns every
 * instance's alerts (see alert.h, alert_internal.h): handing the unsent ones
 * to the sinks, each claimed first under the lease's term, and resolving the
 * alerts of instances that are gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_internal.h"
#include "clock.h"
#include "log.h"
#include "roster.h"

typedef struct AlertSend {
    StoreFence fence;
    StoredAlert *alert;
    bool claimed; /* out (claim) */
} AlertSend;

static StoreResult alert_apply_claim(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    AlertSend *send = job->context;
    StoreResult result = store_alert_claim(store, &send->fence, send->alert->id, clock_now_ms(),
                                           ALERT_CLAIM_MS, err, errlen);
    send->claimed = result == STORE_OK;
    return result == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

static StoreResult alert_apply_mark(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    AlertSend *send = job->context;
    return store_alert_mark(store, &send->fence, send->alert, err, errlen) == 0 ? STORE_OK
                                                                              : STORE_ERROR;
}

/* Hands ALERT to SINK unless it took it already; returns the time it took it
 * (0: failed, with the reason appended to FAILURE). */
static int64_t alert_send_to(AlertChecker *checker, const StoredAlert *alert, const char *body,
                             bool webhook, int64_t sent_at, char *failure, size_t size)
{
    if (sent_at > 0)
        return sent_at; /* each sink gets each alert once */
    char error[512] = "";
    int result = webhook ? alert_sink_webhook(checker->webhook_url, alert, body,
                                              &checker->options.policies()->fallback, error,
                                              sizeof error)
                         : alert_sink_command(checker->command, alert, body, error, sizeof error);
    if (result == 0)
        return clock_now_ms();
    size_t used = strlen(failure);
    snprintf(failure + used, size - used, "%s%s", used ? "; " : "",
             error[0] ? error : webhook ? "webhook failed" : "command failed");
    return 0;
}

/* Hands every unsent alert to each configured sink that has not taken it;
 * an alert is sent once every configured sink took it. Each is first
 * claimed under the lease's term (store_alert_claim): a former leader, or
 * one whose claim another still holds, sends nothing. At least once only
 * across a crash (or a failed write) between a sink taking an alert and
 * the record of it: the next claim sends it again, by the same id. */
void alert_send_pending(AlertChecker *checker)
{
    StoredAlert *alerts;
    size_t count;
    char err[512], quoted[600];
    if (store_alert_unsent(checker->store, &alerts, &count, err, sizeof err) != 0) {
        log_error("event=alert_send_failed error=%s", log_quote(quoted, sizeof quoted, err));
        return;
    }
    for (size_t i = 0; i < count && checker->lead.leader; i++) {
        StoredAlert *alert = &alerts[i];
        AlertSend send = {.fence = alert_lead_fence(&checker->lead), .alert = alert};
        if (intake_run(checker->options.intake, alert_apply_claim, &send, err, sizeof err) !=
            STORE_OK) {
            log_error("event=alert_send_failed alert_id=%lld error=%s", (long long)alert->id,
                      log_quote(quoted, sizeof quoted, err));
            continue;
        }
        if (!send.claimed)
            continue; /* another's live claim, or the lease ended: not ours to send */
        char *body = alert_sink_body(alert);
        if (body == NULL) {
            log_error("event=alert_send_failed alert_id=%lld error=\"out of memory\"",
                      (long long)alert->id);
            continue;
        }
        char failure[1100] = "";
        if (checker->webhook_url != NULL)
            alert->webhook_sent_at = alert_send_to(checker, alert, body, true,
                                                   alert->webhook_sent_at, failure,
                                                   sizeof failure);
        if (checker->command != NULL)
            alert->command_sent_at = alert_send_to(checker, alert, body, false,
                                                   alert->command_sent_at, failure,
                                                   sizeof failure);
        free(body);
        if (failure[0] != '\0') {
            char described[1200];
            log_error("event=alert_sink_failed alert_id=%lld error=%s retry=next_interval",
                      (long long)alert->id, log_quote(described, sizeof described, failure));
        }
        alert->sent_at = failure[0] ? 0 : clock_now_ms();
        free(alert->send_error);
        alert->send_error = failure[0] ? strdup(failure) : NULL;
        if (intake_run(checker->options.intake, alert_apply_mark, &send, err, sizeof err) !=
            STORE_OK)
            log_error("event=alert_send_failed error=%s", log_quote(quoted, sizeof quoted, err));
    }
    store_alert_list_free(alerts, count);
}

/* Whether INSTANCE is gone, by ROWS (the instances table) at NOW: no row,
 * or no heartbeat within ROSTER_ALIVE_MS. On a database of one heraldd
 * (SQLite), every other instance is gone: it ran before this one. */
static bool alert_instance_gone(const AlertChecker *checker, const char *instance,
                                const StoreInstance *rows, size_t count, int64_t now)
{
    if (!store_is_shared(checker->store))
        return true;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(rows[i].id, instance) == 0)
            return now - rows[i].heartbeat_at > ROSTER_ALIVE_MS;
    }
    return true;
}

/* The leader resolves the firing alerts of instances that are gone, which
 * cannot resolve their own: each under the lease's term, and only while it
 * is still the latest of its (kind, instance), so an instance that came
 * back and resolved its own meanwhile is not resolved twice. */
void alert_resolve_gone(AlertChecker *checker, int64_t now)
{
    StoredAlert *firing = NULL;
    StoreInstance *rows = NULL;
    size_t firing_count = 0, row_count = 0;
    char err[512], quoted[600];
    if (store_alert_firing(checker->store, &firing, &firing_count, err, sizeof err) != 0 ||
        (firing_count > 0 &&
         store_instance_list(checker->store, now, &rows, &row_count, err, sizeof err) != 0)) {
        log_error("event=alert_check_failed kind=gone_instances error=%s",
                  log_quote(quoted, sizeof quoted, err));
        store_alert_list_free(firing, firing_count);
        return;
    }
    for (size_t i = 0; i < firing_count && checker->lead.leader; i++) {
        const StoredAlert *alert = &firing[i];
        if (alert->instance[0] == '\0' || strcmp(alert->instance, checker->options.instance_id) == 0 ||
            !alert_instance_gone(checker, alert->instance, rows, row_count, now))
            continue;
        char text[384];
        snprintf(text, sizeof text,
                 "instance %s is gone (stopped, or silent for over %llds): its %s alert is "
                 "resolved by the leader",
                 alert->instance, (long long)(ROSTER_ALIVE_MS / 1000), alert->kind);
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "text", text);
        cJSON_AddStringToObject(details, "kind", alert->kind);
        cJSON_AddStringToObject(details, "instance", alert->instance);
        cJSON_AddStringToObject(details, "state", "resolved");
        cJSON_AddNumberToObject(details, "count", (double)alert->count);
        cJSON_AddBoolToObject(details, "instance_gone", true);
        cJSON_AddStringToObject(details, "resolved_by", checker->options.instance_id);
        cJSON_AddItemToObject(details, "created_at", alert_time(now));
        char *json = cJSON_PrintUnformatted(details);
        cJSON_Delete(details);
        AlertInsert insert = {.fence = alert_lead_fence(&checker->lead),
                              .record = {.kind = alert->kind, .instance = alert->instance,
                                         .firing = false, .count = alert->count,
                                         .details = json, .now = now, .after_id = alert->id}};
        int stored = json != NULL ? alert_store(checker, &insert, err, sizeof err) : -1;
        free(json);
        if (stored != 0) {
            log_error("event=alert_not_recorded kind=%s instance=%s state=resolved error=%s "
                      "retry=next_interval",
                      alert->kind, alert->instance,
                      log_quote(quoted, sizeof quoted, json ? err : "out of memory"));
        } else if (!insert.refused) {
            log_error("event=alert kind=%s instance=%s state=resolved count=%lld alert_id=%lld "
                      "text=%s",
                      alert->kind, alert->instance, (long long)alert->count,
                      (long long)insert.id, log_quote(quoted, sizeof quoted, text));
        }
    }
    free(rows);
    store_alert_list_free(firing, firing_count);
}

