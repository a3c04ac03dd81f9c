/*
 * alert_circuit: the circuit_open alert, one of the leader's (alert.c): it
 * fires when a receiver's circuit breaker (store_breaker.c) has been open
 * longer than [alert] breaker_alert_after, naming every such receiver, and
 * repeats as alert.c's others do (after the cooldown, or when their number
 * doubles); it resolves once none is. The breakers' state is the database's
 * (the receivers table), so whichever heraldd leads sees every receiver.
 */
#include <stdio.h>

#include "alert_internal.h"
#include "log.h"
#include "store_receivers.h"

/* The receivers named in the text, at most; the details list them all. */
#define ALERT_CIRCUIT_TEXT_NAMES 3

void alert_check_circuits(AlertChecker *checker, int64_t now)
{
    int64_t after = checker->options.breaker_alert_after_ms;
    StoreGate *gates;
    size_t count;
    char err[512];
    if (store_gate_list(checker->store, &gates, &count, err, sizeof err) != 0) {
        log_error("event=alert_check_failed kind=circuit_open error=\"%s\"", err);
        return;
    }
    cJSON *details = cJSON_CreateObject();
    cJSON *receivers = cJSON_CreateArray();
    char names[512] = "";
    size_t length = 0;
    int64_t open = 0;
    for (size_t i = 0; i < count; i++) {
        if (!gates[i].open || now - gates[i].opened_at < after)
            continue;
        cJSON *receiver = cJSON_CreateObject();
        cJSON_AddStringToObject(receiver, "receiver", gates[i].receiver);
        cJSON_AddItemToObject(receiver, "opened_at", alert_time(gates[i].opened_at));
        cJSON_AddNumberToObject(receiver, "consecutive_failures", (double)gates[i].failures);
        cJSON_AddItemToArray(receivers, receiver);
        if (open < ALERT_CIRCUIT_TEXT_NAMES && length < sizeof names) {
            int written = snprintf(names + length, sizeof names - length, "%s%s",
                                   open > 0 ? ", " : "", gates[i].receiver);
            length += written > 0 ? (size_t)written : 0;
        }
        open++;
    }
    store_gate_list_free(gates, count);
    char text[768];
    if (open > 0)
        snprintf(text, sizeof text,
                 "%lld receiver%s unreachable for %llds or more (%s%s): %s circuit is open, %s "
                 "tasks wait (parked, spending no attempts) and one probe at a time goes",
                 (long long)open, open == 1 ? "" : "s", (long long)(after / 1000), names,
                 open > ALERT_CIRCUIT_TEXT_NAMES ? ", ..." : "", open == 1 ? "its" : "their",
                 open == 1 ? "its" : "their");
    else
        snprintf(text, sizeof text, "every receiver's circuit is closed again, or open for "
                                    "less than %llds", (long long)(after / 1000));
    cJSON_AddStringToObject(details, "text", text);
    cJSON_AddNumberToObject(details, "breaker_alert_after_seconds", (double)(after / 1000));
    cJSON_AddItemToObject(details, "receivers", receivers);
    alert_evaluate(checker, &checker->circuits, open > 0, open, details, now);
}
