/*
 * scheduler: see scheduler.h.
 *
 * One turn of the loop:
 *   1. read finished transfers into outcomes (and free their slots)
 *   2. if the database worker finished a turn: log its outcomes, start the
 *      requests it claimed, settle each host's due time; or, if the turn did
 *      not commit, keep its outcomes for the next and free its reservations
 *   3. take the inbox (hosts with new tasks), unless a turn is out
 *   4. if no turn is out: hand the worker the outcomes waiting and the due
 *      hosts to claim for (scheduler_db.h), reserving their slots
 *   5. publish the heartbeat and the lag; sleep in curl_multi_poll until a
 *      transfer moves, a wake-up (the worker, intake), or the next due time
 * No statement runs on this thread, so a slow database never holds up a
 * transfer; a failed write is retried with a backoff (SCHEDULER_WRITE_RETRY_MS
 * doubling to SCHEDULER_WRITE_RETRY_MAX_MS), its outcomes kept in memory
 * and the tasks 'delivering' meanwhile.
 */
#include "scheduler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "config.h"
#include "host_table.h"
#include "log.h"
#include "metrics.h"
#include "outcome_list.h"
#include "receivers.h"
#include "scheduler_db.h"

/* After a failed write, how soon to try again; doubling up to the max. */
#define SCHEDULER_WRITE_RETRY_MS 100
#define SCHEDULER_WRITE_RETRY_MAX_MS 2000
/* At stop, how long outcomes that cannot be written are retried before
 * heraldd gives up on them (and logs their tasks, which the next start or
 * another heraldd's sweep will send again). */
#define SCHEDULER_STOP_WRITE_MS 10000

typedef struct SchedulerNotice {
    char *host;
    int64_t due;
} SchedulerNotice;

struct Scheduler {
    SchedulerOptions options;
    SchedulerDb *db;
    CURLM *multi;
    pthread_t thread;
    bool running; /* the thread was started (scheduler_run) */
    HostTable hosts;

    pthread_mutex_t lock; /* guards the inbox, stopping and turn_done */
    SchedulerNotice *inbox;
    size_t inbox_count;
    size_t inbox_capacity;
    GateMailbox gates; /* the receivers paused or with an open circuit, from the worker */
    bool stopping;
    bool turn_done; /* the worker finished the turn it was given */

    Delivery *slots;      /* concurrency of them */
    Delivery **free_slots;
    size_t free_count;
    int in_flight;
    OutcomeList waiting;  /* finished, not yet handed to the worker */
    OutcomeList writing;  /* the turn's, with the worker */
    SchedulerTurn turn;
    bool turn_out;        /* the worker has the turn */
    SchedulerClaim *claims; /* concurrency of them: one turn's hosts */
    Task *claimed;          /* concurrency of them: one turn's claimed tasks */
    bool write_failing;     /* log a failing write once, not every turn */
    int64_t write_backoff;  /* ms */
    int64_t next_write;     /* monotonic ms: after a failure, not before this */
    int64_t stop_deadline;  /* monotonic ms; 0: not stopping */
    int64_t next_receivers; /* monotonic ms: the per-receiver gauges */
    int64_t next_watchdog;  /* monotonic ms */
    int64_t running_since;  /* herald time the loop started */
    uint64_t random_state;
};

/* xorshift64*: jitter needs spread, not secrecy. */
static double scheduler_random_unit(Scheduler *scheduler)
{
    uint64_t x = scheduler->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    scheduler->random_state = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

void scheduler_notify(Scheduler *scheduler, const char *const *hosts, size_t count, int64_t due)
{
    int64_t noticed = clock_now_ms();
    pthread_mutex_lock(&scheduler->lock);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(hosts[i], hosts[i - 1]) == 0)
            continue; /* batches often repeat one host */
        if (scheduler->inbox_count == scheduler->inbox_capacity) {
            size_t capacity = scheduler->inbox_capacity ? scheduler->inbox_capacity * 2 : 64;
            SchedulerNotice *grown = realloc(scheduler->inbox, capacity * sizeof *grown);
            if (grown == NULL)
                break; /* the host's tasks are found by its next notice or the next sweep */
            scheduler->inbox = grown;
            scheduler->inbox_capacity = capacity;
        }
        char *copy = strdup(hosts[i]);
        if (copy == NULL)
            break;
        scheduler->inbox[scheduler->inbox_count++] = (SchedulerNotice){copy, due};
        /* Waiting from now (or when due), even while the loop leaves the inbox
         * alone: a notice of old work is not lag of this scheduler's. */
        metrics_note_unseen_due(due > noticed ? due : noticed);
    }
    pthread_mutex_unlock(&scheduler->lock);
    curl_multi_wakeup(scheduler->multi);
}

/* The worker's notices: one host at a time. */
static void scheduler_note_host(void *argument, const char *host, int64_t due)
{
    scheduler_notify(argument, &host, 1, due);
}

/* The worker's list of gated receivers. */
static void scheduler_note_gates(void *argument, const HostGate *gates, size_t count)
{
    Scheduler *scheduler = argument;
    if (gate_mailbox_post(&scheduler->gates, gates, count) == 0)
        curl_multi_wakeup(scheduler->multi);
}

void scheduler_refresh_paused(Scheduler *scheduler)
{
    scheduler_db_refresh_paused(scheduler->db);
}

static void scheduler_turn_done(void *argument)
{
    Scheduler *scheduler = argument;
    pthread_mutex_lock(&scheduler->lock);
    scheduler->turn_done = true;
    pthread_mutex_unlock(&scheduler->lock);
    curl_multi_wakeup(scheduler->multi);
}

/* Moves the inbox into the host table: first which receivers are gated,
 * then the hosts with new work. */
static void scheduler_take_inbox(Scheduler *scheduler)
{
    if (gate_mailbox_apply(&scheduler->gates, &scheduler->hosts))
        scheduler->next_receivers = 0; /* shown now, not after the next long sleep */
    pthread_mutex_lock(&scheduler->lock);
    SchedulerNotice *notices = scheduler->inbox;
    size_t count = scheduler->inbox_count;
    scheduler->inbox = NULL;
    scheduler->inbox_count = 0;
    scheduler->inbox_capacity = 0;
    metrics_clear_unseen_due(); /* under the lock: no notice slips between */
    pthread_mutex_unlock(&scheduler->lock);
    for (size_t i = 0; i < count; i++) {
        Host *host = host_table_get(&scheduler->hosts, notices[i].host);
        if (host != NULL)
            host_table_note_due(&scheduler->hosts, host, notices[i].due);
        free(notices[i].host);
    }
    free(notices);
}

/* Turns finished transfers into outcomes and frees their slots. */
static void scheduler_collect_finished(Scheduler *scheduler)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(scheduler->multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL *easy = message->easy_handle;
        CURLcode result = message->data.result; /* read before the handle goes */
        char *private_pointer = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_pointer);
        Delivery *delivery = (Delivery *)private_pointer;
        curl_multi_remove_handle(scheduler->multi, easy);
        AttemptOutcome *outcome = outcome_list_add(&scheduler->waiting);
        if (outcome != NULL) {
            deliver_finish(delivery, result, clock_now_ms(), scheduler_random_unit(scheduler),
                           outcome);
            /* Logged once written (scheduler_finish_turn): it may yet be fenced. */
            const char *error_class = outcome->attempt.error_class;
            metrics_count_delivery(error_class[0] ? error_class : "success",
                                   outcome->attempt.duration_ms);
        } else {
            /* No memory to remember it: the lease will bring the task back. */
            log_error("event=outcome_lost task_id=%lld error=\"out of memory\"",
                      (long long)delivery->task.id);
        }
        Host *host = delivery->owner;
        /* A hold (Retry-After) is shown at once, not after a sleep as long. */
        if (outcome != NULL &&
            receivers_judge(&scheduler->hosts, host, outcome, delivery->retry_after_ms,
                            scheduler->options.policies(), scheduler->options.config()))
            scheduler->next_receivers = 0;
        host_table_add_in_flight(&scheduler->hosts, host, -1);
        deliver_release(delivery);
        scheduler->free_slots[scheduler->free_count++] = delivery;
        scheduler->in_flight--;
    }
}

/* Starts the request for TASK (whose ownership passes on) to HOST, whose
 * slot the turn reserved. Returns whether it started. */
static bool scheduler_start_transfer(Scheduler *scheduler, Task *task, Host *host, int64_t now,
                                     const DeliverOptions *deliver)
{
    Delivery *delivery = scheduler->free_slots[--scheduler->free_count];
    const Policy *policy = policy_set_find(scheduler->options.policies(), task->business_type);
    if (task->attempts == 1)
        metrics_observe_first_attempt_lag(now - task->created_at);
    char err[256];
    int prepared = deliver_prepare(delivery, task, policy, deliver, now, err, sizeof err);
    delivery->owner = host;
    CURLMcode code = CURLM_OK;
    if (prepared == 0)
        code = curl_multi_add_handle(scheduler->multi, delivery->easy);
    if (prepared != 0 || code != CURLM_OK) {
        /* Cannot even start: give the task back through the lease. */
        log_error("event=request_not_started task_id=%lld error=\"%s\"",
                  (long long)delivery->task.id, prepared != 0 ? err : curl_multi_strerror(code));
        deliver_release(delivery);
        scheduler->free_slots[scheduler->free_count++] = delivery;
        return false;
    }
    scheduler->in_flight++;
    return true;
}

/* A claim's lease: twice the longest timeout and a margin (policy.c) and, on
 * PostgreSQL, [storage] failover_grace: a shorter failover ends before the
 * leases in flight, so no other heraldd takes those tasks for abandoned. */
static int64_t scheduler_lease_ms(const Scheduler *scheduler)
{
    const Config *config = scheduler->options.config();
    int64_t lease = policy_set_lease_ms(scheduler->options.policies(), config->delivery_timeout_ms);
    if (scheduler->options.store_location->kind == STORE_BACKEND_POSTGRESQL)
        lease += config->failover_grace_ms;
    return lease;
}
/* Hands the worker a turn: the outcomes waiting, and the due hosts to claim
 * for, earliest due first, each up to its free slots. Each host's slots are
 * reserved now (counted in flight, so it leaves the heap when full) and it
 * leaves the heap until the turn is back. */
static void scheduler_submit_turn(Scheduler *scheduler, int64_t now, bool may_claim)
{
    if (scheduler->write_failing && clock_monotonic_ms() < scheduler->next_write)
        return;
    const Config *config = scheduler->options.config();
    size_t room = (size_t)(scheduler->options.concurrency - scheduler->in_flight);
    size_t reserved = 0, count = 0;
    Host *host;
    while (may_claim && reserved < room && (host = host_table_peek(&scheduler->hosts)) != NULL &&
           host_ready_at(host) <= now) {
        size_t limit = (size_t)(host_table_limit(&scheduler->hosts, host) - host_in_flight(host));
        if (limit > room - reserved)
            limit = room - reserved;
        SchedulerClaim *claim = &scheduler->claims[count];
        memset(claim, 0, sizeof *claim);
        claim->host_key = strdup(host_key(host));
        if (claim->host_key == NULL)
            break; /* the rest next turn */
        claim->host = host;
        claim->limit = limit;
        claim->probe = host_open(host);
        receivers_limit_claim(config, claim); /* a rate limit claims a burst at most */
        limit = claim->limit;
        claim->due = host_ready_at(host); /* past a hold, the lag counts from its end */
        host_table_add_in_flight(&scheduler->hosts, host, (int)limit);
        host_table_set_due(&scheduler->hosts, host, HOST_TABLE_IDLE);
        reserved += limit;
        count++;
    }
    if (count == 0 && scheduler->waiting.count == 0)
        return;
    OutcomeList swap = scheduler->writing; /* empty: no turn is out */
    scheduler->writing = scheduler->waiting;
    scheduler->waiting = swap;
    scheduler->turn = (SchedulerTurn){
        .now = now,
        /* Per turn: a reload may change the timeouts. */
        .lease_ms = scheduler_lease_ms(scheduler),
        .outcomes = scheduler->writing.items,
        .outcome_count = scheduler->writing.count,
        .claims = scheduler->claims,
        .claim_count = count,
        .tasks = scheduler->claimed,
    };
    scheduler->turn_out = true;
    scheduler_db_submit(scheduler->db, &scheduler->turn);
}

/* The worker is done with the turn: logs its outcomes (or keeps them for the
 * next turn), starts the requests it claimed, and settles each host's due
 * time and reserved slots. Returns how many requests were started. */
static int scheduler_finish_turn(Scheduler *scheduler, int64_t now)
{
    SchedulerTurn *turn = &scheduler->turn;
    scheduler->turn_out = false;
    if (turn->committed) {
        if (scheduler->write_failing)
            log_info("event=scheduler_write_recovered");
        scheduler->write_failing = false;
        scheduler->write_backoff = SCHEDULER_WRITE_RETRY_MS;
        for (size_t i = 0; i < scheduler->writing.count; i++)
            deliver_log_outcome(&scheduler->writing.items[i], now);
        receivers_note_written(&scheduler->hosts, scheduler->writing.items,
                               scheduler->writing.count, now);
        if (turn->fenced > 0) /* their leases ended first: delivered again, same id */
            log_warning("event=outcomes_fenced tasks=%zu reason=\"the claim's lease ended before "
                        "its outcome was written\"", turn->fenced);
        outcome_list_clear(&scheduler->writing);
    } else {
        if (!scheduler->write_failing) {
            char quoted[600];
            log_error("event=scheduler_write_failed error=%s outcomes_waiting=%zu",
                      log_quote(quoted, sizeof quoted, turn->err),
                      scheduler->writing.count + scheduler->waiting.count);
        }
        scheduler->write_failing = true;
        scheduler->next_write = clock_monotonic_ms() + scheduler->write_backoff;
        scheduler->write_backoff *= 2;
        if (scheduler->write_backoff > SCHEDULER_WRITE_RETRY_MAX_MS)
            scheduler->write_backoff = SCHEDULER_WRITE_RETRY_MAX_MS;
        /* First what was tried, then what finished since, in order. */
        if (outcome_list_move(&scheduler->writing, &scheduler->waiting) == 0) {
            OutcomeList swap = scheduler->waiting;
            scheduler->waiting = scheduler->writing;
            scheduler->writing = swap;
        } else {
            log_error("event=outcome_lost tasks=%zu error=\"out of memory\"",
                      scheduler->writing.count);
            outcome_list_clear(&scheduler->writing);
        }
    }
    const Config *config = scheduler->options.config();
    DeliverOptions deliver = {.timeout_ms = config->delivery_timeout_ms,
                              .connect_timeout_ms = config->connect_timeout_ms,
                              .max_response_bytes = (size_t)config->max_response_bytes,
                              .guard = scheduler->options.guard,
                              .ca_file = config->ca_file};
    int started = 0;
    for (size_t i = 0; i < turn->claim_count; i++) {
        SchedulerClaim *claim = &turn->claims[i];
        Host *host = claim->host;
        /* As it was if the turn failed: claimed again after the backoff. */
        int64_t next_due = turn->committed
                               ? receivers_after_claim(&scheduler->hosts, host, claim, now)
                               : claim->due;
        /* A retry noted while the turn was out: its outcome was not written
         * when the claim read the database, so that read could not know it. */
        if (host_retry_noted(host) < next_due)
            next_due = host_retry_noted(host);
        host_table_set_due(&scheduler->hosts, host, next_due);
        size_t release = claim->limit - claim->count;
        for (size_t j = 0; j < claim->count; j++) {
            if (scheduler_start_transfer(scheduler, &turn->tasks[claim->first + j], host, now,
                                         &deliver))
                started++;
            else
                release++;
        }
        free(claim->host_key);
        claim->host_key = NULL;
        /* The host's last use here: this may free it. */
        host_table_add_in_flight(&scheduler->hosts, host, -(int)release);
    }
    return started;
}

/* How long to sleep: until the next claimable host is due, or a write may
 * be retried; never longer than retry_interval. A turn out wakes the loop
 * when it is done. */
static int scheduler_wait_ms(Scheduler *scheduler, int64_t now, bool stopping)
{
    int64_t wait = scheduler->options.config()->retry_interval_ms;
    int64_t retry_in = scheduler->write_failing ? scheduler->next_write - clock_monotonic_ms() : 0;
    Host *top = host_table_peek(&scheduler->hosts);
    if (!stopping && !scheduler->turn_out && top != NULL &&
        scheduler->in_flight < scheduler->options.concurrency) {
        int64_t due_in = host_ready_at(top) - now;
        if (due_in < retry_in)
            due_in = retry_in; /* a failing database is not asked again sooner */
        if (due_in < wait)
            wait = due_in;
    }
    if (!scheduler->turn_out && scheduler->waiting.count > 0 && retry_in < wait)
        wait = retry_in;
    if (scheduler->options.watchdog_ms > 0 && wait > scheduler->options.watchdog_ms)
        wait = scheduler->options.watchdog_ms;
    return wait < 0 ? 0 : (int)wait;
}

/* Publishes the heartbeat and the earliest due time of work that waits
 * (metrics.h derives the lag from it when asked, so /readyz is current
 * whatever the loop does next), and once a second the receivers. Work that
 * waits: the heap's top (O(1)) and the hosts of the turn out. Tasks waiting
 * for their receiver's own limit, hold, pause or open circuit are that
 * receiver's lag, not the scheduler's: the instance stays ready. */
static void scheduler_publish(Scheduler *scheduler, int64_t now)
{
    int64_t monotonic = clock_monotonic_ms();
    metrics_scheduler_alive(monotonic);
    /* The watchdog is fed from here only: proof that this loop turns. */
    if (scheduler->options.watchdog_ms > 0 && monotonic >= scheduler->next_watchdog) {
        sd_notify(0, "WATCHDOG=1");
        scheduler->next_watchdog = monotonic + scheduler->options.watchdog_ms;
    }
    Host *top = host_table_peek(&scheduler->hosts);
    int64_t waiting = top != NULL ? host_ready_at(top) : HOST_TABLE_IDLE;
    for (size_t i = 0; scheduler->turn_out && i < scheduler->turn.claim_count; i++)
        if (scheduler->claims[i].due < waiting)
            waiting = scheduler->claims[i].due;
    /* Work that fell due before this scheduler ran (a backlog found at start)
     * has waited for it only since then. */
    if (waiting < scheduler->running_since)
        waiting = scheduler->running_since;
    metrics_set_waiting_due(waiting);
    if (monotonic < scheduler->next_receivers)
        return;
    scheduler->next_receivers = monotonic + 1000;
    host_table_expire_holds(&scheduler->hosts, now);
    receivers_publish(&scheduler->hosts, now);
}

static void *scheduler_main(void *argument)
{
    Scheduler *scheduler = argument;
    pthread_setname_np(pthread_self(), "herald-sched");
    for (;;) {
        /* Every perform is followed by reading what finished: a transfer that
         * completes inside perform leaves only a message, which poll does not
         * wait for. */
        int running;
        curl_multi_perform(scheduler->multi, &running);
        scheduler_collect_finished(scheduler);
        pthread_mutex_lock(&scheduler->lock);
        bool stopping = scheduler->stopping;
        bool turn_done = scheduler->turn_done;
        scheduler->turn_done = false;
        pthread_mutex_unlock(&scheduler->lock);
        int64_t now = clock_now_ms();
        int started = turn_done ? scheduler_finish_turn(scheduler, now) : 0;
        /* Not while a turn is out: its hosts' due times are settled by its
         * result first, then notices that came meanwhile lower them. */
        if (!scheduler->turn_out)
            scheduler_take_inbox(scheduler);
        if (stopping && scheduler->stop_deadline == 0)
            scheduler->stop_deadline = clock_monotonic_ms() + SCHEDULER_STOP_WRITE_MS;
        if (!scheduler->turn_out)
            scheduler_submit_turn(scheduler, now, !stopping);
        scheduler_publish(scheduler, now);
        if (stopping && scheduler->in_flight == 0 && !scheduler->turn_out &&
            (scheduler->waiting.count == 0 || clock_monotonic_ms() >= scheduler->stop_deadline)) {
            if (scheduler->waiting.count > 0)
                outcome_list_log_unwritten(&scheduler->waiting);
            break;
        }
        if (started > 0)
            continue; /* send them now, and collect any that finish at once */
        CURLMcode code = curl_multi_poll(scheduler->multi, NULL, 0,
                                         scheduler_wait_ms(scheduler, clock_now_ms(), stopping),
                                         NULL);
        if (code != CURLM_OK)
            log_error("event=poll_failed error=\"%s\"", curl_multi_strerror(code));
    }
    return NULL;
}

static void scheduler_free(Scheduler *scheduler)
{
    scheduler_db_stop(scheduler->db);
    /* Only idle slots remain here: the loop ends with nothing in flight. */
    for (int i = 0; scheduler->slots != NULL && i < scheduler->options.concurrency; i++)
        deliver_close(&scheduler->slots[i]);
    if (scheduler->multi != NULL)
        curl_multi_cleanup(scheduler->multi);
    host_table_free(&scheduler->hosts);
    for (size_t i = 0; i < scheduler->inbox_count; i++)
        free(scheduler->inbox[i].host);
    free(scheduler->inbox);
    outcome_list_free(&scheduler->waiting);
    outcome_list_free(&scheduler->writing);
    free(scheduler->slots);
    free(scheduler->free_slots);
    free(scheduler->claims);
    free(scheduler->claimed);
    gate_mailbox_free(&scheduler->gates);
    pthread_mutex_destroy(&scheduler->lock);
    free(scheduler);
}

Scheduler *scheduler_start(const SchedulerOptions *options, char *err, size_t errlen)
{
    Scheduler *scheduler = calloc(1, sizeof *scheduler);
    if (scheduler == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&scheduler->lock, NULL);
    gate_mailbox_init(&scheduler->gates);
    scheduler->options = *options;
    scheduler->write_backoff = SCHEDULER_WRITE_RETRY_MS;
    size_t concurrency = (size_t)options->concurrency;
    scheduler->slots = calloc(concurrency, sizeof *scheduler->slots);
    scheduler->free_slots = calloc(concurrency, sizeof *scheduler->free_slots);
    scheduler->claims = calloc(concurrency, sizeof *scheduler->claims);
    scheduler->claimed = calloc(concurrency, sizeof *scheduler->claimed);
    if (scheduler->slots == NULL || scheduler->free_slots == NULL ||
        scheduler->claims == NULL || scheduler->claimed == NULL ||
        host_table_init(&scheduler->hosts, options->per_host_concurrency) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < concurrency; i++)
        scheduler->free_slots[scheduler->free_count++] = &scheduler->slots[i];
    if (getrandom(&scheduler->random_state, sizeof scheduler->random_state, 0) !=
            (ssize_t)sizeof scheduler->random_state ||
        scheduler->random_state == 0)
        scheduler->random_state = (uint64_t)clock_monotonic_ms() | 1;
    /* Before the worker: its start-up reports hosts, which wakes the multi. */
    scheduler->multi = curl_multi_init();
    if (scheduler->multi == NULL) {
        snprintf(err, errlen, "cannot create the libcurl multi handle");
        goto fail;
    }
    /* The connection cache holds one connection per request we may have in flight. */
    if (curl_multi_setopt(scheduler->multi, CURLMOPT_MAXCONNECTS, (long)concurrency) !=
            CURLM_OK ||
        curl_multi_setopt(scheduler->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)options->per_host_concurrency) != CURLM_OK) {
        snprintf(err, errlen, "cannot set the libcurl multi handle's connection limits");
        goto fail;
    }
    SchedulerDbOptions db_options = {
        .store_location = options->store_location,
        .instance_id = options->instance_id,
        .config = options->config,
        .on_turn_done = scheduler_turn_done,
        .on_host_due = scheduler_note_host,
        .on_gates = scheduler_note_gates,
        .argument = scheduler,
    };
    scheduler->db = scheduler_db_start(&db_options, err, errlen);
    if (scheduler->db == NULL)
        goto fail;
    /* Alive from now: readiness and the alert checker may ask before the first turn. */
    metrics_scheduler_alive(clock_monotonic_ms());
    return scheduler;
fail:
    scheduler_free(scheduler);
    return NULL;
}

int scheduler_run(Scheduler *scheduler, char *err, size_t errlen)
{
    metrics_scheduler_alive(clock_monotonic_ms());
    scheduler->running_since = clock_now_ms();
    if (scheduler_db_run(scheduler->db, err, errlen) != 0)
        return -1;
    int rc = pthread_create(&scheduler->thread, NULL, scheduler_main, scheduler);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the scheduler thread: %s", strerror(rc));
        return -1;
    }
    scheduler->running = true;
    return 0;
}

void scheduler_stop(Scheduler *scheduler)
{
    if (scheduler == NULL)
        return;
    if (scheduler->running) {
        pthread_mutex_lock(&scheduler->lock);
        scheduler->stopping = true;
        pthread_mutex_unlock(&scheduler->lock);
        scheduler_db_hurry(scheduler->db);
        curl_multi_wakeup(scheduler->multi);
        pthread_join(scheduler->thread, NULL);
    }
    scheduler_free(scheduler);
}
