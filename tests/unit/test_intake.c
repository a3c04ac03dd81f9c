/* Unit tests for src/intake/intake.c: the writer thread and its group commit. */
#include "test_support.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake.h"
#include "store.h"

typedef struct Waiter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int done;
    int commits;
} Waiter;

static Waiter waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void on_done(IntakeJob *job)
{
    (void)job;
    pthread_mutex_lock(&waiter.lock);
    waiter.done++;
    pthread_cond_broadcast(&waiter.changed);
    pthread_mutex_unlock(&waiter.lock);
}

static void on_commit(void *argument, const char *const *hosts, size_t count, int64_t due)
{
    (void)argument;
    (void)due;
    for (size_t i = 0; i < count; i++)
        assert_non_null(strstr(hosts[i], "://"));
    pthread_mutex_lock(&waiter.lock);
    waiter.commits++;
    pthread_mutex_unlock(&waiter.lock);
}

/* Waits (at most 10 s) until COUNT jobs have been answered in total. */
static void wait_done(int count)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&waiter.lock);
    while (waiter.done < count) {
        if (pthread_cond_timedwait(&waiter.changed, &waiter.lock, &deadline) != 0)
            break;
    }
    int done = waiter.done;
    pthread_mutex_unlock(&waiter.lock);
    assert_int_equal(done, count);
}

typedef struct Fixture {
    char *dir;
    char *path;
    StoreLocation location; /* outlives intake */
    Intake *intake;
} Fixture;

static Intake *start(Fixture *fixture, int64_t busy_ms, size_t queue_limit)
{
    IntakeOptions options = {.queue_limit = queue_limit, .on_commit = on_commit};
    fixture->location = test_sqlite_location(fixture->path, busy_ms);
    char err[512];
    Intake *intake = intake_start(&fixture->location, &options, err, sizeof err);
    if (intake == NULL)
        fail_msg("intake_start: %s", err);
    return intake;
}

static int setup(void **state)
{
    Fixture *fixture = calloc(1, sizeof *fixture);
    fixture->dir = test_temp_dir();
    fixture->path = test_create_database(fixture->dir);
    waiter.done = 0;
    waiter.commits = 0;
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    Fixture *fixture = *state;
    intake_stop(fixture->intake);
    intake_free(fixture->intake);
    free(fixture->path);
    test_remove_dir(fixture->dir);
    free(fixture);
    return 0;
}

static void make_request(TaskRequest *request, const char *business_id, const char *url,
                         const char *key, const char *payload)
{
    test_task_request(request, business_id, "PAYMENT_SUCCESS", url, key, payload);
}

static void clear_requests(TaskRequest *requests, size_t count)
{
    for (size_t i = 0; i < count; i++)
        task_request_clear(&requests[i]);
}

static int count_tasks(const char *path)
{
    return test_query_int(path, "SELECT count(*) FROM tasks");
}

static void submit(Intake *intake, IntakeJob *job, TaskRequest *requests, size_t count)
{
    memset(job, 0, sizeof *job);
    job->requests = requests;
    job->count = count;
    job->on_done = on_done;
    char err[128];
    if (intake_submit(intake, job, err, sizeof err) != 0)
        fail_msg("intake_submit: %s", err);
}

static void test_stores_and_deduplicates(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 1000, 100);
    TaskRequest requests[3];
    make_request(&requests[0], "P1", "http://a/", NULL, "{}");
    make_request(&requests[1], "P1", "http://a/", NULL, "{}"); /* the same request */
    make_request(&requests[2], "P1", "http://b/", NULL, "{}");
    IntakeJob first, second;
    submit(fixture->intake, &first, &requests[0], 1);
    wait_done(1);
    assert_int_equal(first.result, INTAKE_JOB_OK);
    assert_false(first.duplicates[0]);
    assert_true(first.tasks[0].id > 0);
    assert_int_equal(strncmp(first.tasks[0].webhook_id, "msg_", 4), 0);
    assert_int_equal(first.tasks[0].max_retry, INTAKE_DEFAULT_MAX_RETRY);
    submit(fixture->intake, &second, &requests[1], 2);
    wait_done(2);
    assert_int_equal(second.result, INTAKE_JOB_OK);
    assert_true(second.duplicates[0]);
    assert_int_equal(second.tasks[0].id, first.tasks[0].id);
    assert_false(second.duplicates[1]);
    assert_int_equal(count_tasks(fixture->path), 2);
    assert_int_equal(waiter.commits, 2);
    intake_job_clear(&first);
    intake_job_clear(&second);
    clear_requests(requests, 3);
}

static void test_idempotency_key(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 1000, 100);
    TaskRequest requests[4];
    make_request(&requests[0], "P1", "http://a/", "k1", "{}");
    make_request(&requests[1], "P1", "http://a/", "k1", "{}");          /* same request */
    make_request(&requests[2], "P2", "http://a/", "k1", "{}");          /* same key, other body */
    make_request(&requests[3], "P1", "http://a/", "k2", "{}");          /* same triple, other key */
    IntakeJob jobs[4];
    for (int i = 0; i < 4; i++) {
        submit(fixture->intake, &jobs[i], &requests[i], 1);
        wait_done(i + 1);
    }
    assert_int_equal(jobs[0].result, INTAKE_JOB_OK);
    assert_int_equal(jobs[1].result, INTAKE_JOB_OK);
    assert_true(jobs[1].duplicates[0]);
    assert_int_equal(jobs[1].tasks[0].id, jobs[0].tasks[0].id);
    assert_int_equal(jobs[2].result, INTAKE_JOB_CONFLICT);
    assert_int_equal(jobs[2].conflict_index, 0);
    assert_int_equal(jobs[2].conflict_task_id, jobs[0].tasks[0].id);
    assert_null(jobs[2].conflict_field);
    assert_null(jobs[2].tasks);
    assert_int_equal(jobs[3].result, INTAKE_JOB_OK);
    assert_false(jobs[3].duplicates[0]);
    assert_int_equal(count_tasks(fixture->path), 2);
    for (int i = 0; i < 4; i++)
        intake_job_clear(&jobs[i]);
    clear_requests(requests, 4);
}

/* Without a key, the same (business_type, business_id, target_url) with
 * other content is a conflict naming the task and what differs, never a
 * duplicate that drops the change; inside one batch it names the request. */
static void test_dedup_conflict(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 1000, 100);
    TaskRequest requests[4];
    make_request(&requests[0], "P1", "http://a/", NULL, "{}");
    make_request(&requests[1], "P1", "http://a/", NULL, "{\"other\":1}");
    make_request(&requests[2], "P9", "http://a/", NULL, "{}");
    make_request(&requests[3], "P9", "http://a/", NULL, "[]");
    IntakeJob first, second, batch;
    submit(fixture->intake, &first, &requests[0], 1);
    wait_done(1);
    submit(fixture->intake, &second, &requests[1], 1);
    wait_done(2);
    assert_int_equal(second.result, INTAKE_JOB_CONFLICT);
    assert_int_equal(second.conflict_index, 0);
    assert_int_equal(second.conflict_task_id, first.tasks[0].id);
    assert_string_equal(second.conflict_field, "payload");
    assert_false(second.conflict_within);
    submit(fixture->intake, &batch, &requests[2], 2);
    wait_done(3);
    assert_int_equal(batch.result, INTAKE_JOB_CONFLICT);
    assert_int_equal(batch.conflict_index, 1);
    assert_true(batch.conflict_within);
    assert_int_equal(batch.conflict_other_index, 0);
    assert_int_equal(batch.conflict_task_id, 0);
    assert_int_equal(count_tasks(fixture->path), 1);
    intake_job_clear(&first);
    intake_job_clear(&second);
    intake_job_clear(&batch);
    clear_requests(requests, 4);
}

static void test_conflict_undoes_only_its_job(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 1000, 100);
    TaskRequest seed;
    make_request(&seed, "P0", "http://a/", "taken", "{}");
    IntakeJob seed_job;
    submit(fixture->intake, &seed_job, &seed, 1);
    wait_done(1);
    /* A batch whose third element conflicts, and a good job: whatever way they
     * are grouped into commits, the batch leaves nothing and the other job stays. */
    TaskRequest batch[3], good;
    make_request(&batch[0], "B1", "http://a/", NULL, "{}");
    make_request(&batch[1], "B2", "http://a/", NULL, "{}");
    make_request(&batch[2], "B3", "http://a/", "taken", "{\"different\":true}");
    make_request(&good, "G1", "http://a/", NULL, "{}");
    IntakeJob batch_job, good_job;
    submit(fixture->intake, &batch_job, batch, 3);
    submit(fixture->intake, &good_job, &good, 1);
    wait_done(3);
    assert_int_equal(batch_job.result, INTAKE_JOB_CONFLICT);
    assert_int_equal(batch_job.conflict_index, 2);
    assert_int_equal(good_job.result, INTAKE_JOB_OK);
    assert_int_equal(count_tasks(fixture->path), 2);
    intake_job_clear(&seed_job);
    intake_job_clear(&batch_job);
    intake_job_clear(&good_job);
    task_request_clear(&seed);
    clear_requests(batch, 3);
    task_request_clear(&good);
}

static void test_locked_database_is_unavailable(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 100, 100);
    sqlite3 *blocker;
    assert_int_equal(sqlite3_open(fixture->path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    TaskRequest request;
    make_request(&request, "P1", "http://a/", NULL, "{}");
    IntakeJob job;
    submit(fixture->intake, &job, &request, 1);
    wait_done(1);
    assert_int_equal(job.result, INTAKE_JOB_UNAVAILABLE);
    assert_true(strlen(job.message) > 0);
    assert_null(job.tasks);
    assert_int_equal(waiter.commits, 0);
    assert_int_equal(sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    assert_int_equal(count_tasks(fixture->path), 0);
    /* Once released, the same request is stored. */
    IntakeJob again;
    submit(fixture->intake, &again, &request, 1);
    wait_done(2);
    assert_int_equal(again.result, INTAKE_JOB_OK);
    assert_int_equal(count_tasks(fixture->path), 1);
    intake_job_clear(&job);
    intake_job_clear(&again);
    task_request_clear(&request);
}

static void test_queue_limit_and_drain_on_stop(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 2000, 4);
    /* Hold the database so the writer cannot empty the queue. */
    sqlite3 *blocker;
    assert_int_equal(sqlite3_open(fixture->path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    /* The writer takes at most the 4 queued when it wakes, then waits for the
     * lock (2 s): 4 more fit the queue, so of 10 at least 2 are refused however
     * the submits and the writer's wake-up interleave. */
    enum { JOBS = 10 };
    TaskRequest requests[JOBS];
    IntakeJob jobs[JOBS];
    int accepted = 0, refused = 0;
    for (int i = 0; i < JOBS; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%d", i);
        make_request(&requests[i], id, "http://a/", NULL, "{}");
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].requests = &requests[i];
        jobs[i].count = 1;
        jobs[i].on_done = on_done;
        char err[128];
        if (intake_submit(fixture->intake, &jobs[i], err, sizeof err) == 0) {
            accepted++;
        } else {
            refused++;
            assert_non_null(strstr(err, "too many"));
        }
    }
    assert_true(refused >= 2);
    assert_int_equal(sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    intake_stop(fixture->intake); /* must answer every accepted job */
    assert_int_equal(waiter.done, accepted);
    /* A submit racing with the stop is refused, not lost or crashed. */
    char late_err[128];
    IntakeJob late = {.requests = &requests[0], .count = 1, .on_done = on_done};
    assert_int_equal(intake_submit(fixture->intake, &late, late_err, sizeof late_err), -1);
    assert_non_null(strstr(late_err, "shutting down"));
    intake_free(fixture->intake);
    fixture->intake = NULL;
    for (int i = 0; i < JOBS; i++) {
        intake_job_clear(&jobs[i]);
        task_request_clear(&requests[i]);
    }
}

typedef struct Producer {
    Intake *intake;
    int index;
    int ok;
} Producer;

enum { PRODUCERS = 8, JOBS_EACH = 150 };

static void *produce(void *argument)
{
    Producer *producer = argument;
    TaskRequest *requests = calloc(JOBS_EACH, sizeof *requests);
    IntakeJob *jobs = calloc(JOBS_EACH, sizeof *jobs);
    for (int i = 0; i < JOBS_EACH; i++) {
        char id[32];
        snprintf(id, sizeof id, "P-%d-%d", producer->index, i);
        make_request(&requests[i], id, "http://a/", NULL, "{}");
        jobs[i].requests = &requests[i];
        jobs[i].count = 1;
        jobs[i].on_done = on_done;
        char err[128];
        while (intake_submit(producer->intake, &jobs[i], err, sizeof err) != 0)
            usleep(1000);
    }
    /* Jobs must stay alive until answered. */
    int expected = PRODUCERS * JOBS_EACH;
    pthread_mutex_lock(&waiter.lock);
    while (waiter.done < expected)
        pthread_cond_wait(&waiter.changed, &waiter.lock);
    pthread_mutex_unlock(&waiter.lock);
    for (int i = 0; i < JOBS_EACH; i++) {
        producer->ok += jobs[i].result == INTAKE_JOB_OK && !jobs[i].duplicates[0];
        intake_job_clear(&jobs[i]);
        task_request_clear(&requests[i]);
    }
    free(jobs);
    free(requests);
    return NULL;
}

static void test_concurrent_submitters(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 5000, 100000);
    pthread_t threads[PRODUCERS];
    Producer producers[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        producers[i] = (Producer){.intake = fixture->intake, .index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &producers[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
        ok += producers[i].ok;
    }
    assert_int_equal(ok, PRODUCERS * JOBS_EACH);
    assert_int_equal(count_tasks(fixture->path), PRODUCERS * JOBS_EACH);
}

static void test_group_commit_batches_waiting_jobs(void **state)
{
    Fixture *fixture = *state;
    fixture->intake = start(fixture, 5000, 100);
    sqlite3 *blocker;
    assert_int_equal(sqlite3_open(fixture->path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    enum { JOBS = 10 };
    TaskRequest requests[JOBS];
    IntakeJob jobs[JOBS];
    for (int i = 0; i < JOBS; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%d", i);
        make_request(&requests[i], id, "http://a/", NULL, "{}");
        submit(fixture->intake, &jobs[i], &requests[i], 1);
    }
    usleep(100 * 1000); /* let the writer take what it can while the lock is held */
    assert_int_equal(sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    wait_done(JOBS);
    /* Whatever the writer took before the lock was released commits first; the
     * rest waited in the queue and must share one commit. */
    assert_true(waiter.commits >= 1 && waiter.commits <= 2);
    for (int i = 0; i < JOBS; i++) {
        assert_int_equal(jobs[i].result, INTAKE_JOB_OK);
        intake_job_clear(&jobs[i]);
        task_request_clear(&requests[i]);
    }
    assert_int_equal(count_tasks(fixture->path), JOBS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stores_and_deduplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_undoes_only_its_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_database_is_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_limit_and_drain_on_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_batches_waiting_jobs, setup, teardown),
    };
    return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
