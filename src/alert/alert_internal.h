/*
 * alert_internal: what the alert checker's files share (alert.c: the
 * thread, the alerts' state machines, retention; alert_send.c: the
 * leader's sending and its resolving of gone instances' alerts;
 * alert_circuit.c: the receivers whose circuit stays open). Nothing
 * else includes it.
 */
#ifndef HERALD_ALERT_INTERNAL_H
#define HERALD_ALERT_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "alert_lead.h"
#include "alert_sink.h"
#include "store.h"

/* How long a leader's claim on an alert it sends keeps others from sending
 * it: both sinks' timeouts and a margin. A leader that dies holding one
 * delays that alert by at most this much. */
#define ALERT_CLAIM_MS (ALERT_SINK_WEBHOOK_TIMEOUT_MS + ALERT_SINK_COMMAND_TIMEOUT_MS + 5000)

typedef struct AlertState {
    const char *kind;
    const char *instance; /* the instance it is about (delivery_lag); NULL: all (the backlog) */
    bool fenced;          /* the leader's: recorded only under the lease's term */
    bool firing;
    int64_t last_count;    /* the count of the last alert sent */
    int64_t last_fired_at; /* wall clock, ms */
} AlertState;

struct AlertChecker {
    AlertOptions options;
    char *webhook_url;
    char *command;
    Store *store;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stopping and pending (a reload's options) */
    bool has_pending;
    AlertOptions pending;
    char *pending_webhook_url;
    char *pending_command;
    pthread_cond_t wake;
    bool stopping;
    AlertState backlog;
    AlertState lag;
    AlertState circuits; /* circuit_open (alert_circuit.c) */
    AlertState ordering; /* ordering_blocked (alert_ordering.c) */
    AlertLead lead; /* runs the singletons while lead.leader */
    int64_t next_full_turn; /* monotonic ms: the next turn that checks and sends */
};

typedef struct AlertInsert {
    StoreFence fence; /* term 0: an instance's own alert, not fenced */
    StoreAlertRecord record;
    int64_t id; /* out */
    bool refused; /* out: the fence or after_id refused it */
} AlertInsert;

/* UNIX_MS as an RFC 3339 string value. */
cJSON *alert_time(int64_t unix_ms);

/* Runs INSERT through the writer. Returns 0 (see insert->refused), or -1
 * with ERR. */
int alert_store(AlertChecker *checker, AlertInsert *insert, char *err, size_t errlen);

/* Decides whether STATE fires, repeats, resolves or stays quiet, given
 * whether its CONDITION holds with COUNT; DETAILS (owned) describes it
 * (alert_write.c). */
void alert_evaluate(AlertChecker *checker, AlertState *state, bool condition, int64_t count,
                    cJSON *details, int64_t now);

/* The leader's circuit_open alert (alert_circuit.c), at NOW. */
void alert_check_circuits(AlertChecker *checker, int64_t now);

/* The leader's ordering_blocked alert (alert_ordering.c), at NOW. */
void alert_check_ordering(AlertChecker *checker, int64_t now);

/* The leader's duties of alert_send.c: sending every unsent alert, and
 * resolving the alerts of instances that are gone, at NOW. */
void alert_send_pending(AlertChecker *checker);
void alert_resolve_gone(AlertChecker *checker, int64_t now);

#endif
