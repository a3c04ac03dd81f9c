/* Unit tests for src/config/config.c: defaults, every key, every error path. */
#include "test_support.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_receiver.h"

#include <sys/stat.h>

static void expect_error(const char *text, const char *expected)
{
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config, text, "test.conf", err, sizeof err), -1);
    config_free(&config);
    if (strstr(err, expected) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, expected);
}

/* [telemetry]: its keys, propagate per business type, the OTEL_* variables
 * where the file is silent, and what is refused. */
static void test_telemetry(void **state)
{
    (void)state;
    static const char *const variables[] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_PROTOCOL"};
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
        unsetenv(variables[i]);
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config,
                                      "[telemetry]\nendpoint = https://otel.example:4318/v1/traces\n"
                                      "propagate = true\nsample_ratio = 0.25\n"
                                      "[business.QUIET]\npropagate = false\n"
                                      "[business.LOUD]\nmax_retry = 2\n",
                                      "t", err, sizeof err),
                     0);
    assert_string_equal(config.telemetry_endpoint, "https://otel.example:4318/v1/traces");
    assert_true(config.retry.propagate_trace);
    assert_true(config.telemetry_sample_ratio == 0.25);
    PolicySet policies = config_policy_set(&config);
    assert_false(policy_set_find(&policies, "QUIET")->propagate_trace);
    assert_true(policy_set_find(&policies, "LOUD")->propagate_trace); /* inherited */
    assert_string_equal(config.telemetry_service_name, "herald");
    assert_int_equal(config.telemetry_timeout_ms, 10000);
    config_free(&config);
    /* The variables fill what the file does not set; the file wins. */
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/", 1);
    setenv("OTEL_SERVICE_NAME", "herald-east", 1);
    setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 1);
    setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.1", 1);
    assert_int_equal(config_load_text(&config, "[telemetry]\nservice_name = mine\n", "t", err,
                                      sizeof err),
                     0);
    assert_string_equal(config.telemetry_endpoint, "http://collector:4318/v1/traces");
    assert_string_equal(config.telemetry_service_name, "mine");
    assert_int_equal(config.telemetry_timeout_ms, 2500);
    assert_true(config.telemetry_sample_ratio == 0.1);
    config_free(&config);
    setenv("OTEL_SDK_DISABLED", "true", 1);
    assert_int_equal(config_load_text(&config, "", "t", err, sizeof err), 0);
    assert_string_equal(config.telemetry_endpoint, "");
    config_free(&config);
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
        unsetenv(variables[i]);
    expect_error("[telemetry]\nendpoint = ftp://x/v1/traces\n",
                 "test.conf:2: [telemetry] endpoint \"ftp://x/v1/traces\": the scheme must be http");
    expect_error("[telemetry]\nendpoint = not a url\n", "is not a URL");
    expect_error("[telemetry]\nheaders = nothing\n", "test.conf:2: [telemetry] headers: an entry");
    expect_error("[telemetry]\ncompression = zstd\n", "compression must be gzip or none");
    expect_error("[telemetry]\nsample_ratio = 2\n", "sample_ratio");
    /* The protocol matters only with an endpoint from the variables. */
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
    assert_int_equal(config_load_text(&config, "", "t", err, sizeof err), 0);
    config_free(&config);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317", 1);
    assert_int_equal(config_load_text(&config, "[telemetry]\nendpoint = http://c/v1/traces\n",
                                      "t", err, sizeof err),
                     0);
    config_free(&config);
    expect_error("", "environment OTEL_EXPORTER_OTLP_PROTOCOL: herald exports http/protobuf only");
    unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
    /* The base URL's path gets /v1/traces, before any query. */
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/otel/?tenant=a", 1);
    assert_int_equal(config_load_text(&config, "", "t", err, sizeof err), 0);
    assert_string_equal(config.telemetry_endpoint, "http://collector:4318/otel/v1/traces?tenant=a");
    config_free(&config);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "bad header", 1);
    expect_error("", "environment OTEL_EXPORTER_OTLP_HEADERS: [telemetry] headers");
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
}

static void test_defaults(void **state)
{
    (void)state;
    Config config;
    config_set_defaults(&config);
    assert_string_equal(config.listen, "127.0.0.1:8080");
    assert_string_equal(config.api_token_file, "");
    assert_int_equal(config.max_body, 256 * 1024);
    assert_int_equal(config.threads, 0);
    assert_int_equal(config.max_connections, 1024);
    assert_int_equal(config.connection_timeout_ms, 30000);
    assert_int_equal(config.log_level, LOG_LEVEL_INFO);
    assert_string_equal(config.storage_path, "var/herald.db");
    assert_int_equal(config.busy_timeout_ms, 5000);
    assert_int_equal(config.intake_queue_limit, 10000);
    assert_string_equal(config.storage_url, ""); /* SQLite unless url is set */
    assert_int_equal(config.statement_timeout_ms, 30000);
    assert_int_equal(config.startup_wait_ms, 60000);
}

static void test_every_key(void **state)
{
    (void)state;
    const char *text = "[server]\n"
                       "listen = [::1]:9090\n"
                       "api_token_file = /etc/herald/tokens ; inline comment\n"
                       "max_body = 1MiB\n"
                       "threads = 4\n"
                       "max_connections = 50\n"
                       "connection_timeout = 2m\n"
                       "log_level = debug\n"
                       "\n"
                       "# a comment\n"
                       "[storage]\n"
                       "path = /var/lib/herald/herald.db\n"
                       "busy_timeout = 250ms\n"
                       "intake_queue_limit = 7\n";
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config, text, "t", err, sizeof err), 0);
    assert_string_equal(config.listen, "[::1]:9090");
    assert_string_equal(config.api_token_file, "/etc/herald/tokens");
    assert_int_equal(config.max_body, 1048576);
    assert_int_equal(config.threads, 4);
    assert_int_equal(config.max_connections, 50);
    assert_int_equal(config.connection_timeout_ms, 120000);
    assert_int_equal(config.log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(config.storage_path, "/var/lib/herald/herald.db");
    assert_int_equal(config.busy_timeout_ms, 250);
    assert_int_equal(config.intake_queue_limit, 7);
    config_free(&config);
}

static void test_empty_file_gives_defaults(void **state)
{
    (void)state;
    Config config;
    char err[256];
    assert_int_equal(config_load_text(&config, "", "t", err, sizeof err), 0);
    assert_string_equal(config.listen, "127.0.0.1:8080");
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("[server]\nlisten = 127.0.0.1:1\n[nope]\nkey = 1\n",
                 "test.conf:4: unknown section [nope]");
    expect_error("[server]\n\nmax_bodyy = 1\n", "test.conf:3: [server] unknown key \"max_bodyy\"");
    expect_error("orphan = 1\n", "test.conf:1: key \"orphan\" outside any section");
    expect_error("[server]\nmax_body = 12XB\n", "test.conf:2: [server] max_body: invalid size");
    expect_error("[server]\nconnection_timeout = soon\n",
                 "test.conf:2: [server] connection_timeout: invalid duration");
    expect_error("[server]\nthreads = many\n", "test.conf:2: [server] threads: invalid integer");
    expect_error("[server]\nlog_level = loud\n", "test.conf:2: [server] log_level: invalid level");
    expect_error("[server]\nlisten = nocolon\n", "test.conf:2: [server] listen: invalid listen");
    expect_error("[server]\nlisten = 127.0.0.1:70000\n", "invalid port");
    expect_error("[server]\nthreads = 1\nthreads = 2\n", "test.conf:3: [server] threads: key given twice");
    expect_error("[server]\nthis line has no equals sign\n", "test.conf:2: syntax error");
}

static void test_bounds(void **state)
{
    (void)state;
    expect_error("[server]\nmax_body = 1\n", "must be between 64 bytes and 67108864 bytes");
    expect_error("[server]\nmax_body = 1GiB\n", "max_body: must be between");
    expect_error("[server]\nthreads = 65\n", "threads: must be between 0 and 64");
    expect_error("[server]\nmax_connections = 0\n", "must be between 1 and 100000");
    expect_error("[server]\nconnection_timeout = 10ms\n", "must be between 1000ms and");
    expect_error("[storage]\nbusy_timeout = 1d\n", "busy_timeout: must be between");
    expect_error("[storage]\nintake_queue_limit = 0\n", "intake_queue_limit: must be between");
    expect_error("[storage]\nstatement_timeout = 1ms\n", "statement_timeout: must be between");
}

static void test_storage_backend(void **state)
{
    (void)state;
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config,
                                      "[storage]\npath = var/x.db\n"
                                      "url = postgresql://herald@db/herald?sslmode=require\n"
                                      "password_file = /etc/herald/pgpass\nstatement_timeout = 5s\n"
                                      "startup_wait = 0\n",
                                      "t", err, sizeof err),
                     0);
    assert_string_equal(config.storage_url, "postgresql://herald@db/herald?sslmode=require");
    assert_string_equal(config.storage_password_file, "/etc/herald/pgpass");
    assert_int_equal(config.statement_timeout_ms, 5000);
    assert_int_equal(config.startup_wait_ms, 0);
    config_free(&config);
    expect_error("[storage]\n\nurl = mysql://db/herald\n",
                 "test.conf:3: [storage] url must be a PostgreSQL URI");
    expect_error("[storage]\nurl = host=db dbname=herald\n", "url must be a PostgreSQL URI");
    expect_error("[storage]\npassword_file = /etc/herald/pgpass\n",
                 "test.conf:2: [storage] password_file is for url");
}

static void test_delivery_and_retry_defaults(void **state)
{
    (void)state;
    Config config;
    config_set_defaults(&config);
    assert_int_equal(config.delivery_timeout_ms, 10000);
    assert_int_equal(config.connect_timeout_ms, 5000);
    assert_int_equal(config.concurrency, 256);
    assert_int_equal(config.per_host_concurrency, 16);
    assert_int_equal(config.max_response_bytes, 4096);
    assert_int_equal(config.retry.max_retry, 5);
    assert_int_equal(config.retry.base_delay_ms, 60000);
    assert_int_equal(config.retry.max_delay_ms, 1800000);
    assert_true(config.retry.exponential_backoff);
    assert_true(config.retry.jitter > 0.099 && config.retry.jitter < 0.101);
    assert_int_equal(config.retry.schedule.count, 0);
    assert_int_equal(config.retry_interval_ms, 30000);
    assert_int_equal(config.business_count, 0);
    assert_int_equal(config.alert_interval_ms, 30000);
    assert_int_equal(config.alert_window_ms, 86400000);
    assert_int_equal(config.alert_threshold, 10);
    assert_int_equal(config.alert_cooldown_ms, 3600000);
    assert_string_equal(config.alert_webhook_url, "");
    assert_string_equal(config.alert_command, "");
    assert_int_equal(config.alert_max_lag_ms, 300000);
    assert_int_equal(config.retention_ms, 7 * 86400000LL);
}

static void test_business_sections_inherit_from_retry(void **state)
{
    (void)state;
    /* The business section comes first; it still inherits what it does not set. */
    const char *text = "[business.PAYMENT_SUCCESS]\n"
                       "max_retry = 3\n"
                       "success_body = SUCCESS\n"
                       "timeout = 2s\n"
                       "[retry]\n"
                       "base_delay = 10s\n"
                       "max_delay = 5m\n"
                       "exponential_backoff = false\n"
                       "jitter = 0\n"
                       "schedule = 15s, 30s,3m\n"
                       "retry_interval = 500ms\n"
                       "[business.ORDER_UPDATE]\n"
                       "base_delay = 30s\n"
                       "schedule =\n"
                       "ordering_on_failure = skip\n"
                       "[delivery]\n"
                       "timeout = 3s\n"
                       "connect_timeout = 1s\n"
                       "concurrency = 64\n"
                       "per_host_concurrency = 8\n"
                       "max_response_bytes = 1KiB\n";
    Config config;
    char err[512] = "";
    if (config_load_text(&config, text, "t", err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(config.retry.base_delay_ms, 10000);
    assert_false(config.retry.exponential_backoff);
    assert_int_equal(config.retry.schedule.count, 3);
    assert_int_equal(config.retry.schedule.delays_ms[2], 180000);
    assert_int_equal(config.retry_interval_ms, 500);
    assert_int_equal(config.delivery_timeout_ms, 3000);
    assert_int_equal(config.concurrency, 64);
    assert_int_equal(config.max_response_bytes, 1024);
    assert_int_equal(config.business_count, 2);
    PolicySet set = config_policy_set(&config);
    const Policy *payment = policy_set_find(&set, "PAYMENT_SUCCESS");
    assert_int_equal(payment->max_retry, 3);
    assert_string_equal(payment->success_body, "SUCCESS");
    assert_int_equal(payment->timeout_ms, 2000);
    assert_int_equal(payment->base_delay_ms, 10000);      /* inherited */
    assert_int_equal(payment->max_delay_ms, 300000);      /* inherited */
    assert_int_equal(payment->schedule.count, 3);         /* inherited */
    const Policy *order = policy_set_find(&set, "ORDER_UPDATE");
    assert_int_equal(order->base_delay_ms, 30000);
    assert_int_equal(order->schedule.count, 0);           /* set empty on purpose */
    assert_int_equal(order->max_retry, 5);                /* [retry] left it at the default */
    assert_string_equal(order->success_body, "");
    assert_int_equal(order->timeout_ms, 0);
    assert_false(order->ordering_block);
    assert_true(payment->ordering_block); /* the default: block */
    assert_ptr_equal(policy_set_find(&set, "OTHER"), &set.fallback);
    config_free(&config);
}

static void test_policy_errors(void **state)
{
    (void)state;
    expect_error("[retry]\nsuccess_body = ok\n", "test.conf:2: [retry] unknown key \"success_body\"");
    expect_error("[business.X]\nretry_interval = 1s\n", "test.conf:2: [business.X] unknown key \"retry_interval\"");
    expect_error("[business.bad name]\nmax_retry = 1\n", "test.conf:2: [business.bad name]: business type must match");
    expect_error("[business.X]\nmax_retry = 1\n[business.X]\nmax_retry = 2\n", "test.conf:4: [business.X] max_retry: key given twice");
    expect_error("[retry]\nmax_retry = 0\n", "max_retry: must be between 1 and 100");
    expect_error("[retry]\nexponential_backoff = maybe\n", "invalid boolean");
    expect_error("[retry]\nordering_on_failure = drop\n", "use block or skip");
    expect_error("[retry]\njitter = 1.5\n", "jitter: must be a number from 0 to 1");
    expect_error("[retry]\njitter = lots\n", "jitter: must be a number");
    expect_error("[retry]\nschedule = 15s, soon\n", "test.conf:2: [retry] schedule: invalid duration \"soon\"");
    /* Contradictions between keys that were both given name the later line. */
    expect_error("[retry]\nmax_delay = 1h\nbase_delay = 2h\n",
                 "test.conf:3: [retry] base_delay (7200000ms) exceeds max_delay (3600000ms)");
    expect_error("[business.X]\nbase_delay = 2m\nmax_retry = 3\nmax_delay = 1m\n",
                 "test.conf:4: [business.X] base_delay (120000ms) exceeds max_delay (60000ms)");
    expect_error("[delivery]\nconcurrency = 4\nper_host_concurrency = 8\n",
                 "test.conf:3: [delivery] per_host_concurrency (8) exceeds concurrency (4)");
    expect_error("[delivery]\nconnect_timeout = 2s\n\ntimeout = 1s\n",
                 "test.conf:4: [delivery] connect_timeout (2000ms) exceeds timeout (1000ms)");
    expect_error("[delivery]\nmax_response_bytes = 2MiB\n", "max_response_bytes: must be between 0 bytes and 1048576 bytes");
    char text[2048] = "[retry]\nschedule = ";
    for (int i = 0; i < 33; i++)
        strcat(text, i ? ",1s" : "1s");
    strcat(text, "\n");
    expect_error(text, "at most 32 delays");
}

/* Setting one key never fails because of another key's default (or of a
 * value a business section only inherits): the unset one adapts. */
static void test_defaults_adapt_to_given_keys(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t offset; /* of an int64_t in Config */
        int64_t expected;
    } cases[] = {
        {"[delivery]\ntimeout = 1s\n", offsetof(Config, connect_timeout_ms), 1000},
        {"[delivery]\nconnect_timeout = 20s\n", offsetof(Config, delivery_timeout_ms), 20000},
        {"[delivery]\nconcurrency = 8\n", offsetof(Config, per_host_concurrency), 8},
        {"[delivery]\nper_host_concurrency = 300\n", offsetof(Config, concurrency), 300},
        {"[retry]\nmax_delay = 30s\n", offsetof(Config, retry.base_delay_ms), 30000},
        {"[retry]\nbase_delay = 2h\n", offsetof(Config, retry.max_delay_ms), 7200000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Config config;
        char err[512] = "";
        if (config_load_text(&config, cases[i].text, "t", err, sizeof err) != 0)
            fail_msg("%s refused: %s", cases[i].text, err);
        int64_t value;
        memcpy(&value, (const char *)&config + cases[i].offset, sizeof value);
        if (value != cases[i].expected)
            fail_msg("%s: got %lld, expected %lld", cases[i].text, (long long)value,
                     (long long)cases[i].expected);
        config_free(&config);
    }
    /* Business sections inherit [retry] as adapted, and adapt what they inherit. */
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config, "[retry]\nbase_delay = 2h\n[business.X]\nmax_retry = 2\n"
                                      "[business.Y]\nmax_delay = 1m\n", "t", err, sizeof err), 0);
    assert_int_equal(config.business[0].policy.base_delay_ms, 7200000);
    assert_int_equal(config.business[0].policy.max_delay_ms, 7200000);
    assert_int_equal(config.business[1].policy.base_delay_ms, 60000);
    assert_int_equal(config.business[1].policy.max_delay_ms, 60000);
    config_free(&config);
}

#define SECRET_A "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_B "whsec_c2Vjb25kIHNlY3JldCBvZiAyNCBieXRlcyE="

static void test_secrets(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *file = test_write_file(dir, "secret", SECRET_B "\n");
    assert_int_equal(chmod(file, 0600), 0);
    char text[1024];
    snprintf(text, sizeof text,
             "[delivery]\nsecret = " SECRET_A "\nprevious_secret = " SECRET_B "\n"
             "previous_secret_until = 2026-12-01T00:00:00Z\n"
             "[business.OWN]\nsecret_file = %s\n"
             "[business.INHERITS]\nmax_retry = 2\n", file);
    Config config;
    char err[512] = "";
    if (config_load_text(&config, text, "t", err, sizeof err) != 0)
        fail_msg("%s", err);
    PolicySet set = config_policy_set(&config);
    const Policy *own = policy_set_find(&set, "OWN");
    assert_string_equal(own->secret, SECRET_B);
    assert_int_equal(own->key.length, 26);
    assert_int_equal(own->previous_key.length, 0); /* its own secret, so no inherited rotation */
    const Policy *inherits = policy_set_find(&set, "INHERITS");
    assert_string_equal(inherits->secret, SECRET_A);
    assert_int_equal(inherits->previous_key.length, 26);
    assert_int_equal(inherits->previous_secret_until, 1796083200000LL);
    assert_string_equal(set.fallback.secret, SECRET_A);
    config_free(&config);

    /* A secret file others can read, or its group write, is refused, naming
     * the file; its group may read it (the unit's herald group). */
    snprintf(text, sizeof text, "[delivery]\nsecret_file = %s\n", file);
    assert_int_equal(chmod(file, 0644), 0);
    expect_error(text, "may be read or written by others (mode 644); chmod 640 it");
    assert_int_equal(chmod(file, 0660), 0);
    expect_error(text, "(mode 660)");
    assert_int_equal(chmod(file, 0640), 0);
    assert_int_equal(config_load_text(&config, text, "t", err, sizeof err), 0);
    config_free(&config);
    assert_int_equal(chmod(file, 0600), 0);
    snprintf(text, sizeof text, "[delivery]\nsecret = " SECRET_A "\nsecret_file = %s\n", file);
    expect_error(text, "[delivery] set secret or secret_file, not both");
    expect_error("[delivery]\nsecret = nope\n", "test.conf:2: [delivery] secret: a secret must start with");
    expect_error("[business.X]\nsecret = whsec_c2hvcnQ=\n", "[business.X] secret: the secret decodes to 5 bytes");
    expect_error("[delivery]\nsecret_file = /nonexistent/secret\n", "/nonexistent/secret: No such file");
    expect_error("[delivery]\nprevious_secret = " SECRET_B "\n", "previous_secret needs previous_secret_until");
    expect_error("[delivery]\nprevious_secret_until = tomorrow\n", "invalid time \"tomorrow\"");
    /* No secret anywhere: unsigned. */
    Config plain;
    assert_int_equal(config_load_text(&plain, "", "t", err, sizeof err), 0);
    assert_int_equal(plain.retry.key.length, 0);
    config_free(&plain);
    free(file);
    test_remove_dir(dir);
}

static void test_long_line_refused(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "[storage]\npath = /%0300d\n", 0);
    expect_error(text, "test.conf:2: line longer than 199 characters");
}

static void test_missing_file(void **state)
{
    (void)state;
    Config config;
    char err[512];
    assert_int_equal(config_load(&config, "/nonexistent/herald.conf", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/herald.conf: cannot open: No such file or directory"));
}

static void test_shipped_config_loads(void **state)
{
    (void)state;
    Config config;
    char err[512] = "";
    if (config_load(&config, "etc/herald.conf", err, sizeof err) != 0)
        fail_msg("etc/herald.conf: %s", err);
    assert_string_equal(config.listen, "127.0.0.1:8080");
    assert_string_equal(config.storage_path, "var/herald.db");
    /* The three example business types of the documentation. */
    PolicySet set = config_policy_set(&config);
    assert_int_equal(config.business_count, 3);
    assert_int_equal(policy_set_find(&set, "ORDER_UPDATE")->max_retry, 3);
    assert_int_equal(policy_set_find(&set, "ORDER_UPDATE")->base_delay_ms, 30000);
    assert_int_equal(policy_set_find(&set, "INVENTORY_DEDUCT")->base_delay_ms, 120000);
    assert_int_equal(policy_set_find(&set, "PAYMENT_SUCCESS")->max_retry, 5);
    config_free(&config);
}

static void test_receiver_sections(void **state)
{
    (void)state;
    Config config;
    char err[512] = "";
    const char *text = "[receiver.https://api.example.com:443]\n"
                       "rate_limit = 50/s\n"
                       "[receiver.http://127.0.0.1:*]\n"
                       "rate_limit = 600/min\n"
                       "rate_burst = 3\n"
                       "[receiver.http://*]\n"
                       "rate_limit = 0\n"
                       "[receiver.https://*.example.com:443]\n"
                       "rate_limit = 1/s\n";
    assert_int_equal(config_load_text(&config, text, "t", err, sizeof err), 0);
    const RateLimit *rate = config_receiver_rate(&config, "https://api.example.com:443");
    assert_non_null(rate);
    assert_int_equal(rate->interval_us, 20000);
    assert_int_equal(rate->burst, 5);
    rate = config_receiver_rate(&config, "http://127.0.0.1:8080");
    assert_non_null(rate);
    assert_int_equal(rate->interval_us, 100000);
    assert_int_equal(rate->burst, 3);
    /* The first section that matches decides, even with no limit. */
    assert_null(config_receiver_rate(&config, "http://10.0.0.1:80"));
    rate = config_receiver_rate(&config, "https://hooks.example.com:443");
    assert_non_null(rate);
    assert_int_equal(rate->interval_us, 1000000);
    assert_null(config_receiver_rate(&config, "https://example.org:443"));
    config_free(&config);

    expect_error("[receiver.http://a:1]\nrate = 5/s\n", "[receiver.http://a:1] unknown key \"rate\"");
    expect_error("[receiver.http://a:1]\nrate_limit = 5/s\nrate_limit = 6/s\n", "key given twice");
    expect_error("[receiver.http://a:1]\nrate_limit = 5/h\n", "test.conf:2: [receiver.http://a:1] rate_limit: \"5/h\"");
    expect_error("[receiver.http://a:1]\nrate_burst = 0\n", "rate_burst: \"0\": a whole number");
    expect_error("\n[receiver.http://a:1]\nrate_burst = 4\n", "test.conf:3: [receiver.http://a:1] rate_burst needs a rate_limit");
    expect_error("[receiver.]\nrate_limit = 5/s\n", "the pattern");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_telemetry),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_empty_file_gives_defaults),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_storage_backend),
        cmocka_unit_test(test_delivery_and_retry_defaults),
        cmocka_unit_test(test_business_sections_inherit_from_retry),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_defaults_adapt_to_given_keys),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_long_line_refused),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_config_loads),
        cmocka_unit_test(test_receiver_sections),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
