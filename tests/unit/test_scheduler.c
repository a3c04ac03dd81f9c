/* Unit tests for src/delivery/scheduler.c with a fake wall clock: stepping the system
 * clock neither fires retries early nor stalls due ones. The scheduler runs
 * for real (its thread, libcurl) against a temporary database; deliveries go
 * to a closed loopback port, so each attempt fails at once and is recorded. */
#include "test_support.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "netguard.h"
#include "scheduler.h"
#include "store.h"

static int64_t wall_offset_ms;

/* The system's wall clock, shifted by wall_offset_ms: an operator's `date -s`. */
static int64_t stepped_wall(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + wall_offset_ms;
}

static PolicySet policies;

static Config config;

static const Config *current_config(void)
{
    return &config;
}

static const PolicySet *current_policies(void)
{
    return &policies;
}

/* A loopback URL nothing listens on. */
static void closed_url(char *out, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    assert_int_equal(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    snprintf(out, size, "http://127.0.0.1:%d/hook", ntohs(address.sin_port));
    close(fd);
}

static int64_t insert_due(Store *store, const char *business_id, const char *url, int64_t due)
{
    TaskRequest request;
    test_task_request(&request, business_id, "T", url, NULL, "{}");
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(strchr(url + 7, '/') - url), url);
    free(request.target_host);
    request.target_host = strdup(host);
    char err[256];
    int64_t id;
    assert_int_equal(store_begin(store, err, sizeof err), 0);
    assert_int_equal(test_create_task(store, &request, 1, "msg", due, &id), 0);
    assert_int_equal(store_commit(store, err, sizeof err), 0);
    task_request_clear(&request);
    return id;
}

static int attempts_of(const char *path, int64_t id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM attempts WHERE task_id = %lld", (long long)id);
    return test_query_int(path, sql);
}

/* Waits (at most 10 s) for task ID to have an attempt. */
static void wait_attempted(const char *path, int64_t id)
{
    for (int i = 0; i < 1000 && attempts_of(path, id) == 0; i++)
        usleep(10 * 1000);
    assert_int_equal(attempts_of(path, id), 1);
}

static void test_wall_clock_steps(void **state)
{
    (void)state;
    wall_offset_ms = 0;
    clock_set_sources(stepped_wall, NULL); /* herald time anchors to the wall clock now */
    char *dir = test_temp_dir();
    char *path = test_create_database(dir);
    char err[512];
    StoreOptions store_options = {0};
    StoreLocation location = test_sqlite_location(path, 1000);
    Store *store = store_open(&location, &store_options, err, sizeof err);
    assert_non_null(store);
    char url[64];
    closed_url(url, sizeof url);
    int64_t now = clock_now_ms();
    int64_t later = insert_due(store, "LATER", url, now + 10 * 60 * 1000);
    static const NetGuard open = {.allow_private = true};
    memset(&policies, 0, sizeof policies);
    policies.fallback.max_retry = 1;
    policies.fallback.max_delay_ms = 60000;
    config_set_defaults(&config);
    config.delivery_timeout_ms = 2000;
    config.connect_timeout_ms = 1000;
    config.max_response_bytes = 64;
    config.retry_interval_ms = 200;
    SchedulerOptions options = {
        .store_location = &location, .guard = &open,
        .concurrency = 4, .per_host_concurrency = 4,
        .config = current_config, .policies = current_policies,
    };
    Scheduler *scheduler = scheduler_start(&options, err, sizeof err);
    if (scheduler == NULL || scheduler_run(scheduler, err, sizeof err) != 0)
        fail_msg("scheduler_start: %s", err);

    /* The system clock jumps an hour ahead: the task due in 10 minutes must wait. */
    wall_offset_ms = 3600 * 1000;
    int64_t due_now = insert_due(store, "NOW", url, clock_now_ms());
    const char *hosts[] = {url};
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(strchr(url + 7, '/') - url), url);
    hosts[0] = host;
    scheduler_notify(scheduler, hosts, 1, clock_now_ms());
    wait_attempted(path, due_now); /* the scheduler is running... */
    usleep(500 * 1000);            /* ...for several turns */
    assert_int_equal(attempts_of(path, later), 0); /* no burst of early retries */

    /* And two hours back: a task due now is still sent now, not in an hour. */
    wall_offset_ms = -3600 * 1000;
    int64_t after_step = insert_due(store, "AFTER-STEP", url, clock_now_ms());
    scheduler_notify(scheduler, hosts, 1, clock_now_ms());
    wait_attempted(path, after_step);
    assert_int_equal(attempts_of(path, later), 0);

    scheduler_stop(scheduler);
    store_close(store);
    clock_set_sources(NULL, NULL);
    free(path);
    test_remove_dir(dir);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall_clock_steps),
    };
    int failed = cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
