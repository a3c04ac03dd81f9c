/*
 * alert_sink: where an alert goes besides the log and the alerts table:
 * a webhook (POST the alert's JSON, signed) or a command (run with
 * HERALD_ALERT_* environment variables). Both are bounded in time.
 */
#ifndef HERALD_ALERT_SINK_H
#define HERALD_ALERT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "alert_types.h"
#include "policy.h"

#define ALERT_SINK_WEBHOOK_TIMEOUT_MS 10000
#define ALERT_SINK_COMMAND_TIMEOUT_MS 30000

/* The alert as the sinks send it: ALERT's details with its "id" added (the
 * same id as GET /v1/alerts, stable across retries, so a receiver can drop
 * duplicates). The caller frees it; NULL if out of memory. */
char *alert_sink_body(const StoredAlert *alert);

/* POSTs BODY (alert_sink_body) to URL, signed like task webhooks (Standard
 * Webhooks: webhook-id "alert_ID", webhook-timestamp, webhook-signature) when
 * POLICY has a secret. Returns 0 on a 2xx, else -1 with ERR set. */
int alert_sink_webhook(const char *url, const StoredAlert *alert, const char *body,
                       const Policy *policy, char *err, size_t errlen);

/* Runs COMMAND with /bin/sh -c and the alert in HERALD_ALERT_ID, _KIND,
 * _STATE, _COUNT, _TEXT and _JSON (BODY). Returns 0 if it exits 0 in time,
 * else -1 with ERR set (a command still running at the timeout is killed). */
int alert_sink_command(const char *command, const StoredAlert *alert, const char *body,
                       char *err, size_t errlen);

#endif
