/*
 * api: see api.h. The life of a request in api_access():
 *
 *   first call      route, authenticate, check Content-Type and
 *                   Content-Length; errors are answered before any body is read
 *   upload calls    append to the body, refusing past max_body
 *   final call      run the handler; it replies, or suspends the connection
 *   after resume    run the handler's "resumed" function, which replies
 *
 * api_completed() frees the call whatever happened (including a client that
 * went away).
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_call.h"
#include "api_conn.h"
#include "api_framing.h"
#include "api_internal.h"
#include "api_route.h"
#include "buffer.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "origin_guard.h"
#include "store_pool.h"
#include "utf8.h"

#define API_LISTEN_BACKLOG 1024
#define API_STOP_GRACE_MS 3000
/* What a write refused while draining is told to wait. */
#define API_DRAIN_RETRY_AFTER_S 5
/* Once a body is over the limit, read at most this much more before hanging up. */
#define API_DISCARD_MAX (1024 * 1024)
/* At most this much of an announced Content-Length is allocated before the
 * bytes arrive: enough for a batch of a hundred tasks in one allocation, while
 * a client announcing max_body on every connection gets no more than this. */
#define API_BODY_RESERVE_MAX (64 * 1024)

/* What api_check_query found wrong with a query string. */
typedef struct ApiQueryCheck {
    const ApiRoute *route;
    const char *seen[API_QUERY_MAX];
    size_t seen_count;
    const char *unknown;  /* a name the route does not take */
    const char *repeated; /* a name given twice */
    const char *empty;    /* a name given without a value */
    const char *garbled;  /* a name whose value holds a NUL or is not UTF-8 */
    bool nul;             /* garbled by a NUL (else by bytes that are not UTF-8) */
} ApiQueryCheck;

static enum MHD_Result api_check_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                          size_t key_size, const char *value,
                                          size_t value_size)
{
    (void)kind;
    ApiQueryCheck *check = cls;
    /* Decoded, %00 would end the C string early (a%00b searched for a), and
     * bytes that are not UTF-8 are no text any backend can compare: both
     * are the client's error, the same on every backend. */
    bool nul = strlen(key) != key_size || (value != NULL && strlen(value) != value_size);
    if (nul || !utf8_is_valid(key, key_size) ||
        (value != NULL && !utf8_is_valid(value, value_size))) {
        check->garbled = key;
        check->nul = nul;
        return MHD_NO;
    }
    bool known = false;
    for (const char *const *name = check->route->query; name != NULL && *name != NULL; name++)
        known |= strcmp(*name, key) == 0;
    if (!known) {
        check->unknown = key;
        return MHD_NO;
    }
    if (value == NULL || value[0] == '\0') {
        check->empty = key;
        return MHD_NO;
    }
    for (size_t i = 0; i < check->seen_count; i++) {
        if (strcmp(check->seen[i], key) == 0) {
            check->repeated = key;
            return MHD_NO;
        }
    }
    if (check->seen_count < API_QUERY_MAX)
        check->seen[check->seen_count++] = key;
    return MHD_YES;
}

/* Every query argument must be one the route takes, once, with a value: a
 * typo such as ?type= for ?business_type= is refused, never silently ignored. Sets a 400
 * reply and returns -1 otherwise. */
static int api_check_query(ApiCall *call)
{
    ApiQueryCheck check = {.route = call->route};
    MHD_get_connection_values_n(call->connection, MHD_GET_ARGUMENT_KIND, api_check_argument,
                                &check);
    if (check.garbled != NULL) {
        char name[65];
        snprintf(name, sizeof name, "%s", check.garbled);
        utf8_repair(name); /* it is echoed in JSON */
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "invalid_parameter", name,
                      check.nul ? "query parameter \"%s\" holds an encoded NUL (%%00)"
                                : "query parameter \"%s\" is not valid UTF-8 once decoded",
                      name);
        return -1;
    }
    if (check.unknown != NULL) {
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "invalid_parameter", check.unknown,
                      "unknown query parameter \"%.64s\"", check.unknown);
        return -1;
    }
    if (check.empty != NULL) {
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "invalid_parameter", check.empty,
                      "query parameter \"%s\" needs a value", check.empty);
        return -1;
    }
    if (check.repeated != NULL) {
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "invalid_parameter", check.repeated,
                      "query parameter \"%s\" given twice", check.repeated);
        return -1;
    }
    return 0;
}

static bool api_is_json_content_type(const char *value)
{
    static const char json[] = "application/json";
    if (value == NULL || strncasecmp(value, json, sizeof json - 1) != 0)
        return false;
    char next = value[sizeof json - 1];
    return next == '\0' || next == ';' || next == ' ';
}

/* What no web page may do (origin_guard.h): be answered under a name that
 * is not herald's (DNS rebinding), or send from another site what changes
 * or reads data. Without tokens the Host is always checked, since loopback
 * is then all that guards the data; with them, only once allowed_hosts
 * names herald's hosts (a rebinding page has no token, and services that
 * reach herald by a name of their own keep working). Returns -1 with the
 * reply set. */
static int api_check_browser(ApiCall *call, const char *method, const char *version,
                             bool public)
{
    const char *allowed = call->api->options.config()->allowed_hosts;
    const char *host = api_call_header(call, MHD_HTTP_HEADER_HOST);
    if (host == NULL && strcmp(version, MHD_HTTP_VERSION_1_0) != 0) {
        /* RFC 9112 section 3.2: an HTTP/1.1 request without Host is refused
         * (libmicrohttpd 0.9.75 takes it). */
        call->close_connection = true;
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "bad_request", "Host",
                      "an HTTP/1.1 request needs a Host header");
        return -1;
    }
    bool check_host = call->api->options.auth == NULL || allowed[0] != '\0';
    /* HTTP/1.0 may leave Host out (a browser never does). */
    if (check_host && host != NULL && !origin_guard_host_is_own(host, allowed)) {
        call->close_connection = true;
        api_call_fail(call, MHD_HTTP_MISDIRECTED_REQUEST, "misdirected_request", "Host",
                      "Host \"%.64s\" is not a name of this herald; list the names clients "
                      "use in [server] allowed_hosts",
                      host);
        return -1;
    }
    OriginRequest request = {
        .method = method,
        .reads_data = !public,
        .host = host,
        .origin = api_call_header(call, MHD_HTTP_HEADER_ORIGIN),
        .fetch_site = api_call_header(call, "Sec-Fetch-Site"),
        .fetch_mode = api_call_header(call, "Sec-Fetch-Mode"),
        .fetch_dest = api_call_header(call, "Sec-Fetch-Dest"),
    };
    const char *evidence = origin_guard_cross_site(&request, allowed);
    if (evidence == NULL)
        return 0;
    api_call_fail(call, MHD_HTTP_FORBIDDEN, "cross_site_request", evidence,
                  "a request from another site's page is refused (%s: %.64s); herald is "
                  "driven by its own console, heraldctl and clients that are not browsers",
                  evidence, strcmp(evidence, "Origin") == 0 ? request.origin : request.fetch_site);
    return -1;
}

/* The checks made before any of the body is read. Sets a reply on failure. */
static void api_begin_call(ApiCall *call, const char *url, const char *method,
                           const char *version)
{
    if (api_framing_check(call, version) != 0)
        return;
    char parameter[API_PATH_PARAMETER_MAX];
    parameter[0] = '\0';
    call->route = api_route_find(method, url, parameter, call->allow);
    if (parameter[0] != '\0' && (call->path_parameter = strdup(parameter)) == NULL) {
        api_call_fail(call, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL, "out of memory");
        return;
    }
    const ApiRoute *route = call->route;
    const Auth *auth = call->api->options.auth;
    bool public = route ? route->public : call->allow[0] == '\0';
    if (api_check_browser(call, method, version, public) != 0)
        return;
    if (auth != NULL && !public &&
        !auth_check(auth, api_call_header(call, MHD_HTTP_HEADER_AUTHORIZATION), &call->actor)) {
        api_call_fail(call, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL,
                      "a valid \"Authorization: Bearer TOKEN\" header is required");
        return;
    }
    if (route == NULL && call->allow[0] != '\0') {
        api_call_fail(call, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                      "%.16s is not allowed here; use %s", method, call->allow);
        return;
    }
    if (route == NULL) {
        api_call_fail(call, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no such endpoint");
        return;
    }
    if (api_check_query(call) != 0)
        return;
    if (route->writes && atomic_load(&call->api->refuse_writes)) {
        api_call_set_retry_after(call, API_DRAIN_RETRY_AFTER_S);
        api_call_fail(call, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL,
                      "herald is shutting down; retry (another instance, or this one once "
                      "restarted)");
        return;
    }
    if (!route->json_body)
        return;
    /* herald reads bodies as sent: a compressed one would be stored as garbage. */
    const char *encoding = api_call_header(call, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (encoding != NULL && strcasecmp(encoding, "identity") != 0) {
        api_call_fail(call, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                      "Content-Encoding \"%.32s\" is not supported; send the body uncompressed",
                      encoding);
        return;
    }
    const char *content_length = api_call_header(call, MHD_HTTP_HEADER_CONTENT_LENGTH);
    bool has_body = api_call_header(call, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
                    (content_length != NULL && strcmp(content_length, "0") != 0);
    /* An empty body needs no type; handlers decide whether one is required. */
    if (has_body &&
        !api_is_json_content_type(api_call_header(call, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        api_call_fail(call, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                      "Content-Type must be application/json");
        return;
    }
    if (content_length != NULL) {
        char *end;
        errno = 0;
        unsigned long long declared = strtoull(content_length, &end, 10);
        if (errno == 0 && *end == '\0' && declared > call->api->options.max_body) {
            api_call_fail(call, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", NULL,
                          "request body is %llu bytes; the limit (max_body) is %zu", declared,
                          call->api->options.max_body);
            return;
        }
    }
}

static void api_append_body(ApiCall *call, const char *data, size_t size)
{
    if (call->has_reply) {
        call->discarded += size;
        return;
    }
    if (call->body.capacity == 0) {
        /* Allocate the announced size at once rather than doubling up to it,
         * up to API_BODY_RESERVE_MAX (and never past max_body). Only a hint:
         * the body may still differ. */
        const char *announced =
            MHD_lookup_connection_value(call->connection, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long length = announced ? strtoull(announced, NULL, 10) : 0;
        if (length > API_BODY_RESERVE_MAX)
            length = API_BODY_RESERVE_MAX;
        if (length > 0 && buffer_reserve(&call->body, (size_t)length) != 0) {
            api_call_fail(call, 503, "unavailable", NULL, "out of memory");
            return;
        }
    }
    if (buffer_append(&call->body, data, size) != 0) {
        call->discarded += size;
        api_call_fail(call, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", NULL,
                      "request body exceeds the limit (max_body) of %zu bytes",
                      call->api->options.max_body);
    }
}

/* A handler (or a resumed one) holds a read connection only while it runs. */
static void api_release_reader(ApiCall *call)
{
    if (call->reader != NULL) {
        store_pool_release(&call->api->readers, call->reader);
        call->reader = NULL;
    }
}

static enum MHD_Result api_access(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    Api *api = cls;
    ApiCall *call = *con_cls;
    if (call == NULL) {
        call = calloc(1, sizeof *call);
        if (call == NULL)
            return MHD_NO;
        call->api = api;
        call->connection = connection;
        buffer_init(&call->body, api->options.max_body);
        *con_cls = call;
        atomic_fetch_add(&api->calls_in_progress, 1);
        api_conn_head_received(api->conns, connection);
        api_begin_call(call, url, method, version);
        /* Answer early errors before the body: the client need not send it. */
        return call->has_reply ? api_call_send(call) : MHD_YES;
    }
    if (call->stage == API_CALL_SUSPENDED) {
        call->resumed(call);
        api_release_reader(call);
        return api_call_send(call);
    }
    if (*upload_data_size > 0) {
        api_append_body(call, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A client that keeps sending long after the limit is hung up on. */
        return call->discarded > API_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (call->stage == API_CALL_REPLIED)
        return MHD_YES;
    api_conn_body_received(api->conns, connection);
    if (!call->has_reply) {
        call->route->handler(call);
        api_release_reader(call);
        if (call->stage == API_CALL_SUSPENDED)
            return MHD_YES;
    }
    return api_call_send(call);
}

static void api_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                          enum MHD_RequestTerminationCode code)
{
    Api *api = cls;
    api_conn_request_done(api->conns, connection, code);
    ApiCall *call = *con_cls;
    if (call == NULL)
        return;
    if (call->free_state != NULL)
        call->free_state(call->state);
    cJSON_Delete(call->reply_body);
    free(call->reply_text);
    free(call->path_parameter);
    buffer_free(&call->body);
    free(call);
    *con_cls = NULL;
    atomic_fetch_sub(&api->calls_in_progress, 1);
}

/* MHD's logger: FORMAT comes from libmicrohttpd, a printf format. */
static void api_log_mhd(void *cls, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));

static void api_log_mhd(void *cls, const char *format, va_list args)
{
    Api *api = cls;
    char message[512];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r'))
        message[--length] = '\0';
    if (api->conns != NULL && !api_conn_server_message(api->conns, message))
        return; /* counted in the connection guard's summary */
    char quoted[600];
    log_warning("event=http_server_error error=%s", log_quote(quoted, sizeof quoted, message));
}

static int api_listen_socket(const char *listen_text, char address[ADDRESS_TEXT_MAX], char *err,
                             size_t errlen)
{
    struct sockaddr_storage bind_address;
    socklen_t length;
    if (address_parse_listen(listen_text, &bind_address, &length, err, errlen) != 0)
        return -1;
    int fd = socket(bind_address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (bind_address.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)) {
        snprintf(err, errlen, "setsockopt: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&bind_address, length) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen_text, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, API_LISTEN_BACKLOG) != 0) {
        snprintf(err, errlen, "listen on %s: %s", listen_text, strerror(errno));
        close(fd);
        return -1;
    }
    length = sizeof bind_address;
    if (getsockname(fd, (struct sockaddr *)&bind_address, &length) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    address_format((struct sockaddr *)&bind_address, address);
    return fd;
}

Api *api_start(const ApiOptions *options, char *err, size_t errlen)
{
    Api *api = calloc(1, sizeof *api);
    if (api == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    api->options = *options;
    atomic_init(&api->refuse_writes, false);
    atomic_init(&api->calls_in_progress, 0);
    unsigned threads = options->threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (store_pool_open(&api->readers, threads, options->store_location, err,
                        errlen) != 0) {
        store_pool_close(&api->readers);
        free(api);
        return NULL;
    }
    ApiConnsOptions guard = {.header_timeout_ms = options->header_timeout_ms,
                             .body_timeout_ms = options->body_timeout_ms,
                             .max_slow = options->max_connections / 2};
    int fd = -1;
    api->listen_fd = -1;
    api->idle_writer = -1;
    api->conns = api_conn_start(&guard, err, errlen);
    if (api->conns != NULL)
        fd = api_listen_socket(options->listen, api->address, err, errlen);
    if (fd < 0) {
        api_conn_stop(api->conns);
        store_pool_close(&api->readers);
        free(api);
        return NULL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* The logger goes first so that MHD's own complaints about the others reach our log;
     * a pool of one thread is no pool, and MHD warns if told otherwise. */
    struct MHD_OptionItem mhd_options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)api_log_mhd, api},
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)options->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)options->max_connections_per_ip, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)options->max_header_bytes, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)options->connection_timeout_s, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)api_completed, api},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)api_conn_notify, api->conns},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, api_access, api, MHD_OPTION_ARRAY,
                                   mhd_options, MHD_OPTION_END);
    api->listen_fd = fd;
    if (api->daemon == NULL) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", api->address);
        close(fd);
        api_conn_stop(api->conns);
        store_pool_close(&api->readers);
        free(api);
        return NULL;
    }
    return api;
}

const char *api_address(const Api *api)
{
    return api->address;
}

void api_drain(Api *api, int64_t drain_ms)
{
    if (api == NULL)
        return;
    atomic_store(&api->refuse_writes, true);
    /* No new connections: a load balancer's next connect is refused and it
     * moves on. Requests on connections already open are still answered.
     * NOTE: libmicrohttpd's MHD_quiesce_daemon (0.9.75 to 0.9.77) races its
     * own epoll workers: each may take the listen socket out of its epoll set
     * at the same moment, and the loser panics ("Failed to remove listen FD
     * from epoll set"). So the socket is closed under libmicrohttpd instead:
     * dup2() puts an idle pipe's read end at its descriptor number, which
     * releases the socket (the kernel stops listening and removes it from
     * every epoll set) and leaves libmicrohttpd a descriptor that never
     * becomes ready, which it closes at stop. */
    int idle[2];
    if (api->listen_fd >= 0 && pipe2(idle, O_CLOEXEC) == 0) {
        if (dup2(idle[0], api->listen_fd) < 0)
            log_warning("event=drain_failed error=\"dup2: %s\" detail=\"new connections are "
                        "still accepted until the server stops\"", strerror(errno));
        close(idle[0]);
        api->idle_writer = idle[1];
    }
    log_info("event=draining open_connections=%u drain_ms=%lld", api_conn_open(api->conns),
             (long long)drain_ms);
    int64_t deadline = clock_monotonic_ms() + drain_ms;
    while (api_conn_open(api->conns) > 0 && clock_monotonic_ms() < deadline)
        usleep(10000);
}

void api_stop(Api *api)
{
    if (api == NULL)
        return;
    atomic_store(&api->refuse_writes, true);
    /* Let requests already being handled send their replies. */
    int64_t deadline = clock_monotonic_ms() + API_STOP_GRACE_MS;
    while (atomic_load(&api->calls_in_progress) > 0 && clock_monotonic_ms() < deadline)
        usleep(5000);
    MHD_stop_daemon(api->daemon); /* closes the listen descriptor */
    if (api->idle_writer >= 0)
        close(api->idle_writer);
    api_conn_stop(api->conns); /* after the daemon: it reports every connection closed */
    store_pool_close(&api->readers);
    free(api);
}
