/*
 * json_write: JSON text straight into a Buffer (see json_write.h).
 */
#include "json_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_write_append(JsonWriter *writer, const char *data, size_t length)
{
    Buffer *buffer = &writer->buffer;
    /* Room already there (the common case after json_write_reserve): copy
     * without a call. Capacity never exceeds the limit + 1, so this cannot
     * pass the limit. */
    if (!writer->failed && length < buffer->capacity - buffer->length) {
        memcpy(buffer->data + buffer->length, data, length);
        buffer->length += length;
        buffer->data[buffer->length] = '\0';
        return;
    }
    if (!writer->failed && buffer_append(buffer, data, length) != 0)
        writer->failed = true;
}

/* Starts a value: a comma first if it follows another in an array. */
static void json_write_value_start(JsonWriter *writer)
{
    if (writer->need_comma)
        json_write_append(writer, ",", 1);
    writer->need_comma = true;
}

void json_write_init(JsonWriter *writer, size_t limit)
{
    buffer_init(&writer->buffer, limit);
    writer->failed = false;
    writer->need_comma = false;
}

void json_write_reserve(JsonWriter *writer, size_t length)
{
    if (!writer->failed && buffer_reserve(&writer->buffer, length) != 0)
        writer->failed = true;
}

void json_write_begin_object(JsonWriter *writer)
{
    json_write_value_start(writer);
    json_write_append(writer, "{", 1);
    writer->need_comma = false;
}

void json_write_end_object(JsonWriter *writer)
{
    json_write_append(writer, "}", 1);
    writer->need_comma = true;
}

void json_write_begin_array(JsonWriter *writer)
{
    json_write_value_start(writer);
    json_write_append(writer, "[", 1);
    writer->need_comma = false;
}

void json_write_end_array(JsonWriter *writer)
{
    json_write_append(writer, "]", 1);
    writer->need_comma = true;
}

/* Escapes like cJSON's printer: the two JSON metacharacters, the short forms
 * of the common controls, \u00XX for the other controls, all else as is. */
static void json_write_quoted(JsonWriter *writer, const char *text)
{
    json_write_append(writer, "\"", 1);
    const char *run = text;
    for (const char *cursor = text; *cursor != '\0'; cursor++) {
        unsigned char c = (unsigned char)*cursor;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        json_write_append(writer, run, (size_t)(cursor - run));
        char escape[8];
        size_t length = 2;
        escape[0] = '\\';
        switch (c) {
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        default: length = (size_t)snprintf(escape, sizeof escape, "\\u%04x", c); break;
        }
        json_write_append(writer, escape, length);
        run = cursor + 1;
    }
    json_write_append(writer, run, strlen(run));
    json_write_append(writer, "\"", 1);
}

void json_write_key(JsonWriter *writer, const char *key)
{
    json_write_value_start(writer);
    json_write_append(writer, "\"", 1);
    json_write_append(writer, key, strlen(key));
    json_write_append(writer, "\":", 2);
    writer->need_comma = false;
}

void json_write_string(JsonWriter *writer, const char *text)
{
    if (text == NULL) {
        json_write_null(writer);
        return;
    }
    json_write_value_start(writer);
    json_write_quoted(writer, text);
}

void json_write_int(JsonWriter *writer, int64_t value)
{
    /* By hand rather than snprintf: several per task in every reply. */
    char digits[24];
    char *cursor = digits + sizeof digits;
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        *--cursor = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        *--cursor = '-';
    json_write_raw(writer, cursor, (size_t)(digits + sizeof digits - cursor));
}

void json_write_bool(JsonWriter *writer, bool value)
{
    json_write_raw(writer, value ? "true" : "false", value ? 4 : 5);
}

void json_write_null(JsonWriter *writer)
{
    json_write_raw(writer, "null", 4);
}

void json_write_raw(JsonWriter *writer, const char *text, size_t length)
{
    json_write_value_start(writer);
    json_write_append(writer, text, length);
}

void json_write_newline(JsonWriter *writer)
{
    json_write_append(writer, "\n", 1);
    writer->need_comma = false;
}

char *json_write_finish(JsonWriter *writer, size_t *length)
{
    char *text = NULL;
    if (!writer->failed) {
        /* An empty buffer has no data yet: hand out an empty string. */
        text = writer->buffer.data ? writer->buffer.data : strdup("");
        if (length != NULL)
            *length = writer->buffer.length;
    } else {
        free(writer->buffer.data);
    }
    writer->buffer.data = NULL;
    json_write_init(writer, writer->buffer.limit);
    return text;
}

void json_write_discard(JsonWriter *writer)
{
    free(json_write_finish(writer, NULL));
}
