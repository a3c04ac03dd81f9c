/*
 * store_ordering: strict order per key (issue 26, part 3). The tasks that
 * carry one ordering_key for one receiver (scheme://host:port, as accepted)
 * are delivered one at a time, in the order they were accepted: only the
 * key's head is claimable; the others wait, never due, spending nothing.
 *
 * A key is a row of ordering_keys: last_seq, the sequence number of its
 * newest task (each task gets the next one, 1-based and without gaps, in
 * the transaction that stores it; on PostgreSQL the row's lock orders the
 * intakes of one key across heraldd), and head_seq, the one that may be
 * attempted now. A task behind the head has next_attempt_at
 * STORE_ORDERING_WAITING, so the claims, the next-due reads and every
 * count of due work pass over it unchanged, and tasks without a key take
 * exactly the path they took before.
 *
 * When the head succeeds, or goes to manual handling with its type's
 * ordering_on_failure = skip, head_seq moves on and the next task becomes
 * due at once (waiting is not a retry: no backoff of its own). With block,
 * the key records the head (blocked_task_id) and waits for an operator: a
 * retry or redelivery of the head unblocks it (the head goes again, still
 * first), a resolve lets the next go. These are decided in the transaction
 * that ends the head (store_outcome.c) or that the operator's action runs
 * in (store_manual.c), with the key's row locked.
 *
 * A task whose place has passed (it succeeded, or was skipped) and that an
 * operator sends again goes out of order: its outcome changes nothing of
 * its key. A task still waiting that an operator asks to send sooner keeps
 * waiting.
 *
 * Locks on PostgreSQL, in one order: the tasks an action ends (already
 * locked by its update), then keys' rows in (receiver, key) order (an
 * intake's group, a turn's outcomes, a bulk action's or redelivery step's
 * settle), then the successor it releases (which nothing else locks while
 * it waits). One exception: an intake group that met a conflict is written
 * again job by job, each task's key as it comes; a deadlock with it is
 * broken by PostgreSQL (a 503 to ask again), never a half-written task.
 */
#ifndef HERALD_STORE_ORDERING_H
#define HERALD_STORE_ORDERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct StoreOrderingDeferral StoreOrderingDeferral;

/* next_attempt_at of a task waiting behind its key's head: never due
 * (about the year 287,000). */
#define STORE_ORDERING_WAITING TASK_ORDERING_WAITING_AT
/* The same as SQL text (a redelivery job's filter passes over waiting tasks). */
#define STORE_ORDERING_WAITING_LITERAL 9007199254740991
_Static_assert(STORE_ORDERING_WAITING == STORE_ORDERING_WAITING_LITERAL, "one waiting time");

/* The longest receiver: "https://" + a host of at most 253 characters (or
 * a bracketed IPv6 literal) + ":" + a port (task_url.c), and its NUL. */
#define STORE_ORDERING_RECEIVER_MAX 280

/* Whether tasks with an ordering key may be accepted (PostgreSQL: not while
 * migration 018 is held back for a heraldd of an earlier release; keys are
 * read and moved from 017 on, see pg.h). */
bool store_ordering_ready(Store *store);

/* Inside the intake's transaction, after the tasks were created: gives
 * each created task of REQUESTS[i] (CREATED[i]) that carries an
 * ordering_key its key and sequence number (CREATED[i].ordering_seq),
 * waiting unless it is its key's head (CREATED[i].ordering_waiting). Keys are locked in (receiver, key) order, whatever order the
 * requests came in. */
int store_ordering_enqueue(Store *store, const TaskRequest *const *requests,
                           TaskCreation *created, size_t count, int64_t now, char *err,
                           size_t errlen);

/* Inside the transaction that ended task TASK_ID (succeeded, or failed into
 * manual handling): moves its key on (or blocks it), if the task is its
 * key's head. *RELEASED_HOST: the receiver of the task made due (heap,
 * the caller frees; NULL: none). A task without a key: nothing. */
int store_ordering_ended(Store *store, int64_t task_id, int64_t now, char **released_host,
                         char *err, size_t errlen);

/* store_ordering_ended for each of TASK_IDS[0..COUNT) (RELEASED_HOSTS[i]
 * for TASK_IDS[i], zeroed by the caller), their keys taken in (receiver,
 * key) order, the intake's: a turn that ends the heads of two keys never
 * waits for one intake's key while holding the other's. */
int store_ordering_ended_many(Store *store, const int64_t *task_ids, char **released_hosts,
                              size_t count, int64_t now, char *err, size_t errlen);

/* Inside an operator's retry or redelivery of TASK_ID, after the task was
 * made pending: unblocks its key if the task blocked it, and puts it back
 * to waiting if it is behind its key's head. */
int store_ordering_requeued(Store *store, int64_t task_id, int64_t now, char *err,
                            size_t errlen);

/* Inside an operator's resolve of TASK_ID: if the task blocks its key, the
 * key moves on as with skip. *RELEASED_HOST as store_ordering_ended's. */
int store_ordering_resolved(Store *store, int64_t task_id, int64_t now, char **released_host,
                            char *err, size_t errlen);

/* Acting on many tasks in one transaction (a bulk retry or resolve, a
 * redelivery job's step), whose tasks' keys come in no order: from
 * store_ordering_defer on, what store_ordering_requeued and _resolved would
 * do to a key is remembered, and store_ordering_settle does it all at the
 * end, the keys' rows locked in (receiver, key) order as everywhere else
 * (an intake of the same keys meanwhile never waits crosswise with it).
 * *RELEASED_HOSTS: the receivers of the tasks made due (a heap array of
 * *RELEASED_COUNT heap strings, the caller frees both; may be NULL when
 * none). store_ordering_defer_drop forgets it (the transaction is rolled
 * back); a settle or a drop always ends the deferral. */
int store_ordering_defer(Store *store, char *err, size_t errlen);
int store_ordering_settle(Store *store, int64_t now, char ***released_hosts,
                          size_t *released_count, char *err, size_t errlen);
void store_ordering_defer_drop(Store *store);

/* A task's place in its key (GET /v1/tasks/{id}). */
typedef struct StoreOrderingPlace {
    bool keyed;          /* false: the task has no ordering_key (the rest is zero) */
    int64_t key_id;
    int64_t seq;         /* its sequence number */
    bool block;          /* its ordering_on_failure: block */
    int64_t head_seq;    /* its key's head now */
    int64_t last_seq;
    int64_t blocked_task_id; /* the head blocking the key; 0: none */
    char status[16];     /* the task's */
    char key[TASK_ORDERING_KEY_MAX + 1];
    char receiver[STORE_ORDERING_RECEIVER_MAX]; /* its key's */
} StoreOrderingPlace;

/* TASK_ID's place (locks its key's row on PostgreSQL when LOCK, inside a
 * transaction). STORE_NOT_FOUND: no such task. */
StoreResult store_ordering_place(Store *store, int64_t task_id, bool lock, StoreOrderingPlace *out,
                                 char *err, size_t errlen);

/* One key as GET /v1/ordering-keys shows it. Strings owned:
 * store_ordering_list_free(). */
typedef struct StoreOrderingKey {
    int64_t id;
    char *receiver;
    char *ordering_key;
    int64_t last_seq;
    int64_t head_seq;
    int64_t blocked_task_id; /* 0: not blocked */
    int64_t blocked_at;      /* Unix ms; 0: not blocked */
    int64_t updated_at;
} StoreOrderingKey;

typedef struct StoreOrderingFilter {
    bool blocked_only;
    const char *receiver;     /* NULL: any */
    const char *ordering_key; /* NULL: any */
    int64_t before;           /* ids below this, newest first (keyset pagination) */
    int limit;
    bool oldest_blocked_first; /* by blocked_at, the longest blocked first (the alert) */
} StoreOrderingFilter;

/* Keys matching FILTER, the newest first (or as OLDEST_BLOCKED_FIRST says). */
int store_ordering_list(Store *store, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                        size_t *count, char *err, size_t errlen);
void store_ordering_list_free(StoreOrderingKey *keys, size_t count);

/* Inside a transaction (the lease sweep's): moves on every key whose head
 * ended without moving it (at most LIMIT), as store_ordering_ended would
 * have; *HEALED, how many it found. None should ever be found: a key so
 * left would wait for ever, with nothing to show it (not blocked). */
int store_ordering_heal(Store *store, int64_t now, int limit, int64_t *healed, char *err,
                        size_t errlen);

/* How many keys are blocked since before BEFORE (Unix ms; INT64_MAX: all),
 * and since when the oldest (0: none). */
int store_ordering_blocked(Store *store, int64_t before, int64_t *count, int64_t *oldest_at,
                           char *err, size_t errlen);

#endif
