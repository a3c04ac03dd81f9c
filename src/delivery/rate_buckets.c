/*
 * rate_buckets: see rate_buckets.h.
 */
#include "rate_buckets.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Where RECEIVER is, or would go; *FOUND says which. */
static size_t rate_buckets_find(const RateBuckets *buckets, const char *receiver, bool *found)
{
    size_t low = 0, high = buckets->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(buckets->items[middle].receiver, receiver);
        if (order == 0) {
            *found = true;
            return middle;
        }
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    *found = false;
    return low;
}

/* Drops the buckets full again at NOW_US (TAT past: the same as none). */
static void rate_buckets_prune(RateBuckets *buckets, int64_t now_us)
{
    size_t kept = 0;
    for (size_t i = 0; i < buckets->count; i++) {
        if (buckets->items[i].tat_us <= now_us)
            free(buckets->items[i].receiver);
        else
            buckets->items[kept++] = buckets->items[i];
    }
    buckets->count = kept;
}

void rate_buckets_free(RateBuckets *buckets)
{
    for (size_t i = 0; i < buckets->count; i++)
        free(buckets->items[i].receiver);
    free(buckets->items);
    memset(buckets, 0, sizeof *buckets);
}

int64_t rate_buckets_take(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                          int64_t want, int64_t now_us, int64_t *wait_ms)
{
    bool found;
    size_t at = rate_buckets_find(buckets, receiver, &found);
    if (!found) {
        if (buckets->count == buckets->capacity) {
            rate_buckets_prune(buckets, now_us);
            at = rate_buckets_find(buckets, receiver, &found);
        }
        if (buckets->count == buckets->capacity) {
            size_t capacity = buckets->capacity ? buckets->capacity * 2 : 16;
            RateBucket *grown = realloc(buckets->items, capacity * sizeof *grown);
            if (grown == NULL)
                return -1;
            buckets->items = grown;
            buckets->capacity = capacity;
        }
        char *key = strdup(receiver);
        if (key == NULL)
            return -1;
        memmove(&buckets->items[at + 1], &buckets->items[at],
                (buckets->count - at) * sizeof buckets->items[0]);
        buckets->items[at] = (RateBucket){.receiver = key, .tat_us = 0};
        buckets->count++;
    }
    int64_t wait_us = 0;
    int64_t taken = rate_bucket_take(&buckets->items[at].tat_us, now_us, limit, want, &wait_us);
    *wait_ms = (wait_us + 999) / 1000;
    return taken;
}

void rate_buckets_give_back(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                            int64_t count)
{
    bool found;
    size_t at = rate_buckets_find(buckets, receiver, &found);
    if (found && count > 0)
        rate_bucket_give_back(&buckets->items[at].tat_us, limit, count);
}

void rate_buckets_charge(RateBuckets *buckets, const char *receiver, const RateLimit *limit,
                         int64_t count, int64_t now_us)
{
    bool found;
    size_t at = rate_buckets_find(buckets, receiver, &found);
    if (found && count > 0)
        rate_bucket_charge(&buckets->items[at].tat_us, now_us, limit, count);
}
