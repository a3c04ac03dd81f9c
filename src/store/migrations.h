/*
 * migrations: the schema changes in migrations/BACKEND/NNN_name.sql, one
 * set per storage backend, compiled into the binary
 * (tools/embed_migrations.sh) so a heraldd always carries exactly the
 * migrations it was written for. The store applies them in order.
 */
#ifndef HERALD_MIGRATIONS_H
#define HERALD_MIGRATIONS_H

#include <stddef.h>

typedef struct Migration {
    int version; /* 1, 2, 3, ... */
    const char *name;
    const char *sql;
} Migration;

typedef struct MigrationSet {
    const Migration *list;
    size_t count;
} MigrationSet;

extern const MigrationSet migrations_sqlite;
extern const MigrationSet migrations_postgresql;

#endif
