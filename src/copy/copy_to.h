/*
 * copy_to: heraldd --copy-to URL, the move from SQLite to PostgreSQL.
 *
 * Run while heraldd is stopped (the SQLite file's instance lock is taken,
 * so a running heraldd makes it refuse). Opens the SQLite database of the
 * configuration (bringing its schema to this binary's, as start-up would),
 * creates herald's schema in the empty PostgreSQL database at URL, copies
 * everything with copy_store() and prints what it copied. The password for
 * URL comes from the URL or libpq's own PGPASSWORD / PGPASSFILE.
 */
#ifndef HERALD_COPY_TO_H
#define HERALD_COPY_TO_H

#include "store.h"

/* Copies the SQLite database at SOURCE into the PostgreSQL database at URL
 * (its password read from PASSWORD_FILE's first line, if not NULL: the file
 * [storage] password_file names once url is set). Returns main's exit
 * status: 0 copied and verified, 1 not (logged). */
int copy_to_run(const StoreLocation *source, const char *url, const char *password_file);

#endif
