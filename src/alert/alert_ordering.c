/*
 * alert_ordering: the ordering_blocked alert, one of the leader's (alert.c):
 * it fires when an ordering key (store_ordering.h) has been blocked longer
 * than [alert] ordering_alert_after by a head in manual handling
 * (ordering_on_failure = block), naming the oldest such keys; it repeats as
 * alert.c's others do and resolves once no key is blocked that long. The
 * keys are the database's, so whichever heraldd leads sees them all.
 */
#include <stdio.h>

#include "alert_internal.h"
#include "log.h"
#include "store_ordering.h"

/* The keys named in the details, at most (the count covers them all). */
#define ALERT_ORDERING_LISTED 20

void alert_check_ordering(AlertChecker *checker, int64_t now)
{
    int64_t after = checker->options.ordering_alert_after_ms;
    /* How many are blocked that long (all of them), and the longest blocked
     * (at most ALERT_ORDERING_LISTED) named. */
    StoreOrderingFilter filter = {.blocked_only = true, .before = INT64_MAX,
                                  .limit = ALERT_ORDERING_LISTED, .oldest_blocked_first = true};
    StoreOrderingKey *keys = NULL;
    size_t count = 0;
    int64_t blocked = 0, oldest_at = 0;
    char err[512];
    if (store_ordering_blocked(checker->store, now - after + 1, &blocked, &oldest_at, err,
                               sizeof err) != 0 ||
        (blocked > 0 &&
         store_ordering_list(checker->store, &filter, &keys, &count, err, sizeof err) != 0)) {
        log_error("event=alert_check_failed kind=ordering_blocked error=\"%s\"", err);
        return;
    }
    cJSON *details = cJSON_CreateObject();
    cJSON *listed = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++) {
        if (now - keys[i].blocked_at < after)
            continue;
        cJSON *key = cJSON_CreateObject();
        cJSON_AddStringToObject(key, "receiver", keys[i].receiver);
        cJSON_AddStringToObject(key, "ordering_key", keys[i].ordering_key);
        cJSON_AddNumberToObject(key, "blocked_task_id", (double)keys[i].blocked_task_id);
        cJSON_AddItemToObject(key, "blocked_since", alert_time(keys[i].blocked_at));
        cJSON_AddNumberToObject(key, "waiting", (double)(keys[i].last_seq - keys[i].head_seq));
        cJSON_AddItemToArray(listed, key);
    }
    store_ordering_list_free(keys, count);
    char text[512];
    if (blocked > 0)
        snprintf(text, sizeof text,
                 "%lld ordering key%s blocked for %llds or more: %s head is in manual handling "
                 "and the tasks behind it wait (retry or resolve it: GET "
                 "/v1/ordering-keys?blocked=true)",
                 (long long)blocked, blocked == 1 ? "" : "s", (long long)(after / 1000),
                 blocked == 1 ? "its" : "each one's");
    else
        snprintf(text, sizeof text, "no ordering key is blocked for %llds or more",
                 (long long)(after / 1000));
    cJSON_AddStringToObject(details, "text", text);
    cJSON_AddNumberToObject(details, "ordering_alert_after_seconds", (double)(after / 1000));
    cJSON_AddItemToObject(details, "keys", listed);
    alert_evaluate(checker, &checker->ordering, blocked > 0, blocked, details, now);
}
