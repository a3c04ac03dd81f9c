/*
 * pg_ordering: the PostgreSQL backend's strict order per key (pg_ordering.c,
 * the store's ordering table entries: store_ordering.h says what each does),
 * and the reading of what a claim returns after the task's columns.
 */
#ifndef HERALD_PG_ORDERING_H
#define HERALD_PG_ORDERING_H

#include "pg.h"

/* What a claim returns after PG_TASK_COLUMNS (PG_CLAIM_EXTRA_*) read into TASK: 0, or -1 out of memory. */
int pg_claim_read_extra(const PGresult *result, int row, Task *task);
int pg_ordering_enqueue(Store *base, int64_t task_id, const char *receiver, const char *key,
                        bool block, int64_t now, int64_t *seq, bool *waiting, char *err, size_t errlen);
StoreResult pg_ordering_place(Store *base, int64_t task_id, bool lock, StoreOrderingPlace *out,
                              char *err, size_t errlen);
int pg_ordering_pass(Store *base, int64_t key_id, int64_t seq, int64_t now, char **released_host,
                     char *err, size_t errlen);
int pg_ordering_block(Store *base, int64_t key_id, int64_t task_id, int64_t now, char *err,
                      size_t errlen);
int pg_ordering_rewait(Store *base, int64_t task_id, char *err, size_t errlen);
int pg_ordering_list(Store *base, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                     size_t *count, char *err, size_t errlen);
int pg_ordering_blocked(Store *base, int64_t before, int64_t *count, int64_t *oldest_at,
                        char *err, size_t errlen);
bool pg_ordering_ready(Store *base);
bool pg_ordering_known(Store *base);
int pg_ordering_stalled(Store *base, int limit, int64_t **ids, size_t *count, char *err,
                        size_t errlen);

#endif
