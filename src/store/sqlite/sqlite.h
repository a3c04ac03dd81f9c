/*
 * store/sqlite: the SQLite backend's shared parts. sqlite.c runs
 * transactions and caches statements (sqlite_sql.c holds the text of every
 * statement); sqlite_open.c opens connections; sqlite_schema.c migrates and
 * inspects; sqlite_tasks.c, sqlite_delivery.c, sqlite_manual.c,
 * sqlite_alerts.c and sqlite_stats.c hold the queries by subject. The
 * functions taking a Store * are the backend's entries in
 * store_backend_sqlite (sqlite_backend.c); see store.h for what each does.
 * No file calls one above it: the table calls them all, opening calls the
 * schema's runner, and everything calls sqlite.c's helpers.
 *
 * What is SQLite's own stays here: one writer at a time (the process-wide
 * sqlite_write_lock, so this process's writers queue on a mutex instead of
 * spinning in the busy handler), WAL with synchronous=FULL (NORMAL for
 * STORE_DURABILITY_REPLAYABLE), checkpoints.
 */
#ifndef HERALD_STORE_SQLITE_H
#define HERALD_STORE_SQLITE_H

#include <sqlite3.h>

#include "backend.h"

/* The columns of a task, in the order sqlite_task_read_row() reads them. */
#define STORE_TASK_COLUMNS                                                                         \
    "id, webhook_id, business_id, business_type, target_url, payload, payload_is_json,"            \
    " headers, idempotency_key, status, attempts, max_retry, next_attempt_at, created_at,"         \
    " updated_at, last_status_code, last_error, target_host, traceparent, tracestate"
#define STORE_TASK_COLUMN_COUNT 20

/* Every statement the store runs, prepared once per connection on first use. */
typedef enum {
    STORE_SQL_BEGIN,
    STORE_SQL_COMMIT,
    STORE_SQL_ROLLBACK,
    STORE_SQL_SAVEPOINT,
    STORE_SQL_RELEASE,
    STORE_SQL_ROLLBACK_TO,
    STORE_SQL_PING,
    STORE_SQL_INSTANCE_BEAT,
    STORE_SQL_INSTANCE_FORGET,
    STORE_SQL_INSTANCE_LEAVE,
    STORE_SQL_INSTANCE_LIST,
    STORE_SQL_TASK_INSERT,
    STORE_SQL_TASK_GET,
    STORE_SQL_TASK_BY_KEY,
    STORE_SQL_TASK_BY_BUSINESS,
    STORE_SQL_HOSTS_PENDING,
    STORE_SQL_HOST_NEXT_DUE,
    STORE_SQL_CLAIM,
    STORE_SQL_ATTEMPT_INSERT,
    STORE_SQL_TASK_END,
    STORE_SQL_MANUAL_INSERT,
    STORE_SQL_CLAIM_COUNT,
    STORE_SQL_RESCUE_SELECT,
    STORE_SQL_ATTEMPT_LIST,
    STORE_SQL_MANUAL_OPEN_ID,
    STORE_SQL_MANUAL_RETRY_TASK,
    STORE_SQL_MANUAL_CLOSE,
    STORE_SQL_MANUAL_MATCHING,
    STORE_SQL_ACTION_INSERT,
    STORE_SQL_ACTION_LIST,
    STORE_SQL_COUNT_ACTIVE,
    STORE_SQL_COUNT_BY_STATUS,
    STORE_SQL_COUNT_MANUAL_OPEN,
    STORE_SQL_ATTEMPT_SERIES,
    STORE_SQL_RECEIVER_BACKLOG,
    STORE_SQL_RECEIVER_FAILURES,
    STORE_SQL_BACKLOG_COUNT,
    STORE_SQL_BACKLOG_BY_TYPE,
    STORE_SQL_BACKLOG_SAMPLE,
    STORE_SQL_ALERT_INSERT,
    STORE_SQL_ALERT_SENT,
    STORE_SQL_ALERT_UNSENT,
    STORE_SQL_ALERT_LIST,
    STORE_SQL_ALERT_LATEST,
    STORE_SQL_ALERT_CLAIM,
    STORE_SQL_ALERT_FIRING,
    STORE_SQL_LEADER_ACQUIRE,
    STORE_SQL_LEADER_RELEASE,
    STORE_SQL_LEADER_HOLD,
    STORE_SQL_RETENTION_BOUNDARY,
    STORE_SQL_RETENTION_SUCCEEDED,
    STORE_SQL_RETENTION_RESOLVED,
    STORE_SQL_RETENTION_ALERTS,
    STORE_SQL_RETENTION_DELETE_TASK,
    STORE_SQL_RETENTION_DELETE_ALERT,
    STORE_SQL_GATE_LIST,
    STORE_SQL_RECEIVER_PAUSE,
    STORE_SQL_RECEIVER_RESUME,
    STORE_SQL_RECEIVER_ACTION_INSERT,
    STORE_SQL_RECEIVER_ACTION_LIST,
    STORE_SQL_PROBE_GATE,
    STORE_SQL_REDELIVERY_COUNT,
    STORE_SQL_REDELIVERY_TASKS,
    STORE_SQL_TASK_NEWEST,
    STORE_SQL_REDELIVERY_INSERT,
    STORE_SQL_REDELIVERY_RUNNING,
    STORE_SQL_REDELIVERY_GET,
    STORE_SQL_REDELIVERY_LIST,
    STORE_SQL_REDELIVERY_CANCEL,
    STORE_SQL_REDELIVERY_CLAIM,
    STORE_SQL_REDELIVERY_LOCK,
    STORE_SQL_REDELIVERY_ADVANCE,
    STORE_SQL_BREAKER_READ,
    STORE_SQL_BREAKER_ENSURE,
    STORE_SQL_BREAKER_WRITE,
    STORE_SQL_BREAKER_FORGET_PROBES,
    STORE_SQL_ORDERING_KEY,
    STORE_SQL_ORDERING_TASK,
    STORE_SQL_ORDERING_PLACE,
    STORE_SQL_ORDERING_PASS,
    STORE_SQL_ORDERING_RELEASE,
    STORE_SQL_ORDERING_BLOCK,
    STORE_SQL_ORDERING_REWAIT,
    STORE_SQL_ORDERING_LIST,
    STORE_SQL_ORDERING_BLOCKED,
    STORE_SQL_ORDERING_STALLED,
    STORE_SQL_COUNT,
} StoreSql;

/* The text of each StoreSql (sqlite_sql.c). */
extern const char *const sqlite_sql_text[STORE_SQL_COUNT];

/* Filter combinations of sqlite_task_list and sqlite_manual_list, one prepared
 * statement each. */

typedef struct SqliteStore {
    Store base; /* first: a Store * of this backend is a SqliteStore * */
    sqlite3 *db;
    char path[1024];
    int schema_version;
    bool in_transaction; /* holding sqlite_write_lock */
    int injected;        /* the error the fault seam just returned (SQLITE_OK: none) */
    sqlite3_stmt *statements[STORE_SQL_COUNT];
    sqlite3_stmt *list_statements[STORE_LISTING_COUNT][STORE_LIST_VARIANTS]; /* sqlite_list.c */
} SqliteStore;

static inline SqliteStore *sqlite_of(Store *store)
{
    return (SqliteStore *)store;
}

/* The cached statement for SQL, reset and unbound, or NULL with ERR set. */
sqlite3_stmt *sqlite_statement(SqliteStore *store, StoreSql sql, char *err, size_t errlen);

/* Prepares TEXT into *SLOT if it is empty; returns *SLOT or NULL with ERR. */
sqlite3_stmt *sqlite_prepare_cached(SqliteStore *store, sqlite3_stmt **slot, const char *text,
                                    char *err, size_t errlen);

/* Fills ERR with WHAT and SQLite's message for the connection. Returns -1. */
int sqlite_fail(SqliteStore *store, const char *what, char *err, size_t errlen);

/* sqlite3_step() for every statement the store runs: the fault seam's point
 * of entry (fault.h). Use it, never sqlite3_step, so every step can fail. */
int sqlite_step(SqliteStore *store, sqlite3_stmt *statement);

/* Runs SQL (no rows) / SQL returning one integer into *OUT; on failure
 * returns -1 with "WHAT: message" (or SQL's) in ERR. */
int sqlite_exec(SqliteStore *store, const char *sql, const char *what, char *err, size_t errlen);
int sqlite_query_int(SqliteStore *store, const char *sql, int *out, char *err, size_t errlen);

/* Brings the schema of STORE up to the COUNT MIGRATIONS, or refuses a newer
 * one (sqlite_schema.c). */
int sqlite_apply_migrations(SqliteStore *store, const Migration *migrations, size_t count,
                            char *err, size_t errlen);

/* Reads the current row of a statement into ELEMENT (zeroed). Returns 0, or
 * -1 when out of memory; what it allocated stays in ELEMENT for CLEAR. */
typedef int (*StoreRowReader)(sqlite3_stmt *statement, void *element);

/* Steps STATEMENT (already bound) to its end, reading each row with READ_ROW
 * into a new array of ELEMENT_SIZE elements. On success the caller owns *OUT
 * (*COUNT elements); on failure nothing stays allocated (CLEAR frees one
 * element's contents) and ERR names WHAT. Resets and unbinds STATEMENT. */
int sqlite_collect_rows(SqliteStore *store, sqlite3_stmt *statement, size_t element_size,
                        StoreRowReader read_row, void (*clear)(void *element), const char *what,
                        void **out, size_t *count, char *err, size_t errlen);

/* Steps a statement that returns no rows and resets it. Returns 0 or -1. */
/* Steps STATEMENT for one integer row into *OUT (unchanged if no row) and
 * resets it. Returns 0, or -1 with ERR naming WHAT. */
int sqlite_single_int64(SqliteStore *store, sqlite3_stmt *statement, int64_t *out,
                        const char *what, char *err, size_t errlen);
int sqlite_step_done(SqliteStore *store, sqlite3_stmt *statement, const char *what, char *err,
                     size_t errlen);

/* Bind VALUE to the named parameter NAME (":now"), if the statement has it. */
void sqlite_bind_text(sqlite3_stmt *statement, const char *name, const char *value);
void sqlite_bind_int64(sqlite3_stmt *statement, const char *name, int64_t value);

/* Reads STORE_TASK_COLUMNS starting at column 0 into OUT. Returns 0, or -1
 * if out of memory (OUT is then cleared). */
int sqlite_task_read_row(sqlite3_stmt *statement, Task *out);

/* Duplicates column COLUMN as a NUL-terminated heap string (NULL for SQL NULL).
 * Returns 0, or -1 if out of memory. */
int sqlite_column_text(sqlite3_stmt *statement, int column, char **out, size_t *out_length);
/* Copies column COLUMN into OUT of SIZE bytes ("" for SQL NULL), cut to fit
 * (as pg_column_copy). */
void sqlite_column_copy(sqlite3_stmt *statement, int column, char *out, size_t size);
/* The same into a manual word. */
void sqlite_copy_word(sqlite3_stmt *statement, int column, char out[MANUAL_WORD_MAX]);

/* The backend's entries (store.h says what each does). */
Store *sqlite_open(const StoreLocation *location, const StoreOptions *options, char *err,
                   size_t errlen);
void sqlite_close(Store *base);
int sqlite_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen);
int sqlite_schema_version(Store *base);
int sqlite_tidy(Store *base, char *err, size_t errlen);
int sqlite_ping(Store *base, char *err, size_t errlen);
int sqlite_instance_beat(Store *base, const StoreInstance *instance, int64_t forget_before,
                         char *err, size_t errlen);
int sqlite_instance_leave(Store *base, const char *id, char *err, size_t errlen);
int sqlite_instance_list(Store *base, int64_t now, StoreInstance **out, size_t *count, char *err,
                         size_t errlen);
int sqlite_leader_acquire(Store *base, const char *holder, int64_t now, int64_t lease_ms,
                          int64_t *term, char *err, size_t errlen);
int sqlite_leader_release(Store *base, const StoreFence *fence, int64_t now, char *err,
                          size_t errlen);
int sqlite_leader_hold(Store *base, const StoreFence *fence, int64_t now, bool *held, char *err,
                       size_t errlen);
int sqlite_begin(Store *base, char *err, size_t errlen);
int sqlite_commit(Store *base, char *err, size_t errlen);
void sqlite_rollback(Store *base);
int sqlite_savepoint(Store *base, char *err, size_t errlen);
int sqlite_savepoint_release(Store *base, char *err, size_t errlen);
int sqlite_savepoint_rollback(Store *base, char *err, size_t errlen);
StoreResult sqlite_task_create(Store *base, const TaskRequest *request, int max_retry,
                               const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                               size_t errlen);
StoreResult sqlite_task_get(Store *base, int64_t id, Task *out, char *err, size_t errlen);
int sqlite_list(Store *base, const StoreListQuery *query, void **out, size_t *count, char *err,
                size_t errlen);
int sqlite_host_list_pending(Store *base, StoreHost **out, size_t *count, char *err, size_t errlen);
StoreResult sqlite_host_next_due(Store *base, const char *host, int64_t *out, char *err,
                                 size_t errlen);
int sqlite_claim_due(Store *base, const char *host, int64_t now, int64_t lease_ms,
                     const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                     size_t errlen);
int sqlite_claim_count(Store *base, const char *claim_token, int64_t task_id, int64_t *count,
                       char *err, size_t errlen);
int sqlite_task_end(Store *base, StoreTaskEnd *ends, size_t count, int64_t now, char *err,
                    size_t errlen);
int sqlite_attempt_insert(Store *base, const Attempt *const *attempts, size_t count, char *err,
                          size_t errlen);
int sqlite_manual_insert(Store *base, const int64_t *task_ids, const char *const *reasons,
                         size_t count, int64_t now, char *err, size_t errlen);
int sqlite_rescue_select(Store *base, int64_t now, bool all, StoreRescued **out, size_t *count,
                         char *err, size_t errlen);
int sqlite_attempt_list(Store *base, int64_t task_id, Attempt **out, size_t *count, char *err,
                        size_t errlen);
int sqlite_manual_open_id(Store *base, int64_t task_id, int64_t *entry_id, char *err,
                          size_t errlen);
StoreResult sqlite_manual_retry_task(Store *base, int64_t task_id, const ManualRepair *repair,
                                     int64_t now, char **host, char *err, size_t errlen);
int sqlite_manual_close(Store *base, int64_t entry_id, const char *resolution, const char *note,
                        int64_t now, char *err, size_t errlen);
int sqlite_action_insert(Store *base, int64_t task_id, const char *action, const char *actor,
                         const char *note, const char *details, int64_t now, char *err,
                         size_t errlen);
int sqlite_manual_open_matching(Store *base, const ManualMatchFilter *filter, ManualMatch **out,
                          size_t *count, char *err, size_t errlen);
int sqlite_action_list(Store *base, int64_t task_id, ManualAction **out, size_t *count, char *err,
                       size_t errlen);
int sqlite_alert_backlog(Store *base, int64_t since, AlertBacklog *out, char *err, size_t errlen);
StoreResult sqlite_alert_insert(Store *base, const StoreFence *fence,
                                const StoreAlertRecord *record, int64_t *id, char *err,
                                size_t errlen);
StoreResult sqlite_alert_claim(Store *base, const StoreFence *fence, int64_t id, int64_t now,
                               int64_t claim_ms, char *err, size_t errlen);
int sqlite_alert_mark(Store *base, const StoreFence *fence, const StoredAlert *alert, char *err,
                      size_t errlen);
int sqlite_alert_firing(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen);
int sqlite_alert_unsent(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen);
int sqlite_alert_list(Store *base, int64_t before, int limit, StoredAlert **out, size_t *count,
                      char *err, size_t errlen);
int sqlite_alert_latest(Store *base, const char *kind, const char *instance, StoredAlert **out,
                        size_t *count, char *err, size_t errlen);
int sqlite_retention_boundary(Store *base, int64_t cutoff, int64_t *boundary, char *err,
                              size_t errlen);
int sqlite_retention_select(Store *base, StoreRetentionSet set, int64_t cutoff, int64_t boundary,
                            size_t limit, int64_t *ids, size_t *count, char *err, size_t errlen);
int sqlite_retention_delete_tasks(Store *base, const int64_t *ids, size_t count,
                                  int64_t *deleted, char *err, size_t errlen);
int sqlite_retention_delete_alerts(Store *base, const int64_t *ids, size_t count,
                                   int64_t *deleted, char *err, size_t errlen);
int sqlite_count_active(Store *base, StoreActiveCounts *out, char *err, size_t errlen);
int sqlite_count_gauges(Store *base, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                        size_t errlen);
int sqlite_attempt_series(Store *base, int64_t since, int64_t bucket_ms, size_t count,
                           int64_t *delivered, int64_t *failed, char *err, size_t errlen);
int sqlite_receiver_load(Store *base, int64_t since, size_t limit, StoreReceiver **out,
                          size_t *count, char *err, size_t errlen);

/* Paused receivers (sqlite_receivers.c). */
int sqlite_claim_probe(Store *base, const char *host, int64_t now, int64_t lease_ms,
                       const char *claim_token, Task *out, size_t *count, char *err,
                       size_t errlen);
int sqlite_breaker_read(Store *base, const char *receiver, bool lock, StoreBreaker *out,
                        bool *found, char *err, size_t errlen);
int sqlite_breaker_ensure(Store *base, const char *receiver, int64_t now, char *err,
                          size_t errlen);
int sqlite_breaker_write(Store *base, const char *receiver, const StoreBreakerWrite *write,
                         int64_t now, char *err, size_t errlen);
int sqlite_breaker_forget_probes(Store *base, char *err, size_t errlen);
int sqlite_gate_list(Store *base, StoreGate **out, size_t *count, char *err, size_t errlen);
int sqlite_receiver_pause(Store *base, const char *receiver, const char *actor, const char *note,
                          int64_t now, bool *changed, char *err, size_t errlen);
int sqlite_receiver_resume(Store *base, const char *receiver, int64_t now, bool *changed,
                           char *err, size_t errlen);
int sqlite_receiver_action_insert(Store *base, const char *receiver, const char *action,
                                  const char *actor, const char *note, int64_t now, char *err,
                                  size_t errlen);
int sqlite_receiver_action_list(Store *base, const char *receiver, int64_t before, int limit,
                                StoreReceiverAction **out, size_t *count, char *err,
                                size_t errlen);

int sqlite_redelivery_count(Store *base, const RedeliveryFilter *filter, int64_t after_id,
                            int64_t through_id, int64_t *count, char *err, size_t errlen);
int sqlite_task_newest_id(Store *base, int64_t *id, char *err, size_t errlen);
int sqlite_redelivery_insert(Store *base, RedeliveryJob *job, int64_t now, char *err,
                             size_t errlen);
int sqlite_redelivery_running(Store *base, const RedeliveryFilter *filter, int64_t *id,
                              char *err, size_t errlen);
StoreResult sqlite_redelivery_get(Store *base, int64_t id, RedeliveryJob *out, char *err,
                                  size_t errlen);
int sqlite_redelivery_list(Store *base, int64_t before, int limit, RedeliveryJob **out,
                           size_t *count, char *err, size_t errlen);
int sqlite_redelivery_cancel(Store *base, int64_t id, const char *actor, int64_t now,
                             bool *changed, char *err, size_t errlen);
StoreResult sqlite_redelivery_claim(Store *base, const char *token, int64_t lease_ms,
                                    int64_t now, RedeliveryJob *out, char *err, size_t errlen);
StoreResult sqlite_redelivery_lock(Store *base, int64_t id, const char *token,
                                   int64_t *cursor_id, char *err, size_t errlen);
int sqlite_redelivery_tasks(Store *base, const RedeliveryJob *job, int limit,
                            StoreRedeliveryTask **out, size_t *count, char *err, size_t errlen);
StoreResult sqlite_redelivery_advance(Store *base, const RedeliveryJob *job, const char *token,
                                      const StoreRedeliveryAdvance *advance, int64_t now,
                                      char *err, size_t errlen);

/* Strict order per key (sqlite_ordering.c). */
int sqlite_ordering_enqueue(Store *base, int64_t task_id, const char *receiver, const char *key,
                            bool block, int64_t now, int64_t *seq, bool *waiting, char *err, size_t errlen);
StoreResult sqlite_ordering_place(Store *base, int64_t task_id, bool lock,
                                  StoreOrderingPlace *out, char *err, size_t errlen);
int sqlite_ordering_pass(Store *base, int64_t key_id, int64_t seq, int64_t now,
                         char **released_host, char *err, size_t errlen);
int sqlite_ordering_block(Store *base, int64_t key_id, int64_t task_id, int64_t now, char *err,
                          size_t errlen);
int sqlite_ordering_rewait(Store *base, int64_t task_id, char *err, size_t errlen);
int sqlite_ordering_list(Store *base, const StoreOrderingFilter *filter, StoreOrderingKey **out,
                         size_t *count, char *err, size_t errlen);
int sqlite_ordering_stalled(Store *base, int limit, int64_t **ids, size_t *count, char *err,
                            size_t errlen);
int sqlite_ordering_blocked(Store *base, int64_t before, int64_t *count, int64_t *oldest_at,
                            char *err, size_t errlen);

#endif
