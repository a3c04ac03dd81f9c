/*
 * task: see task.h.
 */
#include "task.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "random_pool.h"

static const char *const task_status_names[] = {
    [TASK_STATUS_PENDING] = "pending",
    [TASK_STATUS_DELIVERING] = "delivering",
    [TASK_STATUS_SUCCEEDED] = "succeeded",
    [TASK_STATUS_FAILED] = "failed",
};

const char *task_status_name(TaskStatus status)
{
    if ((size_t)status >= sizeof task_status_names / sizeof task_status_names[0])
        return "unknown";
    return task_status_names[status];
}

int task_status_parse(const char *name, TaskStatus *out)
{
    for (size_t i = 0; i < sizeof task_status_names / sizeof task_status_names[0]; i++) {
        if (strcmp(name, task_status_names[i]) == 0) {
            *out = (TaskStatus)i;
            return 0;
        }
    }
    return -1;
}

bool task_business_type_is_valid(const char *type)
{
    size_t length = strlen(type);
    if (length == 0 || length > TASK_BUSINESS_TYPE_MAX)
        return false;
    return strspn(type, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") ==
           length;
}

bool task_ordering_key_is_valid(const char *key)
{
    size_t length = strlen(key);
    if (length == 0 || length > TASK_ORDERING_KEY_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
            return false;
    }
    return true;
}

/* Length-prefixes each field so that ("ab","c") and ("a","bc") differ. */
static void task_hash_field(EVP_MD_CTX *context, const void *data, size_t length)
{
    uint64_t prefix = data == NULL ? UINT64_MAX : (uint64_t)length;
    EVP_DigestUpdate(context, &prefix, sizeof prefix);
    if (data != NULL && length > 0)
        EVP_DigestUpdate(context, data, length);
}

static void task_hash_string(EVP_MD_CTX *context, const char *text)
{
    task_hash_field(context, text, text ? strlen(text) : 0);
}

/* SHA-256, fetched from OpenSSL's provider once: EVP_sha256() in
 * EVP_DigestInit_ex looks the algorithm up again on every call, which cost
 * more than hashing a task. Never freed: it lives as long as the process. */
static EVP_MD *task_sha256;
static pthread_once_t task_sha256_once = PTHREAD_ONCE_INIT;

static void task_fetch_sha256(void)
{
    task_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The hash of REQUEST with URL as its target_url. */
static void task_request_hash_with(const TaskRequest *request, const char *url,
                                   unsigned char out[TASK_HASH_SIZE])
{
    pthread_once(&task_sha256_once, task_fetch_sha256);
    EVP_MD_CTX *context = task_sha256 ? EVP_MD_CTX_new() : NULL;
    unsigned int length = 0;
    int32_t max_retry = request->max_retry;
    unsigned char is_json = request->payload_is_json;
    if (context == NULL || EVP_DigestInit_ex(context, task_sha256, NULL) != 1) {
        /* Out of memory in OpenSSL: fall back to a hash that matches nothing stored. */
        memset(out, 0xff, TASK_HASH_SIZE);
        EVP_MD_CTX_free(context);
        return;
    }
    task_hash_string(context, request->business_id);
    task_hash_string(context, request->business_type);
    task_hash_string(context, url);
    task_hash_field(context, &is_json, sizeof is_json);
    task_hash_field(context, request->payload, request->payload_length);
    task_hash_string(context, request->headers_json);
    task_hash_field(context, &max_retry, sizeof max_retry);
    /* Only when present, so a request without one hashes as it always did
     * (tasks stored before ordering keys are still repeated exactly). */
    if (request->ordering_key != NULL) {
        task_hash_field(context, "ordering_key", sizeof "ordering_key");
        task_hash_string(context, request->ordering_key);
    }
    EVP_DigestFinal_ex(context, out, &length);
    EVP_MD_CTX_free(context);
}

const char *task_request_identity(const TaskRequest *request)
{
    return request->target_identity != NULL ? request->target_identity : request->target_url;
}

void task_request_compute_hash(TaskRequest *request)
{
    const char *identity = task_request_identity(request);
    task_request_hash_with(request, identity, request->hash);
    request->has_written_hash =
        request->target_url != NULL && strcmp(identity, request->target_url) != 0;
    if (request->has_written_hash)
        task_request_hash_with(request, request->target_url, request->written_hash);
}

bool task_request_hash_matches(const TaskRequest *request,
                               const unsigned char stored[TASK_HASH_SIZE])
{
    return memcmp(stored, request->hash, TASK_HASH_SIZE) == 0 ||
           (request->has_written_hash &&
            memcmp(stored, request->written_hash, TASK_HASH_SIZE) == 0);
}

int task_generate_claim_token(char out[TASK_CLAIM_TOKEN_SIZE])
{
    /* From the kernel each time, never a counter or a seeded generator: a
     * token must not repeat after a crash, a restore or a failover, and one
     * system call per claim (not per task) costs nothing that matters. */
    unsigned char random_bytes[16];
    if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes)
        return -1;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof random_bytes; i++) {
        out[2 * i] = digits[random_bytes[i] >> 4];
        out[2 * i + 1] = digits[random_bytes[i] & 15];
    }
    out[2 * sizeof random_bytes] = '\0';
    return 0;
}

int task_generate_webhook_id(char out[TASK_WEBHOOK_ID_SIZE])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char random_bytes[16];
    /* Read ahead (random_pool.h): one getrandom() per id cost a system call
     * per task on the intake hot path (OpenSSL's RAND_bytes measured slower
     * still). Webhook ids are public, so holding the next ones in memory
     * exposes nothing. */
    if (random_pool_fill(random_bytes, sizeof random_bytes) != 0)
        return -1;
    /* 128 random bits as 26 base32 digits (the last one carries 3 bits). */
    memcpy(out, "msg_", 4);
    unsigned int bits = 0, accumulator = 0;
    size_t written = 4;
    for (size_t i = 0; i < sizeof random_bytes; i++) {
        accumulator = (accumulator << 8) | random_bytes[i];
        bits += 8;
        while (bits >= 5) {
            out[written++] = alphabet[(accumulator >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[written++] = alphabet[(accumulator << (5 - bits)) & 31];
    out[written] = '\0';
    return 0;
}

void task_view_of_request(Task *out, const TaskRequest *request, int64_t id,
                          const char *webhook_id, int max_retry, int64_t now)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    snprintf(out->webhook_id, sizeof out->webhook_id, "%s", webhook_id);
    out->status = TASK_STATUS_PENDING;
    out->max_retry = max_retry;
    out->next_attempt_at = now;
    out->created_at = now;
    out->updated_at = now;
    /* Borrowed, not copied: the intake writer stores thousands of tasks a
     * second, and each copy was seven allocations freed on another thread. */
    out->business_id = request->business_id;
    out->business_type = request->business_type;
    out->target_url = request->target_url;
    out->target_host = request->target_host;
    out->payload = request->payload;
    out->payload_length = request->payload_length;
    out->payload_is_json = request->payload_is_json;
    out->headers_json = request->headers_json;
    out->idempotency_key = request->idempotency_key;
    out->ordering_key = request->ordering_key;
    memcpy(out->traceparent, request->traceparent, sizeof out->traceparent);
    out->tracestate = request->tracestate;
}

void task_request_clear(TaskRequest *request)
{
    free(request->business_id);
    free(request->business_type);
    free(request->target_url);
    free(request->target_host);
    free(request->target_identity);
    free(request->payload);
    free(request->headers_json);
    free(request->idempotency_key);
    free(request->ordering_key);
    free(request->tracestate);
    memset(request, 0, sizeof *request);
}

void task_clear(Task *task)
{
    free(task->business_id);
    free(task->business_type);
    free(task->target_url);
    free(task->target_host);
    free(task->payload);
    free(task->headers_json);
    free(task->idempotency_key);
    free(task->last_error);
    free(task->ordering_key);
    free(task->tracestate);
    memset(task, 0, sizeof *task);
}
