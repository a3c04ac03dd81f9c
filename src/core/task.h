/*
 * task: the notification task, as requested by a client (TaskRequest) and as
 * stored and delivered (Task), with the limits the API enforces on it.
 *
 * A TaskRequest is what validation produces and the intake writer stores; a
 * Task is a row of the tasks table. Both own their strings (heap, freed by
 * task_request_clear / task_clear). The request hash identifies "the same
 * request": a repeat (the same idempotency key, or without one the same
 * business_type, business_id and target_url) with a different hash is a
 * conflict, not a duplicate. It covers everything the client sends but the
 * key, with target_url in its normal form (task_url.h), so two spellings of
 * one URL are one request.
 */
#ifndef HERALD_TASK_H
#define HERALD_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TASK_BUSINESS_ID_MAX 128     /* code points */
#define TASK_BUSINESS_TYPE_MAX 64    /* [A-Za-z0-9_.:-] */
#define TASK_TARGET_URL_MAX 2048     /* bytes */
#define TASK_HEADERS_MAX 20          /* extra request headers */
#define TASK_HEADER_NAME_MAX 128     /* bytes */
#define TASK_HEADER_VALUE_MAX 4096   /* bytes */
#define TASK_MAX_RETRY_MIN 1
#define TASK_MAX_RETRY_MAX 100
#define TASK_IDEMPOTENCY_KEY_MAX 128 /* code points */
#define TASK_ORDERING_KEY_MAX 128    /* visible ASCII characters (a header's value) */
/* next_attempt_at of a task waiting behind the head of its ordering key
 * (store_ordering.h): never due. 2^53 - 1, exact as a JSON number. */
#define TASK_ORDERING_WAITING_AT INT64_C(9007199254740991)
#define TASK_HASH_SIZE 32            /* SHA-256 */
#define TASK_WEBHOOK_ID_SIZE 32      /* "msg_" + 26 base32 characters + NUL, rounded */
#define TASK_CLAIM_TOKEN_SIZE 33     /* 128 random bits as 32 hex digits + NUL */
/* A W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>") + NUL: the context of
 * the task's intake span, which its attempts are children of (telemetry/). */
#define TASK_TRACEPARENT_SIZE 56

typedef enum {
    TASK_STATUS_PENDING,
    TASK_STATUS_DELIVERING,
    TASK_STATUS_SUCCEEDED,
    TASK_STATUS_FAILED,
} TaskStatus;

typedef struct TaskRequest {
    char *business_id;
    char *business_type;
    char *target_url;
    char *target_host;    /* "scheme://host:port" of target_url, lower case */
    /* target_url's normal form (task_url.h): the identity a request without
     * a key is deduplicated by. NULL: target_url is its own (tests). */
    char *target_identity;
    char *payload;        /* bytes to send, NUL-terminated (no NUL inside) */
    size_t payload_length;
    bool payload_is_json; /* object/array (shown as JSON) or a raw string */
    char *headers_json;   /* compact JSON object of extra headers, NULL if none */
    int max_retry;        /* 0 = the business type's policy decides */
    char *idempotency_key; /* NULL if none */
    /* Strict order (store_ordering.h): the tasks of one ordering_key and
     * receiver are delivered one at a time in acceptance order. NULL: none.
     * ordering_block is the business type's ordering_on_failure (set by the
     * API from the policy, not part of the hash): true = block. */
    char *ordering_key;
    bool ordering_block;
    /* Its trace (telemetry/): the intake span's traceparent ("" if none) and
     * the caller's tracestate (NULL if none), set by the API from the
     * request's headers, not part of the hash (a repeat with another trace
     * is the same request). */
    char traceparent[TASK_TRACEPARENT_SIZE];
    char *tracestate;
    unsigned char hash[TASK_HASH_SIZE];
    /* When target_url is not its own normal form: the hash over it as
     * written, which is what herald before the normal form stored. A task
     * stored then, repeated with the same bytes, is still the same request. */
    bool has_written_hash;
    unsigned char written_hash[TASK_HASH_SIZE];
} TaskRequest;

typedef struct Task {
    int64_t id;
    char webhook_id[TASK_WEBHOOK_ID_SIZE];
    char *business_id;
    char *business_type;
    char *target_url;
    char *target_host;
    char *payload;
    size_t payload_length;
    bool payload_is_json;
    char *headers_json; /* NULL if none */
    char *idempotency_key; /* NULL if none */
    TaskStatus status;
    int attempts;
    int max_retry;
    /* Attempts made when its retry schedule last (re)started (a retry or
     * redelivery with a fresh budget): the waits count failures from here.
     * Read by the claims only (0 elsewhere). */
    int retry_base;
    /* Its ordering key and its place in the key's sequence (1-based): NULL
     * and 0 without one. Read by the claims only, as retry_base. */
    char *ordering_key;
    int64_t ordering_seq;
    /* Its trace, as TaskRequest's: "" and NULL without one (tasks stored
     * before herald kept traces). Read by the claims and GET /v1/tasks/{id}. */
    char traceparent[TASK_TRACEPARENT_SIZE];
    char *tracestate;
    int64_t next_attempt_at; /* Unix ms */
    int64_t created_at;
    int64_t updated_at;
    int last_status_code;    /* 0 = none yet */
    char *last_error;        /* NULL if none */
    /* While delivering: the token of the claim that holds it ("" if unknown:
     * tasks read outside a claim). Set by the scheduler, never read back. */
    char claim_token[TASK_CLAIM_TOKEN_SIZE];
} Task;

/* "pending", "delivering", "succeeded", "failed". */
const char *task_status_name(TaskStatus status);

/* True if KEY is a valid ordering_key: 1..TASK_ORDERING_KEY_MAX visible
 * ASCII characters (0x21..0x7e), so it can be sent as a header's value. */
bool task_ordering_key_is_valid(const char *key);

/* Returns 0, or -1 if NAME is not a status. */
int task_status_parse(const char *name, TaskStatus *out);

/* True if TYPE matches [A-Za-z0-9_.:-]{1,64}. */
bool task_business_type_is_valid(const char *type);

/* Fills REQUEST->hash from every field that defines the request (and
 * written_hash, see TaskRequest). */
void task_request_compute_hash(TaskRequest *request);

/* True if STORED, the hash of the request that made a task, is REQUEST's:
 * the same request repeated. */
bool task_request_hash_matches(const TaskRequest *request,
                               const unsigned char stored[TASK_HASH_SIZE]);

/* The URL REQUEST is deduplicated by: target_identity, else target_url. */
const char *task_request_identity(const TaskRequest *request);

/* A fresh random webhook id, "msg_" + 26 lowercase base32 characters.
 * Returns 0, or -1 if the kernel's random source fails. */
int task_generate_webhook_id(char out[TASK_WEBHOOK_ID_SIZE]);

/* A fresh claim token: 128 bits from the kernel as 32 lowercase hex digits.
 * Returns 0, or -1 if the kernel's random source fails. */
int task_generate_claim_token(char out[TASK_CLAIM_TOKEN_SIZE]);

/* Fills OUT with the task a freshly stored REQUEST became. OUT borrows
 * REQUEST's strings: it is valid only while REQUEST is, and must never be
 * task_clear()ed. */
void task_view_of_request(Task *out, const TaskRequest *request, int64_t id,
                          const char *webhook_id, int max_retry, int64_t now);

/* Frees the strings and zeroes the struct. Safe on a zeroed struct. */
void task_request_clear(TaskRequest *request);
void task_clear(Task *task);

#endif
