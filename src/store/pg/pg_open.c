/*
 * pg_open: a session of heraldd's on PostgreSQL, as the store opens it:
 * connected (waiting up to startup_wait for the server), set up, and the
 * schema brought to this binary's (pg_schema.c), or only checked. Above
 * pg.c's helpers, the connection (pg_connect.c) and the schema's runner,
 * which never call it.
 */
#include "pg.h"

#include <stdio.h>

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
    store->schema_known = (int)count;
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
