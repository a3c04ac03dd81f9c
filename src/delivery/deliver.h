/*
 * deliver: one webhook request: building its libcurl easy handle, capturing
 * what the receiver answered, and deciding what that means for the task.
 *
 * The request is POST target_url with the payload bytes as stored and the
 * headers: Content-Type (unless the task sets one), User-Agent, X-Business-ID,
 * X-Business-Type, the task's own headers, webhook-id (stable for the task),
 * webhook-timestamp (this attempt) and X-Herald-Attempt (1-based); a task
 * of an ordering key its place (X-Herald-Ordering-Key, X-Herald-Sequence and
 * its signature); and, when the business type propagates traces, the
 * attempt span's traceparent with the caller's tracestate. Redirects
 * are never followed; only http and https are spoken; proxies from the
 * environment are ignored; every address connected to passes the NetGuard.
 *
 * deliver_classify() and deliver_decide() are pure so that every rule is unit
 * tested; the scheduler owns the Delivery structs and the multi handle.
 */
#ifndef HERALD_DELIVER_H
#define HERALD_DELIVER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "buffer.h"
#include "deliver_trace.h"
#include "netguard.h"
#include "policy.h"
#include "task.h"

typedef struct DeliverOptions {
    int64_t timeout_ms; /* [delivery] timeout, unless the policy sets its own */
    int64_t connect_timeout_ms;
    size_t max_response_bytes; /* kept in the attempt log */
    const NetGuard *guard;     /* which addresses may be connected to; not owned */
    const char *ca_file;       /* NULL or "": the system's CA bundle */
} DeliverOptions;

typedef enum {
    DELIVER_SUCCESS,
    DELIVER_FAILURE, /* retry if the budget allows */
    DELIVER_GONE,    /* 410: straight to manual handling */
} DeliverVerdict;

/* One request in flight. */
typedef struct Delivery {
    Task task; /* owned */
    const Policy *policy;
    const NetGuard *guard;
    CURL *easy;
    struct curl_slist *headers; /* owned; one block, freed with free() */
    Buffer response;            /* the first bytes of the body; the rest is discarded */
    size_t response_total;      /* bytes received in all */
    size_t header_bytes;        /* bytes of the response's header lines so far */
    size_t log_limit;           /* bytes of the body kept in the attempt log */
    int64_t retry_after_ms;     /* from a Retry-After header; -1 = none */
    int64_t started_at;         /* wall clock, Unix ms */
    int64_t started_monotonic;  /* for the duration */
    char blocked_address[64];   /* the address the guard refused, "" if none */
    char error[CURL_ERROR_SIZE];
    DeliverTrace trace; /* the attempt's span */
    void *owner; /* the scheduler's bookkeeping (its host entry) */
} Delivery;

/* What came back, in the terms deliver_classify() needs. */
typedef struct DeliverResponse {
    CURLcode result;
    const char *curl_message; /* libcurl's error buffer, may be "" */
    long status_code;         /* 0 if no response */
    const char *body;         /* the first bytes of the body */
    size_t body_length;
    bool body_complete;       /* false if more was received than kept */
    const char *blocked_address; /* set when the SSRF guard refused the connection */
    size_t header_bytes;      /* bytes of header lines received (DELIVER_HEADERS_MAX) */
    size_t body_total;        /* bytes of body received */
} DeliverResponse;

/* The most header bytes herald takes in a response (the status line and
 * every header, a line or all of them): past it the attempt ends as
 * response_too_large. libcurl's own limits (100 KiB a line, 300 KiB in all,
 * reported as "out of memory" or a receive error) are never reached first. */
#define DELIVER_HEADERS_MAX (100 * 1024)

/* Builds DELIVERY's easy handle for TASK (whose ownership passes to DELIVERY)
 * at wall-clock time NOW_MS. DELIVERY must be zeroed before its first use; its
 * easy handle is then reused (reset) by every later prepare. Returns 0, or -1
 * with ERR set (DELIVERY then still owns the task; free it with
 * deliver_release). */
int deliver_prepare(Delivery *delivery, Task *task, const Policy *policy,
                    const DeliverOptions *options, int64_t now_ms, char *err, size_t errlen);

/* Fills ATTEMPT's status code, error class and message from RESPONSE and
 * returns the verdict. */
DeliverVerdict deliver_classify(const DeliverResponse *response, const Policy *policy,
                                Attempt *attempt);

/* What the task becomes after an attempt with VERDICT: the outcome kind and,
 * for a retry, when. ATTEMPTS is the number of attempts made so far (this one
 * included), RETRY_BASE the attempts made when its schedule last started (the
 * wait is the schedule's for ATTEMPTS - RETRY_BASE failures); RANDOM_UNIT in
 * [0, 1) drives the jitter. */
void deliver_decide(DeliverVerdict verdict, const Policy *policy, int64_t max_retry,
                    int64_t attempts, int64_t retry_base, long status_code,
                    int64_t retry_after_ms, int64_t now_ms, double random_unit,
                    AttemptOutcome *outcome);

/* Turns a finished transfer into OUTCOME (which takes the response body). */
void deliver_finish(Delivery *delivery, CURLcode result, int64_t now_ms, double random_unit,
                    AttemptOutcome *outcome);

/* Logs OUTCOME once it was stored (or fenced: see AttemptOutcome.fenced), one
 * line (a success at debug level); NOW_MS is herald time, for the retry's delay. */
void deliver_log_outcome(const AttemptOutcome *outcome, int64_t now_ms);

/* Frees the headers, buffers and task of the last request; the easy handle
 * stays for the next deliver_prepare (it must not be in a multi handle). */
void deliver_release(Delivery *delivery);

/* deliver_release, and frees the easy handle too: DELIVERY is done with. */
void deliver_close(Delivery *delivery);

#endif
