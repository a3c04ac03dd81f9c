/*
 * store/backend: what a storage backend gives the store front (store.c,
 * store_retention.c): a table of functions, and the Store header every
 * backend's connection struct starts with. Most entries are one operation
 * of store.h, called with the same arguments, so store.h's contract is each
 * backend's contract (the store unit tests run it against both). Where a
 * workflow is written once in the front (retention, manual retry and
 * resolve), its entries are only the statements it runs. An entry whose
 * comment begins "NULL:" is optional: without task_create_many, for one,
 * the front loops over task_create.
 *
 * The model is curl's struct Curl_ssl (lib/vtls/vtls_int.h) and OpenSMTPD's
 * queue_backend. Only the front's files and the backends include this header.
 */
#ifndef HERALD_STORE_BACKEND_H
#define HERALD_STORE_BACKEND_H

#include "store.h"

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

/* The first member of every backend's connection (SqliteStore, PgStore). */
struct Store {
    const StoreBackend *backend;
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
    int (*task_list)(Store *store, const TaskFilter *filter, Task **out_tasks, size_t *out_count,
                     char *err, size_t errlen);

    int (*host_list_pending)(Store *store, StoreHost **out, size_t *count, char *err,
                             size_t errlen);
    StoreResult (*host_next_due)(Store *store, const char *host, int64_t *out, char *err,
                                 size_t errlen);
    int (*claim_due)(Store *store, const char *host, int64_t now, int64_t lease_ms,
                     const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                     size_t errlen);
    int (*claim_count)(Store *store, const char *claim_token, int64_t task_id, int64_t *count,
                       char *err, size_t errlen);
    /* One chunk (store.c bounds its size); sets each outcome's fenced. */
    int (*record_outcomes)(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                           char *err, size_t errlen);
    int (*recover_interrupted)(Store *store, int64_t now, StoreRescueScope scope, int *recovered,
                               int *moved, char *err, size_t errlen);
    int (*attempt_list)(Store *store, int64_t task_id, Attempt **out, size_t *count, char *err,
                        size_t errlen);

    int (*manual_list)(Store *store, const ManualFilter *filter, ManualEntry **out, size_t *count,
                       char *err, size_t errlen);
    /* The statements of a manual retry and resolve (store_manual.c), run in
     * the caller's transaction. manual_open_id: the id of the task's open
     * entry in *ENTRY_ID (0: none), locked until the transaction ends where
     * the engine has row locks. manual_retry_task: the task made due again
     * with the repair applied, if it is failed (else STORE_NOT_FOUND); *HOST
     * its receiver, on the heap. */
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
    StoreResult (*alert_latest)(Store *store, const char *kind, const char *instance,
                                StoredAlert *out, char *err, size_t errlen);
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
    int (*count_gauges)(Store *store, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                        size_t errlen);
    int (*attempt_series)(Store *store, int64_t since, int64_t bucket_ms, size_t count,
                          int64_t *delivered, int64_t *failed, char *err, size_t errlen);
    /* The backend's rows; store.c merges them into receivers. */
    int (*receiver_load)(Store *store, int64_t since, size_t limit, StoreReceiver **out,
                         size_t *count, char *err, size_t errlen);
};

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
