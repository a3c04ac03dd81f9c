/*
 * api_call: one HTTP request as its handler sees it.
 *
 * A handler reads the request (path parameter, query, headers, body), then
 * either replies at once (api_call_reply / api_call_reply_error) or suspends
 * the call (api_call_suspend), hands work to another thread, and has that
 * thread call api_call_resume(); the RESUMED function then runs on an HTTP
 * thread and replies. Everything attached to a call is freed when the
 * request completes.
 */
#ifndef HERALD_API_CALL_H
#define HERALD_API_CALL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "intake.h"
#include "netguard.h"
#include "policy.h"
#include "store.h"

typedef struct ApiCall ApiCall;
typedef void (*ApiHandler)(ApiCall *call);

typedef struct ApiRoute {
    const char *method;  /* "GET" (also answers HEAD) or "POST" */
    const char *pattern; /* "/v1/tasks/{id}": at most one {name} segment */
    const char *const *query; /* the query parameters it takes (NULL-terminated); NULL: none */
    bool json_body;      /* a body, if any, must be JSON (Content-Type is checked) */
    bool writes;         /* refused with 503 while herald shuts down */
    bool public;         /* no authentication (health checks) */
    ApiHandler handler;
    bool intake;         /* counted in herald_intake_requests_total */
} ApiRoute;

/* A newest-first page's query: "limit" (1 to 500, DEFAULT_LIMIT when not
 * given) into *LIMIT and "before" (an id, INT64_MAX when not given) into
 * *BEFORE. Returns false with a 400 naming the parameter (WHAT: "an alert
 * id") already set. */
bool api_call_read_page(ApiCall *call, long default_limit, const char *what, long *limit,
                        int64_t *before);

/* The {name} segment of the path ({id}, {business_type}), or "" if the
 * route has none. */
const char *api_call_path_parameter(const ApiCall *call);

/* A query-string argument or request header, or NULL. */
const char *api_call_query(ApiCall *call, const char *name);
const char *api_call_header(ApiCall *call, const char *name);
/* Every value of header NAME (it may be sent more than once), in order: up
 * to MAX into VALUES (borrowed, valid during the call). Returns how many
 * there are, which may be more than MAX. */
size_t api_call_header_values(ApiCall *call, const char *name, const char **values, size_t max);

/* The request body (NUL-terminated; LENGTH excludes the NUL). */
const char *api_call_body(const ApiCall *call, size_t *length);

/* A read connection to the database for the duration of the handler (or
 * the resumed handler), returned to the pool when it returns (api.c). The
 * pool has one per HTTP thread and a thread runs one handler at a time, so
 * one is always free: it does not wait, and never returns NULL. */
Store *api_call_reader(ApiCall *call);

Intake *api_call_intake(const ApiCall *call);

/* Who is asking: the API token's name, or "local" without authentication. */
const char *api_call_actor(const ApiCall *call);

const PolicySet *api_call_policies(const ApiCall *call);

const NetGuard *api_call_guard(const ApiCall *call);

/* The server's options (readiness limits and the like). */
const struct ApiOptions *api_call_options(const ApiCall *call);

/* Tells the scheduler that this call paused or resumed a receiver. */
void api_call_announce_receivers(ApiCall *call);

/* Wakes the scheduler for tasks of HOSTS made due at DUE by this call. */
void api_call_announce_due(ApiCall *call, const char *const *hosts, size_t count, int64_t due);

/* Sets the reply; takes ownership of BODY. */
void api_call_reply(ApiCall *call, int status, cJSON *body);
void api_call_reply_error(ApiCall *call, const ApiError *error);
/* Shortcut for api_call_reply_error. */
void api_call_fail(ApiCall *call, int status, const char *code, const char *field,
                   const char *format, ...) __attribute__((format(printf, 5, 6)));

/* Sets a reply that is not JSON; takes ownership of TEXT (heap). */
void api_call_reply_text(ApiCall *call, int status, const char *content_type, char *text);

/* A response header; arrays of them end with {NULL, NULL}. */
typedef struct ApiHeader {
    const char *name;
    const char *value;
} ApiHeader;

/* Sets a reply of SIZE bytes at DATA, which must outlive the server (a file
 * embedded in the binary: sent without a copy), with HEADERS (static, or
 * NULL) added. */
void api_call_reply_static(ApiCall *call, int status, const char *content_type, const char *data,
                           size_t size, const ApiHeader *headers);

/* Adds "Retry-After: SECONDS" to the reply. */
void api_call_set_retry_after(ApiCall *call, int seconds);

/* Attaches STATE to the call; FREE_STATE(STATE) runs when the request completes. */
void api_call_set_state(ApiCall *call, void *state, void (*free_state)(void *state));
void *api_call_state(const ApiCall *call);

/* Suspends the call until api_call_resume(); then RESUMED runs and replies.
 * Call it before handing the call to another thread. */
void api_call_suspend(ApiCall *call, ApiHandler resumed);

/* Thread-safe: wakes a suspended call. */
void api_call_resume(ApiCall *call);

/* Suspends CALL (RESUMED answers it) and hands JOB to the intake writer,
 * whose on_done must resume it. If intake refuses the job (stopping, queue
 * full) the job is marked INTAKE_JOB_UNAVAILABLE with the reason and the
 * call resumed at once. */
void api_call_submit(ApiCall *call, IntakeJob *job, ApiHandler resumed);

#endif
