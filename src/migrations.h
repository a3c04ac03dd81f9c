/*
 * migrations: the schema changes in migrations/NNN_name.sql, compiled into
 * the binary (tools/embed_migrations.sh) so a heraldd always carries exactly
 * the migrations it was written for. The store applies them in order.
 */
#ifndef HERALD_MIGRATIONS_H
#define HERALD_MIGRATIONS_H

#include <stddef.h>

typedef struct Migration {
    int version; /* 1, 2, 3, ... */
    const char *name;
    const char *sql;
} Migration;

extern const Migration migration_list[];
extern const size_t migration_count;

#endif
