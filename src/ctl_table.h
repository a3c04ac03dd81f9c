/*
 * ctl_table: aligned text tables for heraldctl's human-readable output.
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

/* Starts a table with the given header (COLUMNS names), or none if NULL. */
void ctl_table_init(CtlTable *table, size_t columns, const char *const *header);

/* Adds a row of COLUMNS cells (NULL prints as "-"). Returns 0, or -1 if out of memory. */
int ctl_table_add(CtlTable *table, const char *const *cells);

/* Prints the table with columns padded to their widest cell. */
void ctl_table_print(const CtlTable *table, FILE *out);

void ctl_table_free(CtlTable *table);

#endif
