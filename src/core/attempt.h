/*
 * attempt: one delivery attempt as recorded in the attempt log, and the
 * outcome it decides for its task (succeeded, retry later, or manual).
 */
#ifndef HERALD_ATTEMPT_H
#define HERALD_ATTEMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "task.h"

#define ATTEMPT_ERROR_CLASS_MAX 24
#define ATTEMPT_ERROR_MESSAGE_MAX 256

typedef struct Attempt {
    int64_t task_id;
    int attempt;           /* 1-based */
    int64_t started_at;    /* Unix ms */
    int64_t duration_ms;
    int status_code;       /* 0 = no response */
    char error_class[ATTEMPT_ERROR_CLASS_MAX]; /* "" on success: timeout, connect, dns, tls,
                                                  network, http_status, redirect,
                                                  body_mismatch, interrupted, ... */
    char error_message[ATTEMPT_ERROR_MESSAGE_MAX];
    char *response_body;   /* owned; at most max_response_bytes; NULL if none */
    size_t response_length;
    bool response_truncated;
    char *receiver;        /* owned; the scheme://host:port it went to (NULL: not known,
                              as for attempts logged before herald kept it) */
} Attempt;

typedef enum {
    ATTEMPT_OUTCOME_SUCCEEDED,
    ATTEMPT_OUTCOME_RETRY,  /* pending again, due at next_attempt_at */
    ATTEMPT_OUTCOME_MANUAL, /* failed: into the manual-handling table with manual_reason */
} AttemptOutcomeKind;

/* What an outcome did to its receiver's circuit breaker. */
typedef enum {
    ATTEMPT_BREAKER_KEPT,         /* nothing worth a log line */
    ATTEMPT_BREAKER_OPENED,       /* the failures reached breaker_failures */
    ATTEMPT_BREAKER_PROBE_FAILED, /* still open; the next probe later */
    ATTEMPT_BREAKER_CLOSED,       /* a success: the receiver is back */
    ATTEMPT_BREAKER_DEFERRED,     /* it would open, but a heraldd of an earlier release is
                                     on the database (it would not honour it) */
} AttemptBreakerChange;

typedef struct AttemptOutcome {
    Attempt attempt;
    AttemptOutcomeKind kind;
    int64_t next_attempt_at;   /* for ATTEMPT_OUTCOME_RETRY */
    const char *manual_reason; /* static: "exhausted", "gone" */
    /* The claim it belongs to: the outcome applies only while the task still
     * holds this token (store_record_outcomes). */
    char claim_token[TASK_CLAIM_TOKEN_SIZE];
    /* Set by store_record_outcomes: the claim had ended (its lease expired and
     * the task was rescued, perhaps claimed again), so nothing was written. */
    bool fenced;
    /* The receiver's circuit breaker (store_breaker.c), set by the scheduler
     * from the task's policy: the consecutive failures that open it
     * (breaker_failures; 0: this attempt does not count against the
     * receiver, attempt_counts_against_receiver), the first wait before a
     * probe and the cap of its backoff. */
    int breaker_failures;
    int64_t breaker_probe_ms;
    int64_t breaker_probe_max_ms;
    /* A 429 or 503 with Retry-After held the receiver this long from now
     * (receivers_judge; 0: no new hold): shared with every heraldd on the
     * database (store_receiver_hold) before the outcome is written. */
    int64_t hold_ms;
    /* Set by store_record_outcomes: the receiver's circuit is open, so a
     * failure parked the task (pending, never into manual handling: kind is
     * then RETRY), with EXTRA_ATTEMPTS given back to its budget; and what
     * the breaker did and its count of failures then (on the last outcome
     * of its receiver in the turn). The scheduler's own decision is kept
     * aside (decided_*) for a turn written again. */
    bool parked;
    int extra_attempts;
    AttemptBreakerChange breaker_change;
    int breaker_count;
    bool breaker_saved;
    AttemptOutcomeKind decided_kind;
    int64_t decided_next_attempt_at;
    const char *decided_manual_reason;
    /* Its task's place in its ordering key (0: none), from the claim; and,
     * set by store_record_outcomes, the receiver of the task its end made
     * due (heap, freed with the outcome; NULL: none), which the scheduler
     * wakes once the turn committed. */
    int64_t ordering_seq;
    char *released_host;
    /* For the log line written once the outcome is stored: also the
     * attempt's span (deliver_trace.h), "" when its task has no trace. */
    char trace_id[33];
    char span_id[17];
    char business_type[TASK_BUSINESS_TYPE_MAX + 1];
    char business_id[TASK_BUSINESS_ID_MAX * 4 + 1];
} AttemptOutcome;

/* "timeout: Operation timed out..." or "http_status: HTTP 500": the task's last_error. */
void attempt_describe(const Attempt *attempt, char *out, size_t size);

/* Whether ATTEMPT's failure is its receiver's (5xx, a timeout, a refused
 * or failed connection, TLS, DNS, a broken transfer or a reply that is not
 * HTTP): those count toward
 * opening its circuit. A success, an answer the receiver meant (4xx, 410,
 * a redirect, a body that does not match, a response too large, 429 which
 * holds the receiver instead) and herald's own refusals and interruptions
 * (blocked_address, interrupted) do not. */
bool attempt_counts_against_receiver(const Attempt *attempt);

/* Frees the response body and the receiver and zeroes the struct. */
void attempt_clear(Attempt *attempt);

#endif
