/* Unit tests for src/config.c: defaults, every key, every error path. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void expect_error(const char *text, const char *expected)
{
    Config config;
    char err[512] = "";
    assert_int_equal(config_load_text(&config, text, "test.conf", err, sizeof err), -1);
    if (strstr(err, expected) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, expected);
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
    expect_error("[server]\nmax_body = 1\n", "must be between 64 and 67108864 bytes");
    expect_error("[server]\nmax_body = 1GiB\n", "max_body: must be between");
    expect_error("[server]\nthreads = 65\n", "threads: must be between 0 and 64");
    expect_error("[server]\nmax_connections = 0\n", "must be between 1 and 100000");
    expect_error("[server]\nconnection_timeout = 10ms\n", "must be between 1000ms and");
    expect_error("[storage]\nbusy_timeout = 1d\n", "busy_timeout: must be between");
    expect_error("[storage]\nintake_queue_limit = 0\n", "intake_queue_limit: must be between");
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
    assert_non_null(strstr(err, "/nonexistent/herald.conf: cannot open"));
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_empty_file_gives_defaults),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_long_line_refused),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_config_loads),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
