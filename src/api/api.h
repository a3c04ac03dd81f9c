/*
 * api: the HTTP server (libmicrohttpd, a pool of epoll threads).
 *
 * api.c owns the daemon and everything common to requests: the route table,
 * authentication, body reading with a hard cap (refused early from
 * Content-Length and again while a chunked body arrives), Content-Type
 * checks, JSON replies and errors. Handlers live by resource in api_tasks.c,
 * api_system.c, ... and see a request only through api_call.h.
 *
 * Handlers never block on the database's fsync: a write suspends its
 * connection, hands the work to the intake writer, and is resumed when the
 * commit is done, so a few HTTP threads serve hundreds of waiting requests.
 */
#ifndef HERALD_API_H
#define HERALD_API_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "auth.h"
#include "intake.h"
#include "netguard.h"
#include "policy.h"

typedef struct Api Api;

typedef struct ApiOptions {
    const char *listen;             /* "HOST:PORT"; port 0 picks a free one */
    unsigned threads;               /* 0 = one per CPU */
    unsigned max_connections;
    unsigned max_connections_per_ip; /* 0 = no limit */
    size_t max_header_bytes;         /* libmicrohttpd's per-connection memory */
    unsigned connection_timeout_s;  /* libmicrohttpd's idle timeout */
    int64_t header_timeout_ms;      /* a request head must be complete within this */
    int64_t body_timeout_ms;        /* and its body within this of the head */
    size_t max_body;                /* bytes */
    const Auth *auth;               /* NULL = no authentication; not owned */
    Intake *intake;                 /* not owned; must outlive the Api */
    const StoreLocation *store_location; /* for the read connections; not owned */
    /* The policies now (a reload replaces them): manual retries' budgets,
     * GET /v1/policies. */
    const PolicySet *(*policies)(void);
    const NetGuard *guard;          /* literal target addresses refused at intake; not owned */
    /* Tells the scheduler that tasks for HOSTS became due at DUE (manual
     * retries); called on the HTTP thread after the commit. */
    void (*on_tasks_due)(void *argument, const char *const *hosts, size_t count, int64_t due);
    void *on_tasks_due_argument;
    /* Tells the scheduler that a receiver was paused or resumed (committed);
     * called on the HTTP thread with on_tasks_due_argument. */
    void (*on_receivers_changed)(void *argument);
    /* Tells the redeliverer a redelivery job was created (committed); called
     * on the HTTP thread with on_tasks_due_argument. */
    void (*on_redelivery_created)(void *argument);
    /* The configuration in force now (a reload replaces it): /readyz reads
     * [alert] max_lag from it. */
    const struct Config *(*config)(void);
} ApiOptions;

/* Binds, opens the read connections and starts serving. Returns the Api (the
 * caller owns it: api_stop), or NULL with a message in ERR. */
Api *api_start(const ApiOptions *options, char *err, size_t errlen);

/* The address actually bound, e.g. "127.0.0.1:43817". */
const char *api_address(const Api *api);

/* The first step of a graceful stop: requests that would write get 503
 * unavailable with Retry-After from now on; the listening socket closes (new
 * connections are refused, so a load balancer moves on); requests on
 * connections already open are still answered, every reply with
 * Connection: close, until none is open or DRAIN_MS has passed. */
void api_drain(Api *api, int64_t drain_ms);

/* Lets requests in progress finish (bounded), stops the daemon (closing
 * what is still open) and frees API. Call after api_drain() and
 * intake_stop(), so no request is left waiting for the writer, and before
 * intake_free(), since a request in progress may still call intake_submit().
 * Safe if API is NULL. */
void api_stop(Api *api);

#endif
