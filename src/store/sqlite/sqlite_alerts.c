/*
 * store/sqlite_alerts: the SQLite backend's alert checker queries (see
 * store.h): the manual backlog, the alerts table, retention and the gauges;
 * the leadership lease's statements; and the instances table (GET
 * /v1/instances).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite.h"

/* Runs STATEMENT expecting one integer row; *OUT keeps its value if none. */
int sqlite_alert_backlog(Store *base, int64_t since, AlertBacklog *out, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *count = sqlite_statement(store, STORE_SQL_BACKLOG_COUNT, err, errlen);
    if (count == NULL)
        return -1;
    sqlite_bind_int64(count, ":since", since);
    if (sqlite_single_int64(store, count, &out->count, "backlog", err, errlen) != 0)
        return -1;
    if (out->count == 0)
        return 0;
    sqlite3_stmt *by_type = sqlite_statement(store, STORE_SQL_BACKLOG_BY_TYPE, err, errlen);
    if (by_type == NULL)
        return -1;
    sqlite_bind_int64(by_type, ":since", since);
    int rc;
    while ((rc = sqlite_step(store, by_type)) == SQLITE_ROW && out->type_count < ALERT_TYPES_MAX) {
        const char *type = (const char *)sqlite3_column_text(by_type, 0);
        snprintf(out->by_type[out->type_count].business_type, sizeof out->by_type[0].business_type,
                 "%s", type ? type : "");
        out->by_type[out->type_count++].count = sqlite3_column_int64(by_type, 1);
    }
    sqlite3_reset(by_type);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(store, "backlog by type", err, errlen);
    sqlite3_stmt *sample = sqlite_statement(store, STORE_SQL_BACKLOG_SAMPLE, err, errlen);
    if (sample == NULL)
        return -1;
    sqlite_bind_int64(sample, ":since", since);
    while ((rc = sqlite_step(store, sample)) == SQLITE_ROW &&
           out->sample_count < ALERT_SAMPLE_MAX) {
        int64_t task_id = sqlite3_column_int64(sample, 0);
        if (out->sample_count == 0) {
            out->oldest_task_id = task_id;
            out->oldest_moved_at = sqlite3_column_int64(sample, 1);
        }
        out->sample_task_ids[out->sample_count++] = task_id;
    }
    sqlite3_reset(sample);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(store, "backlog sample", err, errlen);
    return 0;
}

/* Steps STATEMENT (bound), which returns at most one row: STORE_OK with its
 * first column in *OUT (if OUT), STORE_NOT_FOUND without a row. */
static StoreResult sqlite_row_or_none(SqliteStore *store, sqlite3_stmt *statement, int64_t *out,
                                      const char *what, char *err, size_t errlen)
{
    int rc = sqlite_step(store, statement);
    if (rc == SQLITE_ROW && out != NULL)
        *out = sqlite3_column_int64(statement, 0);
    StoreResult result = rc == SQLITE_ROW    ? STORE_OK
                         : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                             : (StoreResult)sqlite_fail(store, what, err, errlen);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

static void sqlite_bind_fence(sqlite3_stmt *statement, const StoreFence *fence, int64_t now)
{
    if (fence != NULL) {
        sqlite_bind_text(statement, ":holder", fence->holder);
        sqlite_bind_int64(statement, ":term", fence->term);
    }
    sqlite_bind_int64(statement, ":now", now);
}

StoreResult sqlite_alert_insert(Store *base, const StoreFence *fence,
                                const StoreAlertRecord *record, int64_t *id, char *err,
                                size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_INSERT, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_text(statement, ":kind", record->kind);
    sqlite_bind_text(statement, ":instance", record->instance);
    sqlite_bind_text(statement, ":state", record->firing ? "firing" : "resolved");
    sqlite_bind_int64(statement, ":count", record->count);
    sqlite_bind_text(statement, ":details", record->details);
    sqlite_bind_int64(statement, ":after", record->after_id);
    sqlite_bind_fence(statement, fence, record->now);
    return sqlite_row_or_none(store, statement, id, "record alert", err, errlen);
}

StoreResult sqlite_alert_claim(Store *base, const StoreFence *fence, int64_t id, int64_t now,
                               int64_t claim_ms, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_CLAIM, err, errlen);
    if (statement == NULL)
        return STORE_ERROR;
    sqlite_bind_int64(statement, ":id", id);
    sqlite_bind_int64(statement, ":claim", claim_ms);
    sqlite_bind_fence(statement, fence, now);
    return sqlite_row_or_none(store, statement, NULL, "claim alert", err, errlen);
}

int sqlite_alert_mark(Store *base, const StoreFence *fence, const StoredAlert *alert, char *err,
                      size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_SENT, err, errlen);
    if (statement == NULL)
        return -1;
    /* 0 stays NULL: not (yet) sent. */
    if (alert->webhook_sent_at > 0)
        sqlite_bind_int64(statement, ":webhook", alert->webhook_sent_at);
    if (alert->command_sent_at > 0)
        sqlite_bind_int64(statement, ":command", alert->command_sent_at);
    if (alert->sent_at > 0)
        sqlite_bind_int64(statement, ":sent", alert->sent_at);
    sqlite_bind_text(statement, ":error", alert->send_error);
    sqlite_bind_int64(statement, ":id", alert->id);
    sqlite_bind_text(statement, ":holder", fence->holder);
    sqlite_bind_int64(statement, ":term", fence->term);
    return sqlite_step_done(store, statement, "mark alert", err, errlen);
}

/* ---- leadership (store_leader.c runs the transactions) ---- */

int sqlite_leader_acquire(Store *base, const char *holder, int64_t now, int64_t lease_ms,
                          int64_t *term, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *term = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_LEADER_ACQUIRE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":holder", holder);
    sqlite_bind_int64(statement, ":now", now);
    sqlite_bind_int64(statement, ":lease", lease_ms);
    return sqlite_row_or_none(store, statement, term, "take the lead", err, errlen) ==
                   STORE_ERROR
               ? -1
               : 0;
}

int sqlite_leader_release(Store *base, const StoreFence *fence, int64_t now, char *err,
                          size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_LEADER_RELEASE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_fence(statement, fence, now);
    return sqlite_step_done(store, statement, "give up the lead", err, errlen);
}

int sqlite_leader_hold(Store *base, const StoreFence *fence, int64_t now, bool *held, char *err,
                       size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *held = false;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_LEADER_HOLD, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_fence(statement, fence, now);
    int64_t value = 0;
    if (sqlite_row_or_none(store, statement, &value, "check the lead", err, errlen) ==
        STORE_ERROR)
        return -1;
    *held = value != 0;
    return 0;
}

static int sqlite_alert_read_row(sqlite3_stmt *statement, void *element)
{
    StoredAlert *out = element;
    out->id = sqlite3_column_int64(statement, 0);
    const char *kind = (const char *)sqlite3_column_text(statement, 1);
    snprintf(out->kind, sizeof out->kind, "%s", kind ? kind : "");
    const char *state = (const char *)sqlite3_column_text(statement, 2);
    out->firing = state != NULL && strcmp(state, "firing") == 0;
    out->count = sqlite3_column_int64(statement, 3);
    out->created_at = sqlite3_column_int64(statement, 5);
    out->sent_at = sqlite3_column_int64(statement, 6);
    out->webhook_sent_at = sqlite3_column_int64(statement, 8);
    out->command_sent_at = sqlite3_column_int64(statement, 9);
    const char *instance = (const char *)sqlite3_column_text(statement, 10);
    snprintf(out->instance, sizeof out->instance, "%s", instance ? instance : "");
    if (sqlite_column_text(statement, 4, &out->details, NULL) != 0 ||
        sqlite_column_text(statement, 7, &out->send_error, NULL) != 0)
        return -1;
    return 0;
}

static void sqlite_alert_clear_element(void *element)
{
    stored_alert_clear(element);
}

/* Steps STATEMENT (already bound) into a new array of alerts. */
static int sqlite_alert_collect(SqliteStore *store, sqlite3_stmt *statement, StoredAlert **out,
                                size_t *count, char *err, size_t errlen)
{
    void *alerts = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoredAlert), sqlite_alert_read_row,
                            sqlite_alert_clear_element, "list alerts", &alerts, count, err,
                            errlen) != 0)
        return -1;
    *out = alerts;
    return 0;
}

int sqlite_alert_unsent(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_UNSENT, err, errlen);
    if (statement == NULL)
        return -1;
    return sqlite_alert_collect(store, statement, out, count, err, errlen);
}

int sqlite_alert_list(Store *base, int64_t before, int limit, StoredAlert **out, size_t *count,
                      char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":before", before);
    sqlite_bind_int64(statement, ":limit", limit);
    return sqlite_alert_collect(store, statement, out, count, err, errlen);
}

int sqlite_alert_firing(Store *base, StoredAlert **out, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_FIRING, err, errlen);
    if (statement == NULL)
        return -1;
    return sqlite_alert_collect(store, statement, out, count, err, errlen);
}

int sqlite_alert_latest(Store *base, const char *kind, const char *instance, StoredAlert **out,
                        size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_ALERT_LATEST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":kind", kind);
    sqlite_bind_text(statement, ":instance", instance);
    return sqlite_alert_collect(store, statement, out, count, err, errlen);
}

int sqlite_retention_boundary(Store *base, int64_t cutoff, int64_t *boundary, char *err,
                              size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_RETENTION_BOUNDARY, err, errlen);
    if (statement == NULL)
        return -1;
    *boundary = INT64_MAX;
    sqlite_bind_int64(statement, ":cutoff", cutoff);
    return sqlite_single_int64(store, statement, boundary, "retention boundary", err, errlen);
}

int sqlite_retention_select(Store *base, StoreRetentionSet set, int64_t cutoff, int64_t boundary,
                            size_t limit, int64_t *ids, size_t *count, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    StoreSql sql = set == STORE_RETENTION_SUCCEEDED  ? STORE_SQL_RETENTION_SUCCEEDED
                   : set == STORE_RETENTION_RESOLVED ? STORE_SQL_RETENTION_RESOLVED
                                                     : STORE_SQL_RETENTION_ALERTS;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, sql, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":cutoff", cutoff);
    sqlite_bind_int64(statement, ":boundary", boundary);
    sqlite_bind_int64(statement, ":limit", (int64_t)limit);
    int rc = SQLITE_DONE;
    while (*count < limit && (rc = sqlite_step(store, statement)) == SQLITE_ROW)
        ids[(*count)++] = sqlite3_column_int64(statement, 0);
    int result = *count < limit && rc != SQLITE_DONE ? sqlite_fail(store, "retention", err, errlen)
                                                     : 0;
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
}

/* Runs SQL once per id of IDS (one statement, stepped per row, is what
 * SQLite does fastest in-process) and adds the rows it deleted to *DELETED. */
static int sqlite_retention_delete(SqliteStore *store, StoreSql sql, const int64_t *ids,
                                   size_t count, int64_t *deleted, char *err, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        sqlite3_stmt *statement = sqlite_statement(store, sql, err, errlen);
        if (statement == NULL)
            return -1;
        sqlite_bind_int64(statement, ":id", ids[i]);
        if (sqlite_step_done(store, statement, "retention", err, errlen) != 0)
            return -1;
        *deleted += sqlite3_changes(store->db);
    }
    return 0;
}

int sqlite_retention_delete_tasks(Store *base, const int64_t *ids, size_t count,
                                  int64_t *deleted, char *err, size_t errlen)
{
    return sqlite_retention_delete(sqlite_of(base), STORE_SQL_RETENTION_DELETE_TASK, ids, count,
                                   deleted, err, errlen);
}

int sqlite_retention_delete_alerts(Store *base, const int64_t *ids, size_t count,
                                   int64_t *deleted, char *err, size_t errlen)
{
    return sqlite_retention_delete(sqlite_of(base), STORE_SQL_RETENTION_DELETE_ALERT, ids, count,
                                   deleted, err, errlen);
}

/* ---- instances ---- */

int sqlite_instance_beat(Store *base, const StoreInstance *instance, int64_t forget_before,
                         char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *beat = sqlite_statement(store, STORE_SQL_INSTANCE_BEAT, err, errlen);
    if (beat == NULL)
        return -1;
    sqlite_bind_text(beat, ":id", instance->id);
    sqlite_bind_text(beat, ":host", instance->host);
    sqlite_bind_int64(beat, ":pid", instance->pid);
    sqlite_bind_text(beat, ":version", instance->version);
    sqlite_bind_int64(beat, ":started", instance->started_at);
    sqlite_bind_int64(beat, ":beat", instance->heartbeat_at);
    sqlite_bind_int64(beat, ":leader", instance->leader ? 1 : 0);
    sqlite_bind_int64(beat, ":deliveries", instance->deliveries);
    if (sqlite_step_done(store, beat, "instance heartbeat", err, errlen) != 0)
        return -1;
    sqlite3_stmt *forget = sqlite_statement(store, STORE_SQL_INSTANCE_FORGET, err, errlen);
    if (forget == NULL)
        return -1;
    sqlite_bind_int64(forget, ":before", forget_before);
    return sqlite_step_done(store, forget, "forget instances", err, errlen);
}

int sqlite_instance_leave(Store *base, const char *id, char *err, size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_INSTANCE_LEAVE, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_text(statement, ":id", id);
    return sqlite_step_done(store, statement, "instance leaves", err, errlen);
}

static int sqlite_instance_read(sqlite3_stmt *statement, void *element)
{
    StoreInstance *out = element;
    snprintf(out->id, sizeof out->id, "%s", (const char *)sqlite3_column_text(statement, 0));
    snprintf(out->host, sizeof out->host, "%s", (const char *)sqlite3_column_text(statement, 1));
    out->pid = sqlite3_column_int64(statement, 2);
    snprintf(out->version, sizeof out->version, "%s",
             (const char *)sqlite3_column_text(statement, 3));
    out->started_at = sqlite3_column_int64(statement, 4);
    out->heartbeat_at = sqlite3_column_int64(statement, 5);
    out->leader = sqlite3_column_int(statement, 6) != 0;
    out->deliveries = sqlite3_column_int64(statement, 7);
    return 0;
}

static void sqlite_instance_clear(void *element)
{
    (void)element; /* no allocations of its own */
}

int sqlite_instance_list(Store *base, int64_t now, StoreInstance **out, size_t *count, char *err,
                         size_t errlen)
{
    SqliteStore *store = sqlite_of(base);
    *out = NULL;
    *count = 0;
    sqlite3_stmt *statement = sqlite_statement(store, STORE_SQL_INSTANCE_LIST, err, errlen);
    if (statement == NULL)
        return -1;
    sqlite_bind_int64(statement, ":now", now);
    void *rows = NULL;
    if (sqlite_collect_rows(store, statement, sizeof(StoreInstance), sqlite_instance_read,
                            sqlite_instance_clear, "list instances", &rows, count, err,
                            errlen) != 0)
        return -1;
    *out = rows;
    return 0;
}
