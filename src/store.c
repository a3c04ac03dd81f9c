/*
 * store: opening the database, pragmas, transactions and the statement
 * cache, with the text of every cached statement. The schema (migrations,
 * inspection) is store_schema.c's; the queries live by subject in
 * store_tasks.c, store_delivery.c, store_manual.c and store_alerts.c; the
 * HTTP threads' read connections in store_pool.c. All share
 * store_internal.h.
 */
#include "store_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault.h"

/* Held from store_begin() to commit/rollback by whichever connection writes. */
static pthread_mutex_t store_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* An alert row as store_alert_read_row() reads it. */
#define STORE_ALERT_COLUMNS                                                                    \
    "id, kind, state, count, details, created_at, sent_at, send_error, webhook_sent_at,"       \
    " command_sent_at"

static const char *const store_sql_text[STORE_SQL_COUNT] = {
    [STORE_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_SQL_COMMIT] = "COMMIT",
    [STORE_SQL_ROLLBACK] = "ROLLBACK",
    [STORE_SQL_SAVEPOINT] = "SAVEPOINT herald_item",
    [STORE_SQL_RELEASE] = "RELEASE herald_item",
    [STORE_SQL_ROLLBACK_TO] = "ROLLBACK TO herald_item",
    [STORE_SQL_PING] = "SELECT count(*) FROM sqlite_schema",
    [STORE_SQL_TASK_INSERT] =
        "INSERT INTO tasks (webhook_id, business_id, business_type, target_url, payload,"
        " payload_is_json, headers, idempotency_key, request_hash, status, attempts, max_retry,"
        " next_attempt_at, created_at, updated_at, target_host)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)",
    [STORE_SQL_TASK_GET] = "SELECT " STORE_TASK_COLUMNS " FROM tasks WHERE id = ?",
    [STORE_SQL_TASK_BY_KEY] =
        "SELECT " STORE_TASK_COLUMNS ", request_hash FROM tasks WHERE idempotency_key = ?",
    [STORE_SQL_TASK_BY_BUSINESS] =
        "SELECT " STORE_TASK_COLUMNS " FROM tasks"
        " WHERE business_id = ? AND business_type = ? AND target_url = ? ORDER BY id LIMIT 1",
    /* The first host after :after with pending work, and its earliest due time:
     * one index seek, so listing hosts costs O(hosts), not O(tasks). */
    [STORE_SQL_HOSTS_PENDING] = "SELECT target_host, next_attempt_at FROM tasks"
                                " INDEXED BY tasks_host_due"
                                " WHERE status = 'pending' AND target_host > :after"
                                " ORDER BY target_host, next_attempt_at LIMIT 1",
    [STORE_SQL_HOST_NEXT_DUE] = "SELECT next_attempt_at FROM tasks"
                                " WHERE status = 'pending' AND target_host = ?"
                                " ORDER BY next_attempt_at LIMIT 1",
    [STORE_SQL_CLAIM] =
        "UPDATE tasks SET status = 'delivering', attempts = attempts + 1,"
        " next_attempt_at = :lease, updated_at = :now"
        " WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' AND target_host = :host"
        " AND next_attempt_at <= :now ORDER BY next_attempt_at LIMIT :limit)"
        " RETURNING " STORE_TASK_COLUMNS,
    [STORE_SQL_ATTEMPT_INSERT] =
        "INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,"
        " error_class, error_message, response_body, response_truncated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STORE_SQL_TASK_SUCCEEDED] =
        "UPDATE tasks SET status = 'succeeded', updated_at = :now, last_status_code = :code,"
        " last_error = NULL WHERE id = :id AND status = 'delivering'",
    [STORE_SQL_TASK_RETRY] =
        "UPDATE tasks SET status = 'pending', next_attempt_at = :next, updated_at = :now,"
        " last_status_code = :code, last_error = :error WHERE id = :id AND status = 'delivering'",
    [STORE_SQL_TASK_FAILED] =
        "UPDATE tasks SET status = 'failed', updated_at = :now, last_status_code = :code,"
        " last_error = :error WHERE id = :id AND status = 'delivering'",
    [STORE_SQL_MANUAL_INSERT] =
        "INSERT INTO manual (task_id, reason, attempts, last_status_code, last_error, moved_at)"
        " SELECT id, :reason, attempts, last_status_code, last_error, :now FROM tasks"
        " WHERE id = :id",
    [STORE_SQL_RECOVER_ATTEMPTS] =
        "INSERT INTO attempts (task_id, attempt, started_at, duration_ms, error_class,"
        " error_message, response_truncated)"
        " SELECT id, attempts, updated_at, max(:now - updated_at, 0), 'interrupted',"
        " 'heraldd stopped while this attempt was in flight', 0 FROM tasks"
        " WHERE status = 'delivering' AND next_attempt_at <= :lease_end",
    [STORE_SQL_RECOVER_TASKS] =
        "UPDATE tasks SET status = 'pending', next_attempt_at = :now, updated_at = :now,"
        " last_error = 'interrupted' WHERE status = 'delivering' AND next_attempt_at <= :lease_end",
    [STORE_SQL_ATTEMPT_LIST] =
        "SELECT task_id, attempt, started_at, duration_ms, status_code, error_class,"
        " error_message, response_body, response_truncated FROM attempts WHERE task_id = ?"
        " ORDER BY attempt, id",
    [STORE_SQL_MANUAL_OPEN_ID] = "SELECT id FROM manual WHERE task_id = ? AND state = 'open'",
    /* A fresh budget on top of the attempts made, so attempt numbers keep
     * growing and the history stays readable. */
    [STORE_SQL_MANUAL_RETRY_TASK] =
        "UPDATE tasks SET status = 'pending', next_attempt_at = :now, updated_at = :now,"
        " max_retry = attempts + :budget,"
        " target_url = coalesce(:url, target_url), target_host = coalesce(:host, target_host),"
        " payload = CASE WHEN :has_payload THEN :payload ELSE payload END,"
        " payload_is_json = CASE WHEN :has_payload THEN :is_json ELSE payload_is_json END"
        " WHERE id = :id AND status = 'failed' RETURNING target_host",
    [STORE_SQL_MANUAL_CLOSE] =
        "UPDATE manual SET state = 'resolved', resolved_at = :now, resolution = :resolution,"
        " note = :note WHERE id = :id",
    [STORE_SQL_MANUAL_MATCHING] =
        "SELECT m.task_id, t.business_type FROM manual m JOIN tasks t ON t.id = m.task_id"
        " WHERE m.state = 'open' AND (:type IS NULL OR t.business_type = :type)"
        " AND m.moved_at >= :since AND m.moved_at < :until ORDER BY m.id",
    [STORE_SQL_ACTION_INSERT] =
        "INSERT INTO actions (task_id, action, actor, note, details, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
    [STORE_SQL_ACTION_LIST] = "SELECT id, task_id, action, actor, note, details, created_at"
                              " FROM actions WHERE task_id = ? ORDER BY id",
    /* A scan of the (status, id) index: fine for a scrape every few seconds. */
    [STORE_SQL_COUNT_BY_STATUS] = "SELECT status, count(*) FROM tasks GROUP BY status",
    [STORE_SQL_COUNT_MANUAL_OPEN] = "SELECT count(*) FROM manual WHERE state = 'open'",
    [STORE_SQL_BACKLOG_COUNT] = "SELECT count(*) FROM manual WHERE state = 'open'"
                                " AND moved_at >= :since",
    [STORE_SQL_BACKLOG_BY_TYPE] =
        "SELECT t.business_type, count(*) AS n FROM manual m JOIN tasks t ON t.id = m.task_id"
        " WHERE m.state = 'open' AND m.moved_at >= :since GROUP BY t.business_type"
        " ORDER BY n DESC, t.business_type LIMIT " "32",
    [STORE_SQL_BACKLOG_SAMPLE] = "SELECT task_id, moved_at FROM manual WHERE state = 'open'"
                                 " AND moved_at >= :since ORDER BY moved_at, id LIMIT 10",
    [STORE_SQL_ALERT_INSERT] =
        "INSERT INTO alerts (kind, state, count, details, created_at) VALUES (?, ?, ?, ?, ?)",
    [STORE_SQL_ALERT_SENT] = "UPDATE alerts SET webhook_sent_at = :webhook,"
                             " command_sent_at = :command, sent_at = :sent,"
                             " send_error = :error WHERE id = :id",
    [STORE_SQL_ALERT_UNSENT] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts"
                               " WHERE sent_at IS NULL ORDER BY id LIMIT 20",
    [STORE_SQL_ALERT_LIST] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE id < :before"
                             " ORDER BY id DESC LIMIT :limit",
    [STORE_SQL_ALERT_LATEST] = "SELECT " STORE_ALERT_COLUMNS " FROM alerts WHERE kind = ?"
                               " ORDER BY id DESC LIMIT 1",
    /* Ids grow with time, so tasks created after the cutoff bound the scan. */
    [STORE_SQL_RETENTION_BOUNDARY] = "SELECT id FROM tasks WHERE created_at >= :cutoff"
                                     " ORDER BY id LIMIT 1",
    [STORE_SQL_RETENTION_SUCCEEDED] =
        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE status = 'succeeded'"
        " AND id < :boundary AND updated_at < :cutoff ORDER BY id LIMIT :batch)",
    [STORE_SQL_RETENTION_RESOLVED_TASKS] =
        "DELETE FROM tasks WHERE status = 'failed' AND id IN (SELECT task_id FROM manual"
        " WHERE state = 'resolved' AND resolution = 'resolved' AND resolved_at < :cutoff"
        " LIMIT :batch)",
    [STORE_SQL_RETENTION_RESOLVED_ENTRIES] =
        "DELETE FROM manual WHERE id IN (SELECT id FROM manual INDEXED BY manual_resolved"
        " WHERE state = 'resolved'"
        " AND resolved_at < :cutoff LIMIT :batch)",
    [STORE_SQL_RETENTION_ALERTS] =
        "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE sent_at IS NOT NULL"
        " AND created_at < :cutoff ORDER BY id LIMIT :batch)",
    /* Whether any of the four above would delete something (resolved tasks
     * go with their resolved entry). */
    [STORE_SQL_RETENTION_PENDING] =
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'succeeded' AND id < :boundary"
        " AND updated_at < :cutoff)"
        " OR EXISTS (SELECT 1 FROM manual INDEXED BY manual_resolved WHERE state = 'resolved'"
        " AND resolved_at < :cutoff)"
        " OR EXISTS (SELECT 1 FROM alerts WHERE sent_at IS NOT NULL AND created_at < :cutoff)",
};

int store_fail(Store *store, const char *what, char *err, size_t errlen)
{
    if (store->injected != SQLITE_OK) {
        /* The fault seam failed it: the connection's own message is stale. */
        snprintf(err, errlen, "%s: %s (injected fault)", what, sqlite3_errstr(store->injected));
        store->injected = SQLITE_OK;
        return -1;
    }
    snprintf(err, errlen, "%s: %s (%s)", what, sqlite3_errmsg(store->db),
             sqlite3_errstr(sqlite3_extended_errcode(store->db)));
    return -1;
}

/* The SQLite error the fault seam's KIND stands for. */
static int store_fault_code(FaultKind kind)
{
    switch (kind) {
    case FAULT_FULL: return SQLITE_FULL;
    case FAULT_IOERR: return SQLITE_IOERR_WRITE;
    case FAULT_BUSY: return SQLITE_BUSY;
    case FAULT_NONE: break;
    }
    return SQLITE_OK;
}

int store_step(Store *store, sqlite3_stmt *statement)
{
    int injected = store_fault_code(fault_next());
    if (injected != SQLITE_OK) {
        store->injected = injected;
        return injected;
    }
    return sqlite3_step(statement);
}

sqlite3_stmt *store_prepare_cached(Store *store, sqlite3_stmt **slot, const char *text, char *err,
                                   size_t errlen)
{
    if (*slot == NULL) {
        if (sqlite3_prepare_v3(store->db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
            SQLITE_OK) {
            store_fail(store, "prepare", err, errlen);
            *slot = NULL;
            return NULL;
        }
    }
    return *slot;
}

sqlite3_stmt *store_statement(Store *store, StoreSql sql, char *err, size_t errlen)
{
    return store_prepare_cached(store, &store->statements[sql], store_sql_text[sql], err, errlen);
}

int store_step_done(Store *store, sqlite3_stmt *statement, const char *what, char *err,
                    size_t errlen)
{
    int rc = store_step(store, statement);
    int result = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        result = store_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

int store_collect_rows(Store *store, sqlite3_stmt *statement, size_t element_size,
                       StoreRowReader read_row, void (*clear)(void *element), const char *what,
                       void **out, size_t *count, char *err, size_t errlen)
{
    char *elements = NULL;
    size_t used = 0, capacity = 0;
    int rc;
    int result = 0;
    while ((rc = store_step(store, statement)) == SQLITE_ROW) {
        if (used == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            char *grown = realloc(elements, capacity * element_size);
            if (grown == NULL) {
                result = -1;
                break;
            }
            elements = grown;
        }
        void *element = elements + used * element_size;
        memset(element, 0, element_size);
        used++; /* counted even if the read fails, so its allocations are freed */
        if (read_row(statement, element) != 0) {
            result = -1;
            break;
        }
    }
    if (result != 0)
        snprintf(err, errlen, "%s: out of memory", what);
    else if (rc != SQLITE_DONE)
        result = store_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (result != 0) {
        for (size_t i = 0; i < used; i++)
            clear(elements + i * element_size);
        free(elements);
        return -1;
    }
    *out = elements;
    *count = used;
    return 0;
}

void store_bind_text(sqlite3_stmt *statement, const char *name, const char *value)
{
    int index = sqlite3_bind_parameter_index(statement, name);
    if (index > 0)
        sqlite3_bind_text(statement, index, value, -1, SQLITE_STATIC);
}

void store_bind_int64(sqlite3_stmt *statement, const char *name, int64_t value)
{
    int index = sqlite3_bind_parameter_index(statement, name);
    if (index > 0)
        sqlite3_bind_int64(statement, index, value);
}

int store_column_text(sqlite3_stmt *statement, int column, char **out, size_t *out_length)
{
    *out = NULL;
    if (out_length)
        *out_length = 0;
    if (sqlite3_column_type(statement, column) == SQLITE_NULL)
        return 0;
    const void *data = sqlite3_column_blob(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return -1;
    if (length > 0)
        memcpy(copy, data, length);
    copy[length] = '\0';
    *out = copy;
    if (out_length)
        *out_length = length;
    return 0;
}

int store_exec(Store *store, const char *sql, const char *what, char *err, size_t errlen)
{
    store->injected = store_fault_code(fault_next());
    if (store->injected != SQLITE_OK)
        return store_fail(store, what, err, errlen);
    char *message = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, message ? message : sqlite3_errmsg(store->db));
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

int store_query_int(Store *store, const char *sql, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK)
        return store_fail(store, sql, err, errlen);
    int rc = store_step(store, statement);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW)
        return store_fail(store, sql, err, errlen);
    return 0;
}

static int store_set_pragmas(Store *store, int64_t busy_timeout_ms, bool durable, char *err,
                             size_t errlen)
{
    if (sqlite3_busy_timeout(store->db, (int)busy_timeout_ms) != SQLITE_OK)
        return store_fail(store, "busy_timeout", err, errlen);
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, "PRAGMA journal_mode=WAL", -1, &statement, NULL) !=
        SQLITE_OK)
        return store_fail(store, "journal_mode", err, errlen);
    int rc = sqlite3_step(statement);
    bool wal = rc == SQLITE_ROW &&
               strcmp((const char *)sqlite3_column_text(statement, 0), "wal") == 0;
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW)
        return store_fail(store, "journal_mode", err, errlen);
    if (!wal) {
        snprintf(err, errlen, "the database could not be put in WAL mode (is the filesystem "
                              "one that supports shared memory?)");
        return -1;
    }
    /* FULL: a commit is fsynced before it returns; that is what a 201 promises.
     * NORMAL (the scheduler's claims and outcomes): a commit lost to a power
     * failure only makes a task go out again, which at-least-once allows. */
    return store_exec(store,
                      durable ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;"
                              : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                                " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;",
                      "pragmas", err, errlen);
}

Store *store_open(const char *path, const StoreOptions *options, char *err, size_t errlen)
{
    Store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(store->path, sizeof store->path, "%s", path);
    const Migration *migrations = options->migrations ? options->migrations : migration_list;
    size_t count = options->migrations ? options->migration_count : migration_count;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 store->db ? sqlite3_errmsg(store->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(store->db, 1);
    char detail[512];
    if (store_set_pragmas(store, options->busy_timeout_ms, !options->relaxed_durability, detail,
                          sizeof detail) != 0) {
        snprintf(err, errlen, "database %s: %s", path, detail);
        goto fail;
    }
    if (options->migrate) {
        if (store_apply_migrations(store, migrations, count, detail, sizeof detail) != 0) {
            snprintf(err, errlen, "database %s: %s", path, detail);
            goto fail;
        }
    } else {
        int version = 0;
        if (store_query_int(store, "PRAGMA user_version", &version, detail, sizeof detail) != 0) {
            snprintf(err, errlen, "database %s: %s", path, detail);
            goto fail;
        }
        if (version != (int)count) {
            snprintf(err, errlen, "database %s: schema version %d, expected %zu", path, version,
                     count);
            goto fail;
        }
        store->schema_version = version;
    }
    return store;
fail:
    store_close(store);
    return NULL;
}

void store_close(Store *store)
{
    if (store == NULL)
        return;
    if (store->in_transaction)
        store_rollback(store);
    for (int i = 0; i < STORE_SQL_COUNT; i++)
        sqlite3_finalize(store->statements[i]);
    for (int i = 0; i < STORE_LIST_VARIANTS; i++)
        sqlite3_finalize(store->list_statements[i]);
    for (int i = 0; i < STORE_MANUAL_LIST_VARIANTS; i++)
        sqlite3_finalize(store->manual_list_statements[i]);
    sqlite3_close(store->db); /* all statements are finalized, so this closes */
    free(store);
}

int store_schema_version(Store *store)
{
    return store->schema_version;
}

int store_checkpoint(Store *store, char *err, size_t errlen)
{
    return store_exec(store, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint", err, errlen);
}

int store_ping(Store *store, char *err, size_t errlen)
{
    sqlite3_stmt *statement = store_statement(store, STORE_SQL_PING, err, errlen);
    if (statement == NULL)
        return -1;
    return store_step_done(store, statement, "ping", err, errlen);
}

int store_begin(Store *store, char *err, size_t errlen)
{
    sqlite3_stmt *statement = store_statement(store, STORE_SQL_BEGIN, err, errlen);
    if (statement == NULL)
        return -1;
    pthread_mutex_lock(&store_write_lock);
    if (store_step_done(store, statement, "begin", err, errlen) != 0) {
        pthread_mutex_unlock(&store_write_lock);
        return -1;
    }
    store->in_transaction = true;
    return 0;
}

static void store_end_transaction(Store *store)
{
    if (store->in_transaction) {
        store->in_transaction = false;
        pthread_mutex_unlock(&store_write_lock);
    }
}

int store_commit(Store *store, char *err, size_t errlen)
{
    sqlite3_stmt *statement = store_statement(store, STORE_SQL_COMMIT, err, errlen);
    if (statement == NULL || store_step_done(store, statement, "commit", err, errlen) != 0) {
        /* A failed COMMIT (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY) may leave the
         * transaction open; roll it back so nothing of it can commit later. */
        store_rollback(store);
        return -1;
    }
    store_end_transaction(store);
    return 0;
}

void store_rollback(Store *store)
{
    if (!sqlite3_get_autocommit(store->db)) {
        char err[256];
        sqlite3_stmt *statement = store_statement(store, STORE_SQL_ROLLBACK, err, sizeof err);
        /* ROLLBACK can only fail if no transaction is active, which we checked;
         * it is how a failure is undone, so the fault seam never fails it. */
        if (statement != NULL) {
            sqlite3_step(statement);
            sqlite3_reset(statement);
        }
    }
    store_end_transaction(store);
}

static int store_run(Store *store, StoreSql sql, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *statement = store_statement(store, sql, err, errlen);
    if (statement == NULL)
        return -1;
    return store_step_done(store, statement, what, err, errlen);
}

int store_savepoint(Store *store, char *err, size_t errlen)
{
    return store_run(store, STORE_SQL_SAVEPOINT, "savepoint", err, errlen);
}

int store_savepoint_release(Store *store, char *err, size_t errlen)
{
    return store_run(store, STORE_SQL_RELEASE, "release savepoint", err, errlen);
}

int store_savepoint_rollback(Store *store, char *err, size_t errlen)
{
    if (store_run(store, STORE_SQL_ROLLBACK_TO, "rollback to savepoint", err, errlen) != 0)
        return -1;
    return store_run(store, STORE_SQL_RELEASE, "release savepoint", err, errlen);
}
