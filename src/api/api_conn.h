/*
 * api_conn: the API's client connections, guarded against slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends
 * one header line every few seconds is never idle, so a few dozen such
 * clients used to hold every connection slot (slowloris) and /healthz timed
 * out. api_conn gives each connection deadlines of its own:
 *   - its request head (request line and headers) must be complete within
 *     header_timeout of the connection opening or of its previous response
 *     (so an idle keep-alive connection is closed after header_timeout too);
 *   - its body must be complete within body_timeout of its head.
 * And it keeps the connections that are "slow" in this sense (waiting for a
 * head, idle between requests, or reading a body) to at most max_slow: beyond
 * that, those slow longest are closed (never one slow for less than a
 * second, so a burst of new connections has time to send). With max_slow at
 * half of max_connections, clients that send their requests promptly always
 * find a slot within a second, whatever a flood of slow clients does.
 *
 * A connection is closed by shutdown(2) of its socket from the guard's own
 * thread ("herald-conn"); libmicrohttpd then sees the end and cleans up.
 * libmicrohttpd reports a connection closed (api_conn_notify) before it
 * closes the socket, and both the report and the shutdown happen under the
 * guard's lock, so a socket number is never shut down after its reuse.
 *
 * Requests that end badly (client gone, timeouts, read errors), the guard's
 * own closures and libmicrohttpd's complaints are counted and logged once
 * per interval, with a few client addresses: a flood costs a few log lines,
 * not one per connection.
 *
 * Threads: every function may be called from any thread.
 */
#ifndef HERALD_API_CONN_H
#define HERALD_API_CONN_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ApiConns ApiConns;

typedef struct ApiConnsOptions {
    int64_t header_timeout_ms;
    int64_t body_timeout_ms;
    unsigned max_slow; /* connections waiting for a head or reading a body, at most */
} ApiConnsOptions;

/* Starts the guard's thread. Returns the guard (the caller owns it:
 * api_conn_stop, after the HTTP daemon has stopped), or NULL with ERR set. */
ApiConns *api_conn_start(const ApiConnsOptions *options, char *err, size_t errlen);

/* Stops the thread, logs what is still uncounted, frees CONNS. */
void api_conn_stop(ApiConns *conns);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; CLS is the guard. */
void api_conn_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);

/* CONNECTION's request head arrived: its body deadline starts. */
void api_conn_head_received(ApiConns *conns, struct MHD_Connection *connection);

/* CONNECTION's request is read whole: no deadline while it is handled. */
void api_conn_body_received(ApiConns *conns, struct MHD_Connection *connection);

/* CONNECTION's request ended with CODE (libmicrohttpd's NOTIFY_COMPLETED):
 * it waits for its next head, and a bad ending is counted. */
void api_conn_request_done(ApiConns *conns, struct MHD_Connection *connection,
                           enum MHD_RequestTerminationCode code);

/* How many client connections are open (those libmicrohttpd could not give
 * a guard entry, for want of memory, are not counted). */
unsigned api_conn_open(ApiConns *conns);

/* libmicrohttpd's own complaints (one per dropped connection in a flood):
 * true if MESSAGE should be logged now, the first of its kind in this
 * interval; the others are only counted in the summary. */
bool api_conn_server_message(ApiConns *conns, const char *message);

#endif
