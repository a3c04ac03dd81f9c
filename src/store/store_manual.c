/*
 * store_manual: a manual retry and a manual resolve, written once above the
 * backends (see store.h). Each runs in the caller's transaction, in this
 * order: find the task's open entry (locked on PostgreSQL until the
 * transaction ends, so two operators cannot both act on it); refuse if it
 * is not the entry the caller listed (a bulk repair acts on what its dry run
 * counted, never on a newer failure); for a retry, make the task due again
 * with the repair applied, which only a failed task takes; close the entry
 * with its resolution; record the action in the audit trail. A step that
 * fails leaves the rest undone, and the caller rolls the transaction back.
 * A redelivery (store_task_redeliver) is the same steps for a task that
 * succeeded or failed, with or without an open entry. A backend supplies the
 * four statements. A task with an ordering key (store_ordering.h) also
 * tells its key: a retry or redelivery of the head that blocks it unblocks
 * it, a resolve lets the next task go.
 */
#include "backend.h"

#include <stdlib.h>

/* The open entry of TASK_ID in *ENTRY, if it is ENTRY_ID (0: any). */
static StoreResult store_manual_entry(Store *store, int64_t task_id, int64_t entry_id,
                                      int64_t *entry, char *err, size_t errlen)
{
    if (store->backend->manual_open_id(store, task_id, entry, err, errlen) != 0)
        return STORE_ERROR;
    if (*entry == 0 || (entry_id != 0 && *entry != entry_id))
        return STORE_NOT_FOUND; /* none, or a newer failure than the one asked for */
    return STORE_OK;
}

StoreResult store_manual_retry(Store *store, int64_t task_id, int64_t entry_id,
                               const ManualRepair *repair, const char *action,
                               const char *details, int64_t now, char **host, char *err,
                               size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *host = NULL;
    int64_t entry;
    StoreResult result = store_manual_entry(store, task_id, entry_id, &entry, err, errlen);
    if (result != STORE_OK)
        return result;
    /* An open entry whose task is not failed is not ours to send. */
    result = backend->manual_retry_task(store, task_id, repair, now, host, err, errlen);
    if (result != STORE_OK)
        return result;
    if (store_ordering_requeued(store, task_id, now, err, errlen) != 0 ||
        backend->manual_close(store, entry, "retried", repair->note, now, err, errlen) != 0 ||
        backend->action_insert(store, task_id, action, repair->actor, repair->note, details, now,
                               err, errlen) != 0) {
        free(*host);
        *host = NULL;
        return STORE_ERROR;
    }
    return STORE_OK;
}

StoreResult store_task_redeliver(Store *store, int64_t task_id, const ManualRepair *repair,
                                 const char *details, int64_t now, char **host, char *err,
                                 size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *host = NULL;
    /* Locked first on PostgreSQL, as for a retry: a concurrent operator's
     * retry or resolve of the same entry waits for this transaction. */
    int64_t entry;
    StoreResult open = store_manual_entry(store, task_id, 0, &entry, err, errlen);
    if (open == STORE_ERROR)
        return STORE_ERROR;
    ManualRepair again = *repair;
    again.redeliver = true;
    StoreResult result = backend->manual_retry_task(store, task_id, &again, now, host, err, errlen);
    if (result != STORE_OK)
        return result;
    if (store_ordering_requeued(store, task_id, now, err, errlen) != 0 ||
        (open == STORE_OK &&
         backend->manual_close(store, entry, "retried", repair->note, now, err, errlen) != 0) ||
        backend->action_insert(store, task_id, "redeliver", repair->actor, repair->note, details,
                               now, err, errlen) != 0) {
        free(*host);
        *host = NULL;
        return STORE_ERROR;
    }
    return STORE_OK;
}

StoreResult store_manual_resolve(Store *store, int64_t task_id, int64_t entry_id,
                                 const char *note, const char *actor, int64_t now, char **host,
                                 char *err, size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *host = NULL;
    int64_t entry;
    StoreResult result = store_manual_entry(store, task_id, entry_id, &entry, err, errlen);
    if (result != STORE_OK)
        return result;
    if (backend->manual_close(store, entry, "resolved", note, now, err, errlen) != 0 ||
        backend->action_insert(store, task_id, "resolve", actor, note, NULL, now, err,
                               errlen) != 0 ||
        store_ordering_resolved(store, task_id, now, host, err, errlen) != 0) {
        free(*host);
        *host = NULL;
        return STORE_ERROR;
    }
    return STORE_OK;
}
