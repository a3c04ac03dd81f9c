/*
 * api_conn: see api_conn.h. Each connection has an ApiConn (libmicrohttpd's
 * socket context). Those waiting for a head or reading a body are also in
 * one list, oldest first (a connection joins at the tail when it becomes
 * slow, and monotonic time only grows), so the one to evict is the head;
 * the guard's thread scans the list a few times a second for deadlines
 * (it holds at most max_slow entries).
 */
#include "api_conn.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "address.h"
#include "clock.h"
#include "log.h"

/* How often deadlines are checked, and how often the summary may be logged. */
#define API_CONN_TICK_MS 250
#define API_CONN_LOG_INTERVAL_MS 10000
/* Client addresses named in one summary line; distinct server messages
 * logged in full per interval. */
#define API_CONN_SAMPLES 4
#define API_CONN_MESSAGES 4
#define API_CONN_MESSAGE_KEY 48
/* A connection slow for less than this is never evicted: a burst of new
 * connections (a client's pool opening) must have time to send. */
#define API_CONN_EVICT_AFTER_MS 1000

typedef enum {
    API_CONN_WAITING_HEAD,
    API_CONN_READING_BODY,
    API_CONN_BUSY, /* handled, or its reply being sent: no deadline of ours */
} ApiConnState;

typedef struct ApiConn {
    struct MHD_Connection *connection;
    MHD_socket fd;
    ApiConnState state;
    int64_t since; /* monotonic ms the state began */
    bool slow_listed;
    bool closing; /* shut down by the guard; waits for libmicrohttpd's report */
    char address[ADDRESS_TEXT_MAX];
    struct ApiConn *previous; /* in the slow list */
    struct ApiConn *next;
} ApiConn;

/* Why a request or connection ended badly; counted per interval. */
typedef enum {
    API_CONN_CLIENT_ABORT,
    API_CONN_TIMEOUT,
    API_CONN_ERROR,
    API_CONN_READ_ERROR,
    API_CONN_SLOW_HEAD,
    API_CONN_SLOW_BODY,
    API_CONN_EVICTED,
    API_CONN_REASON_COUNT,
} ApiConnReason;

static const char *const api_conn_reason_names[API_CONN_REASON_COUNT] = {
    "client_abort", "timeout", "error", "read_error", "slow_head", "slow_body", "evicted",
};

struct ApiConns {
    ApiConnsOptions options;
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    bool stopping;
    ApiConn *slow_head;
    ApiConn *slow_tail;
    unsigned slow_count;
    unsigned open_count; /* connections libmicrohttpd has open */
    uint64_t counts[API_CONN_REASON_COUNT];
    char samples[API_CONN_SAMPLES][ADDRESS_TEXT_MAX];
    size_t sample_count;
    char messages[API_CONN_MESSAGES][API_CONN_MESSAGE_KEY]; /* logged this interval */
    size_t message_count;
    uint64_t messages_suppressed;
    int64_t next_log; /* monotonic ms */
};

/* ---- the slow list (called with the lock held) ---- */

static void api_conn_unlist(ApiConns *conns, ApiConn *conn)
{
    if (!conn->slow_listed)
        return;
    if (conn->previous != NULL)
        conn->previous->next = conn->next;
    else
        conns->slow_head = conn->next;
    if (conn->next != NULL)
        conn->next->previous = conn->previous;
    else
        conns->slow_tail = conn->previous;
    conn->previous = conn->next = NULL;
    conn->slow_listed = false;
    conns->slow_count--;
}

static void api_conn_count(ApiConns *conns, ApiConnReason reason, const char *address)
{
    conns->counts[reason]++;
    for (size_t i = 0; i < conns->sample_count; i++) {
        if (strcmp(conns->samples[i], address) == 0)
            return;
    }
    if (conns->sample_count < API_CONN_SAMPLES)
        snprintf(conns->samples[conns->sample_count++], ADDRESS_TEXT_MAX, "%s", address);
}

/* Ends CONN's connection: libmicrohttpd sees the socket end and closes it. */
static void api_conn_cut(ApiConns *conns, ApiConn *conn, ApiConnReason reason)
{
    api_conn_unlist(conns, conn);
    conn->closing = true;
    api_conn_count(conns, reason, conn->address);
    /* Nothing to do if it fails: the socket is then already going away. */
    (void)shutdown(conn->fd, SHUT_RDWR);
}

static void api_conn_set_state(ApiConns *conns, ApiConn *conn, ApiConnState state)
{
    api_conn_unlist(conns, conn);
    conn->state = state;
    conn->since = clock_monotonic_ms();
    if (conn->closing || state == API_CONN_BUSY)
        return;
    conn->previous = conns->slow_tail;
    conn->next = NULL;
    if (conns->slow_tail != NULL)
        conns->slow_tail->next = conn;
    else
        conns->slow_head = conn;
    conns->slow_tail = conn;
    conn->slow_listed = true;
    conns->slow_count++;
}

/* Too many slow connections: those slow longest make room, down to
 * max_slow, but none slow for less than API_CONN_EVICT_AFTER_MS. Called with
 * the lock held. */
static void api_conn_evict(ApiConns *conns, int64_t now)
{
    while (conns->slow_count > conns->options.max_slow && conns->slow_head != NULL &&
           now - conns->slow_head->since >= API_CONN_EVICT_AFTER_MS)
        api_conn_cut(conns, conns->slow_head, API_CONN_EVICTED);
}

static ApiConn *api_conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* ---- libmicrohttpd's callbacks ---- */

void api_conn_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    ApiConns *conns = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        ApiConn *conn = calloc(1, sizeof *conn);
        *socket_context = conn;
        if (conn == NULL)
            return; /* unguarded: libmicrohttpd's own timeout still applies */
        conn->connection = connection;
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *peer =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        conn->fd = fd != NULL ? fd->connect_fd : MHD_INVALID_SOCKET;
        if (peer != NULL && peer->client_addr != NULL)
            address_format(peer->client_addr, conn->address);
        else
            snprintf(conn->address, sizeof conn->address, "unknown");
        pthread_mutex_lock(&conns->lock);
        conns->open_count++;
        if (conn->fd == MHD_INVALID_SOCKET)
            conn->closing = true; /* cannot be cut; never listed */
        api_conn_set_state(conns, conn, API_CONN_WAITING_HEAD);
        api_conn_evict(conns, conn->since);
        pthread_mutex_unlock(&conns->lock);
        return;
    }
    ApiConn *conn = *socket_context;
    if (conn == NULL)
        return;
    pthread_mutex_lock(&conns->lock);
    api_conn_unlist(conns, conn);
    conns->open_count--;
    pthread_mutex_unlock(&conns->lock);
    free(conn);
    *socket_context = NULL;
}

static void api_conn_move(ApiConns *conns, struct MHD_Connection *connection, ApiConnState state)
{
    ApiConn *conn = api_conn_of(connection);
    if (conn == NULL)
        return;
    pthread_mutex_lock(&conns->lock);
    api_conn_set_state(conns, conn, state);
    pthread_mutex_unlock(&conns->lock);
}

void api_conn_head_received(ApiConns *conns, struct MHD_Connection *connection)
{
    api_conn_move(conns, connection, API_CONN_READING_BODY);
}

void api_conn_body_received(ApiConns *conns, struct MHD_Connection *connection)
{
    api_conn_move(conns, connection, API_CONN_BUSY);
}

void api_conn_request_done(ApiConns *conns, struct MHD_Connection *connection,
                           enum MHD_RequestTerminationCode code)
{
    ApiConn *conn = api_conn_of(connection);
    if (conn == NULL)
        return;
    pthread_mutex_lock(&conns->lock);
    ApiConnReason reason = API_CONN_REASON_COUNT;
    switch (code) {
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: reason = API_CONN_CLIENT_ABORT; break;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: reason = API_CONN_TIMEOUT; break;
    case MHD_REQUEST_TERMINATED_WITH_ERROR: reason = API_CONN_ERROR; break;
    case MHD_REQUEST_TERMINATED_READ_ERROR: reason = API_CONN_READ_ERROR; break;
    default: break; /* completed, or the daemon stopping */
    }
    /* A connection the guard cut was counted when it was cut. */
    if (reason != API_CONN_REASON_COUNT && !conn->closing)
        api_conn_count(conns, reason, conn->address);
    api_conn_set_state(conns, conn, API_CONN_WAITING_HEAD);
    pthread_mutex_unlock(&conns->lock);
}

unsigned api_conn_open(ApiConns *conns)
{
    pthread_mutex_lock(&conns->lock);
    unsigned open = conns->open_count;
    pthread_mutex_unlock(&conns->lock);
    return open;
}

bool api_conn_server_message(ApiConns *conns, const char *message)
{
    bool first = true;
    pthread_mutex_lock(&conns->lock);
    for (size_t i = 0; i < conns->message_count && first; i++)
        first = strncmp(conns->messages[i], message, API_CONN_MESSAGE_KEY - 1) != 0;
    if (first && conns->message_count < API_CONN_MESSAGES)
        snprintf(conns->messages[conns->message_count++], API_CONN_MESSAGE_KEY, "%s", message);
    else
        first = false;
    if (!first)
        conns->messages_suppressed++;
    pthread_mutex_unlock(&conns->lock);
    return first;
}

/* ---- the guard's thread ---- */

/* Cuts every connection past its deadline. Called with the lock held. */
static void api_conn_enforce(ApiConns *conns, int64_t now)
{
    ApiConn *conn = conns->slow_head;
    while (conn != NULL) {
        ApiConn *next = conn->next;
        bool head = conn->state == API_CONN_WAITING_HEAD;
        int64_t limit = head ? conns->options.header_timeout_ms : conns->options.body_timeout_ms;
        if (now - conn->since >= limit)
            api_conn_cut(conns, conn, head ? API_CONN_SLOW_HEAD : API_CONN_SLOW_BODY);
        conn = next;
    }
}

/* The summary of the interval into LINE ("" if nothing happened), and resets
 * the counts. Called with the lock held. */
static void api_conn_take_summary(ApiConns *conns, char *line, size_t size, bool *guarded)
{
    line[0] = '\0';
    uint64_t total = 0;
    for (int i = 0; i < API_CONN_REASON_COUNT; i++)
        total += conns->counts[i];
    uint64_t suppressed = conns->messages_suppressed;
    conns->message_count = 0;
    conns->messages_suppressed = 0;
    if (total == 0 && suppressed == 0)
        return;
    size_t used = (size_t)snprintf(line, size, "event=connections_cut interval_s=%d total=%llu",
                                   API_CONN_LOG_INTERVAL_MS / 1000, (unsigned long long)total);
    for (int i = 0; i < API_CONN_REASON_COUNT && used < size; i++) {
        if (conns->counts[i] > 0)
            used += (size_t)snprintf(line + used, size - used, " %s=%llu",
                                     api_conn_reason_names[i],
                                     (unsigned long long)conns->counts[i]);
    }
    if (suppressed > 0 && used < size)
        used += (size_t)snprintf(line + used, size - used, " server_messages_suppressed=%llu",
                                 (unsigned long long)suppressed);
    for (size_t i = 0; i < conns->sample_count && used < size; i++)
        used += (size_t)snprintf(line + used, size - used, "%s%s", i == 0 ? " clients=" : ",",
                                 conns->samples[i]);
    *guarded = conns->counts[API_CONN_SLOW_HEAD] + conns->counts[API_CONN_SLOW_BODY] +
                   conns->counts[API_CONN_EVICTED] > 0;
    memset(conns->counts, 0, sizeof conns->counts);
    conns->sample_count = 0;
}

static void api_conn_log(const char *line, bool guarded)
{
    if (line[0] == '\0')
        return;
    if (guarded)
        log_warning("%s detail=\"slow clients were disconnected ([server] header_timeout, "
                    "body_timeout)\"", line);
    else
        log_info("%s", line);
}

static void *api_conn_main(void *argument)
{
    ApiConns *conns = argument;
    pthread_setname_np(pthread_self(), "herald-conn");
    char line[512];
    pthread_mutex_lock(&conns->lock);
    while (!conns->stopping) {
        int64_t now = clock_monotonic_ms();
        api_conn_enforce(conns, now);
        api_conn_evict(conns, now);
        bool guarded = false;
        line[0] = '\0';
        if (now >= conns->next_log) {
            api_conn_take_summary(conns, line, sizeof line, &guarded);
            conns->next_log = now + API_CONN_LOG_INTERVAL_MS;
        }
        if (line[0] != '\0') {
            pthread_mutex_unlock(&conns->lock);
            api_conn_log(line, guarded);
            pthread_mutex_lock(&conns->lock);
        }
        struct timespec deadline = clock_monotonic_deadline(API_CONN_TICK_MS);
        if (!conns->stopping)
            pthread_cond_timedwait(&conns->wake, &conns->lock, &deadline);
    }
    pthread_mutex_unlock(&conns->lock);
    return NULL;
}

ApiConns *api_conn_start(const ApiConnsOptions *options, char *err, size_t errlen)
{
    ApiConns *conns = calloc(1, sizeof *conns);
    if (conns == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    conns->options = *options;
    if (conns->options.max_slow == 0)
        conns->options.max_slow = 1;
    conns->next_log = clock_monotonic_ms() + API_CONN_LOG_INTERVAL_MS;
    pthread_mutex_init(&conns->lock, NULL);
    clock_cond_init(&conns->wake);
    int rc = pthread_create(&conns->thread, NULL, api_conn_main, conns);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the connection guard: %s", strerror(rc));
        pthread_cond_destroy(&conns->wake);
        pthread_mutex_destroy(&conns->lock);
        free(conns);
        return NULL;
    }
    return conns;
}

void api_conn_stop(ApiConns *conns)
{
    if (conns == NULL)
        return;
    pthread_mutex_lock(&conns->lock);
    conns->stopping = true;
    pthread_cond_signal(&conns->wake);
    pthread_mutex_unlock(&conns->lock);
    pthread_join(conns->thread, NULL);
    char line[512];
    bool guarded = false;
    api_conn_take_summary(conns, line, sizeof line, &guarded);
    api_conn_log(line, guarded);
    pthread_cond_destroy(&conns->wake);
    pthread_mutex_destroy(&conns->lock);
    free(conns);
}
