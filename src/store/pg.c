/*
 * store/pg: the PostgreSQL backend's connections: connecting and
 * reconnecting with a backoff, session settings, running statements
 * (prepared once per connection, binary results) with the fault seam's
 * hook, transactions, and the backend's table of
 * functions. See pg.h for the file family and what is PostgreSQL's own.
 */
#include "store/pg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* Reconnecting after a failure waits 100 ms, doubling up to this. */
#define PG_RECONNECT_FIRST_MS 100
#define PG_RECONNECT_MAX_MS 5000
/* A transaction left open by a bug or a hung thread gives its locks back. */
#define PG_IDLE_IN_TRANSACTION_MS 60000

/* Whether a connection was lost or could not be made since the last good
 * one, so that a restart of PostgreSQL logs one line when it goes and one
 * when it is back, not one per connection. */
static atomic_int pg_outage;

static void pg_note_outage(const char *event, const char *reason)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&pg_outage, &expected, 1)) {
        char quoted[320];
        log_warning("event=%s backend=postgresql error=%s", event,
                    log_quote(quoted, sizeof quoted, reason));
    }
}

static void pg_note_reachable(void)
{
    int expected = 1;
    if (atomic_compare_exchange_strong(&pg_outage, &expected, 0))
        log_info("event=database_reconnected backend=postgresql");
}

/* PostgreSQL's notices (NOTICE: relation exists, skipping) are not ours to
 * print on stderr. */
static void pg_ignore_notice(void *argument, const char *message)
{
    (void)argument;
    (void)message;
}

/* The first line of libpq's MESSAGE, without its "ERROR:  " or "FATAL:  ". */
static void pg_message_line(const char *message, char *out, size_t size)
{
    if (message == NULL || *message == '\0')
        message = "unknown error";
    if (strncmp(message, "ERROR:  ", 8) == 0 || strncmp(message, "FATAL:  ", 8) == 0)
        message += 8;
    size_t length = strcspn(message, "\n");
    snprintf(out, size, "%.*s", (int)length, message);
}

static void pg_drop_connection(PgStore *store)
{
    PQfinish(store->conn);
    store->conn = NULL;
    memset(store->prepared, 0, sizeof store->prepared);
}

/* Sets up a new session: durability, the timeouts, and a check that the
 * database stores text as UTF-8 (what every string herald keeps is). */
static int pg_setup_session(PgStore *store, char *err, size_t errlen)
{
    const char *encoding = PQparameterStatus(store->conn, "server_encoding");
    if (encoding == NULL || strcmp(encoding, "UTF8") != 0) {
        snprintf(err, errlen, "the database's encoding is %s; herald needs a UTF8 database "
                              "(CREATE DATABASE ... ENCODING 'UTF8')",
                 encoding ? encoding : "unknown");
        return -1;
    }
    if (PQserverVersion(store->conn) < 120000) {
        snprintf(err, errlen, "PostgreSQL %d.%d is too old; herald needs 12 or newer",
                 PQserverVersion(store->conn) / 10000, PQserverVersion(store->conn) % 10000);
        return -1;
    }
    /* The scheduler's session (the replayable one) reads a few rows at a time
     * through the partial indexes of pending and delivering tasks, which hold
     * an entry for every task that passed through since the last vacuum. A
     * plain index scan marks the dead ones as it meets them, so the next scan
     * skips them; a bitmap scan (which the planner picks for the few live
     * rows it expects) visits them all, every time: an outcome statement took
     * 5 ms for 50 rows after 8,000 deliveries. So that session does without. */
    char sql[384];
    snprintf(sql, sizeof sql,
             "SET synchronous_commit = %s; SET statement_timeout = %lld; SET lock_timeout = %lld;"
             " SET idle_in_transaction_session_timeout = %d; SET tcp_keepalives_idle = 10;"
             " SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3%s%s",
             store->durability == STORE_DURABILITY_FULL ? "on" : "off",
             (long long)store->location->statement_timeout_ms,
             (long long)store->location->busy_timeout_ms, PG_IDLE_IN_TRANSACTION_MS,
             store->durability == STORE_DURABILITY_FULL ? "" : "; SET enable_bitmapscan = off",
             store->listening ? "; LISTEN " PG_SIGNAL_CHANNEL : "");
    PGresult *result = PQexec(store->conn, sql);
    int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    if (!ok) {
        char line[256];
        pg_message_line(PQresultErrorMessage(result), line, sizeof line);
        snprintf(err, errlen, "session settings: %.200s", line);
    }
    PQclear(result);
    return ok ? 0 : -1;
}

/* One try at connecting. Returns 0, or -1 with ERR. */
static int pg_connect_once(PgStore *store, char *err, size_t errlen)
{
    /* Ours first: a setting in the URL overrides them (libpq takes the last);
     * the password file overrides a password in the URL. */
    const char *keywords[12], *values[12];
    int n = 0;
    keywords[n] = "connect_timeout", values[n++] = "5";
    keywords[n] = "application_name", values[n++] = store->application_name;
    keywords[n] = "keepalives_idle", values[n++] = "10";
    keywords[n] = "keepalives_interval", values[n++] = "5";
    keywords[n] = "keepalives_count", values[n++] = "3";
    keywords[n] = "dbname", values[n++] = store->location->url;
    keywords[n] = "client_encoding", values[n++] = "UTF8";
    if (store->password[0] != '\0')
        keywords[n] = "password", values[n++] = store->password;
    keywords[n] = NULL, values[n] = NULL;
    store->conn = PQconnectdbParams(keywords, values, 1);
    if (store->conn == NULL) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
        return -1;
    }
    if (PQstatus(store->conn) != CONNECTION_OK) {
        char line[256];
        pg_message_line(PQerrorMessage(store->conn), line, sizeof line);
        snprintf(err, errlen, "cannot connect to PostgreSQL: %.200s", line);
        pg_drop_connection(store);
        return -1;
    }
    PQsetNoticeProcessor(store->conn, pg_ignore_notice, NULL);
    if (pg_setup_session(store, err, errlen) != 0) {
        pg_drop_connection(store);
        return -1;
    }
    return 0;
}

/* A connection for the next statement: the one there is, or a new one
 * unless a transaction was under way (it died with its connection) or the
 * last try failed less than a backoff ago. */
static int pg_ensure_connected(PgStore *store, char *err, size_t errlen)
{
    if (store->conn != NULL)
        return 0;
    if (store->in_transaction) {
        snprintf(err, errlen, "the connection to PostgreSQL was lost during the transaction");
        return -1;
    }
    int64_t now = clock_monotonic_ms();
    if (now < store->next_connect_ms) {
        snprintf(err, errlen, "%s (next try in %lld ms)", store->connect_error,
                 (long long)(store->next_connect_ms - now));
        return -1;
    }
    if (pg_connect_once(store, store->connect_error, sizeof store->connect_error) != 0) {
        pg_note_outage("database_unreachable", store->connect_error);
        store->backoff_ms = store->backoff_ms == 0 ? PG_RECONNECT_FIRST_MS
                                                   : store->backoff_ms * 2;
        if (store->backoff_ms > PG_RECONNECT_MAX_MS)
            store->backoff_ms = PG_RECONNECT_MAX_MS;
        store->next_connect_ms = now + store->backoff_ms;
        snprintf(err, errlen, "%s", store->connect_error);
        return -1;
    }
    store->backoff_ms = 0;
    store->next_connect_ms = 0;
    store->connection++;
    pg_note_reachable();
    return 0;
}

int pg_connect_now(PgStore *store, int64_t wait_ms, char *err, size_t errlen)
{
    int64_t deadline = clock_monotonic_ms() + wait_ms;
    int64_t logged = 0;
    for (;;) {
        store->next_connect_ms = 0; /* this loop does its own waiting */
        if (pg_ensure_connected(store, err, errlen) == 0)
            return 0;
        int64_t now = clock_monotonic_ms();
        if (now + store->backoff_ms > deadline)
            return -1;
        if (now - logged >= 5000) { /* start-up waits: say so, not on every try */
            char quoted[600];
            log_warning("event=database_wait backend=postgresql error=%s",
                        log_quote(quoted, sizeof quoted, err));
            logged = now;
        }
        usleep((useconds_t)store->backoff_ms * 1000);
    }
}

void pg_check_connection(PgStore *store)
{
    if (store->conn != NULL && PQstatus(store->conn) == CONNECTION_BAD) {
        char line[256];
        pg_message_line(PQerrorMessage(store->conn), line, sizeof line);
        pg_note_outage("database_connection_lost", line);
        pg_drop_connection(store);
    }
}

/* Fills ERR from a failed RESULT (or the connection's message). */
static void pg_describe_failure(PgStore *store, const PGresult *result, const char *what,
                                char *err, size_t errlen)
{
    char line[300];
    const char *message = result ? PQresultErrorMessage(result) : NULL;
    if (message == NULL || *message == '\0')
        message = store->conn ? PQerrorMessage(store->conn) : "connection lost";
    pg_message_line(message, line, sizeof line);
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL)
        snprintf(err, errlen, "%s: %s (SQLSTATE %s)", what, line, state);
    else
        snprintf(err, errlen, "%s: %s", what, line);
}

int pg_fault_hook(PgStore *store, const char *what, char *err, size_t errlen)
{
    FaultKind kind = fault_next();
    switch (kind) {
    case FAULT_NONE: return 0;
    case FAULT_DROP:
        if (store->conn != NULL)
            shutdown(PQsocket(store->conn), SHUT_RDWR);
        return 0;
    case FAULT_LOST:
        store->lose_reply = true; /* pg_finish_statement, once it ran */
        return 0;
    case FAULT_FULL:
        snprintf(err, errlen, "%s: could not extend file: No space left on device (injected fault)",
                 what);
        return -1;
    case FAULT_IOERR:
        snprintf(err, errlen, "%s: could not write block: Input/output error (injected fault)",
                 what);
        return -1;
    case FAULT_BUSY:
        snprintf(err, errlen, "%s: canceling statement due to lock timeout (injected fault)",
                 what);
        return -1;
    }
    return 0;
}

static PGresult *pg_finish_statement(PgStore *store, PGresult *result, const char *what,
                                     char *err, size_t errlen)
{
    if (store->lose_reply) {
        /* The fault seam: the statement ran; its reply never arrives. */
        store->lose_reply = false;
        PQclear(result);
        snprintf(err, errlen, "%s: server closed the connection unexpectedly (injected fault: "
                              "the reply was lost)", what);
        pg_note_outage("database_connection_lost", "the reply was lost (injected fault)");
        pg_drop_connection(store);
        return NULL;
    }
    ExecStatusType status = PQresultStatus(result);
    if (result != NULL && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK))
        return result;
    pg_describe_failure(store, result, what, err, errlen);
    PQclear(result);
    pg_check_connection(store);
    return NULL;
}

static PGresult *pg_run_once(PgStore *store, int slot, const char *text, const PgParams *params,
                             const char *what, char *err, size_t errlen)
{
    if (pg_ensure_connected(store, err, errlen) != 0)
        return NULL;
    if (pg_fault_hook(store, what, err, errlen) != 0)
        return NULL;
    char name[16];
    snprintf(name, sizeof name, "h%d", slot);
    if (!store->prepared[slot]) {
        PGresult *prepared = PQprepare(store->conn, name, text, 0, NULL);
        prepared = pg_finish_statement(store, prepared, what, err, errlen);
        if (prepared == NULL)
            return NULL;
        PQclear(prepared);
        store->prepared[slot] = true;
    }
    PGresult *result =
        PQexecPrepared(store->conn, name, params ? params->count : 0,
                       params ? params->values : NULL, params ? params->lengths : NULL,
                       params ? params->formats : NULL, 1);
    return pg_finish_statement(store, result, what, err, errlen);
}

/* A connection that died while idle (PostgreSQL restarted, a pooler or an
 * operator closed it) is only found out by the next statement. Outside a
 * transaction that statement is run once more on a new connection: every
 * write herald makes is inside a transaction, so what runs twice is a read.
 * Inside one the failure stands: the transaction died with its session. */
static bool pg_retry_on_new_connection(const PgStore *store, bool had_connection)
{
    return had_connection && store->conn == NULL && !store->in_transaction;
}

PGresult *pg_run_slot(PgStore *store, int slot, const char *text, const PgParams *params,
                      const char *what, char *err, size_t errlen)
{
    bool had_connection = store->conn != NULL;
    PGresult *result = pg_run_once(store, slot, text, params, what, err, errlen);
    if (result == NULL && pg_retry_on_new_connection(store, had_connection))
        result = pg_run_once(store, slot, text, params, what, err, errlen);
    return result;
}

PGresult *pg_run(PgStore *store, PgSql sql, const PgParams *params, const char *what, char *err,
                 size_t errlen)
{
    return pg_run_slot(store, (int)sql, pg_sql_text[sql], params, what, err, errlen);
}

int pg_run_done(PgStore *store, PgSql sql, const PgParams *params, const char *what, char *err,
                size_t errlen)
{
    PGresult *result = pg_run(store, sql, params, what, err, errlen);
    PQclear(result);
    return result ? 0 : -1;
}

int pg_exec(PgStore *store, const char *sql, const char *what, char *err, size_t errlen)
{
    if (pg_ensure_connected(store, err, errlen) != 0 || pg_fault_hook(store, what, err, errlen) != 0)
        return -1;
    PGresult *result = pg_finish_statement(store, PQexec(store->conn, sql), what, err, errlen);
    if (result == NULL)
        return -1;
    PQclear(result);
    return 0;
}

int pg_query_int64(PgStore *store, const char *sql, const char *what, int64_t *out, char *err,
                   size_t errlen)
{
    if (pg_ensure_connected(store, err, errlen) != 0 || pg_fault_hook(store, what, err, errlen) != 0)
        return -1;
    PGresult *result = PQexecParams(store->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    result = pg_finish_statement(store, result, what, err, errlen);
    if (result == NULL)
        return -1;
    int rows = PQntuples(result);
    if (rows > 0)
        *out = pg_column_int64(result, 0, 0);
    PQclear(result);
    if (rows == 0) {
        snprintf(err, errlen, "%s: no row", what);
        return -1;
    }
    return 0;
}

/* ---- open, close, transactions ---- */

/* Reads the password file's first line into OUT. */
static int pg_read_password(const char *path, char *out, size_t size, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(err, errlen, "cannot read password_file %s: %m", path);
        return -1;
    }
    if (fgets(out, (int)size, file) == NULL)
        out[0] = '\0';
    fclose(file);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

PgStore *pg_store_new(const StoreLocation *location, StoreDurability durability, char *err,
                      size_t errlen)
{
    PgStore *store = calloc(1, sizeof *store);
    if (store == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    store->base.backend = &store_backend_postgresql;
    store->location = location;
    snprintf(store->application_name, sizeof store->application_name, "heraldd");
    store->durability = durability;
    if (location->password_file != NULL && location->password_file[0] != '\0' &&
        pg_read_password(location->password_file, store->password, sizeof store->password, err,
                         errlen) != 0) {
        free(store);
        return NULL;
    }
    return store;
}

Store *pg_open(const StoreLocation *location, const StoreOptions *options, char *err,
               size_t errlen)
{
    PgStore *store = pg_store_new(location, options->durability, err, errlen);
    if (store == NULL)
        return NULL;
    if (options->application_name != NULL)
        snprintf(store->application_name, sizeof store->application_name, "%s",
                 options->application_name);
    const Migration *migrations =
        options->migrations ? options->migrations : migrations_postgresql.list;
    size_t count = options->migrations ? options->migration_count : migrations_postgresql.count;
    char detail[512];
    if (pg_connect_now(store, options->wait_ms, detail, sizeof detail) != 0 ||
        pg_check_schema(store, migrations, count, options->migrate, detail, sizeof detail) != 0) {
        char name[512];
        snprintf(err, errlen, "database %s: %s", store_location_name(location, name, sizeof name),
                 detail);
        pg_close(&store->base);
        return NULL;
    }
    return &store->base;
}

void pg_close(Store *base)
{
    PgStore *store = pg_of(base);
    if (store == NULL)
        return;
    pg_drop_connection(store); /* an open transaction ends with its session */
    explicit_bzero(store->password, sizeof store->password);
    free(store);
}

int pg_schema_version(Store *base)
{
    return pg_of(base)->schema_version;
}

int pg_tidy(Store *base, char *err, size_t errlen)
{
    (void)base;
    (void)err;
    (void)errlen;
    return 0; /* the server keeps its own files */
}

int pg_ping(Store *base, char *err, size_t errlen)
{
    PGresult *result = pg_run(pg_of(base), PG_SQL_PING, NULL, "ping", err, errlen);
    PQclear(result);
    return result ? 0 : -1;
}

int pg_begin(Store *base, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    bool had_connection = store->conn != NULL;
    if (pg_exec(store, "BEGIN", "begin", err, errlen) != 0 &&
        (!pg_retry_on_new_connection(store, had_connection) ||
         pg_exec(store, "BEGIN", "begin", err, errlen) != 0))
        return -1;
    store->in_transaction = true;
    return 0;
}

int pg_commit(Store *base, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    if (pg_exec(store, "COMMIT", "commit", err, errlen) != 0) {
        /* Whether a COMMIT whose answer was lost took effect cannot be known;
         * the caller reports a failure, and intake's idempotency makes the
         * client's retry safe. */
        pg_rollback(base);
        return -1;
    }
    store->in_transaction = false;
    return 0;
}

void pg_rollback(Store *base)
{
    PgStore *store = pg_of(base);
    if (store->conn != NULL && PQtransactionStatus(store->conn) != PQTRANS_IDLE) {
        /* Never failed by the fault seam: it is how a failure is undone. */
        PGresult *result = PQexec(store->conn, "ROLLBACK");
        if (PQresultStatus(result) != PGRES_COMMAND_OK)
            pg_check_connection(store);
        PQclear(result);
    }
    store->in_transaction = false;
}

int pg_savepoint(Store *base, char *err, size_t errlen)
{
    return pg_exec(pg_of(base), "SAVEPOINT herald_item", "savepoint", err, errlen);
}

int pg_savepoint_release(Store *base, char *err, size_t errlen)
{
    return pg_exec(pg_of(base), "RELEASE herald_item", "release savepoint", err, errlen);
}

int pg_savepoint_rollback(Store *base, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    if (pg_exec(store, "ROLLBACK TO herald_item", "rollback to savepoint", err, errlen) != 0)
        return -1;
    return pg_exec(store, "RELEASE herald_item", "release savepoint", err, errlen);
}

const StoreBackend store_backend_postgresql = {
    .name = "postgresql",
    .shared = true,
    .open = pg_open,
    .close = pg_close,
    .inspect = pg_inspect,
    .schema_version = pg_schema_version,
    .tidy = pg_tidy,
    .ping = pg_ping,
    .leader_acquire = pg_leader_acquire,
    .leader_release = pg_leader_release,
    .leader_hold = pg_leader_hold,
    .signal_send = pg_signal_send,
    .signal_listen = pg_signal_listen,
    .signal_fd = pg_signal_fd,
    .signal_take = pg_signal_take,
    .instance_beat = pg_instance_beat,
    .instance_leave = pg_instance_leave,
    .instance_list = pg_instance_list,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .savepoint_release = pg_savepoint_release,
    .savepoint_rollback = pg_savepoint_rollback,
    .task_create = pg_task_create,
    .task_create_many = pg_task_create_many,
    .task_get = pg_task_get,
    .task_list = pg_task_list,
    .host_list_pending = pg_host_list_pending,
    .host_next_due = pg_host_next_due,
    .claim_due = pg_claim_due,
    .claim_count = pg_claim_count,
    .record_outcomes = pg_record_outcomes,
    .recover_interrupted = pg_recover_interrupted,
    .attempt_list = pg_attempt_list,
    .manual_list = pg_manual_list,
    .manual_retry = pg_manual_retry,
    .manual_resolve = pg_manual_resolve,
    .manual_open_matching = pg_manual_open_matching,
    .action_list = pg_action_list,
    .alert_backlog = pg_alert_backlog,
    .alert_insert = pg_alert_insert,
    .alert_mark = pg_alert_mark,
    .alert_unsent = pg_alert_unsent,
    .alert_list = pg_alert_list,
    .alert_latest = pg_alert_latest,
    .alert_claim = pg_alert_claim,
    .alert_firing = pg_alert_firing,
    .retention_boundary = pg_retention_boundary,
    .retention_select = pg_retention_select,
    .retention_delete_tasks = pg_retention_delete_tasks,
    .retention_delete_alerts = pg_retention_delete_alerts,
    .database_health = pg_database_health,
    .clock_read = pg_clock_read,
    .count_gauges = pg_count_gauges,
    .attempt_series = pg_attempt_series,
    .receiver_load = pg_receiver_load,
};
