/*
 * copy: see copy.h. The move from SQLite to PostgreSQL (heraldd --copy-to URL).
 *
 * Both databases are opened as heraldd would (each brought to this
 * binary's schema), the PostgreSQL one must hold no tasks, attempts,
 * manual entries, actions, alerts, queue rows or receivers, and then every
 * row is streamed with COPY ... FROM STDIN (text format) inside one
 * PostgreSQL transaction that
 * also moves each identity past the largest id copied and compares every
 * table's count with the source's. Anything failing rolls the whole copy
 * back: the destination is left as empty as it was, the source untouched
 * (the source is only read, in one read transaction, so the counts match
 * what was read). Ids are kept, so task ids, webhook ids and links in
 * tickets stay valid.
 *
 * Two things PostgreSQL refuses that an old SQLite file can hold:
 *   - text that is not UTF-8, or holds NUL (SQLite does not check; error
 *     texts from receivers once came in raw): each bad sequence becomes
 *     U+FFFD, counted in the report;
 *   - two tasks created without an Idempotency-Key for the same business
 *     type, business id and URL (migrations before 005 allowed it after a
 *     repair changed a URL). PostgreSQL's unique index keeps one task per
 *     such request; the later tasks keep their rows and URLs but get a
 *     dedup_url of "URL#herald-copy-ID", so a repeated request finds the
 *     earliest, as it did in SQLite. Counted in the report.
 *   - the U+FFFD repair can make two identities one: keys "k\xff" and
 *     "k\xfe" both become "k\uFFFD". A task whose Idempotency-Key, business
 *     type, business id or URL was repaired gets an identity of its own
 *     (the key, or the dedup_url, followed by "#herald-copy-repaired-ID"):
 *     no request can repeat it anyway, since the API takes only UTF-8.
 *     Counted in the report.
 *
 * This file is the one place that speaks to both engines at once, which
 * is why it sits above both backends (copy_to.c runs it).
 */
#include "copy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "pg.h"
#include "sqlite.h"
#include "utf8.h"

/* Rows are sent to the server in pieces of about this many bytes. */
#define COPY_CHUNK (256 * 1024)

typedef struct CopyTable {
    const char *name;    /* the destination table */
    const char *columns; /* its columns, in the order the query reads them */
    const char *query;   /* SQLite: the rows */
    /* How each column becomes COPY text, one letter per column: i integer,
     * t text (made valid UTF-8), b blob as bytea, o SQLite's 0/1 as boolean.
     * NULL stays NULL in each. */
    const char *types;
    const char *id_column; /* the identity to move past the copied ids; NULL: none */
} CopyTable;

/* Keyless tasks repeating an earlier task's dedup identity get a dedup_url
 * of their own (see above). */
#define COPY_TASK_DEDUP                                                                            \
    "CASE WHEN idempotency_key IS NULL AND row_number() OVER (PARTITION BY business_type,"         \
    " business_id, coalesce(dedup_url, target_url), idempotency_key IS NULL ORDER BY id) > 1"     \
    " THEN coalesce(dedup_url, target_url) || '#herald-copy-' || id ELSE dedup_url END"

static const CopyTable copy_tables[] = {
    {"tasks",
     "id, webhook_id, business_id, business_type, target_url, target_host, dedup_url,"
     " payload_is_json, idempotency_key, request_hash, status, attempts, max_retry,"
     " next_attempt_at, created_at, updated_at, last_status_code, last_error, retry_base,"
     " ordering_key, ordering_key_id, ordering_seq, ordering_block, traceparent, tracestate",
     "SELECT id, webhook_id, business_id, business_type, target_url, target_host, " COPY_TASK_DEDUP
     ", payload_is_json, idempotency_key, request_hash, status, attempts, max_retry,"
     " next_attempt_at, created_at, updated_at, last_status_code, last_error, retry_base,"
     " ordering_key, ordering_key_id, ordering_seq, ordering_block, traceparent, tracestate"
     " FROM tasks ORDER BY id",
     "itttttd" "okbtiiiiiiti" "tiio" "tt", "id"},
    {"task_bodies", "task_id, payload, headers", "SELECT id, payload, headers FROM tasks ORDER BY id",
     "ibt", NULL},
    {"attempts",
     "id, task_id, attempt, started_at, duration_ms, status_code, error_class, error_message,"
     " response_body, response_truncated, target_host",
     "SELECT id, task_id, attempt, started_at, duration_ms, status_code, error_class,"
     " error_message, response_body, response_truncated, target_host FROM attempts ORDER BY id",
     "iiiiiittbot", "id"},
    {"manual",
     "id, task_id, reason, attempts, last_status_code, last_error, moved_at, state, resolved_at,"
     " resolution, note",
     "SELECT id, task_id, reason, attempts, last_status_code, last_error, moved_at, state,"
     " resolved_at, resolution, note FROM manual ORDER BY id",
     "iitiitititt", "id"},
    {"actions", "id, task_id, action, actor, note, details, created_at",
     "SELECT id, task_id, action, actor, note, details, created_at FROM actions ORDER BY id",
     "iitttti", "id"},
    /* The instance a delivery_lag alert names; not the sending claim (sending_by,
     * _term, _until), which lives only while a leader sends, and heraldd is
     * stopped for the copy. */
    {"alerts",
     "id, kind, state, count, details, created_at, sent_at, send_error, webhook_sent_at,"
     " command_sent_at, instance",
     "SELECT id, kind, state, count, details, created_at, sent_at, send_error, webhook_sent_at,"
     " command_sent_at, instance FROM alerts ORDER BY id",
     "ittitiitiit", "id"},
    /* Receivers an operator paused stay paused, and their audit trail goes along. */
    {"receivers", "receiver, paused, paused_at, paused_by, note, updated_at",
     "SELECT receiver, paused, paused_at, paused_by, note, updated_at FROM receivers"
     " ORDER BY receiver",
     "toitti", NULL},
    {"receiver_actions", "id, receiver, action, actor, note, created_at",
     "SELECT id, receiver, action, actor, note, created_at FROM receiver_actions ORDER BY id",
     "itttti", "id"},
    /* Redelivery jobs, running ones too: a heraldd on PostgreSQL goes on with
     * them from their cursor (the lease of the stopped one is not copied). */
    {"redelivery_jobs",
     "id, state, business_type, receiver, url_prefix, task_status, error_class, created_from,"
     " created_to, full_schedule, pace, reason, actor, through_id, cursor_id, matched, sent,"
     " skipped, created_at, updated_at, finished_at, cancelled_by",
     "SELECT id, state, business_type, receiver, url_prefix, task_status, error_class,"
     " created_from, created_to, full_schedule, pace, reason, actor, through_id, cursor_id,"
     " matched, sent, skipped, created_at, updated_at, finished_at, cancelled_by"
     " FROM redelivery_jobs ORDER BY id",
     "ittttttii" "oittiiiiiiiit", "id"},
    /* Ordering keys: their sequences and heads go on where they were (a task
     * waiting behind its head is copied waiting). */
    {"ordering_keys",
     "id, receiver, ordering_key, last_seq, head_seq, blocked_task_id, blocked_at, updated_at",
     "SELECT id, receiver, ordering_key, last_seq, head_seq, blocked_task_id, blocked_at,"
     " updated_at FROM ordering_keys ORDER BY id",
     "ittiiiii", "id"},
};
#define COPY_TABLE_COUNT (sizeof copy_tables / sizeof copy_tables[0])

/* Appends TEXT (LENGTH bytes, valid UTF-8 without NUL) escaped for COPY's
 * text format. */
static int copy_append_escaped(Buffer *out, const char *text, size_t length)
{
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        const char *escape = NULL;
        switch (text[i]) {
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default: continue;
        }
        if (buffer_append(out, text + start, i - start) != 0 || buffer_append(out, escape, 2) != 0)
            return -1;
        start = i + 1;
    }
    return buffer_append(out, text + start, length - start);
}

/* The text of COLUMN, made valid UTF-8 (a heap copy the caller frees;
 * *REPAIRED tells whether it had to be), or NULL if out of memory. */
static char *copy_text(sqlite3_stmt *row, int column, bool *repaired)
{
    const char *text = (const char *)sqlite3_column_text(row, column);
    size_t length = (size_t)sqlite3_column_bytes(row, column);
    if (text == NULL)
        return NULL;
    *repaired = !utf8_is_valid(text, length) || memchr(text, '\0', length) != NULL;
    return *repaired ? utf8_sanitize(text, length) : strndup(text, length);
}

/* Appends COLUMN's text, repaired if need be; an identity column (a task's
 * business type, id, URL or key) that was sets *IDENTITY_REPAIRED. SUFFIX,
 * if not NULL, is appended to the text (a new identity). */
static int copy_append_text(Buffer *out, sqlite3_stmt *row, int column, const char *suffix,
                            StoreCopyReport *report, bool *identity_repaired)
{
    bool repaired = false;
    char *text = copy_text(row, column, &repaired);
    if (text == NULL)
        return -1;
    if (repaired) {
        report->repaired_text++;
        *identity_repaired = true;
    }
    int status = copy_append_escaped(out, text, strlen(text));
    if (status == 0 && suffix != NULL)
        status = copy_append_escaped(out, suffix, strlen(suffix));
    free(text);
    return status;
}

/* A task's identity columns, in copy_tables' order for tasks: business_id,
 * business_type, target_url (2-4) come before dedup_url (6, type 'd') and
 * the key (8, type 'k'). */
#define COPY_TASK_URL_COLUMN 4

/* The dedup_url of a task whose identity was repaired: its own (or its
 * URL's) text and the suffix. */
static int copy_append_dedup(Buffer *out, sqlite3_stmt *row, int column, const char *suffix,
                             StoreCopyReport *report, bool *identity_repaired)
{
    bool repaired = false;
    char *own = sqlite3_column_type(row, column) == SQLITE_NULL
                    ? copy_text(row, COPY_TASK_URL_COLUMN, &repaired)
                    : copy_text(row, column, &repaired);
    if (own == NULL)
        return -1;
    if (repaired && sqlite3_column_type(row, column) != SQLITE_NULL)
        report->repaired_text++;
    *identity_repaired |= repaired;
    int status = 0;
    if (*identity_repaired) {
        report->repaired_identities++;
        status = copy_append_escaped(out, own, strlen(own));
        if (status == 0)
            status = copy_append_escaped(out, suffix, strlen(suffix));
    } else if (sqlite3_column_type(row, column) == SQLITE_NULL) {
        status = buffer_append(out, "\\N", 2);
    } else {
        status = copy_append_escaped(out, own, strlen(own));
    }
    free(own);
    return status;
}

static int copy_append_bytes(Buffer *out, sqlite3_stmt *row, int column)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *bytes = sqlite3_column_blob(row, column);
    size_t length = (size_t)sqlite3_column_bytes(row, column);
    if (buffer_append(out, "\\\\x", 3) != 0)
        return -1;
    for (size_t i = 0; i < length; i++) {
        char pair[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15]};
        if (buffer_append(out, pair, 2) != 0)
            return -1;
    }
    return 0;
}

/* Appends one source row as a line of COPY text. */
static int copy_append_row(Buffer *out, sqlite3_stmt *row, const char *types,
                           StoreCopyReport *report)
{
    /* A row's identity repaired so far (types 't' before a 'd' or 'k'), and
     * the suffix that makes it one of its own. */
    bool identity_repaired = false;
    char suffix[48];
    snprintf(suffix, sizeof suffix, "#herald-copy-repaired-%" PRId64,
             (int64_t)sqlite3_column_int64(row, 0));
    for (int column = 0; types[column] != '\0'; column++) {
        if (column > 0 && buffer_append(out, "\t", 1) != 0)
            return -1;
        if (types[column] == 'd') {
            if (copy_append_dedup(out, row, column, suffix, report, &identity_repaired) != 0)
                return -1;
            continue;
        }
        if (sqlite3_column_type(row, column) == SQLITE_NULL) {
            if (buffer_append(out, "\\N", 2) != 0)
                return -1;
            continue;
        }
        char number[24];
        int status;
        switch (types[column]) {
        case 'i':
            snprintf(number, sizeof number, "%" PRId64, (int64_t)sqlite3_column_int64(row, column));
            status = buffer_append(out, number, strlen(number));
            break;
        case 'o': status = buffer_append(out, sqlite3_column_int(row, column) ? "t" : "f", 1); break;
        case 'b': status = copy_append_bytes(out, row, column); break;
        case 'k': {
            /* A repaired key gets the suffix: two keys repair can make one
             * would break the unique index, and no request can send it again. */
            bool repaired = false;
            char *key = copy_text(row, column, &repaired);
            if (key == NULL)
                return -1;
            status = copy_append_escaped(out, key, strlen(key));
            if (status == 0 && repaired) {
                report->repaired_text++;
                report->repaired_identities++;
                status = copy_append_escaped(out, suffix, strlen(suffix));
            }
            free(key);
            break;
        }
        default: status = copy_append_text(out, row, column, NULL, report, &identity_repaired);
            break;
        }
        if (status != 0)
            return -1;
    }
    return buffer_append(out, "\n", 1);
}

static int copy_pg_error(PgStore *store, const char *what, char *err, size_t errlen)
{
    const char *message = PQerrorMessage(store->conn);
    snprintf(err, errlen, "%s: %.*s", what, (int)strcspn(message, "\n"), message);
    return -1;
}

/* Ends a COPY: sends its end (or ABORT_WHY) and reads the server's verdict. */
static int copy_pg_end(PgStore *store, const char *abort_why, const char *what, char *err,
                       size_t errlen)
{
    if (PQputCopyEnd(store->conn, abort_why) != 1)
        return copy_pg_error(store, what, err, errlen);
    int status = 0;
    PGresult *result;
    while ((result = PQgetResult(store->conn)) != NULL) {
        if (PQresultStatus(result) != PGRES_COMMAND_OK && status == 0) {
            const char *message = PQresultErrorMessage(result);
            snprintf(err, errlen, "%s: %.*s", what, (int)strcspn(message, "\n"), message);
            status = -1;
        }
        PQclear(result);
    }
    return abort_why != NULL ? -1 : status;
}

/* Streams TABLE from SQLite into PostgreSQL; counts its rows in *ROWS. */
static int copy_table(SqliteStore *from, PgStore *to, const CopyTable *table, int64_t *rows,
                      StoreCopyReport *report, char *err, size_t errlen)
{
    char what[64], sql[512];
    snprintf(what, sizeof what, "copy %s", table->name);
    sqlite3_stmt *row = NULL;
    if (sqlite3_prepare_v2(from->db, table->query, -1, &row, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: read: %s", what, sqlite3_errmsg(from->db));
        return -1;
    }
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", table->name, table->columns);
    if (pg_fault_hook(to, what, err, errlen) != 0) {
        sqlite3_finalize(row);
        return -1;
    }
    PGresult *started = PQexec(to->conn, sql);
    ExecStatusType started_status = PQresultStatus(started);
    PQclear(started);
    if (started_status != PGRES_COPY_IN) {
        sqlite3_finalize(row);
        return copy_pg_error(to, what, err, errlen);
    }
    Buffer chunk;
    buffer_init(&chunk, 64 * 1024 * 1024);
    const char *failure = NULL;
    int step;
    *rows = 0;
    while (failure == NULL && (step = sqlite3_step(row)) == SQLITE_ROW) {
        if (copy_append_row(&chunk, row, table->types, report) != 0) {
            failure = "out of memory";
            break;
        }
        (*rows)++;
        if (chunk.length >= COPY_CHUNK) {
            if (PQputCopyData(to->conn, chunk.data, (int)chunk.length) != 1)
                failure = "sending rows failed";
            chunk.length = 0;
        }
    }
    if (failure == NULL && step != SQLITE_DONE)
        failure = sqlite3_errmsg(from->db);
    if (failure == NULL && chunk.length > 0 &&
        PQputCopyData(to->conn, chunk.data, (int)chunk.length) != 1)
        failure = "sending rows failed";
    char reason[256];
    if (failure != NULL)
        snprintf(reason, sizeof reason, "%s", failure);
    buffer_free(&chunk);
    sqlite3_finalize(row);
    int status = copy_pg_end(to, failure != NULL ? reason : NULL, what, err, errlen);
    if (failure != NULL)
        snprintf(err, errlen, "%s: %s", what, reason);
    return status;
}

static int copy_sqlite_count(SqliteStore *from, const char *table, int64_t *out, char *err,
                             size_t errlen)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *statement = NULL;
    int status = -1;
    if (sqlite3_prepare_v2(from->db, sql, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        *out = sqlite3_column_int64(statement, 0);
        status = 0;
    } else {
        snprintf(err, errlen, "count %s: %s", table, sqlite3_errmsg(from->db));
    }
    sqlite3_finalize(statement);
    return status;
}

/* After the rows: identities past the copied ids, and every count checked. */
static int copy_finish_table(SqliteStore *from, PgStore *to, const CopyTable *table, int64_t rows,
                             char *err, size_t errlen)
{
    char sql[256], what[64];
    int64_t count;
    snprintf(what, sizeof what, "verify %s", table->name);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table->name);
    if (pg_query_int64(to, sql, what, &count, err, errlen) != 0)
        return -1;
    int64_t source = rows;
    if (strcmp(table->name, "task_bodies") != 0 &&
        copy_sqlite_count(from, table->name, &source, err, errlen) != 0)
        return -1;
    if (count != rows || count != source) {
        snprintf(err, errlen, "%s: %" PRId64 " rows in SQLite, %" PRId64 " read, %" PRId64
                 " in PostgreSQL", what, source, rows, count);
        return -1;
    }
    if (table->id_column == NULL)
        return 0;
    snprintf(what, sizeof what, "identity of %s", table->name);
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false)"
             " FROM %s", table->name, table->id_column, table->id_column, table->name);
    return pg_query_int64(to, sql, what, &count, err, errlen);
}

static int copy_check_empty(PgStore *to, char *err, size_t errlen)
{
    int64_t rows;
    if (pg_query_int64(to,
                       "SELECT (SELECT count(*) FROM tasks) + (SELECT count(*) FROM attempts) +"
                       " (SELECT count(*) FROM manual) + (SELECT count(*) FROM actions) +"
                       " (SELECT count(*) FROM alerts) + (SELECT count(*) FROM task_queue) +"
                       " (SELECT count(*) FROM receivers) +"
                       " (SELECT count(*) FROM receiver_actions) +"
                       " (SELECT count(*) FROM redelivery_jobs) +"
                       " (SELECT count(*) FROM ordering_keys)",
                       "check the destination is empty", &rows, err, errlen) != 0)
        return -1;
    if (rows != 0) {
        snprintf(err, errlen, "the PostgreSQL database already holds herald's data (%" PRId64
                 " rows): copy into an empty database", rows);
        return -1;
    }
    return 0;
}

static int copy_all(SqliteStore *from, PgStore *to, StoreCopyReport *report, char *err,
                    size_t errlen)
{
    int64_t *counts[COPY_TABLE_COUNT] = {&report->tasks, NULL, &report->attempts,
                                         &report->manual, &report->actions, &report->alerts};
    int64_t bodies = 0;
    for (size_t i = 0; i < COPY_TABLE_COUNT; i++) {
        int64_t *rows = counts[i] != NULL ? counts[i] : &bodies;
        if (copy_table(from, to, &copy_tables[i], rows, report, err, errlen) != 0 ||
            copy_finish_table(from, to, &copy_tables[i], *rows, err, errlen) != 0)
            return -1;
    }
    /* The hot queue (migrations/postgresql/009): the work in hand. */
    if (pg_exec(to,
                "INSERT INTO task_queue (task_id, target_host, due_at, delivering, lease_until)"
                " SELECT id, target_host, next_attempt_at, status = 'delivering', CASE WHEN"
                " status = 'delivering' THEN next_attempt_at END FROM tasks"
                " WHERE status IN ('pending', 'delivering')",
                "fill the queue", err, errlen) != 0)
        return -1;
    return pg_query_int64(to,
                          "SELECT count(*) FROM tasks WHERE dedup_url LIKE '%#herald-copy-%'"
                          " AND dedup_url NOT LIKE '%#herald-copy-repaired-%'",
                          "count renamed duplicates", &report->renamed_duplicates, err, errlen);
}

int copy_store(Store *source, Store *destination, StoreCopyReport *report, char *err,
               size_t errlen)
{
    if (store_backend(source) != STORE_BACKEND_SQLITE ||
        store_backend(destination) != STORE_BACKEND_POSTGRESQL) {
        snprintf(err, errlen, "herald copies from SQLite to PostgreSQL only");
        return -1;
    }
    SqliteStore *from = sqlite_of(source);
    PgStore *to = pg_of(destination);
    memset(report, 0, sizeof *report);
    /* One read transaction: the rows and the counts are one snapshot. */
    if (sqlite3_exec(from->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "read the SQLite database: %s", sqlite3_errmsg(from->db));
        return -1;
    }
    int status = -1;
    if (pg_begin(destination, err, errlen) == 0) {
        if (copy_check_empty(to, err, errlen) == 0 && copy_all(from, to, report, err, errlen) == 0)
            status = pg_commit(destination, err, errlen);
        else
            pg_rollback(destination);
    }
    sqlite3_exec(from->db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}
