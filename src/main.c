/*
 * heraldd: the herald daemon.
 *
 * main() reads the options and the configuration, migrates the database,
 * starts the threads (intake writer, HTTP pool) and then waits for signals.
 * Signals are blocked in every thread and taken here with sigwait(), so no
 * handler ever runs in the middle of other code. Shutdown order matters:
 * refuse new writes, let the intake writer store everything already queued
 * (which answers every waiting request), then stop the HTTP server.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "address.h"
#include "alert.h"
#include "api.h"
#include "auth.h"
#include "config.h"
#include "intake.h"
#include "log.h"
#include "netguard.h"
#include "policy.h"
#include "scheduler.h"
#include "store.h"
#include "version.h"

typedef struct Options {
    const char *config_path;
    const char *listen;
    const char *db_path;
    bool insecure_listen;
    bool check_config;
} Options;

static void main_usage(FILE *out)
{
    fprintf(out,
            "usage: heraldd [-c FILE] [--listen HOST:PORT] [--db PATH] [--insecure-listen]\n"
            "               [--check-config] [--version] [--help]\n"
            "\n"
            "  -c, --config FILE    configuration file (default " CONFIG_DEFAULT_PATH ")\n"
            "      --listen ADDR    override [server] listen, e.g. 127.0.0.1:8080 (port 0: any)\n"
            "      --db PATH        override [storage] path\n"
            "      --insecure-listen  allow a non-loopback listen address without api_token_file\n"
            "      --check-config   read the configuration, report problems and exit\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           print this help and exit\n");
}

/* Returns 0 to run, 1 to exit successfully, 2 on a usage error. */
static int main_parse_options(int argc, char **argv, Options *options)
{
    enum { OPTION_LISTEN = 256, OPTION_DB, OPTION_INSECURE, OPTION_CHECK };
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, OPTION_LISTEN},
        {"db", required_argument, NULL, OPTION_DB},
        {"insecure-listen", no_argument, NULL, OPTION_INSECURE},
        {"check-config", no_argument, NULL, OPTION_CHECK},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(options, 0, sizeof *options);
    options->config_path = CONFIG_DEFAULT_PATH;
    int option;
    while ((option = getopt_long(argc, argv, "c:Vh", long_options, NULL)) != -1) {
        switch (option) {
        case 'c': options->config_path = optarg; break;
        case OPTION_LISTEN: options->listen = optarg; break;
        case OPTION_DB: options->db_path = optarg; break;
        case OPTION_INSECURE: options->insecure_listen = true; break;
        case OPTION_CHECK: options->check_config = true; break;
        case 'V': printf("heraldd %s\n", HERALD_VERSION); return 1;
        case 'h': main_usage(stdout); return 1;
        default: main_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "heraldd: unexpected argument \"%s\"\n", argv[optind]);
        main_usage(stderr);
        return 2;
    }
    return 0;
}

/* Applies command-line overrides and the rules that span several keys. */
static int main_finish_config(Config *config, const Options *options, char *err, size_t errlen)
{
    if (options->listen != NULL) {
        if (strlen(options->listen) >= sizeof config->listen) {
            snprintf(err, errlen, "--listen: address too long");
            return -1;
        }
        strcpy(config->listen, options->listen);
    }
    if (options->db_path != NULL) {
        if (strlen(options->db_path) >= sizeof config->storage_path) {
            snprintf(err, errlen, "--db: path too long");
            return -1;
        }
        strcpy(config->storage_path, options->db_path);
    }
    struct sockaddr_storage address;
    socklen_t length;
    char detail[256];
    if (address_parse_listen(config->listen, &address, &length, detail, sizeof detail) != 0) {
        snprintf(err, errlen, "listen: %s", detail);
        return -1;
    }
    if (config->api_token_file[0] == '\0' && !address_is_loopback((struct sockaddr *)&address) &&
        !options->insecure_listen) {
        snprintf(err, errlen,
                 "refusing to listen on %s without authentication: set [server] api_token_file,"
                 " listen on loopback, or pass --insecure-listen",
                 config->listen);
        return -1;
    }
    return 0;
}

/* intake's question "what budget does a task of this type get?" */
static int main_max_retry_for(const char *business_type, void *argument)
{
    const PolicySet *policies = argument;
    return (int)policy_set_find(policies, business_type)->max_retry;
}

/* intake tells the scheduler about new tasks the moment they are committed. */
static void main_announce_tasks(void *argument, const char *const *hosts, size_t count,
                                int64_t due)
{
    scheduler_notify(argument, hosts, count, due);
}

static int main_wait_for_stop(const sigset_t *signals)
{
    for (;;) {
        int signal_number;
        if (sigwait(signals, &signal_number) != 0)
            continue;
        if (signal_number == SIGTERM || signal_number == SIGINT)
            return signal_number;
        log_info("event=signal_ignored signal=%d", signal_number);
    }
}

int main(int argc, char **argv)
{
    Options options;
    int parsed = main_parse_options(argc, argv, &options);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;

    char err[1024];
    char quoted[1200];
    Config config;
    if (config_load(&config, options.config_path, err, sizeof err) != 0 ||
        main_finish_config(&config, &options, err, sizeof err) != 0) {
        log_error("event=config_invalid error=%s", log_quote(quoted, sizeof quoted, err));
        config_free(&config);
        return 1;
    }
    log_set_level(config.log_level);
    if (options.check_config) {
        printf("%s: configuration OK\n", options.config_path);
        config_free(&config);
        return 0;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("event=startup_failed error=\"cannot initialise libcurl\"");
        config_free(&config);
        return 1;
    }
    /* Block the signals we handle before any thread starts, so all inherit it. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    Auth *auth = NULL;
    Intake *intake = NULL;
    Api *api = NULL;
    Scheduler *scheduler = NULL;
    AlertChecker *alerts = NULL;
    if (config.api_token_file[0] != '\0') {
        auth = auth_load(config.api_token_file, err, sizeof err);
        if (auth == NULL) {
            log_error("event=auth_invalid error=%s", log_quote(quoted, sizeof quoted, err));
            goto done;
        }
    } else {
        log_warning("event=auth_disabled reason=\"no api_token_file\" listen=%s", config.listen);
    }

    StoreOptions store_options = {.busy_timeout_ms = config.busy_timeout_ms, .migrate = true};
    Store *store = store_open(config.storage_path, &store_options, err, sizeof err);
    if (store == NULL) {
        log_error("event=database_failed error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    log_info("event=database_ready path=\"%s\" schema_version=%d", config.storage_path,
             store_schema_version(store));
    store_close(store);

    PolicySet policies = config_policy_set(&config);
    NetGuard guard = {.allow_private = config.allow_private_targets};
    if (netguard_parse_allow(&guard, config.allow_cidrs, err, sizeof err) != 0) {
        log_error("event=config_invalid error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    if (policies.fallback.key.length == 0)
        log_warning("event=unsigned_webhooks reason=\"no [delivery] secret\" "
                    "detail=\"receivers cannot tell herald's requests from forged ones\"");
    if (config.allow_private_targets)
        log_warning("event=ssrf_guard_off reason=\"[delivery] allow_private_targets = true\"");
    SchedulerOptions scheduler_options = {
        .db_path = config.storage_path,
        .busy_timeout_ms = config.busy_timeout_ms,
        .deliver = {.timeout_ms = config.delivery_timeout_ms,
                    .connect_timeout_ms = config.connect_timeout_ms,
                    .max_response_bytes = (size_t)config.max_response_bytes,
                    .guard = &guard,
                    .ca_file = config.ca_file},
        .concurrency = (int)config.concurrency,
        .per_host_concurrency = (int)config.per_host_concurrency,
        .retry_interval_ms = config.retry_interval_ms,
        .policies = &policies,
    };
    scheduler = scheduler_start(&scheduler_options, err, sizeof err);
    if (scheduler == NULL) {
        log_error("event=scheduler_failed error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    AlertOptions alert_options = {
        .db_path = config.storage_path,
        .busy_timeout_ms = config.busy_timeout_ms,
        .interval_ms = config.alert_interval_ms,
        .window_ms = config.alert_window_ms,
        .threshold = config.alert_threshold,
        .cooldown_ms = config.alert_cooldown_ms,
        .max_lag_ms = config.alert_max_lag_ms,
        .webhook_url = config.alert_webhook_url,
        .command = config.alert_command,
        .retention_ms = config.retention_ms,
    };
    alerts = alert_start(&alert_options, err, sizeof err);
    if (alerts == NULL) {
        log_error("event=alert_checker_failed error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    IntakeOptions intake_options = {
        .busy_timeout_ms = config.busy_timeout_ms,
        .queue_limit = (size_t)config.intake_queue_limit,
        .max_retry_for = main_max_retry_for,
        .max_retry_argument = &policies,
        .on_commit = main_announce_tasks,
        .on_commit_argument = scheduler,
    };
    intake = intake_start(config.storage_path, &intake_options, err, sizeof err);
    if (intake == NULL) {
        log_error("event=intake_failed error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    ApiOptions api_options = {
        .listen = config.listen,
        .threads = (unsigned)config.threads,
        .max_connections = (unsigned)config.max_connections,
        .max_connections_per_ip = (unsigned)config.max_connections_per_ip,
        .max_header_bytes = (size_t)config.max_header_bytes,
        .connection_timeout_s = (unsigned)((config.connection_timeout_ms + 999) / 1000),
        .max_body = (size_t)config.max_body,
        .auth = auth,
        .intake = intake,
        .db_path = config.storage_path,
        .busy_timeout_ms = config.busy_timeout_ms,
        .policies = &policies,
        .guard = &guard,
        .on_tasks_due = main_announce_tasks,
        .on_tasks_due_argument = scheduler,
        /* The scheduler runs a turn at least every retry_interval. */
        .ready_alive_ms = config.retry_interval_ms * 2 + 10000,
        .ready_max_lag_ms = config.alert_max_lag_ms,
    };
    api = api_start(&api_options, err, sizeof err);
    if (api == NULL) {
        log_error("event=listen_failed error=%s", log_quote(quoted, sizeof quoted, err));
        goto done;
    }
    log_info("event=listening address=%s version=%s", api_address(api), HERALD_VERSION);
    /* Tells systemd (Type=notify) we serve; without NOTIFY_SOCKET it does nothing. */
    sd_notify(0, "READY=1");

    int signal_number = main_wait_for_stop(&signals);
    log_info("event=stopping signal=%d", signal_number);
    sd_notify(0, "STOPPING=1");
    api_refuse_writes(api);
    status = 0;
done:
    intake_stop(intake); /* stores what is queued and answers every waiting request */
    api_stop(api);
    scheduler_stop(scheduler); /* lets requests in flight finish and records them */
    alert_stop(alerts);
    auth_free(auth);
    config_free(&config);
    curl_global_cleanup();
    if (status == 0)
        log_info("event=stopped");
    return status;
}
