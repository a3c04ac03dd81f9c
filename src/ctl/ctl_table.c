/*
 * ctl_table: see ctl_table.h. Widths count UTF-8 characters, not bytes.
 */
#include "ctl_table.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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
    table->has_header = header != NULL;
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

size_t ctl_table_width(FILE *out)
{
    const char *columns = getenv("COLUMNS");
    char *end = NULL;
    long value = columns ? strtol(columns, &end, 10) : 0;
    if (columns != NULL && *columns != '\0' && *end == '\0' && value >= 20 && value <= 1000)
        return (size_t)value;
    /* Output that is not a terminal (a pipe to grep, a file) is never cut:
     * what is cut cannot be found. */
    if (!isatty(fileno(out)))
        return CTL_TABLE_UNLIMITED;
    struct winsize size;
    if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
        return size.ws_col;
    return CTL_TABLE_DEFAULT_WIDTH;
}

/* The byte length of TEXT's first COUNT characters (UTF-8). */
static size_t ctl_table_prefix(const char *text, size_t count)
{
    size_t i = 0;
    while (text[i] != '\0' && count > 0) {
        i++;
        while (((unsigned char)text[i] & 0xC0) == 0x80)
            i++;
        count--;
    }
    return i;
}

static void ctl_table_pad(FILE *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        fputc(' ', out);
}

/* Narrows the widest columns, never below CTL_TABLE_MIN_COLUMN, until the
 * row fits WIDTH: first those of free text (wider than CTL_TABLE_SHORT: URLs,
 * errors, business ids), so that ids, states and times stay whole; then, if
 * that is not enough, any but the first (what each row is: an id). */
static void ctl_table_fit(size_t *widths, size_t columns, size_t width)
{
    size_t total = 2 * (columns - 1);
    bool text[CTL_TABLE_COLUMNS_MAX];
    for (size_t c = 0; c < columns; c++) {
        total += widths[c];
        text[c] = widths[c] > CTL_TABLE_SHORT;
    }
    for (int pass = 0; pass < 2; pass++) {
        while (total > width) {
            size_t widest = columns;
            for (size_t c = 1; c < columns; c++) {
                if ((pass == 1 || text[c]) && (widest == columns || widths[c] > widths[widest]))
                    widest = c;
            }
            if (widest == columns || widths[widest] <= CTL_TABLE_MIN_COLUMN)
                break;
            widths[widest]--;
            total--;
        }
    }
}

void ctl_table_print(const CtlTable *table, FILE *out, size_t width)
{
    size_t widths[CTL_TABLE_COLUMNS_MAX] = {0};
    size_t columns = table->columns < CTL_TABLE_COLUMNS_MAX ? table->columns
                                                            : CTL_TABLE_COLUMNS_MAX;
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < columns; c++) {
            const char *cell = table->cells[r * table->columns + c];
            size_t cell_width = cell ? utf8_count_code_points(cell) : 0;
            if (cell_width > widths[c])
                widths[c] = cell_width;
        }
    }
    /* A list is cut to fit (a cut cell ends in "~"); the value column of a
     * key/value table wraps, since it is all there is to see of one thing. */
    size_t wrap = 0;
    if (table->has_header) {
        ctl_table_fit(widths, columns, width);
    } else if (columns >= 2) {
        size_t used = 2 * (columns - 1);
        for (size_t c = 0; c + 1 < columns; c++)
            used += widths[c];
        wrap = width > used + CTL_TABLE_MIN_COLUMN ? width - used : CTL_TABLE_MIN_COLUMN;
    }
    for (size_t r = 0; r < table->rows; r++) {
        size_t indent = 0;
        for (size_t c = 0; c < columns; c++) {
            const char *cell = table->cells[r * table->columns + c];
            cell = cell ? cell : "?";
            bool last = c + 1 == columns;
            size_t cell_width = utf8_count_code_points(cell);
            if (last && wrap > 0) {
                /* Wrapped lines start under the value. */
                while (cell_width > wrap) {
                    size_t bytes = ctl_table_prefix(cell, wrap);
                    fwrite(cell, 1, bytes, out);
                    fputc('\n', out);
                    ctl_table_pad(out, indent);
                    cell += bytes;
                    cell_width -= wrap;
                }
                fputs(cell, out);
            } else if (cell_width > widths[c]) {
                fwrite(cell, 1, ctl_table_prefix(cell, widths[c] - 1), out);
                fputc('~', out);
                cell_width = widths[c];
            } else {
                fputs(cell, out);
            }
            if (!last)
                ctl_table_pad(out, widths[c] - cell_width + 2);
            indent += widths[c] + 2;
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
