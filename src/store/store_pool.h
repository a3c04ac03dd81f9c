/*
 * store_pool: a fixed set of database connections shared by a pool of
 * threads (the HTTP threads), one borrowed at a time.
 *
 * A connection is used by one thread at a time; the HTTP threads are
 * fewer than their requests, so each request borrows a connection for the
 * length of its handler and gives it back. Threads: any; the free list is
 * guarded by StorePool.lock.
 */
#ifndef HERALD_STORE_POOL_H
#define HERALD_STORE_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct StorePool {
    pthread_mutex_t lock; /* guards free_stores and free_count */
    pthread_cond_t available;
    Store **stores; /* all of them, for closing */
    Store **free_stores;
    size_t count;
    size_t free_count;
} StorePool;

/* Opens COUNT connections to the database at LOCATION (already migrated).
 * Returns 0, or -1 with ERR set; either way store_pool_close() frees what
 * was opened. */
int store_pool_open(StorePool *pool, size_t count, const StoreLocation *location, char *err,
                    size_t errlen);

void store_pool_close(StorePool *pool);

/* Borrows a connection, waiting for one if all are out. */
Store *store_pool_acquire(StorePool *pool);

void store_pool_release(StorePool *pool, Store *store);

#endif
