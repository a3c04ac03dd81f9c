/*
 * store_outcome: how an attempt ends in the database, written once above
 * the backends (see store.h): the scheduler's outcomes and the rescue of
 * attempts whose lease ended are the same three steps. First each task's
 * new state, only where the claim that made the attempt still holds (an
 * outcome that lost its claim writes nothing: the rescue recorded that
 * attempt); then the attempt rows of the tasks that changed; then a manual
 * entry for those that failed, which copies the task's state just written.
 * A backend supplies each step as statements (one per row on SQLite, one
 * array-bound statement per chunk on PostgreSQL) and the rescue's select,
 * which on PostgreSQL locks the rows it returns and skips those another
 * session holds, so two sweeps never record one attempt twice.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One chunk's steps: the tasks' new states (setting each end's applied),
 * then the history rows and manual entries of the tasks that changed. */
static int store_outcome_write(Store *store, StoreTaskEnd *ends, size_t count, int64_t now,
                               char *err, size_t errlen)
{
    const StoreBackend *backend = store->backend;
    if (count == 0)
        return 0;
    if (backend->task_end(store, ends, count, now, err, errlen) != 0)
        return -1;
    const Attempt **written = malloc(count * sizeof *written);
    int64_t *failed = malloc(count * sizeof *failed);
    const char **failed_reasons = malloc(count * sizeof *failed_reasons);
    int status = -1;
    if (written == NULL || failed == NULL || failed_reasons == NULL) {
        snprintf(err, errlen, "record outcomes: out of memory");
        goto out;
    }
    size_t written_count = 0, failed_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (!ends[i].applied)
            continue;
        written[written_count++] = ends[i].ended;
        if (ends[i].manual_reason != NULL) {
            failed[failed_count] = ends[i].task_id;
            failed_reasons[failed_count++] = ends[i].manual_reason;
        }
    }
    if (written_count > 0 &&
        backend->attempt_insert(store, written, written_count, err, errlen) != 0)
        goto out;
    if (failed_count > 0 && backend->manual_insert(store, failed, failed_reasons, failed_count,
                                                   now, err, errlen) != 0)
        goto out;
    status = 0;
out:
    free(written);
    free(failed);
    free(failed_reasons);
    return status;
}

/* The size of one outcome in a statement: its response (at most
 * max_response_bytes) and the fixed part (messages, ids). */
static size_t store_outcome_bytes(const AttemptOutcome *outcome)
{
    return outcome->attempt.response_length + sizeof *outcome;
}

/* The end of OUTCOME's task: its status, and what it says of the attempt.
 * LAST_ERROR is the end's storage. */
static void store_outcome_end(const AttemptOutcome *outcome, StoreTaskEnd *end, char *last_error,
                              size_t size)
{
    static const char *const statuses[] = {
        [ATTEMPT_OUTCOME_SUCCEEDED] = "succeeded",
        [ATTEMPT_OUTCOME_RETRY] = "pending",
        [ATTEMPT_OUTCOME_MANUAL] = "failed",
    };
    const Attempt *attempt = &outcome->attempt;
    attempt_describe(attempt, last_error, size);
    *end = (StoreTaskEnd){
        .task_id = attempt->task_id,
        .attempt = attempt->attempt,
        .claim_token = outcome->claim_token,
        .status = statuses[outcome->kind],
        .next_attempt_at =
            outcome->kind == ATTEMPT_OUTCOME_RETRY ? outcome->next_attempt_at : 0,
        .last_status_code = attempt->status_code,
        .last_error = last_error[0] != '\0' ? last_error : NULL,
        .ended = attempt,
        .manual_reason = outcome->kind == ATTEMPT_OUTCOME_MANUAL ? outcome->manual_reason : NULL,
        .extra_attempts = outcome->extra_attempts,
    };
}

enum { STORE_LAST_ERROR_MAX = ATTEMPT_ERROR_CLASS_MAX + ATTEMPT_ERROR_MESSAGE_MAX + 4 };

/* One chunk of the scheduler's outcomes. */
static int store_outcome_chunk(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                               char *err, size_t errlen)
{
    StoreTaskEnd *ends = calloc(count, sizeof *ends);
    char (*last_errors)[STORE_LAST_ERROR_MAX] = calloc(count, sizeof *last_errors);
    int status = -1;
    if (ends == NULL || last_errors == NULL) {
        snprintf(err, errlen, "record outcomes: out of memory");
    } else {
        for (size_t i = 0; i < count; i++)
            store_outcome_end(&outcomes[i], &ends[i], last_errors[i], sizeof last_errors[i]);
        status = store_outcome_write(store, ends, count, now, err, errlen);
        for (size_t i = 0; i < count && status == 0; i++)
            outcomes[i].fenced = !ends[i].applied;
    }
    free(ends);
    free(last_errors);
    return status;
}

/* Last, once every chunk is written, the keys of the ordered tasks that
 * ended (store_ordering.h): the tasks are locked by now, their keys' rows
 * after them, in the one order every transaction takes them in. */
static int store_outcome_order(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                               char *err, size_t errlen)
{
    size_t ended = 0;
    for (size_t i = 0; i < count; i++)
        ended += !outcomes[i].fenced && outcomes[i].ordering_seq > 0 &&
                         outcomes[i].kind != ATTEMPT_OUTCOME_RETRY
                     ? 1
                     : 0;
    if (ended == 0)
        return 0;
    int64_t *ids = malloc(ended * sizeof *ids);
    char **released = calloc(ended, sizeof *released);
    size_t *which = malloc(ended * sizeof *which);
    int status = -1;
    if (ids == NULL || released == NULL || which == NULL) {
        snprintf(err, errlen, "record outcomes: out of memory");
    } else {
        size_t n = 0;
        for (size_t i = 0; i < count; i++) {
            if (!outcomes[i].fenced && outcomes[i].ordering_seq > 0 &&
                outcomes[i].kind != ATTEMPT_OUTCOME_RETRY) {
                which[n] = i;
                ids[n++] = outcomes[i].attempt.task_id;
            }
        }
        status = store_ordering_ended_many(store, ids, released, n, now, err, errlen);
        for (size_t k = 0; k < n; k++) {
            if (status == 0)
                outcomes[which[k]].released_host = released[k];
            else
                free(released[k]);
        }
    }
    free(ids);
    free(released);
    free(which);
    return status;
}

int store_record_outcomes(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                          size_t *fenced, char *err, size_t errlen)
{
    *fenced = 0;
    for (size_t i = 0; i < count; i++) {
        /* A turn written again: what a rolled-back write released is not. */
        free(outcomes[i].released_host);
        outcomes[i].released_host = NULL;
    }
    /* The receivers' breakers first: they decide which failures park. */
    if (store_breaker_count(store, outcomes, count, now, err, errlen) != 0)
        return -1;
    /* Chunks of at most STORE_OUTCOME_CHUNK_BYTES (or one outcome): a turn's
     * outcomes with large responses would otherwise make one statement past
     * what the server or the client library accepts, and every retry of it
     * would fail the same way. */
    size_t start = 0;
    while (start < count) {
        size_t end = start;
        size_t bytes = 0;
        while (end < count && end - start < STORE_OUTCOME_CHUNK_COUNT &&
               (end == start || bytes + store_outcome_bytes(&outcomes[end]) <=
                                    STORE_OUTCOME_CHUNK_BYTES))
            bytes += store_outcome_bytes(&outcomes[end++]);
        if (store_outcome_chunk(store, outcomes + start, end - start, now, err, errlen) != 0)
            return -1;
        for (size_t i = start; i < end; i++)
            *fenced += outcomes[i].fenced ? 1 : 0;
        start = end;
    }
    return store_outcome_order(store, outcomes, count, now, err, errlen);
}

/* The cut-off attempt of RESCUED, and its task's end: pending again at NOW,
 * or failed (with an entry) once its budget is spent and this attempt ends
 * a streak of STORE_RESCUE_STREAK cut off (store.h), its next_attempt_at NOW
 * either way (not the lease's end, which may be on the server's clock). The
 * task keeps its last status code (the attempt had no answer) and says
 * 'interrupted'. */
static void store_rescue_end(const StoreRescued *rescued, int64_t now, Attempt *attempt,
                             StoreTaskEnd *end)
{
    /* While its receiver's circuit is open it is parked, as a failure would
     * be (store_breaker.c). */
    bool fails = rescued->attempts >= rescued->max_retry &&
                 rescued->interrupted_before == STORE_RESCUE_STREAK - 1 &&
                 !rescued->receiver_open;
    *attempt = (Attempt){
        .task_id = rescued->task_id,
        .attempt = rescued->attempts,
        .started_at = rescued->claimed_at,
        .duration_ms = now > rescued->claimed_at ? now - rescued->claimed_at : 0,
        .receiver = rescued->target_host,
    };
    snprintf(attempt->error_class, sizeof attempt->error_class, "interrupted");
    snprintf(attempt->error_message, sizeof attempt->error_message, "%s",
             STORE_INTERRUPTED_MESSAGE);
    *end = (StoreTaskEnd){
        .task_id = rescued->task_id,
        .attempt = rescued->attempts,
        .claim_token = rescued->claim_token,
        .status = fails ? "failed" : "pending",
        .next_attempt_at = now,
        .last_status_code = rescued->last_status_code,
        .last_error = "interrupted",
        .ended = attempt,
        .manual_reason = fails ? "interrupted" : NULL,
        /* Parked: a probe cut off spends nothing, as a failed one. */
        .extra_attempts = rescued->receiver_open ? 1 : 0,
    };
}

/* One chunk of a rescue: COUNT tasks of RESCUED; the ids of those it failed
 * are added to FAILED (*FAILED_COUNT). */
static int store_rescue_chunk(Store *store, const StoreRescued *rescued, size_t count,
                              int64_t now, int *recovered, int *moved, int64_t *failed,
                              size_t *failed_count, char *err, size_t errlen)
{
    StoreTaskEnd *ends = calloc(count, sizeof *ends);
    Attempt *attempts = calloc(count, sizeof *attempts);
    int status = -1;
    if (ends == NULL || attempts == NULL) {
        snprintf(err, errlen, "rescue interrupted tasks: out of memory");
    } else {
        for (size_t i = 0; i < count; i++)
            store_rescue_end(&rescued[i], now, &attempts[i], &ends[i]);
        status = store_outcome_write(store, ends, count, now, err, errlen);
        for (size_t i = 0; i < count && status == 0; i++) {
            *recovered += ends[i].applied ? 1 : 0;
            *moved += ends[i].applied && ends[i].manual_reason != NULL ? 1 : 0;
            if (ends[i].applied && ends[i].manual_reason != NULL)
                failed[(*failed_count)++] = ends[i].task_id;
        }
    }
    free(ends);
    free(attempts); /* their receivers belong to RESCUED */
    return status;
}

int store_recover_interrupted(Store *store, int64_t now, StoreRescueScope scope, int *recovered,
                              int *moved, char *err, size_t errlen)
{
    *recovered = 0;
    *moved = 0;
    StoreRescued *rescued = NULL;
    size_t count = 0;
    if (scope == STORE_RESCUE_ALL && store->backend->breaker_forget_probes != NULL &&
        store->backend->breaker_forget_probes(store, err, errlen) != 0)
        return -1;
    if (store->backend->rescue_select(store, now, scope == STORE_RESCUE_ALL, &rescued, &count,
                                      err, errlen) != 0)
        return -1;
    /* The tasks it failed, whose ordering keys (if any) move on last. */
    int64_t *failed = count > 0 ? malloc(count * sizeof *failed) : NULL;
    char **released = count > 0 ? calloc(count, sizeof *released) : NULL;
    size_t failed_count = 0;
    int status = 0;
    if (count > 0 && (failed == NULL || released == NULL)) {
        snprintf(err, errlen, "rescue interrupted tasks: out of memory");
        status = -1;
    }
    for (size_t start = 0; start < count && status == 0; start += STORE_OUTCOME_CHUNK_COUNT) {
        size_t chunk = count - start < STORE_OUTCOME_CHUNK_COUNT ? count - start
                                                                 : STORE_OUTCOME_CHUNK_COUNT;
        status = store_rescue_chunk(store, rescued + start, chunk, now, recovered, moved, failed,
                                    &failed_count, err, errlen);
    }
    /* The next of a key made due is found by the scheduler's reading of the
     * hosts after every rescue. */
    if (status == 0 && failed_count > 0)
        status = store_ordering_ended_many(store, failed, released, failed_count, now, err,
                                           errlen);
    for (size_t i = 0; released != NULL && i < failed_count; i++)
        free(released[i]);
    free(failed);
    free(released);
    store_rescued_free(rescued, count);
    return status;
}
