/*
 * receivers: see receivers.h.
 */
#include "receivers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "config_receiver.h"
#include "log.h"
#include "metrics.h"

/* Due tasks another heraldd is claiming are looked at again after this. */
#define RECEIVERS_CONTENDED_MS 25
/* An open circuit's probe another heraldd took, or not yet due by the
 * database's clock, is asked for again after this. */
#define RECEIVERS_PROBE_AGAIN_MS 500

/* The receivers worth showing: those with requests in flight, due tasks, a
 * hold, a pause or an open circuit. */
typedef struct Receivers {
    MetricsReceiver *items;
    size_t count;
    size_t capacity;
    int64_t now;
} Receivers;

static void receivers_visit(const Host *host, void *argument)
{
    Receivers *receivers = argument;
    int64_t next_due = host_next_due(host);
    bool due = next_due != HOST_TABLE_IDLE && next_due <= receivers->now;
    bool held = host_held_until(host) > receivers->now;
    bool paused = host_paused(host);
    bool open = host_open(host);
    if (host_in_flight(host) == 0 && !due && !held && !paused && !open)
        return;
    if (receivers->count == receivers->capacity) {
        size_t capacity = receivers->capacity ? receivers->capacity * 2 : 64;
        MetricsReceiver *grown = realloc(receivers->items, capacity * sizeof *grown);
        if (grown == NULL)
            return; /* a shorter list this second */
        receivers->items = grown;
        receivers->capacity = capacity;
    }
    receivers->items[receivers->count++] = (MetricsReceiver){
        .key = host_key(host),
        .in_flight = host_in_flight(host),
        /* A paused receiver's tasks wait by an operator's decision, an open
         * circuit's for their receiver to come back: not lag. */
        .lag_ms = due && !paused && !open ? receivers->now - next_due : 0,
        .held_until = held ? host_held_until(host) : 0,
        .paused = paused,
        .circuit_open = open,
    };
}

/* Paused, open or held first (they must show, however many receivers are busy),
 * then the most overdue, then the busiest. */
static int receivers_compare(const void *a, const void *b)
{
    const MetricsReceiver *left = a, *right = b;
    bool left_first = left->paused || left->circuit_open || left->held_until != 0;
    bool right_first = right->paused || right->circuit_open || right->held_until != 0;
    if (left_first != right_first)
        return left_first ? -1 : 1;
    if (left->lag_ms != right->lag_ms)
        return left->lag_ms > right->lag_ms ? -1 : 1;
    return right->in_flight - left->in_flight;
}

void receivers_publish(const HostTable *hosts, int64_t now)
{
    Receivers receivers = {.now = now};
    host_table_visit(hosts, receivers_visit, &receivers);
    if (receivers.count > 1)
        qsort(receivers.items, receivers.count, sizeof *receivers.items,
              receivers_compare);
    if (metrics_set_receivers(receivers.items, receivers.count) != 0)
        log_debug("event=metrics_skipped error=\"out of memory\"");
    free(receivers.items);
}

bool receivers_hold(HostTable *hosts, Host *host, int status, int64_t retry_after_ms,
                    int64_t cap_ms, int64_t now)
{
    if ((status != 429 && status != 503) || retry_after_ms < 0)
        return false;
    int64_t wait = retry_after_ms < cap_ms ? retry_after_ms : cap_ms;
    int64_t before = host_held_until(host);
    if (wait <= 0 || !host_table_hold(hosts, host, now + wait))
        return false;
    if (before > now && now + wait - before < 1000)
        return false;
    log_info("event=receiver_held receiver=%s status=%d seconds=%.1f", host_key(host), status,
             (double)wait / 1000.0);
    return true;
}

bool receivers_judge(HostTable *hosts, Host *host, AttemptOutcome *outcome,
                     int64_t retry_after_ms, const PolicySet *policies, const Config *config)
{
    if (outcome->kind == ATTEMPT_OUTCOME_RETRY)
        host_table_note_retry(hosts, host, outcome->next_attempt_at);
    /* Any answer of the receiver (a success, a 4xx) shows it takes requests:
     * a ramp after its circuit closed grows (store_breaker.c counts alike). */
    bool counts = attempt_counts_against_receiver(&outcome->attempt);
    if (outcome->attempt.status_code > 0 && !counts)
        host_table_note_success(hosts, host);
    outcome->breaker_failures =
        counts ? (int)policy_set_find(policies, outcome->business_type)->breaker_failures : 0;
    outcome->breaker_probe_ms = config->breaker_probe_interval_ms;
    outcome->breaker_probe_max_ms = config->breaker_probe_max_interval_ms;
    int64_t now = clock_now_ms();
    bool held = receivers_hold(hosts, host, outcome->attempt.status_code, retry_after_ms,
                               policy_set_shortest_max_delay_ms(policies), now);
    outcome->hold_ms = held ? host_held_until(host) - now : 0; /* shared as it is written */
    return held;
}

void receivers_note_written(HostTable *hosts, const AttemptOutcome *outcomes, size_t count,
                            int64_t now)
{
    for (size_t i = 0; i < count; i++) {
        const AttemptOutcome *outcome = &outcomes[i];
        Host *released =
            outcome->released_host != NULL ? host_table_get(hosts, outcome->released_host) : NULL;
        if (released != NULL) /* else found by the next sweep */
            host_table_note_due(hosts, released, now);
        const char *receiver = outcome->attempt.receiver;
        if (receiver == NULL || outcome->fenced)
            continue;
        if (outcome->parked && outcome->kind == ATTEMPT_OUTCOME_RETRY) {
            Host *host = host_table_get(hosts, receiver);
            if (host != NULL) /* else found by the next sweep */
                host_table_note_due(hosts, host, outcome->next_attempt_at);
        }
        switch (outcome->breaker_change) {
        case ATTEMPT_BREAKER_OPENED:
            log_warning("event=circuit_opened receiver=%s failures=%d detail=\"its tasks wait, "
                        "spending no attempts; one probe at a time until it answers\"",
                        receiver, outcome->breaker_count);
            break;
        case ATTEMPT_BREAKER_DEFERRED:
            log_warning("event=circuit_not_opened receiver=%s failures=%d reason=\"a heraldd "
                        "of an earlier release shares the database: it would not honour an "
                        "open circuit\"",
                        receiver, outcome->breaker_count);
            break;
        case ATTEMPT_BREAKER_PROBE_FAILED:
            log_info("event=circuit_probe_failed receiver=%s task_id=%lld", receiver,
                     (long long)outcome->attempt.task_id);
            break;
        case ATTEMPT_BREAKER_CLOSED:
            log_info("event=circuit_closed receiver=%s", receiver);
            break;
        case ATTEMPT_BREAKER_KEPT:
            break;
        }
    }
}

void gate_mailbox_init(GateMailbox *mailbox)
{
    memset(mailbox, 0, sizeof *mailbox);
    pthread_mutex_init(&mailbox->lock, NULL);
}

static void gate_mailbox_clear(HostGate *gates, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((char *)gates[i].key);
    free(gates);
}

void gate_mailbox_free(GateMailbox *mailbox)
{
    gate_mailbox_clear(mailbox->gates, mailbox->count);
    pthread_mutex_destroy(&mailbox->lock);
}

int gate_mailbox_post(GateMailbox *mailbox, const HostGate *gates, size_t count)
{
    HostGate *copy = count > 0 ? calloc(count, sizeof *copy) : NULL;
    for (size_t i = 0; copy != NULL && i < count; i++) {
        copy[i] = gates[i];
        copy[i].key = strdup(gates[i].key);
        if (copy[i].key == NULL) {
            gate_mailbox_clear(copy, i);
            copy = NULL;
        }
    }
    if (count > 0 && copy == NULL) {
        /* The claim still passes over them; the next list brings them. */
        log_error("event=gate_list_lost error=\"out of memory\"");
        return -1;
    }
    pthread_mutex_lock(&mailbox->lock);
    HostGate *old = mailbox->gates;
    size_t old_count = mailbox->count;
    mailbox->gates = copy;
    mailbox->count = count;
    mailbox->posted = true;
    pthread_mutex_unlock(&mailbox->lock);
    gate_mailbox_clear(old, old_count);
    return 0;
}

bool gate_mailbox_apply(GateMailbox *mailbox, HostTable *hosts)
{
    pthread_mutex_lock(&mailbox->lock);
    bool posted = mailbox->posted;
    HostGate *gates = mailbox->gates;
    size_t count = mailbox->count;
    mailbox->gates = NULL;
    mailbox->count = 0;
    mailbox->posted = false;
    pthread_mutex_unlock(&mailbox->lock);
    if (posted && host_table_set_gates(hosts, gates, count) != 0)
        log_debug("event=gate_list_partial error=\"out of memory\"");
    gate_mailbox_clear(gates, count);
    return posted;
}

void receivers_limit_claim(const Config *config, SchedulerClaim *claim)
{
    const RateLimit *rate = config_receiver_rate(config, claim->host_key);
    if (rate == NULL) {
        memset(&claim->rate, 0, sizeof claim->rate);
        return;
    }
    claim->rate = *rate;
    if ((int64_t)claim->limit > rate->burst)
        claim->limit = (size_t)rate->burst;
}

int64_t receivers_after_claim(HostTable *hosts, Host *host, const SchedulerClaim *claim,
                              int64_t now)
{
    if (claim->held_ms > 0)
        host_table_hold(hosts, host, now + claim->held_ms);
    int64_t next_due = claim->next_due;
    /* Its tokens spent: the next one, not sooner (IDLE stays idle). */
    if (claim->rate.interval_us > 0 && claim->count >= claim->granted && claim->wait_ms > 0 &&
        next_due < now + claim->wait_ms)
        return now + claim->wait_ms;
    if (next_due <= now && claim->count < claim->limit)
        /* Due, yet not claimed: rows another heraldd's claim holds (the
         * claim skips locked rows, the next-due read does not). Theirs,
         * unless their transaction fails: look again shortly. */
        return now + (claim->probe ? RECEIVERS_PROBE_AGAIN_MS : RECEIVERS_CONTENDED_MS);
    return next_due;
}
