/*
 * utf8: strict UTF-8 checks for text that herald stores and echoes back.
 *
 * The API is JSON in UTF-8; cJSON does not validate encodings, so request
 * bodies are checked here first. Overlong forms, surrogates and code points
 * above U+10FFFF are invalid.
 */
#ifndef HERALD_UTF8_H
#define HERALD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence starting at P, which
 * ends before END; 0 if the bytes there are not one. */
size_t utf8_sequence_length(const unsigned char *p, const unsigned char *end);

/* True if the LENGTH bytes at TEXT are well-formed UTF-8. */
bool utf8_is_valid(const char *text, size_t length);

/* Number of code points in the NUL-terminated, valid UTF-8 string TEXT. */
size_t utf8_count_code_points(const char *text);

/* Copies LENGTH bytes of TEXT into a new NUL-terminated string, replacing
 * each invalid UTF-8 sequence and each NUL by U+FFFD. The caller frees it;
 * NULL if out of memory. For showing bytes others sent (response bodies). */
char *utf8_sanitize(const char *text, size_t length);

/* Replaces, in place, each byte of TEXT (NUL-terminated) that is not part of
 * a well-formed UTF-8 sequence by '?': for text herald cut to fit a buffer
 * and must still emit as JSON. */
void utf8_repair(char *text);

#endif
