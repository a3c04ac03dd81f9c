/*
 * api_internal: what api.c (the server: routing, reading, lifecycle) and
 * api_call.c (the request as handlers see it, and sending its reply) share.
 * Nothing else includes this file; handlers use api_call.h.
 */
#ifndef HERALD_API_INTERNAL_H
#define HERALD_API_INTERNAL_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "address.h"
#include "api.h"
#include "api_conn.h"
#include "api_call.h"
#include "buffer.h"
#include "store_pool.h"
#include "task.h"

/* What a route captures from a path: a task id (19 digits), a business type
 * (64 characters), a receiver (scheme://host:port, or any target URL of it);
 * a longer one is refused by the handler, up to this. */
#define API_PATH_PARAMETER_MAX (TASK_TARGET_URL_MAX + 1)
#define API_ALLOW_MAX 24 /* "GET, HEAD, POST" */
#define API_QUERY_MAX 16 /* query parameters one request may give */

struct Api {
    struct MHD_Daemon *daemon;
    ApiOptions options;
    char address[ADDRESS_TEXT_MAX];
    StorePool readers; /* one read connection per HTTP thread */
    ApiConns *conns;   /* the slow-client guard */
    atomic_bool refuse_writes; /* draining: writes get 503, replies close their connection */
    int listen_fd;   /* the listening socket's descriptor, libmicrohttpd's to close */
    int idle_writer; /* the write end of the pipe api_drain left in its place, or -1 */
    atomic_int calls_in_progress;
};

typedef enum {
    API_CALL_READING,
    API_CALL_SUSPENDED,
    API_CALL_REPLIED,
} ApiCallStage;

struct ApiCall {
    Api *api;
    struct MHD_Connection *connection;
    const ApiRoute *route;
    char *path_parameter; /* heap, NULL: none (long enough for a URL, so not inline) */
    Buffer body;
    size_t discarded; /* bytes of an over-long body thrown away */
    ApiCallStage stage;
    bool has_reply;
    int status;
    cJSON *reply_body;
    char *reply_text;        /* instead of reply_body, with reply_type */
    const char *reply_static; /* or this, REPLY_SIZE bytes not ours to free */
    size_t reply_size;
    const ApiHeader *reply_headers; /* extra headers, static; NULL: none */
    const char *reply_type;
    int retry_after;
    bool close_connection; /* "Connection: close": nothing more is read from the client */
    char allow[API_ALLOW_MAX]; /* for 405: the methods the path takes */
    const char *actor; /* the token's name, or "local"; points into the Auth */
    ApiHandler resumed;
    Store *reader;
    void *state;
    void (*free_state)(void *state);
};

/* Queues CALL's reply (JSON body, or text) on its connection and marks the
 * call replied; the reply's memory passes to libmicrohttpd. */
enum MHD_Result api_call_send(ApiCall *call);

#endif
