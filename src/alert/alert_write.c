/*
 * alert_write: an alert written to the alerts table (alert_store, through
 * the intake writer like every write) and the time fields of its details
 * (alert_time). Used by the checker (alert.c) and by the sending side
 * (alert_send.c), apart from both so neither calls the other back.
 */
#include "alert_internal.h"

#include "clock.h"

cJSON *alert_time(int64_t unix_ms)
{
    char text[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(unix_ms, text);
    return cJSON_CreateString(text);
}

static StoreResult alert_apply_insert(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    AlertInsert *insert = job->context;
    StoreResult result = store_alert_insert(
        store, insert->fence.term > 0 ? &insert->fence : NULL, &insert->record, &insert->id, err,
        errlen);
    /* Refused is an answer, not a failure: the job commits nothing either way. */
    insert->refused = result == STORE_NOT_FOUND;
    return result == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

int alert_store(AlertChecker *checker, AlertInsert *insert, char *err, size_t errlen)
{
    return intake_run(checker->options.intake, alert_apply_insert, insert, err, errlen) ==
                   STORE_OK
               ? 0
               : -1;
}
