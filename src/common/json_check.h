/*
 * json_check: is this text JSON, exactly as RFC 8259 defines it?
 *
 * cJSON is lenient: it takes numbers such as 01, 1., .5, +1, 0x1F, inf and
 * nan (it hands them to strtod), skips a UTF-8 byte-order mark and every
 * control byte as whitespace, and does not check escapes or encodings.
 * herald stores payloads byte for byte and serves them back inside its own
 * JSON, so whatever it accepts must be JSON for the strictest reader. Every
 * JSON text herald reads (request bodies, stored headers and alert details,
 * heraldctl's payload files) passes json_check() first, and cJSON only
 * parses text that passed; the offset-based scanners of json_raw rely on
 * that too.
 *
 * Beyond the grammar, json_check refuses what RFC 8259 leaves to
 * implementations and strict parsers reject: text that is not UTF-8
 * (overlongs, surrogates, > U+10FFFF), a byte-order mark, the escape \u0000
 * (cJSON would cut the string there), unpaired surrogate escapes (\ud800
 * alone), and nesting deeper than a limit (checked before any recursion).
 */
#ifndef HERALD_JSON_CHECK_H
#define HERALD_JSON_CHECK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define JSON_CHECK_MESSAGE_MAX 160
/* herald's nesting limit for everything it reads. */
#define JSON_CHECK_DEPTH_MAX 64

typedef struct JsonCheckError {
    size_t offset; /* of the first byte that is wrong */
    char message[JSON_CHECK_MESSAGE_MAX]; /* says what is wrong and where */
} JsonCheckError;

/* Returns 0 if the LENGTH bytes of TEXT are one JSON value (with optional
 * whitespace around it) nested at most MAX_DEPTH deep, else -1 with ERROR
 * filled (ERROR may be NULL). */
int json_check(const char *text, size_t length, int max_depth, JsonCheckError *error);

/* json_check() with MAX_DEPTH, then cJSON: the only way herald parses JSON.
 * Returns a document the caller owns (cJSON_Delete), or NULL with ERROR
 * filled (also when out of memory; ERROR may be NULL). */
cJSON *json_check_parse(const char *text, size_t length, int max_depth, JsonCheckError *error);

/* json_check_parse() of a NUL-terminated TEXT with herald's depth limit,
 * for JSON herald stored itself (task headers, alert details); NULL if TEXT
 * is not JSON. */
cJSON *json_check_parse_string(const char *text);

#endif
