/*
 * telemetry_headers: "name=value,..." into header lines (see the header).
 */
#include "telemetry_headers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool telemetry_is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int telemetry_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One "name=value" (LENGTH bytes, blanks around either trimmed) as a line. */
static char *telemetry_header_line(const char *pair, size_t length, char *err, size_t errlen)
{
    while (length > 0 && (*pair == ' ' || *pair == '\t'))
        pair++, length--;
    while (length > 0 && (pair[length - 1] == ' ' || pair[length - 1] == '\t'))
        length--;
    const char *equals = memchr(pair, '=', length);
    size_t name_length = equals != NULL ? (size_t)(equals - pair) : 0;
    while (name_length > 0 && (pair[name_length - 1] == ' ' || pair[name_length - 1] == '\t'))
        name_length--;
    if (equals == NULL || name_length == 0) {
        /* Not echoed: it may hold a token ("Authorization Bearer ..."). */
        snprintf(err, errlen, "headers: an entry is not name=value (name=value,name2=value2)");
        return NULL;
    }
    for (size_t i = 0; i < name_length; i++) {
        if (!telemetry_is_token_char(pair[i])) {
            snprintf(err, errlen, "headers: \"%.*s\" is not a header name", (int)name_length,
                     pair);
            return NULL;
        }
    }
    /* The request's framing and content are libcurl's and herald's to say. */
    static const char *const reserved[] = {"Content-Length", "Content-Type", "Content-Encoding",
                                           "Transfer-Encoding", "Host", "Expect", "Connection"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (strlen(reserved[i]) == name_length && strncasecmp(pair, reserved[i], name_length) == 0) {
            snprintf(err, errlen, "headers: %s is herald's to set", reserved[i]);
            return NULL;
        }
    }
    const char *value = equals + 1, *end = pair + length;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    char *line = malloc(name_length + 2 + (size_t)(end - value) + 1);
    if (line == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(line, pair, name_length);
    size_t used = name_length;
    line[used++] = ':';
    line[used++] = ' ';
    for (const char *c = value; c < end; c++) {
        int high, low;
        unsigned char byte = (unsigned char)*c;
        if (*c == '%' && end - c >= 3 && (high = telemetry_hex(c[1])) >= 0 &&
            (low = telemetry_hex(c[2])) >= 0) {
            byte = (unsigned char)(high << 4 | low);
            c += 2;
        }
        if (byte < 0x20 || byte == 0x7f) {
            snprintf(err, errlen, "headers: the value of %.*s holds a control character",
                     (int)name_length, pair);
            free(line);
            return NULL;
        }
        line[used++] = (char)byte;
    }
    line[used] = '\0';
    return line;
}

void telemetry_headers_free(char **lines, int count)
{
    for (int i = 0; i < count; i++)
        free(lines[i]);
    free(lines);
}

int telemetry_headers_parse(const char *text, char ***lines, char *err, size_t errlen)
{
    *lines = NULL;
    if (text[strspn(text, " \t")] == '\0')
        return 0;
    char **parsed = calloc(TELEMETRY_HEADERS_MAX, sizeof *parsed);
    if (parsed == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int count = 0;
    for (const char *cursor = text;;) {
        const char *comma = strchr(cursor, ',');
        size_t length = comma != NULL ? (size_t)(comma - cursor) : strlen(cursor);
        if (count == TELEMETRY_HEADERS_MAX) {
            snprintf(err, errlen, "headers: more than %d", TELEMETRY_HEADERS_MAX);
            telemetry_headers_free(parsed, count);
            return -1;
        }
        if ((parsed[count] = telemetry_header_line(cursor, length, err, errlen)) == NULL) {
            telemetry_headers_free(parsed, count);
            return -1;
        }
        count++;
        if (comma == NULL)
            break;
        cursor = comma + 1;
    }
    *lines = parsed;
    return count;
}
