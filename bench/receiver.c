/*
 * bench receiver: the webhook receiver of `make bench`.
 *
 *   receiver PORT_FILE MODE [MAX_SEQ]
 *
 * Listens on 127.0.0.1 (a free port, or $RECEIVER_PORT: a receiver brought back
 * where it was; written to PORT_FILE) and answers every
 * POST according to MODE: "ok" (200), "slow" (200 after 50 ms), "fail" (500) or
 * "hang" (never). Each
 * payload carries {"seq": N, "sent_ns": T} from the load generator; the
 * receiver counts arrivals, duplicates (a bitmap of seq up to MAX_SEQ), the
 * most requests in flight at once (begun, not yet answered) and the latency
 * now - sent_ns (CLOCK_REALTIME: all on one machine), in a log-scale
 * histogram. GET /stats answers the totals as JSON; GET /reset clears them.
 */
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECEIVER_BODY_MAX 65536
#define RECEIVER_BUCKETS 64 /* latency buckets: 2^(i/4) microseconds */

typedef struct Request {
    char body[RECEIVER_BODY_MAX];
    size_t length;
} Request;

static const char *receiver_mode;
static uint64_t receiver_max_seq;
static atomic_uchar *receiver_seen;
static atomic_ullong receiver_received, receiver_duplicates, receiver_first_ns, receiver_last_ns;
static atomic_ullong receiver_latency[RECEIVER_BUCKETS];
/* Requests begun and not yet completed, and the most at once. */
static atomic_llong receiver_in_flight, receiver_peak_in_flight;

static uint64_t receiver_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

static uint64_t receiver_number(const char *body, const char *key)
{
    const char *at = strstr(body, key);
    return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

static void receiver_record(const Request *request)
{
    uint64_t now = receiver_now_ns();
    uint64_t seq = receiver_number(request->body, "\"seq\":");
    uint64_t sent = receiver_number(request->body, "\"sent_ns\":");
    unsigned long long zero = 0;
    atomic_compare_exchange_strong(&receiver_first_ns, &zero, now);
    atomic_store(&receiver_last_ns, now);
    atomic_fetch_add(&receiver_received, 1);
    if (seq < receiver_max_seq && atomic_exchange(&receiver_seen[seq], 1))
        atomic_fetch_add(&receiver_duplicates, 1);
    if (sent > 0 && now > sent) {
        double micros = (double)(now - sent) / 1000.0;
        int bucket = 0;
        if (micros > 1)
            bucket = (int)(4 * log2(micros));
        if (bucket >= RECEIVER_BUCKETS)
            bucket = RECEIVER_BUCKETS - 1;
        atomic_fetch_add(&receiver_latency[bucket], 1);
    }
}

static double receiver_percentile(double fraction)
{
    unsigned long long total = 0, counts[RECEIVER_BUCKETS];
    for (int i = 0; i < RECEIVER_BUCKETS; i++)
        total += counts[i] = atomic_load(&receiver_latency[i]);
    if (total == 0)
        return 0;
    unsigned long long target = (unsigned long long)(fraction * (double)total), seen = 0;
    for (int i = 0; i < RECEIVER_BUCKETS; i++) {
        seen += counts[i];
        if (seen > target)
            return pow(2.0, (i + 1) / 4.0) / 1000.0; /* the bucket's upper bound, in ms */
    }
    return 0;
}

static enum MHD_Result receiver_reply(struct MHD_Connection *connection, unsigned int status,
                                      const char *text)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return ok;
}

static enum MHD_Result receiver_stats(struct MHD_Connection *connection)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"received\":%llu,\"duplicates\":%llu,\"first_ns\":%llu,\"last_ns\":%llu,"
             "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"in_flight\":%lld,\"peak_in_flight\":%lld}",
             atomic_load(&receiver_received), atomic_load(&receiver_duplicates),
             atomic_load(&receiver_first_ns), atomic_load(&receiver_last_ns),
             receiver_percentile(0.50), receiver_percentile(0.99),
             (long long)atomic_load(&receiver_in_flight),
             (long long)atomic_load(&receiver_peak_in_flight));
    return receiver_reply(connection, 200, text);
}

static void receiver_reset(void)
{
    atomic_store(&receiver_received, 0);
    atomic_store(&receiver_duplicates, 0);
    atomic_store(&receiver_first_ns, 0);
    atomic_store(&receiver_last_ns, 0);
    atomic_store(&receiver_peak_in_flight, 0);
    for (int i = 0; i < RECEIVER_BUCKETS; i++)
        atomic_store(&receiver_latency[i], 0);
    for (uint64_t i = 0; i < receiver_max_seq; i++)
        atomic_store(&receiver_seen[i], 0);
}

static enum MHD_Result receiver_handle(void *cls, struct MHD_Connection *connection,
                                       const char *url, const char *method, const char *version,
                                       const char *data, size_t *size, void **state)
{
    (void)cls;
    (void)version;
    if (strcmp(method, "GET") == 0) {
        if (strcmp(url, "/reset") == 0)
            receiver_reset();
        return receiver_stats(connection);
    }
    Request *request = *state;
    if (request == NULL) {
        request = calloc(1, sizeof *request);
        *state = request;
        if (request != NULL) {
            long long now = atomic_fetch_add(&receiver_in_flight, 1) + 1;
            long long peak = atomic_load(&receiver_peak_in_flight);
            while (now > peak && !atomic_compare_exchange_weak(&receiver_peak_in_flight, &peak, now))
                ;
        }
        return request ? MHD_YES : MHD_NO;
    }
    if (*size > 0) {
        size_t room = sizeof request->body - 1 - request->length;
        size_t take = *size < room ? *size : room;
        memcpy(request->body + request->length, data, take);
        request->length += take;
        *size = 0;
        return MHD_YES;
    }
    request->body[request->length] = '\0';
    receiver_record(request);
    if (strcmp(receiver_mode, "hang") == 0) {
        /* Never answer: hold this thread-per-connection until the process ends. */
        for (;;)
            pause();
    }
    if (strcmp(receiver_mode, "slow") == 0) /* a thread per connection too */
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
    return strcmp(receiver_mode, "fail") == 0 ? receiver_reply(connection, 500, "no")
                                              : receiver_reply(connection, 200, "ok");
}

static void receiver_completed(void *cls, struct MHD_Connection *connection, void **state,
                               enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    if (*state != NULL)
        atomic_fetch_sub(&receiver_in_flight, 1);
    free(*state);
    *state = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: receiver PORT_FILE ok|slow|fail|hang [MAX_SEQ]\n");
        return 2;
    }
    receiver_mode = argv[2];
    receiver_max_seq = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    receiver_seen = calloc(receiver_max_seq ? receiver_max_seq : 1, 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const char *port = getenv("RECEIVER_PORT");
    if (port != NULL)
        address.sin_port = htons((unsigned short)strtoul(port, NULL, 10));
    socklen_t length = sizeof address;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        perror("receiver: listen");
        return 1;
    }
    /* A hanging or slow receiver needs a thread per connection; the others an epoll pool. */
    bool hang = strcmp(receiver_mode, "hang") == 0 || strcmp(receiver_mode, "slow") == 0;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
                         (hang ? MHD_USE_THREAD_PER_CONNECTION : MHD_USE_EPOLL);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, receiver_handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_NOTIFY_COMPLETED, receiver_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, 0u,
        hang ? MHD_OPTION_END : MHD_OPTION_THREAD_POOL_SIZE, 1u, MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "receiver: cannot start\n");
        return 1;
    }
    FILE *port_file = fopen(argv[1], "w");
    fprintf(port_file, "%d\n", ntohs(address.sin_port));
    fclose(port_file);
    for (;;)
        pause();
}
