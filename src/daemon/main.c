/*
 * heraldd: the herald daemon.
 *
 * main() reads the options and the configuration, migrates the database,
 * starts the threads and then waits for signals. The threads, each named:
 * the scheduler ("herald-sched", deliveries), the intake writer
 * ("herald-intake", every write but the scheduler's), the alert checker
 * ("herald-watch"), libmicrohttpd's HTTP pool (one per CPU by default), the
 * API's connection guard ("herald-conn") and, on a database other heraldd
 * share, the beacon that signals them ("herald-beacon"); main itself reloads
 * (SIGHUP) and reports STATUS= every 10 seconds. Its command line is
 * daemon_args.c's.
 * Signals are blocked in every thread and taken here with sigwait(), so no
 * handler ever runs in the middle of other code. Shutdown order matters:
 * drain the API (writes get 503, the listening socket closes, open
 * connections are answered a little longer), let the intake writer store
 * everything already queued (which answers every waiting request), stop the
 * HTTP server, then let deliveries in flight finish.
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "address.h"
#include "clock.h"
#include "clock_sync.h"
#include "instance.h"
#include "live.h"
#include "metrics.h"
#include "alert.h"
#include "api.h"
#include "auth.h"
#include "beacon.h"
#include "config.h"
#include "config_reload.h"
#include "daemon_args.h"
#include "deliver_trace.h"
#include "copy_to.h"
#include "roster.h"
#include "startup_wait.h"
#include "fault.h"
#include "intake.h"
#include "log.h"
#include "netguard.h"
#include "policy.h"
#include "redeliverer.h"
#include "scheduler.h"
#include "store.h"
#include "telemetry.h"
#include "version.h"

/* How often STATUS= is refreshed for systemctl status. */
#define MAIN_STATUS_INTERVAL_S 10
/* The wall clock may wander this far from herald time before we say so. */
#define MAIN_DRIFT_WARNING_MS 60000

/* Everything the daemon runs; built by main_start, torn down by main_stop. */
typedef struct Daemon {
    const DaemonArgs *options;
    const LiveConfig *live; /* the first snapshot: settings a reload cannot change */
    NetGuard guard;
    int lock_fd;
    Auth *auth;
    Scheduler *scheduler;
    Beacon *beacon; /* a shared database only: signals the other heraldd */
    AlertChecker *alerts;
    Redeliverer *redeliverer;
    Intake *intake;
    Api *api;
    StoreLocation store_location; /* [storage] of the first snapshot */
    Store *status_store; /* main's own connection, for STATUS= */
    StoreInstance self;  /* this heraldd in the instances table (roster.h) */
    bool drift_reported;
    ClockSync clock_sync; /* a shared database's clock (clock_sync.h) */
} Daemon;

/* The configuration in force (the latest reload's). */
static const Config *main_current_config(void)
{
    return &live_current()->config;
}

/* intake's question "what budget does a task of this type get?" */
static int main_max_retry_for(const char *business_type, void *argument)
{
    (void)argument;
    return (int)policy_set_find(live_policies(), business_type)->max_retry;
}

/* [storage] as the store takes it; OUT borrows CONFIG's strings. */
static void main_store_location(const Config *config, StoreLocation *out)
{
    *out = (StoreLocation){
        .kind = config->storage_url[0] ? STORE_BACKEND_POSTGRESQL : STORE_BACKEND_SQLITE,
        .path = config->storage_path,
        .url = config->storage_url,
        .password_file = config->storage_password_file,
        .busy_timeout_ms = config->busy_timeout_ms,
        .statement_timeout_ms = config->statement_timeout_ms,
    };
}

/* intake and manual repairs tell the scheduler about due tasks at once, and
 * the other heraldd sharing the database soon after. */
static void main_announce_tasks(void *argument, const char *const *hosts, size_t count,
                                int64_t due)
{
    Daemon *daemon = argument;
    scheduler_notify(daemon->scheduler, hosts, count, due);
    beacon_ring(daemon->beacon);
}

/* An operator paused or resumed a receiver: this scheduler reads the list
 * again at once, the others sharing the database at their next look (which
 * the beacon brings forward). The claims pass over a paused receiver anyway. */
static void main_receivers_changed(void *argument)
{
    Daemon *daemon = argument;
    scheduler_refresh_paused(daemon->scheduler);
    beacon_ring(daemon->beacon);
}

/* A redelivery job was created here: this heraldd's redeliverer looks now
 * (the others find it at their next look). */
static void main_redelivery_created(void *argument)
{
    Daemon *daemon = argument;
    redeliverer_wake(daemon->redeliverer);
}

static void main_alert_options(const Daemon *daemon, const Config *config, AlertOptions *out)
{
    *out = (AlertOptions){
        .store_location = &daemon->store_location,
        .intake = daemon->intake,
        .instance_id = daemon->self.id,
        .interval_ms = config->alert_interval_ms,
        .window_ms = config->alert_window_ms,
        .threshold = config->alert_threshold,
        .cooldown_ms = config->alert_cooldown_ms,
        .max_lag_ms = config->alert_max_lag_ms,
        .breaker_alert_after_ms = config->alert_breaker_after_ms,
        .ordering_alert_after_ms = config->alert_ordering_after_ms,
        .scheduler_alive_ms = config_scheduler_alive_ms(config),
        .webhook_url = config->alert_webhook_url,
        .command = config->alert_command,
        .retention_ms = config->retention_ms,
        .policies = live_policies,
    };
}

/* The checks start-up and --check-config share: the files the configuration
 * names (tokens, CA bundle), the SSRF allow list, the alert webhook's URL.
 * Fills *AUTH (NULL without a token file) and *GUARD. Returns 0, or -1 with
 * ERR set. */
/* A file holding a secret: readable, and by nobody but its owner and group. */
static int main_check_private_file(const char *path, const char *what, char *err, size_t errlen)
{
    struct stat status;
    if (stat(path, &status) != 0 || access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s %.512s: %s", what, path, strerror(errno));
        return -1;
    }
    if ((status.st_mode & 027) != 0) {
        snprintf(err, errlen, "%s %.512s may be read or written by others (mode %03o); chmod 640 it",
                 what, path, (unsigned)(status.st_mode & 0777));
        return -1;
    }
    return 0;
}

static int main_check_environment(const Config *config, Auth **auth, NetGuard *guard,
                                  char *err, size_t errlen)
{
    *auth = NULL;
    if (config->api_token_file[0] != '\0') {
        *auth = auth_load(config->api_token_file, err, errlen);
        if (*auth == NULL)
            return -1;
    }
    *guard = (NetGuard){.allow_private = config->allow_private_targets};
    if (netguard_parse_allow(guard, config->allow_cidrs, err, errlen) != 0)
        return -1;
    if (config->storage_password_file[0] != '\0' &&
        main_check_private_file(config->storage_password_file, "[storage] password_file", err,
                                errlen) != 0)
        return -1;
    if (config->ca_file[0] != '\0' && access(config->ca_file, R_OK) != 0) {
        snprintf(err, errlen, "[delivery] ca_file %.512s: %s", config->ca_file, strerror(errno));
        return -1;
    }
    if (config->alert_webhook_url[0] != '\0') {
        CURLU *url = curl_url();
        char *scheme = NULL;
        bool valid = url != NULL &&
                     curl_url_set(url, CURLUPART_URL, config->alert_webhook_url, 0) == CURLUE_OK &&
                     curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                     (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
        curl_free(scheme);
        curl_url_cleanup(url);
        if (!valid) {
            snprintf(err, errlen, "[alert] webhook_url \"%.512s\" is not an http or https URL",
                     config->alert_webhook_url);
            return -1;
        }
    }
    return 0;
}

/* --check-config: every check start-up makes but binding the socket and
 * opening the database for writing. Returns the exit status. */
static int main_check_config(const Config *config, const DaemonArgs *options)
{
    char err[1024], quoted[1200];
    Auth *auth = NULL;
    NetGuard guard;
    StoreLocation location;
    StoreInspection found;
    char name[CONFIG_PATH_MAX];
    main_store_location(config, &location);
    if (main_check_environment(config, &auth, &guard, err, sizeof err) != 0 ||
        store_inspect(&location, &found, err, sizeof err) != 0) {
        auth_free(auth);
        log_error("event=config_invalid error=%s", log_quote(quoted, sizeof quoted, err));
        return 1;
    }
    printf("%s: configuration OK (database %s, %s: %s schema version %d, this heraldd brings it "
           "to %d; %zu API tokens)\n",
           options->config_path, store_location_name(&location, name, sizeof name), found.server,
           found.schema_version == 0 ? "new," : "", found.schema_version, found.schema_known,
           auth ? auth_token_count(auth) : (size_t)0);
    auth_free(auth);
    return 0;
}

/* On a database other heraldd share: herald time follows its server's clock. */
static void main_sync_clock(Daemon *daemon)
{
    char err[256], quoted[320];
    if (store_is_shared(daemon->status_store) &&
        clock_sync_measure(&daemon->clock_sync, daemon->status_store, err, sizeof err) != 0)
        log_warning("event=clock_sync_failed error=%s", log_quote(quoted, sizeof quoted, err));
}

/* Starts everything in dependency order. Returns 0, or -1 with ERR set. */
static int main_start(Daemon *daemon, char *err, size_t errlen)
{
    const Config *config = &daemon->live->config;
    if (main_check_environment(config, &daemon->auth, &daemon->guard, err, errlen) != 0)
        return -1;
    main_store_location(config, &daemon->store_location);
    roster_identify(&daemon->self);
    metrics_set_instance(daemon->self.id);
    /* One heraldd per SQLite file; PostgreSQL is made to be shared. */
    if (daemon->store_location.kind == STORE_BACKEND_SQLITE) {
        daemon->lock_fd = instance_lock(config->storage_path, err, errlen);
        if (daemon->lock_fd < 0)
            return -1;
    }
    if (daemon->auth == NULL)
        log_warning("event=auth_disabled reason=\"no api_token_file\" listen=%s", config->listen);
    if (daemon->live->policies.fallback.key.length == 0)
        log_warning("event=unsigned_webhooks reason=\"no [delivery] secret\" "
                    "detail=\"receivers cannot tell herald's requests from forged ones\"");
    if (config->allow_private_targets)
        log_warning("event=ssrf_guard_off reason=\"[delivery] allow_private_targets = true\"");

    /* The first connection migrates; a PostgreSQL server that is not up yet
     * is waited for (startup_wait), so heraldd and its database may start in
     * any order. */
    StoreOptions store_options = {.migrate = true,
                                  .wait_ms = config->startup_wait_ms,
                                  .application_name = "heraldd/status"};
    StartupWait startup_wait;
    if (startup_wait_start(&startup_wait, "opening the database (and migrating its schema)", err,
                           errlen) != 0)
        return -1;
    daemon->status_store = store_open(&daemon->store_location, &store_options, err, errlen);
    startup_wait_stop(&startup_wait);
    if (daemon->status_store == NULL)
        return -1;
    char name[CONFIG_PATH_MAX], quoted[CONFIG_PATH_MAX + 64];
    log_info("event=database_ready backend=%s database=%s schema_version=%d",
             store_backend(daemon->status_store) == STORE_BACKEND_SQLITE ? "sqlite" : "postgresql",
             log_quote(quoted, sizeof quoted,
                       store_location_name(&daemon->store_location, name, sizeof name)),
             store_schema_version(daemon->status_store));
    /* On a shared database, herald time is the server's from before the
     * first claim. */
    clock_sync_init(&daemon->clock_sync);
    main_sync_clock(daemon);

    uint64_t watchdog_usec = 0;
    bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    /* Spans out (telemetry.h): first, so the first intake's and attempt's are kept. */
    if (config->telemetry_endpoint[0] != '\0') {
        TelemetryOptions telemetry_options = {
            .endpoint = config->telemetry_endpoint,
            .headers = config->telemetry_headers,
            .service_name = config->telemetry_service_name,
            .instance_id = daemon->self.id,
            .gzip = strcmp(config->telemetry_compression, "gzip") == 0,
            .timeout_ms = config->telemetry_timeout_ms,
            .interval_ms = config->telemetry_interval_ms,
            .queue_size = config->telemetry_queue_size,
        };
        if (telemetry_start(&telemetry_options, err, errlen) != 0)
            return -1;
        /* Without a user name and password the URL may carry (as url.full). */
        char shown[CONFIG_PATH_MAX], shown_quoted[2 * CONFIG_PATH_MAX];
        deliver_trace_strip_credentials(config->telemetry_endpoint, shown, sizeof shown);
        log_info("event=telemetry_started endpoint=%s sample_ratio=%g",
                 log_quote(shown_quoted, sizeof shown_quoted, shown),
                 config->telemetry_sample_ratio);
    }
    SchedulerOptions scheduler_options = {
        .store_location = &daemon->store_location,
        .guard = &daemon->guard,
        .concurrency = (int)config->concurrency,
        .per_host_concurrency = (int)config->per_host_concurrency,
        .config = main_current_config,
        .policies = live_policies,
        /* Four pings per watchdog period. */
        .watchdog_ms = watchdog ? (int64_t)(watchdog_usec / 4000) : 0,
        .instance_id = daemon->self.id,
    };
    daemon->scheduler = scheduler_start(&scheduler_options, err, errlen);
    if (daemon->scheduler == NULL)
        return -1;
    if (store_is_shared(daemon->status_store)) {
        daemon->beacon = beacon_start(&daemon->store_location, daemon->self.id, err, errlen);
        if (daemon->beacon == NULL)
            return -1;
    }
    IntakeOptions intake_options = {
        .queue_limit = (size_t)config->intake_queue_limit,
        .max_retry_for = main_max_retry_for,
        .on_commit = main_announce_tasks,
        .on_commit_argument = daemon,
    };
    daemon->intake = intake_start(&daemon->store_location, &intake_options, err, errlen);
    if (daemon->intake == NULL)
        return -1;
    RedelivererOptions redeliverer_options = {
        .intake = daemon->intake,
        .policies = live_policies,
        .on_tasks_due = main_announce_tasks,
        .argument = daemon,
    };
    daemon->redeliverer = redeliverer_start(&redeliverer_options, err, errlen);
    if (daemon->redeliverer == NULL)
        return -1;
    AlertOptions alert_options;
    main_alert_options(daemon, config, &alert_options);
    daemon->alerts = alert_start(&alert_options, err, errlen);
    if (daemon->alerts == NULL)
        return -1;
    ApiOptions api_options = {
        .listen = config->listen,
        .threads = (unsigned)config->threads,
        .max_connections = (unsigned)config->max_connections,
        .max_connections_per_ip = (unsigned)config->max_connections_per_ip,
        .max_header_bytes = (size_t)config->max_header_bytes,
        .connection_timeout_s = (unsigned)((config->connection_timeout_ms + 999) / 1000),
        .header_timeout_ms = config->header_timeout_ms,
        .body_timeout_ms = config->body_timeout_ms,
        .max_body = (size_t)config->max_body,
        .auth = daemon->auth,
        .intake = daemon->intake,
        .store_location = &daemon->store_location,
        .policies = live_policies,
        .guard = &daemon->guard,
        .on_tasks_due = main_announce_tasks,
        .on_tasks_due_argument = daemon,
        .on_receivers_changed = main_receivers_changed,
        .on_redelivery_created = main_redelivery_created,
        .config = main_current_config,
    };
    daemon->api = api_start(&api_options, err, errlen);
    if (daemon->api == NULL)
        return -1;
    if (scheduler_run(daemon->scheduler, err, errlen) != 0)
        return -1;
    log_info("event=listening address=%s version=%s instance=%s", api_address(daemon->api),
             HERALD_VERSION, daemon->self.id);
    /* Migrated, listening, delivering: only now is herald ready. */
    sd_notify(0, "READY=1");
    return 0;
}

/* SIGHUP: applies every key whose row in the key table says CONFIG_RELOAD
 * and reports the others that changed as needing a restart. A bad file
 * changes nothing. */
static void main_reload(Daemon *daemon)
{
    sd_notify(0, "RELOADING=1");
    char err[1024], quoted[1200];
    Config fresh;
    if (config_load(&fresh, daemon->options->config_path, err, sizeof err) != 0 ||
        daemon_args_apply(&fresh, daemon->options, err, sizeof err) != 0) {
        log_error("event=reload_failed error=%s detail=\"keeping the current configuration\"",
                  log_quote(quoted, sizeof quoted, err));
        config_free(&fresh);
        sd_notify(0, "READY=1");
        return;
    }
    /* Applied: against the snapshot in force. Needing a restart: against what
     * the process started with, which is still what runs. */
    char applied[2048], restart[2048];
    config_reload_changes(&live_current()->config, &fresh, CONFIG_RELOAD, applied,
                          sizeof applied);
    config_reload_changes(&daemon->live->config, &fresh, CONFIG_RESTART, restart,
                          sizeof restart);
    const LiveConfig *published = live_publish(&fresh);
    if (published == NULL) {
        log_error("event=reload_failed error=\"out of memory\"");
        sd_notify(0, "READY=1");
        return;
    }
    log_set_level(published->config.log_level);
    AlertOptions alert_options;
    main_alert_options(daemon, &published->config, &alert_options);
    alert_update(daemon->alerts, &alert_options);
    log_info("event=reloaded changed=%s business_types=%zu signed=%s",
             applied[0] ? applied : "none", published->config.business_count,
             published->policies.fallback.key.length > 0 ? "yes" : "no");
    if (restart[0] != '\0')
        log_warning("event=reload_needs_restart keys=%s detail=\"these apply after a restart\"",
                    restart);
    sd_notify(0, "READY=1");
}

/* STATUS= for systemctl status, this instance's heartbeat, and a word if the
 * system clock wandered. */
static void main_report_status(Daemon *daemon)
{
    StoreActiveCounts active;
    char err[256], quoted[320];
    if (store_count_active(daemon->status_store, &active, err, sizeof err) == 0)
        sd_notifyf(0, "STATUS=pending %lld, delivering %lld, manual open %lld, lag %llds; "
                   "instance %s%s, %llu attempts",
                   (long long)active.pending, (long long)active.delivering,
                   (long long)active.manual_open, (long long)(metrics_scheduler_lag() / 1000),
                   daemon->self.id, metrics_leader() ? " (leader)" : "",
                   (unsigned long long)metrics_deliveries_total());
    main_sync_clock(daemon);
    if (roster_beat(daemon->intake, &daemon->self, err, sizeof err) != 0)
        log_warning("event=instance_heartbeat_failed error=%s",
                    log_quote(quoted, sizeof quoted, err));
    int64_t drift = clock_wall_drift_ms();
    if (!daemon->drift_reported && (drift > MAIN_DRIFT_WARNING_MS || drift < -MAIN_DRIFT_WARNING_MS)) {
        log_warning("event=clock_stepped drift_ms=%lld detail=\"herald keeps its schedule on "
                    "its own clock; restart to follow the system clock\"",
                    (long long)drift);
        daemon->drift_reported = true;
    }
}

/* Waits for signals; returns the one that asks to stop. */
static int main_run(Daemon *daemon, const sigset_t *signals)
{
    main_report_status(daemon);
    for (;;) {
        struct timespec timeout = {MAIN_STATUS_INTERVAL_S, 0};
        int signal_number = sigtimedwait(signals, NULL, &timeout);
        if (signal_number == SIGTERM || signal_number == SIGINT)
            return signal_number;
        if (signal_number == SIGHUP)
            main_reload(daemon);
#ifdef HERALD_FAULT_SEAM
        else if (signal_number == SIGUSR2)
            fault_rearm(); /* the test build's fault seam (fault.h) */
#endif
        else
            main_report_status(daemon);
    }
}

/* Stops everything in reverse order; safe on a partly started daemon. */
static void main_stop(Daemon *daemon)
{
    /* Writes get 503, new connections are refused, open ones are answered a little longer. */
    if (daemon->api != NULL)
        api_drain(daemon->api, live_current()->config.drain_timeout_ms);
    alert_stop(daemon->alerts); /* it writes through intake: stop it first */
    redeliverer_stop(daemon->redeliverer); /* so does it */
    if (daemon->intake != NULL && daemon->self.heartbeat_at != 0)
        roster_leave(daemon->intake, &daemon->self);
    intake_stop(daemon->intake); /* stores what is queued and answers every waiting request */
    api_stop(daemon->api);
    redeliverer_free(daemon->redeliverer); /* only now: a created job's handler wakes it */
    intake_free(daemon->intake); /* only now: an HTTP thread may have been inside submit */
    beacon_stop(daemon->beacon); /* nothing rings it any more */
    scheduler_stop(daemon->scheduler); /* lets requests in flight finish and records them */
    telemetry_stop(); /* nothing submits spans any more: send what is queued (2 s at most) */
    if (daemon->status_store != NULL) {
        char err[256];
        if (store_tidy(daemon->status_store, err, sizeof err) != 0)
            log_warning("event=checkpoint_failed error=\"%s\"", err);
        store_close(daemon->status_store);
    }
    auth_free(daemon->auth);
    instance_unlock(daemon->lock_fd);
}

int main(int argc, char **argv)
{
    DaemonArgs options;
    int parsed = daemon_args_parse(argc, argv, &options);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;

    fault_set_role("main");
    fault_arm_from_environment(); /* the test build's fault seam (fault.h) */
    char err[1024];
    char quoted[1200];
    Config config;
    if (config_load(&config, options.config_path, err, sizeof err) != 0 ||
        daemon_args_apply(&config, &options, err, sizeof err) != 0) {
        log_error("event=config_invalid error=%s", log_quote(quoted, sizeof quoted, err));
        config_free(&config);
        return 1;
    }
    log_set_level(config.log_level);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("event=startup_failed error=\"cannot initialise libcurl\"");
        config_free(&config);
        return 1;
    }
    if (options.check_config || options.copy_to != NULL) {
        StoreLocation location;
        main_store_location(&config, &location);
        int status = options.copy_to != NULL
                         ? copy_to_run(&location, options.copy_to, options.copy_password_file)
                         : main_check_config(&config, &options);
        config_free(&config);
        curl_global_cleanup();
        return status;
    }
    /* Block the signals we handle before any thread starts, so all inherit it. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
#ifdef HERALD_FAULT_SEAM
    sigaddset(&signals, SIGUSR2);
#endif
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    Daemon daemon = {.options = &options, .lock_fd = -1};
    daemon.live = live_publish(&config);
    int status = 1;
    if (daemon.live == NULL) {
        log_error("event=startup_failed error=\"out of memory\"");
    } else if (main_start(&daemon, err, sizeof err) != 0) {
        log_error("event=startup_failed error=%s", log_quote(quoted, sizeof quoted, err));
    } else {
        int signal_number = main_run(&daemon, &signals);
        log_info("event=stopping signal=%d", signal_number);
        sd_notify(0, "STOPPING=1");
        status = 0;
    }
    main_stop(&daemon);
    live_free_all();
    metrics_free();
    curl_global_cleanup();
    if (status == 0)
        log_info("event=stopped");
    return status;
}
