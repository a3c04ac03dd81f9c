/*
 * redeliverer: the thread ("herald-redeliver") that works redelivery jobs
 * (redelivery.h, store_redelivery.h) on every heraldd.
 *
 * It claims the oldest running job no live lease holds (any heraldd may,
 * so a job goes on after its heraldd stops, crashes or loses its
 * database), then steps it: up to a chunk of the job's tasks after its
 * cursor, each sent again, in one transaction through the intake writer
 * that also moves the cursor on and renews the lease, conditional on the
 * claim's token. Between steps it waits as long as the job's pace asks
 * (chunk / pace seconds; a chunk is at most a second's worth). A step the
 * database refuses (the job cancelled, or taken over after this heraldd's
 * lease ended) ends its hold; a step that failed is tried again after a
 * second (each step starts from the cursor the database has, which an
 * unsure commit may have moved on: store_redelivery_step). It
 * tells the scheduler of the receivers whose tasks it made due. Without a
 * job it looks again every REDELIVERER_POLL_MS, or at once when woken (a
 * job created here).
 */
#ifndef HERALD_REDELIVERER_H
#define HERALD_REDELIVERER_H

#include <stddef.h>
#include <stdint.h>

#include "intake.h"
#include "policy.h"
#include "store.h"

#define REDELIVERER_POLL_MS 2000
#define REDELIVERER_LEASE_MS 10000
#define REDELIVERER_CHUNK_MAX 100

typedef struct RedelivererOptions {
    Intake *intake;                      /* its reads and writes; not owned, outlives it */
    const PolicySet *(*policies)(void);  /* a full schedule's max_retry per type */
    /* Receivers whose tasks a step made due (on this thread). */
    void (*on_tasks_due)(void *argument, const char *const *hosts, size_t count, int64_t due);
    void *argument;
} RedelivererOptions;

typedef struct Redeliverer Redeliverer;

/* Starts the thread. NULL with ERR. */
Redeliverer *redeliverer_start(const RedelivererOptions *options, char *err, size_t errlen);

/* A job was created: look now. Any thread. */
void redeliverer_wake(Redeliverer *redeliverer);

/* Stops the thread after the step under way (its lease lapses; another
 * heraldd, or this one's next start, takes the job on). redeliverer_wake
 * may still be called until redeliverer_free. Safe with NULL. */
void redeliverer_stop(Redeliverer *redeliverer);

/* Frees a stopped REDELIVERER, once nothing can wake it. Safe with NULL. */
void redeliverer_free(Redeliverer *redeliverer);

#endif
