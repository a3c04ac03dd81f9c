/*
 * redelivery: a redelivery job (POST /v1/redeliveries), an operator's "send
 * these again" over the tasks a filter chooses, as the store keeps it and
 * the API shows it. The job's runner (src/jobs/redeliverer.c) works through
 * the tasks in id order, in chunks at the job's pace; each task is sent
 * again as POST /v1/tasks/{id}/redeliver would (a finished one made pending
 * again with its webhook-id; a pending one made due now), with the job's
 * reason and actor in its audit trail.
 */
#ifndef HERALD_REDELIVERY_H
#define HERALD_REDELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#define REDELIVERY_PACE_DEFAULT 50  /* tasks a second */
#define REDELIVERY_PACE_MAX 10000
#define REDELIVERY_REASON_MAX 1000
#define REDELIVERY_TEXT_MAX 2048     /* a filter's text terms */

/* Which tasks; a NULL (or 0) term matches any. Strings owned by the holder. */
typedef struct RedeliveryFilter {
    char *business_type;
    char *receiver;    /* scheme://host:port, as normalised */
    char *url_prefix;  /* the target URL begins with it */
    char task_status[16]; /* "failed", "succeeded" or "pending" */
    char *error_class; /* of the task's latest attempt */
    int64_t created_from; /* Unix ms: created at or after; 0: any */
    int64_t created_to;   /* created before; 0: any */
} RedeliveryFilter;

typedef struct RedeliveryJob {
    int64_t id;
    char state[16]; /* "running", "done" or "cancelled" */
    RedeliveryFilter filter;
    bool full_schedule; /* each task gets its type's max_retry attempts, else one */
    int64_t pace;       /* tasks a second at most */
    char *reason;
    char *actor;
    char *cancelled_by; /* NULL unless cancelled */
    int64_t through_id; /* the newest task when it was created: none after it */
    int64_t cursor_id;  /* the tasks up to here are done with */
    int64_t matched;    /* when it was created */
    int64_t sent;
    int64_t skipped;    /* in flight, or changed, when their turn came */
    int64_t remaining;  /* matching tasks after the cursor, when read (0 once ended) */
    int64_t created_at;
    int64_t updated_at;
    int64_t finished_at; /* 0: running */
} RedeliveryJob;

void redelivery_filter_clear(RedeliveryFilter *filter);
void redelivery_job_clear(RedeliveryJob *job);

#endif
