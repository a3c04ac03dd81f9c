/*
 * store: the front of the store (see store.h). It picks the backend a
 * StoreLocation names and hands every call to that backend's table of
 * functions (store/backend.h); it frees what the listings return, which is
 * the same for every backend. Nothing here knows SQL.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const StoreBackend *store_backend_for(StoreBackendKind kind)
{
    return kind == STORE_BACKEND_POSTGRESQL ? &store_backend_postgresql : &store_backend_sqlite;
}

Store *store_open(const StoreLocation *location, const StoreOptions *options, char *err,
                  size_t errlen)
{
    /* The front, not the backend, fills in the table: a backend's files never
     * name their own table (their *_backend.c does), so none calls back into
     * the file that calls it. */
    const StoreBackend *backend = store_backend_for(location->kind);
    Store *store = backend->open(location, options, err, errlen);
    if (store != NULL)
        store->backend = backend;
    return store;
}

int store_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen)
{
    return store_backend_for(location->kind)->inspect(location, out, err, errlen);
}

StoreBackendKind store_backend(const Store *store)
{
    return store->backend == &store_backend_sqlite ? STORE_BACKEND_SQLITE
                                                   : STORE_BACKEND_POSTGRESQL;
}

void store_close(Store *store)
{
    if (store != NULL)
        store->backend->close(store);
}

int store_schema_version(Store *store)
{
    return store->backend->schema_version(store);
}

int store_tidy(Store *store, char *err, size_t errlen)
{
    return store->backend->tidy(store, err, errlen);
}

int store_ping(Store *store, char *err, size_t errlen)
{
    return store->backend->ping(store, err, errlen);
}

int store_begin(Store *store, char *err, size_t errlen)
{
    return store->backend->begin(store, err, errlen);
}

int store_commit(Store *store, char *err, size_t errlen)
{
    return store->backend->commit(store, err, errlen);
}

void store_rollback(Store *store)
{
    store->backend->rollback(store);
}

int store_savepoint(Store *store, char *err, size_t errlen)
{
    return store->backend->savepoint(store, err, errlen);
}

int store_savepoint_release(Store *store, char *err, size_t errlen)
{
    return store->backend->savepoint_release(store, err, errlen);
}

int store_savepoint_rollback(Store *store, char *err, size_t errlen)
{
    return store->backend->savepoint_rollback(store, err, errlen);
}

/* The tasks of ITEMS, created into OUT, before their ordering keys. */
static StoreResult store_task_create_rows(Store *store, const TaskCreateItem *items, size_t count,
                                          int64_t now, TaskCreation *out, char *err,
                                          size_t errlen)
{
    if (store->backend->task_create_many != NULL)
        return store->backend->task_create_many(store, items, count, now, out, err, errlen);
    /* A backend without a statement for many: one after the other. */
    for (size_t i = 0; i < count; i++) {
        if (store->backend->task_create(store, items[i].request, items[i].max_retry,
                                        items[i].webhook_id, now, &out[i], err,
                                        errlen) != STORE_OK) {
            for (size_t j = 0; j < i; j++)
                task_clear(&out[j].existing);
            return STORE_ERROR;
        }
    }
    return STORE_OK;
}

StoreResult store_task_create_many(Store *store, const TaskCreateItem *items, size_t count,
                                   int64_t now, TaskCreation *out, char *err, size_t errlen)
{
    if (store_task_create_rows(store, items, count, now, out, err, errlen) != STORE_OK)
        return STORE_ERROR;
    /* Tasks with an ordering key take their place in it (store_ordering.h);
     * the others are done. */
    size_t keyed = 0;
    for (size_t i = 0; i < count; i++)
        keyed += out[i].created && items[i].request->ordering_key != NULL ? 1 : 0;
    if (keyed == 0)
        return STORE_OK;
    const TaskRequest **requests = malloc(count * sizeof *requests);
    int status = -1;
    if (requests == NULL) {
        snprintf(err, errlen, "create tasks: out of memory");
    } else {
        for (size_t i = 0; i < count; i++)
            requests[i] = items[i].request;
        status = store_ordering_enqueue(store, requests, out, count, now, err, errlen);
    }
    free(requests);
    if (status == 0)
        return STORE_OK;
    for (size_t i = 0; i < count; i++)
        task_clear(&out[i].existing);
    return STORE_ERROR;
}

StoreResult store_task_create(Store *store, const TaskRequest *request, int max_retry,
                              const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                              size_t errlen)
{
    if (store->backend->task_create(store, request, max_retry, webhook_id, now, out, err,
                                    errlen) != STORE_OK)
        return STORE_ERROR;
    if (!out->created || request->ordering_key == NULL ||
        store_ordering_enqueue(store, &request, out, 1, now, err, errlen) == 0)
        return STORE_OK;
    task_clear(&out->existing);
    return STORE_ERROR;
}

StoreResult store_task_get(Store *store, int64_t id, Task *out, char *err, size_t errlen)
{
    return store->backend->task_get(store, id, out, err, errlen);
}

int store_host_list_pending(Store *store, StoreHost **out, size_t *count, char *err, size_t errlen)
{
    return store->backend->host_list_pending(store, out, count, err, errlen);
}

StoreResult store_host_next_due(Store *store, const char *host, int64_t *out, char *err,
                                size_t errlen)
{
    return store->backend->host_next_due(store, host, out, err, errlen);
}

int store_claim_due(Store *store, const char *host, int64_t now, int64_t lease_ms,
                    const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                    size_t errlen)
{
    size_t before = *count;
    if (store->backend->claim_due(store, host, now, lease_ms, claim_token, limit, out, count, err,
                                  errlen) != 0)
        return -1;
    for (size_t i = before; i < *count; i++)
        snprintf(out[i].claim_token, sizeof out[i].claim_token, "%s", claim_token);
    return 0;
}

int store_claim_probe(Store *store, const char *host, int64_t now, int64_t lease_ms,
                      const char *claim_token, Task *out, size_t *count, char *err,
                      size_t errlen)
{
    size_t before = *count;
    if (store->backend->claim_probe == NULL)
        return 0;
    if (store->backend->claim_probe(store, host, now, lease_ms, claim_token, out, count, err,
                                    errlen) != 0)
        return -1;
    for (size_t i = before; i < *count; i++)
        snprintf(out[i].claim_token, sizeof out[i].claim_token, "%s", claim_token);
    return 0;
}

int store_instance_beat(Store *store, const StoreInstance *instance, int64_t forget_before,
                        char *err, size_t errlen)
{
    return store->backend->instance_beat(store, instance, forget_before, err, errlen);
}

int store_instance_leave(Store *store, const char *id, char *err, size_t errlen)
{
    return store->backend->instance_leave(store, id, err, errlen);
}

int store_instance_list(Store *store, int64_t now, StoreInstance **out, size_t *count, char *err,
                        size_t errlen)
{
    return store->backend->instance_list(store, now, out, count, err, errlen);
}

int store_database_health(Store *store, StoreDatabaseHealth *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (store->backend->database_health == NULL)
        return 0;
    return store->backend->database_health(store, out, err, errlen);
}

int store_clock_read(Store *store, int64_t *server_ms, char *err, size_t errlen)
{
    if (store->backend->clock_read == NULL) {
        snprintf(err, errlen, "the %s backend has no clock of its own", store->backend->name);
        return -1;
    }
    return store->backend->clock_read(store, server_ms, err, errlen);
}

bool store_is_shared(const Store *store)
{
    return store->backend->shared;
}

bool store_traces_ready(Store *store)
{
    return store->backend->traces_ready == NULL || store->backend->traces_ready(store);
}

int store_signal_send(Store *store, const char *sender, char *err, size_t errlen)
{
    if (store->backend->signal_send == NULL)
        return 0;
    return store->backend->signal_send(store, sender, err, errlen);
}

int store_signal_listen(Store *store, char *err, size_t errlen)
{
    if (store->backend->signal_listen == NULL)
        return 0;
    return store->backend->signal_listen(store, err, errlen);
}

int store_signal_fd(Store *store)
{
    if (store->backend->signal_fd == NULL)
        return -1;
    return store->backend->signal_fd(store);
}

int store_signal_take(Store *store, const char *self, bool *signalled, char *err, size_t errlen)
{
    *signalled = false;
    if (store->backend->signal_take == NULL)
        return 0;
    return store->backend->signal_take(store, self, signalled, err, errlen);
}

int store_claim_count(Store *store, const char *claim_token, int64_t task_id, int64_t *count,
                      char *err, size_t errlen)
{
    *count = 0;
    return store->backend->claim_count(store, claim_token, task_id, count, err, errlen);
}

int store_attempt_list(Store *store, int64_t task_id, Attempt **out, size_t *count, char *err,
                       size_t errlen)
{
    return store->backend->attempt_list(store, task_id, out, count, err, errlen);
}

int store_manual_open_matching(Store *store, const ManualMatchFilter *filter, ManualMatch **out,
                               size_t *count, char *err, size_t errlen)
{
    return store->backend->manual_open_matching(store, filter, out, count, err, errlen);
}

int store_action_list(Store *store, int64_t task_id, ManualAction **out, size_t *count, char *err,
                      size_t errlen)
{
    return store->backend->action_list(store, task_id, out, count, err, errlen);
}

int store_alert_backlog(Store *store, int64_t since, AlertBacklog *out, char *err, size_t errlen)
{
    return store->backend->alert_backlog(store, since, out, err, errlen);
}

StoreResult store_alert_insert(Store *store, const StoreFence *fence,
                               const StoreAlertRecord *record, int64_t *id, char *err,
                               size_t errlen)
{
    return store->backend->alert_insert(store, fence, record, id, err, errlen);
}

StoreResult store_alert_claim(Store *store, const StoreFence *fence, int64_t id, int64_t now,
                              int64_t claim_ms, char *err, size_t errlen)
{
    return store->backend->alert_claim(store, fence, id, now, claim_ms, err, errlen);
}

int store_alert_mark(Store *store, const StoreFence *fence, const StoredAlert *alert, char *err,
                     size_t errlen)
{
    return store->backend->alert_mark(store, fence, alert, err, errlen);
}

int store_alert_firing(Store *store, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    return store->backend->alert_firing(store, out, count, err, errlen);
}

int store_alert_unsent(Store *store, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    return store->backend->alert_unsent(store, out, count, err, errlen);
}

int store_alert_list(Store *store, int64_t before, int limit, StoredAlert **out, size_t *count,
                     char *err, size_t errlen)
{
    return store->backend->alert_list(store, before, limit, out, count, err, errlen);
}

StoreResult store_alert_latest(Store *store, const char *kind, const char *instance,
                               StoredAlert *out, char *err, size_t errlen)
{
    StoredAlert *alerts = NULL;
    size_t count = 0;
    if (store->backend->alert_latest(store, kind, instance, &alerts, &count, err, errlen) != 0)
        return STORE_ERROR;
    StoreResult found = count > 0 ? STORE_OK : STORE_NOT_FOUND;
    if (count > 0) {
        *out = alerts[0];
        alerts[0] = (StoredAlert){0}; /* now the caller's */
    }
    store_alert_list_free(alerts, count);
    return found;
}

int store_count_active(Store *store, StoreActiveCounts *out, char *err, size_t errlen)
{
    *out = (StoreActiveCounts){0};
    return store->backend->count_active(store, out, err, errlen);
}

int store_count_gauges(Store *store, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                       size_t errlen)
{
    return store->backend->count_gauges(store, tasks_by_status, manual_open, err, errlen);
}

int store_attempt_series(Store *store, int64_t since, int64_t bucket_ms, size_t count,
                         int64_t *delivered, int64_t *failed, char *err, size_t errlen)
{
    return store->backend->attempt_series(store, since, bucket_ms, count, delivered, failed, err,
                                          errlen);
}

