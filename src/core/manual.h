/*
 * manual: the manual-handling table as operators see it: entries (a task
 * that failed for good, and what became of it), the repairs they ask for,
 * and the actions recorded for each change.
 */
#ifndef HERALD_MANUAL_H
#define HERALD_MANUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANUAL_WORD_MAX 16

typedef struct ManualEntry {
    int64_t id;
    int64_t task_id;
    char *business_id;   /* owned, as are all strings here */
    char *business_type;
    char *target_url;
    char reason[MANUAL_WORD_MAX];     /* "exhausted", "gone" */
    int attempts;
    int last_status_code;             /* 0 = none */
    char *last_error;                 /* NULL if none */
    int64_t moved_at;
    bool open;
    int64_t resolved_at;              /* 0 while open */
    char resolution[MANUAL_WORD_MAX]; /* "retried", "resolved", "" while open */
    char *note;                       /* NULL if none */
} ManualEntry;

typedef struct ManualAction {
    int64_t id;
    int64_t task_id;
    char action[MANUAL_WORD_MAX]; /* "retry", "resolve", "bulk_retry", "redeliver", ... */
    char *actor;
    char *note;    /* NULL if none */
    char *details; /* JSON object text, NULL if none */
    int64_t created_at;
} ManualAction;

/* A retry with optional corrections; NULL fields are left as they are. A
 * redelivery is a retry without corrections of a task that succeeded or
 * failed, whether or not it is in manual handling. */
typedef struct ManualRepair {
    const char *target_url;
    const char *target_host; /* with target_url */
    const char *payload;
    size_t payload_length;
    bool payload_is_json;
    bool replace_headers;    /* headers_json replaces the task's extra headers */
    const char *headers_json; /* compact JSON object; NULL (with replace_headers): none */
    int max_retry;           /* the fresh attempt budget */
    const char *note;
    const char *actor;
    bool redeliver;          /* a task that succeeded is sent again too */
    bool hasten;             /* a pending task is taken too: made due now (a redelivery job) */
    const char *expect_status; /* NULL, or only a task with this status is taken (a job's filter) */
} ManualRepair;

typedef struct ManualFilter {
    enum { MANUAL_STATE_OPEN, MANUAL_STATE_RESOLVED, MANUAL_STATE_ALL } state;
    const char *business_type; /* NULL = any */
    const char *reason;        /* "exhausted", "gone"; NULL = any */
    int64_t task_id;           /* 0 = any */
    int64_t since;             /* moved_at >= since */
    int64_t until;             /* moved_at < until */
    int64_t after;             /* entry id > after (keyset pagination) */
    int limit;
} ManualFilter;

/* Why a task is in manual handling: its attempts were spent ("exhausted"),
 * the receiver answered 410 ("gone"), or every attempt its budget allowed was
 * cut off by a crash or stall ("interrupted"). */
#define MANUAL_REASONS_TEXT "exhausted, gone or interrupted"
bool manual_reason_is_valid(const char *reason);

void manual_entry_clear(ManualEntry *entry);
void manual_action_clear(ManualAction *action);

#endif
