/*
 * scheduler: see scheduler.h.
 *
 * One turn of the loop:
 *   1. read finished transfers into outcomes (and free their slots)
 *   2. take the inbox (hosts with new tasks)
 *   3. one transaction: record the outcomes, claim due tasks host by host
 *   4. start the claimed requests
 *   5. sleep in curl_multi_poll until a transfer moves, a wake-up, a signal
 *      from another heraldd, or the next due time (at most retry_interval)
 * If the transaction fails (database locked or full) the outcomes stay in
 * memory and are written next turn; the tasks stay 'delivering' meanwhile.
 * Every [delivery] lease_sweep_interval the turn also sweeps: leases that ended
 * without an outcome are returned to due (logged 'interrupted'), and the
 * hosts with due work are re-read, so nothing waits on a lost notice longer
 * than that.
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
#include "fault.h"
#include "config.h"
#include "host_table.h"
#include "log.h"
#include "metrics.h"
#include "receivers.h"
#include "store.h"

/* On a database other heraldd share, how often to look for work they
 * accepted (a read of the hosts with pending tasks, one index seek each). */
#define SCHEDULER_POLL_MS 1000
/* Another heraldd's signal (store_signal_take) brings that look forward,
 * but not closer than this to the last one. */
#define SCHEDULER_SIGNAL_GAP_MS 10
/* Due tasks another heraldd is claiming are looked at again after this. */
#define SCHEDULER_CONTENDED_MS 25
/* After a failed write, how soon to try again. */
#define SCHEDULER_WRITE_RETRY_MS 100

typedef struct SchedulerNotice {
    char *host;
    int64_t due;
} SchedulerNotice;

struct Scheduler {
    SchedulerOptions options;
    Store *store;
    CURLM *multi;
    pthread_t thread;
    bool running; /* the thread was started (scheduler_run) */
    HostTable hosts;

    pthread_mutex_t lock; /* guards inbox and stopping */
    SchedulerNotice *inbox;
    size_t inbox_count;
    size_t inbox_capacity;
    bool stopping;

    Delivery *slots;      /* concurrency of them */
    Delivery **free_slots;
    size_t free_count;
    int in_flight;
    AttemptOutcome *outcomes; /* finished, not yet written */
    size_t outcome_count;
    size_t outcome_capacity;
    Task *claimed;            /* one turn's claims, owned until started or undone */
    Host **claimed_hosts;     /* the host of each */
    size_t claim_count;       /* how many claimed[] holds */
    int64_t next_sweep;
    int64_t next_poll;       /* shared database: the next look for others' work */
    int64_t last_poll;
    int64_t next_lag_update; /* monotonic ms */
    int64_t next_watchdog;   /* monotonic ms */
    uint64_t random_state;
    bool write_failing;       /* log a failing write once, not every turn */
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
    }
    pthread_mutex_unlock(&scheduler->lock);
    curl_multi_wakeup(scheduler->multi);
}

/* Moves the inbox into the host table. Returns whether the scheduler is stopping. */
static bool scheduler_take_inbox(Scheduler *scheduler)
{
    pthread_mutex_lock(&scheduler->lock);
    SchedulerNotice *notices = scheduler->inbox;
    size_t count = scheduler->inbox_count;
    bool stopping = scheduler->stopping;
    scheduler->inbox = NULL;
    scheduler->inbox_count = 0;
    scheduler->inbox_capacity = 0;
    pthread_mutex_unlock(&scheduler->lock);
    for (size_t i = 0; i < count; i++) {
        Host *host = host_table_get(&scheduler->hosts, notices[i].host);
        if (host != NULL)
            host_table_note_due(&scheduler->hosts, host, notices[i].due);
        free(notices[i].host);
    }
    free(notices);
    return stopping;
}

static AttemptOutcome *scheduler_new_outcome(Scheduler *scheduler)
{
    if (scheduler->outcome_count == scheduler->outcome_capacity) {
        size_t capacity = scheduler->outcome_capacity ? scheduler->outcome_capacity * 2 : 256;
        AttemptOutcome *grown = realloc(scheduler->outcomes, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        scheduler->outcomes = grown;
        scheduler->outcome_capacity = capacity;
    }
    return &scheduler->outcomes[scheduler->outcome_count++];
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
        AttemptOutcome *outcome = scheduler_new_outcome(scheduler);
        if (outcome != NULL) {
            deliver_finish(delivery, result, clock_now_ms(), scheduler_random_unit(scheduler),
                           outcome);
            /* Logged once written (scheduler_write): it may yet be fenced. */
            const char *error_class = outcome->attempt.error_class;
            metrics_count_delivery(error_class[0] ? error_class : "success",
                                   outcome->attempt.duration_ms);
        } else {
            /* No memory to remember it: the lease will bring the task back. */
            log_error("event=outcome_lost task_id=%lld error=\"out of memory\"",
                      (long long)delivery->task.id);
        }
        Host *host = delivery->owner;
        if (outcome != NULL && outcome->kind == ATTEMPT_OUTCOME_RETRY)
            host_table_note_due(&scheduler->hosts, host, outcome->next_attempt_at);
        host_table_add_in_flight(&scheduler->hosts, host, -1);
        deliver_release(delivery);
        scheduler->free_slots[scheduler->free_count++] = delivery;
        scheduler->in_flight--;
    }
}

/* Inside the turn's transaction: claims due tasks, earliest-due host first,
 * each up to its free slots. Each claim is recorded as it is made (in
 * claimed[], claimed_hosts[] and claim_count) and counted in its host's
 * in-flight count at once, so that if a later host fails the turn,
 * scheduler_unclaim() undoes exactly what was done. Returns 0, or -1. */
static int scheduler_claim(Scheduler *scheduler, int64_t now, char *err, size_t errlen)
{
    size_t room = (size_t)(scheduler->options.concurrency - scheduler->in_flight);
    /* Per claim: a reload may change the timeouts. */
    int64_t lease_ms = policy_set_lease_ms(scheduler->options.policies(),
                                           scheduler->options.config()->delivery_timeout_ms);
    Host *host;
    while (scheduler->claim_count < room && (host = host_table_peek(&scheduler->hosts)) != NULL &&
           host_next_due(host) <= now) {
        size_t limit = (size_t)(scheduler->options.per_host_concurrency - host_in_flight(host));
        if (limit > room - scheduler->claim_count)
            limit = room - scheduler->claim_count;
        size_t before = scheduler->claim_count;
        char token[TASK_CLAIM_TOKEN_SIZE];
        if (task_generate_claim_token(token) != 0) {
            snprintf(err, errlen, "claim: the kernel's random source failed");
            return -1;
        }
        /* All of the host's claims or none (store_claim_due cleans up after itself). */
        if (store_claim_due(scheduler->store, host_key(host), now, lease_ms, token, limit,
                            scheduler->claimed, &scheduler->claim_count, err, errlen) != 0)
            return -1;
        for (size_t i = before; i < scheduler->claim_count; i++)
            scheduler->claimed_hosts[i] = host;
        /* Counted in flight now, so the host leaves the heap when full. */
        host_table_add_in_flight(&scheduler->hosts, host, (int)(scheduler->claim_count - before));
        int64_t next_due = HOST_TABLE_IDLE;
        if (store_host_next_due(scheduler->store, host_key(host), &next_due, err, errlen) ==
            STORE_ERROR)
            return -1;
        /* Due, yet not claimed: rows another heraldd's claim holds (the claim
         * skips locked rows, this read does not). Theirs, unless their
         * transaction fails: look again shortly, never spin on them. */
        if (next_due <= now && scheduler->claim_count - before < limit)
            next_due = now + SCHEDULER_CONTENDED_MS;
        host_table_set_due(&scheduler->hosts, host, next_due);
    }
    return 0;
}

/* Undoes the bookkeeping of the turn's claims, whose transaction did not
 * commit: each task is due again (now) and its slot is free. */
static void scheduler_unclaim(Scheduler *scheduler, int64_t now)
{
    for (size_t i = 0; i < scheduler->claim_count; i++) {
        Host *host = scheduler->claimed_hosts[i];
        task_clear(&scheduler->claimed[i]);
        /* Due first: a host with nothing in flight and nothing due is dropped. */
        host_table_note_due(&scheduler->hosts, host, now);
        host_table_add_in_flight(&scheduler->hosts, host, -1);
    }
    scheduler->claim_count = 0;
}

/* Returns how many requests were started. */
static int scheduler_start_transfers(Scheduler *scheduler, int claimed, int64_t now)
{
    int started = 0;
    const Config *config = scheduler->options.config();
    DeliverOptions deliver = {.timeout_ms = config->delivery_timeout_ms,
                              .connect_timeout_ms = config->connect_timeout_ms,
                              .max_response_bytes = (size_t)config->max_response_bytes,
                              .guard = scheduler->options.guard,
                              .ca_file = config->ca_file};
    for (int i = 0; i < claimed; i++) {
        Delivery *delivery = scheduler->free_slots[--scheduler->free_count];
        Task *task = &scheduler->claimed[i];
        const Policy *policy = policy_set_find(scheduler->options.policies(), task->business_type);
        if (task->attempts == 1)
            metrics_observe_first_attempt_lag(now - task->created_at);
        char err[256];
        int prepared = deliver_prepare(delivery, task, policy, &deliver, now, err, sizeof err);
        delivery->owner = scheduler->claimed_hosts[i];
        scheduler->in_flight++;
        CURLMcode code = CURLM_OK;
        if (prepared == 0)
            code = curl_multi_add_handle(scheduler->multi, delivery->easy);
        if (prepared != 0 || code != CURLM_OK) {
            /* Cannot even start: give the task back through the lease. */
            log_error("event=request_not_started task_id=%lld error=\"%s\"",
                      (long long)delivery->task.id,
                      prepared != 0 ? err : curl_multi_strerror(code));
            host_table_add_in_flight(&scheduler->hosts, delivery->owner, -1);
            deliver_release(delivery);
            scheduler->free_slots[scheduler->free_count++] = delivery;
            scheduler->in_flight--;
        } else {
            started++;
        }
    }
    return started;
}

static void scheduler_clear_outcomes(Scheduler *scheduler)
{
    for (size_t i = 0; i < scheduler->outcome_count; i++)
        attempt_clear(&scheduler->outcomes[i].attempt);
    scheduler->outcome_count = 0;
}

/* After the commit: one line per outcome, saying what was stored (or that
 * it was fenced), and the outcomes are done with. */
static void scheduler_finish_outcomes(Scheduler *scheduler, int64_t now, size_t fenced)
{
    for (size_t i = 0; i < scheduler->outcome_count; i++)
        deliver_log_outcome(&scheduler->outcomes[i], now);
    if (fenced > 0) /* their leases ended first: the tasks are delivered again, same id */
        log_warning("event=outcomes_fenced tasks=%zu reason=\"the claim's lease ended before its "
                    "outcome was written\"", fenced);
    scheduler_clear_outcomes(scheduler);
}

/* Logs what a rescue did. */
static void scheduler_log_rescue(const char *event, int recovered, int moved)
{
    if (recovered > 0)
        log_warning("event=%s tasks=%d moved_to_manual=%d", event, recovered, moved);
}

/* Re-reads which hosts have work, after something changed behind our back. */
static void scheduler_load_hosts(Scheduler *scheduler)
{
    StoreHost *hosts;
    size_t count;
    char err[512];
    if (store_host_list_pending(scheduler->store, &hosts, &count, err, sizeof err) != 0) {
        log_error("event=host_list_failed error=\"%s\"", err);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        Host *host = host_table_get(&scheduler->hosts, hosts[i].target_host);
        if (host != NULL)
            host_table_note_due(&scheduler->hosts, host, hosts[i].next_due);
    }
    store_host_list_free(hosts, count);
}

/* One transaction: outcomes, the lease sweep when due, claims; then the
 * claimed requests start. Returns how many requests were started. */
static int scheduler_write(Scheduler *scheduler, int64_t now, bool may_claim)
{
    /* Work another heraldd accepted is announced to it, not to us: look for
     * it now and then, so that any instance delivers it (within a second when
     * its own is busy, paused or gone). */
    if (store_is_shared(scheduler->store) && now >= scheduler->next_poll &&
        !scheduler->write_failing) { /* a failing database is reported once, by the write */
        scheduler->next_poll = now + SCHEDULER_POLL_MS;
        scheduler->last_poll = now;
        scheduler_load_hosts(scheduler);
    }
    Host *top = host_table_peek(&scheduler->hosts);
    bool claimable = may_claim && scheduler->in_flight < scheduler->options.concurrency &&
                     top != NULL && host_next_due(top) <= now;
    bool sweep = now >= scheduler->next_sweep;
    if (scheduler->outcome_count == 0 && !claimable && !sweep)
        return 0;
    char err[512];
    int recovered = 0, moved = 0;
    size_t fenced = 0;
    scheduler->claim_count = 0;
    if (store_begin(scheduler->store, err, sizeof err) != 0)
        goto failed;
    if (store_record_outcomes(scheduler->store, scheduler->outcomes, scheduler->outcome_count,
                              now, &fenced, err, sizeof err) != 0 ||
        (sweep && store_recover_interrupted(scheduler->store, now, STORE_RESCUE_EXPIRED,
                                            &recovered, &moved, err, sizeof err) != 0) ||
        (claimable && scheduler_claim(scheduler, now, err, sizeof err) != 0)) {
        store_rollback(scheduler->store);
        goto failed;
    }
    if (store_commit(scheduler->store, err, sizeof err) != 0)
        goto failed;
    if (scheduler->write_failing)
        log_info("event=scheduler_write_recovered");
    scheduler->write_failing = false;
    scheduler_finish_outcomes(scheduler, now, fenced);
    if (sweep) {
        scheduler->next_sweep = now + scheduler->options.config()->lease_sweep_interval_ms;
        scheduler_log_rescue("leases_expired", recovered, moved);
        /* Re-read which hosts have due work: tasks whose notice was lost (no
         * memory for it) or that were made due behind our back are found here,
         * within one sweep interval. */
        scheduler_load_hosts(scheduler);
    }
    size_t claimed = scheduler->claim_count;
    scheduler->claim_count = 0;
    return scheduler_start_transfers(scheduler, (int)claimed, now);
failed:
    scheduler_unclaim(scheduler, now);
    if (!scheduler->write_failing) {
        char quoted[600];
        log_error("event=scheduler_write_failed error=%s outcomes_waiting=%zu",
                  log_quote(quoted, sizeof quoted, err), scheduler->outcome_count);
    }
    scheduler->write_failing = true;
    return 0;
}

/* How long to sleep: until the next claimable host is due, a retry of a
 * failed write, or the lease sweep; never longer than retry_interval (but a
 * failed write waits its retry pace even if retry_interval is shorter). */
static int scheduler_wait_ms(Scheduler *scheduler, int64_t now, bool stopping)
{
    int64_t wait = scheduler->options.config()->retry_interval_ms;
    Host *top = host_table_peek(&scheduler->hosts);
    if (!stopping && top != NULL && scheduler->in_flight < scheduler->options.concurrency &&
        host_next_due(top) - now < wait)
        wait = host_next_due(top) - now;
    if (scheduler->next_sweep - now < wait)
        wait = scheduler->next_sweep - now;
    if (store_is_shared(scheduler->store) && scheduler->next_poll - now < wait)
        wait = scheduler->next_poll - now;
    /* Outcomes wait in memory: write them soon. A write that failed is
     * retried at this pace, not at once: due claims and the sweep stay due
     * while the disk fails, and would turn the loop into a spin. */
    if ((scheduler->outcome_count > 0 && wait > SCHEDULER_WRITE_RETRY_MS) ||
        scheduler->write_failing)
        wait = SCHEDULER_WRITE_RETRY_MS;
    if (scheduler->options.watchdog_ms > 0 && wait > scheduler->options.watchdog_ms)
        wait = scheduler->options.watchdog_ms;
    return wait < 0 ? 0 : (int)wait;
}

/* Publishes the heartbeat every turn and, once a second, the lag and the
 * receivers. The lag is that of the earliest-due host with a free slot (the
 * heap's top, O(1)): tasks that wait because their receiver is at its own
 * concurrency limit, or backs off, are that receiver's lag, not the
 * scheduler's, and do not make the instance "not ready". */
static void scheduler_publish(Scheduler *scheduler, int64_t now)
{
    int64_t monotonic = clock_monotonic_ms();
    metrics_scheduler_alive(monotonic);
    /* The watchdog is fed from here only: proof that this loop turns. */
    if (scheduler->options.watchdog_ms > 0 && monotonic >= scheduler->next_watchdog) {
        sd_notify(0, "WATCHDOG=1");
        scheduler->next_watchdog = monotonic + scheduler->options.watchdog_ms;
    }
    if (monotonic < scheduler->next_lag_update)
        return;
    scheduler->next_lag_update = monotonic + 1000;
    Host *top = host_table_peek(&scheduler->hosts);
    int64_t top_due = top != NULL ? host_next_due(top) : HOST_TABLE_IDLE;
    metrics_set_scheduler_lag(top_due < now ? now - top_due : 0);
    receivers_publish(&scheduler->hosts, now);
}

/* Reads the signals of other heraldd: one brings the next look for their
 * work forward (to now, or SCHEDULER_SIGNAL_GAP_MS after the last look). */
static void scheduler_take_signals(Scheduler *scheduler)
{
    bool signalled = false;
    char err[320];
    if (store_signal_take(scheduler->store, scheduler->options.instance_id, &signalled, err,
                          sizeof err) != 0)
        log_debug("event=signals_lost error=\"%s\"", err); /* pg.c logs the outage itself */
    int64_t soonest = scheduler->last_poll + SCHEDULER_SIGNAL_GAP_MS;
    if (signalled && soonest < scheduler->next_poll)
        scheduler->next_poll = soonest;
}

static void *scheduler_main(void *argument)
{
    Scheduler *scheduler = argument;
    pthread_setname_np(pthread_self(), "herald-sched");
    fault_set_role("scheduler");
    for (;;) {
        /* Every perform is followed by reading what finished: a transfer that
         * completes inside perform leaves only a message, which poll does not
         * wait for. */
        int running;
        curl_multi_perform(scheduler->multi, &running);
        scheduler_collect_finished(scheduler);
        bool stopping = scheduler_take_inbox(scheduler);
        if (store_is_shared(scheduler->store))
            scheduler_take_signals(scheduler);
        int64_t now = clock_now_ms();
        int started = scheduler_write(scheduler, now, !stopping);
        scheduler_publish(scheduler, now);
        if (stopping && scheduler->in_flight == 0 &&
            (scheduler->outcome_count == 0 || scheduler->write_failing))
            break; /* unwritten outcomes are recovered as interrupted at next start */
        if (started > 0)
            continue; /* send them now, and collect any that finish at once */
        /* Also woken by a signal arriving on the idle database connection. */
        struct curl_waitfd signals = {.fd = store_signal_fd(scheduler->store),
                                      .events = CURL_WAIT_POLLIN};
        CURLMcode code = curl_multi_poll(scheduler->multi, &signals, signals.fd >= 0 ? 1 : 0,
                                         scheduler_wait_ms(scheduler, clock_now_ms(), stopping),
                                         NULL);
        if (code != CURLM_OK)
            log_error("event=poll_failed error=\"%s\"", curl_multi_strerror(code));
    }
    return NULL;
}

static void scheduler_free(Scheduler *scheduler)
{
    /* Only idle slots remain here: the loop ends with nothing in flight. */
    for (int i = 0; scheduler->slots != NULL && i < scheduler->options.concurrency; i++)
        deliver_close(&scheduler->slots[i]);
    if (scheduler->multi != NULL)
        curl_multi_cleanup(scheduler->multi);
    store_close(scheduler->store);
    host_table_free(&scheduler->hosts);
    for (size_t i = 0; i < scheduler->inbox_count; i++)
        free(scheduler->inbox[i].host);
    free(scheduler->inbox);
    scheduler_clear_outcomes(scheduler);
    free(scheduler->outcomes);
    free(scheduler->slots);
    free(scheduler->free_slots);
    free(scheduler->claimed);
    free(scheduler->claimed_hosts);
    pthread_mutex_destroy(&scheduler->lock);
    free(scheduler);
}

/* Start-up recovery of tasks a crash left in flight: all of them when this
 * heraldd has the database to itself; on a shared one, only those whose lease
 * ended (the others may be another heraldd's deliveries under way). */
static int scheduler_recover(Scheduler *scheduler, char *err, size_t errlen)
{
    int recovered = 0, moved = 0;
    int64_t now = clock_now_ms();
    if (store_begin(scheduler->store, err, errlen) != 0)
        return -1;
    if (store_recover_interrupted(scheduler->store, now,
                                  store_is_shared(scheduler->store) ? STORE_RESCUE_EXPIRED
                                                                    : STORE_RESCUE_ALL,
                                  &recovered, &moved, err, errlen) != 0) {
        store_rollback(scheduler->store);
        return -1;
    }
    if (store_commit(scheduler->store, err, errlen) != 0)
        return -1;
    scheduler_log_rescue("recovered_interrupted", recovered, moved);
    return 0;
}

Scheduler *scheduler_start(const SchedulerOptions *options, char *err, size_t errlen)
{
    Scheduler *scheduler = calloc(1, sizeof *scheduler);
    if (scheduler == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&scheduler->lock, NULL);
    scheduler->options = *options;
    size_t concurrency = (size_t)options->concurrency;
    scheduler->next_sweep = clock_now_ms() + options->config()->lease_sweep_interval_ms;
    scheduler->slots = calloc(concurrency, sizeof *scheduler->slots);
    scheduler->free_slots = calloc(concurrency, sizeof *scheduler->free_slots);
    scheduler->claimed = calloc(concurrency, sizeof *scheduler->claimed);
    scheduler->claimed_hosts = calloc(concurrency, sizeof *scheduler->claimed_hosts);
    if (scheduler->slots == NULL || scheduler->free_slots == NULL ||
        scheduler->claimed == NULL || scheduler->claimed_hosts == NULL ||
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
    StoreOptions store_options = {.durability = STORE_DURABILITY_REPLAYABLE};
    scheduler->store = store_open(options->store_location, &store_options, err, errlen);
    if (scheduler->store == NULL || scheduler_recover(scheduler, err, errlen) != 0)
        goto fail;
    char listen_err[320];
    if (store_is_shared(scheduler->store) &&
        store_signal_listen(scheduler->store, listen_err, sizeof listen_err) != 0)
        log_warning("event=listen_failed error=\"%s\"", listen_err); /* again on reconnecting */
    scheduler_load_hosts(scheduler);
    scheduler->multi = curl_multi_init();
    if (scheduler->multi == NULL) {
        snprintf(err, errlen, "cannot create the libcurl multi handle");
        goto fail;
    }
    /* The connection cache holds one connection per request we may have in flight. */
    curl_multi_setopt(scheduler->multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    curl_multi_setopt(scheduler->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)options->per_host_concurrency);
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
        curl_multi_wakeup(scheduler->multi);
        pthread_join(scheduler->thread, NULL);
    }
    scheduler_free(scheduler);
}
