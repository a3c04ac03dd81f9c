/*
 * alert: the alert checker ("herald-watch" thread), which tells people when
 * something needs them.
 *
 * Every `interval` it counts open manual entries moved within `window` and
 * fires a manual_backlog alert when the count reaches `threshold`; it also
 * fires delivery_lag when this instance stops delivering: its scheduler has
 * not turned for scheduler_alive_ms (its heartbeat, so a stuck scheduler
 * cannot hide), or a task that could be sent now (its receiver has a free
 * slot) has waited longer than `max_lag`, the same question /readyz asks.
 * Tasks waiting for a receiver at its own limit are that receiver's lag
 * (a metric), not an alert that the scheduler is stuck. An alert fires on
 * crossing, repeats only after `cooldown` or when the count has doubled, and
 * is followed by one "resolved" notice when the condition clears. Every
 * alert is logged at error level, stored (GET /v1/alerts), and sent to the
 * configured sinks: a webhook (POST JSON, signed like task webhooks) and/or a
 * command (HERALD_ALERT_* environment), with its stable "id". Each sink gets
 * each alert once: one that fails is logged and tried again next interval,
 * without sending again to the sinks that took it. Sinks run on this thread
 * only, so they never slow deliveries.
 *
 * The same thread applies [storage] retention in small batches. It reads
 * with its own connection and writes (alerts, what the sinks did, retention)
 * through the intake writer, each write a transaction.
 */
#ifndef HERALD_ALERT_H
#define HERALD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "intake.h"
#include "policy.h"

typedef struct AlertChecker AlertChecker;

typedef struct AlertOptions {
    /* Its own connection reads; writes go through INTAKE. Not owned; must
     * outlive the checker. */
    const StoreLocation *store_location;
    Intake *intake; /* not owned; must outlive the checker */
    /* This instance's id (roster.h): its delivery_lag alerts name it, and it
     * holds the leadership lease under it. Not owned; must outlive the checker. */
    const char *instance_id;
    int64_t interval_ms;
    int64_t window_ms;
    int64_t threshold;
    int64_t cooldown_ms;
    int64_t max_lag_ms;
    int64_t breaker_alert_after_ms; /* circuit_open: a receiver's circuit open this long */
    int64_t ordering_alert_after_ms; /* ordering_blocked: an ordering key blocked this long */
    int64_t scheduler_alive_ms; /* a scheduler silent longer than this is stuck */
    const char *webhook_url; /* "" = none */
    const char *command;     /* "" = none */
    int64_t retention_ms;
    /* The policies in force: alert webhooks are signed with the default
     * ([delivery]) secret, like task webhooks. */
    const PolicySet *(*policies)(void);
} AlertOptions;

/* Opens its connection, restores the state of earlier alerts and starts the
 * thread. Returns the checker (the caller owns it: alert_stop), or NULL with
 * a message in ERR. */
AlertChecker *alert_start(const AlertOptions *options, char *err, size_t errlen);

/* Replaces the options the next turn uses (a reload); DB settings are kept. */
void alert_update(AlertChecker *checker, const AlertOptions *options);

/* Stops the thread (waiting for a sink in progress) and frees CHECKER. */
void alert_stop(AlertChecker *checker);

#endif
