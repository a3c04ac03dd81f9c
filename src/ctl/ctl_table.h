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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_TABLE_COLUMNS_MAX 12
/* The width tables fit when the output is not a terminal (and $COLUMNS is unset). */
#define CTL_TABLE_DEFAULT_WIDTH 80
/* No column is cut narrower than this; columns no wider than CTL_TABLE_SHORT
 * (ids, states, times) are cut only when cutting the others is not enough. */
#define CTL_TABLE_MIN_COLUMN 8
#define CTL_TABLE_SHORT 20

typedef struct CtlTable {
    size_t columns;
    bool has_header; /* a list (cells cut to fit), or key/value lines (values wrap) */
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

/* The width to fit: $COLUMNS, else the terminal's when OUT is one
 * (CTL_TABLE_DEFAULT_WIDTH if it does not say), else CTL_TABLE_UNLIMITED:
 * output that is not a terminal is never cut. */
#define CTL_TABLE_UNLIMITED SIZE_MAX
size_t ctl_table_width(FILE *out);

/* Prints the table in WIDTH columns: columns padded to their widest cell; a
 * list whose rows are wider has its widest columns of free text cut (a cut
 * cell ends in "~"; never the first, which says what the row is), a
 * key/value table wraps its values under themselves. */
void ctl_table_print(const CtlTable *table, FILE *out, size_t width);

void ctl_table_free(CtlTable *table);

#endif
