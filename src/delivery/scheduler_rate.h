/*
 * scheduler_rate: the scheduler's database worker (scheduler_db.c) keeping
 * the receivers' rate limits and sharing their holds, around each turn.
 *
 * Before the turn's transaction, each in a statement of its own (locking
 * one row for that statement only, so never closing a cycle with the
 * turn's locks): every new hold (a 429 or 503 with Retry-After) is shared
 * with the heraldd on the database, and every rate-limited claim takes its
 * tokens, from the database's bucket (PostgreSQL: every heraldd's requests
 * count) or the worker's own (SQLite). A claim claims at most the tokens it
 * got; with none it claims nothing and its host is due when the next token
 * is. After the turn, the tokens a claim did not use (fewer tasks due,
 * another heraldd's claim took them, the turn failed) are given back, and
 * a turn that took long has its requests counted from when they go. A
 * token is spent when a task is claimed, so retries count like first tries,
 * and a task waiting for one spends no attempt and is not written.
 */
#ifndef HERALD_SCHEDULER_RATE_H
#define HERALD_SCHEDULER_RATE_H

#include <stddef.h>

#include "rate_buckets.h"
#include "scheduler_db.h"
#include "store.h"

/* Shares TURN's new holds (AttemptOutcome.hold_ms), clearing each written.
 * A failure is logged and leaves the hold to this heraldd alone. */
void scheduler_rate_share_holds(Store *store, SchedulerTurn *turn);

/* Takes the tokens of TURN's rate-limited claims (SchedulerClaim.granted,
 * wait_ms). Returns 0, or -1 with ERR (the turn does not run; those taken
 * are given back). */
int scheduler_rate_take(Store *store, RateBuckets *buckets, SchedulerTurn *turn, char *err,
                        size_t errlen);

/* How many CLAIM may claim: its limit, or its tokens if fewer. */
size_t scheduler_rate_allowed(const SchedulerClaim *claim);

/* After TURN (its claims' counts final): the tokens not used given back
 * (store_rate_give_back), and the requests of a turn that took an interval
 * or more counted from now (store_rate_charge): their tokens were taken
 * before it, and the bucket refilled meanwhile. */
void scheduler_rate_settle(Store *store, RateBuckets *buckets, SchedulerTurn *turn);

#endif
