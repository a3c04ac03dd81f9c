/*
 * store/pg_rates: rate limits and Retry-After holds shared by every heraldd
 * on the database (migration 014): taking tokens from a receiver's bucket,
 * giving back those not used, holding a receiver and reading its hold. Each
 * is one statement of its own, outside any transaction (the scheduler's
 * worker runs them around its turn), locking one row for that statement:
 * none waits while holding another lock, so none closes a cycle with a
 * turn's locks. Before migration 014 (held back for older heraldd) there is
 * no shared bucket (STORE_NOT_FOUND: the caller keeps one in memory) and no
 * shared hold.
 */
#include <stdio.h>

#include "pg.h"

StoreResult pg_rate_take(Store *base, const char *receiver, const RateLimit *limit,
                         int64_t want, StoreRateTake *out, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    if (!pg_schema_has(store, PG_SCHEMA_RATES))
        return STORE_NOT_FOUND;
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, limit->interval_us);
    pg_param_int64(&params, limit->burst);
    pg_param_int64(&params, want);
    PGresult *result = pg_run(store, PG_SQL_RATE_TAKE, &params, "take a receiver's rate tokens",
                              err, errlen);
    if (result == NULL)
        return STORE_ERROR;
    out->granted = pg_column_int64(result, 0, 0);
    int64_t tat_us = pg_column_int64(result, 0, 1);
    out->stamp_us = pg_column_int64(result, 0, 2);
    PQclear(result);
    /* As rate_bucket_take: the next token is free once TAT - NOW < burst * interval. */
    int64_t next_us = tat_us - (limit->burst - 1) * limit->interval_us - out->stamp_us;
    out->wait_ms = next_us > 0 ? (next_us + 999) / 1000 : 0;
    return STORE_OK;
}

/* Runs SQL on RECEIVER's bucket with the interval, COUNT and, for a
 * give-back, the take's STAMP. */
static int pg_rate_update(Store *base, PgSql sql, const char *receiver, const RateLimit *limit,
                          int64_t count, int64_t stamp_us, const char *what, char *err,
                          size_t errlen)
{
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, limit->interval_us);
    pg_param_int64(&params, count);
    if (sql == PG_SQL_RATE_GIVE_BACK)
        pg_param_int64(&params, stamp_us);
    PGresult *result = pg_run(pg_of(base), sql, &params, what, err, errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

int pg_rate_give_back(Store *base, const char *receiver, const RateLimit *limit, int64_t count,
                      const StoreRateTake *take, char *err, size_t errlen)
{
    return pg_rate_update(base, PG_SQL_RATE_GIVE_BACK, receiver, limit, count, take->stamp_us,
                          "give rate tokens back", err, errlen);
}

int pg_rate_charge(Store *base, const char *receiver, const RateLimit *limit, int64_t count,
                   char *err, size_t errlen)
{
    return pg_rate_update(base, PG_SQL_RATE_CHARGE, receiver, limit, count, 0,
                          "count late requests in the rate", err, errlen);
}

int pg_receiver_hold(Store *base, const char *receiver, int64_t hold_ms, int64_t now, char *err,
                     size_t errlen)
{
    PgStore *store = pg_of(base);
    if (!pg_schema_has(store, PG_SCHEMA_RATES))
        return 0;
    PgParams params = {0};
    pg_param_text(&params, receiver);
    pg_param_int64(&params, hold_ms);
    pg_param_int64(&params, now);
    PGresult *result = pg_run(store, PG_SQL_RECEIVER_HOLD, &params, "hold a receiver", err,
                              errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

int pg_receiver_held(Store *base, const char *receiver, int64_t *held_ms, char *err,
                     size_t errlen)
{
    *held_ms = 0;
    PgStore *store = pg_of(base);
    if (!pg_schema_has(store, PG_SCHEMA_RATES))
        return 0;
    PgParams params = {0};
    pg_param_text(&params, receiver);
    PGresult *result = pg_run(store, PG_SQL_RECEIVER_HELD, &params, "read a receiver's hold",
                              err, errlen);
    if (result == NULL)
        return -1;
    if (PQntuples(result) > 0)
        *held_ms = pg_column_int64(result, 0, 0);
    PQclear(result);
    return 0;
}
