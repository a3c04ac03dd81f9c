/*
 * store/pg_migration: how the PostgreSQL migration runner (pg_schema.c) reads
 * a migration's text. A migration whose file holds the line
 * "-- herald: no-transaction" runs outside any transaction, one statement at
 * a time, because CREATE INDEX CONCURRENTLY cannot run inside one; such a
 * file's statements each end with ";" at the end of a line, and no line
 * inside a statement does (our own files; nothing here parses SQL strings).
 * pg_migration_check() enforces what makes such a migration safe to run
 * again after a crash part-way (see pg_schema.c for the whole rule). A
 * migration may also say it waits for heraldd of earlier releases to be
 * gone (pg_migration_needs_no_older).
 * Nothing here talks to the server, so the unit tests check every migration
 * built into heraldd with it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pg.h"

/* Is [start, end) the marker line, give or take spaces? */
static bool pg_migration_is_marker(const char *start, const char *end)
{
    static const char marker[] = PG_MIGRATION_NO_TRANSACTION;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    return (size_t)(end - start) == sizeof marker - 1 &&
           memcmp(start, marker, sizeof marker - 1) == 0;
}

bool pg_migration_outside_transaction(const Migration *migration)
{
    const char *line = migration->sql;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        if (pg_migration_is_marker(line, end))
            return true;
        line = *end == '\n' ? end + 1 : end;
    }
    return false;
}

int pg_migration_needs_no_older(const Migration *migration)
{
    static const char marker[] = PG_MIGRATION_ONCE_NO_OLDER;
    const char *line = migration->sql;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        if ((size_t)(end - line) > sizeof marker - 1 &&
            memcmp(line, marker, sizeof marker - 1) == 0) {
            int version = 0;
            for (const char *p = line + sizeof marker - 1; p < end && isdigit((unsigned char)*p);
                 p++)
                version = version * 10 + (*p - '0');
            return version;
        }
        line = *end == '\n' ? end + 1 : end;
    }
    return 0;
}

/* A line that is blank or only a comment. */
static bool pg_migration_line_is_empty(const char *start, const char *end)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    return start == end || (end - start >= 2 && start[0] == '-' && start[1] == '-');
}

const char *pg_migration_statement(const char *cursor, const char **start, size_t *length)
{
    *start = NULL;
    *length = 0;
    const char *line = cursor;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        const char *next = *end == '\n' ? end + 1 : end;
        if (*start == NULL && pg_migration_line_is_empty(line, end)) {
            line = next;
            continue;
        }
        if (*start == NULL)
            *start = line;
        const char *last = end;
        while (last > line && isspace((unsigned char)last[-1]))
            last--;
        if (!pg_migration_line_is_empty(line, end) && last > line && last[-1] == ';') {
            *length = (size_t)(last - *start);
            return next;
        }
        line = next;
    }
    if (*start == NULL)
        return NULL;
    *length = (size_t)(line - *start); /* the last statement without its ";" */
    return line;
}

/* Skips the words of PHRASE (space-separated, upper case) at *TEXT, case
 * and spacing aside; true (and *TEXT past them) if they are all there. */
static bool pg_migration_skip_words(const char **text, const char *end, const char *phrase)
{
    const char *at = *text;
    while (*phrase != '\0') {
        while (at < end && isspace((unsigned char)*at))
            at++;
        size_t word = strcspn(phrase, " ");
        if ((size_t)(end - at) < word)
            return false;
        for (size_t i = 0; i < word; i++)
            if (toupper((unsigned char)at[i]) != phrase[i])
                return false;
        at += word;
        if (at < end && !isspace((unsigned char)*at) && *at != '(')
            return false; /* a longer word */
        phrase += word;
        while (*phrase == ' ')
            phrase++;
    }
    *text = at;
    return true;
}

bool pg_migration_index_name(const char *statement, size_t length, char *name, size_t namelen)
{
    const char *at = statement, *end = statement + length;
    if (!pg_migration_skip_words(&at, end, "CREATE"))
        return false;
    (void)pg_migration_skip_words(&at, end, "UNIQUE");
    if (!pg_migration_skip_words(&at, end, "INDEX CONCURRENTLY IF NOT EXISTS"))
        return false;
    while (at < end && isspace((unsigned char)*at))
        at++;
    size_t n = 0;
    while (at + n < end && (islower((unsigned char)at[n]) || isdigit((unsigned char)at[n]) ||
                            at[n] == '_'))
        n++;
    if (n == 0 || n >= namelen || (at + n < end && !isspace((unsigned char)at[n])))
        return false;
    memcpy(name, at, n);
    name[n] = '\0';
    return true;
}

/* Does WORD (upper case) appear in [START, END), outside "--" comments? */
static bool pg_migration_has_word(const char *start, const char *end, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = start; p < end; p++) {
        if (p + 1 < end && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        if ((size_t)(end - p) >= n && strncasecmp(p, word, n) == 0)
            return true;
    }
    return false;
}

int pg_migration_check(const Migration *migration, char *err, size_t errlen)
{
    bool outside = pg_migration_outside_transaction(migration);
    const char *cursor = migration->sql, *start;
    size_t length;
    int statements = 0;
    while ((cursor = pg_migration_statement(cursor, &start, &length)) != NULL) {
        const char *at = start, *end = start + length;
        char name[64];
        statements++;
        bool concurrently = pg_migration_has_word(start, end, "CONCURRENTLY");
        if (!outside && concurrently) {
            snprintf(err, errlen,
                     "migration %03d_%s: CONCURRENTLY cannot run in a transaction; the file needs "
                     "the line \"%s\"",
                     migration->version, migration->name, PG_MIGRATION_NO_TRANSACTION);
            return -1;
        }
        if (!outside)
            continue;
        const char *index = at;
        bool creates_index = pg_migration_skip_words(&index, end, "CREATE") &&
                             ((void)pg_migration_skip_words(&index, end, "UNIQUE"),
                              pg_migration_skip_words(&index, end, "INDEX"));
        if (creates_index && !pg_migration_index_name(start, length, name, sizeof name)) {
            snprintf(err, errlen,
                     "migration %03d_%s: statement %d: an index is built here only as CREATE "
                     "[UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS name (lower case): writes go on "
                     "while it builds, and a build cut short is found and done again",
                     migration->version, migration->name, statements);
            return -1;
        }
        const char *drop = at;
        if (pg_migration_skip_words(&drop, end, "DROP INDEX") &&
            !pg_migration_skip_words(&drop, end, "CONCURRENTLY IF EXISTS")) {
            snprintf(err, errlen,
                     "migration %03d_%s: statement %d: an index is dropped here only as DROP "
                     "INDEX CONCURRENTLY IF EXISTS (a plain DROP INDEX stops writes to its table)",
                     migration->version, migration->name, statements);
            return -1;
        }
    }
    if (statements == 0) {
        snprintf(err, errlen, "migration %03d_%s: no statement", migration->version,
                 migration->name);
        return -1;
    }
    if (pg_migration_needs_no_older(migration) > 0 && !outside) {
        snprintf(err, errlen,
                 "migration %03d_%s: one held back for older heraldd runs on its own, outside a "
                 "transaction (the line \"%s\"), so no batch carries it past the check",
                 migration->version, migration->name, PG_MIGRATION_NO_TRANSACTION);
        return -1;
    }
    return 0;
}
