/*
 * store/pg_schema: the PostgreSQL database's schema. Migrations
 * (migrations/postgresql/NNN_name.sql, built into heraldd) are applied at
 * open in one transaction that holds an advisory lock, so two heraldd
 * starting together against one database migrate it once; each is recorded
 * in schema_migrations, and a database newer than this binary is refused.
 * pg_inspect() tells --check-config what start-up will find, changing
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store/pg.h"

/* The advisory lock migrations hold: "herald" in ASCII, a key no other
 * application is likely to use. */
#define PG_MIGRATION_LOCK "6867649676332132"

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

static int pg_schema_migrate(PgStore *store, const Migration *migrations, size_t count, char *err,
                             size_t errlen)
{
    int64_t current;
    if (pg_begin(&store->base, err, errlen) != 0)
        return -1;
    if (pg_exec(store, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")", "migration lock",
                err, errlen) != 0 ||
        pg_exec(store,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at bigint NOT NULL)",
                "schema_migrations", err, errlen) != 0 ||
        pg_schema_read_version(store, &current, err, errlen) != 0)
        goto fail;
    if (current > (int64_t)count) {
        snprintf(err, errlen,
                 "database schema version %lld is newer than this heraldd knows (%zu); "
                 "run a newer heraldd or restore a backup",
                 (long long)current, count);
        goto fail;
    }
    for (size_t i = (size_t)current; i < count; i++) {
        char what[160], record[256];
        snprintf(what, sizeof what, "migration %03d_%s", migrations[i].version,
                 migrations[i].name);
        /* The name is one of our own file names: [a-z0-9_]. */
        snprintf(record, sizeof record, "INSERT INTO schema_migrations VALUES (%d, '%s', %lld)",
                 migrations[i].version, migrations[i].name, (long long)clock_now_ms());
        if (pg_exec(store, migrations[i].sql, what, err, errlen) != 0 ||
            pg_exec(store, record, what, err, errlen) != 0)
            goto fail;
    }
    if (pg_commit(&store->base, err, errlen) != 0)
        return -1;
    store->schema_version = (int)count;
    return 0;
fail:
    pg_rollback(&store->base);
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
    if (version != (int64_t)count) {
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
