/*
 * store/backend: what a storage backend gives the store front (store.c and
 * the store_*.c workflows): a table of functions, and the Store header every
 * backend's connection struct starts with. Many entries are one operation
 * of store.h, called with the same arguments, so store.h's contract is each
 * backend's contract (the store unit tests run it against both). Where a
 * workflow is written once in the front (an attempt's end and the rescue,
 * the listings, manual retry and resolve, retention, leadership), its
 * entries are only the statements it runs, as River's driver supplies its
 * queries to one core. An entry whose comment begins "NULL:" is optional:
 * without task_create_many, for one, the front loops over task_create.
 *
 * The model is curl's struct Curl_ssl (lib/vtls/vtls_int.h) and OpenSMTPD's
 * queue_backend. Only the front's files and the backends include this header.
 */
#ifndef HERALD_STORE_BACKEND_H
#define HERALD_STORE_BACKEND_H

#include "store.h"
#include "store_receivers.h"
#include "store_ordering.h"
#include "store_redelivery.h"

typedef struct StoreBackend StoreBackend;

/* What retention selects (store_retention.c): tasks older than the cutoff
 * (below the boundary) that succeeded, or failed with every manual entry
 * resolved before the cutoff (or none: what earlier versions left); sent
 * alerts older than the cutoff. Neither task set holds a task with an open
 * entry. */
typedef enum StoreRetentionSet {
    STORE_RETENTION_SUCCEEDED,
    STORE_RETENTION_RESOLVED,
    STORE_RETENTION_ALERTS,
} StoreRetentionSet;

/* A listing (store_list.c decides it from a filter): its conditions, in a
 * fixed order, each with its value, and a limit. A backend has a fragment
 * of SQL for each condition and a head and tail for each listing, and
 * makes one statement per VARIANT (which conditions apply), so each shape
 * gets a plan that uses the right index ("? IS NULL OR col = ?" would
 * defeat it). Rows are newest first for tasks, oldest first for entries. */
typedef enum StoreListing {
    STORE_LISTING_TASKS,  /* Task rows */
    STORE_LISTING_MANUAL, /* ManualEntry rows */
    STORE_LISTING_COUNT,
} StoreListing;

typedef enum StoreListCondition {
    STORE_LIST_TASK_BUSINESS_ID, /* text */
    STORE_LIST_TASK_TYPE,        /* text */
    STORE_LIST_TASK_STATUS,      /* text */
    STORE_LIST_TASK_KEY,         /* text: the idempotency key */
    STORE_LIST_TASK_BELOW,       /* number: id < value (keyset pagination) */
    STORE_LIST_MANUAL_ABOVE,     /* number: entry id > value (keyset pagination) */
    STORE_LIST_MANUAL_SINCE,     /* number: moved_at >= value */
    STORE_LIST_MANUAL_UNTIL,     /* number: moved_at < value */
    STORE_LIST_MANUAL_OPEN,      /* no value */
    STORE_LIST_MANUAL_RESOLVED,  /* no value */
    STORE_LIST_MANUAL_TYPE,      /* text: the task's business type */
    STORE_LIST_MANUAL_TASK,      /* number */
    STORE_LIST_MANUAL_REASON,    /* text */
    STORE_LIST_CONDITIONS,
} StoreListCondition;

enum { STORE_LIST_TERMS_MAX = 8, STORE_LIST_VARIANTS = 32 };

typedef enum StoreListValue {
    STORE_LIST_NO_VALUE,
    STORE_LIST_TEXT,
    STORE_LIST_NUMBER,
} StoreListValue;

typedef struct StoreListTerm {
    StoreListCondition condition;
    StoreListValue value;
    const char *text; /* borrowed */
    int64_t number;
} StoreListTerm;

typedef struct StoreListQuery {
    StoreListing listing;
    unsigned variant; /* < STORE_LIST_VARIANTS: names the statement, with LISTING */
    StoreListTerm terms[STORE_LIST_TERMS_MAX];
    size_t count;
    int limit; /* >= 1 */
} StoreListQuery;

/* What a backend gives store_list_text: the SQL of each condition without
 * its value, each listing's head (up to WHERE and a true condition) and
 * tail (up to LIMIT), and its parameter's spelling (NUMBER: which; VALUE:
 * its type; STORE_LIST_NO_VALUE for the limit). */
typedef struct StoreListSql {
    const char *conditions[STORE_LIST_CONDITIONS];
    const char *heads[STORE_LISTING_COUNT];
    const char *tails[STORE_LISTING_COUNT];
    void (*parameter)(char *out, size_t size, int number, StoreListValue value);
} StoreListSql;

/* QUERY's statement in SQL's words, into OUT (SIZE bytes): the head, " AND "
 * and each condition with its parameter, then the tail and the limit's
 * parameter. Returns 0, or -1 if it does not fit. */
int store_list_text(const StoreListQuery *query, const StoreListSql *sql, char *out,
                    size_t size);

/* A task's new state at the end of an attempt, as store_outcome.c decides
 * it; task_end applies it only while the claim that made the attempt holds
 * (the task still 'delivering' under CLAIM_TOKEN and ATTEMPT). */
typedef struct StoreTaskEnd {
    int64_t task_id;
    int attempt;             /* the claim's attempt number */
    const char *claim_token; /* borrowed; NULL: a claim made before herald had tokens */
    const char *status;      /* "succeeded", "pending" or "failed" */
    int64_t next_attempt_at; /* 0: kept (an outcome that ends the task keeps its lease's end) */
    int last_status_code;    /* 0: none */
    const char *last_error;  /* borrowed; NULL: none */
    /* For store_outcome.c's later steps, not task_end: the attempt's history
     * row, and the reason of the manual entry the task gets (NULL: none). */
    const Attempt *ended;      /* borrowed */
    const char *manual_reason; /* borrowed */
    /* Attempts given back to its budget (max_retry grows by this): an
     * attempt its receiver's open circuit parked (store_breaker.c). */
    int extra_attempts;
    bool applied;              /* out: the claim held and the task changed */
} StoreTaskEnd;

/* A task a redelivery job's step takes next: its id, business type (owned:
 * store_redelivery_tasks_free) and trace ("": none). */
typedef struct StoreRedeliveryTask {
    int64_t id;
    char *business_type;
    char traceparent[TASK_TRACEPARENT_SIZE];
} StoreRedeliveryTask;

void store_redelivery_tasks_free(StoreRedeliveryTask *tasks, size_t count);

/* What a redelivery job's step moves it on by. */
typedef struct StoreRedeliveryAdvance {
    int64_t cursor_id;
    int64_t sent;
    int64_t skipped;
    bool done;
    int64_t lease_ms;
} StoreRedeliveryAdvance;

/* A redelivery job's columns, in the order the backends read them. */
#define STORE_REDELIVERY_COLUMNS                                                                   \
    "id, state, business_type, receiver, url_prefix, task_status, error_class,"                   \
    " coalesce(created_from, 0), coalesce(created_to, 0), full_schedule, pace, reason, actor,"    \
    " cancelled_by, through_id, cursor_id, matched, sent, skipped, created_at, updated_at,"       \
    " coalesce(finished_at, 0)"

/* A receiver's circuit breaker as its row holds it (store_breaker.c). */
typedef struct StoreBreaker {
    bool open;
    int failures;              /* consecutive failures that count against it */
    int64_t opened_at;         /* Unix ms; 0: closed */
    int64_t probe_interval_ms; /* the wait before the next probe; 0: closed */
    char probe_token[TASK_CLAIM_TOKEN_SIZE]; /* the probe's claim; "": none */
} StoreBreaker;

/* What breaker_write makes of the row: STATE, and next_probe_at PROBE_IN_MS
 * after now on the database's clock (< 0: kept); the probe's token cleared
 * if CLEAR_PROBE; closed_at set to now if CLOSED. */
typedef struct StoreBreakerWrite {
    StoreBreaker state;
    int64_t probe_in_ms;
    bool clear_probe;
    bool closed;
} StoreBreakerWrite;

/* A task a rescue takes over (rescue_select): delivering, and its lease
 * ended (or any, at start-up). Owned by the array rescue_select returns:
 * store_rescued_free(). */
typedef struct StoreRescued {
    int64_t task_id;
    int attempts;           /* the attempt in flight */
    int max_retry;
    int64_t claimed_at;     /* updated_at, which the claim set */
    int last_status_code;   /* 0: none */
    int interrupted_before; /* cut off among the previous STORE_RESCUE_STREAK - 1 attempts */
    char *claim_token;      /* NULL: none */
    char *target_host;      /* NULL: none */
    bool receiver_open;     /* its receiver's circuit is open: it is parked, never failed */
} StoreRescued;

/* Frees what one StoreRescued (ELEMENT) owns; the array with its elements. */
void store_rescued_clear(void *element);
void store_rescued_free(StoreRescued *rescued, size_t count);

/* The first member of every backend's connection (SqliteStore, PgStore). */
struct Store {
    const StoreBackend *backend;
    /* While a caller acts on many tasks in one transaction: the ordered
     * tasks whose keys move at its end (store_ordering_defer); NULL: none. */
    StoreOrderingDeferral *ordering_deferral;
};

struct StoreBackend {
    const char *name; /* "sqlite", "postgresql" */
    bool shared;      /* several heraldd may use one database: store_is_shared() */
    Store *(*open)(const StoreLocation *location, const StoreOptions *options, char *err,
                   size_t errlen);
    void (*close)(Store *store);
    int (*inspect)(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen);
    int (*schema_version)(Store *store);
    int (*tidy)(Store *store, char *err, size_t errlen);
    int (*ping)(Store *store, char *err, size_t errlen);
    /* Leadership's statements (store_leader_*; the front runs the
     * transactions). leader_acquire sets *TERM to 0 when another holds it. */
    int (*leader_acquire)(Store *store, const char *holder, int64_t now, int64_t lease_ms,
                          int64_t *term, char *err, size_t errlen);
    int (*leader_release)(Store *store, const StoreFence *fence, int64_t now, char *err,
                          size_t errlen);
    int (*leader_hold)(Store *store, const StoreFence *fence, int64_t now, bool *held, char *err,
                       size_t errlen);
    /* NULL: no other heraldd to signal or hear (store_signal_*). */
    int (*signal_send)(Store *store, const char *sender, char *err, size_t errlen);
    int (*signal_listen)(Store *store, char *err, size_t errlen);
    int (*signal_fd)(Store *store);
    int (*signal_take)(Store *store, const char *self, bool *signalled, char *err, size_t errlen);
    int (*begin)(Store *store, char *err, size_t errlen);
    int (*commit)(Store *store, char *err, size_t errlen);
    void (*rollback)(Store *store);
    int (*savepoint)(Store *store, char *err, size_t errlen);
    int (*savepoint_release)(Store *store, char *err, size_t errlen);
    int (*savepoint_rollback)(Store *store, char *err, size_t errlen);

    StoreResult (*task_create)(Store *store, const TaskRequest *request, int max_retry,
                               const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                               size_t errlen);
    /* NULL: the front calls task_create for each. */
    StoreResult (*task_create_many)(Store *store, const TaskCreateItem *items, size_t count,
                                    int64_t now, TaskCreation *out, char *err, size_t errlen);
    StoreResult (*task_get)(Store *store, int64_t id, Task *out, char *err, size_t errlen);
    /* QUERY's rows (Task or ManualEntry) in a new array *OUT of *COUNT the
     * caller owns (store_task_list_free, store_manual_list_free). */
    int (*list)(Store *store, const StoreListQuery *query, void **out, size_t *count, char *err,
                size_t errlen);

    int (*host_list_pending)(Store *store, StoreHost **out, size_t *count, char *err,
                             size_t errlen);
    StoreResult (*host_next_due)(Store *store, const char *host, int64_t *out, char *err,
                                 size_t errlen);
    int (*claim_due)(Store *store, const char *host, int64_t now, int64_t lease_ms,
                     const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                     size_t errlen);
    int (*claim_count)(Store *store, const char *claim_token, int64_t task_id, int64_t *count,
                       char *err, size_t errlen);
    /* store_claim_probe: at most one task, and only while HOST's circuit is
     * open, its next probe due and no other probe holds it; the receiver's
     * row then names CLAIM_TOKEN as its probe, leased like the task. */
    int (*claim_probe)(Store *store, const char *host, int64_t now, int64_t lease_ms,
                       const char *claim_token, Task *out, size_t *count, char *err,
                       size_t errlen);
    /* A receiver's breaker (store_breaker.c, in the caller's transaction,
     * only once breaker_ready says the schema has it): breaker_read its row (*FOUND: there is one; LOCK: locked until the
     * transaction ends, after breaker_ensure made sure there is one),
     * breaker_write changes it. */
    int (*breaker_read)(Store *store, const char *receiver, bool lock, StoreBreaker *out,
                        bool *found, char *err, size_t errlen);
    int (*breaker_ensure)(Store *store, const char *receiver, int64_t now, char *err,
                          size_t errlen);
    int (*breaker_write)(Store *store, const char *receiver, const StoreBreakerWrite *write,
                         int64_t now, char *err, size_t errlen);
    /* At start, with the database to itself (a rescue of every task in
     * flight): no probe is out, so none holds back the next. NULL: shared. */
    int (*breaker_forget_probes)(Store *store, char *err, size_t errlen);
    /* Whether the schema has the receivers' breakers (PostgreSQL: not while
     * migration 011 is held back, and 012 and 013 with it). NULL: always. */
    bool (*breaker_ready)(Store *store);
    /* Rate limits and holds shared by every heraldd on the database
     * (store_rate_take and the rest; outside a transaction). NULL: one
     * heraldd has the database, which keeps them in memory. */
    StoreResult (*rate_take)(Store *store, const char *receiver, const RateLimit *limit,
                             int64_t want, StoreRateTake *out, char *err, size_t errlen);
    int (*rate_give_back)(Store *store, const char *receiver, const RateLimit *limit,
                          int64_t count, const StoreRateTake *take, char *err, size_t errlen);
    int (*rate_charge)(Store *store, const char *receiver, const RateLimit *limit, int64_t count,
                       char *err, size_t errlen);
    int (*receiver_hold)(Store *store, const char *receiver, int64_t hold_ms, int64_t now,
                         char *err, size_t errlen);
    int (*receiver_held)(Store *store, const char *receiver, int64_t *held_ms, char *err,
                         size_t errlen);
    /* Redelivery jobs (store_redelivery.c says what each does); the step's
     * statements: redelivery_lock, the job's row locked and its cursor read
     * while TOKEN holds it (STORE_NOT_FOUND: no longer), redelivery_tasks, the next tasks after the cursor (id and
     * type, in *OUT the caller frees with store_redelivery_tasks_free), and
     * redelivery_advance, the job moved on only while TOKEN holds it
     * (STORE_NOT_FOUND: no longer). redelivery_ready: whether the schema has
     * them (PostgreSQL: not while migration 015 is held back); NULL: always. */
    int (*redelivery_count)(Store *store, const RedeliveryFilter *filter, int64_t after_id,
                            int64_t through_id, int64_t *count, char *err, size_t errlen);
    int (*task_newest_id)(Store *store, int64_t *id, char *err, size_t errlen);
    int (*redelivery_insert)(Store *store, RedeliveryJob *job, int64_t now, char *err,
                             size_t errlen);
    /* The running job with FILTER's terms exactly, if any (*ID 0: none). */
    int (*redelivery_running)(Store *store, const RedeliveryFilter *filter, int64_t *id,
                              char *err, size_t errlen);
    StoreResult (*redelivery_get)(Store *store, int64_t id, RedeliveryJob *out, char *err,
                                  size_t errlen);
    int (*redelivery_list)(Store *store, int64_t before, int limit, RedeliveryJob **out,
                           size_t *count, char *err, size_t errlen);
    int (*redelivery_cancel)(Store *store, int64_t id, const char *actor, int64_t now,
                             bool *changed, char *err, size_t errlen);
    StoreResult (*redelivery_claim)(Store *store, const char *token, int64_t lease_ms,
                                    int64_t now, RedeliveryJob *out, char *err, size_t errlen);
    StoreResult (*redelivery_lock)(Store *store, int64_t id, const char *token,
                                   int64_t *cursor_id, char *err, size_t errlen);
    int (*redelivery_tasks)(Store *store, const RedeliveryJob *job, int limit,
                            StoreRedeliveryTask **out, size_t *count, char *err, size_t errlen);
    /* Locks TASKS (COUNT, in id order) and their open manual entries without
     * waiting (SKIP LOCKED): *USABLE, how many of them from the first were all
     * locked (a step sends those and stops before the first another session
     * holds, so it never waits holding locks another session waits for).
     * NULL: one writer, nothing to lock. */
    int (*redelivery_lock_tasks)(Store *store, const StoreRedeliveryTask *tasks, size_t count,
                                 size_t *usable, char *err, size_t errlen);
    StoreResult (*redelivery_advance)(Store *store, const RedeliveryJob *job, const char *token,
                                      const StoreRedeliveryAdvance *advance, int64_t now,
                                      char *err, size_t errlen);
    bool (*redelivery_ready)(Store *store);
    /* Ordering keys (store_ordering.c runs them, in the caller's
     * transaction). ordering_enqueue: the key's row made or locked, the
     * next sequence number given to TASK_ID, and the task set waiting unless
     * it is the head (*SEQ). ordering_place: store_ordering_place.
     * ordering_pass: the key's head_seq moved from SEQ to SEQ + 1 (only if it
     * is SEQ) and unblocked, and the task at SEQ + 1 made due at NOW if it
     * waits (*RELEASED_HOST, heap). ordering_block: the key blocked by
     * TASK_ID at NOW (0: unblocked). ordering_rewait: TASK_ID (pending)
     * waiting again. ordering_ready: whether keys may be accepted
     * (PostgreSQL: not while 018 is held back); ordering_known: whether the
     * schema has their table and columns, so they are read and moved
     * (PostgreSQL: from 017); NULL: always. */
    int (*ordering_enqueue)(Store *store, int64_t task_id, const char *receiver, const char *key,
                            bool block, int64_t now, int64_t *seq, bool *waiting, char *err, size_t errlen);
    StoreResult (*ordering_place)(Store *store, int64_t task_id, bool lock,
                                  StoreOrderingPlace *out, char *err, size_t errlen);
    int (*ordering_pass)(Store *store, int64_t key_id, int64_t seq, int64_t now,
                         char **released_host, char *err, size_t errlen);
    int (*ordering_block)(Store *store, int64_t key_id, int64_t task_id, int64_t now, char *err,
                          size_t errlen);
    int (*ordering_rewait)(Store *store, int64_t task_id, char *err, size_t errlen);
    int (*ordering_list)(Store *store, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                         size_t *count, char *err, size_t errlen);
    int (*ordering_blocked)(Store *store, int64_t before, int64_t *count, int64_t *oldest_at,
                            char *err, size_t errlen);
    /* The heads of STORE_ORDERING_STALLED_SQL, their task ids in *IDS (heap). */
    int (*ordering_stalled)(Store *store, int limit, int64_t **ids, size_t *count, char *err,
                            size_t errlen);
    bool (*ordering_ready)(Store *store);
    bool (*ordering_known)(Store *store);
    /* Whether tasks' traces are stored and read (PostgreSQL: from 019); NULL: always. */
    bool (*traces_ready)(Store *store);
    /* The statements of an attempt's end and of a rescue (store_outcome.c
     * runs them in the caller's transaction, in chunks it bounds).
     * task_end: each task's new state where its claim holds, setting
     * applied. attempt_insert: the history rows. manual_insert: an open
     * entry for each task TASK_IDS[i] (failed by now) with REASONS[i],
     * copying its attempts, last_status_code and last_error.
     * rescue_select: the tasks delivering whose lease ended by the
     * database's clock (NOW where it has none; ALL: every one), locked until the transaction ends
     * where the engine has row locks and skipping those another holds;
     * *OUT on the heap. */
    int (*task_end)(Store *store, StoreTaskEnd *ends, size_t count, int64_t now, char *err,
                    size_t errlen);
    int (*attempt_insert)(Store *store, const Attempt *const *attempts, size_t count, char *err,
                          size_t errlen);
    int (*manual_insert)(Store *store, const int64_t *task_ids, const char *const *reasons,
                         size_t count, int64_t now, char *err, size_t errlen);
    int (*rescue_select)(Store *store, int64_t now, bool all, StoreRescued **out, size_t *count,
                         char *err, size_t errlen);
    int (*attempt_list)(Store *store, int64_t task_id, Attempt **out, size_t *count, char *err,
                        size_t errlen);

    /* The statements of a manual retry and resolve (store_manual.c), run in
     * the caller's transaction. manual_open_id: the id of the task's open
     * entry in *ENTRY_ID (0: none), locked until the transaction ends where
     * the engine has row locks. manual_retry_task: the task made due again
     * with the repair applied, if it is failed, or succeeded for a
     * redelivery (else STORE_NOT_FOUND); *HOST its receiver, on the heap. */
    int (*manual_open_id)(Store *store, int64_t task_id, int64_t *entry_id, char *err,
                          size_t errlen);
    StoreResult (*manual_retry_task)(Store *store, int64_t task_id, const ManualRepair *repair,
                                     int64_t now, char **host, char *err, size_t errlen);
    int (*manual_close)(Store *store, int64_t entry_id, const char *resolution, const char *note,
                        int64_t now, char *err, size_t errlen);
    int (*action_insert)(Store *store, int64_t task_id, const char *action, const char *actor,
                         const char *note, const char *details, int64_t now, char *err,
                         size_t errlen);
    int (*manual_open_matching)(Store *store, const ManualMatchFilter *filter, ManualMatch **out,
                                size_t *count, char *err, size_t errlen);
    int (*action_list)(Store *store, int64_t task_id, ManualAction **out, size_t *count, char *err,
                       size_t errlen);

    int (*alert_backlog)(Store *store, int64_t since, AlertBacklog *out, char *err, size_t errlen);
    StoreResult (*alert_insert)(Store *store, const StoreFence *fence,
                                const StoreAlertRecord *record, int64_t *id, char *err,
                                size_t errlen);
    StoreResult (*alert_claim)(Store *store, const StoreFence *fence, int64_t id, int64_t now,
                               int64_t claim_ms, char *err, size_t errlen);
    int (*alert_mark)(Store *store, const StoreFence *fence, const StoredAlert *alert, char *err,
                      size_t errlen);
    int (*alert_firing)(Store *store, StoredAlert **out, size_t *count, char *err, size_t errlen);
    int (*alert_unsent)(Store *store, StoredAlert **out, size_t *count, char *err, size_t errlen);
    int (*alert_list)(Store *store, int64_t before, int limit, StoredAlert **out, size_t *count,
                      char *err, size_t errlen);
    /* The latest alert of KIND and INSTANCE: a list of at most one. */
    int (*alert_latest)(Store *store, const char *kind, const char *instance, StoredAlert **out,
                        size_t *count, char *err, size_t errlen);
    /* Retention's statements; store_retention.c runs them. The boundary is
     * the first task id created at or after CUTOFF (INT64_MAX if none). */
    int (*retention_boundary)(Store *store, int64_t cutoff, int64_t *boundary, char *err,
                              size_t errlen);
    /* Up to LIMIT ids of SET, smallest first, into IDS; *COUNT says how many. */
    int (*retention_select)(Store *store, StoreRetentionSet set, int64_t cutoff,
                            int64_t boundary, size_t limit, int64_t *ids, size_t *count,
                            char *err, size_t errlen);
    /* Deletes the tasks IDS (those still finished) with their entries,
     * actions, attempts and bodies, or the alerts IDS, adding what it
     * deleted (tasks, alerts) to *DELETED. */
    int (*retention_delete_tasks)(Store *store, const int64_t *ids, size_t count,
                                  int64_t *deleted, char *err, size_t errlen);
    int (*retention_delete_alerts)(Store *store, const int64_t *ids, size_t count,
                                   int64_t *deleted, char *err, size_t errlen);
    int (*instance_beat)(Store *store, const StoreInstance *instance, int64_t forget_before,
                         char *err, size_t errlen);
    int (*instance_leave)(Store *store, const char *id, char *err, size_t errlen);
    int (*instance_list)(Store *store, int64_t now, StoreInstance **out, size_t *count, char *err,
                         size_t errlen);
    /* NULL: the database has no clock of its own (store_clock_read). */
    int (*clock_read)(Store *store, int64_t *server_ms, char *err, size_t errlen);
    /* NULL: nothing known (store_database_health). */
    int (*database_health)(Store *store, StoreDatabaseHealth *out, char *err, size_t errlen);
    int (*count_active)(Store *store, StoreActiveCounts *out, char *err, size_t errlen);
    int (*count_gauges)(Store *store, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                        size_t errlen);
    int (*attempt_series)(Store *store, int64_t since, int64_t bucket_ms, size_t count,
                          int64_t *delivered, int64_t *failed, char *err, size_t errlen);
    /* The backend's rows; store.c merges them into receivers. */
    int (*receiver_load)(Store *store, int64_t since, size_t limit, StoreReceiver **out,
                         size_t *count, char *err, size_t errlen);

    /* Paused receivers (store_receivers.c), in the caller's transaction:
     * receiver_pause and receiver_resume set *CHANGED when the row changed
     * (a pause of a paused receiver, or a resume of one that is not, changes
     * nothing); receiver_action_insert records an operator's decision. */
    int (*gate_list)(Store *store, StoreGate **out, size_t *count, char *err, size_t errlen);
    int (*receiver_pause)(Store *store, const char *receiver, const char *actor, const char *note,
                          int64_t now, bool *changed, char *err, size_t errlen);
    int (*receiver_resume)(Store *store, const char *receiver, int64_t now, bool *changed,
                           char *err, size_t errlen);
    int (*receiver_action_insert)(Store *store, const char *receiver, const char *action,
                                  const char *actor, const char *note, int64_t now, char *err,
                                  size_t errlen);
    int (*receiver_action_list)(Store *store, const char *receiver, int64_t before, int limit,
                                StoreReceiverAction **out, size_t *count, char *err,
                                size_t errlen);
    /* NULL: one heraldd has the database (store_count_older_instances). */
    int (*older_instances)(Store *store, int version, int64_t *count, char *err, size_t errlen);
};

/* store_breaker.c: counts OUTCOMES (COUNT of them) against their
 * receivers' circuit breakers, and parks those a open circuit holds
 * (AttemptOutcome.parked, extra_attempts, breaker_change). Inside the
 * turn's transaction, before the tasks' ends. */
int store_breaker_count(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                        char *err, size_t errlen);

/* For receiver_load: the entry of HOST in *LIST (*COUNT of *CAPACITY), added
 * zeroed (with a copy of HOST) if it is not there. NULL if out of memory. */
StoreReceiver *store_receiver_entry(StoreReceiver **list, size_t *count, size_t *capacity,
                                    const char *host);

/* For receiver_load: ENTRY's latest failure, at AT with CLASS and MESSAGE
 * (either may be NULL), described as the task's last_error is. Returns 0, or
 * -1 if out of memory. */
int store_receiver_set_failure(StoreReceiver *entry, int64_t at, const char *class,
                               const char *message);

/* For task_create: the dedup_url a new task is stored with. A task is known
 * by coalesce(dedup_url, target_url): REQUEST's URL's normal form, so
 * dedup_url holds it when target_url, as written, is not it (NULL
 * otherwise: most URLs are written in their normal form). A repair that
 * changes target_url sets dedup_url to what the task was known by. */
const char *store_task_dedup_url(const TaskRequest *request);

/* For task_create: what a keyless REQUEST's task would be known by if it
 * had been stored before herald normalised URLs (its target_url as
 * written), when that is not its normal form; NULL otherwise (a key, or a
 * URL written in its normal form). Such a task repeats that one too. */
const char *store_task_written_identity(const TaskRequest *request);

extern const StoreBackend store_backend_sqlite;
extern const StoreBackend store_backend_postgresql;


#endif
