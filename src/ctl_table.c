/*
 * ctl_table: see ctl_table.h. Widths count UTF-8 characters, not bytes.
 */
#include "ctl_table.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void ctl_table_init(CtlTable *table, size_t columns, const char *const *header)
{
    memset(table, 0, sizeof *table);
    table->columns = columns;
    if (header != NULL)
        ctl_table_add(table, header);
}

int ctl_table_add(CtlTable *table, const char *const *cells)
{
    if (table->rows == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        char **grown = realloc(table->cells, capacity * table->columns * sizeof *grown);
        if (grown == NULL)
            return -1;
        table->cells = grown;
        table->capacity = capacity;
    }
    char **row = table->cells + table->rows * table->columns;
    for (size_t i = 0; i < table->columns; i++)
        row[i] = strdup(cells[i] ? cells[i] : "-");
    table->rows++;
    return 0;
}

void ctl_table_print(const CtlTable *table, FILE *out)
{
    size_t widths[CTL_TABLE_COLUMNS_MAX] = {0};
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < table->columns && c < CTL_TABLE_COLUMNS_MAX; c++) {
            const char *cell = table->cells[r * table->columns + c];
            size_t width = cell ? utf8_count_code_points(cell) : 0;
            if (width > widths[c])
                widths[c] = width;
        }
    }
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < table->columns && c < CTL_TABLE_COLUMNS_MAX; c++) {
            const char *cell = table->cells[r * table->columns + c];
            cell = cell ? cell : "?";
            bool last = c + 1 == table->columns;
            fputs(cell, out);
            if (!last) {
                size_t pad = widths[c] - utf8_count_code_points(cell) + 2;
                for (size_t i = 0; i < pad; i++)
                    fputc(' ', out);
            }
        }
        fputc('\n', out);
    }
}

void ctl_table_free(CtlTable *table)
{
    for (size_t i = 0; i < table->rows * table->columns; i++)
        free(table->cells[i]);
    free(table->cells);
    memset(table, 0, sizeof *table);
}
