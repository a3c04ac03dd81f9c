/*
 * store: everything herald keeps, behind one small interface with two
 * backends: SQLite (embedded, the default) and PostgreSQL (several heraldd
 * on one database).
 *
 * Nothing outside the store knows SQL: this header speaks in herald's terms
 * ("claim up to N due tasks of this host"), store.c dispatches each call to
 * the backend's table of functions (store/backend.h, like curl's vtls), and
 * each backend lives in its own folder: store/sqlite/, store/pg/. Only
 * those, and copy/ (which reads one engine and writes the other), include
 * sqlite3.h or libpq-fe.h.
 *
 * A Store is one database connection, used by one thread at a time; each
 * thread that touches the database opens its own (the HTTP threads borrow
 * theirs from store_pool.h).
 *
 * Durability: a committed transaction is on disk (SQLite: WAL with
 * synchronous=FULL; PostgreSQL: synchronous_commit=on) when store_commit()
 * returns, unless the connection was opened with STORE_DURABILITY_REPLAYABLE.
 * Writes run inside store_begin() / store_commit().
 *
 * Functions return 0 (or STORE_OK) on success and -1 (STORE_ERROR) with a
 * message in ERR; any such failure means "the database cannot do this now"
 * (disk full, locked, unreachable, I/O error) and is reported as 503 by the
 * API. A PostgreSQL connection that was lost is reopened by the next call
 * (with a backoff), so a caller just retries later.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_types.h"
#include "attempt.h"
#include "manual.h"
#include "migrations.h"
#include "task.h"

typedef struct Store Store;

typedef enum {
    STORE_ERROR = -1,
    STORE_OK = 0,
    STORE_NOT_FOUND = 1,
} StoreResult;

typedef enum {
    STORE_BACKEND_SQLITE,
    STORE_BACKEND_POSTGRESQL,
} StoreBackendKind;

/* Where the database is: [storage] in the config. The strings are not
 * owned and must outlive every Store opened with it. */
typedef struct StoreLocation {
    StoreBackendKind kind;
    const char *path;          /* SQLite: the database file */
    const char *url;           /* PostgreSQL: a libpq connection URI */
    const char *password_file; /* PostgreSQL: the password, if not in PGPASSFILE; "" = none */
    int64_t busy_timeout_ms;   /* how long a statement waits for a lock before failing */
    int64_t statement_timeout_ms; /* PostgreSQL: the longest any statement may run */
} StoreLocation;

typedef enum {
    /* A commit is on disk when store_commit() returns: what a 201 promises. */
    STORE_DURABILITY_FULL,
    /* A commit may be lost to a crash of the machine (or of PostgreSQL) when
     * losing it only repeats work that at-least-once delivery allows: the
     * scheduler's claims and outcomes. Saves a sync per commit. */
    STORE_DURABILITY_REPLAYABLE,
} StoreDurability;

typedef struct StoreOptions {
    /* Migrations to bring the schema up to; NULL = the backend's built-in
     * ones. The connection that opens the database first should migrate;
     * others pass migrate = false and are refused if the schema is not
     * current. */
    const Migration *migrations;
    size_t migration_count;
    bool migrate;
    StoreDurability durability;
    /* PostgreSQL: how long opening may keep retrying to reach the server
     * (start-up waits for a database that is not up yet); 0 = one try. */
    int64_t wait_ms;
    /* PostgreSQL: the connection's application_name, so pg_stat_activity
     * tells its sessions apart; NULL = "heraldd". */
    const char *application_name;
} StoreOptions;

/* Opens the database at LOCATION (SQLite: created if missing) and checks or
 * applies migrations. Returns a Store the caller owns (store_close), or
 * NULL with a message in ERR. A schema newer than the known migrations is
 * refused. */
Store *store_open(const StoreLocation *location, const StoreOptions *options, char *err,
                  size_t errlen);

void store_close(Store *store);

/* LOCATION for people: the SQLite path, or the PostgreSQL URI with any
 * password in it replaced by "***" (so it can be logged). Returns OUT. */
const char *store_location_name(const StoreLocation *location, char *out, size_t size);

/* What store_inspect() found. */
typedef struct StoreInspection {
    int schema_version; /* 0: no schema yet (start-up will create it) */
    int schema_known;   /* the newest version this heraldd knows */
    char server[128];   /* "SQLite 3.40.1", "PostgreSQL 15.8" */
} StoreInspection;

/* What start-up will find at LOCATION, for --check-config: reads, never
 * creates or changes anything. Returns -1 with ERR set if the database
 * cannot be reached, read and written, holds a schema newer than this
 * binary, or (an SQLite file not existing yet) cannot be created. */
int store_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen);

/* Which backend STORE uses, and its schema version. */
StoreBackendKind store_backend(const Store *store);
int store_schema_version(Store *store);

/* Before a clean stop, leaves the database tidy (SQLite moves the WAL into
 * the database file, so a stopped herald leaves one file). */
int store_tidy(Store *store, char *err, size_t errlen);

/* A cheap query proving the database answers. */
int store_ping(Store *store, char *err, size_t errlen);

/* Starts a write transaction / COMMIT / ROLLBACK. After a failed commit the
 * transaction has been rolled back. */
int store_begin(Store *store, char *err, size_t errlen);
int store_commit(Store *store, char *err, size_t errlen);
void store_rollback(Store *store);

/* A nested scope inside a transaction that can be undone on its own. */
int store_savepoint(Store *store, char *err, size_t errlen);
int store_savepoint_release(Store *store, char *err, size_t errlen);
int store_savepoint_rollback(Store *store, char *err, size_t errlen);

/* ---- tasks ---- */

/* What store_task_create() made or found. */
typedef struct TaskCreation {
    bool created; /* a new task, with this id */
    int64_t id;
    /* created with an ordering_key: its sequence number in the key, and
     * whether it waits behind the key's head (store_ordering.h). */
    int64_t ordering_seq;
    bool ordering_waiting;
    /* !created: the earlier task the request repeats (the caller task_clear()s
     * it), and the hash of the request that made it. */
    Task existing;
    unsigned char existing_hash[TASK_HASH_SIZE];
} TaskCreation;

/* Creates the task REQUEST asks for, pending and due at NOW, unless the
 * request repeats an earlier one: the task holding its idempotency key, or,
 * for a request without a key, the oldest task also created without one for
 * the same business_type, business_id and target_url (the target_url it was
 * created with: a repair that changes it does not make the task new). This
 * holds against other writers too (several heraldd on PostgreSQL: unique
 * indexes decide). Inside a transaction. */
StoreResult store_task_create(Store *store, const TaskRequest *request, int max_retry,
                              const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                              size_t errlen);

/* One request of store_task_create_many(). */
typedef struct TaskCreateItem {
    const TaskRequest *request;
    int max_retry;
    const char *webhook_id;
} TaskCreateItem;

/* store_task_create() for each of ITEMS[0..COUNT), in order, with OUT[i] for
 * ITEMS[i]: a later item repeats an earlier one as it would one committed
 * before. PostgreSQL creates them with one statement (a statement's fixed
 * cost is most of what a small insert costs there); SQLite one by one.
 * STORE_ERROR leaves OUT cleared and the transaction to be rolled back. */
StoreResult store_task_create_many(Store *store, const TaskCreateItem *items, size_t count,
                                   int64_t now, TaskCreation *out, char *err, size_t errlen);

/* Loads task ID into OUT (which the caller must task_clear()). */
StoreResult store_task_get(Store *store, int64_t id, Task *out, char *err, size_t errlen);

typedef struct TaskFilter {
    const char *business_id;     /* NULL = any */
    const char *business_type;   /* NULL = any */
    const char *idempotency_key; /* NULL = any */
    bool has_status;
    TaskStatus status;
    int64_t after; /* list ids below this (keyset pagination); 0 = from the newest */
    int limit;
} TaskFilter;

/* Tasks matching FILTER, newest first. *OUT_TASKS is an array of *OUT_COUNT
 * tasks the caller owns (store_task_list_free). */
int store_task_list(Store *store, const TaskFilter *filter, Task **out_tasks, size_t *out_count,
                    char *err, size_t errlen);

void store_task_list_free(Task *tasks, size_t count);

/* ---- delivery ---- */

typedef struct StoreHost {
    char *target_host; /* owned */
    int64_t next_due;  /* earliest next_attempt_at of its pending tasks */
} StoreHost;

/* Every host with pending tasks and its earliest due time: the scheduler's
 * start-up view (a scan of the pending index; later it learns incrementally).
 * *OUT is an array the caller frees with store_host_list_free(). */
int store_host_list_pending(Store *store, StoreHost **out, size_t *count, char *err,
                            size_t errlen);
void store_host_list_free(StoreHost *hosts, size_t count);

/* The earliest next_attempt_at of HOST's pending tasks (an index seek),
 * including those another heraldd's claim holds right now. */
StoreResult store_host_next_due(Store *store, const char *host, int64_t *out, char *err,
                                size_t errlen);

/* Inside a transaction: claims up to LIMIT pending tasks of HOST due at NOW
 * (earliest first) under CLAIM_TOKEN (task_generate_claim_token: fresh for each
 * call). They become 'delivering', their attempt count grows by one, and their
 * lease ends LEASE_MS after the claim on the database's clock (PostgreSQL's
 * clock_timestamp(), which every heraldd sharing it reads alike; SQLite, whose
 * one heraldd is its only reader: NOW). Appends them to OUT (which has room
 * for LIMIT more) with their claim_token set, and adds their number to
 * *COUNT; the caller task_clear()s them. On a shared database tasks another
 * heraldd's claim holds are skipped, never waited for (FOR UPDATE SKIP LOCKED). */
int store_claim_due(Store *store, const char *host, int64_t now, int64_t lease_ms,
                    const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                    size_t errlen);

/* Inside a transaction: the probe of HOST's open circuit (store_breaker.c),
 * as store_claim_due claims, but at most one task, and only while the
 * circuit is open, its next probe due on the database's clock and no other
 * probe holds it (on a shared database, one probe at a time for every
 * heraldd). The receiver's row then names CLAIM_TOKEN as its probe until
 * the probe's outcome is written or its lease ends. Nothing claimed is not
 * an error: *COUNT is unchanged. */
int store_claim_probe(Store *store, const char *host, int64_t now, int64_t lease_ms,
                      const char *claim_token, Task *out, size_t *count, char *err,
                      size_t errlen);

/* How many tasks hold CLAIM_TOKEN now (TASK_ID: that task only; 0: any):
 * after a COMMIT whose reply was lost, whether it took effect is read back
 * this way (a fresh token is in the database only if its claim committed; an
 * outcome clears its task's token). Outside a transaction. */
int store_claim_count(Store *store, const char *claim_token, int64_t task_id, int64_t *count,
                      char *err, size_t errlen);

#define STORE_OUTCOME_CHUNK_BYTES (8 * 1024 * 1024)
#define STORE_OUTCOME_CHUNK_COUNT 512
/* Inside a transaction: first counts the outcomes against their receivers'
 * circuit breakers (store_breaker.c), which may park failures (an open
 * circuit: pending again, never into manual handling); then writes each
 * outcome's task update, its attempt row
 * and a manual-handling row for ATTEMPT_OUTCOME_MANUAL. Each applies only
 * while its claim holds: the task still 'delivering' under the outcome's
 * claim_token and attempt number. An outcome whose claim ended (its lease
 * expired and a sweep rescued the task, which recorded that attempt as
 * 'interrupted'; perhaps it was claimed again since) writes nothing: it is
 * marked fenced and counted in *FENCED, so each attempt has one row in the
 * history. Outcomes are written in chunks of bounded size (a turn's responses
 * may be large), all inside the caller's transaction. */
int store_record_outcomes(Store *store, AttemptOutcome *outcomes, size_t count, int64_t now,
                          size_t *fenced, char *err, size_t errlen);

/* One heraldd as the database knows it (GET /v1/instances). */
typedef struct StoreInstance {
    char id[96];       /* host:pid:start, unique per run */
    char host[64];
    int64_t pid;
    char version[32];
    int64_t started_at;   /* Unix ms */
    int64_t heartbeat_at; /* Unix ms, the latest */
    bool leader; /* written: what it believed; listed: whether it holds the lease */
    int64_t deliveries; /* attempts it made since it started */
} StoreInstance;

/* Inside a transaction: writes INSTANCE's row (its heartbeat), and removes
 * the rows of instances silent since before FORGET_BEFORE. */
int store_instance_beat(Store *store, const StoreInstance *instance, int64_t forget_before,
                        char *err, size_t errlen);

/* Inside a transaction: removes instance ID's row (it stops). */
int store_instance_leave(Store *store, const char *id, char *err, size_t errlen);

/* Every instance, the latest heartbeat first, into *OUT (the caller frees it
 * with free()). Its leader is whether it holds the leadership lease unexpired
 * at NOW by the database's clock (store_leader_acquire), not what it last
 * wrote of itself. */
int store_instance_list(Store *store, int64_t now, StoreInstance **out, size_t *count, char *err,
                        size_t errlen);

/* ---- leadership: a lease on the database's clock ----
 *
 * One heraldd of those sharing a database leads: it alone runs the
 * singletons (the manual-backlog alert, sending alerts, resolving the alerts
 * of instances that are gone, retention). Leadership is the one row of the
 * leadership table: its holder (an instance id), its term and the end of its
 * lease, on the database's clock (PostgreSQL's clock_timestamp(); SQLite,
 * whose one heraldd is its only reader: NOW). Each of the leader's writes
 * names its StoreFence and applies only while the row still holds that term
 * unexpired, checked in the write's own statement; on PostgreSQL the check
 * also locks the row (FOR SHARE) until the transaction ends, so no takeover
 * can commit in between. A paused, partitioned or reconnected former leader
 * therefore changes nothing. The session does not matter. */
typedef struct StoreFence {
    const char *holder; /* the instance id that took the lease */
    int64_t term;       /* the term store_leader_acquire() answered */
} StoreFence;

/* Outside a transaction (it runs its own, on this connection): takes or
 * renews the lease for HOLDER until LEASE_MS from now. It is taken if it is
 * HOLDER's, has expired, or was never taken (SQLite: always, as its one
 * heraldd is the only one); the term grows by one at each new acquisition
 * (another holder, or HOLDER's own lease that had expired) and stays the
 * same on a renewal. Sets *TERM (0: another holder's lease runs; then not
 * leading). Returns 0, or -1 with ERR (leadership unknown: act as if lost
 * once the lease the last renewal granted has run out). */
int store_leader_acquire(Store *store, const char *holder, int64_t now, int64_t lease_ms,
                         int64_t *term, char *err, size_t errlen);

/* Outside a transaction: ends FENCE's lease now if it still holds (a clean
 * stop), so the next instance takes over at its next try. */
int store_leader_release(Store *store, const StoreFence *fence, int64_t now, char *err,
                         size_t errlen);

/* Inside a transaction: whether FENCE's lease still holds (its term,
 * unexpired) into *HELD; on PostgreSQL the row stays locked against a
 * takeover until the transaction ends, so what follows in it runs under the
 * term. For leader actions of several statements (retention). */
int store_leader_hold(Store *store, const StoreFence *fence, int64_t now, bool *held, char *err,
                      size_t errlen);

/* ---- what operators look at first (GET /v1/overview, GET /v1/receivers) ---- */

/* Attempts started in [SINCE, SINCE + COUNT * BUCKET_MS), counted per bucket
 * into DELIVERED[i] (those that succeeded) and FAILED[i] (the others), arrays
 * of COUNT the caller zeroes. Reads the attempts_started index. */
int store_attempt_series(Store *store, int64_t since, int64_t bucket_ms, size_t count,
                         int64_t *delivered, int64_t *failed, char *err, size_t errlen);

/* The database server's clock now, Unix ms (PostgreSQL's clock_timestamp()):
 * the clock every heraldd sharing the database keeps its time by
 * (clock_sync.c). Returns 0, or -1 with ERR (also where the database has no
 * clock of its own: SQLite, read by one heraldd on its own machine). */
int store_clock_read(Store *store, int64_t *server_ms, char *err, size_t errlen);

/* Whether other heraldd may use this database at the same time (PostgreSQL):
 * then tasks in flight are someone's until their lease ends, even at start-up. */
bool store_is_shared(const Store *store);

/* Whether tasks can keep their trace (tasks.traceparent; PostgreSQL: not
 * while migration 019 is held back with 018 for an earlier release). */
bool store_traces_ready(Store *store);

/* Wake-ups between the heraldd sharing a database (PostgreSQL's LISTEN and
 * NOTIFY; SQLite has one heraldd per file, and each of these does nothing).
 * A signal means "new tasks are due", sent by instance SENDER. It is a hint
 * and never the only way work is found: a signal sent while a listener's
 * connection was down is lost, and that listener's poll of the due hosts
 * finds the work.
 *   store_signal_send: outside a transaction; sends one signal at once (its
 *     own short transaction). Returns 0, or -1 with ERR.
 *   store_signal_listen: this connection receives signals from now on, and
 *     again after each reconnection. Returns 0, or -1 with ERR (it listens
 *     from the next connection).
 *   store_signal_fd: the descriptor that becomes readable when a signal
 *     arrives while the connection is idle; -1 if there is none now.
 *   store_signal_take: outside a transaction; reads what arrived, without
 *     waiting, and sets *SIGNALLED if a signal came from a sender other than
 *     SELF. Returns 0, or -1 with ERR when the connection was lost (the next
 *     statement reconnects). */
int store_signal_send(Store *store, const char *sender, char *err, size_t errlen);
int store_signal_listen(Store *store, char *err, size_t errlen);
int store_signal_fd(Store *store);
int store_signal_take(Store *store, const char *self, bool *signalled, char *err, size_t errlen);

/* The message of the attempt row a rescue writes (no quote: it sits in SQL text). */
#define STORE_INTERRUPTED_MESSAGE                                                                  \
    "no outcome before the lease of its claim ended: heraldd stopped, stalled or lost its "     \
    "database while this attempt was in flight"

/* Which tasks left 'delivering' store_recover_interrupted() rescues. */
typedef enum {
    STORE_RESCUE_EXPIRED, /* those whose lease has ended, by the database's clock */
    STORE_RESCUE_ALL,     /* all (start-up, when this heraldd has the database alone) */
} StoreRescueScope;

/* Inside a transaction: rescues tasks left 'delivering' (SCOPE), in one step
 * that a concurrent rescue elsewhere cannot repeat: each gets one
 * 'interrupted' attempt row for the attempt its claim made, and its claim
 * token is cleared (a late outcome of that claim is fenced). A rescue counts
 * as an attempt, but a cut-off attempt may have reached the receiver, so it
 * never ends a task alone: a task whose budget is spent (attempts >=
 * max_retry) becomes failed, with a manual-handling entry of reason
 * 'interrupted', once its last STORE_RESCUE_STREAK attempts were all cut
 * off (a task that crashes or hangs every heraldd that sends it); until then
 * it is pending again, due at NOW, so attempts stay within max_retry +
 * STORE_RESCUE_STREAK - 1. *RECOVERED counts the tasks rescued, *MOVED those
 * of them moved to manual. */
#define STORE_RESCUE_STREAK 3
/* A number macro as SQL text. */
#define STORE_STRINGIFY(x) STORE_STRINGIFY_(x)
#define STORE_STRINGIFY_(x) #x
int store_recover_interrupted(Store *store, int64_t now, StoreRescueScope scope, int *recovered,
                              int *moved, char *err, size_t errlen);

/* The attempts of TASK_ID, oldest first; the caller frees them with
 * store_attempt_list_free(). */
int store_attempt_list(Store *store, int64_t task_id, Attempt **out, size_t *count, char *err,
                       size_t errlen);
void store_attempt_list_free(Attempt *attempts, size_t count);

/* ---- manual handling ---- */

/* Entries matching FILTER, oldest first (by entry id). The caller frees
 * them with store_manual_list_free(). */
int store_manual_list(Store *store, const ManualFilter *filter, ManualEntry **out, size_t *count,
                      char *err, size_t errlen);
void store_manual_list_free(ManualEntry *entries, size_t count);

/* Inside a transaction: sends task TASK_ID again with REPAIR's corrections
 * and budget: the task is pending and due at NOW, its open entry resolved as
 * 'retried', and ACTION ("retry", "bulk_retry") recorded with DETAILS (JSON
 * or NULL). *HOST gets the task's target_host (the caller frees it).
 * ENTRY_ID: 0 for the task's open entry, whichever it is; else only that
 * entry, while it is the open one (a bulk action acts on the entries it
 * listed, never on a newer failure of the same task).
 * STORE_NOT_FOUND: the task has no open entry (or not ENTRY_ID). */
StoreResult store_manual_retry(Store *store, int64_t task_id, int64_t entry_id,
                               const ManualRepair *repair,
                               const char *action, const char *details, int64_t now, char **host,
                               char *err, size_t errlen);

/* Inside a transaction: sends task TASK_ID again, as it is (same webhook-id),
 * if it succeeded or failed: pending and due at NOW with REPAIR's budget
 * (its max_retry) on top of the attempts made; an open entry of a failed
 * task closed as 'retried' with REPAIR's note, and the action "redeliver"
 * recorded with REPAIR's actor and note and DETAILS. *HOST as for
 * store_manual_retry. STORE_NOT_FOUND: the task is pending or delivering
 * (or gone). */
StoreResult store_task_redeliver(Store *store, int64_t task_id, const ManualRepair *repair,
                                 const char *details, int64_t now, char **host, char *err,
                                 size_t errlen);

/* Inside a transaction: closes the open entry of TASK_ID (ENTRY_ID as for
 * store_manual_retry) without sending, as 'resolved' with NOTE, and records
 * the action. If the task blocked its ordering key, the key's next task is
 * due at NOW: *HOST its receiver (the caller frees it; NULL: none).
 * STORE_NOT_FOUND: none open (or not ENTRY_ID). */
StoreResult store_manual_resolve(Store *store, int64_t task_id, int64_t entry_id,
                                 const char *note, const char *actor, int64_t now, char **host,
                                 char *err, size_t errlen);

/* Which open entries a bulk action takes. */
typedef struct ManualMatchFilter {
    const char *business_type; /* NULL = any */
    const char *reason;        /* "exhausted", "gone"; NULL = any */
    int64_t since;             /* moved_at >= since */
    int64_t until;             /* moved_at < until */
    int64_t through_id;        /* entry id <= through_id (INT64_MAX: any) */
} ManualMatchFilter;

/* The open entries FILTER matches, oldest first: their ids, task ids,
 * business types and traces, which the caller frees with store_manual_matches_free(). */
typedef struct ManualMatch {
    int64_t entry_id;
    int64_t task_id;
    char *business_type;
    char traceparent[TASK_TRACEPARENT_SIZE]; /* the task's intake span ("": none) */
} ManualMatch;
int store_manual_open_matching(Store *store, const ManualMatchFilter *filter, ManualMatch **out,
                               size_t *count, char *err, size_t errlen);
void store_manual_matches_free(ManualMatch *matches, size_t count);

/* The actions recorded for TASK_ID, oldest first. */
int store_action_list(Store *store, int64_t task_id, ManualAction **out, size_t *count, char *err,
                      size_t errlen);
void store_action_list_free(ManualAction *actions, size_t count);

/* ---- alerts and retention ---- */

/* The open manual entries moved at or after SINCE. */
int store_alert_backlog(Store *store, int64_t since, AlertBacklog *out, char *err,
                        size_t errlen);

/* An alert to record. */
typedef struct StoreAlertRecord {
    const char *kind;
    const char *instance; /* the instance it is about; NULL: about every one (the backlog) */
    bool firing;
    int64_t count;
    const char *details; /* JSON */
    int64_t now;
    /* Recorded only while no alert of (kind, instance) is newer than this id;
     * 0: no such condition. */
    int64_t after_id;
} StoreAlertRecord;

/* Inside a transaction: records RECORD as an alert (not yet sent); *ID is
 * its id. With FENCE (a leader's alert), only while FENCE's lease holds;
 * FENCE NULL: an instance's own alert. STORE_NOT_FOUND: not recorded (the
 * fence or after_id refused it). */
StoreResult store_alert_insert(Store *store, const StoreFence *fence,
                               const StoreAlertRecord *record, int64_t *id, char *err,
                               size_t errlen);

/* Inside a transaction: claims alert ID for sending under FENCE until
 * CLAIM_MS from NOW (the database's clock), while FENCE's lease holds, the
 * alert is unsent and no other live claim has it (one by FENCE itself may
 * be taken again: its record of what the sinks did was not written).
 * STORE_NOT_FOUND: not claimed; do not send it. So two instances never send
 * one alert at once, and a former leader never sends one. */
StoreResult store_alert_claim(Store *store, const StoreFence *fence, int64_t id, int64_t now,
                              int64_t claim_ms, char *err, size_t errlen);

/* Inside a transaction: records what the sinks did with ALERT (its id):
 * each sink's sent time, sent_at (every configured sink took it) and
 * send_error, 0 / NULL for "not yet" / "none", and ends the claim; only
 * while FENCE's claim (store_alert_claim) has it. */
int store_alert_mark(Store *store, const StoreFence *fence, const StoredAlert *alert, char *err,
                     size_t errlen);

/* Alerts not yet sent, oldest first (at most 20). */
int store_alert_unsent(Store *store, StoredAlert **out, size_t *count, char *err,
                       size_t errlen);

/* Alerts newest first, with ids below BEFORE (INT64_MAX: from the newest). */
int store_alert_list(Store *store, int64_t before, int limit, StoredAlert **out, size_t *count,
                     char *err, size_t errlen);

/* The latest alert of KIND about INSTANCE (NULL: about every instance);
 * STORE_NOT_FOUND if none. */
StoreResult store_alert_latest(Store *store, const char *kind, const char *instance,
                               StoredAlert *out, char *err, size_t errlen);

/* The alerts whose (kind, instance) is firing now: the latest alert of each
 * (kind, instance), where it is firing; oldest first, at most 100. */
int store_alert_firing(Store *store, StoredAlert **out, size_t *count, char *err,
                       size_t errlen);

void store_alert_list_free(StoredAlert *alerts, size_t count);

/* Whether store_retention_step() with CUTOFF would delete anything: a read,
 * so an idle retention turn writes nothing. */
int store_retention_pending(Store *store, int64_t cutoff, bool *pending, char *err,
                            size_t errlen);

/* Inside a transaction: one batch of retention (store_retention.c), under
 * FENCE's lease (store_leader_hold; STORE_NOT_FOUND and nothing deleted if it
 * no longer holds): up to BATCH tasks older than CUTOFF that succeeded, or
 * failed with every manual entry resolved before CUTOFF, each deleted with
 * everything of its own (entries, actions, attempts); and up to BATCH sent
 * alerts older than CUTOFF. An entry is never deleted without its task, nor
 * a task without its entries; open entries are never touched. *DELETED
 * counts the tasks and alerts deleted. */
StoreResult store_retention_step(Store *store, const StoreFence *fence, int64_t now,
                                 int64_t cutoff, int batch, int64_t *deleted, char *err,
                                 size_t errlen);

/* What the database server says of herald's busiest tables, for /metrics:
 * dead row versions waiting for vacuum (tasks, task_bodies, attempts,
 * manual), and how long the oldest transaction open on the database has run
 * (of the sessions herald's role may see), which holds vacuum back. Known
 * on PostgreSQL; SQLite leaves KNOWN false. */
#define STORE_HEALTH_TABLES 4
extern const char *const store_health_tables[STORE_HEALTH_TABLES];
typedef struct StoreDatabaseHealth {
    bool known;
    int64_t dead_tuples[STORE_HEALTH_TABLES];
    int64_t oldest_transaction_ms;
} StoreDatabaseHealth;
int store_database_health(Store *store, StoreDatabaseHealth *out, char *err, size_t errlen);

/* The work in hand, for the status line systemd shows every few seconds:
 * pending and delivering tasks and open manual entries, each counted
 * through a partial index (SQLite) or the queue table (PostgreSQL), so the
 * cost follows the backlog, not the history (store_count_gauges reads an
 * entry for every task ever kept). */
typedef struct StoreActiveCounts {
    int64_t pending;
    int64_t delivering;
    int64_t manual_open;
} StoreActiveCounts;
int store_count_active(Store *store, StoreActiveCounts *out, char *err, size_t errlen);

/* Gauges for /metrics: tasks per TaskStatus, and open manual entries. */
int store_count_gauges(Store *store, int64_t tasks_by_status[4], int64_t *manual_open,
                       char *err, size_t errlen);

#endif
