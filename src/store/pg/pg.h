/*
 * store/pg: the PostgreSQL backend's shared parts. pg_connect.c connects
 * (and reconnects, to whichever host is the primary) and waits for answers;
 * pg.c runs statements and transactions; pg_open.c opens a session;
 * pg_values.c turns parameters and results into herald's types; pg_sql.c
 * has the text of every statement; pg_schema.c and pg_migration.c migrate
 * and inspect; pg_signal.c carries wake-ups between instances; pg_stats.c
 * reads what operators look at first; pg_tasks.c, pg_delivery.c,
 * pg_manual.c and pg_alerts.c hold the queries by subject. The functions
 * taking a Store * are the backend's entries in store_backend_postgresql
 * (pg_backend.c). No file calls one above it: the table calls them all,
 * opening calls the schema's runner and the connection, and everything
 * calls pg.c's helpers, which call the connection's.
 *
 * What is PostgreSQL's own stays here:
 *   - A connection can be lost at any time (a restart, a failover,
 *     pg_terminate_backend). The statement that finds out fails (the caller
 *     answers 503 or retries later); the next call outside a transaction
 *     reconnects, at most every PG_RECONNECT_MAX_MS after repeated failures
 *     (at once when another session of the process connected meanwhile),
 *     and re-prepares statements as they are used. A transaction whose
 *     connection was lost is never continued on a new one. A server that
 *     is no longer the primary (25006, 57P01-57P03, in recovery) is left
 *     the same way, for the host of the URL that takes writes now.
 *   - Sessions are set up on connect: synchronous_commit on, or
 *     remote_apply if the server or role asks for it (off for
 *     STORE_DURABILITY_REPLAYABLE), statement_timeout and lock_timeout from
 *     the location, so a stuck database cannot hang a caller forever.
 *   - A COMMIT is never cancelled (PostgreSQL would answer success for a
 *     commit whose wait for a synchronous standby it cut short), and
 *     statement_timeout does not bound it (the server turns it off before
 *     committing): heraldd waits for the answer that long, then closes the
 *     connection (the outcome is then unknown); a WARNING during it makes
 *     store_commit fail (pg.c).
 *   - Statements are prepared once per connection and run with binary
 *     results; integers are sent as text, bytes (payloads, hashes,
 *     response bodies) in binary, so nothing is escaped.
 *   - Unique indexes, not a single writer, keep idempotency and
 *     deduplication whole across several heraldd (INSERT ... ON CONFLICT).
 */
#ifndef HERALD_STORE_PG_H
#define HERALD_STORE_PG_H

#include <libpq-fe.h>

#include "buffer.h"
#include "fault.h"
#include "backend.h"

/* Every fixed statement, prepared per connection on first use. */
typedef enum {
    PG_SQL_PING,
    PG_SQL_CLOCK,
    PG_SQL_LEADER_ACQUIRE,
    PG_SQL_LEADER_RELEASE,
    PG_SQL_LEADER_HOLD,
    PG_SQL_SIGNAL_SEND,
    PG_SQL_TASK_INSERT,
    PG_SQL_TASK_INSERT_MANY,
    PG_SQL_TASK_GET,
    PG_SQL_TASK_BY_KEY,
    PG_SQL_TASK_BY_BUSINESS,
    PG_SQL_TASK_TOUCH,
    PG_SQL_HOSTS_PENDING,
    PG_SQL_HOST_NEXT_DUE,
    PG_SQL_CLAIM,
    PG_SQL_TASK_END,
    PG_SQL_ATTEMPT_INSERT,
    PG_SQL_MANUAL_INSERT,
    PG_SQL_RESCUE_SELECT,
    PG_SQL_CLAIM_COUNT,
    PG_SQL_ATTEMPT_LIST,
    PG_SQL_MANUAL_OPEN_ID,
    PG_SQL_MANUAL_RETRY_TASK,
    PG_SQL_MANUAL_CLOSE,
    PG_SQL_MANUAL_MATCHING,
    PG_SQL_ACTION_INSERT,
    PG_SQL_ACTION_LIST,
    PG_SQL_COUNT_ACTIVE,
    PG_SQL_COUNT_BY_STATUS,
    PG_SQL_COUNT_MANUAL_OPEN,
    PG_SQL_BACKLOG_COUNT,
    PG_SQL_BACKLOG_BY_TYPE,
    PG_SQL_BACKLOG_SAMPLE,
    PG_SQL_ALERT_INSERT,
    PG_SQL_ALERT_SENT,
    PG_SQL_ALERT_UNSENT,
    PG_SQL_ALERT_LIST,
    PG_SQL_ALERT_LATEST,
    PG_SQL_ALERT_CLAIM,
    PG_SQL_ALERT_FIRING,
    PG_SQL_RETENTION_BOUNDARY,
    PG_SQL_RETENTION_SUCCEEDED,
    PG_SQL_RETENTION_RESOLVED,
    PG_SQL_RETENTION_ALERTS,
    PG_SQL_RETENTION_DELETE_TASKS,
    PG_SQL_RETENTION_DELETE_ALERTS,
    PG_SQL_INSTANCE_BEAT,
    PG_SQL_INSTANCE_FORGET,
    PG_SQL_INSTANCE_LEAVE,
    PG_SQL_INSTANCE_LIST,
    PG_SQL_DEAD_TUPLES,
    PG_SQL_OLDEST_TRANSACTION,
    PG_SQL_ATTEMPT_SERIES,
    PG_SQL_RECEIVER_BACKLOG,
    PG_SQL_RECEIVER_FAILURES,
    PG_SQL_GATE_LIST,
    PG_SQL_RECEIVER_PAUSE,
    PG_SQL_RECEIVER_RESUME,
    PG_SQL_RECEIVER_ACTION_INSERT,
    PG_SQL_RECEIVER_ACTION_LIST,
    PG_SQL_OLDER_INSTANCES,
    PG_SQL_CLAIM_PROBE,
    PG_SQL_CLAIM_UNGATED,
    PG_SQL_CLAIM_UNHELD,
    PG_SQL_CLAIM_NO_BASE,
    PG_SQL_CLAIM_PROBE_NO_BASE,
    PG_SQL_MANUAL_RETRY_TASK_NO_BASE,
    PG_SQL_CLAIM_PROBE_UNHELD,
    PG_SQL_RESCUE_SELECT_UNGATED,
    PG_SQL_BREAKER_READ,
    PG_SQL_BREAKER_READ_LOCK,
    PG_SQL_BREAKER_ENSURE,
    PG_SQL_BREAKER_WRITE,
    PG_SQL_RATE_TAKE,
    PG_SQL_RATE_GIVE_BACK,
    PG_SQL_RATE_CHARGE,
    PG_SQL_RECEIVER_HOLD,
    PG_SQL_RECEIVER_HELD,
    PG_SQL_REDELIVERY_COUNT,
    PG_SQL_REDELIVERY_TASKS,
    PG_SQL_TASK_NEWEST,
    PG_SQL_REDELIVERY_INSERT,
    PG_SQL_REDELIVERY_RUNNING,
    PG_SQL_REDELIVERY_GET,
    PG_SQL_REDELIVERY_LIST,
    PG_SQL_REDELIVERY_CANCEL,
    PG_SQL_REDELIVERY_CLAIM,
    PG_SQL_REDELIVERY_LOCK,
    PG_SQL_REDELIVERY_LOCK_TASKS,
    PG_SQL_REDELIVERY_ADVANCE,
    PG_SQL_CLAIM_UNORDERED,
    PG_SQL_CLAIM_PROBE_UNORDERED,
    PG_SQL_ORDERING_ENQUEUE,
    PG_SQL_ORDERING_PLACE,
    PG_SQL_ORDERING_PLACE_LOCK,
    PG_SQL_ORDERING_PASS,
    PG_SQL_ORDERING_BLOCK,
    PG_SQL_ORDERING_REWAIT,
    PG_SQL_ORDERING_LIST,
    PG_SQL_ORDERING_BLOCKED,
    PG_SQL_ORDERING_STALLED,
    PG_SQL_TASK_INSERT_UNTRACED,
    PG_SQL_TASK_INSERT_MANY_UNTRACED,
    PG_SQL_TASK_GET_UNTRACED,
    PG_SQL_CLAIM_UNTRACED,
    PG_SQL_CLAIM_PROBE_UNTRACED,
    PG_SQL_MANUAL_MATCHING_UNTRACED,
    PG_SQL_REDELIVERY_TASKS_UNTRACED,
    PG_SQL_COUNT,
} PgSql;

/* The text of each PgSql (pg_sql.c). */
extern const char *const pg_sql_text[PG_SQL_COUNT];

/* The columns of a task, in the order pg_task_read() reads them, from
 * "tasks t JOIN task_bodies b ON b.task_id = t.id". */
/* The server's clock now, Unix milliseconds, as an expression evaluated once
 * per statement (a subquery: an index can be searched with it).
 * clock_timestamp(), not now(): the time the statement runs, not the time its
 * transaction began. */
#define PG_CLOCK_MS "(SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
/* The same in microseconds (rate buckets: one request a millisecond would round). */
#define PG_CLOCK_US "(SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"

#define PG_TASK_COLUMNS                                                                            \
    "t.id, t.webhook_id, t.business_id, t.business_type, t.target_url, b.payload,"                 \
    " t.payload_is_json, b.headers, t.idempotency_key, t.status, t.attempts, t.max_retry,"         \
    " t.next_attempt_at, t.created_at, t.updated_at, t.last_status_code, t.last_error,"            \
    " t.target_host"
#define PG_TASK_COLUMN_COUNT 18

/* The listings' statements (pg_list.c: STORE_LIST_VARIANTS shapes of each
 * listing) come after the fixed ones in the prepared-statement slots. */
#define PG_SLOT_LIST PG_SQL_COUNT
#define PG_SLOTS (PG_SLOT_LIST + STORE_LISTING_COUNT * STORE_LIST_VARIANTS)

/* Most parameters one statement takes. */
#define PG_PARAMS_MAX 16

/* The longest "host:port" a session names (a Unix socket's directory is
 * its host). */
#define PG_SERVER_NAME_MAX 160

typedef struct PgStore {
    Store base; /* first: a Store * of this backend is a PgStore * */
    const StoreLocation *location; /* not owned */
    StoreDurability durability;
    PGconn *conn;            /* NULL: connect before the next statement */
    char password[256];      /* from password_file, read once at open */
    char application_name[64]; /* what pg_stat_activity shows of each session */
    int schema_version;
    int schema_known; /* the migrations this heraldd knows (instances.schema_known) */
    int64_t schema_checked_at; /* monotonic ms: schema_version read again (pg_schema_has) */
    bool in_transaction;     /* BEGIN sent, COMMIT/ROLLBACK not yet */
    bool migrating;          /* statement_timeout is off: answers are waited for unbounded */
    bool lose_reply;         /* the fault seam: run the statement, then lose its reply */
    int64_t next_connect_ms; /* monotonic: no new connection before this */
    int64_t backoff_ms;      /* the wait after the next failed connection */
    uint64_t connected_seen; /* pg_connect.c's count of connections at the last try */
    char connect_error[256]; /* why the last connection failed */
    bool prepared[PG_SLOTS];
    uint64_t connection;        /* counts connections made: which session this is */
    bool listening;             /* every session LISTENs on PG_SIGNAL_CHANNEL */
    uint64_t signal_connection; /* the connection pg_signal_take last read */
    uint64_t epoch;             /* pg_connect.c's not-primary count at connecting */
    char server[PG_SERVER_NAME_MAX]; /* "host:port" of the connection's server */
    bool committing;            /* a COMMIT is out: keep its WARNING */
    bool commit_unanswered;     /* heraldd stopped waiting for a COMMIT's answer */
    char commit_warning[256];   /* the first WARNING of the last COMMIT, or "" */
    char lost_reason[320];      /* why the connection was lost, said if no new one is made */
} PgStore;

static inline PgStore *pg_of(Store *store)
{
    return (PgStore *)store;
}

/* One statement's parameters, built on the stack. */
typedef struct PgParams {
    const char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX];
    char numbers[PG_PARAMS_MAX][24];
    int count;
} PgParams;

/* Append one parameter: text (NULL: SQL NULL), an integer, a boolean, or
 * bytes (bytea, sent binary; NULL: SQL NULL). The strings and bytes are
 * borrowed until the statement ran. */
void pg_param_text(PgParams *params, const char *text);
void pg_param_int64(PgParams *params, int64_t value);
void pg_param_int64_or_null(PgParams *params, int64_t value); /* 0 = NULL */
void pg_param_bool(PgParams *params, bool value);
void pg_param_bytes(PgParams *params, const void *data, size_t length);

/* A one-dimensional array parameter in PostgreSQL's binary format, built
 * element by element (for statements that take many rows at once through
 * unnest). Owns its buffer: pg_array_free(). */
typedef struct PgArray {
    Buffer data; /* header, then each element's length and bytes */
    int32_t count;
    bool has_null;
    Oid element; /* the element type: PG_OID_TEXT, ... */
} PgArray;

#define PG_OID_BOOL 16
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT4 23
#define PG_OID_TEXT 25

/* Starts an empty array of ELEMENT. Returns 0, or -1 out of memory. */
int pg_array_init(PgArray *array, Oid element);
/* Appends a text, bytea (LENGTH bytes) or NULL element (VALUE NULL); an int4,
 * an int8; a bool. Each returns 0, or -1 out of memory. */
int pg_array_add(PgArray *array, const void *value, size_t length);
int pg_array_add_int4(PgArray *array, int32_t value);
int pg_array_add_int8(PgArray *array, int64_t value);
int pg_array_add_bool(PgArray *array, bool value);
/* Finishes ARRAY and appends it to PARAMS (borrowed until the statement ran). */
void pg_param_array(PgParams *params, PgArray *array);
void pg_array_free(PgArray *array);

/* Runs statement SQL with PARAMS (prepared on this connection on first
 * use): the fault seam's point of entry, and where a lost connection is
 * noticed. Returns the result (the caller PQclear()s it), or NULL with
 * "WHAT: reason" in ERR. */
PGresult *pg_run(PgStore *store, PgSql sql, const PgParams *params, const char *what, char *err,
                 size_t errlen);

/* The same for a statement of the listings' slots (SLOT >= PG_SQL_COUNT)
 * whose TEXT the caller builds. */
PGresult *pg_run_slot(PgStore *store, int slot, const char *text, const PgParams *params,
                      const char *what, char *err, size_t errlen);

/* pg_run() for a statement run for its effect: 0, or -1 with ERR. */
int pg_run_done(PgStore *store, PgSql sql, const PgParams *params, const char *what, char *err,
                size_t errlen);

/* Runs SQL as a simple query (no parameters, no prepared statement): for
 * transaction control and migrations. Returns 0, or -1 with ERR. */
int pg_exec(PgStore *store, const char *sql, const char *what, char *err, size_t errlen);

/* Runs SQL (a simple query without parameters) returning one integer
 * (or boolean) into *OUT. Returns 0, or -1 with ERR. */
int pg_query_int64(PgStore *store, const char *sql, const char *what, int64_t *out, char *err,
                   size_t errlen);

/* Reading binary results. NULL columns read as 0, "" or NULL. */
bool pg_column_is_null(const PGresult *result, int row, int column);
int64_t pg_column_int64(const PGresult *result, int row, int column); /* int2, int4 or int8 */
bool pg_column_bool(const PGresult *result, int row, int column);
/* A heap copy of the column (text or bytea), NUL-terminated; NULL for SQL
 * NULL. Returns 0, or -1 if out of memory. */
int pg_column_text(const PGresult *result, int row, int column, char **out, size_t *length);
/* Copies the column into OUT (SIZE bytes), cut if longer. */
void pg_column_copy(const PGresult *result, int row, int column, char *out, size_t size);

/* Reads ROW of a result with PG_TASK_COLUMNS first into OUT (zeroed).
 * Returns 0, or -1 if out of memory (OUT is then cleared). */
int pg_task_read(const PGresult *result, int row, Task *out);

/* Reads every row with READ into a new array of ELEMENT_SIZE elements
 * (the caller owns *OUT); on failure nothing stays allocated (CLEAR frees
 * one element's contents). Frees RESULT either way. */
int pg_collect_rows(PGresult *result, size_t element_size,
                    int (*read)(const PGresult *result, int row, void *element),
                    void (*clear)(void *element), const char *what, void **out, size_t *count,
                    char *err, size_t errlen);

/* A new PgStore for LOCATION, not connected yet (its password read from
 * the location's password_file). Returns NULL with ERR set. */
PgStore *pg_store_new(const StoreLocation *location, StoreDurability durability, char *err,
                      size_t errlen);

/* The fault seam's hook, asked before each statement (and each COPY):
 * FAULT_DROP cuts the connection under libpq, so the real lost-connection
 * path runs; the other kinds fail the statement unsent. Returns 0 to go on,
 * -1 (ERR set) for an injected failure. */
int pg_fault_hook(PgStore *store, const char *what, char *err, size_t errlen);

/* After a failed statement or read: if the connection itself is gone,
 * forgets it (the next call outside a transaction reconnects). */
void pg_check_connection(PgStore *store);

/* After a failed statement (RESULT, or NULL): pg_check_connection, and
 * also forgets a connection whose server said it is not the primary any
 * more (SQLSTATE 25006, 57P01-57P03), so the next call finds the one that
 * is (pg_connect.c). */
void pg_note_failure(PgStore *store, const PGresult *result);

/* Connects if there is no connection and none was tried less than a
 * backoff ago (and not inside a transaction, which died with its
 * connection). Returns 0, or -1 with ERR. */
int pg_ensure_connected(PgStore *store, char *err, size_t errlen);

/* Closes the connection (no statement is cancelled) and forgets what was
 * prepared on it. */
void pg_drop_connection(PgStore *store);

/* Waits up to WAIT_MS (0: no limit) for the answer to the query sent on
 * STORE's connection: its last result (an error result if one came; the
 * caller PQclear()s it), or NULL with ERR if the connection failed (it is
 * then closed) or no answer came in time (*TIMED_OUT; the connection is
 * closed too, unless a COMMIT is out: kept with commit_unanswered). The
 * query is never cancelled. */
PGresult *pg_await(PgStore *store, int64_t wait_ms, const char *what, bool *timed_out,
                   char *err, size_t errlen);

/* A statement's answer is waited for statement_timeout and this long: the
 * server's own cancel comes first; past it the server is not answering. */
#define PG_ANSWER_MARGIN_MS 2000

/* Logs EVENT once per outage (until a connection succeeds again). */
void pg_note_outage(const char *event, const char *reason);

/* The first line of libpq's MESSAGE, without its "ERROR:  " or "FATAL:  ". */
void pg_message_line(const char *message, char *out, size_t size);

/* The channel of store_signal_* (pg_signal.c). */
#define PG_SIGNAL_CHANNEL "herald_due"

/* Connects if there is no connection (waiting up to WAIT_MS for the server
 * to answer, retrying with a backoff). Returns 0, or -1 with ERR. */
int pg_connect_now(PgStore *store, int64_t wait_ms, char *err, size_t errlen);

/* Brings the schema up to the COUNT MIGRATIONS under an advisory lock (but
 * for those held back while older heraldd run), or refuses a newer one; or
 * (MIGRATE false) checks it is current or short only by those held back
 * (pg_schema.c, which says how a migration runs and the rules for writing
 * one). */
int pg_check_schema(PgStore *store, const Migration *migrations, size_t count, bool migrate,
                    char *err, size_t errlen);

/* A migration's text (pg_migration.c). A file holding this line, alone,
 * runs outside any transaction, statement by statement. */
#define PG_MIGRATION_NO_TRANSACTION "-- herald: no-transaction"
bool pg_migration_outside_transaction(const Migration *migration);
/* A migration that takes away what heraldd of earlier releases still use
 * holds the line "-- herald: once-no-heraldd-before N": it waits (start-ups
 * leave it and every later one for a later start-up) while a heraldd that
 * knows fewer than N migrations has beaten in the last
 * PG_MIGRATION_OLDER_BEAT_MS (instances.schema_known, migration 009; older
 * heraldd do not write it, so it reads 0). Returns N, or 0 without the line. */
#define PG_MIGRATION_ONCE_NO_OLDER "-- herald: once-no-heraldd-before "
#define PG_MIGRATION_OLDER_BEAT_MS 60000
int pg_migration_needs_no_older(const Migration *migration);
/* The next statement from CURSOR: *START and *LENGTH (up to and with its
 * ";", leading blank and comment lines skipped); returns where the one after
 * starts, or NULL when there is none (*START NULL). */
const char *pg_migration_statement(const char *cursor, const char **start, size_t *length);
/* If the statement is CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS NAME,
 * true with NAME ([a-z0-9_]) copied. */
bool pg_migration_index_name(const char *statement, size_t length, char *name, size_t namelen);
/* 0 if MIGRATION keeps the rules for its kind; -1 with ERR naming the
 * statement otherwise. */
int pg_migration_check(const Migration *migration, char *err, size_t errlen);

/* The backend's entries (store.h says what each does). */
Store *pg_open(const StoreLocation *location, const StoreOptions *options, char *err,
               size_t errlen);
void pg_close(Store *base);
int pg_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen);
int pg_schema_version(Store *base);

/* The migration that brought the receivers' breakers (013, with 012's
 * receivers): while migration 011 is held back for older heraldd, 012 and
 * 013 are too, and the statements that read receivers have variants
 * without them (pg_schema.c: no code may depend on a migration that can be
 * held back). */
#define PG_SCHEMA_RECEIVERS 13
/* receiver_rates and receivers.held_until (migration 014), held back alike. */
#define PG_SCHEMA_RATES 14
/* redelivery_jobs (migration 015), held back alike. */
#define PG_SCHEMA_REDELIVERY 15
/* tasks.retry_base (migration 016), held back alike. */
#define PG_SCHEMA_RETRY_BASE 16
/* ordering_keys and the tasks' ordering columns (017), applied at once (an
 * earlier release ignores them), and their index (018), held back while a
 * heraldd of an earlier release beats: keys are accepted only from 018 on
 * (PG_SCHEMA_ORDERING), and every statement that reads or moves them runs
 * from 017 (PG_SCHEMA_ORDERING_COLUMNS), so a heraldd that has not yet seen
 * another's 018 (pg_schema_has rechecks once a second) still carries a
 * claimed task's place and moves its key. */
#define PG_SCHEMA_ORDERING_COLUMNS 17
#define PG_SCHEMA_ORDERING 18
/* tasks.traceparent and tracestate (019): applied at once, but held with 018
 * while that is, so every statement that writes or reads them has a variant
 * before it (*_UNTRACED). */
#define PG_SCHEMA_TRACE 19

/* Whether the schema has migration VERSION: as read at start, or again at
 * most every PG_SCHEMA_RECHECK_MS while it did not (another heraldd's
 * start-up applies a held migration once the older heraldd are gone). A
 * failed read answers false until the next. */
#define PG_SCHEMA_RECHECK_MS 1000
bool pg_schema_has(PgStore *store, int version);
int pg_tidy(Store *base, char *err, size_t errlen);
int pg_ping(Store *base, char *err, size_t errlen);
int pg_leader_acquire(Store *base, const char *holder, int64_t now, int64_t lease_ms,
                      int64_t *term, char *err, size_t errlen);
int pg_leader_release(Store *base, const StoreFence *fence, int64_t now, char *err,
                      size_t errlen);
int pg_leader_hold(Store *base, const StoreFence *fence, int64_t now, bool *held, char *err,
                   size_t errlen);
int pg_signal_send(Store *base, const char *sender, char *err, size_t errlen);
int pg_signal_listen(Store *base, char *err, size_t errlen);
int pg_signal_fd(Store *base);
int pg_signal_take(Store *base, const char *self, bool *signalled, char *err, size_t errlen);
int pg_instance_beat(Store *base, const StoreInstance *instance, int64_t forget_before, char *err,
                     size_t errlen);
int pg_instance_leave(Store *base, const char *id, char *err, size_t errlen);
int pg_instance_list(Store *base, int64_t now, StoreInstance **out, size_t *count, char *err,
                     size_t errlen);
int pg_begin(Store *base, char *err, size_t errlen);
int pg_commit(Store *base, char *err, size_t errlen);
void pg_rollback(Store *base);
int pg_savepoint(Store *base, char *err, size_t errlen);
int pg_savepoint_release(Store *base, char *err, size_t errlen);
int pg_savepoint_rollback(Store *base, char *err, size_t errlen);
StoreResult pg_task_create_many(Store *base, const TaskCreateItem *items, size_t count,
                                int64_t now, TaskCreation *out, char *err, size_t errlen);
StoreResult pg_task_create(Store *base, const TaskRequest *request, int max_retry,
                           const char *webhook_id, int64_t now, TaskCreation *out, char *err,
                           size_t errlen);
StoreResult pg_task_get(Store *base, int64_t id, Task *out, char *err, size_t errlen);
int pg_list(Store *base, const StoreListQuery *query, void **out, size_t *count, char *err,
            size_t errlen);
int pg_host_list_pending(Store *base, StoreHost **out, size_t *count, char *err, size_t errlen);
StoreResult pg_host_next_due(Store *base, const char *host, int64_t *out, char *err,
                             size_t errlen);
int pg_clock_read(Store *base, int64_t *server_ms, char *err, size_t errlen);
int pg_claim_due(Store *base, const char *host, int64_t now, int64_t lease_ms,
                 const char *claim_token, size_t limit, Task *out, size_t *count, char *err,
                 size_t errlen);
int pg_claim_count(Store *base, const char *claim_token, int64_t task_id, int64_t *count,
                   char *err, size_t errlen);
int pg_task_end(Store *base, StoreTaskEnd *ends, size_t count, int64_t now, char *err,
                size_t errlen);
int pg_attempt_insert(Store *base, const Attempt *const *attempts, size_t count, char *err,
                      size_t errlen);
int pg_manual_insert(Store *base, const int64_t *task_ids, const char *const *reasons,
                     size_t count, int64_t now, char *err, size_t errlen);
int pg_rescue_select(Store *base, int64_t now, bool all, StoreRescued **out, size_t *count,
                     char *err, size_t errlen);
int pg_attempt_list(Store *base, int64_t task_id, Attempt **out, size_t *count, char *err,
                    size_t errlen);
int pg_manual_open_id(Store *base, int64_t task_id, int64_t *entry_id, char *err,
                      size_t errlen);
StoreResult pg_manual_retry_task(Store *base, int64_t task_id, const ManualRepair *repair,
                                 int64_t now, char **host, char *err, size_t errlen);
int pg_manual_close(Store *base, int64_t entry_id, const char *resolution, const char *note,
                    int64_t now, char *err, size_t errlen);
int pg_action_insert(Store *base, int64_t task_id, const char *action, const char *actor,
                     const char *note, const char *details, int64_t now, char *err,
                     size_t errlen);
int pg_manual_open_matching(Store *base, const ManualMatchFilter *filter, ManualMatch **out,
                      size_t *count, char *err, size_t errlen);
int pg_action_list(Store *base, int64_t task_id, ManualAction **out, size_t *count, char *err,
                   size_t errlen);
int pg_alert_backlog(Store *base, int64_t since, AlertBacklog *out, char *err, size_t errlen);
StoreResult pg_alert_insert(Store *base, const StoreFence *fence, const StoreAlertRecord *record,
                            int64_t *id, char *err, size_t errlen);
StoreResult pg_alert_claim(Store *base, const StoreFence *fence, int64_t id, int64_t now,
                           int64_t claim_ms, char *err, size_t errlen);
int pg_alert_mark(Store *base, const StoreFence *fence, const StoredAlert *alert, char *err,
                  size_t errlen);
int pg_alert_firing(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen);
int pg_alert_unsent(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen);
int pg_alert_list(Store *base, int64_t before, int limit, StoredAlert **out, size_t *count,
                  char *err, size_t errlen);
int pg_alert_latest(Store *base, const char *kind, const char *instance, StoredAlert **out,
                    size_t *count, char *err, size_t errlen);
int pg_retention_boundary(Store *base, int64_t cutoff, int64_t *boundary, char *err,
                          size_t errlen);
int pg_retention_select(Store *base, StoreRetentionSet set, int64_t cutoff, int64_t boundary,
                        size_t limit, int64_t *ids, size_t *count, char *err, size_t errlen);
int pg_retention_delete_tasks(Store *base, const int64_t *ids, size_t count, int64_t *deleted,
                              char *err, size_t errlen);
int pg_retention_delete_alerts(Store *base, const int64_t *ids, size_t count, int64_t *deleted,
                               char *err, size_t errlen);
int pg_database_health(Store *base, StoreDatabaseHealth *out, char *err, size_t errlen);
int pg_count_active(Store *base, StoreActiveCounts *out, char *err, size_t errlen);
int pg_count_gauges(Store *base, int64_t tasks_by_status[4], int64_t *manual_open, char *err,
                    size_t errlen);
int pg_attempt_series(Store *base, int64_t since, int64_t bucket_ms, size_t count,
                       int64_t *delivered, int64_t *failed, char *err, size_t errlen);
int pg_receiver_load(Store *base, int64_t since, size_t limit, StoreReceiver **out,
                      size_t *count, char *err, size_t errlen);

/* Paused receivers (pg_receivers.c). */
int pg_claim_probe(Store *base, const char *host, int64_t now, int64_t lease_ms,
                   const char *claim_token, Task *out, size_t *count, char *err, size_t errlen);
int pg_breaker_read(Store *base, const char *receiver, bool lock, StoreBreaker *out,
                    bool *found, char *err, size_t errlen);
bool pg_breaker_ready(Store *base);
StoreResult pg_rate_take(Store *base, const char *receiver, const RateLimit *limit,
                         int64_t want, StoreRateTake *out, char *err, size_t errlen);
int pg_rate_give_back(Store *base, const char *receiver, const RateLimit *limit, int64_t count,
                      const StoreRateTake *take, char *err, size_t errlen);
int pg_rate_charge(Store *base, const char *receiver, const RateLimit *limit, int64_t count,
                   char *err, size_t errlen);
int pg_receiver_hold(Store *base, const char *receiver, int64_t hold_ms, int64_t now, char *err,
                     size_t errlen);
int pg_receiver_held(Store *base, const char *receiver, int64_t *held_ms, char *err,
                     size_t errlen);
int pg_breaker_ensure(Store *base, const char *receiver, int64_t now, char *err, size_t errlen);
int pg_breaker_write(Store *base, const char *receiver, const StoreBreakerWrite *write,
                     int64_t now, char *err, size_t errlen);
int pg_gate_list(Store *base, StoreGate **out, size_t *count, char *err, size_t errlen);
int pg_receiver_pause(Store *base, const char *receiver, const char *actor, const char *note,
                      int64_t now, bool *changed, char *err, size_t errlen);
int pg_receiver_resume(Store *base, const char *receiver, int64_t now, bool *changed, char *err,
                       size_t errlen);
int pg_receiver_action_insert(Store *base, const char *receiver, const char *action,
                              const char *actor, const char *note, int64_t now, char *err,
                              size_t errlen);
int pg_receiver_action_list(Store *base, const char *receiver, int64_t before, int limit,
                            StoreReceiverAction **out, size_t *count, char *err, size_t errlen);
int pg_older_instances(Store *base, int version, int64_t *count, char *err, size_t errlen);

int pg_redelivery_count(Store *base, const RedeliveryFilter *filter, int64_t after_id,
                        int64_t through_id, int64_t *count, char *err, size_t errlen);
int pg_task_newest_id(Store *base, int64_t *id, char *err, size_t errlen);
int pg_redelivery_insert(Store *base, RedeliveryJob *job, int64_t now, char *err, size_t errlen);
int pg_redelivery_running(Store *base, const RedeliveryFilter *filter, int64_t *id, char *err,
                          size_t errlen);
StoreResult pg_redelivery_get(Store *base, int64_t id, RedeliveryJob *out, char *err,
                              size_t errlen);
int pg_redelivery_list(Store *base, int64_t before, int limit, RedeliveryJob **out,
                       size_t *count, char *err, size_t errlen);
int pg_redelivery_cancel(Store *base, int64_t id, const char *actor, int64_t now, bool *changed,
                         char *err, size_t errlen);
StoreResult pg_redelivery_claim(Store *base, const char *token, int64_t lease_ms, int64_t now,
                                RedeliveryJob *out, char *err, size_t errlen);
StoreResult pg_redelivery_lock(Store *base, int64_t id, const char *token, int64_t *cursor_id,
                               char *err, size_t errlen);
int pg_redelivery_tasks(Store *base, const RedeliveryJob *job, int limit,
                        StoreRedeliveryTask **out, size_t *count, char *err, size_t errlen);
int pg_redelivery_lock_tasks(Store *base, const StoreRedeliveryTask *tasks, size_t count,
                             size_t *usable, char *err, size_t errlen);
StoreResult pg_redelivery_advance(Store *base, const RedeliveryJob *job, const char *token,
                                  const StoreRedeliveryAdvance *advance, int64_t now, char *err,
                                  size_t errlen);
bool pg_redelivery_ready(Store *base);
bool pg_traces_ready(Store *base);

#endif
