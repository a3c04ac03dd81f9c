/*
 * config_keys: every key of herald.conf, one row each: section, name, type,
 * field, bounds, default, and whether a reload (SIGHUP) applies it or it
 * needs a restart. config.c reads files with these tables; config_reload.c
 * derives what a reload changed, and what it could not, from the same rows,
 * so the two can never disagree.
 *
 * CONFIG_RELOAD rows must be read where they are used from the snapshot in
 * force (live_current(), or a module's reload hook): keys of sockets,
 * threads, files and the SSRF guard are fixed at start (CONFIG_RESTART).
 */
#include "config_keys.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "task.h"

#define CONFIG_DAY_MS (86400LL * 1000)

#define CONFIG_FIELD(field) offsetof(Config, field), sizeof(((Config *)0)->field)
#define POLICY_FIELD(field) offsetof(Policy, field), sizeof(((Policy *)0)->field)

const ConfigKey config_keys[] = {
    {"server", "listen", CONFIG_TYPE_LISTEN, CONFIG_FIELD(listen), 0, 0, "127.0.0.1:8080",
     CONFIG_RESTART},
    {"server", "api_token_file", CONFIG_TYPE_STRING, CONFIG_FIELD(api_token_file), 0, 0, "",
     CONFIG_RESTART},
    {"server", "max_body", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_body), 64, 64 * 1024 * 1024, "256KiB",
     CONFIG_RESTART},
    {"server", "threads", CONFIG_TYPE_INTEGER, CONFIG_FIELD(threads), 0, 64, "0", CONFIG_RESTART},
    {"server", "max_connections", CONFIG_TYPE_INTEGER, CONFIG_FIELD(max_connections), 1, 100000,
     "1024", CONFIG_RESTART},
    {"server", "max_connections_per_ip", CONFIG_TYPE_INTEGER, CONFIG_FIELD(max_connections_per_ip),
     0, 100000, "256", CONFIG_RESTART},
    {"server", "max_header_bytes", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_header_bytes), 8192,
     1024 * 1024, "32KiB", CONFIG_RESTART},
    {"server", "connection_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(connection_timeout_ms),
     1000, 3600 * 1000, "30s", CONFIG_RESTART},
    {"server", "header_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(header_timeout_ms), 500,
     3600 * 1000, "10s", CONFIG_RESTART},
    {"server", "body_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(body_timeout_ms), 500,
     3600 * 1000, "60s", CONFIG_RESTART},
    {"server", "drain_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(drain_timeout_ms), 0, 600 * 1000,
     "3s", CONFIG_RELOAD},
    {"server", "console", CONFIG_TYPE_BOOLEAN, CONFIG_FIELD(console), 0, 0, "true", CONFIG_RELOAD},
    {"server", "allowed_hosts", CONFIG_TYPE_HOSTS, CONFIG_FIELD(allowed_hosts), 0, 0, "",
     CONFIG_RELOAD},
    {"server", "log_level", CONFIG_TYPE_LOG_LEVEL, CONFIG_FIELD(log_level), 0, 0, "info",
     CONFIG_RELOAD},
    {"storage", "path", CONFIG_TYPE_STRING, CONFIG_FIELD(storage_path), 0, 0, "var/herald.db",
     CONFIG_RESTART},
    {"storage", "url", CONFIG_TYPE_STRING, CONFIG_FIELD(storage_url), 0, 0, "", CONFIG_RESTART},
    {"storage", "password_file", CONFIG_TYPE_STRING, CONFIG_FIELD(storage_password_file), 0, 0, "",
     CONFIG_RESTART},
    {"storage", "busy_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(busy_timeout_ms), 0, 600 * 1000,
     "5s", CONFIG_RESTART},
    {"storage", "statement_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(statement_timeout_ms), 100,
     3600 * 1000, "30s", CONFIG_RESTART},
    {"storage", "startup_wait", CONFIG_TYPE_DURATION, CONFIG_FIELD(startup_wait_ms), 0,
     3600 * 1000, "60s", CONFIG_RESTART},
    {"storage", "failover_grace", CONFIG_TYPE_DURATION, CONFIG_FIELD(failover_grace_ms), 0,
     3600 * 1000, "30s", CONFIG_RELOAD},
    {"storage", "intake_queue_limit", CONFIG_TYPE_INTEGER, CONFIG_FIELD(intake_queue_limit), 1,
     1000000, "10000", CONFIG_RESTART},
    {"storage", "retention", CONFIG_TYPE_DURATION, CONFIG_FIELD(retention_ms), 1000,
     3650 * CONFIG_DAY_MS, "7d", CONFIG_RELOAD},
    {"delivery", "timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(delivery_timeout_ms), 100,
     600 * 1000, "10s", CONFIG_RELOAD},
    {"delivery", "connect_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(connect_timeout_ms), 100,
     600 * 1000, "5s", CONFIG_RELOAD},
    {"delivery", "concurrency", CONFIG_TYPE_INTEGER, CONFIG_FIELD(concurrency), 1, 100000, "256",
     CONFIG_RESTART},
    {"delivery", "per_host_concurrency", CONFIG_TYPE_INTEGER, CONFIG_FIELD(per_host_concurrency), 1,
     100000, "16", CONFIG_RESTART},
    {"delivery", "max_response_bytes", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_response_bytes), 0,
     1024 * 1024, "4KiB", CONFIG_RELOAD},
    {"delivery", "allow_private_targets", CONFIG_TYPE_BOOLEAN, CONFIG_FIELD(allow_private_targets),
     0, 0, "false", CONFIG_RESTART},
    {"delivery", "allow_cidrs", CONFIG_TYPE_CIDRS, CONFIG_FIELD(allow_cidrs), 0, 0, "",
     CONFIG_RESTART},
    {"delivery", "ca_file", CONFIG_TYPE_STRING, CONFIG_FIELD(ca_file), 0, 0, "", CONFIG_RELOAD},
    {"delivery", "secret", CONFIG_TYPE_SECRET, CONFIG_FIELD(delivery_secret), 0, 0, "",
     CONFIG_RELOAD},
    {"delivery", "secret_file", CONFIG_TYPE_SECRET_FILE, CONFIG_FIELD(delivery_secret), 0, 0, "",
     CONFIG_RELOAD},
    {"delivery", "previous_secret", CONFIG_TYPE_SECRET, CONFIG_FIELD(delivery_previous_secret), 0,
     0, "", CONFIG_RELOAD},
    {"delivery", "previous_secret_until", CONFIG_TYPE_TIME,
     CONFIG_FIELD(delivery_previous_secret_until), 0, 0, "", CONFIG_RELOAD},
    {"delivery", "lease_sweep_interval", CONFIG_TYPE_DURATION,
     CONFIG_FIELD(lease_sweep_interval_ms), 100, CONFIG_DAY_MS, "60s", CONFIG_RELOAD},
    {"delivery", "breaker_probe_interval", CONFIG_TYPE_DURATION,
     CONFIG_FIELD(breaker_probe_interval_ms), 100, CONFIG_DAY_MS, "5s", CONFIG_RELOAD},
    {"delivery", "breaker_probe_max_interval", CONFIG_TYPE_DURATION,
     CONFIG_FIELD(breaker_probe_max_interval_ms), 100, CONFIG_DAY_MS, "5m", CONFIG_RELOAD},
    {"retry", "retry_interval", CONFIG_TYPE_DURATION, CONFIG_FIELD(retry_interval_ms), 10,
     CONFIG_DAY_MS, "30s", CONFIG_RELOAD},
    {"alert", "interval", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_interval_ms), 100, CONFIG_DAY_MS,
     "30s", CONFIG_RELOAD},
    {"alert", "window", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_window_ms), 1000,
     365 * CONFIG_DAY_MS, "24h", CONFIG_RELOAD},
    {"alert", "threshold", CONFIG_TYPE_INTEGER, CONFIG_FIELD(alert_threshold), 1, 100000000, "10",
     CONFIG_RELOAD},
    {"alert", "cooldown", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_cooldown_ms), 0,
     30 * CONFIG_DAY_MS, "1h", CONFIG_RELOAD},
    {"alert", "webhook_url", CONFIG_TYPE_STRING, CONFIG_FIELD(alert_webhook_url), 0, 0, "",
     CONFIG_RELOAD},
    {"alert", "command", CONFIG_TYPE_STRING, CONFIG_FIELD(alert_command), 0, 0, "", CONFIG_RELOAD},
    {"alert", "max_lag", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_max_lag_ms), 1000,
     30 * CONFIG_DAY_MS, "5m", CONFIG_RELOAD},
    {"alert", "breaker_alert_after", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_breaker_after_ms),
     0, 30 * CONFIG_DAY_MS, "10m", CONFIG_RELOAD},
    {"alert", "ordering_alert_after", CONFIG_TYPE_DURATION,
     CONFIG_FIELD(alert_ordering_after_ms), 0, 30 * CONFIG_DAY_MS, "10m", CONFIG_RELOAD},
    /* [telemetry] (telemetry.h): a key not given here may come from the
     * standard OTEL_* environment variable (config_telemetry.c). */
    {"telemetry", "endpoint", CONFIG_TYPE_STRING, CONFIG_FIELD(telemetry_endpoint), 0, 0, "",
     CONFIG_RESTART},
    {"telemetry", "headers", CONFIG_TYPE_STRING, CONFIG_FIELD(telemetry_headers), 0, 0, "",
     CONFIG_RESTART},
    {"telemetry", "service_name", CONFIG_TYPE_STRING, CONFIG_FIELD(telemetry_service_name), 0, 0,
     "herald", CONFIG_RESTART},
    {"telemetry", "sample_ratio", CONFIG_TYPE_REAL, CONFIG_FIELD(telemetry_sample_ratio), 0, 1,
     "1", CONFIG_RELOAD},
    {"telemetry", "timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(telemetry_timeout_ms), 100,
     600 * 1000, "10s", CONFIG_RESTART},
    {"telemetry", "interval", CONFIG_TYPE_DURATION, CONFIG_FIELD(telemetry_interval_ms), 10,
     600 * 1000, "1s", CONFIG_RESTART},
    {"telemetry", "queue_size", CONFIG_TYPE_INTEGER, CONFIG_FIELD(telemetry_queue_size), 1,
     1000000, "2048", CONFIG_RESTART},
    {"telemetry", "compression", CONFIG_TYPE_STRING, CONFIG_FIELD(telemetry_compression), 0, 0,
     "gzip", CONFIG_RESTART},
};

const ConfigKey config_policy_keys[] = {
    {"retry", "max_retry", CONFIG_TYPE_INTEGER, POLICY_FIELD(max_retry), 1,
     TASK_MAX_RETRY_MAX, "5", CONFIG_RELOAD},
    {"retry", "base_delay", CONFIG_TYPE_DURATION, POLICY_FIELD(base_delay_ms), 0,
     30 * CONFIG_DAY_MS, "1m", CONFIG_RELOAD},
    {"retry", "max_delay", CONFIG_TYPE_DURATION, POLICY_FIELD(max_delay_ms), 0, 30 * CONFIG_DAY_MS,
     "30m", CONFIG_RELOAD},
    {"retry", "exponential_backoff", CONFIG_TYPE_BOOLEAN, POLICY_FIELD(exponential_backoff), 0, 0,
     "true", CONFIG_RELOAD},
    {"retry", "jitter", CONFIG_TYPE_REAL, POLICY_FIELD(jitter), 0, 1, "0.1", CONFIG_RELOAD},
    {"retry", "breaker_failures", CONFIG_TYPE_INTEGER, POLICY_FIELD(breaker_failures), 0,
     1000000, "10", CONFIG_RELOAD},
    {"retry", "ordering_on_failure", CONFIG_TYPE_ON_FAILURE, POLICY_FIELD(ordering_block), 0, 0,
     "block", CONFIG_RELOAD},
    {"telemetry", "propagate", CONFIG_TYPE_BOOLEAN, POLICY_FIELD(propagate_trace), 0, 0, "false",
     CONFIG_RELOAD},
    {"retry", "schedule", CONFIG_TYPE_SCHEDULE, POLICY_FIELD(schedule), 0, 30 * CONFIG_DAY_MS, "",
     CONFIG_RELOAD},
    {"business", "success_body", CONFIG_TYPE_STRING, POLICY_FIELD(success_body), 0, 0, "",
     CONFIG_RELOAD},
    {"business", "timeout", CONFIG_TYPE_DURATION, POLICY_FIELD(timeout_ms), 0, 600 * 1000, "0",
     CONFIG_RELOAD},
    {"business", "secret", CONFIG_TYPE_SECRET, POLICY_FIELD(secret), 0, 0, "", CONFIG_RELOAD},
    {"business", "secret_file", CONFIG_TYPE_SECRET_FILE, POLICY_FIELD(secret), 0, 0, "",
     CONFIG_RELOAD},
    {"business", "previous_secret", CONFIG_TYPE_SECRET, POLICY_FIELD(previous_secret), 0, 0, "",
     CONFIG_RELOAD},
    {"business", "previous_secret_until", CONFIG_TYPE_TIME, POLICY_FIELD(previous_secret_until), 0,
     0, "", CONFIG_RELOAD},
};

const size_t config_key_count = sizeof config_keys / sizeof config_keys[0];
const size_t config_policy_key_count = sizeof config_policy_keys / sizeof config_policy_keys[0];

_Static_assert(sizeof config_keys / sizeof config_keys[0] <= CONFIG_KEYS_MAX,
               "raise CONFIG_KEYS_MAX");
_Static_assert(sizeof config_policy_keys / sizeof config_policy_keys[0] <= CONFIG_POLICY_KEYS_MAX,
               "raise CONFIG_POLICY_KEYS_MAX");

int config_key_find(const ConfigKey *keys, size_t count, const char *section, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int config_key_line(const ConfigKey *keys, size_t count, const int *lines, const char *section,
                    const char *name)
{
    int index = config_key_find(keys, count, section, name);
    return index >= 0 ? lines[index] : 0;
}

static void config_print_rows(FILE *out, const ConfigKey *keys, size_t count, const char *section)
{
    for (size_t i = 0; i < count; i++) {
        fprintf(out, "%s.%s %s %s\n", section ? section : keys[i].section, keys[i].name,
                keys[i].apply == CONFIG_RELOAD ? "reload" : "restart", keys[i].default_value);
    }
}

void config_print_keys(FILE *out)
{
    config_print_rows(out, config_keys, config_key_count, NULL);
    /* [retry] and [telemetry] rows also belong in [business.NAME]; "business"
     * rows only there. */
    for (size_t i = 0; i < config_policy_key_count; i++) {
        if (strcmp(config_policy_keys[i].section, "business") != 0)
            config_print_rows(out, &config_policy_keys[i], 1, NULL);
    }
    config_print_rows(out, config_policy_keys, config_policy_key_count, "business.NAME");
    /* [receiver.PATTERN] (config_receiver.c): no limit unless given. */
    fprintf(out, "receiver.PATTERN.rate_limit reload 0\n");
    fprintf(out, "receiver.PATTERN.rate_burst reload rate/10\n");
}
