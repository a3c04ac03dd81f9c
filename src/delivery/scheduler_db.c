/*
 * scheduler_db: see scheduler_db.h.
 *
 * The worker sleeps in poll() on an eventfd (a turn submitted, or stop) and,
 * on a shared database, its connection's LISTEN socket, until the next timer
 * (the sweep, the look for others' work). It is the only user of its Store.
 */
#include "scheduler_db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fault.h"
#include "log.h"
#include "scheduler_rate.h"
#include "store_ordering.h"
#include "store_receivers.h"

/* On a database other heraldd share, how often to look for work they
 * accepted (a read of the hosts with pending tasks, one index seek each). */
#define SCHEDULER_DB_POLL_MS 1000
/* Another heraldd's signal brings that look forward, but not closer than
 * this to the last one. */
#define SCHEDULER_DB_SIGNAL_GAP_MS 10
/* The most ordering keys one sweep moves on (store_ordering_heal). */
#define SCHEDULER_DB_HEAL_KEYS 100
/* After a failed read of an unsure commit, how soon to read again. */
#define SCHEDULER_DB_READ_RETRY_MS 100

struct SchedulerDb {
    SchedulerDbOptions options;
    Store *store;
    pthread_t thread;
    bool running;
    int wake_fd; /* eventfd: a turn, or stop */

    pthread_mutex_t lock; /* guards turn, stopping and hurrying */
    SchedulerTurn *turn;  /* submitted, not yet run */
    bool stopping;
    bool hurrying; /* heraldd stops: a read-back does not wait out a lease */
    bool gates_stale; /* the gated receivers must be read again */
    RateBuckets buckets; /* the rate limits, when the database keeps none */

    int64_t next_sweep;    /* monotonic ms */
    int64_t next_poll;     /* monotonic ms; shared database only */
    int64_t last_poll;     /* monotonic ms */
    bool sweep_failing;    /* log a failing sweep once, not every interval */
};

/* Reports each host with pending work to the loop. */
static void scheduler_db_load_hosts(SchedulerDb *db)
{
    StoreHost *hosts;
    size_t count;
    char err[512];
    if (store_host_list_pending(db->store, &hosts, &count, err, sizeof err) != 0) {
        log_error("event=host_list_failed error=\"%s\"", err);
        return;
    }
    for (size_t i = 0; i < count; i++)
        db->options.on_host_due(db->options.argument, hosts[i].target_host, hosts[i].next_due);
    store_host_list_free(hosts, count);
}

static int scheduler_db_compare_gates(const void *a, const void *b)
{
    return strcmp(((const HostGate *)a)->key, ((const HostGate *)b)->key);
}

/* Reads the gated receivers (paused, or with an open circuit) and hands the
 * loop the whole list; on failure they are read again at the next turn of
 * the worker. */
static void scheduler_db_load_gates(SchedulerDb *db)
{
    pthread_mutex_lock(&db->lock);
    db->gates_stale = false;
    pthread_mutex_unlock(&db->lock);
    StoreGate *rows;
    size_t count;
    char err[512];
    if (store_gate_list(db->store, &rows, &count, err, sizeof err) == 0) {
        HostGate *gates = count > 0 ? calloc(count, sizeof *gates) : NULL;
        if (count == 0 || gates != NULL) {
            size_t gated = 0;
            for (size_t i = 0; i < count; i++) {
                if (!rows[i].paused && !rows[i].open)
                    continue; /* only counting failures */
                gates[gated++] = (HostGate){.key = rows[i].receiver,
                                            .paused = rows[i].paused,
                                            .open = rows[i].open,
                                            .probe_at = rows[i].next_probe_at};
            }
            /* strcmp's order, which a server's collation need not be. */
            if (gated > 1)
                qsort(gates, gated, sizeof *gates, scheduler_db_compare_gates);
            db->options.on_gates(db->options.argument, gates, gated);
            free(gates);
            store_gate_list_free(rows, count);
            return;
        }
        store_gate_list_free(rows, count);
        snprintf(err, sizeof err, "out of memory");
    }
    log_error("event=gate_list_failed error=\"%s\"", err);
    pthread_mutex_lock(&db->lock);
    db->gates_stale = true;
    pthread_mutex_unlock(&db->lock);
}

/* Logs what a rescue did. */
static void scheduler_db_log_rescue(const char *event, int recovered, int moved)
{
    if (recovered > 0)
        log_warning("event=%s tasks=%d moved_to_manual=%d", event, recovered, moved);
}

/* One rescue in a transaction of its own. Returns 0, or -1 with ERR. */
static int scheduler_db_rescue(SchedulerDb *db, StoreRescueScope scope, const char *event,
                               char *err, size_t errlen)
{
    int recovered = 0, moved = 0;
    int64_t healed = 0;
    if (store_begin(db->store, err, errlen) != 0)
        return -1;
    /* And the ordering keys a head ended without moving on (none should
     * be): their next tasks would wait for ever, not even shown blocked. */
    if (store_recover_interrupted(db->store, clock_now_ms(), scope, &recovered, &moved, err,
                                  errlen) != 0 ||
        store_ordering_heal(db->store, clock_now_ms(), SCHEDULER_DB_HEAL_KEYS, &healed, err,
                            errlen) != 0) {
        store_rollback(db->store);
        return -1;
    }
    if (store_commit(db->store, err, errlen) != 0)
        return -1;
    scheduler_db_log_rescue(event, recovered, moved);
    if (healed > 0)
        log_warning("event=ordering_keys_healed keys=%lld detail=\"their heads had ended without "
                    "letting the next task go; it goes now\"", (long long)healed);
    return 0;
}

/* The claims of TURN, inside its transaction. */
static int scheduler_db_claim(SchedulerDb *db, SchedulerTurn *turn, char *err, size_t errlen)
{
    size_t filled = 0;
    for (size_t i = 0; i < turn->claim_count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        claim->first = filled;
        claim->count = 0;
        claim->next_due = INT64_MAX;
        if (task_generate_claim_token(claim->token) != 0) {
            snprintf(err, errlen, "claim: the kernel's random source failed");
            return -1;
        }
        size_t before = filled;
        size_t allowed = scheduler_rate_allowed(claim);
        /* All of the host's claims or none (store_claim_due cleans up after itself). */
        int claimed = allowed == 0 ? 0
                      : claim->probe
                          ? store_claim_probe(db->store, claim->host_key, turn->now,
                                              turn->lease_ms, claim->token, turn->tasks, &filled,
                                              err, errlen)
                          : store_claim_due(db->store, claim->host_key, turn->now, turn->lease_ms,
                                            claim->token, allowed, turn->tasks, &filled, err,
                                            errlen);
        if (claimed != 0)
            return -1;
        claim->count = filled - before;
        if (store_host_next_due(db->store, claim->host_key, &claim->next_due, err, errlen) ==
            STORE_ERROR)
            return -1;
        /* Fewer than asked: perhaps another heraldd's Retry-After holds it. */
        claim->held_ms = 0;
        if (claim->count < allowed && store_is_shared(db->store) &&
            store_receiver_held(db->store, claim->host_key, &claim->held_ms, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Forgets the claims of a turn that did not commit. */
static void scheduler_db_drop_claims(SchedulerTurn *turn)
{
    for (size_t i = 0; i < turn->claim_count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        for (size_t j = 0; j < claim->count; j++)
            task_clear(&turn->tasks[claim->first + j]);
        claim->count = 0;
        claim->next_due = INT64_MAX;
    }
}

/* After a COMMIT that failed: did it take effect? Reads back what only the
 * committed transaction leaves: a claim's fresh token in its tasks, or the
 * token of an outcome that applied (one the transaction did not find fenced)
 * gone from its task. An outcome already fenced when the turn ran says
 * nothing (its token was gone before), and a turn that changed nothing
 * (every outcome fenced, nothing claimed) needs no reading. Retries the read
 * until the claims' lease would have ended (then any heraldd's sweep owns
 * them, whatever happened) or the worker stops. Returns true if it committed. */
static bool scheduler_db_read_back(SchedulerDb *db, SchedulerTurn *turn)
{
    const SchedulerClaim *claim = NULL;
    for (size_t i = 0; i < turn->claim_count && claim == NULL; i++)
        if (turn->claims[i].count > 0)
            claim = &turn->claims[i];
    const AttemptOutcome *applied = NULL;
    for (size_t i = 0; i < turn->outcome_count && applied == NULL && claim == NULL; i++)
        if (!turn->outcomes[i].fenced)
            applied = &turn->outcomes[i];
    if (claim == NULL && applied == NULL)
        return true; /* it wrote nothing: committed or not, the same */
    int64_t give_up = clock_monotonic_ms() + turn->lease_ms;
    char err[512];
    for (;;) {
        int64_t count = 0;
        int read = claim != NULL
                       ? store_claim_count(db->store, claim->token, 0, &count, err, sizeof err)
                       : store_claim_count(db->store, applied->claim_token,
                                           applied->attempt.task_id, &count, err, sizeof err);
        if (read == 0) {
            bool committed = claim != NULL ? count > 0 : count == 0;
            log_warning("event=commit_read_back committed=%s detail=\"the COMMIT failed; "
                        "whether it took effect was read back\"",
                        committed ? "yes" : "no");
            return committed;
        }
        pthread_mutex_lock(&db->lock);
        bool stopping = db->stopping || db->hurrying;
        pthread_mutex_unlock(&db->lock);
        if (stopping || clock_monotonic_ms() >= give_up) {
            log_error("event=commit_unknown error=\"%s\" detail=\"left to the lease sweep\"",
                      err);
            return false;
        }
        poll(NULL, 0, SCHEDULER_DB_READ_RETRY_MS);
    }
}

/* Runs TURN: one transaction, then its results. */
static void scheduler_db_run_turn(SchedulerDb *db, SchedulerTurn *turn)
{
    turn->committed = false;
    turn->fenced = 0;
    turn->err[0] = '\0';
    for (size_t i = 0; i < turn->claim_count; i++)
        turn->claims[i].count = 0;
    char *err = turn->err;
    size_t errlen = sizeof turn->err;
    scheduler_rate_share_holds(db->store, turn);
    if (scheduler_rate_take(db->store, &db->buckets, turn, err, errlen) != 0)
        return;
    if (store_begin(db->store, err, errlen) != 0) {
        scheduler_rate_settle(db->store, &db->buckets, turn);
        return;
    }
    if (store_record_outcomes(db->store, turn->outcomes, turn->outcome_count, turn->now,
                              &turn->fenced, err, errlen) != 0 ||
        scheduler_db_claim(db, turn, err, errlen) != 0) {
        store_rollback(db->store);
        scheduler_db_drop_claims(turn);
        scheduler_rate_settle(db->store, &db->buckets, turn);
        return;
    }
    bool committed = store_commit(db->store, err, errlen) == 0 || scheduler_db_read_back(db, turn);
    if (!committed)
        scheduler_db_drop_claims(turn);
    scheduler_rate_settle(db->store, &db->buckets, turn);
    if (committed) {
        turn->committed = true;
        /* A circuit opened or closed, or its next probe moved: the loop
         * learns it before its next turn (scheduler_db_main reads them). */
        for (size_t i = 0; i < turn->outcome_count; i++)
            if (turn->outcomes[i].breaker_change != ATTEMPT_BREAKER_KEPT) {
                pthread_mutex_lock(&db->lock);
                db->gates_stale = true;
                pthread_mutex_unlock(&db->lock);
                break;
            }
        return;
    }
}

/* Reads the signals of other heraldd: one brings the next look for their
 * work forward. */
static void scheduler_db_take_signals(SchedulerDb *db, int64_t monotonic)
{
    bool signalled = false;
    char err[320];
    if (store_signal_take(db->store, db->options.instance_id, &signalled, err, sizeof err) != 0)
        log_debug("event=signals_lost error=\"%s\"", err); /* pg.c logs the outage itself */
    int64_t soonest = db->last_poll + SCHEDULER_DB_SIGNAL_GAP_MS;
    if (signalled && soonest < db->next_poll)
        db->next_poll = soonest > monotonic ? soonest : monotonic;
}

/* The sweep and the look for others' work, when due. */
static void scheduler_db_run_timers(SchedulerDb *db, int64_t monotonic)
{
    bool shared = store_is_shared(db->store);
    if (monotonic >= db->next_sweep) {
        db->next_sweep = monotonic + db->options.config()->lease_sweep_interval_ms;
        char err[512];
        if (scheduler_db_rescue(db, STORE_RESCUE_EXPIRED, "leases_expired", err, sizeof err) !=
            0) {
            if (!db->sweep_failing)
                log_error("event=lease_sweep_failed error=\"%s\"", err);
            db->sweep_failing = true;
        } else {
            db->sweep_failing = false;
            /* Tasks rescued, or made due behind our back, are found here; and
             * the gated receivers again (a change whose reply was lost). */
            scheduler_db_load_gates(db);
            scheduler_db_load_hosts(db);
            db->last_poll = monotonic;
            db->next_poll = monotonic + SCHEDULER_DB_POLL_MS;
        }
    }
    pthread_mutex_lock(&db->lock);
    bool stale = db->gates_stale;
    pthread_mutex_unlock(&db->lock);
    if (shared && monotonic >= db->next_poll) {
        db->last_poll = monotonic;
        db->next_poll = monotonic + SCHEDULER_DB_POLL_MS;
        scheduler_db_load_gates(db); /* another heraldd's pause or circuit, before their work */
        scheduler_db_load_hosts(db);
    } else if (stale) {
        scheduler_db_load_gates(db);
    }
}

/* Sleeps until a turn or stop (the eventfd), a signal from another heraldd,
 * or the next timer. */
static void scheduler_db_wait(SchedulerDb *db, int64_t monotonic)
{
    int64_t wait = db->next_sweep - monotonic;
    bool shared = store_is_shared(db->store);
    if (shared && db->next_poll - monotonic < wait)
        wait = db->next_poll - monotonic;
    if (wait < 0)
        wait = 0;
    struct pollfd fds[2] = {{.fd = db->wake_fd, .events = POLLIN},
                            {.fd = shared ? store_signal_fd(db->store) : -1, .events = POLLIN}};
    if (poll(fds, fds[1].fd >= 0 ? 2 : 1, (int)(wait > 1000 ? 1000 : wait)) < 0 &&
        errno != EINTR)
        log_error("event=poll_failed error=\"%s\"", strerror(errno));
    if (fds[0].revents & POLLIN) {
        uint64_t value;
        if (read(db->wake_fd, &value, sizeof value) < 0 && errno != EAGAIN)
            log_error("event=wake_read_failed error=\"%s\"", strerror(errno));
    }
}

static void *scheduler_db_main(void *argument)
{
    SchedulerDb *db = argument;
    pthread_setname_np(pthread_self(), "herald-sched-db");
    fault_set_role("scheduler");
    for (;;) {
        pthread_mutex_lock(&db->lock);
        SchedulerTurn *turn = db->turn;
        db->turn = NULL;
        bool stopping = db->stopping;
        pthread_mutex_unlock(&db->lock);
        if (turn != NULL) {
            scheduler_db_run_turn(db, turn);
            db->options.on_turn_done(db->options.argument);
        } else if (stopping) {
            break;
        }
        /* After a turn too: under load the next turn is handed over at once,
         * and the sweep and the look for other instances' work must not wait
         * for a lull. */
        int64_t monotonic = clock_monotonic_ms();
        if (store_is_shared(db->store))
            scheduler_db_take_signals(db, monotonic);
        scheduler_db_run_timers(db, monotonic);
        if (turn == NULL)
            scheduler_db_wait(db, clock_monotonic_ms());
    }
    return NULL;
}

static void scheduler_db_wake(SchedulerDb *db)
{
    uint64_t one = 1;
    if (write(db->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("event=wake_failed error=\"%s\"", strerror(errno));
}

void scheduler_db_refresh_paused(SchedulerDb *db)
{
    pthread_mutex_lock(&db->lock);
    db->gates_stale = true;
    pthread_mutex_unlock(&db->lock);
    scheduler_db_wake(db);
}

void scheduler_db_hurry(SchedulerDb *db)
{
    pthread_mutex_lock(&db->lock);
    db->hurrying = true;
    pthread_mutex_unlock(&db->lock);
}

void scheduler_db_submit(SchedulerDb *db, SchedulerTurn *turn)
{
    pthread_mutex_lock(&db->lock);
    db->turn = turn;
    pthread_mutex_unlock(&db->lock);
    scheduler_db_wake(db);
}

static void scheduler_db_free(SchedulerDb *db)
{
    store_close(db->store);
    rate_buckets_free(&db->buckets);
    if (db->wake_fd >= 0)
        close(db->wake_fd);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

SchedulerDb *scheduler_db_start(const SchedulerDbOptions *options, char *err, size_t errlen)
{
    SchedulerDb *db = calloc(1, sizeof *db);
    if (db == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&db->lock, NULL);
    db->options = *options;
    db->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (db->wake_fd < 0) {
        snprintf(err, errlen, "cannot create an eventfd: %s", strerror(errno));
        goto fail;
    }
    StoreOptions store_options = {.durability = STORE_DURABILITY_REPLAYABLE,
                                  .application_name = "heraldd/sched"};
    db->store = store_open(options->store_location, &store_options, err, errlen);
    if (db->store == NULL)
        goto fail;
    /* Start-up recovery of tasks a crash left in flight: all of them when this
     * heraldd has the database to itself; on a shared one, only those whose
     * lease ended (the others may be another heraldd's deliveries under way). */
    bool shared = store_is_shared(db->store);
    if (scheduler_db_rescue(db, shared ? STORE_RESCUE_EXPIRED : STORE_RESCUE_ALL,
                            "recovered_interrupted", err, errlen) != 0)
        goto fail;
    char listen_err[320];
    if (shared && store_signal_listen(db->store, listen_err, sizeof listen_err) != 0)
        log_warning("event=listen_failed error=\"%s\"", listen_err); /* again on reconnecting */
    scheduler_db_load_gates(db); /* before the hosts: no claim for a gated one */
    scheduler_db_load_hosts(db);
    int64_t monotonic = clock_monotonic_ms();
    db->next_sweep = monotonic + options->config()->lease_sweep_interval_ms;
    db->last_poll = monotonic;
    db->next_poll = monotonic + SCHEDULER_DB_POLL_MS;
    return db;
fail:
    scheduler_db_free(db);
    return NULL;
}

int scheduler_db_run(SchedulerDb *db, char *err, size_t errlen)
{
    int rc = pthread_create(&db->thread, NULL, scheduler_db_main, db);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the scheduler's database thread: %s", strerror(rc));
        return -1;
    }
    db->running = true;
    return 0;
}

void scheduler_db_stop(SchedulerDb *db)
{
    if (db == NULL)
        return;
    if (db->running) {
        pthread_mutex_lock(&db->lock);
        db->stopping = true;
        pthread_mutex_unlock(&db->lock);
        scheduler_db_wake(db);
        pthread_join(db->thread, NULL);
    }
    scheduler_db_free(db);
}
