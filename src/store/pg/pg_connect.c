/*
 * store/pg_connect: the PostgreSQL backend's sessions: connecting (to the
 * first host of the URL that accepts writes), setting a session up,
 * reconnecting with a backoff, and noticing that a server is gone or is
 * no longer the primary. See pg.h for the file family.
 *
 * Failover. The URL may list several hosts (a primary and its standbys);
 * libpq tries them in order, and target_session_attrs=read-write (the
 * default here, the URL may say otherwise) makes it skip a standby and a
 * read-only server. A session that learns its server is not the primary
 * any more (pg_note_failure: the connection lost, SQLSTATE 25006, 57P01-03)
 * drops its connection; the next statement reconnects, which lands on
 * whichever host is the primary then. What the session had set up is
 * set up again on the new one (pg_setup_session: the timeouts and LISTEN)
 * before any statement runs there. Each session names its server in the
 * log and in /metrics, and the process counts the times its sessions moved
 * to another server (a failover, as far as heraldd can see one).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"

/* Reconnecting after a failure waits 100 ms, doubling up to this. */
#define PG_RECONNECT_FIRST_MS 100
#define PG_RECONNECT_MAX_MS 5000
/* A new session's set-up is waited for this long (libpq's connect_timeout
 * bounds the connection itself). */
#define PG_SETUP_WAIT_MS 5000
/* A transaction left open by a bug or a hung thread gives its locks back. */
#define PG_IDLE_IN_TRANSACTION_MS 60000
/* How long sent data may stay unacknowledged, and how soon an idle
 * connection is probed (10 s, then every 5 s, 3 probes): a primary cut off
 * by the network is noticed in seconds, not after TCP's 15 minutes of
 * retransmissions. Set on both ends: libpq's for heraldd's side, the
 * session's for the server's (which then ends a dead client's session and
 * gives its locks back). Unix sockets ignore them. */
#define PG_TCP_USER_TIMEOUT "10000"
#define PG_KEEPALIVES_IDLE "10"
#define PG_KEEPALIVES_INTERVAL "5"
#define PG_KEEPALIVES_COUNT "3"

/* Whether a connection was lost or could not be made since the last good
 * one, so that a restart of PostgreSQL logs one line when it goes and one
 * when it is back, not one per connection. */
static atomic_int pg_outage;

/* The server the process's sessions last connected to ("host:port"), and
 * how often that changed: guarded by pg_server_lock. */
static pthread_mutex_t pg_server_lock = PTHREAD_MUTEX_INITIALIZER;
static char pg_server_current[PG_SERVER_NAME_MAX];

/* Counts the times a session of the process learnt that its server is not
 * the primary any more: the other sessions, which may have been on the
 * same server, reconnect before their next transaction rather than each
 * failing one first. */
static atomic_ullong pg_not_primary_epoch;

/* Counts the connections the process's sessions made. A session waiting
 * out its backoff tries again at its next use once a sibling connected
 * after its own failure: the server is back, and the thread that drives
 * deliveries should not wait up to PG_RECONNECT_MAX_MS longer than the one
 * that answers /healthz. The backoff still spaces a process's attempts
 * while the server is down. */
static atomic_ullong pg_connected_count;

void pg_note_outage(const char *event, const char *reason)
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

/* A new session is on SERVER: logged and shown in /metrics; if the
 * process's sessions were on another server before, that is a failover. */
static void pg_note_server(PgStore *store)
{
    const char *host = PQhost(store->conn), *port = PQport(store->conn);
    snprintf(store->server, sizeof store->server, "%s:%s", host ? host : "?", port ? port : "?");
    char quoted[PG_SERVER_NAME_MAX + 16], from[PG_SERVER_NAME_MAX];
    /* Every new session at info, after the first of each: a start-up would
     * say it once per session otherwise (the first is in /metrics). */
    log_write(store->connection > 1 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
              "event=database_session session=%s server=%s connection=%llu",
              store->application_name, log_quote(quoted, sizeof quoted, store->server),
              (unsigned long long)store->connection);
    metrics_set_database_session(store->application_name, store->server);
    bool moved = false;
    if (pthread_mutex_lock(&pg_server_lock) != 0)
        return;
    if (pg_server_current[0] != '\0' && strcmp(pg_server_current, store->server) != 0) {
        moved = true;
        snprintf(from, sizeof from, "%s", pg_server_current);
    }
    snprintf(pg_server_current, sizeof pg_server_current, "%s", store->server);
    pthread_mutex_unlock(&pg_server_lock);
    if (moved) {
        uint64_t failovers = metrics_count_database_failover();
        char quoted_from[PG_SERVER_NAME_MAX + 16];
        log_warning("event=database_failover from=%s to=%s failovers=%llu",
                    log_quote(quoted_from, sizeof quoted_from, from), quoted,
                    (unsigned long long)failovers);
    }
}

/* PostgreSQL's notices: a NOTICE (relation exists, skipping) is not ours to
 * print; a WARNING during a COMMIT is kept for pg_commit (the one that
 * matters: "canceling wait for synchronous replication", a commit the
 * standby may not have). */
static void pg_receive_notice(void *argument, const PGresult *result)
{
    PgStore *store = argument;
    const char *severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!store->committing || severity == NULL || strcmp(severity, "WARNING") != 0 ||
        store->commit_warning[0] != '\0')
        return;
    const char *message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(store->commit_warning, sizeof store->commit_warning, "%s",
             message ? message : "a warning");
}

void pg_message_line(const char *message, char *out, size_t size)
{
    if (message == NULL || *message == '\0')
        message = "unknown error";
    if (strncmp(message, "ERROR:  ", 8) == 0 || strncmp(message, "FATAL:  ", 8) == 0)
        message += 8;
    size_t length = strcspn(message, "\n");
    snprintf(out, size, "%.*s", (int)length, message);
}

void pg_drop_connection(PgStore *store)
{
    PQfinish(store->conn);
    store->conn = NULL;
    store->commit_unanswered = false;
    memset(store->prepared, 0, sizeof store->prepared);
}

/* Runs SQL on a new session, waiting PG_SETUP_WAIT_MS at most (a server
 * that accepted the connection may still not answer). Returns the result
 * (the caller PQclear()s it), or NULL with ERR (the connection then
 * closed). */
static PGresult *pg_setup_query(PgStore *store, const char *sql, char *err, size_t errlen)
{
    if (PQsendQuery(store->conn, sql) == 0) {
        pg_message_line(PQerrorMessage(store->conn), err, errlen);
        return NULL;
    }
    bool timed_out;
    return pg_await(store, PG_SETUP_WAIT_MS, "session set-up", &timed_out, err, errlen);
}

/* Whether the server cannot take writes: a standby or
 * default_transaction_read_only. libpq's target_session_attrs=read-write
 * checks the same, but the URL may have asked for any server. PostgreSQL 14
 * and newer report both on connecting (in_hot_standby); older ones are
 * asked (a failed question counts as read-only). */
static bool pg_server_is_read_only(PgStore *store)
{
    PGconn *conn = store->conn;
    if (PQserverVersion(conn) < 140000) {
        char err[256];
        PGresult *result = pg_setup_query(store, "SELECT pg_is_in_recovery() OR"
                                                 " current_setting('transaction_read_only')"
                                                 "::boolean", err, sizeof err);
        bool read_only = PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1 ||
                         strcmp(PQgetvalue(result, 0, 0), "f") != 0;
        PQclear(result);
        return read_only;
    }
    const char *standby = PQparameterStatus(conn, "in_hot_standby");
    const char *read_only = PQparameterStatus(conn, "default_transaction_read_only");
    return (standby != NULL && strcmp(standby, "on") == 0) ||
           (read_only != NULL && strcmp(read_only, "on") == 0);
}

/* Sets up a new session: durability, the timeouts, LISTEN if the store
 * listens, and a check that the server takes writes and stores text as
 * UTF-8 (what every string herald keeps is). */
static int pg_setup_session(PgStore *store, char *err, size_t errlen)
{
    if (pg_server_is_read_only(store)) {
        if (store->conn == NULL)
            snprintf(err, errlen, "the server did not answer the session's set-up");
        else
            snprintf(err, errlen, "the server at %s:%s is read-only (a standby, or "
                                  "default_transaction_read_only); herald needs the primary",
                     PQhost(store->conn), PQport(store->conn));
        return -1;
    }
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
     * by key: through the queue's index of due work, which holds an entry
     * for every task that passed through since the last vacuum, and tasks by
     * id. A plain index scan marks the dead entries as it meets them, so the
     * next scan skips them; a bitmap scan (which the planner picks for the few
     * live rows it expects) visits them all, every time: an outcome statement
     * took 5 ms for 50 rows after 8,000 deliveries. A sequential scan is
     * never right here either, but the planner picks one whenever its
     * statistics are of a smaller table than there is (a new database, before
     * autovacuum's first ANALYZE): an outcome statement read 10,000 tasks to
     * end 30 of them. So that session does without both. No session compiles
     * plans (jit): herald's statements are short, and a plan made costly by
     * enable_seqscan = off would be compiled every time. herald.queue says
     * this session writes task_queue itself (migrations/postgresql/009). */
    /* A commit that must be durable waits for the WAL on disk (on), and
     * with synchronous_standby_names set, for the standby to have it too;
     * remote_apply, when the server or the role asks for it, is kept (it
     * promises more). The scheduler's writes do not wait (off). */
    char sql[768];
    snprintf(sql, sizeof sql,
             "%s; SET statement_timeout = %lld; SET lock_timeout = %lld;"
             " SET idle_in_transaction_session_timeout = %d;"
             " SET tcp_keepalives_idle = " PG_KEEPALIVES_IDLE ";"
             " SET tcp_keepalives_interval = " PG_KEEPALIVES_INTERVAL ";"
             " SET tcp_keepalives_count = " PG_KEEPALIVES_COUNT ";"
             " SET tcp_user_timeout = " PG_TCP_USER_TIMEOUT ";"
             " SET herald.queue = 'on'; SET jit = off%s%s",
             store->durability == STORE_DURABILITY_FULL
                 ? "SELECT set_config('synchronous_commit', CASE current_setting("
                   "'synchronous_commit') WHEN 'remote_apply' THEN 'remote_apply' ELSE 'on' END,"
                   " false)"
                 : "SET synchronous_commit = off",
             (long long)store->location->statement_timeout_ms,
             (long long)store->location->busy_timeout_ms, PG_IDLE_IN_TRANSACTION_MS,
             store->durability == STORE_DURABILITY_FULL
                 ? ""
                 : "; SET enable_bitmapscan = off; SET enable_seqscan = off",
             store->listening ? "; LISTEN " PG_SIGNAL_CHANNEL : "");
    char line[256];
    PGresult *result = pg_setup_query(store, sql, line, sizeof line);
    int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    if (!ok) {
        if (result != NULL)
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
    const char *keywords[16], *values[16];
    int n = 0;
    keywords[n] = "connect_timeout", values[n++] = "5";
    keywords[n] = "application_name", values[n++] = store->application_name;
    keywords[n] = "tcp_user_timeout", values[n++] = PG_TCP_USER_TIMEOUT;
    keywords[n] = "keepalives_idle", values[n++] = PG_KEEPALIVES_IDLE;
    keywords[n] = "keepalives_interval", values[n++] = PG_KEEPALIVES_INTERVAL;
    keywords[n] = "keepalives_count", values[n++] = PG_KEEPALIVES_COUNT;
    keywords[n] = "dbname", values[n++] = store->location->url;
    /* After the URL, so it wins: herald writes, and a URL asking for any
     * server would stop libpq at a standby listed first (refused below),
     * never reaching the primary after it. */
    keywords[n] = "target_session_attrs", values[n++] = "read-write";
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
    PQsetNoticeReceiver(store->conn, pg_receive_notice, store);
    if (pg_setup_session(store, err, errlen) != 0) {
        pg_drop_connection(store);
        return -1;
    }
    return 0;
}

/* A COMMIT pg.c stopped waiting for is still its connection's: its answer
 * is read here once it came. Until then the session refuses new work (0
 * when the connection can be used or was lost, -1 with ERR while the answer
 * is awaited). */
static int pg_settle_commit(PgStore *store, char *err, size_t errlen)
{
    if (PQconsumeInput(store->conn) == 0) {
        store->commit_unanswered = false;
        pg_note_outage("database_connection_lost", "while a COMMIT had no answer");
        pg_drop_connection(store);
        return 0;
    }
    if (PQisBusy(store->conn)) {
        snprintf(err, errlen, "the last COMMIT on this session has no answer yet (waiting for a "
                              "synchronous standby?); not known whether it took effect");
        return -1;
    }
    PGresult *result;
    while ((result = PQgetResult(store->conn)) != NULL)
        PQclear(result);
    store->commit_unanswered = false;
    log_info("event=database_commit_answered session=%s server=%s", store->application_name,
             store->server);
    return 0;
}

/* Whether the process's sessions have moved to another server than
 * STORE's (a failover seen by another session). */
static bool pg_server_moved(const PgStore *store)
{
    if (pthread_mutex_lock(&pg_server_lock) != 0)
        return false;
    bool moved = pg_server_current[0] != '\0' && strcmp(pg_server_current, store->server) != 0;
    pthread_mutex_unlock(&pg_server_lock);
    return moved;
}

int pg_ensure_connected(PgStore *store, char *err, size_t errlen)
{
    /* A COMMIT without an answer yet keeps its connection (one server
     * process waiting per session, not one per request) until the answer
     * comes, or until the process has moved to another server: a primary
     * that stopped answering was replaced. */
    if (store->conn != NULL && store->commit_unanswered) {
        if (pg_server_moved(store))
            pg_drop_connection(store);
        else if (pg_settle_commit(store, err, errlen) != 0)
            return -1;
    }
    if (store->conn != NULL) {
        if (store->in_transaction || store->epoch == atomic_load(&pg_not_primary_epoch))
            return 0;
        pg_drop_connection(store); /* another session found this server demoted */
    }
    if (store->in_transaction) {
        snprintf(err, errlen, "the connection to PostgreSQL was lost during the transaction");
        return -1;
    }
    int64_t now = clock_monotonic_ms();
    if (now < store->next_connect_ms &&
        store->connected_seen == atomic_load(&pg_connected_count)) {
        snprintf(err, errlen, "%s (next try in %lld ms)", store->connect_error,
                 (long long)(store->next_connect_ms - now));
        return -1;
    }
    store->epoch = atomic_load(&pg_not_primary_epoch);
    store->connected_seen = atomic_load(&pg_connected_count);
    if (pg_connect_once(store, store->connect_error, sizeof store->connect_error) != 0) {
        if (store->lost_reason[0] != '\0')
            pg_note_outage("database_connection_lost", store->lost_reason);
        store->lost_reason[0] = '\0';
        pg_note_outage("database_unreachable", store->connect_error);
        store->backoff_ms = store->backoff_ms == 0 ? PG_RECONNECT_FIRST_MS
                                                   : store->backoff_ms * 2;
        if (store->backoff_ms > PG_RECONNECT_MAX_MS)
            store->backoff_ms = PG_RECONNECT_MAX_MS;
        store->next_connect_ms = now + store->backoff_ms;
        snprintf(err, errlen, "%s", store->connect_error);
        return -1;
    }
    if (store->lost_reason[0] != '\0') {
        char quoted[320];
        log_debug("event=database_session_renewed session=%s reason=%s",
                  store->application_name,
                  log_quote(quoted, sizeof quoted, store->lost_reason));
        store->lost_reason[0] = '\0';
    }
    store->backoff_ms = 0;
    store->next_connect_ms = 0;
    store->connection++;
    atomic_fetch_add(&pg_connected_count, 1);
    pg_note_reachable();
    pg_note_server(store);
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

/* A connection lost: said at once if a transaction died with it; else
 * kept for the reconnection that follows, which says it only if the server
 * cannot be reached. A session idle since PostgreSQL restarted finds its
 * connection dead when next used, minutes later, and replaces it at once:
 * nothing failed, nothing for an operator to do. */
static void pg_note_lost(PgStore *store, const char *reason)
{
    if (store->in_transaction)
        pg_note_outage("database_connection_lost", reason);
    else
        snprintf(store->lost_reason, sizeof store->lost_reason, "%.300s", reason);
}

void pg_check_connection(PgStore *store)
{
    if (store->conn != NULL && PQstatus(store->conn) == CONNECTION_BAD) {
        char line[256];
        pg_message_line(PQerrorMessage(store->conn), line, sizeof line);
        pg_note_lost(store, line);
        pg_drop_connection(store);
    }
}

/* Whether SQLSTATE says this server will not take the session's writes any
 * more: read_only_sql_transaction (a demoted primary, or
 * default_transaction_read_only turned on), admin_shutdown, crash_shutdown,
 * cannot_connect_now (the server is stopping, starting or in recovery). */
static bool pg_state_means_not_primary(const char *state)
{
    static const char *const states[] = {"25006", "57P01", "57P02", "57P03"};
    for (size_t i = 0; state != NULL && i < sizeof states / sizeof *states; i++) {
        if (strcmp(state, states[i]) == 0)
            return true;
    }
    return false;
}

void pg_note_failure(PgStore *store, const PGresult *result)
{
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    if (store->conn != NULL && pg_state_means_not_primary(state)) {
        char line[256], reason[512];
        pg_message_line(PQresultErrorMessage(result), line, sizeof line);
        snprintf(reason, sizeof reason, "%.250s (SQLSTATE %s) on %s", line, state, store->server);
        /* 25006: the server takes no writes now; 57P0x: it stops, or restarts. */
        if (strcmp(state, "25006") == 0)
            pg_note_outage("database_not_primary", reason);
        else
            pg_note_lost(store, reason);
        pg_drop_connection(store);
        atomic_fetch_add(&pg_not_primary_epoch, 1);
        return;
    }
    pg_check_connection(store);
}

PGresult *pg_await(PgStore *store, int64_t wait_ms, const char *what, bool *timed_out,
                   char *err, size_t errlen)
{
    *timed_out = false;
    int64_t deadline = wait_ms > 0 ? clock_monotonic_ms() + wait_ms : 0;
    PGresult *last = NULL;
    for (;;) {
        while (PQisBusy(store->conn)) {
            int64_t left = deadline == 0 ? 1000 : deadline - clock_monotonic_ms();
            if (left <= 0) {
                PQclear(last);
                *timed_out = true;
                snprintf(err, errlen, "%s: no answer from the server within %lld ms; whether it "
                                      "took effect is not known", what, (long long)wait_ms);
                if (store->committing) {
                    /* Kept, with its answer to come: see pg_run_commit. */
                    pg_note_outage("database_commit_unanswered", err);
                    store->commit_unanswered = true;
                } else {
                    /* A server that does not answer (stopped, its storage hung):
                     * the transaction dies with the connection. */
                    pg_note_outage("database_unanswered", err);
                    pg_drop_connection(store);
                }
                return NULL;
            }
            struct pollfd socket = {.fd = PQsocket(store->conn), .events = POLLIN};
            if (poll(&socket, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR) {
                PQclear(last);
                snprintf(err, errlen, "%s: poll: %s", what, strerror(errno));
                pg_drop_connection(store);
                return NULL;
            }
            if (PQconsumeInput(store->conn) == 0)
                break; /* the connection failed: PQgetResult says how */
        }
        PGresult *result = PQgetResult(store->conn);
        if (result == NULL)
            return last;
        ExecStatusType status = PQresultStatus(result);
        if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(result); /* the first error is the one to report */
        } else {
            PQclear(last);
            last = result;
        }
        if (status == PGRES_FATAL_ERROR && PQstatus(store->conn) == CONNECTION_BAD)
            return last;
    }
}
