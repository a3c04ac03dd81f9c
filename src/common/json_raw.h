/*
 * json_raw: reading the original text of values inside a JSON document that
 * cJSON has already validated.
 *
 * cJSON keeps numbers as doubles, so printing a parsed payload back would
 * change integers above 2^53 (64-bit order ids) and the spelling of decimals.
 * herald promises to send the payload as the client wrote it, so the API
 * locates the payload's own text with these functions and only strips the
 * whitespace between tokens. The scanner trusts that the text is valid JSON:
 * call it only on text json_check() accepted. Even so, no function here reads
 * outside the span it is given, and json_raw_children_begin() fails (leaving
 * the iterator empty) on anything but an object or array.
 */
#ifndef HERALD_JSON_RAW_H
#define HERALD_JSON_RAW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct JsonSpan {
    size_t start; /* offset of the value's first byte */
    size_t end;   /* offset one past its last byte */
} JsonSpan;

/* The span of the whole document's top-level value (whitespace trimmed). */
JsonSpan json_raw_document(const char *text, size_t length);

/* Walks the values inside an object or array in text order, which is the
 * order of cJSON's children, so a caller can step both together. */
typedef struct JsonRawIterator {
    const char *text;
    size_t position;
    size_t end;   /* offset of the closing bracket */
    bool object;  /* members have keys to skip */
} JsonRawIterator;

/* Starts iterating the children of PARENT. Returns 0, or -1 if PARENT is
 * not an object or array. */
int json_raw_children_begin(const char *text, JsonSpan parent, JsonRawIterator *iterator);

/* Sets *OUT to the next child's value span. Returns 1, or 0 when done. */
int json_raw_children_next(JsonRawIterator *iterator, JsonSpan *out);

/* Whether the value at SPAN is written as an integer: digits, perhaps after
 * a minus, without a fraction or an exponent. cJSON reads
 * 0.99999999999999999 and 1e0 as the double 1; a field that is an integer
 * takes only what is written as one. */
bool json_raw_is_integer(const char *text, JsonSpan span);

/* Copies SPAN into OUT (at least span length + 1 bytes) without the
 * whitespace between tokens; returns the number of bytes written (NUL not
 * counted). */
size_t json_raw_minify(const char *text, JsonSpan span, char *out);

#endif
