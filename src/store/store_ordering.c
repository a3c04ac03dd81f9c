/*
 * store_ordering: strict order per key, decided once above the backends
 * (store_ordering.h says what it promises). A backend supplies the
 * statements: a key's row made or locked with the next sequence number, a
 * task's place, the head moved on with its successor released, a block,
 * a task put back to waiting, and the listings.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool store_ordering_ready(Store *store)
{
    return store->backend->ordering_ready == NULL || store->backend->ordering_ready(store);
}

/* Whether keys can be read and moved: from migration 017 on PostgreSQL,
 * before keys are accepted (018), so that a heraldd that has not yet seen
 * another's 018 still moves the keys that one accepted. */
static bool store_ordering_known(Store *store)
{
    return store->backend->ordering_known == NULL || store->backend->ordering_known(store);
}

/* One keyed task to enqueue: its request and id, for sorting. */
typedef struct StoreOrderingNew {
    const TaskRequest *request;
    TaskCreation *created;
    size_t index; /* in the batch: acceptance order within one key */
} StoreOrderingNew;

static int store_ordering_compare(const void *a, const void *b)
{
    const StoreOrderingNew *left = a, *right = b;
    int order = strcmp(left->request->target_host, right->request->target_host);
    if (order == 0)
        order = strcmp(left->request->ordering_key, right->request->ordering_key);
    if (order == 0)
        order = left->index < right->index ? -1 : left->index > right->index ? 1 : 0;
    return order;
}

int store_ordering_enqueue(Store *store, const TaskRequest *const *requests,
                           TaskCreation *created, size_t count, int64_t now, char *err,
                           size_t errlen)
{
    /* Accepted by the API once 018 is in (store_ordering_ready); this
     * writer's view of the schema may lag its by a second. */
    if (!store_ordering_known(store)) {
        snprintf(err, errlen, "ordering keys need migration 017");
        return -1;
    }
    StoreOrderingNew *keyed = malloc((count ? count : 1) * sizeof *keyed);
    if (keyed == NULL) {
        snprintf(err, errlen, "order tasks: out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (created[i].created && requests[i]->ordering_key != NULL)
            keyed[n++] = (StoreOrderingNew){requests[i], &created[i], i};
    }
    /* The keys' rows in one order in every transaction: two intakes of the
     * same keys never wait for each other crosswise. */
    if (n > 1)
        qsort(keyed, n, sizeof *keyed, store_ordering_compare);
    int status = 0;
    for (size_t i = 0; i < n && status == 0; i++) {
        TaskCreation *made = keyed[i].created;
        status = store->backend->ordering_enqueue(
            store, made->id, keyed[i].request->target_host, keyed[i].request->ordering_key,
            keyed[i].request->ordering_block, now, &made->ordering_seq, &made->ordering_waiting,
            err, errlen);
    }
    free(keyed);
    return status;
}

StoreResult store_ordering_place(Store *store, int64_t task_id, bool lock, StoreOrderingPlace *out,
                                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!store_ordering_known(store))
        return STORE_OK; /* no task can have a key yet */
    return store->backend->ordering_place(store, task_id, lock, out, err, errlen);
}

/* TASK_ID's place when WANTED says its key must change: read first without
 * a lock, and only then again with the key's row locked (and WANTED asked
 * again of what that read), so a task whose key has nothing to do locks
 * nothing. Returns 1 with *PLACE when it must, 0 when not, -1 on error. */
static int store_ordering_lock_if(Store *store, int64_t task_id, StoreOrderingPlace *place,
                                  bool (*wanted)(const StoreOrderingPlace *place, int64_t task_id),
                                  char *err, size_t errlen)
{
    for (int locked = 0; locked < 2; locked++) {
        StoreResult found = store_ordering_place(store, task_id, locked, place, err, errlen);
        if (found == STORE_ERROR)
            return -1;
        if (found == STORE_NOT_FOUND || !place->keyed || !wanted(place, task_id))
            return 0;
    }
    return 1;
}

/* An ended task moves its key only as its head (not one sent again after
 * its place passed). */
static bool store_ordering_is_head(const StoreOrderingPlace *place, int64_t task_id)
{
    (void)task_id;
    return place->seq == place->head_seq;
}

static bool store_ordering_blocks(const StoreOrderingPlace *place, int64_t task_id)
{
    return place->blocked_task_id == task_id;
}

int store_ordering_ended(Store *store, int64_t task_id, int64_t now, char **released_host,
                         char *err, size_t errlen)
{
    *released_host = NULL;
    StoreOrderingPlace place;
    int must = store_ordering_lock_if(store, task_id, &place, store_ordering_is_head, err, errlen);
    if (must <= 0)
        return must;
    if (strcmp(place.status, "succeeded") == 0 ||
        (strcmp(place.status, "failed") == 0 && !place.block))
        return store->backend->ordering_pass(store, place.key_id, place.seq, now, released_host,
                                             err, errlen);
    if (strcmp(place.status, "failed") == 0)
        return store->backend->ordering_block(store, place.key_id, task_id, now, err, errlen);
    return 0; /* pending again (a retry, parked): still the head */
}

/* One ended task and its key, for sorting. */
typedef struct StoreOrderingEnded {
    size_t index; /* in the caller's arrays */
    StoreOrderingPlace place;
} StoreOrderingEnded;

static int store_ordering_compare_ended(const void *a, const void *b)
{
    const StoreOrderingPlace *left = &((const StoreOrderingEnded *)a)->place;
    const StoreOrderingPlace *right = &((const StoreOrderingEnded *)b)->place;
    int order = strcmp(left->receiver, right->receiver);
    return order != 0 ? order : strcmp(left->key, right->key);
}

int store_ordering_ended_many(Store *store, const int64_t *task_ids, char **released_hosts,
                              size_t count, int64_t now, char *err, size_t errlen)
{
    if (count == 1) /* one key: no order to keep */
        return store_ordering_ended(store, task_ids[0], now, &released_hosts[0], err, errlen);
    StoreOrderingEnded *ended = malloc((count ? count : 1) * sizeof *ended);
    if (ended == NULL) {
        snprintf(err, errlen, "order ended tasks: out of memory");
        return -1;
    }
    /* Their keys read first without a lock (a task's key never changes),
     * to take the locks in order. */
    size_t n = 0;
    int status = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        ended[n].index = i;
        StoreResult found = store_ordering_place(store, task_ids[i], false, &ended[n].place, err,
                                                 errlen);
        if (found == STORE_ERROR)
            status = -1;
        else if (found == STORE_OK && ended[n].place.keyed)
            n++;
    }
    if (status == 0 && n > 1)
        qsort(ended, n, sizeof *ended, store_ordering_compare_ended);
    for (size_t k = 0; k < n && status == 0; k++) {
        size_t i = ended[k].index;
        status = store_ordering_ended(store, task_ids[i], now, &released_hosts[i], err, errlen);
    }
    free(ended);
    return status;
}

/* What a deferred task wants of its key. */
typedef enum {
    STORE_ORDERING_REQUEUED,
    STORE_ORDERING_RESOLVED,
} StoreOrderingWant;

struct StoreOrderingDeferral {
    int64_t *task_ids;
    StoreOrderingWant *wants;
    size_t count;
    size_t capacity;
};

int store_ordering_defer(Store *store, char *err, size_t errlen)
{
    store_ordering_defer_drop(store);
    store->ordering_deferral = calloc(1, sizeof *store->ordering_deferral);
    if (store->ordering_deferral == NULL) {
        snprintf(err, errlen, "defer ordering keys: out of memory");
        return -1;
    }
    return 0;
}

static void store_ordering_deferral_free(StoreOrderingDeferral *deferral)
{
    if (deferral == NULL)
        return;
    free(deferral->task_ids);
    free(deferral->wants);
    free(deferral);
}

void store_ordering_defer_drop(Store *store)
{
    store_ordering_deferral_free(store->ordering_deferral);
    store->ordering_deferral = NULL;
}

/* Remembers TASK_ID's WANT while deferring. Returns 0, or -1 out of memory. */
static int store_ordering_remember(StoreOrderingDeferral *deferral, int64_t task_id,
                                   StoreOrderingWant want, char *err, size_t errlen)
{
    if (deferral->count == deferral->capacity) {
        size_t capacity = deferral->capacity ? deferral->capacity * 2 : 16;
        int64_t *ids = realloc(deferral->task_ids, capacity * sizeof *ids);
        if (ids != NULL)
            deferral->task_ids = ids;
        StoreOrderingWant *wants =
            ids != NULL ? realloc(deferral->wants, capacity * sizeof *wants) : NULL;
        if (wants == NULL) {
            snprintf(err, errlen, "defer ordering keys: out of memory");
            return -1;
        }
        deferral->wants = wants;
        deferral->capacity = capacity;
    }
    deferral->task_ids[deferral->count] = task_id;
    deferral->wants[deferral->count++] = want;
    return 0;
}

static int store_ordering_requeued_now(Store *store, int64_t task_id, int64_t now, char *err,
                                       size_t errlen);
static int store_ordering_resolved_now(Store *store, int64_t task_id, int64_t now,
                                       char **released_host, char *err, size_t errlen);

int store_ordering_settle(Store *store, int64_t now, char ***released_hosts,
                          size_t *released_count, char *err, size_t errlen)
{
    *released_hosts = NULL;
    *released_count = 0;
    StoreOrderingDeferral *deferral = store->ordering_deferral;
    store->ordering_deferral = NULL; /* what follows acts at once */
    if (deferral == NULL || deferral->count == 0) {
        store_ordering_deferral_free(deferral);
        return 0;
    }
    size_t count = deferral->count;
    StoreOrderingEnded *keyed = malloc(count * sizeof *keyed);
    char **hosts = calloc(count, sizeof *hosts);
    int status = keyed != NULL && hosts != NULL ? 0 : -1;
    if (status != 0)
        snprintf(err, errlen, "settle ordering keys: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        keyed[n].index = i;
        StoreResult found = store_ordering_place(store, deferral->task_ids[i], false,
                                                 &keyed[n].place, err, errlen);
        if (found == STORE_ERROR)
            status = -1;
        else if (found == STORE_OK && keyed[n].place.keyed)
            n++;
    }
    if (status == 0 && n > 1)
        qsort(keyed, n, sizeof *keyed, store_ordering_compare_ended);
    size_t released = 0;
    for (size_t k = 0; k < n && status == 0; k++) {
        size_t i = keyed[k].index;
        char *host = NULL;
        status = deferral->wants[i] == STORE_ORDERING_REQUEUED
                     ? store_ordering_requeued_now(store, deferral->task_ids[i], now, err, errlen)
                     : store_ordering_resolved_now(store, deferral->task_ids[i], now, &host, err,
                                                   errlen);
        if (host != NULL)
            hosts[released++] = host;
    }
    free(keyed);
    store_ordering_deferral_free(deferral);
    if (status != 0 || released == 0) {
        for (size_t i = 0; hosts != NULL && i < released; i++)
            free(hosts[i]);
        free(hosts);
        return status;
    }
    *released_hosts = hosts;
    *released_count = released;
    return 0;
}

int store_ordering_requeued(Store *store, int64_t task_id, int64_t now, char *err,
                            size_t errlen)
{
    if (store->ordering_deferral != NULL)
        return store_ordering_remember(store->ordering_deferral, task_id,
                                       STORE_ORDERING_REQUEUED, err, errlen);
    return store_ordering_requeued_now(store, task_id, now, err, errlen);
}

int store_ordering_resolved(Store *store, int64_t task_id, int64_t now, char **released_host,
                            char *err, size_t errlen)
{
    *released_host = NULL;
    if (store->ordering_deferral != NULL)
        return store_ordering_remember(store->ordering_deferral, task_id,
                                       STORE_ORDERING_RESOLVED, err, errlen);
    return store_ordering_resolved_now(store, task_id, now, released_host, err, errlen);
}

static int store_ordering_requeued_now(Store *store, int64_t task_id, int64_t now, char *err,
                                       size_t errlen)
{
    StoreOrderingPlace place;
    StoreResult found = store_ordering_place(store, task_id, false, &place, err, errlen);
    if (found == STORE_ERROR)
        return -1;
    if (found == STORE_NOT_FOUND || !place.keyed)
        return 0;
    /* Made due while still behind its head (a head only moves forward, and
     * one that reaches it releases it whatever this read saw): waiting
     * again, which is the task's own row, not its key's. */
    if (place.seq > place.head_seq)
        return store->backend->ordering_rewait(store, task_id, err, errlen);
    int must = store_ordering_lock_if(store, task_id, &place, store_ordering_blocks, err, errlen);
    if (must <= 0)
        return must;
    return store->backend->ordering_block(store, place.key_id, 0, now, err, errlen);
}

static int store_ordering_resolved_now(Store *store, int64_t task_id, int64_t now,
                                       char **released_host, char *err, size_t errlen)
{
    *released_host = NULL;
    StoreOrderingPlace place;
    int must = store_ordering_lock_if(store, task_id, &place, store_ordering_blocks, err, errlen);
    if (must <= 0)
        return must;
    return store->backend->ordering_pass(store, place.key_id, place.seq, now, released_host, err,
                                         errlen);
}

int store_ordering_heal(Store *store, int64_t now, int limit, int64_t *healed, char *err,
                        size_t errlen)
{
    *healed = 0;
    if (!store_ordering_known(store))
        return 0;
    int64_t *ids = NULL;
    size_t count = 0;
    if (store->backend->ordering_stalled(store, limit, &ids, &count, err, errlen) != 0)
        return -1;
    char **released = count > 0 ? calloc(count, sizeof *released) : NULL;
    int status = 0;
    if (count > 0 && released == NULL) {
        snprintf(err, errlen, "heal ordering keys: out of memory");
        status = -1;
    } else if (count > 0) {
        status = store_ordering_ended_many(store, ids, released, count, now, err, errlen);
        for (size_t i = 0; i < count; i++)
            free(released[i]); /* found by the hosts' reading after the sweep */
    }
    free(released);
    free(ids);
    *healed = status == 0 ? (int64_t)count : 0;
    return status;
}

int store_ordering_list(Store *store, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                        size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    if (!store_ordering_known(store))
        return 0;
    return store->backend->ordering_list(store, filter, out, count, err, errlen);
}

void store_ordering_list_free(StoreOrderingKey *keys, size_t count)
{
    for (size_t i = 0; keys != NULL && i < count; i++) {
        free(keys[i].receiver);
        free(keys[i].ordering_key);
    }
    free(keys);
}

int store_ordering_blocked(Store *store, int64_t before, int64_t *count, int64_t *oldest_at,
                           char *err, size_t errlen)
{
    *count = 0;
    *oldest_at = 0;
    if (!store_ordering_known(store))
        return 0;
    return store->backend->ordering_blocked(store, before, count, oldest_at, err, errlen);
}
