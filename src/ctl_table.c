/*
 * ctl_table: see ctl_table.h. Widths count UTF-8 characters, not bytes.
 */
#include "ctl_table.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The code point of the well-formed SEQUENCE-byte UTF-8 sequence at P. */
static unsigned ctl_table_code_point(const unsigned char *p, size_t sequence)
{
    if (sequence == 1)
        return p[0];
    unsigned value = p[0] & (0xFF >> (sequence + 1));
    for (size_t i = 1; i < sequence; i++)
        value = (value << 6) | (p[i] & 0x3F);
    return value;
}

static bool ctl_table_is_bidi_control(unsigned code_point)
{
    return (code_point >= 0x202A && code_point <= 0x202E) ||
           (code_point >= 0x2066 && code_point <= 0x2069);
}

char *ctl_table_printable(const char *text)
{
    size_t length = strlen(text);
    char *out = malloc(length * 6 + 1); /* at most "\uHHHH" for each byte */
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + length;
    size_t used = 0;
    while (p < end) {
        size_t sequence = utf8_sequence_length(p, end);
        unsigned code_point = sequence ? ctl_table_code_point(p, sequence) : 0;
        if (sequence == 0) {
            used += (size_t)sprintf(out + used, "\\x%02x", *p);
            p++;
            continue;
        }
        if (code_point == '\n' || code_point == '\t' || code_point == '\r') {
            out[used++] = '\\';
            out[used++] = code_point == '\n' ? 'n' : code_point == '\t' ? 't' : 'r';
        } else if (code_point < 0x20 || code_point == 0x7F) {
            used += (size_t)sprintf(out + used, "\\x%02x", code_point);
        } else if ((code_point >= 0x80 && code_point <= 0x9F) ||
                   ctl_table_is_bidi_control(code_point)) {
            used += (size_t)sprintf(out + used, "\\u%04x", code_point);
        } else {
            memcpy(out + used, p, sequence);
            used += sequence;
        }
        p += sequence;
    }
    out[used] = '\0';
    return out;
}

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
        row[i] = ctl_table_printable(cells[i] ? cells[i] : "-");
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
