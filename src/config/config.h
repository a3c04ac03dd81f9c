/*
 * config: herald.conf (INI, parsed by inih) into a typed Config.
 *
 * Every key is one row of a table (section, name, type, bounds, default,
 * field), so adding a key is one line and its default, range check and error
 * message come for free. Unknown sections and keys, values out of range,
 * keys given twice and over-long lines refuse the whole file with
 * "FILE:LINE: what is wrong". Defaults are written as text in the table and
 * parsed by the same code as the file, so they cannot drift from the rules.
 */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "policy.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_LISTEN_MAX 256
#define CONFIG_DEFAULT_PATH "/etc/herald/herald.conf"

typedef struct Config {
    /* [server] */
    char listen[CONFIG_LISTEN_MAX];
    char api_token_file[CONFIG_PATH_MAX]; /* "" = no authentication */
    uint64_t max_body;                    /* bytes */
    int64_t threads;                      /* HTTP threads; 0 = one per CPU */
    int64_t max_connections;
    int64_t max_connections_per_ip; /* 0 = no limit */
    uint64_t max_header_bytes;      /* request line + headers; beyond: 414 / 431 */
    int64_t connection_timeout_ms; /* a connection silent this long is closed */
    int64_t header_timeout_ms;     /* a request head must be complete within this */
    int64_t body_timeout_ms;       /* a request body within this of its head */
    int64_t drain_timeout_ms;      /* at stop, open connections are served this long */
    LogLevel log_level;
    /* [storage] */
    char storage_path[CONFIG_PATH_MAX];           /* SQLite, unless url is set */
    char storage_url[CONFIG_PATH_MAX];            /* PostgreSQL: a libpq URI; "" = SQLite */
    char storage_password_file[CONFIG_PATH_MAX];  /* PostgreSQL's password, "" = none */
    int64_t busy_timeout_ms;
    int64_t statement_timeout_ms; /* PostgreSQL: the longest a statement may run */
    int64_t startup_wait_ms;      /* PostgreSQL: start-up waits this long for the server */
    int64_t failover_grace_ms;    /* PostgreSQL: added to delivery leases (a failover's time) */
    int64_t intake_queue_limit; /* requests waiting for the writer before 503 */
    /* [delivery] */
    int64_t delivery_timeout_ms;
    int64_t connect_timeout_ms;
    int64_t concurrency;          /* requests in flight in total */
    int64_t per_host_concurrency; /* requests in flight to one scheme://host:port */
    /* A receiver's open circuit (store_breaker.c): the first wait for a probe,
     * doubling while probes fail up to the max. */
    int64_t breaker_probe_interval_ms;
    int64_t breaker_probe_max_interval_ms;
    uint64_t max_response_bytes;  /* response body kept in the attempt log */
    bool allow_private_targets;   /* switch the SSRF guard off entirely */
    bool console;                 /* serve the web console at /ui/ */
    char allowed_hosts[CONFIG_PATH_MAX]; /* names the Host header may carry (origin_guard) */
    char allow_cidrs[CONFIG_PATH_MAX]; /* ranges opened despite the guard */
    char ca_file[CONFIG_PATH_MAX];     /* "" = the system's CA bundle */
    char delivery_secret[SIGN_SECRET_MAX]; /* default for business types without one */
    char delivery_previous_secret[SIGN_SECRET_MAX];
    int64_t delivery_previous_secret_until;
    int64_t lease_sweep_interval_ms; /* how often ended leases are looked for */
    /* [retry] */
    Policy retry;
    int64_t retry_interval_ms; /* the longest the scheduler sleeps */
    /* [alert] */
    int64_t alert_interval_ms;
    int64_t alert_window_ms;
    int64_t alert_threshold;
    int64_t alert_cooldown_ms;
    char alert_webhook_url[CONFIG_PATH_MAX]; /* "" = none */
    char alert_command[CONFIG_PATH_MAX];     /* "" = none */
    int64_t alert_max_lag_ms;
    int64_t alert_breaker_after_ms; /* circuit_open: a receiver's circuit open this long */
    int64_t alert_ordering_after_ms; /* ordering_blocked: an ordering key blocked this long */
    /* [telemetry] (telemetry.h); propagate is a policy key (Config.retry) */
    char telemetry_endpoint[CONFIG_PATH_MAX]; /* OTLP/HTTP traces URL; "" = no export */
    char telemetry_headers[CONFIG_PATH_MAX];  /* "name=value,..." sent with each export */
    char telemetry_service_name[128];
    char telemetry_compression[16]; /* "gzip" or "none" */
    double telemetry_sample_ratio;  /* of traces herald starts (a caller's decides its own) */
    int64_t telemetry_timeout_ms;   /* one export's longest wait */
    int64_t telemetry_interval_ms;  /* the longest a span waits before it is sent */
    int64_t telemetry_queue_size;   /* spans waiting; past it new ones are dropped */
    /* [storage] retention */
    int64_t retention_ms;
    /* [business.NAME]: owned, freed by config_free() */
    PolicyBusiness *business;
    size_t business_count;
    /* [receiver.PATTERN] (config_receiver.h): owned, freed by config_free() */
    struct ConfigReceiver *receivers;
    size_t receiver_count;
} Config;

/* Fills every field with its default (no business sections). */
void config_set_defaults(Config *config);

/* How long the scheduler may go without a turn before it counts as stuck:
 * it turns at least every retry_interval. */
int64_t config_scheduler_alive_ms(const Config *config);

/* Prints every key, one per line: "section.name reload|restart default". */
void config_print_keys(FILE *out);

/* Frees what config_load() allocated (the business sections). */
void config_free(Config *config);

/* A PolicySet that borrows CONFIG's policies (valid while CONFIG is). */
PolicySet config_policy_set(const Config *config);

/* Sets defaults, then reads PATH over them. Returns 0, or -1 with
 * "PATH:LINE: message" (or "PATH: message") in ERR; either way the caller
 * must config_free() it. */
int config_load(Config *config, const char *path, char *err, size_t errlen);

/* The same for a config held in memory; NAME stands for the file in errors. */
int config_load_text(Config *config, const char *text, const char *name, char *err,
                     size_t errlen);

#endif
