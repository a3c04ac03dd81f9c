/*
 * store_leader: leadership as a lease (see store.h), written once above the
 * backends. Taking, renewing and ending the lease are each one statement of
 * the backend's, run here in a short transaction of their own on the
 * caller's connection (the alert thread's, not the intake writer's: a
 * renewal must not wait behind a queue of task writes until the lease ends).
 * The fences of the leader's other writes live in those writes' statements.
 */
#include "backend.h"

#include <stdio.h>

/* Runs one leadership statement in its own transaction. */
static int store_leader_transaction(Store *store, int (*run)(Store *, void *), void *context,
                                    char *err, size_t errlen)
{
    if (store_begin(store, err, errlen) != 0)
        return -1;
    if (run(store, context) != 0) {
        store_rollback(store);
        return -1;
    }
    return store_commit(store, err, errlen);
}

typedef struct StoreLeaderCall {
    const char *holder;
    const StoreFence *fence;
    int64_t now;
    int64_t lease_ms;
    int64_t *term;
    char *err;
    size_t errlen;
} StoreLeaderCall;

static int store_leader_run_acquire(Store *store, void *context)
{
    StoreLeaderCall *call = context;
    return store->backend->leader_acquire(store, call->holder, call->now, call->lease_ms,
                                          call->term, call->err, call->errlen);
}

static int store_leader_run_release(Store *store, void *context)
{
    StoreLeaderCall *call = context;
    return store->backend->leader_release(store, call->fence, call->now, call->err, call->errlen);
}

int store_leader_acquire(Store *store, const char *holder, int64_t now, int64_t lease_ms,
                         int64_t *term, char *err, size_t errlen)
{
    *term = 0;
    StoreLeaderCall call = {.holder = holder, .now = now, .lease_ms = lease_ms, .term = term,
                            .err = err, .errlen = errlen};
    if (store_leader_transaction(store, store_leader_run_acquire, &call, err, errlen) != 0) {
        *term = 0; /* not committed: the renewal may not have happened */
        return -1;
    }
    return 0;
}

int store_leader_release(Store *store, const StoreFence *fence, int64_t now, char *err,
                         size_t errlen)
{
    StoreLeaderCall call = {.fence = fence, .now = now, .err = err, .errlen = errlen};
    return store_leader_transaction(store, store_leader_run_release, &call, err, errlen);
}

int store_leader_hold(Store *store, const StoreFence *fence, int64_t now, bool *held, char *err,
                      size_t errlen)
{
    *held = false;
    if (fence == NULL || fence->term <= 0)
        return 0;
    return store->backend->leader_hold(store, fence, now, held, err, errlen);
}
