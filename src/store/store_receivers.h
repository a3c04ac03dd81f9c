/*
 * store_receivers: the receivers as the database sees them (the listing of
 * GET /v1/receivers), the ones an operator paused and the record of those
 * decisions, those whose circuit breaker is open or counting failures
 * (store_breaker.c keeps that state), and the check that no heraldd of an
 * earlier release, which would not honour a pause or a circuit, shares the
 * database; and what every heraldd on a shared database takes from or tells
 * each other about a receiver: its rate tokens and its Retry-After hold.
 * Written once above the backends in store_receivers.c; part of the storage
 * front (store.h).
 */
#ifndef HERALD_STORE_RECEIVERS_H
#define HERALD_STORE_RECEIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manual.h"
#include "rate_limit.h"
#include "store.h"

/* One receiver (scheme://host:port) as the database sees it, across every
 * heraldd sharing it. Strings owned: store_receiver_list_free(). */
typedef struct StoreReceiver {
    char *host;
    int64_t pending;         /* tasks waiting for it, due or not */
    int64_t delivering;      /* its requests in flight (claimed) */
    int64_t failures;        /* attempts that failed since SINCE */
    int64_t last_failure_at; /* the latest of them; 0: none */
    char *last_error;        /* its class and message; NULL: none */
    bool paused;             /* an operator paused it (store_receiver_set_paused) */
    int64_t paused_at;       /* then: when, */
    char *paused_by;         /* who, */
    char *pause_note;        /* and why (NULL: not said) */
    bool circuit_open;       /* its circuit breaker (store_breaker.c): open, */
    int consecutive_failures; /* its failures in a row that count, */
    int64_t opened_at;       /* since when (0: closed), */
    int64_t next_probe_at;   /* and when a probe may go next (0: closed) */
    int64_t probe_until;     /* a probe is out until then; 0: none */
} StoreReceiver;

/* The receivers with tasks pending or in flight, or attempts that failed
 * since SINCE (at most LIMIT of each kind, the busiest first), and every
 * one paused, open or counting failures. */
int store_receiver_list(Store *store, int64_t since, size_t limit, StoreReceiver **out,
                        size_t *count, char *err, size_t errlen);
void store_receiver_list_free(StoreReceiver *receivers, size_t count);

/* One receiver an operator paused, or whose circuit breaker is open or
 * counting failures (store_breaker.c). Strings owned: store_gate_list_free(). */
typedef struct StoreGate {
    char *receiver; /* scheme://host:port */
    bool paused;
    int64_t paused_at;
    char *paused_by;
    char *note; /* NULL: none */
    bool open;             /* its circuit is open */
    int failures;          /* its consecutive failures that count */
    int64_t opened_at;     /* Unix ms; 0: closed */
    int64_t next_probe_at; /* Unix ms on the database's clock; 0: closed */
    int64_t probe_until;   /* the probe out's lease end; 0: none */
} StoreGate;

/* Every receiver paused, open or failing, in key order. */
int store_gate_list(Store *store, StoreGate **out, size_t *count, char *err, size_t errlen);
void store_gate_list_free(StoreGate *list, size_t count);

/* One pause or resume of a receiver, as recorded. Strings owned:
 * store_receiver_actions_free(). */
typedef struct StoreReceiverAction {
    int64_t id;
    char action[MANUAL_WORD_MAX]; /* "pause", "resume" */
    char *actor;
    char *note; /* NULL: none */
    int64_t created_at;
} StoreReceiverAction;

/* RECEIVER's recorded pauses and resumes with ids below BEFORE, newest
 * first, at most LIMIT. */
int store_receiver_actions(Store *store, const char *receiver, int64_t before, int limit,
                           StoreReceiverAction **out, size_t *count, char *err, size_t errlen);
void store_receiver_actions_free(StoreReceiverAction *actions, size_t count);

/* How many heraldd sharing the database know fewer than VERSION migrations
 * and beat within the last minute (PostgreSQL's instances.schema_known; 0 on
 * SQLite, which one heraldd has to itself): instances of an earlier release
 * that would not honour what migration VERSION brought. */
int store_count_older_instances(Store *store, int version, int64_t *count, char *err,
                                size_t errlen);

/* The migration (012 on both backends) that brought paused receivers: a
 * heraldd that knows fewer would send to a paused receiver. */
#define STORE_PAUSE_MIGRATION 12

/* Inside a transaction: pauses (PAUSED) or resumes RECEIVER, a key as
 * task_url_check gives it. While a receiver is paused no claim takes its
 * tasks (store_claim_due), on any heraldd sharing the database. *CHANGED:
 * whether it was not so already; only then is the action ("pause",
 * "resume") recorded, with ACTOR and NOTE (NULL: none). */
int store_receiver_set_paused(Store *store, const char *receiver, bool paused, const char *actor,
                              const char *note, int64_t now, bool *changed, char *err,
                              size_t errlen);

/* What store_rate_take gave: tokens, how long until the next is free, and
 * the database's clock it was taken at (which store_rate_give_back checks). */
typedef struct StoreRateTake {
    int64_t granted;
    int64_t wait_ms;
    int64_t stamp_us;
} StoreRateTake;

/* Outside a transaction, on a shared database: takes up to WANT of
 * RECEIVER's rate tokens under LIMIT (rate_limit.h) from the bucket every
 * heraldd takes from, on the database's clock, into OUT. STORE_NOT_FOUND: the database keeps no
 * buckets (SQLite, one heraldd; PostgreSQL before migration 014): the
 * caller keeps its own. */
StoreResult store_rate_take(Store *store, const char *receiver, const RateLimit *limit,
                            int64_t want, StoreRateTake *out, char *err, size_t errlen);

/* COUNT tokens the take TAKE gave and the claim did not use, given back,
 * unless another take came since (its clock may have counted them as spent
 * already: given back then, they would count twice; kept, the receiver gets
 * a little less than its rate a moment). */
int store_rate_give_back(Store *store, const char *receiver, const RateLimit *limit,
                         int64_t count, const StoreRateTake *take, char *err, size_t errlen);

/* COUNT requests whose tokens were taken before a turn that took long go
 * out now: RECEIVER's bucket counts them from now on the database's clock
 * (rate_bucket_charge), so a take meanwhile cannot send a second burst
 * beside them. */
int store_rate_charge(Store *store, const char *receiver, const RateLimit *limit, int64_t count,
                      char *err, size_t errlen);

/* Outside a transaction: RECEIVER asked (a 429 or 503 with Retry-After) to
 * be left alone for HOLD_MS. On a shared database every heraldd's claim
 * passes over its tasks until then (the database's clock); with one heraldd
 * its scheduler's own hold is all there is, and this does nothing. */
int store_receiver_hold(Store *store, const char *receiver, int64_t hold_ms, int64_t now,
                        char *err, size_t errlen);

/* How long RECEIVER's hold (store_receiver_hold, any heraldd's) lasts yet,
 * in ms: 0 if none. */
int store_receiver_held(Store *store, const char *receiver, int64_t *held_ms, char *err,
                        size_t errlen);

#endif
