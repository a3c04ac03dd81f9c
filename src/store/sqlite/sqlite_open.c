/*
 * sqlite_open: a connection to the SQLite file, as heraldd and its tools
 * open it: the pragmas (WAL, synchronous, busy timeout, foreign keys) and
 * the schema brought to this binary's (sqlite_schema.c), or only checked.
 * Above sqlite.c's helpers and the schema's runner, which never call it.
 */
#include "sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sqlite_set_pragmas(SqliteStore *store, int64_t busy_timeout_ms, bool durable, char *err,
                              size_t errlen)
{
    if (sqlite3_busy_timeout(store->db, (int)busy_timeout_ms) != SQLITE_OK)
        return sqlite_fail(store, "busy_timeout", err, errlen);
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, "PRAGMA journal_mode=WAL", -1, &statement, NULL) != SQLITE_OK)
        return sqlite_fail(store, "journal_mode", err, errlen);
    int rc = sqlite3_step(statement);
    bool wal =
        rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(statement, 0), "wal") == 0;
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW)
        return sqlite_fail(store, "journal_mode", err, errlen);
    if (!wal) {
        snprintf(err, errlen,
                 "the database could not be put in WAL mode (is the filesystem "
                 "one that supports shared memory?)");
        return -1;
    }
    /* FULL: a commit is fsynced before it returns; that is what a 201 promises.
     * NORMAL (the scheduler's claims and outcomes): a commit lost to a power
     * failure only makes a task go out again, which at-least-once allows. */
    return sqlite_exec(store,
                       durable ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                 " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;"
                               : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                                 " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;",
                       "pragmas", err, errlen);
}

Store *sqlite_open(const StoreLocation *location, const StoreOptions *options, char *err,
                   size_t errlen)
{
    const char *path = location->path;
    SqliteStore *store = calloc(1, sizeof *store);
    if (store == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(store->path, sizeof store->path, "%s", path);
    const Migration *migrations =
        options->migrations ? options->migrations : migrations_sqlite.list;
    size_t count = options->migrations ? options->migration_count : migrations_sqlite.count;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 store->db ? sqlite3_errmsg(store->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(store->db, 1);
    char detail[512];
    if (sqlite_set_pragmas(store, location->busy_timeout_ms,
                           options->durability == STORE_DURABILITY_FULL, detail,
                           sizeof detail) != 0) {
        snprintf(err, errlen, "database %s: %s", path, detail);
        goto fail;
    }
    if (options->migrate) {
        if (sqlite_apply_migrations(store, migrations, count, detail, sizeof detail) != 0) {
            snprintf(err, errlen, "database %s: %s", path, detail);
            goto fail;
        }
    } else {
        int version = 0;
        if (sqlite_query_int(store, "PRAGMA user_version", &version, detail, sizeof detail) != 0) {
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
    return &store->base;
fail:
    sqlite_close(&store->base);
    return NULL;
}
