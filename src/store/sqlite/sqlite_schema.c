/*
 * store/sqlite_schema: the SQLite database's schema. Migrations
 * (migrations/sqlite/NNN_name.sql, built into heraldd) are applied at open
 * in one transaction and recorded, and a database newer than this binary is
 * refused; sqlite_inspect() tells --check-config what start-up will find
 * without changing anything.
 */
#include "sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static int sqlite_record_migration(SqliteStore *store, const Migration *migration, char *err,
                                   size_t errlen)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, "INSERT INTO schema_migrations VALUES (?, ?, ?)", -1,
                           &statement, NULL) != SQLITE_OK)
        return sqlite_fail(store, "record migration", err, errlen);
    sqlite3_bind_int(statement, 1, migration->version);
    sqlite3_bind_text(statement, 2, migration->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, clock_now_ms());
    int rc = sqlite_step(store, statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE)
        return sqlite_fail(store, "record migration", err, errlen);
    /* PRAGMA takes no parameters; the version is our own integer. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", migration->version);
    return sqlite_exec(store, pragma, "set user_version", err, errlen);
}

/* Applies migrations CURRENT..COUNT-1 in one transaction. */
static int sqlite_run_migrations(SqliteStore *store, const Migration *migrations, size_t count,
                                 int current, char *err, size_t errlen)
{
    if (sqlite_begin(&store->base, err, errlen) != 0)
        return -1;
    /* Re-read inside the write transaction: another process may have migrated. */
    if (sqlite_query_int(store, "PRAGMA user_version", &current, err, errlen) != 0)
        goto fail;
    if (sqlite_exec(store,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                    "schema_migrations", err, errlen) != 0)
        goto fail;
    for (size_t i = (size_t)current; i < count; i++) {
        char what[160];
        snprintf(what, sizeof what, "migration %03d_%s", migrations[i].version, migrations[i].name);
        if (sqlite_exec(store, migrations[i].sql, what, err, errlen) != 0)
            goto fail;
        if (sqlite_record_migration(store, &migrations[i], err, errlen) != 0)
            goto fail;
    }
    if (sqlite_commit(&store->base, err, errlen) != 0)
        return -1;
    store->schema_version = (int)count;
    return 0;
fail:
    sqlite_rollback(&store->base);
    return -1;
}

int sqlite_apply_migrations(SqliteStore *store, const Migration *migrations, size_t count,
                            char *err, size_t errlen)
{
    int current = 0;
    if (sqlite_query_int(store, "PRAGMA user_version", &current, err, errlen) != 0)
        return -1;
    if (current > (int)count) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this heraldd knows (%zu); "
                 "run a newer heraldd or restore a backup",
                 current, count);
        return -1;
    }
    if (current == (int)count) {
        store->schema_version = current;
        return 0;
    }
    /* Migration 003 edits sqlite_schema under writable_schema, which a SQLite
     * built or configured "defensive" refuses: allow it for the migrations
     * only, then put the setting back. */
    int defensive = 0;
    if (sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive) != SQLITE_OK ||
        sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL) != SQLITE_OK)
        return sqlite_fail(store, "defensive mode", err, errlen);
    int result = sqlite_run_migrations(store, migrations, count, current, err, errlen);
    if (sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, defensive, NULL) != SQLITE_OK &&
        result == 0)
        result = sqlite_fail(store, "defensive mode", err, errlen);
    return result;
}

int sqlite_inspect(const StoreLocation *location, StoreInspection *out, char *err, size_t errlen)
{
    const char *path = location->path;
    out->schema_version = 0;
    out->schema_known = (int)migrations_sqlite.count;
    snprintf(out->server, sizeof out->server, "SQLite %s", sqlite3_libversion());
    if (access(path, F_OK) != 0) {
        /* Not there yet: start-up creates it, so its directory must take a file. */
        char directory[sizeof((SqliteStore *)0)->path];
        snprintf(directory, sizeof directory, "%s", path);
        char *slash = strrchr(directory, '/');
        if (slash == NULL)
            snprintf(directory, sizeof directory, ".");
        else if (slash == directory)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (access(directory, W_OK | X_OK) != 0) {
            snprintf(err, errlen, "cannot create database %s: %s: %s", path, directory,
                     strerror(errno));
            return -1;
        }
        return 0;
    }
    if (access(path, R_OK | W_OK) != 0) {
        snprintf(err, errlen, "database %s: %s", path, strerror(errno));
        return -1;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    int result = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, NULL) != SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_ROW) {
        snprintf(err, errlen, "database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    } else {
        out->schema_version = sqlite3_column_int(statement, 0);
        if (out->schema_version > out->schema_known)
            snprintf(err, errlen,
                     "database %s: schema version %d is newer than this heraldd knows (%d)", path,
                     out->schema_version, out->schema_known);
        else
            result = 0;
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return result;
}
