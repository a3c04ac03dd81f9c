/*
 * telemetry: the span queue and the exporter thread (see the header).
 *
 * The queue is a singly linked list of Spans (their own `next`), so taking a
 * batch is cutting the list, and submitting never allocates. The thread
 * sleeps until a batch is full or the oldest span has waited interval, then
 * sends one batch with the lock released; while a send hangs, producers go
 * on filling the queue up to queue_size and then drop.
 *
 * Whether the exporter runs and whether the queue is full are also kept in
 * atomics, written under the lock and read without it, so a span that will
 * not be taken (not exporting, or a dead collector's full queue: the common
 * case then) costs its producer an atomic read, not the lock every other
 * producer and the exporter take.
 */
#include "telemetry.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "clock.h"
#include "log.h"
#include "otlp.h"
#include "telemetry_headers.h"
#include "version.h"

#define TELEMETRY_BODY_MAX (64u * 1024 * 1024)
/* At stop, what is queued is sent for at most this long (an export in
 * flight is cut off then too), so a hanging collector holds a shutdown up
 * only this long. */
#define TELEMETRY_STOP_FLUSH_MS 2000

typedef struct TelemetryExporter {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running;  /* set by start, cleared by stop */
    _Atomic bool live;        /* running, for reads without the lock */
    _Atomic bool full;        /* queued >= queue_size, for reads without the lock */
    bool stopping; /* the thread sends what is left and ends */
    /* Monotonic ms past which the stopping thread gives up (0: not
     * stopping); read without the lock by the transfer's progress callback. */
    _Atomic int64_t stop_deadline_ms;
    Span *head, *tail;
    size_t queued;
    size_t sending; /* taken off the queue, being exported */
    /* Spans sent, kept for telemetry_span_new (at most queue_size): a span
     * made on one thread and freed on another cost both threads' malloc
     * arenas a lock and a consolidation, per span. */
    Span *free_spans;
    size_t free_count;
    int64_t oldest_ms; /* monotonic: when the head was queued */
    /* Counters, under the lock; dropped_full also without it (the full flag). */
    uint64_t exported, dropped_failed;
    _Atomic uint64_t dropped_full;
    /* Fixed at start. */
    char *endpoint;
    char **headers;
    int header_count;
    char *service_name;
    char *instance_id;
    bool gzip;
    int64_t timeout_ms, interval_ms;
    size_t queue_size;
} TelemetryExporter;

static TelemetryExporter telemetry = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

int telemetry_new_context(const TraceContext *parent, double ratio, TraceContext *out)
{
    if (parent != NULL) {
        memcpy(out->trace_id, parent->trace_id, TRACE_ID_SIZE);
        /* The flags version 00 leaves undefined are not passed on (the
         * standard: a vendor sets them to zero). */
        out->flags = parent->flags & TRACE_FLAG_SAMPLED;
        return trace_new_span_id(out->span_id);
    }
    if (trace_new_trace_id(out->trace_id) != 0 || trace_new_span_id(out->span_id) != 0)
        return -1;
    /* TraceIdRatioBased: the trace id's last 8 bytes against ratio * 2^64. */
    uint64_t low = 0;
    for (size_t i = 8; i < TRACE_ID_SIZE; i++)
        low = low << 8 | out->trace_id[i];
    bool sampled = ratio >= 1.0 || (ratio > 0.0 && (double)low < ratio * 18446744073709551616.0);
    out->flags = sampled ? TRACE_FLAG_SAMPLED : 0;
    return 0;
}

bool telemetry_exporting(void)
{
    return atomic_load_explicit(&telemetry.live, memory_order_relaxed);
}

/* After queued or running changed; the lock is held. */
static void telemetry_note_state(void)
{
    atomic_store_explicit(&telemetry.live, telemetry.running, memory_order_relaxed);
    atomic_store_explicit(&telemetry.full, telemetry.queued >= telemetry.queue_size,
                          memory_order_relaxed);
}

Span *telemetry_span_new(const char *name, SpanKind kind, const TraceContext *context,
                         const uint8_t *parent, uint64_t start_unix_ns)
{
    if (!(context->flags & TRACE_FLAG_SAMPLED) || !telemetry_exporting())
        return NULL;
    if (atomic_load_explicit(&telemetry.full, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&telemetry.dropped_full, 1, memory_order_relaxed);
        return NULL;
    }
    pthread_mutex_lock(&telemetry.lock);
    bool room = telemetry.running && telemetry.queued < telemetry.queue_size;
    if (telemetry.running && !room)
        atomic_fetch_add_explicit(&telemetry.dropped_full, 1, memory_order_relaxed);
    Span *span = room ? telemetry.free_spans : NULL;
    if (span != NULL) {
        telemetry.free_spans = span->next;
        telemetry.free_count--;
    }
    pthread_mutex_unlock(&telemetry.lock);
    if (!room)
        return NULL;
    if (span == NULL)
        return span_new(name, kind, context, parent, start_unix_ns);
    span_init(span, name, kind, context, parent, start_unix_ns);
    return span;
}

void telemetry_submit(Span *span)
{
    if (span == NULL)
        return;
    pthread_mutex_lock(&telemetry.lock);
    bool taken = false;
    if (telemetry.running && (span->context.flags & TRACE_FLAG_SAMPLED)) {
        if (telemetry.queued < telemetry.queue_size) {
            span->next = NULL;
            if (telemetry.tail != NULL)
                telemetry.tail->next = span;
            else {
                telemetry.head = span;
                telemetry.oldest_ms = clock_monotonic_ms();
            }
            telemetry.tail = span;
            telemetry.queued++;
            telemetry_note_state();
            taken = true;
            /* The first span starts the interval's clock; a full batch goes at once. */
            if (telemetry.queued == 1 || telemetry.queued == TELEMETRY_BATCH_MAX)
                pthread_cond_signal(&telemetry.wake);
        } else {
            atomic_fetch_add_explicit(&telemetry.dropped_full, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&telemetry.lock);
    if (!taken)
        span_free(span);
}

/* Cuts up to TELEMETRY_BATCH_MAX spans off the queue's head; the lock is held. */
static Span *telemetry_take_batch(size_t *count)
{
    Span *first = telemetry.head, *last = NULL, *span = first;
    size_t taken = 0;
    while (span != NULL && taken < TELEMETRY_BATCH_MAX) {
        last = span;
        span = span->next;
        taken++;
    }
    if (last != NULL)
        last->next = NULL;
    telemetry.head = span;
    if (span == NULL)
        telemetry.tail = NULL;
    telemetry.queued -= taken;
    telemetry_note_state();
    telemetry.oldest_ms = clock_monotonic_ms(); /* the rest: as if queued now */
    *count = taken;
    return first;
}

/* BODY gzipped into OUT with STREAM (made once, reset for each body: its
 * state is some 256 KiB). Returns 0 or -1. */
static int telemetry_gzip(z_stream *stream, const Buffer *body, Buffer *out)
{
    if (deflateReset(stream) != Z_OK)
        return -1;
    uLong bound = deflateBound(stream, (uLong)body->length);
    if (buffer_reserve(out, bound) != 0 || out->capacity < bound)
        return -1;
    stream->next_in = (Bytef *)body->data;
    stream->avail_in = (uInt)body->length;
    stream->next_out = (Bytef *)out->data;
    stream->avail_out = (uInt)bound;
    if (deflate(stream, Z_FINISH) != Z_STREAM_END)
        return -1;
    out->length = stream->total_out;
    return 0;
}

/* Cuts an export off once a stop's deadline passed. */
static int telemetry_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow)
{
    (void)user, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    int64_t deadline = telemetry.stop_deadline_ms;
    return deadline != 0 && clock_monotonic_ms() >= deadline ? 1 : 0;
}

/* The collector's answer is read and thrown away, up to a bound: an
 * ExportTraceServiceResponse is a few bytes, and a collector that streams an
 * endless body must not keep this thread (and a core) busy until the timeout. */
#define TELEMETRY_ANSWER_MAX (64 * 1024)

static size_t telemetry_discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    size_t *received = user;
    *received += size * count;
    return *received > TELEMETRY_ANSWER_MAX ? 0 : size * count;
}

/* POSTs BODY; 0 if the collector answered 2xx, else -1 with ERR set. */
static int telemetry_post(CURL *easy, const Buffer *body, char *err, size_t errlen)
{
    struct curl_slist *list = NULL, *grown;
    const char *fixed[] = {"Content-Type: application/x-protobuf", "Expect:",
                           telemetry.gzip ? "Content-Encoding: gzip" : NULL};
    int status = -1;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (fixed[i] == NULL)
            continue;
        if ((grown = curl_slist_append(list, fixed[i])) == NULL)
            goto done;
        list = grown;
    }
    for (int i = 0; i < telemetry.header_count; i++) {
        if ((grown = curl_slist_append(list, telemetry.headers[i])) == NULL)
            goto done;
        list = grown;
    }
    curl_easy_reset(easy);
    size_t received = 0;
    char agent[64];
    snprintf(agent, sizeof agent, "herald/%s", HERALD_VERSION);
    CURLcode code = CURLE_OK;
    if ((code = curl_easy_setopt(easy, CURLOPT_URL, telemetry.endpoint)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->length)) !=
            CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)telemetry.timeout_ms)) !=
            CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        /* An export cut off (its timeout, a stop) must not then wait for a
         * slow name lookup to finish, as delivery's requests do not. */
        (code = curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_USERAGENT, agent)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_NOPROXY, "*")) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, telemetry_discard)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received)) != CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, telemetry_progress)) !=
            CURLE_OK ||
        (code = curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK ||
        (code = curl_easy_perform(easy)) != CURLE_OK) {
        if (code == CURLE_ABORTED_BY_CALLBACK)
            snprintf(err, errlen, "cut off: heraldd stopped before the export finished");
        else if (code == CURLE_WRITE_ERROR && received > TELEMETRY_ANSWER_MAX)
            snprintf(err, errlen, "the collector's answer passed %d bytes", TELEMETRY_ANSWER_MAX);
        else
            snprintf(err, errlen, "%s", curl_easy_strerror(code));
        goto done;
    }
    long answer = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer) != CURLE_OK ||
        answer < 200 || answer > 299) {
        snprintf(err, errlen, "the collector answered HTTP %ld", answer);
        goto done;
    }
    status = 0;
done:
    if (status != 0 && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    curl_slist_free_all(list);
    return status;
}

/* The exporter thread's buffers, kept from one batch to the next (a batch's
 * body is some 100 KiB: allocated anew, each was mapped and unmapped). */
typedef struct TelemetryBuffers {
    Buffer body;
    Buffer compressed;
    z_stream stream;
    bool stream_ready;
} TelemetryBuffers;

/* Encodes, compresses and sends the COUNT spans from FIRST, then frees them. */
static void telemetry_send(CURL *easy, Span *first, size_t count, const OtlpResource *resource,
                           TelemetryBuffers *buffers)
{
    buffers->body.length = 0;
    buffers->compressed.length = 0;
    char err[CURL_ERROR_SIZE + 64] = "";
    int status = otlp_encode_request(&buffers->body, resource, first, count);
    if (status != 0)
        snprintf(err, sizeof err, "encoding failed (out of memory)");
    else if (telemetry.gzip && (!buffers->stream_ready ||
                                telemetry_gzip(&buffers->stream, &buffers->body,
                                               &buffers->compressed) != 0)) {
        snprintf(err, sizeof err, "gzip failed (out of memory)");
        status = -1;
    }
    if (status == 0)
        status = telemetry_post(easy, telemetry.gzip ? &buffers->compressed : &buffers->body,
                                err, sizeof err);
    pthread_mutex_lock(&telemetry.lock);
    /* The spans sent are kept for the next ones, up to queue_size. */
    Span *rest = first;
    while (rest != NULL && telemetry.free_count < telemetry.queue_size) {
        Span *next = rest->next;
        rest->next = telemetry.free_spans;
        telemetry.free_spans = rest;
        telemetry.free_count++;
        rest = next;
    }
    uint64_t failed_before = telemetry.dropped_failed;
    telemetry.sending = 0;
    if (status == 0)
        telemetry.exported += count;
    else
        telemetry.dropped_failed += count;
    pthread_mutex_unlock(&telemetry.lock);
    /* One line per run of failures, not per batch: a dead collector would
     * otherwise write a line a second. */
    static bool failing = false;
    if (status != 0 && !failing)
        log_warning("event=telemetry_export_failed spans=%zu dropped_before=%" PRIu64
                    " error=\"%s\"",
                    count, failed_before, err);
    else if (status == 0 && failing)
        log_info("event=telemetry_export_recovered");
    failing = status != 0;
    for (Span *span = rest, *next; span != NULL; span = next) {
        next = span->next;
        span_free(span);
    }
}

static void *telemetry_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "herald-otlp");
    OtlpResource resource = {.count = 0};
    resource.keys[resource.count] = "service.name";
    resource.values[resource.count++] = telemetry.service_name;
    resource.keys[resource.count] = "service.version";
    resource.values[resource.count++] = HERALD_VERSION;
    resource.keys[resource.count] = "service.instance.id";
    resource.values[resource.count++] = telemetry.instance_id;
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        log_error("event=telemetry_failed error=\"out of memory\"");
    TelemetryBuffers buffers;
    memset(&buffers, 0, sizeof buffers);
    buffer_init(&buffers.body, TELEMETRY_BODY_MAX);
    buffer_init(&buffers.compressed, TELEMETRY_BODY_MAX + 1024);
    /* Fastest level: the exporter shares two cores with delivery. */
    buffers.stream_ready = !telemetry.gzip ||
                           deflateInit2(&buffers.stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                                        Z_DEFAULT_STRATEGY) == Z_OK;
    pthread_mutex_lock(&telemetry.lock);
    for (;;) {
        while (!telemetry.stopping && telemetry.queued < TELEMETRY_BATCH_MAX) {
            int64_t now = clock_monotonic_ms();
            int64_t due = telemetry.queued > 0 ? telemetry.oldest_ms + telemetry.interval_ms
                                               : now + 60 * 1000;
            if (now >= due)
                break;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            int64_t wait = due - now;
            until.tv_sec += wait / 1000;
            until.tv_nsec += (wait % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            int rc = pthread_cond_timedwait(&telemetry.wake, &telemetry.lock, &until);
            if (rc != 0 && rc != ETIMEDOUT && rc != EINTR)
                break;
        }
        if (telemetry.stopping &&
            (telemetry.queued == 0 || clock_monotonic_ms() >= telemetry.stop_deadline_ms))
            break;
        size_t count = 0;
        Span *batch = telemetry_take_batch(&count);
        telemetry.sending = count;
        pthread_mutex_unlock(&telemetry.lock);
        if (easy != NULL)
            telemetry_send(easy, batch, count, &resource, &buffers);
        else {
            for (Span *span = batch, *next; span != NULL; span = next) {
                next = span->next;
                span_free(span);
            }
            pthread_mutex_lock(&telemetry.lock);
            telemetry.dropped_failed += count;
            telemetry.sending = 0;
            pthread_mutex_unlock(&telemetry.lock);
        }
        pthread_mutex_lock(&telemetry.lock);
    }
    pthread_mutex_unlock(&telemetry.lock);
    buffer_free(&buffers.body);
    buffer_free(&buffers.compressed);
    if (telemetry.gzip && buffers.stream_ready)
        deflateEnd(&buffers.stream);
    curl_easy_cleanup(easy);
    return NULL;
}

static void telemetry_free_options(void)
{
    free(telemetry.endpoint);
    free(telemetry.service_name);
    free(telemetry.instance_id);
    telemetry_headers_free(telemetry.headers, telemetry.header_count);
    telemetry.endpoint = telemetry.service_name = telemetry.instance_id = NULL;
    telemetry.headers = NULL;
    telemetry.header_count = 0;
}

int telemetry_start(const TelemetryOptions *options, char *err, size_t errlen)
{
    char **headers = NULL;
    int count = telemetry_headers_parse(options->headers, &headers, err, errlen);
    if (count < 0)
        return -1;
    telemetry.headers = headers;
    telemetry.header_count = count;
    telemetry.endpoint = strdup(options->endpoint);
    telemetry.service_name = strdup(options->service_name);
    telemetry.instance_id = strdup(options->instance_id);
    telemetry.gzip = options->gzip;
    telemetry.timeout_ms = options->timeout_ms;
    telemetry.interval_ms = options->interval_ms;
    telemetry.queue_size = (size_t)options->queue_size;
    pthread_condattr_t attributes;
    bool made = false;
    if (telemetry.endpoint != NULL && telemetry.service_name != NULL &&
        telemetry.instance_id != NULL && pthread_condattr_init(&attributes) == 0) {
        made = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0 &&
               pthread_cond_init(&telemetry.wake, &attributes) == 0;
        pthread_condattr_destroy(&attributes);
    }
    if (!made) {
        snprintf(err, errlen, "telemetry: out of memory");
        telemetry_free_options();
        return -1;
    }
    pthread_mutex_lock(&telemetry.lock);
    telemetry.running = true;
    telemetry_note_state();
    pthread_mutex_unlock(&telemetry.lock);
    telemetry.stopping = false;
    telemetry.stop_deadline_ms = 0;
    int rc = pthread_create(&telemetry.thread, NULL, telemetry_main, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "telemetry: cannot start its thread: %s", strerror(rc));
        pthread_mutex_lock(&telemetry.lock);
        telemetry.running = false;
        telemetry_note_state();
        pthread_mutex_unlock(&telemetry.lock);
        pthread_cond_destroy(&telemetry.wake);
        telemetry_free_options();
        return -1;
    }
    return 0;
}

void telemetry_stop(void)
{
    pthread_mutex_lock(&telemetry.lock);
    bool running = telemetry.running;
    telemetry.stop_deadline_ms = clock_monotonic_ms() + TELEMETRY_STOP_FLUSH_MS;
    telemetry.stopping = true;
    if (running)
        pthread_cond_signal(&telemetry.wake);
    pthread_mutex_unlock(&telemetry.lock);
    if (!running)
        return;
    int rc = pthread_join(telemetry.thread, NULL);
    if (rc != 0)
        log_error("event=telemetry_stop_failed error=\"%s\"", strerror(rc));
    pthread_mutex_lock(&telemetry.lock);
    telemetry.running = false;
    size_t left = telemetry.queued;
    Span *rest = telemetry.head, *kept = telemetry.free_spans;
    telemetry.head = telemetry.tail = NULL;
    telemetry.free_spans = NULL;
    telemetry.queued = 0;
    telemetry_note_state();
    telemetry.free_count = 0;
    telemetry.dropped_failed += left;
    pthread_mutex_unlock(&telemetry.lock);
    Span *lists[] = {rest, kept};
    for (size_t i = 0; i < 2; i++) {
        for (Span *span = lists[i], *next; span != NULL; span = next) {
            next = span->next;
            span_free(span);
        }
    }
    pthread_cond_destroy(&telemetry.wake);
    telemetry_free_options();
}

int telemetry_render_metrics(Buffer *out)
{
    pthread_mutex_lock(&telemetry.lock);
    uint64_t exported = telemetry.exported, failed = telemetry.dropped_failed;
    uint64_t full = atomic_load_explicit(&telemetry.dropped_full, memory_order_relaxed);
    size_t queued = telemetry.queued + telemetry.sending;
    pthread_mutex_unlock(&telemetry.lock);
    char text[1024];
    int length = snprintf(
        text, sizeof text,
        "# HELP herald_telemetry_spans_total Spans handed to the OTLP exporter, by what became of "
        "them.\n"
        "# TYPE herald_telemetry_spans_total counter\n"
        "herald_telemetry_spans_total{outcome=\"exported\"} %" PRIu64 "\n"
        "herald_telemetry_spans_total{outcome=\"dropped_queue_full\"} %" PRIu64 "\n"
        "herald_telemetry_spans_total{outcome=\"dropped_export_failed\"} %" PRIu64 "\n"
        "# HELP herald_telemetry_queue_spans Spans waiting to be exported or being sent.\n"
        "# TYPE herald_telemetry_queue_spans gauge\n"
        "herald_telemetry_queue_spans %zu\n",
        exported, full, failed, queued);
    return buffer_append(out, text, (size_t)length);
}
