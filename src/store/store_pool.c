/*
 * store_pool: see store_pool.h.
 */
#include "store_pool.h"

#include <stdio.h>
#include <stdlib.h>

int store_pool_open(StorePool *pool, size_t count, const StoreLocation *location, char *err,
                    size_t errlen)
{
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->available, NULL);
    pool->count = 0;
    pool->free_count = 0;
    pool->stores = calloc(count, sizeof *pool->stores);
    pool->free_stores = calloc(count, sizeof *pool->free_stores);
    if (pool->stores == NULL || pool->free_stores == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    StoreOptions options = {.durability = STORE_DURABILITY_FULL,
                            .application_name = "heraldd/api"};
    for (size_t i = 0; i < count; i++) {
        pool->stores[i] = store_open(location, &options, err, errlen);
        if (pool->stores[i] == NULL)
            return -1;
        pool->count++;
        pool->free_stores[pool->free_count++] = pool->stores[i];
    }
    return 0;
}

void store_pool_close(StorePool *pool)
{
    for (size_t i = 0; i < pool->count; i++)
        store_close(pool->stores[i]);
    free(pool->stores);
    free(pool->free_stores);
    pthread_cond_destroy(&pool->available);
    pthread_mutex_destroy(&pool->lock);
}

Store *store_pool_acquire(StorePool *pool)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->free_count == 0)
        pthread_cond_wait(&pool->available, &pool->lock);
    Store *store = pool->free_stores[--pool->free_count];
    pthread_mutex_unlock(&pool->lock);
    return store;
}

void store_pool_release(StorePool *pool, Store *store)
{
    pthread_mutex_lock(&pool->lock);
    pool->free_stores[pool->free_count++] = store;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
}
