/*
 * intake: the queue to the one thread that writes ("herald-intake"), and the
 * group commit that makes durable writes fast. Every database write but the
 * scheduler's own (claims and outcomes, on its connection) goes through it:
 * new tasks, manual repairs, alert records and retention, so no HTTP thread
 * ever waits on an fsync and every write is inside a transaction.
 *
 * A job is either a task request (an HTTP handler validates it, submits it
 * and suspends; the handler answers 201 only from on_done) or a change of
 * its own (an APPLY function the writer runs inside the transaction). The
 * writer takes everything queued, stores all of it in one transaction (one
 * COMMIT, one fsync for many requests), and only then calls each job's
 * on_done. A job of several parts runs in its own savepoint: a conflict (a
 * key or an identity repeated with other content), or a change its APPLY refuses (STORE_NOT_FOUND), undoes just that
 * job, while any storage error (disk full, locked, I/O) rolls back the whole
 * transaction and every job in it is answered "unavailable", so nothing is
 * committed behind an error.
 *
 * Threads: intake_submit() and intake_run() may be called from any thread;
 * on_done and APPLY run on the writer thread. The queue is guarded by
 * Intake.lock (intake.c).
 */
#ifndef HERALD_INTAKE_H
#define HERALD_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "task.h"

typedef struct Intake Intake;
typedef struct IntakeJob IntakeJob;

typedef enum {
    INTAKE_JOB_OK,          /* stored (or found as a duplicate) and committed */
    /* requests[conflict_index] repeats task conflict_task_id (its
     * idempotency key, or without one its identity) with other content; or,
     * conflict_within, requests[conflict_other_index] of the same job */
    INTAKE_JOB_CONFLICT,
    INTAKE_JOB_REFUSED,     /* APPLY said STORE_NOT_FOUND: nothing of the job was kept */
    INTAKE_JOB_UNAVAILABLE, /* nothing stored: the database failed (message says why) */
} IntakeJobResult;

/* A change of a job's own, run on the writer thread inside the transaction
 * (in a savepoint when the commit holds other jobs): STORE_OK keeps it,
 * STORE_NOT_FOUND undoes it alone (INTAKE_JOB_REFUSED), STORE_ERROR fails the
 * whole commit (with ERR). */
typedef StoreResult (*IntakeApply)(Store *store, IntakeJob *job, char *err, size_t errlen);

struct IntakeJob {
    /* Set by the submitter, which owns them and keeps them alive until on_done:
     * either task REQUESTS (COUNT of them), or APPLY with the number of rows
     * it changes in COUNT (for sizing commits; at least 1). */
    const TaskRequest *requests;
    size_t count;
    IntakeApply apply;
    /* Committed in a transaction of its own, with no other job: an APPLY that
     * locks rows other sessions lock in an order of their own (a receiver's
     * pause: the scheduler locks receivers in key order, store_breaker.c), so
     * two such jobs in one commit cannot deadlock with them. */
    bool alone;
    void (*on_done)(IntakeJob *job); /* called exactly once, on the writer thread */
    void *context;

    /* Set by the writer before on_done. tasks and duplicates (count entries,
     * on INTAKE_JOB_OK) belong to the job: free them with intake_job_clear().
     * A new task (duplicates[i] false) borrows the strings of requests[i], so
     * the requests must outlive the tasks; a duplicate owns its own. */
    IntakeJobResult result;
    Task *tasks;
    bool *duplicates;
    size_t conflict_index;
    int64_t conflict_task_id;   /* 0 when conflict_within */
    const char *conflict_field; /* static: "payload", ...; NULL for a reused key */
    bool conflict_within;
    size_t conflict_other_index;
    char message[256];

    IntakeJob *next; /* the queue's link; intake's own */
};

typedef struct IntakeOptions {
    size_t queue_limit; /* jobs waiting; intake_submit refuses beyond this */
    /* max_retry for a request that does not set one; NULL = INTAKE_DEFAULT_MAX_RETRY. */
    int (*max_retry_for)(const char *business_type, void *argument);
    void *max_retry_argument;
    /* Called on the writer thread after a commit that created tasks, with the
     * target_host of each (repeats allowed), all due at DUE: how the scheduler
     * learns of new work within milliseconds. May be NULL. */
    void (*on_commit)(void *argument, const char *const *hosts, size_t count, int64_t due);
    void *on_commit_argument;
} IntakeOptions;

#define INTAKE_DEFAULT_MAX_RETRY 5
/* Most tasks one transaction holds; a single batch request is never split. */
#define INTAKE_TASKS_PER_COMMIT 4096

/* Opens its own connection to the database at LOCATION (already migrated;
 * not owned, must outlive the Intake) and starts the writer thread. Returns
 * the Intake (the caller owns it: intake_stop, then intake_free), or NULL
 * with a message in ERR. */
Intake *intake_start(const StoreLocation *location, const IntakeOptions *options, char *err,
                     size_t errlen);

/* Queues JOB. Returns 0 (on_done will be called), or -1 if intake is stopping
 * or the queue is full (on_done will not be called; ERR says which). */
int intake_submit(Intake *intake, IntakeJob *job, char *err, size_t errlen);

/* Refuses new jobs, stores everything already queued and stops the writer.
 * INTAKE stays valid: an HTTP thread that passed its own checks may still
 * call intake_submit(), which now answers "shutting down". Safe if INTAKE is
 * NULL. */
void intake_stop(Intake *intake);

/* Frees a stopped INTAKE, once nothing can call intake_submit() any more
 * (after api_stop()). */
void intake_free(Intake *intake);

/* Frees what the writer attached to JOB. */
void intake_job_clear(IntakeJob *job);

/* For threads that may block (the alert checker), never HTTP threads: runs
 * APPLY with CONTEXT as a job of weight 1 and waits for its commit. Returns
 * STORE_OK, STORE_NOT_FOUND (APPLY refused; nothing kept), or STORE_ERROR
 * with ERR set (the database failed, or intake is stopping). */
StoreResult intake_run(Intake *intake, IntakeApply apply, void *context, char *err,
                       size_t errlen);

#endif
