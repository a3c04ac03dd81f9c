/*
 * json_write: builds JSON text straight into a Buffer.
 *
 * The hot replies (the 201 of every accepted task, up to 1000 tasks per batch)
 * are written with this instead of a cJSON tree, which would cost several
 * allocations per member and a second pass to print. String escaping matches
 * cJSON's printer, so both paths give the same bytes. Commas are placed by the
 * writer. Errors are sticky: after a failed append every later call does
 * nothing and json_write_finish returns NULL, so callers check once.
 */
#ifndef HERALD_JSON_WRITE_H
#define HERALD_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

typedef struct JsonWriter {
    Buffer buffer;
    bool failed;     /* an append failed (out of memory or over the limit) */
    bool need_comma; /* the next member or element follows another */
} JsonWriter;

void json_write_init(JsonWriter *writer, size_t limit);

void json_write_begin_object(JsonWriter *writer);
void json_write_end_object(JsonWriter *writer);
void json_write_begin_array(JsonWriter *writer);
void json_write_end_array(JsonWriter *writer);

/* Makes room for about LENGTH more bytes at once (see buffer_reserve). */
void json_write_reserve(JsonWriter *writer, size_t length);

/* Writes a member's name; the next call writes its value. KEY is one of
 * herald's own names, written as is: it must need no escaping. */
void json_write_key(JsonWriter *writer, const char *key);

/* TEXT NULL writes null. TEXT must be valid UTF-8 (herald's strings are). */
void json_write_string(JsonWriter *writer, const char *text);
void json_write_int(JsonWriter *writer, int64_t value);
void json_write_bool(JsonWriter *writer, bool value);
void json_write_null(JsonWriter *writer);
/* Writes TEXT, already valid JSON, as a value. */
void json_write_raw(JsonWriter *writer, const char *text, size_t length);

/* Ends the document with a newline, as every herald reply does (friendlier
 * to people reading replies with curl). */
void json_write_newline(JsonWriter *writer);

/* Returns the text (heap, NUL-terminated, owned by the caller; *LENGTH set if
 * not NULL), or NULL if any append failed. Either way the writer is reset. */
char *json_write_finish(JsonWriter *writer, size_t *length);

/* Frees what was written so far, for a caller abandoning the text. */
void json_write_discard(JsonWriter *writer);

#endif
