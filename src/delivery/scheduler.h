/*
 * scheduler: the delivery thread ("herald-sched") and its database worker
 * ("herald-sched-db", scheduler_db.h).
 *
 * One thread drives one libcurl multi handle (connection reuse, many requests
 * in flight, no thread per request) and never runs a statement: it hands the
 * worker one turn at a time (the outcomes of finished requests to write, and
 * the due hosts to claim for) and starts the requests the worker claimed,
 * while transfers go on. It never has more than `concurrency` requests in
 * flight, nor more than `per_host_concurrency` to one scheme://host:port, so
 * a receiver that hangs only ever holds its own slots. It sleeps until the
 * next task is due (at most retry_interval) and is woken at once when intake
 * commits new tasks (scheduler_notify) or the worker is done. The worker
 * also sweeps ended leases and, on a database other heraldd share, looks for
 * the work they accepted: every second, and within milliseconds of a signal
 * from one of them (store_signal_*, sent by their beacon.c).
 *
 * With a systemd watchdog it sends WATCHDOG=1 from the transfer loop, and
 * only from it: a loop that stops turning gets the service restarted. The
 * lag /readyz reports is computed when asked from the due time of the work
 * waiting (metrics.h), so it is current even while the worker waits for the
 * database.
 *
 * At start it recovers tasks a crash left 'delivering' (their attempt is
 * logged as interrupted and they are due again, or in manual handling once
 * their budget is spent). At stop it claims nothing more, lets requests in
 * flight finish (each is bounded by its timeout) and records their outcomes,
 * retrying a failing write for up to SCHEDULER_STOP_WRITE_MS before it logs
 * the tasks it could not record (event=outcomes_unwritten: they are sent
 * again).
 *
 * Threads: scheduler_notify() may be called from any thread; its inbox is
 * guarded by Scheduler.lock. Everything else belongs to the scheduler thread.
 */
#ifndef HERALD_SCHEDULER_H
#define HERALD_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "deliver.h"
#include "policy.h"
#include "store.h"

typedef struct Scheduler Scheduler;

typedef struct SchedulerOptions {
    const StoreLocation *store_location; /* not owned; outlives the scheduler */
    const NetGuard *guard; /* which addresses may be connected to; not owned */
    int concurrency;
    int per_host_concurrency;
    /* The configuration and policies to use now, called on the scheduler
     * thread where they are used (a reload changes them): [delivery] timeout,
     * connect_timeout, max_response_bytes and ca_file for each request,
     * retry_interval for each sleep, lease_sweep_interval after each sweep. Each snapshot must stay valid while
     * deliveries use it. */
    const struct Config *(*config)(void);
    const PolicySet *(*policies)(void);
    int64_t watchdog_ms; /* send WATCHDOG=1 at least this often; 0 = no watchdog */
    /* This heraldd's id (roster.h), to tell its own signals from others'
     * (store_signal_take); not owned, outlives the scheduler. */
    const char *instance_id;
} SchedulerOptions;

/* Opens its connection, recovers interrupted tasks and learns which hosts
 * have work; delivers nothing until scheduler_run(). Returns the Scheduler
 * (the caller owns it: scheduler_stop), or NULL with a message in ERR. */
Scheduler *scheduler_start(const SchedulerOptions *options, char *err, size_t errlen);

/* Starts the delivery thread: the last step of a start-up, so that one that
 * fails on the way has no deliveries in flight to wait for. Returns 0, or -1
 * with ERR set. */
int scheduler_run(Scheduler *scheduler, char *err, size_t errlen);

/* An operator paused or resumed a receiver: the scheduler reads which are
 * paused (or have an open circuit) again (the claim passes over them
 * meanwhile). Thread-safe. */
void scheduler_refresh_paused(Scheduler *scheduler);

/* Tells the scheduler that tasks for HOSTS (COUNT of them, repeats allowed)
 * are due at DUE, and wakes it. Thread-safe. */
void scheduler_notify(Scheduler *scheduler, const char *const *hosts, size_t count, int64_t due);

/* Claims nothing more, waits for requests in flight, records them, joins the
 * thread (if it runs) and frees SCHEDULER. Safe if SCHEDULER is NULL. */
void scheduler_stop(Scheduler *scheduler);

#endif
