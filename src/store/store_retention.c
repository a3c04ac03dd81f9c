/*
 * store_retention: retention, written once above the backends (see
 * store.h). One step selects a set of tasks, then deletes exactly those
 * tasks with everything of theirs (manual entries, actions, attempts,
 * bodies): an entry never goes without its task, nor a task without its
 * entries. Selecting the tasks and the entries separately, each with its own
 * LIMIT, once split them at a batch boundary and left tasks without entries
 * that no later step selected. A step is a leader's action: it runs only
 * under the leader's term, which store_leader_hold checks first and (on
 * PostgreSQL) keeps from changing until the step's transaction ends. A
 * backend supplies the statements: the hold, the boundary, the ids of each
 * set, and the deletes by id.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>

/* The sets a step takes, tasks first: the tasks' sets share one batch. */
static const StoreRetentionSet store_retention_task_sets[] = {STORE_RETENTION_SUCCEEDED,
                                                              STORE_RETENTION_RESOLVED};

int store_retention_pending(Store *store, int64_t cutoff, bool *pending, char *err, size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *pending = false;
    int64_t boundary, id;
    if (backend->retention_boundary(store, cutoff, &boundary, err, errlen) != 0)
        return -1;
    static const StoreRetentionSet sets[] = {STORE_RETENTION_SUCCEEDED, STORE_RETENTION_RESOLVED,
                                             STORE_RETENTION_ALERTS};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0] && !*pending; i++) {
        size_t found = 0;
        if (backend->retention_select(store, sets[i], cutoff, boundary, 1, &id, &found, err,
                                      errlen) != 0)
            return -1;
        *pending = found > 0;
    }
    return 0;
}

StoreResult store_retention_step(Store *store, const StoreFence *fence, int64_t now,
                                 int64_t cutoff, int batch, int64_t *deleted, char *err,
                                 size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *deleted = 0;
    if (batch <= 0)
        return STORE_OK;
    bool held = false;
    if (store_leader_hold(store, fence, now, &held, err, errlen) != 0)
        return STORE_ERROR;
    if (!held)
        return STORE_NOT_FOUND; /* a former leader's step: another instance leads now */
    int64_t *ids = malloc((size_t)batch * sizeof *ids);
    if (ids == NULL) {
        snprintf(err, errlen, "retention: out of memory");
        return -1;
    }
    StoreResult result = STORE_ERROR;
    int64_t boundary;
    size_t tasks = 0, alerts = 0;
    if (backend->retention_boundary(store, cutoff, &boundary, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < sizeof store_retention_task_sets / sizeof store_retention_task_sets[0] &&
                       tasks < (size_t)batch;
         i++) {
        size_t found = 0;
        if (backend->retention_select(store, store_retention_task_sets[i], cutoff, boundary,
                                      (size_t)batch - tasks, ids + tasks, &found, err,
                                      errlen) != 0)
            goto done;
        tasks += found;
    }
    if ((tasks > 0 && backend->retention_delete_tasks(store, ids, tasks, deleted, err, errlen) != 0) ||
        backend->retention_select(store, STORE_RETENTION_ALERTS, cutoff, boundary, (size_t)batch,
                                  ids, &alerts, err, errlen) != 0 ||
        (alerts > 0 && backend->retention_delete_alerts(store, ids, alerts, deleted, err, errlen) != 0))
        goto done;
    result = STORE_OK;
done:
    free(ids);
    return result;
}
