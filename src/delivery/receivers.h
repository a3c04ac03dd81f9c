/*
 * receivers: the scheduler's receivers beyond their slots. The per-receiver
 * figures of /metrics (herald_receiver_in_flight, herald_receiver_lag_seconds,
 * herald_receiver_held_seconds, herald_receiver_paused,
 * herald_receiver_circuit_open), taken from the host
 * table once a second: the receivers paused or held first, then those with
 * requests in flight or tasks due, most overdue first, then busiest. The
 * holds a 429 or 503 with Retry-After puts on a receiver (shared with the
 * heraldd on the database as the outcome is written, AttemptOutcome.hold_ms).
 * A claim's rate limit, and when its host may go again after the claim. And
 * the mailbox through which the database worker hands the loop the receivers
 * an operator paused or whose circuit breaker is open. All but the mailbox run on the
 * scheduler's thread, which owns the table; metrics keeps a copy for the
 * HTTP threads.
 */
#ifndef HERALD_RECEIVERS_H
#define HERALD_RECEIVERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "host_table.h"
#include "policy.h"
#include "scheduler_db.h"

struct Config;

/* Publishes HOSTS' receivers as of NOW (Unix ms) to metrics. */
void receivers_publish(const HostTable *hosts, int64_t now);

/* A 429 or 503 (STATUS) with Retry-After (RETRY_AFTER_MS >= 0) holds HOST,
 * not only the task that got it: no request to it starts before then. The
 * hold is capped at CAP_MS, the shortest max_delay of every policy
 * (policy_set_shortest_max_delay_ms): the receiver's tasks of every type
 * wait, so none waits past its own cap for another's answer (the task that
 * got it waits as its own policy says). Requests already claimed finish.
 * Returns true when a hold started or grew by a second or more (it is
 * logged then, once, not for each answer of requests in flight together). */
bool receivers_hold(HostTable *hosts, Host *host, int status, int64_t retry_after_ms,
                    int64_t cap_ms, int64_t now);

/* A request to HOST ended in OUTCOME (not yet written), with the
 * receiver's Retry-After (RETRY_AFTER_MS; < 0: none), under POLICIES and
 * CONFIG: a retry's due time is noted; a Retry-After holds the receiver
 * (receivers_hold, capped at policy_set_shortest_max_delay_ms); a success
 * lets a host ramping up after its circuit closed take one more; and
 * OUTCOME learns what its circuit breaker needs (breaker_failures: its
 * type's if the failure counts against the receiver,
 * attempt_counts_against_receiver; the probe interval and its cap).
 * Returns whether a hold started or grew (receivers_hold). */
bool receivers_judge(HostTable *hosts, Host *host, AttemptOutcome *outcome,
                     int64_t retry_after_ms, const PolicySet *policies,
                     const struct Config *config);

/* OUTCOMES (COUNT) are written at NOW: each task an open circuit parked is
 * due at its receiver again, as is the next task of an ordering key an
 * outcome let go (released_host), and what the breakers did is logged
 * (event=circuit_opened, circuit_probe_failed, circuit_closed). */
void receivers_note_written(HostTable *hosts, const AttemptOutcome *outcomes, size_t count,
                            int64_t now);

/* CLAIM, for its host, learns the host's rate limit under CONFIG
 * ([receiver.PATTERN]); with one, its limit is a burst at most. */
void receivers_limit_claim(const struct Config *config, SchedulerClaim *claim);

/* CLAIM of HOST committed at NOW: when HOST may be claimed for again. Its
 * next due task's time, held past a hold another heraldd shared, or not
 * before its rate's next token; or, due tasks left unclaimed (another
 * heraldd's claim holds them, or an open circuit's probe is another's or
 * not due by the database's clock), a look again shortly. */
int64_t receivers_after_claim(HostTable *hosts, Host *host, const SchedulerClaim *claim,
                              int64_t now);

/* The gated receivers (paused, or with an open circuit), from the database
 * worker to the loop: the latest whole list posted, taken once. */
typedef struct GateMailbox {
    pthread_mutex_t lock;
    HostGate *gates; /* owned, with their keys; sorted by key with strcmp */
    size_t count;
    bool posted; /* a list waits to be taken */
} GateMailbox;

void gate_mailbox_init(GateMailbox *mailbox);
void gate_mailbox_free(GateMailbox *mailbox);

/* Copies GATES (COUNT, sorted) in, replacing a list not taken yet. Any
 * thread. Returns 0, or -1 if out of memory (nothing posted). */
int gate_mailbox_post(GateMailbox *mailbox, const HostGate *gates, size_t count);

/* If a list was posted, makes it HOSTS' gates (host_table_set_gates) and
 * returns true. The loop's thread. */
bool gate_mailbox_apply(GateMailbox *mailbox, HostTable *hosts);

#endif
