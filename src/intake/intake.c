/*
 * intake: see intake.h.
 *
 * The writer takes the whole queue at once (up to INTAKE_TASKS_PER_COMMIT
 * tasks), so under load each fsync covers as many requests as arrived while
 * the previous one ran: batching grows with load by itself, and an idle
 * server commits a lone request at once without waiting for company.
 */
#include "intake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault.h"
#include "log.h"
#include "store.h"

struct Intake {
    Store *store; /* the writer thread's own connection */
    IntakeOptions options;
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    IntakeJob *head;
    IntakeJob *tail;
    size_t queued;
    bool stopping;
};

typedef enum {
    INTAKE_STORED,
    INTAKE_CONFLICT,
    INTAKE_FAILED,
} IntakeStoreResult;

static int intake_max_retry(Intake *intake, const TaskRequest *request)
{
    if (request->max_retry > 0)
        return request->max_retry;
    if (intake->options.max_retry_for != NULL)
        return intake->options.max_retry_for(request->business_type,
                                             intake->options.max_retry_argument);
    return INTAKE_DEFAULT_MAX_RETRY;
}

/* What a keyless REQUEST that repeats EXISTING's identity with other
 * content changes, as far as the task as stored now tells (a repair may
 * have edited it since): "payload", "headers" or "max_retry", the only
 * other parts of the request. NULL for a reused key (the key is at fault). */
static const char *intake_conflict_field(const TaskRequest *request, const Task *existing)
{
    if (request->idempotency_key != NULL)
        return NULL;
    if (request->payload_is_json != existing->payload_is_json ||
        request->payload_length != existing->payload_length ||
        memcmp(request->payload, existing->payload, request->payload_length) != 0)
        return "payload";
    const char *headers = request->headers_json ? request->headers_json : "";
    if (strcmp(headers, existing->headers_json ? existing->headers_json : "") != 0)
        return "headers";
    return "max_retry";
}

/* A stored task's place in its ordering key, as the answer shows it. */
static void intake_view_ordering(Task *view, const TaskCreation *creation)
{
    view->ordering_seq = creation->ordering_seq;
    if (creation->ordering_waiting)
        view->next_attempt_at = TASK_ORDERING_WAITING_AT;
}

static IntakeStoreResult intake_store_request(Intake *intake, IntakeJob *job, size_t index,
                                              int64_t now, char *err, size_t errlen)
{
    const TaskRequest *request = &job->requests[index];
    char webhook_id[TASK_WEBHOOK_ID_SIZE];
    if (task_generate_webhook_id(webhook_id) != 0) {
        snprintf(err, errlen, "cannot read random bytes for the webhook id");
        return INTAKE_FAILED;
    }
    int max_retry = intake_max_retry(intake, request);
    TaskCreation creation;
    if (store_task_create(intake->store, request, max_retry, webhook_id, now, &creation, err,
                          errlen) != STORE_OK)
        return INTAKE_FAILED;
    if (creation.created) {
        task_view_of_request(&job->tasks[index], request, creation.id, webhook_id, max_retry,
                             now);
        intake_view_ordering(&job->tasks[index], &creation);
        return INTAKE_STORED;
    }
    /* The same key, or without one the same identity, for a different
     * request is a conflict; a repeat is not. */
    if (!task_request_hash_matches(request, creation.existing_hash)) {
        job->conflict_index = index;
        job->conflict_task_id = creation.existing.id;
        job->conflict_field = intake_conflict_field(request, &creation.existing);
        job->conflict_within = false;
        /* A task an earlier request of this job created goes with the
         * savepoint: the answer names that request, not the id. */
        for (size_t j = 0; j < index; j++) {
            if (!job->duplicates[j] && job->tasks[j].id == creation.existing.id) {
                job->conflict_within = true;
                job->conflict_other_index = j;
                job->conflict_task_id = 0;
            }
        }
        task_clear(&creation.existing);
        return INTAKE_CONFLICT;
    }
    job->tasks[index] = creation.existing; /* owned by the job: see intake_job_clear */
    job->duplicates[index] = true;
    return INTAKE_STORED;
}

/* Runs JOB's own change in a savepoint (a refusal undoes just it). */
static IntakeStoreResult intake_apply_job(Intake *intake, IntakeJob *job, char *err,
                                          size_t errlen)
{
    if (store_savepoint(intake->store, err, errlen) != 0)
        return INTAKE_FAILED;
    StoreResult result = job->apply(intake->store, job, err, errlen);
    if (result == STORE_ERROR)
        return INTAKE_FAILED;
    if (result == STORE_NOT_FOUND) {
        if (store_savepoint_rollback(intake->store, err, errlen) != 0)
            return INTAKE_FAILED;
        job->result = INTAKE_JOB_REFUSED;
        return INTAKE_CONFLICT;
    }
    if (store_savepoint_release(intake->store, err, errlen) != 0)
        return INTAKE_FAILED;
    job->result = INTAKE_JOB_OK;
    return INTAKE_STORED;
}

/* Stores every request of JOB (or runs its own change). A job of several
 * requests gets a savepoint, so a conflict in one undoes the ones before it
 * and nothing else. A job of one needs none: a conflict is found before
 * anything is written, and a storage error rolls back the whole group anyway.
 * That saves two statements on every single POST. */
static IntakeStoreResult intake_store_job(Intake *intake, IntakeJob *job, int64_t now, char *err,
                                          size_t errlen)
{
    if (job->apply != NULL)
        return intake_apply_job(intake, job, err, errlen);
    job->tasks = calloc(job->count, sizeof *job->tasks);
    job->duplicates = calloc(job->count, sizeof *job->duplicates);
    if (job->tasks == NULL || job->duplicates == NULL) {
        snprintf(err, errlen, "out of memory");
        return INTAKE_FAILED;
    }
    bool savepoint = job->count > 1;
    if (savepoint && store_savepoint(intake->store, err, errlen) != 0)
        return INTAKE_FAILED;
    for (size_t i = 0; i < job->count; i++) {
        IntakeStoreResult result = intake_store_request(intake, job, i, now, err, errlen);
        if (result == INTAKE_CONFLICT) {
            intake_job_clear(job);
            if (savepoint && store_savepoint_rollback(intake->store, err, errlen) != 0)
                return INTAKE_FAILED;
            job->result = INTAKE_JOB_CONFLICT;
            return INTAKE_CONFLICT;
        }
        if (result == INTAKE_FAILED)
            return INTAKE_FAILED;
    }
    if (savepoint && store_savepoint_release(intake->store, err, errlen) != 0)
        return INTAKE_FAILED;
    job->result = INTAKE_JOB_OK;
    return INTAKE_STORED;
}

/* Gives JOB its tasks from CREATED (one per request, in order), moving
 * the repeated tasks found into the job. Returns 0, or -1 out of memory. */
static int intake_give_tasks(IntakeJob *job, const TaskCreateItem *items, TaskCreation *created,
                             int64_t now)
{
    job->tasks = calloc(job->count, sizeof *job->tasks);
    job->duplicates = calloc(job->count, sizeof *job->duplicates);
    if (job->tasks == NULL || job->duplicates == NULL)
        return -1;
    for (size_t i = 0; i < job->count; i++) {
        if (created[i].created) {
            task_view_of_request(&job->tasks[i], items[i].request, created[i].id,
                                 items[i].webhook_id, items[i].max_retry, now);
            intake_view_ordering(&job->tasks[i], &created[i]);
        } else {
            job->tasks[i] = created[i].existing; /* the job's now: see intake_job_clear */
            memset(&created[i].existing, 0, sizeof created[i].existing);
            job->duplicates[i] = true;
        }
    }
    job->result = INTAKE_JOB_OK;
    return 0;
}

/* The group's usual case: every task of every job created with one
 * store_task_create_many (one statement on PostgreSQL, where a statement's
 * fixed cost is most of a small insert's), then the jobs with a change of
 * their own. INTAKE_CONFLICT: a request repeats another (its key or its
 * identity) with other content; no job
 * got anything and the caller redoes the group job by job, in savepoints,
 * so that only that job is refused. */
static IntakeStoreResult intake_store_group(Intake *intake, IntakeJob *jobs, int64_t now,
                                            char *err, size_t errlen)
{
    size_t total = 0;
    for (IntakeJob *job = jobs; job != NULL; job = job->next)
        total += job->apply == NULL ? job->count : 0;
    TaskCreateItem *items = calloc(total + 1, sizeof *items);
    char (*ids)[TASK_WEBHOOK_ID_SIZE] = calloc(total + 1, sizeof *ids);
    TaskCreation *created = calloc(total + 1, sizeof *created);
    IntakeStoreResult result = INTAKE_STORED;
    if (items == NULL || ids == NULL || created == NULL) {
        snprintf(err, errlen, "out of memory");
        result = INTAKE_FAILED;
    }
    size_t n = 0;
    for (IntakeJob *job = jobs; job != NULL && result == INTAKE_STORED; job = job->next) {
        for (size_t i = 0; job->apply == NULL && i < job->count; i++, n++) {
            if (task_generate_webhook_id(ids[n]) != 0) {
                snprintf(err, errlen, "cannot read random bytes for the webhook id");
                result = INTAKE_FAILED;
                break;
            }
            items[n] = (TaskCreateItem){.request = &job->requests[i],
                                        .max_retry = intake_max_retry(intake, &job->requests[i]),
                                        .webhook_id = ids[n]};
        }
    }
    if (result == INTAKE_STORED && total > 0 &&
        store_task_create_many(intake->store, items, total, now, created, err, errlen) != STORE_OK)
        result = INTAKE_FAILED;
    for (size_t k = 0; k < total && result == INTAKE_STORED; k++) {
        if (!created[k].created &&
            !task_request_hash_matches(items[k].request, created[k].existing_hash))
            result = INTAKE_CONFLICT;
    }
    n = 0;
    for (IntakeJob *job = jobs; job != NULL && result == INTAKE_STORED; job = job->next) {
        if (job->apply != NULL)
            continue;
        if (intake_give_tasks(job, items + n, created + n, now) != 0) {
            snprintf(err, errlen, "out of memory");
            result = INTAKE_FAILED;
        }
        n += job->count;
    }
    for (size_t k = 0; created != NULL && k < total; k++)
        task_clear(&created[k].existing);
    free(items);
    free(ids);
    free(created);
    for (IntakeJob *job = jobs; job != NULL && result == INTAKE_STORED; job = job->next) {
        if (job->apply != NULL && intake_apply_job(intake, job, err, errlen) == INTAKE_FAILED)
            result = INTAKE_FAILED;
    }
    return result;
}

/* The group job by job, each in a savepoint when it has several requests:
 * after intake_store_group found a conflict. */
static IntakeStoreResult intake_store_jobs(Intake *intake, IntakeJob *jobs, int64_t now,
                                           char *err, size_t errlen)
{
    for (IntakeJob *job = jobs; job != NULL; job = job->next) {
        if (intake_store_job(intake, job, now, err, errlen) == INTAKE_FAILED)
            return INTAKE_FAILED;
    }
    return INTAKE_STORED;
}

static void intake_fail_jobs(IntakeJob *jobs, const char *message)
{
    for (IntakeJob *job = jobs; job != NULL; job = job->next) {
        intake_job_clear(job);
        job->result = INTAKE_JOB_UNAVAILABLE;
        snprintf(job->message, sizeof job->message, "%s", message);
    }
}

/* Tells the commit hook which hosts got new tasks. Runs before the jobs are
 * answered, while their tasks are still ours to read. */
static void intake_announce(Intake *intake, IntakeJob *jobs, int64_t now)
{
    if (intake->options.on_commit == NULL)
        return;
    size_t total = 0;
    for (IntakeJob *job = jobs; job != NULL; job = job->next)
        total += job->result == INTAKE_JOB_OK && job->apply == NULL ? job->count : 0;
    const char **hosts = malloc((total ? total : 1) * sizeof *hosts);
    if (hosts == NULL)
        return; /* the scheduler finds them at its next sweep ([delivery] lease_sweep_interval) */
    size_t count = 0;
    for (IntakeJob *job = jobs; job != NULL; job = job->next) {
        for (size_t i = 0; job->result == INTAKE_JOB_OK && job->apply == NULL && i < job->count;
             i++) {
            if (!job->duplicates[i])
                hosts[count++] = job->tasks[i].target_host;
        }
    }
    if (count > 0)
        intake->options.on_commit(intake->options.on_commit_argument, hosts, count, now);
    free(hosts);
}

/* Stores JOBS (a list linked by next) in one transaction, then answers them. */
static void intake_commit_jobs(Intake *intake, IntakeJob *jobs)
{
    char err[512] = "";
    bool committed = false;
    int64_t now = clock_now_ms();
    if (store_begin(intake->store, err, sizeof err) != 0) {
        intake_fail_jobs(jobs, err);
    } else {
        IntakeStoreResult stored = intake_store_group(intake, jobs, now, err, sizeof err);
        bool began = true;
        if (stored == INTAKE_CONFLICT) {
            store_rollback(intake->store);
            began = store_begin(intake->store, err, sizeof err) == 0;
            stored = began ? intake_store_jobs(intake, jobs, now, err, sizeof err)
                           : INTAKE_FAILED;
        }
        if (stored == INTAKE_FAILED) {
            if (began)
                store_rollback(intake->store);
            intake_fail_jobs(jobs, err);
        } else if (store_commit(intake->store, err, sizeof err) != 0) {
            intake_fail_jobs(jobs, err);
        } else {
            committed = true;
        }
    }
    if (err[0] != '\0') {
        char quoted[600];
        log_error("event=intake_failed error=%s", log_quote(quoted, sizeof quoted, err));
    }
    if (committed)
        intake_announce(intake, jobs, now);
    IntakeJob *job = jobs;
    while (job != NULL) {
        IntakeJob *next = job->next; /* on_done may free the job */
        job->next = NULL;
        job->on_done(job);
        job = next;
    }
}

/* Detaches queued jobs holding at most INTAKE_TASKS_PER_COMMIT tasks (always
 * at least one job; a job that must be alone, alone). Called with the lock
 * held. */
static IntakeJob *intake_take_jobs(Intake *intake)
{
    IntakeJob *first = intake->head;
    IntakeJob *last = first;
    size_t tasks = first->count;
    size_t jobs = 1;
    while (!first->alone && last->next != NULL && !last->next->alone &&
           tasks + last->next->count <= INTAKE_TASKS_PER_COMMIT) {
        last = last->next;
        tasks += last->count;
        jobs++;
    }
    intake->head = last->next;
    if (intake->head == NULL)
        intake->tail = NULL;
    last->next = NULL;
    intake->queued -= jobs;
    return first;
}

static void *intake_writer_main(void *argument)
{
    Intake *intake = argument;
    pthread_setname_np(pthread_self(), "herald-intake");
    fault_set_role("writer");
    pthread_mutex_lock(&intake->lock);
    for (;;) {
        while (intake->head == NULL && !intake->stopping)
            pthread_cond_wait(&intake->wake, &intake->lock);
        if (intake->head == NULL)
            break; /* stopping, and everything queued has been stored */
        IntakeJob *jobs = intake_take_jobs(intake);
        pthread_mutex_unlock(&intake->lock);
        intake_commit_jobs(intake, jobs);
        pthread_mutex_lock(&intake->lock);
    }
    pthread_mutex_unlock(&intake->lock);
    return NULL;
}

Intake *intake_start(const StoreLocation *location, const IntakeOptions *options, char *err,
                     size_t errlen)
{
    Intake *intake = calloc(1, sizeof *intake);
    if (intake == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    intake->options = *options;
    StoreOptions store_options = {.durability = STORE_DURABILITY_FULL,
                                  .application_name = "heraldd/intake"};
    intake->store = store_open(location, &store_options, err, errlen);
    if (intake->store == NULL) {
        free(intake);
        return NULL;
    }
    pthread_mutex_init(&intake->lock, NULL);
    pthread_cond_init(&intake->wake, NULL);
    int rc = pthread_create(&intake->thread, NULL, intake_writer_main, intake);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the intake thread: %s", strerror(rc));
        pthread_cond_destroy(&intake->wake);
        pthread_mutex_destroy(&intake->lock);
        store_close(intake->store);
        free(intake);
        return NULL;
    }
    return intake;
}

int intake_submit(Intake *intake, IntakeJob *job, char *err, size_t errlen)
{
    job->next = NULL;
    job->tasks = NULL;
    job->duplicates = NULL;
    job->message[0] = '\0';
    pthread_mutex_lock(&intake->lock);
    if (intake->stopping || intake->queued >= intake->options.queue_limit) {
        snprintf(err, errlen, intake->stopping ? "herald is shutting down"
                                               : "too many requests are waiting to be stored");
        pthread_mutex_unlock(&intake->lock);
        return -1;
    }
    if (intake->tail != NULL)
        intake->tail->next = job;
    else
        intake->head = job;
    intake->tail = job;
    intake->queued++;
    pthread_cond_signal(&intake->wake);
    pthread_mutex_unlock(&intake->lock);
    return 0;
}

void intake_stop(Intake *intake)
{
    if (intake == NULL)
        return;
    pthread_mutex_lock(&intake->lock);
    intake->stopping = true;
    pthread_cond_signal(&intake->wake);
    pthread_mutex_unlock(&intake->lock);
    pthread_join(intake->thread, NULL);
    store_close(intake->store);
    intake->store = NULL;
}

void intake_free(Intake *intake)
{
    if (intake == NULL)
        return;
    pthread_cond_destroy(&intake->wake);
    pthread_mutex_destroy(&intake->lock);
    free(intake);
}

void intake_job_clear(IntakeJob *job)
{
    /* Only duplicates own their strings; a new task borrows its request's. */
    for (size_t i = 0; job->tasks != NULL && job->duplicates != NULL && i < job->count; i++) {
        if (job->duplicates[i])
            task_clear(&job->tasks[i]);
    }
    free(job->tasks);
    free(job->duplicates);
    job->tasks = NULL;
    job->duplicates = NULL;
}

/* intake_run's wait: the job (first, so on_done finds the rest), and a
 * wake-up for the thread that waits. */
typedef struct IntakeWait {
    IntakeJob job;
    pthread_mutex_t lock;
    pthread_cond_t done;
    bool finished;
} IntakeWait;

static void intake_wait_done(IntakeJob *job)
{
    IntakeWait *wait = (IntakeWait *)job;
    pthread_mutex_lock(&wait->lock);
    wait->finished = true;
    pthread_cond_signal(&wait->done);
    pthread_mutex_unlock(&wait->lock);
}

StoreResult intake_run(Intake *intake, IntakeApply apply, void *context, char *err,
                       size_t errlen)
{
    IntakeWait wait = {
        .job = {.count = 1, .apply = apply, .on_done = intake_wait_done, .context = context}};
    pthread_mutex_init(&wait.lock, NULL);
    pthread_cond_init(&wait.done, NULL);
    StoreResult result = STORE_ERROR;
    if (intake_submit(intake, &wait.job, err, errlen) == 0) {
        pthread_mutex_lock(&wait.lock);
        while (!wait.finished)
            pthread_cond_wait(&wait.done, &wait.lock);
        pthread_mutex_unlock(&wait.lock);
        if (wait.job.result == INTAKE_JOB_OK)
            result = STORE_OK;
        else if (wait.job.result == INTAKE_JOB_REFUSED)
            result = STORE_NOT_FOUND;
        else
            snprintf(err, errlen, "%s", wait.job.message);
    }
    pthread_cond_destroy(&wait.done);
    pthread_mutex_destroy(&wait.lock);
    return result;
}
