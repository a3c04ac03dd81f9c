/*
 * store/pg_schema: the PostgreSQL database's schema. Migrations
 * (migrations/postgresql/NNN_name.sql, built into heraldd) are applied at
 * open by one session that holds an advisory lock, so two heraldd starting
 * together against one database migrate it once (the other waits, then
 * finds it done); each is recorded in schema_migrations when it succeeded,
 * and a database newer than this binary is refused. pg_inspect() tells
 * --check-config what start-up will find, changing nothing.
 *
 * Other heraldd keep working on the database while it migrates (a rolling
 * upgrade: README, "Upgrading several heraldd"), so a migration must never
 * make their writes wait long. The rules for writing one:
 *
 * - A migration runs in one transaction (with the ones next to it) unless its
 *   file holds the line "-- herald: no-transaction" (pg_migration.c).
 * - In a transaction: only what takes its table's lock for an instant. Adding
 *   a table, a nullable column, a column with a constant default (PostgreSQL
 *   11+: no rewrite), a constraint declared NOT VALID, a table setting; an
 *   index on a table that is new or always small. The session's lock_timeout
 *   is PG_MIGRATION_LOCK_TIMEOUT_MS: a statement waiting for its lock (ALTER
 *   TABLE waits for every open transaction on the table) holds every write
 *   queued behind it for no longer than that; the transaction is then rolled
 *   back and tried again (PG_MIGRATION_TRIES).
 * - Outside a transaction, statement by statement: what reads a whole large
 *   table (attempts, tasks, task_bodies hold millions of rows) while writes
 *   go on: CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS, DROP INDEX
 *   CONCURRENTLY IF EXISTS, ALTER TABLE ... VALIDATE CONSTRAINT (of one added
 *   NOT VALID by an earlier migration). These take SHARE UPDATE EXCLUSIVE,
 *   which no write waits for, so they run with no lock_timeout (a build waits
 *   for the transactions open on its table, and one given up would be thrown
 *   away). Each statement must be safe to run again: a crash part-way leaves
 *   the migration unrecorded, and the next start runs it all again. An index
 *   whose concurrent build was cut short is left INVALID (and IF NOT EXISTS
 *   would keep it): it is dropped and built again here.
 * - Never in any migration: CREATE INDEX on a large table in a transaction
 *   (it stops the table's writes until it is built), a column or constraint
 *   whose check reads the table under its lock (SET NOT NULL, a CHECK or
 *   foreign key not declared NOT VALID), a type change that rewrites the
 *   table, or a removal or rename an older heraldd still uses, unless the
 *   migration waits for those heraldd to be gone: the line
 *   "-- herald: once-no-heraldd-before N" holds it (and every later one)
 *   back while a heraldd that knows fewer than N migrations beats
 *   (instances.schema_known), for a later start-up to apply.
 * - A copy of many rows (a backfill) runs outside a transaction, in batches
 *   that commit one by one (a procedure created by the migration before,
 *   and dropped only by one after, so that a run cut short finds it again),
 *   so no table's writes wait for the whole of it.
 * - A migration held back for older heraldd runs outside a transaction
 *   (pg_migration_check), and holds back every later one with it: while it
 *   can be held, no code may depend on it or on a migration after it.
 *
 * The whole session runs with statement_timeout off (a build takes what it
 * takes; its answer is waited for without limit) and, on PostgreSQL 14+,
 * client_connection_check_interval, so the server stops a build whose
 * heraldd died instead of finishing it for nobody under the lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pg.h"

/* The advisory lock migrations hold: "herald" in ASCII, a key no other
 * application is likely to use. Earlier releases took it per transaction
 * (pg_advisory_xact_lock); this session lock is the same lock. */
#define PG_MIGRATION_LOCK "6867649676332132"
/* How long a migration's statement in a transaction waits for a table lock
 * (other heraldd's writes queue behind it meanwhile), how many times its
 * transaction is tried, and the pause after the first failure (doubled each
 * time, up to PG_MIGRATION_BACKOFF_MAX_MS). About two minutes in all. */
#define PG_MIGRATION_LOCK_TIMEOUT_MS 1000
#define PG_MIGRATION_TRIES 30
#define PG_MIGRATION_BACKOFF_MS 100
#define PG_MIGRATION_BACKOFF_MAX_MS 5000
/* How often a heraldd waiting for another's migration tries the lock. */
#define PG_MIGRATION_POLL_MS 200
/* PostgreSQL 14+: how often the server checks a migrating heraldd is there. */
#define PG_MIGRATION_CLIENT_CHECK_MS 1000

static int pg_schema_read_version(PgStore *store, int64_t *version, char *err, size_t errlen)
{
    int64_t exists = 0;
    *version = 0;
    if (pg_query_int64(store, "SELECT to_regclass('schema_migrations') IS NOT NULL",
                       "schema version", &exists, err, errlen) != 0)
        return -1;
    if (!exists)
        return 0;
    return pg_query_int64(store, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                          "schema version", version, err, errlen);
}

bool pg_schema_has(PgStore *store, int version)
{
    if (store->schema_version >= version)
        return true;
    int64_t now = clock_monotonic_ms();
    if (store->schema_checked_at != 0 && now - store->schema_checked_at < PG_SCHEMA_RECHECK_MS)
        return false;
    store->schema_checked_at = now;
    int64_t found;
    char err[256];
    if (pg_schema_read_version(store, &found, err, sizeof err) == 0 &&
        found > store->schema_version)
        store->schema_version = (int)found;
    return store->schema_version >= version;
}

/* A statement on the migration's own session only: a new connection would
 * have neither the lock nor the settings, so a lost one ends the migration. */
static int pg_schema_exec(PgStore *store, uint64_t session, const char *sql, const char *what,
                          char *err, size_t errlen)
{
    if (store->conn == NULL || store->connection != session) {
        snprintf(err, errlen, "%s: the connection was lost during the migration", what);
        return -1;
    }
    return pg_exec(store, sql, what, err, errlen);
}

static int pg_schema_query(PgStore *store, uint64_t session, const char *sql, const char *what,
                           int64_t *out, char *err, size_t errlen)
{
    if (store->conn == NULL || store->connection != session) {
        snprintf(err, errlen, "%s: the connection was lost during the migration", what);
        return -1;
    }
    return pg_query_int64(store, sql, what, out, err, errlen);
}

/* Records MIGRATION as applied (creating the record's table the first time:
 * in the transaction of the first migrations, so a failed first start
 * leaves an empty database). */
static int pg_schema_record(PgStore *store, uint64_t session, const Migration *migration,
                            const char *what, char *err, size_t errlen)
{
    if (pg_schema_exec(store, session,
                       "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                       " name text NOT NULL, applied_at bigint NOT NULL)",
                       "schema_migrations", err, errlen) != 0)
        return -1;
    char record[256];
    /* The name is one of our own file names: [a-z0-9_]. */
    snprintf(record, sizeof record, "INSERT INTO schema_migrations VALUES (%d, '%s', %lld)",
             migration->version, migration->name, (long long)clock_now_ms());
    return pg_schema_exec(store, session, record, what, err, errlen);
}

/* Waits for the advisory lock as long as another heraldd migrates, saying
 * so once. A try in a loop rather than a wait in the server: the session's
 * lock_timeout stays short for the migration's own statements. */
static int pg_schema_lock(PgStore *store, uint64_t session, char *err, size_t errlen)
{
    int64_t began = clock_monotonic_ms();
    bool said = false;
    for (;;) {
        int64_t taken = 0;
        if (pg_schema_query(store, session, "SELECT pg_try_advisory_lock(" PG_MIGRATION_LOCK
                                            ")::integer",
                            "migration lock", &taken, err, errlen) != 0)
            return -1;
        if (taken) {
            if (said)
                log_info("event=migration_lock_taken waited_ms=%lld",
                         (long long)(clock_monotonic_ms() - began));
            return 0;
        }
        if (!said)
            log_info("event=migration_wait reason=\"another heraldd is migrating the schema\"");
        said = true;
        usleep(PG_MIGRATION_POLL_MS * 1000);
    }
}

/* Runs MIGRATIONS[FIRST..END-1] and their records in one transaction, tried
 * again while a statement's only failure is its lock_timeout. */
static int pg_schema_run_batch(PgStore *store, uint64_t session, const Migration *migrations,
                               size_t first, size_t end, char *err, size_t errlen)
{
    int64_t backoff = PG_MIGRATION_BACKOFF_MS;
    for (int attempt = 1;; attempt++) {
        int64_t began = clock_monotonic_ms();
        if (pg_begin(&store->base, err, errlen) != 0)
            return -1;
        bool ok = true;
        for (size_t i = first; i < end && ok; i++) {
            char what[160];
            snprintf(what, sizeof what, "migration %03d_%s", migrations[i].version,
                     migrations[i].name);
            ok = pg_schema_exec(store, session, migrations[i].sql, what, err, errlen) == 0 &&
                 pg_schema_record(store, session, &migrations[i], what, err, errlen) == 0;
        }
        if (ok && pg_commit(&store->base, err, errlen) == 0) {
            for (size_t i = first; i < end; i++)
                log_info("event=migration_applied version=%d name=%s transaction=yes ms=%lld",
                         migrations[i].version, migrations[i].name,
                         (long long)(clock_monotonic_ms() - began));
            return 0;
        }
        if (store->in_transaction)
            pg_rollback(&store->base);
        if (strstr(err, "(SQLSTATE 55P03)") == NULL || attempt >= PG_MIGRATION_TRIES)
            return -1;
        char quoted[600];
        log_warning("event=migration_retry attempt=%d error=%s", attempt,
                    log_quote(quoted, sizeof quoted, err));
        usleep((useconds_t)backoff * 1000);
        backoff = backoff * 2 < PG_MIGRATION_BACKOFF_MAX_MS ? backoff * 2 : PG_MIGRATION_BACKOFF_MAX_MS;
    }
}

/* Is index NAME there but INVALID (a concurrent build cut short)? */
static int pg_schema_index_state(PgStore *store, uint64_t session, const char *name,
                                 int64_t *valid, int64_t *invalid, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FILTER (WHERE NOT indisvalid) * 2 + count(*) FILTER (WHERE"
             " indisvalid) FROM pg_index WHERE indexrelid = to_regclass('%s')",
             name);
    int64_t state = 0;
    if (pg_schema_query(store, session, sql, "index state", &state, err, errlen) != 0)
        return -1;
    *valid = state & 1;
    *invalid = state >> 1;
    return 0;
}

/* A no-transaction migration: each statement on its own (an index whose build
 * was cut short dropped first, and checked valid after), then its record. */
static int pg_schema_run_outside(PgStore *store, uint64_t session, const Migration *migration,
                                 char *err, size_t errlen)
{
    char what[160];
    snprintf(what, sizeof what, "migration %03d_%s", migration->version, migration->name);
    if (pg_migration_check(migration, err, errlen) != 0)
        return -1;
    int64_t began = clock_monotonic_ms();
    log_info("event=migration_started version=%d name=%s transaction=no", migration->version,
             migration->name);
    if (pg_schema_exec(store, session, "SET lock_timeout = 0", what, err, errlen) != 0)
        return -1;
    const char *cursor = migration->sql, *start;
    size_t length;
    while ((cursor = pg_migration_statement(cursor, &start, &length)) != NULL) {
        char *statement = strndup(start, length);
        if (statement == NULL) {
            snprintf(err, errlen, "%s: out of memory", what);
            return -1;
        }
        char index[64], sql[128];
        int64_t valid = 0, invalid = 0;
        bool builds = pg_migration_index_name(statement, length, index, sizeof index);
        int rc = 0;
        if (builds) {
            rc = pg_schema_index_state(store, session, index, &valid, &invalid, err, errlen);
            if (rc == 0 && invalid) {
                log_warning("event=migration_repair version=%d index=%s reason=\"an earlier"
                            " build was cut short and left it invalid: dropped, built again\"",
                            migration->version, index);
                snprintf(sql, sizeof sql, "DROP INDEX CONCURRENTLY IF EXISTS %s", index);
                rc = pg_schema_exec(store, session, sql, what, err, errlen);
            }
        }
        if (rc == 0)
            rc = pg_schema_exec(store, session, statement, what, err, errlen);
        free(statement);
        if (rc == 0 && builds) {
            rc = pg_schema_index_state(store, session, index, &valid, &invalid, err, errlen);
            if (rc == 0 && !valid) {
                snprintf(err, errlen, "%s: index %s is not valid after its build", what, index);
                rc = -1;
            }
        }
        if (rc != 0)
            return -1;
    }
    char settings[64];
    snprintf(settings, sizeof settings, "SET lock_timeout = %d", PG_MIGRATION_LOCK_TIMEOUT_MS);
    if (pg_schema_exec(store, session, settings, what, err, errlen) != 0 ||
        pg_schema_record(store, session, migration, what, err, errlen) != 0)
        return -1;
    log_info("event=migration_applied version=%d name=%s transaction=no ms=%lld",
             migration->version, migration->name, (long long)(clock_monotonic_ms() - began));
    return 0;
}

/* The migration session's settings (on), or the store's own again (off). */
static int pg_schema_settings(PgStore *store, uint64_t session, bool on, char *err,
                              size_t errlen)
{
    char sql[256];
    bool check = PQserverVersion(store->conn) >= 140000;
    if (on)
        snprintf(sql, sizeof sql, "SET statement_timeout = 0; SET lock_timeout = %d%s",
                 PG_MIGRATION_LOCK_TIMEOUT_MS,
                 check ? "; SET client_connection_check_interval = "
                         STORE_STRINGIFY(PG_MIGRATION_CLIENT_CHECK_MS) : "");
    else
        snprintf(sql, sizeof sql, "SET statement_timeout = %lld; SET lock_timeout = %lld%s",
                 (long long)store->location->statement_timeout_ms,
                 (long long)store->location->busy_timeout_ms,
                 check ? "; RESET client_connection_check_interval" : "");
    store->migrating = on;
    return pg_schema_exec(store, session, sql, "migration settings", err, errlen);
}

/* *OLDER: how many heraldd that know fewer migrations than MIGRATION asks
 * for (pg_migration_needs_no_older) have beaten lately, by the server's
 * clock; 0 for a migration that asks nothing. */
static int pg_schema_older_running(PgStore *store, uint64_t session, const Migration *migration,
                                   int *older, char *err, size_t errlen)
{
    *older = 0;
    int before = pg_migration_needs_no_older(migration);
    if (before == 0)
        return 0;
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM instances WHERE schema_known < %d AND heartbeat_at > " PG_CLOCK_MS
             " - %d",
             before, PG_MIGRATION_OLDER_BEAT_MS);
    int64_t count = 0;
    if (pg_schema_query(store, session, sql, "heraldd of earlier releases", &count, err,
                        errlen) != 0)
        return -1;
    *older = (int)count;
    return 0;
}

static int pg_schema_migrate(PgStore *store, const Migration *migrations, size_t count, char *err,
                             size_t errlen)
{
    int64_t current;
    if (store->conn == NULL && pg_connect_now(store, 0, err, errlen) != 0)
        return -1;
    uint64_t session = store->connection;
    if (pg_schema_settings(store, session, true, err, errlen) != 0 ||
        pg_schema_lock(store, session, err, errlen) != 0 ||
        pg_schema_read_version(store, &current, err, errlen) != 0)
        goto fail;
    if (current > (int64_t)count) {
        snprintf(err, errlen,
                 "database schema version %lld is newer than this heraldd knows (%zu); "
                 "run a newer heraldd or restore a backup",
                 (long long)current, count);
        goto fail;
    }
    size_t applied = count;
    for (size_t i = (size_t)current; i < count;) {
        int older = 0;
        if (pg_schema_older_running(store, session, &migrations[i], &older, err, errlen) != 0)
            goto fail;
        if (older > 0) {
            log_warning("event=migration_deferred version=%d name=%s older_heraldd=%d reason=\"it "
                        "takes away what heraldd before migration %03d use; a start-up once "
                        "they are all upgraded applies it\"",
                        migrations[i].version, migrations[i].name, older,
                        pg_migration_needs_no_older(&migrations[i]));
            applied = i;
            break;
        }
        if (pg_migration_outside_transaction(&migrations[i])) {
            if (pg_schema_run_outside(store, session, &migrations[i], err, errlen) != 0)
                goto fail;
            i++;
            continue;
        }
        size_t end = i + 1;
        while (end < count && !pg_migration_outside_transaction(&migrations[end]))
            end++;
        if (pg_schema_run_batch(store, session, migrations, i, end, err, errlen) != 0)
            goto fail;
        i = end;
    }
    if (pg_schema_exec(store, session, "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK ")",
                       "migration lock", err, errlen) != 0 ||
        pg_schema_settings(store, session, false, err, errlen) != 0)
        goto fail;
    store->schema_version = (int)applied;
    return 0;
fail:
    /* The session ends with its lock, its settings and any transaction. */
    store->migrating = false;
    store->in_transaction = false;
    pg_drop_connection(store);
    return -1;
}

int pg_check_schema(PgStore *store, const Migration *migrations, size_t count, bool migrate,
                    char *err, size_t errlen)
{
    if (migrate)
        return pg_schema_migrate(store, migrations, count, err, errlen);
    int64_t version;
    if (pg_schema_read_version(store, &version, err, errlen) != 0)
        return -1;
    /* Short of the newest only by a migration held back for older heraldd
     * (and those after it), as a migrating start-up leaves it. */
    bool held = version >= 0 && version < (int64_t)count &&
                pg_migration_needs_no_older(&migrations[version]) > 0;
    if (version != (int64_t)count && !held) {
        snprintf(err, errlen, "schema version %lld, expected %zu", (long long)version, count);
        return -1;
    }
    store->schema_version = (int)version;
    return 0;
}

int pg_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->schema_known = (int)migrations_postgresql.count;
    PgStore *store = pg_store_new(location, STORE_DURABILITY_FULL, err, errlen);
    if (store == NULL)
        return -1;
    int result = -1;
    char detail[512], name[512];
    int64_t version = 0, can_create = 0;
    store_location_name(location, name, sizeof name);
    if (pg_connect_now(store, 0, detail, sizeof detail) != 0 ||
        pg_schema_read_version(store, &version, detail, sizeof detail) != 0 ||
        pg_query_int64(store,
                       "SELECT coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)",
                       "privileges", &can_create, detail, sizeof detail) != 0) {
        snprintf(err, errlen, "database %s: %s", name, detail);
        goto done;
    }
    const char *server = PQparameterStatus(store->conn, "server_version");
    snprintf(out->server, sizeof out->server, "PostgreSQL %.*s",
             server ? (int)strcspn(server, " ") : 1, server ? server : "?");
    out->schema_version = (int)version;
    if (version > out->schema_known)
        snprintf(err, errlen, "database %s: schema version %lld is newer than this heraldd knows (%d)",
                 name, (long long)version, out->schema_known);
    else if (version < out->schema_known && !can_create)
        snprintf(err, errlen,
                 "database %s: the role cannot create tables in the first schema %s, so "
                 "start-up cannot "
                 "migrate it (make the role the schema's owner, or GRANT CREATE)",
                 name, "of its search_path");
    else
        result = 0;
done:
    pg_close(&store->base);
    return result;
}
