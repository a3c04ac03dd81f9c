/*
 * utf8: see utf8.h. Follows the well-formed byte sequence table of the
 * Unicode standard (Table 3-7).
 */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_sequence_length(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = *p;
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char low = 0x80, high = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            low = 0xA0; /* no overlongs */
        if (c == 0xED)
            high = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            low = 0x90;
        if (c == 0xF4)
            high = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) <= need || p[1] < low || p[1] > high)
        return 0;
    for (size_t i = 2; i <= need; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    }
    return need + 1;
}

char *utf8_sanitize(const char *text, size_t length)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    char *out = malloc(length * 3 + 1); /* each byte becomes at most 3 */
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + length;
    size_t written = 0;
    while (p < end) {
        size_t sequence = *p == 0 ? 0 : utf8_sequence_length(p, end);
        if (sequence == 0) {
            memcpy(out + written, replacement, 3);
            written += 3;
            p++;
        } else {
            memcpy(out + written, p, sequence);
            written += sequence;
            p += sequence;
        }
    }
    out[written] = '\0';
    return out;
}

bool utf8_is_valid(const char *text, size_t length)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + length;
    while (p < end) {
        /* Eight ASCII bytes at a time: request bodies are nearly all ASCII,
         * and every body is checked. memcpy keeps the load aligned-safe. */
        if (end - p >= 8) {
            uint64_t block;
            memcpy(&block, p, sizeof block);
            if ((block & UINT64_C(0x8080808080808080)) == 0) {
                p += 8;
                continue;
            }
        }
        size_t sequence = utf8_sequence_length(p, end);
        if (sequence == 0)
            return false;
        p += sequence;
    }
    return true;
}

size_t utf8_count_code_points(const char *text)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            count++;
    }
    return count;
}

void utf8_repair(char *text)
{
    unsigned char *p = (unsigned char *)text;
    unsigned char *end = p + strlen(text);
    while (p < end) {
        size_t sequence = utf8_sequence_length(p, end);
        if (sequence == 0) {
            *p++ = '?';
        } else {
            p += sequence;
        }
    }
}
