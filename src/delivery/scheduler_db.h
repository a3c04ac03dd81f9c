/*
 * scheduler_db: the scheduler's database work, on a thread of its own
 * ("herald-sched-db"), so that the thread driving the transfers
 * (scheduler.c, "herald-sched") never waits for a statement.
 *
 * The transfer loop hands it one SchedulerTurn at a time: the outcomes to
 * write and the hosts to claim for, each with a limit (and a rate). The
 * worker takes the rate-limited hosts' tokens and shares new Retry-After
 * holds first, each in a statement of its own (scheduler_rate.h), then runs
 * the turn as one transaction (outcomes first, then the claims, each followed
 * by a read of the host's next due time), and reports back through the
 * on_turn_done callback (which wakes the loop); the loop then starts the
 * claimed requests. Meanwhile the loop goes on driving transfers and
 * collecting outcomes for the next turn.
 *
 * A turn whose COMMIT failed may have committed all the same (the reply was
 * lost with the connection). The worker does not guess: it reads whether the
 * transaction's claim tokens (or, without claims, its first outcome's token)
 * are in the database, retrying the read until the claims' lease would have
 * ended anyway, and reports what it found.
 *
 * On its own, the worker also runs what no turn asks for: the lease sweep
 * every [delivery] lease_sweep_interval (its own transaction), and on a
 * shared database the look for work other heraldd accepted (every second, and
 * within milliseconds of a signal from one of them: it polls its connection's
 * LISTEN socket). What those find is passed to the loop as notices through
 * on_hosts_due, like intake's. It also reads which receivers are gated (an
 * operator paused them, or their circuit breaker is open): at start, when
 * asked (scheduler_db_refresh_paused, after a pause or resume here), after a
 * turn whose outcomes opened or closed a circuit or failed a probe, at each
 * lease sweep and, on a shared database, every second (another heraldd's),
 * and passes the whole list through on_gates. The claim itself passes over
 * a gated receiver's tasks; the list spares the loop asking, and tells it
 * when an open circuit's next probe is due (a claim with probe set:
 * store_claim_probe).
 *
 * Threads: scheduler_db_submit and scheduler_db_stop are called by the loop;
 * a SchedulerTurn belongs to the worker from submit until on_turn_done, and
 * to the loop otherwise. The callbacks run on the worker thread.
 */
#ifndef HERALD_SCHEDULER_DB_H
#define HERALD_SCHEDULER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "host_table.h"
#include "rate_limit.h"
#include "store.h"
#include "task.h"

struct Config;

/* One host's claim in a turn. */
typedef struct SchedulerClaim {
    void *host;        /* the loop's (host_table.h); never touched by the worker */
    char *host_key;    /* owned by the turn (strdup) */
    size_t limit;      /* claim at most this many */
    bool probe;        /* the host's circuit is open: its probe (limit 1) */
    int64_t due;       /* the host's due time when asked (for the lag meanwhile) */
    RateLimit rate;    /* its [receiver.PATTERN] rate_limit; interval_us 0: none */
    /* Results: tasks[first .. first + count) of the turn, and the host's next
     * due time after the claim (HOST_TABLE_IDLE-like INT64_MAX: none). */
    size_t first;
    size_t count;
    int64_t next_due;
    /* With a rate: the tokens taken for it (scheduler_rate.h; at most this
     * many claimed), and how long until the next is free. */
    size_t granted;
    int64_t wait_ms;
    bool rate_local; /* taken from the worker's own buckets, not the database's */
    int64_t rate_stamp_us; /* the database's clock at the take (its give-back checks it) */
    int64_t rate_taken_ms; /* monotonic: when the tokens were taken */
    int64_t held_ms; /* left of the receiver's hold (any heraldd's Retry-After) */
    char token[TASK_CLAIM_TOKEN_SIZE];
} SchedulerClaim;

typedef struct SchedulerTurn {
    int64_t now;      /* herald time when the loop built it */
    int64_t lease_ms; /* each claim's lease */
    AttemptOutcome *outcomes; /* not owned: the loop's, untouched until done */
    size_t outcome_count;
    SchedulerClaim *claims;   /* not owned */
    size_t claim_count;
    Task *tasks;              /* room for the sum of the claims' limits; filled */
    /* Results. */
    bool committed;           /* the transaction took effect (read back if unsure) */
    size_t fenced;            /* outcomes fenced off (AttemptOutcome.fenced) */
    char err[512];            /* why not, if !committed */
} SchedulerTurn;

typedef struct SchedulerDbOptions {
    const StoreLocation *store_location; /* not owned; outlives the worker */
    const char *instance_id;             /* not owned; to tell its own signals */
    const struct Config *(*config)(void); /* lease_sweep_interval */
    /* Called on the worker thread when a submitted turn is done. */
    void (*on_turn_done)(void *argument);
    /* Called on the worker thread with a host that has pending work due at DUE
     * (a sweep, or another heraldd's work). */
    void (*on_host_due)(void *argument, const char *host, int64_t due);
    /* Called on the worker thread with every gated receiver (sorted by key). */
    void (*on_gates)(void *argument, const HostGate *gates, size_t count);
    void *argument;
} SchedulerDbOptions;

typedef struct SchedulerDb SchedulerDb;

/* Opens the connection, recovers the tasks a crash left in flight (all of
 * them when this heraldd has the database alone; on a shared one those whose
 * lease ended) and reports every host with pending work through on_host_due.
 * The thread starts with scheduler_db_run. Returns NULL with ERR. */
SchedulerDb *scheduler_db_start(const SchedulerDbOptions *options, char *err, size_t errlen);

/* Starts the worker thread. Returns 0, or -1 with ERR. */
int scheduler_db_run(SchedulerDb *db, char *err, size_t errlen);

/* Hands TURN to the worker (at most one at a time). */
void scheduler_db_submit(SchedulerDb *db, SchedulerTurn *turn);

/* Asks the worker to read the gated receivers (paused, or with an open
 * circuit) again soon (a pause or resume was committed). Thread-safe. */
void scheduler_db_refresh_paused(SchedulerDb *db);

/* heraldd is stopping: turns are still run, but a read-back that cannot
 * reach the database gives up at once instead of retrying for a lease (what
 * it could not tell is left to the next start or another heraldd's sweep). */
void scheduler_db_hurry(SchedulerDb *db);

/* Stops the worker (after the turn it holds, if any), joins it and frees DB.
 * Safe with NULL. */
void scheduler_db_stop(SchedulerDb *db);

#endif
