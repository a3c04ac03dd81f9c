/*
 * ctl_table: aligned text tables for heraldctl's human-readable output, and
 * making text safe to print on a terminal.
 *
 * What heraldctl shows comes from others: receivers' responses, operators'
 * notes, clients' business ids. A receiver answering "\x1b[2J" must not
 * clear an operator's screen, and a note must not break a table's lines, so
 * every cell (and every error message heraldctl prints) goes through
 * ctl_table_printable(). --json output is the API's JSON as is: JSON escapes
 * control characters itself.
 * Cells are copied; the table owns them until ctl_table_free().
 */
#ifndef HERALD_CTL_TABLE_H
#define HERALD_CTL_TABLE_H

#include <stdio.h>

#define CTL_TABLE_COLUMNS_MAX 12

typedef struct CtlTable {
    size_t columns;
    size_t rows; /* including the header row */
    size_t capacity;
    char **cells; /* rows * columns */
} CtlTable;

/* A copy of TEXT (UTF-8) with what a terminal would act on written out
 * visibly instead: control characters (C0, DEL and C1) as \n, \t, \r or
 * \xHH and \u00HH, and the bidirectional overrides and isolates (U+202A-E,
 * U+2066-9, which can make text read differently than it is) as \uHHHH; a
 * byte that is not UTF-8 becomes \xHH. The caller frees it; NULL if out of
 * memory. */
char *ctl_table_printable(const char *text);

/* Starts a table with the given header (COLUMNS names), or none if NULL. */
void ctl_table_init(CtlTable *table, size_t columns, const char *const *header);

/* Adds a row of COLUMNS cells (NULL prints as "-"), made printable. Returns
 * 0, or -1 if out of memory. */
int ctl_table_add(CtlTable *table, const char *const *cells);

/* Prints the table with columns padded to their widest cell. */
void ctl_table_print(const CtlTable *table, FILE *out);

void ctl_table_free(CtlTable *table);

#endif
