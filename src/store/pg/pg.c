/*
 * store/pg: the PostgreSQL backend's helpers every file of it uses: running
 * statements (sent asynchronously, prepared once per connection, binary
 * results) with the fault seam's hook, reconnecting before a transaction,
 * transactions and savepoints, closing. Opening is pg_open.c, the session
 * pg_connect.c, the table of functions pg_backend.c. See pg.h for the file
 * family and what is PostgreSQL's own.
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

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
    pg_note_failure(store, result);
    PQclear(result);
    return NULL;
}

/* How long to wait for a statement's answer: the server's statement_timeout
 * and a margin, so the server's own cancel comes first; past it the server
 * is not answering at all. 0: no limit (a migration's session, whose
 * statement_timeout is off: an index build takes what it takes). */
static int64_t pg_statement_wait_ms(const PgStore *store)
{
    if (store->migrating)
        return 0;
    int64_t limit = store->location->statement_timeout_ms;
    return limit > 0 ? limit + PG_ANSWER_MARGIN_MS : 0;
}

/* The answer to the statement just sent (SENT: what PQsend* returned),
 * waited for WAIT_MS at most: the result, or NULL with ERR. */
static PGresult *pg_answer(PgStore *store, int sent, int64_t wait_ms, const char *what, char *err,
                           size_t errlen)
{
    if (sent == 0) {
        store->lose_reply = false; /* the fault seam's: nothing ran */
        pg_describe_failure(store, NULL, what, err, errlen);
        pg_check_connection(store);
        return NULL;
    }
    bool timed_out;
    PGresult *result = pg_await(store, wait_ms, what, &timed_out, err, errlen);
    if (timed_out) {
        store->lose_reply = false; /* no reply came to lose */
        return NULL;
    }
    return pg_finish_statement(store, result, what, err, errlen);
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
    int64_t wait_ms = pg_statement_wait_ms(store);
    if (!store->prepared[slot]) {
        bool lose_reply = store->lose_reply; /* the fault seam's: for the statement itself */
        store->lose_reply = false;
        PGresult *prepared = pg_answer(store, PQsendPrepare(store->conn, name, text, 0, NULL),
                                       wait_ms, what, err, errlen);
        if (prepared == NULL)
            return NULL;
        PQclear(prepared);
        store->prepared[slot] = true;
        store->lose_reply = lose_reply;
    }
    int sent = PQsendQueryPrepared(store->conn, name, params ? params->count : 0,
                                   params ? params->values : NULL,
                                   params ? params->lengths : NULL,
                                   params ? params->formats : NULL, 1);
    return pg_answer(store, sent, wait_ms, what, err, errlen);
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
    PGresult *result = pg_answer(store, PQsendQuery(store->conn, sql),
                                 pg_statement_wait_ms(store), what, err, errlen);
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
    PGresult *result =
        pg_answer(store, PQsendQueryParams(store->conn, sql, 0, NULL, NULL, NULL, NULL, 1),
                  pg_statement_wait_ms(store), what, err, errlen);
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
    if (pg_exec(store, "BEGIN", "begin", err, errlen) != 0) {
        if (!pg_retry_on_new_connection(store, had_connection) ||
            pg_exec(store, "BEGIN", "begin", err, errlen) != 0)
            return -1;
        if (errlen > 0)
            err[0] = '\0'; /* the retry worked: the first failure is not the caller's */
    }
    store->in_transaction = true;
    return 0;
}

/* A COMMIT waiting for a synchronous standby is not bounded by
 * statement_timeout (the server turns it off before it commits), and must
 * not be cancelled: PostgreSQL answers a cancelled wait with success (and
 * a WARNING), the transaction committed on the primary only. So heraldd
 * waits for the answer as long as statement_timeout and then gives up
 * waiting (the server still commits when the standby answers): the caller
 * learns the outcome is not known, instead of hanging. The session keeps
 * that connection and takes no new work until the answer came: another
 * connection's COMMIT would wait the same, and leave one more server
 * process waiting each time. */
static int pg_run_commit(PgStore *store, char *err, size_t errlen)
{
    if (pg_ensure_connected(store, err, errlen) != 0 ||
        pg_fault_hook(store, "commit", err, errlen) != 0)
        return -1;
    store->commit_warning[0] = '\0';
    store->committing = true;
    PGresult *result = pg_answer(store, PQsendQuery(store->conn, "COMMIT"),
                                 store->location->statement_timeout_ms, "commit", err, errlen);
    store->committing = false;
    PQclear(result);
    return result ? 0 : -1;
}

int pg_commit(Store *base, char *err, size_t errlen)
{
    PgStore *store = pg_of(base);
    if (pg_run_commit(store, err, errlen) != 0) {
        /* Whether a COMMIT whose answer was lost took effect cannot be known;
         * the caller reports a failure, and intake's idempotency makes the
         * client's retry safe. */
        pg_rollback(base);
        return -1;
    }
    store->in_transaction = false;
    if (store->commit_warning[0] != '\0') {
        /* Committed here, but not confirmed where synchronous_commit asked
         * (the wait for the standby was cancelled): a failover now would
         * lose it. The caller treats it as a commit whose outcome is not
         * known: intake answers 503, the scheduler reads back. */
        char quoted[320];
        log_warning("event=commit_not_replicated session=%s server=%s warning=%s",
                    store->application_name, store->server,
                    log_quote(quoted, sizeof quoted, store->commit_warning));
        snprintf(err, errlen, "commit: the server committed but warned \"%s\": the transaction "
                              "may not be on the synchronous standby",
                 store->commit_warning);
        return -1;
    }
    return 0;
}

void pg_rollback(Store *base)
{
    PgStore *store = pg_of(base);
    if (store->conn != NULL && !store->commit_unanswered &&
        PQtransactionStatus(store->conn) != PQTRANS_IDLE) {
        /* Never failed by the fault seam: it is how a failure is undone. */
        bool timed_out = false;
        char err[256];
        PGresult *result = PQsendQuery(store->conn, "ROLLBACK")
                               ? pg_await(store, pg_statement_wait_ms(store), "rollback",
                                          &timed_out, err, sizeof err)
                               : NULL;
        if (!timed_out && PQresultStatus(result) != PGRES_COMMAND_OK)
            pg_note_failure(store, result);
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
