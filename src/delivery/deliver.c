/*
 * deliver: see deliver.h.
 */
#include "deliver.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "clock.h"
#include "json_check.h"
#include "log.h"
#include "retry_after.h"
#include "sign.h"
#include "utf8.h"
#include "version.h"

/* CURLOPT_QUICK_EXIT (see deliver_prepare) came with libcurl 7.87.0. */
#if LIBCURL_VERSION_NUM < 0x075700
#error "herald needs libcurl 7.87.0 or later (CURLOPT_QUICK_EXIT)"
#endif

/* Room to compare a success_body even when max_response_bytes is smaller. */
#define DELIVER_COMPARE_BYTES (POLICY_SUCCESS_BODY_MAX + 128)
#define DELIVER_HEADER_LINE_MAX 8192
/* Bytes of header text most requests need (signatures included). */
#define DELIVER_HEADERS_TYPICAL 1024

static size_t deliver_on_body(char *data, size_t size, size_t count, void *user)
{
    Delivery *delivery = user;
    size_t length = size * count;
    delivery->response_total += length;
    size_t room = delivery->response.limit - delivery->response.length;
    /* Keep the first bytes; read and drop the rest so the connection stays usable. */
    if (room > 0 && buffer_append(&delivery->response, data, length < room ? length : room) != 0)
        return 0;
    return length;
}

static size_t deliver_on_header(char *data, size_t size, size_t count, void *user)
{
    Delivery *delivery = user;
    size_t length = size * count;
    delivery->header_bytes += length;
    if (delivery->header_bytes > DELIVER_HEADERS_MAX)
        return 0; /* the transfer ends (CURLE_WRITE_ERROR): deliver_classify says why */
    static const char name[] = "retry-after:";
    if (length > sizeof name - 1 && length < DELIVER_HEADER_LINE_MAX &&
        strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[DELIVER_HEADER_LINE_MAX];
        memcpy(value, data + sizeof name - 1, length - (sizeof name - 1));
        value[length - (sizeof name - 1)] = '\0';
        delivery->retry_after_ms = retry_after_parse(value, clock_now_ms());
    }
    return length;
}

/* libcurl asks us for each socket it connects: the last word on where
 * herald's requests go, after DNS and for every address tried. */
static curl_socket_t deliver_open_socket(void *user, curlsocktype purpose,
                                         struct curl_sockaddr *address)
{
    Delivery *delivery = user;
    (void)purpose;
    if (delivery->guard != NULL && netguard_is_blocked(delivery->guard, &address->addr)) {
        address_format(&address->addr, delivery->blocked_address);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* The request's header lines while they are being written: NUL-separated
 * text, turned into a curl_slist by deliver_link_headers. */
typedef struct DeliverLines {
    Buffer text;
    size_t count;
    bool failed;
} DeliverLines;

static void deliver_add_header(DeliverLines *lines, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void deliver_add_header(DeliverLines *lines, const char *format, ...)
{
    char line[DELIVER_HEADER_LINE_MAX];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line ||
        buffer_append(&lines->text, line, (size_t)length + 1) != 0) {
        lines->failed = true;
        return;
    }
    lines->count++;
}

/* One allocation holding the list's nodes and then the text they point into,
 * instead of curl_slist_append's two allocations per header: the list is
 * rebuilt for every attempt. Freed with free(), never curl_slist_free_all. */
static struct curl_slist *deliver_link_headers(const DeliverLines *lines)
{
    size_t nodes = lines->count * sizeof(struct curl_slist);
    struct curl_slist *list = malloc(nodes + lines->text.length);
    if (list == NULL)
        return NULL;
    char *text = (char *)list + nodes;
    memcpy(text, lines->text.data, lines->text.length);
    for (size_t i = 0; i < lines->count; i++) {
        list[i].data = text;
        list[i].next = i + 1 < lines->count ? &list[i + 1] : NULL;
        text += strlen(text) + 1;
    }
    return list;
}

/* X-Herald-Ordering-Key, X-Herald-Sequence and, when deliveries are signed,
 * X-Herald-Sequence-Signature: "v1,<HMAC>" of webhook-id "." timestamp "."
 * key "." sequence, under the same secrets as webhook-signature. */
static int deliver_add_ordering(DeliverLines *lines, const Task *task, const Policy *policy,
                                int64_t now_ms, int64_t timestamp)
{
    char place[TASK_ORDERING_KEY_MAX + 32];
    snprintf(place, sizeof place, "%s.%" PRId64, task->ordering_key, task->ordering_seq);
    char signatures[SIGN_HEADER_MAX] = "";
    if (policy != NULL &&
        sign_header_value(&policy->key, &policy->previous_key, policy->previous_secret_until,
                          now_ms, task->webhook_id, timestamp, place, strlen(place),
                          signatures) != 0)
        return -1;
    deliver_add_header(lines, "X-Herald-Ordering-Key: %s", task->ordering_key);
    deliver_add_header(lines, "X-Herald-Sequence: %" PRId64, task->ordering_seq);
    if (signatures[0] != '\0')
        deliver_add_header(lines, "X-Herald-Sequence-Signature: %s", signatures);
    return 0;
}

/* The headers of the request; *FAILED is set if one could not be added.
 * TRACE: the attempt's span, whose traceparent (and the caller's tracestate)
 * the receiver gets when the business type propagates, unless the task sets
 * a traceparent header of its own. */
static struct curl_slist *deliver_build_headers(const Task *task, const Policy *policy,
                                                const DeliverTrace *trace, int64_t now_ms,
                                                bool *failed)
{
    DeliverLines lines = {.count = 0, .failed = false};
    buffer_init(&lines.text, SIZE_MAX);
    if (buffer_reserve(&lines.text, DELIVER_HEADERS_TYPICAL) != 0)
        lines.failed = true;
    bool has_content_type = false, has_traceparent = false;
    cJSON *extra = task->headers_json ? json_check_parse_string(task->headers_json) : NULL;
    const cJSON *header;
    cJSON_ArrayForEach(header, extra)
    {
        if (strcasecmp(header->string, "Content-Type") == 0)
            has_content_type = true;
        if (strcasecmp(header->string, "traceparent") == 0 ||
            strcasecmp(header->string, "tracestate") == 0)
            has_traceparent = true;
    }
    if (!has_content_type)
        deliver_add_header(&lines, "Content-Type: application/json");
    deliver_add_header(&lines, "User-Agent: herald/%s", HERALD_VERSION);
    deliver_add_header(&lines, "X-Business-ID: %s", task->business_id);
    deliver_add_header(&lines, "X-Business-Type: %s", task->business_type);
    cJSON_ArrayForEach(header, extra)
    {
        if (!cJSON_IsString(header))
            continue;
        /* libcurl drops "Name:" with nothing (or only blanks) after the colon;
         * "Name;" is how it sends a header with an empty value. */
        if (header->valuestring[strspn(header->valuestring, " \t")] == '\0')
            deliver_add_header(&lines, "%s;", header->string);
        else
            deliver_add_header(&lines, "%s: %s", header->string, header->valuestring);
    }
    cJSON_Delete(extra);
    int64_t timestamp = now_ms / 1000;
    char signatures[SIGN_HEADER_MAX] = "";
    if (policy != NULL &&
        sign_header_value(&policy->key, &policy->previous_key, policy->previous_secret_until,
                          now_ms, task->webhook_id, timestamp, task->payload,
                          task->payload_length, signatures) != 0)
        lines.failed = true;
    deliver_add_header(&lines, "webhook-id: %s", task->webhook_id);
    deliver_add_header(&lines, "webhook-timestamp: %" PRId64, timestamp);
    if (signatures[0] != '\0')
        deliver_add_header(&lines, "webhook-signature: %s", signatures);
    deliver_add_header(&lines, "X-Herald-Attempt: %d", task->attempts);
    if (trace->traced && policy != NULL && policy->propagate_trace && !has_traceparent) {
        char traceparent[TRACE_PARENT_LENGTH + 1];
        deliver_trace_header(trace, traceparent);
        deliver_add_header(&lines, "traceparent: %s", traceparent);
        if (task->tracestate != NULL && task->tracestate[0] != '\0')
            deliver_add_header(&lines, "tracestate: %s", task->tracestate);
    }
    /* A task of an ordering key says its place, so a receiver can see a gap
     * (a task skipped after it failed); signed apart from the body, so that
     * Standard Webhooks' signature stays what its libraries check. */
    if (task->ordering_key != NULL && task->ordering_seq > 0 &&
        deliver_add_ordering(&lines, task, policy, now_ms, timestamp) != 0)
        lines.failed = true;
    /* No "Expect: 100-continue": it costs a round trip (or a second) per request. */
    deliver_add_header(&lines, "Expect:");
    struct curl_slist *list = lines.failed ? NULL : deliver_link_headers(&lines);
    buffer_free(&lines.text);
    *failed = list == NULL;
    return list;
}

int deliver_prepare(Delivery *delivery, Task *task, const Policy *policy,
                    const DeliverOptions *options, int64_t now_ms, char *err, size_t errlen)
{
    /* The easy handle is kept from one delivery to the next: creating one
     * costs a large allocation and its zeroing on every attempt. */
    CURL *kept = delivery->easy;
    memset(delivery, 0, sizeof *delivery);
    delivery->easy = kept;
    delivery->task = *task;
    memset(task, 0, sizeof *task);
    delivery->policy = policy;
    delivery->guard = options->guard;
    delivery->retry_after_ms = -1;
    delivery->started_at = now_ms;
    delivery->started_monotonic = clock_monotonic_ms();
    delivery->log_limit = options->max_response_bytes;
    size_t keep = options->max_response_bytes;
    if (policy->success_body[0] != '\0' && keep < DELIVER_COMPARE_BYTES)
        keep = DELIVER_COMPARE_BYTES;
    buffer_init(&delivery->response, keep);
    bool failed = false;
    /* webhook-timestamp is compared with the receiver's clock: the real wall
     * clock, not herald time (which ignores steps of the system clock). */
    deliver_trace_start(&delivery->trace, &delivery->task);
    delivery->headers = deliver_build_headers(&delivery->task, policy, &delivery->trace,
                                              clock_wall_ms(), &failed);
    if (delivery->easy != NULL)
        curl_easy_reset(delivery->easy); /* every option back to its default */
    else
        delivery->easy = curl_easy_init();
    if (failed || delivery->easy == NULL) {
        snprintf(err, errlen, "out of memory preparing the request");
        return -1;
    }
    CURL *easy = delivery->easy;
    int64_t timeout = policy->timeout_ms > 0 ? policy->timeout_ms : options->timeout_ms;
    int64_t connect_timeout =
        options->connect_timeout_ms < timeout ? options->connect_timeout_ms : timeout;
    CURLcode code = CURLE_OK;
#define DELIVER_SET(option, value)                                                             \
    do {                                                                                       \
        if (code == CURLE_OK)                                                                  \
            code = curl_easy_setopt(easy, option, value);                                      \
    } while (0)
    DELIVER_SET(CURLOPT_URL, delivery->task.target_url);
    DELIVER_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    DELIVER_SET(CURLOPT_FOLLOWLOCATION, 0L);
    DELIVER_SET(CURLOPT_POST, 1L);
    DELIVER_SET(CURLOPT_POSTFIELDS, delivery->task.payload);
    DELIVER_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)delivery->task.payload_length);
    DELIVER_SET(CURLOPT_HTTPHEADER, delivery->headers);
    DELIVER_SET(CURLOPT_TIMEOUT_MS, (long)timeout);
    DELIVER_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout);
    DELIVER_SET(CURLOPT_NOSIGNAL, 1L);
    /* libcurl resolves names in a thread of its own. Without QUICK_EXIT, a
     * transfer that ends while that thread is still in getaddrinfo (its
     * timeout, connect_timeout included, ran out) joins it inside
     * curl_multi_perform: herald-sched, and with it every other delivery,
     * waits for the lookup (25 s behind a slow DNS server, issue 21). With it,
     * libcurl detaches the thread instead, and the attempt ends at its
     * timeout. curl_easy_reset clears the option: it is set here, after the
     * reset, for every attempt.
     * The cost: each lookup cut off this way leaves one detached thread (and
     * one socket) until getaddrinfo returns, which the system resolver
     * bounds (resolv.conf: timeout 5 s x attempts 2 per nameserver, 30 s at
     * most by default). A slot starts at most one lookup per attempt and an
     * attempt cut off in its lookup lasts min(timeout, connect_timeout), so
     * at most per_host_concurrency x (lookup limit / connect_timeout + 1)
     * such threads serve one stalled receiver (16 x 7 with the defaults),
     * and concurrency x (...) if every receiver's DNS stalls at once. If
     * libcurl cannot start one more, that attempt fails as "dns"; nothing
     * blocks. */
    DELIVER_SET(CURLOPT_QUICK_EXIT, 1L);
    DELIVER_SET(CURLOPT_WRITEFUNCTION, deliver_on_body);
    DELIVER_SET(CURLOPT_WRITEDATA, delivery);
    DELIVER_SET(CURLOPT_HEADERFUNCTION, deliver_on_header);
    DELIVER_SET(CURLOPT_HEADERDATA, delivery);
    DELIVER_SET(CURLOPT_ERRORBUFFER, delivery->error);
    DELIVER_SET(CURLOPT_PRIVATE, delivery);
    DELIVER_SET(CURLOPT_OPENSOCKETFUNCTION, deliver_open_socket);
    DELIVER_SET(CURLOPT_OPENSOCKETDATA, delivery);
    DELIVER_SET(CURLOPT_PROXY, ""); /* never through a proxy named by the environment */
    if (options->ca_file != NULL && options->ca_file[0] != '\0')
        DELIVER_SET(CURLOPT_CAINFO, options->ca_file);
#undef DELIVER_SET
    if (code != CURLE_OK) {
        snprintf(err, errlen, "cannot set up the request: %s", curl_easy_strerror(code));
        return -1;
    }
    return 0;
}

/* The error class of a transfer libcurl ended with RESULT and MESSAGE (its
 * error buffer): what went wrong, in words a person acts on. Each class is
 * listed in the README. */
static const char *deliver_error_class(CURLcode result, const char *message)
{
    switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "dns";
    case CURLE_COULDNT_CONNECT:
        return "connect";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return "tls";
    case CURLE_RECV_ERROR:
        /* libcurl reports a broken chunked body as a receive error too. */
        return message != NULL && strstr(message, "chunk") != NULL ? "protocol" : "network";
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return "network";
    case CURLE_UNSUPPORTED_PROTOCOL: /* "Received HTTP/0.9 when not allowed" */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return "protocol";
    case CURLE_FILESIZE_EXCEEDED:
        return "response_too_large";
    case CURLE_URL_MALFORMAT:
        return "url";
    default:
        return "transport";
    }
}

/* Compares BODY, trimmed of surrounding whitespace, with EXPECTED exactly. */
static bool deliver_body_matches(const char *body, size_t length, const char *expected)
{
    while (length > 0 && isspace((unsigned char)body[0])) {
        body++;
        length--;
    }
    while (length > 0 && isspace((unsigned char)body[length - 1]))
        length--;
    return length == strlen(expected) && memcmp(body, expected, length) == 0;
}

/* A short, printable excerpt of BODY for messages. */
static void deliver_excerpt(const char *body, size_t length, char *out, size_t size)
{
    size_t written = 0;
    for (size_t i = 0; i < length && written + 1 < size && written < 64; i++)
        out[written++] = isprint((unsigned char)body[i]) ? body[i] : '.';
    out[written] = '\0';
}

DeliverVerdict deliver_classify(const DeliverResponse *response, const Policy *policy,
                                Attempt *attempt)
{
    attempt->status_code = (int)response->status_code;
    attempt->error_class[0] = '\0';
    attempt->error_message[0] = '\0';
    if (response->blocked_address != NULL && response->blocked_address[0] != '\0') {
        snprintf(attempt->error_class, sizeof attempt->error_class, "blocked_address");
        snprintf(attempt->error_message, sizeof attempt->error_message,
                 "refused to connect to %s: a private, loopback or reserved address "
                 "(open it with [delivery] allow_cidrs)",
                 response->blocked_address);
        return DELIVER_FAILURE;
    }
    /* Headers past herald's limit: ours stopped the transfer, or libcurl's
     * own limit on one line did (as "out of memory", before any body). */
    bool headers_too_large =
        response->result != CURLE_OK &&
        (response->header_bytes > DELIVER_HEADERS_MAX ||
         (response->result == CURLE_OUT_OF_MEMORY && response->body_total == 0));
    if (headers_too_large) {
        snprintf(attempt->error_class, sizeof attempt->error_class, "response_too_large");
        snprintf(attempt->error_message, sizeof attempt->error_message,
                 "the response's headers are larger than herald takes (%d KiB in all, "
                 "a line or all of them)", DELIVER_HEADERS_MAX / 1024);
        return DELIVER_FAILURE;
    }
    if (response->result != CURLE_OK) {
        const char *message = response->curl_message && response->curl_message[0]
                                  ? response->curl_message
                                  : curl_easy_strerror(response->result);
        const char *error_class = deliver_error_class(response->result, message);
        snprintf(attempt->error_class, sizeof attempt->error_class, "%s", error_class);
        snprintf(attempt->error_message, sizeof attempt->error_message, "%s", message);
        utf8_repair(attempt->error_message); /* it may quote what the receiver sent */
        /* A transfer that failed after the status line still has no acknowledgement. */
        return DELIVER_FAILURE;
    }
    long code = response->status_code;
    if (code >= 200 && code <= 299) {
        if (policy->success_body[0] == '\0')
            return DELIVER_SUCCESS;
        if (response->body_complete &&
            deliver_body_matches(response->body, response->body_length, policy->success_body))
            return DELIVER_SUCCESS;
        char excerpt[80];
        deliver_excerpt(response->body, response->body_length, excerpt, sizeof excerpt);
        snprintf(attempt->error_class, sizeof attempt->error_class, "body_mismatch");
        snprintf(attempt->error_message, sizeof attempt->error_message,
                 "HTTP %ld but the body \"%s\" is not \"%s\"", code, excerpt,
                 policy->success_body);
        return DELIVER_FAILURE;
    }
    if (code == 410) {
        snprintf(attempt->error_class, sizeof attempt->error_class, "gone");
        snprintf(attempt->error_message, sizeof attempt->error_message,
                 "HTTP 410: the receiver says this endpoint is gone");
        return DELIVER_GONE;
    }
    if (code >= 300 && code <= 399) {
        snprintf(attempt->error_class, sizeof attempt->error_class, "redirect");
        snprintf(attempt->error_message, sizeof attempt->error_message,
                 "HTTP %ld (redirects are not followed)", code);
        return DELIVER_FAILURE;
    }
    snprintf(attempt->error_class, sizeof attempt->error_class, "http_status");
    snprintf(attempt->error_message, sizeof attempt->error_message, "HTTP %ld", code);
    return DELIVER_FAILURE;
}

void deliver_decide(DeliverVerdict verdict, const Policy *policy, int64_t max_retry,
                    int64_t attempts, int64_t retry_base, long status_code, int64_t retry_after_ms, int64_t now_ms,
                    double random_unit, AttemptOutcome *outcome)
{
    outcome->next_attempt_at = 0;
    outcome->manual_reason = NULL;
    if (verdict == DELIVER_SUCCESS) {
        outcome->kind = ATTEMPT_OUTCOME_SUCCEEDED;
        return;
    }
    if (verdict == DELIVER_GONE) {
        outcome->kind = ATTEMPT_OUTCOME_MANUAL;
        outcome->manual_reason = "gone";
        return;
    }
    if (policy_is_exhausted(max_retry, attempts)) {
        outcome->kind = ATTEMPT_OUTCOME_MANUAL;
        outcome->manual_reason = "exhausted";
        return;
    }
    /* The schedule counts the failures since it (re)started. */
    int64_t since = attempts - retry_base > 0 ? attempts - retry_base : 1;
    int failure = since > INT32_MAX ? INT32_MAX : (int)since;
    int64_t delay = policy_next_delay_ms(policy, failure, random_unit);
    if (status_code == 429 || status_code == 503)
        delay = policy_apply_retry_after(policy, delay, retry_after_ms);
    outcome->kind = ATTEMPT_OUTCOME_RETRY;
    outcome->next_attempt_at = now_ms + delay;
}

void deliver_finish(Delivery *delivery, CURLcode result, int64_t now_ms, double random_unit,
                    AttemptOutcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    Attempt *attempt = &outcome->attempt;
    attempt->task_id = delivery->task.id;
    attempt->attempt = delivery->task.attempts;
    snprintf(outcome->claim_token, sizeof outcome->claim_token, "%s", delivery->task.claim_token);
    outcome->ordering_seq = delivery->task.ordering_seq;
    snprintf(outcome->business_type, sizeof outcome->business_type, "%s",
             delivery->task.business_type);
    snprintf(outcome->business_id, sizeof outcome->business_id, "%s",
             delivery->task.business_id);
    /* NULL if out of memory: the attempt is still recorded, without it. */
    attempt->receiver = strdup(delivery->task.target_host);
    attempt->started_at = delivery->started_at;
    attempt->duration_ms = clock_monotonic_ms() - delivery->started_monotonic;
    long status_code = 0;
    if (curl_easy_getinfo(delivery->easy, CURLINFO_RESPONSE_CODE, &status_code) != CURLE_OK)
        status_code = 0;
    DeliverResponse response = {
        .result = result,
        .curl_message = delivery->error,
        .status_code = status_code,
        .body = delivery->response.data ? delivery->response.data : "",
        .body_length = delivery->response.length,
        .body_complete = delivery->response_total == delivery->response.length,
        .blocked_address = delivery->blocked_address,
        .header_bytes = delivery->header_bytes,
        .body_total = delivery->response_total,
    };
    DeliverVerdict verdict = deliver_classify(&response, delivery->policy, attempt);
    deliver_decide(verdict, delivery->policy, delivery->task.max_retry, delivery->task.attempts,
                   delivery->task.retry_base,
                   status_code, delivery->retry_after_ms, now_ms, random_unit, outcome);
    /* The log keeps at most max_response_bytes of what was received. */
    size_t kept = delivery->response.length < delivery->log_limit ? delivery->response.length
                                                                  : delivery->log_limit;
    attempt->response_truncated = delivery->response_total > kept;
    if (kept > 0) {
        attempt->response_body = delivery->response.data;
        attempt->response_length = kept;
        delivery->response.data = NULL;
        delivery->response.length = 0;
    }
    deliver_trace_finish(&delivery->trace, &delivery->task, outcome);
}

void deliver_release(Delivery *delivery)
{
    free(delivery->headers); /* one block: see deliver_link_headers */
    buffer_free(&delivery->response);
    task_clear(&delivery->task);
    delivery->headers = NULL;
}

void deliver_close(Delivery *delivery)
{
    deliver_release(delivery);
    if (delivery->easy != NULL)
        curl_easy_cleanup(delivery->easy);
    delivery->easy = NULL;
}

void deliver_log_outcome(const AttemptOutcome *outcome, int64_t now_ms)
{
    char business_id[160], error[320];
    log_quote(business_id, sizeof business_id, outcome->business_id);
    char description[ATTEMPT_ERROR_CLASS_MAX + ATTEMPT_ERROR_MESSAGE_MAX + 4];
    attempt_describe(&outcome->attempt, description, sizeof description);
    log_quote(error, sizeof error, description);
    const Attempt *attempt = &outcome->attempt;
    /* The attempt's span, so a line leads to its trace (and back). */
    char trace[80] = "";
    if (outcome->trace_id[0] != '\0')
        snprintf(trace, sizeof trace, " trace_id=%s span_id=%s", outcome->trace_id,
                 outcome->span_id);
    if (outcome->fenced) {
        /* Nothing was written: whoever rescued the claim recorded the attempt. */
        static const char *const results[] = {
            [ATTEMPT_OUTCOME_SUCCEEDED] = "succeeded",
            [ATTEMPT_OUTCOME_RETRY] = "failed",
            [ATTEMPT_OUTCOME_MANUAL] = "failed",
        };
        log_warning("event=outcome_fenced task_id=%lld business_type=%s business_id=%s "
                    "attempt=%d result=%s status=%d error=%s reason=\"the claim's lease ended "
                    "before its outcome was written; the task was rescued\"%s",
                    (long long)attempt->task_id, outcome->business_type, business_id,
                    attempt->attempt, results[outcome->kind], attempt->status_code, error, trace);
        return;
    }
    switch (outcome->kind) {
    case ATTEMPT_OUTCOME_SUCCEEDED:
        log_debug("event=delivered task_id=%lld business_type=%s business_id=%s attempt=%d "
                  "status=%d duration_ms=%lld%s",
                  (long long)attempt->task_id, outcome->business_type, business_id,
                  attempt->attempt, attempt->status_code, (long long)attempt->duration_ms, trace);
        break;
    case ATTEMPT_OUTCOME_RETRY:
        if (outcome->parked) { /* its receiver's open circuit holds it, not a backoff */
            log_info("event=attempt_failed task_id=%lld business_type=%s business_id=%s "
                     "attempt=%d error=%s parked=true attempts_given_back=%d%s",
                     (long long)attempt->task_id, outcome->business_type, business_id,
                     attempt->attempt, error, outcome->extra_attempts, trace);
            break;
        }
        log_info("event=attempt_failed task_id=%lld business_type=%s business_id=%s attempt=%d "
                 "error=%s retry_in_ms=%lld%s",
                 (long long)attempt->task_id, outcome->business_type, business_id,
                 attempt->attempt, error, (long long)(outcome->next_attempt_at - now_ms), trace);
        break;
    case ATTEMPT_OUTCOME_MANUAL:
        log_warning("event=moved_to_manual task_id=%lld business_type=%s business_id=%s "
                    "attempts=%d reason=%s error=%s%s",
                    (long long)attempt->task_id, outcome->business_type, business_id,
                    attempt->attempt, outcome->manual_reason, error, trace);
        break;
    }
}
