/*
 * store_redelivery: redelivery jobs (redelivery.h) in the database, written
 * once above the backends in store_redelivery.c; part of the storage front
 * (store.h). A job is created, claimed, stepped and cancelled in the
 * caller's transaction (the intake writer's); reads stand alone.
 *
 * One heraldd at a time works a job: the claim gives it a lease on the
 * database's clock and a fresh random token, and every step first locks the
 * job's row while that token holds it and the job runs, and reads the
 * cursor there, in the transaction that redelivers the step's tasks: a step
 * whose lease another heraldd took over, or whose job was cancelled, changes
 * nothing (STORE_NOT_FOUND: the caller rolls it back), a step after one
 * whose commit was reported failed but took effect starts where that one
 * ended, and a crash mid-step leaves the cursor where the last committed
 * step put it. So no chunk is sent twice. A step takes each task only with
 * the status the filter chose (else it is skipped), and on PostgreSQL locks
 * its tasks and their open manual entries without waiting, stopping its
 * chunk before the first another session holds (it never waits holding
 * locks another session, a bulk retry in another order, waits for).
 */
#ifndef HERALD_STORE_REDELIVERY_H
#define HERALD_STORE_REDELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redelivery.h"
#include "store.h"

#define STORE_REDELIVERY_TOKEN_SIZE 33

/* How many tasks FILTER matches with AFTER_ID < id <= THROUGH_ID. */
int store_redelivery_count(Store *store, const RedeliveryFilter *filter, int64_t after_id,
                           int64_t through_id, int64_t *count, char *err, size_t errlen);

/* The newest task's id (0: none). */
int store_task_newest_id(Store *store, int64_t *id, char *err, size_t errlen);

/* Inside a transaction: stores JOB (its filter, schedule, pace, reason,
 * actor, through_id and matched) as running; sets JOB's id and times.
 * STORE_NOT_FOUND, JOB's id set to it: a job with the same filter is
 * running (two would send each task twice; and a create whose commit was
 * reported failed but took effect is not made again by its retry). A
 * unique index backs this against two heraldd creating at once. */
StoreResult store_redelivery_create(Store *store, RedeliveryJob *job, int64_t now, char *err,
                                    size_t errlen);

/* Job ID into OUT (the caller clears it), with remaining counted. */
StoreResult store_redelivery_get(Store *store, int64_t id, RedeliveryJob *out, char *err,
                                 size_t errlen);

/* Up to LIMIT jobs with id < BEFORE, newest first, into a new array the
 * caller frees with store_redelivery_list_free (remaining not counted). */
int store_redelivery_list(Store *store, int64_t before, int limit, RedeliveryJob **out,
                          size_t *count, char *err, size_t errlen);
void store_redelivery_list_free(RedeliveryJob *jobs, size_t count);

/* Inside a transaction: cancels job ID if running (*CHANGED), by ACTOR.
 * STORE_NOT_FOUND: no such job. */
StoreResult store_redelivery_cancel(Store *store, int64_t id, const char *actor, int64_t now,
                                    bool *changed, char *err, size_t errlen);

/* Inside a transaction: takes the oldest running job no live lease holds,
 * for LEASE_MS on the database's clock under TOKEN, into OUT.
 * STORE_NOT_FOUND: none. */
StoreResult store_redelivery_claim(Store *store, const char *token, int64_t lease_ms,
                                   int64_t now, RedeliveryJob *out, char *err, size_t errlen);

/* A task a step sent again, for its action's span. */
typedef struct RedeliverySent {
    int64_t task_id;
    char business_type[TASK_BUSINESS_TYPE_MAX + 1];
    char traceparent[TASK_TRACEPARENT_SIZE]; /* its intake span ("": none) */
} RedeliverySent;

/* What a step did. HOSTS (owned, each strdup'ed) are the receivers of the
 * tasks it made due, SENT_TASKS (owned, SENT of them) the tasks it sent
 * again; store_redelivery_step_clear frees both. */
typedef struct RedeliveryStep {
    int64_t cursor_id; /* the job's cursor after it */
    int64_t sent;
    int64_t skipped;
    bool done; /* the job has no tasks left: it is done */
    char **hosts;
    size_t host_count;
    RedeliverySent *sent_tasks;
} RedeliveryStep;

void store_redelivery_step_clear(RedeliveryStep *step);

/* Inside a transaction: the next up to LIMIT tasks of JOB (as claimed under
 * TOKEN) after its cursor, each sent again (BUDGET_FOR gives a type's
 * max_retry for a full schedule), the cursor and counts moved on and the
 * lease renewed for LEASE_MS. STORE_NOT_FOUND: the job is no longer ours
 * (cancelled, done, or its lease taken over): nothing may be kept. */
StoreResult store_redelivery_step(Store *store, const RedeliveryJob *job, const char *token,
                                  int limit, int64_t lease_ms, int64_t now,
                                  int (*budget_for)(const char *business_type, void *argument),
                                  void *argument, RedeliveryStep *out, char *err,
                                  size_t errlen);

#endif
