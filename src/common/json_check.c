/*
 * json_check: see json_check.h. One forward pass, no recursion: containers
 * are kept on a small stack of their kinds, bounded by the depth limit, so a
 * hostile document costs linear time and constant memory. Strings (nearly
 * every byte of a body) are skipped by one comparison per byte until a quote,
 * a backslash, a control byte or a non-ASCII byte needs a closer look.
 */
#include "json_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* The deepest stack json_check keeps; a larger max_depth is capped here. */
#define JSON_CHECK_STACK_MAX 256

typedef struct JsonChecker {
    const unsigned char *start;
    const unsigned char *end;
    JsonCheckError *error;
} JsonChecker;

static int json_check_fail(JsonChecker *checker, const unsigned char *at, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records what is wrong at AT ("... at byte N") and returns -1. */
static int json_check_fail(JsonChecker *checker, const unsigned char *at, const char *format, ...)
{
    JsonCheckError *error = checker->error;
    if (error == NULL)
        return -1;
    error->offset = (size_t)(at - checker->start);
    char what[JSON_CHECK_MESSAGE_MAX - 32]; /* room for " at byte N" */
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    snprintf(error->message, sizeof error->message, "%s at byte %zu", what, error->offset);
    return -1;
}

/* A byte a string may hold as it is: printable ASCII but '"' and '\'. */
static bool json_check_is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static bool json_check_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const unsigned char *json_check_skip_space(const unsigned char *p, const unsigned char *end)
{
    while (p < end && json_check_is_space(*p))
        p++;
    return p;
}

static bool json_check_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The value of the four hex digits at P (which ends before END), or -1. */
static long json_check_hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* *P is at a backslash inside a string; moves it past the escape. */
static int json_check_escape(JsonChecker *checker, const unsigned char **p)
{
    const unsigned char *at = *p;
    const unsigned char *end = checker->end;
    if (at + 1 >= end)
        return json_check_fail(checker, at, "unterminated escape");
    switch (at[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        *p = at + 2;
        return 0;
    case 'u':
        break;
    default:
        if (at[1] < 0x20 || at[1] >= 0x7f)
            return json_check_fail(checker, at, "invalid escape");
        return json_check_fail(checker, at,
                               "invalid escape \\%c (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                               "\\uXXXX)",
                               at[1]);
    }
    long unit = json_check_hex4(at + 2, end);
    if (unit < 0)
        return json_check_fail(checker, at, "\\u must be followed by four hex digits");
    if (unit == 0)
        return json_check_fail(checker, at, "the escape \\u0000 is not allowed");
    if (unit >= 0xDC00 && unit <= 0xDFFF)
        return json_check_fail(checker, at, "unpaired low surrogate \\u%04lx", unit);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        const unsigned char *next = at + 6;
        long low = end - next >= 6 && next[0] == '\\' && next[1] == 'u'
                       ? json_check_hex4(next + 2, end)
                       : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return json_check_fail(checker, at,
                                   "unpaired high surrogate \\u%04lx (must be followed by a "
                                   "low surrogate \\uDC00-\\uDFFF)", unit);
        *p = at + 12;
        return 0;
    }
    *p = at + 6;
    return 0;
}

/* *P is at an opening quote; moves it past the closing one. */
static int json_check_string(JsonChecker *checker, const unsigned char **p)
{
    const unsigned char *opening = *p;
    const unsigned char *at = opening + 1;
    const unsigned char *end = checker->end;
    for (;;) {
        while (at < end && json_check_is_plain(*at))
            at++;
        if (at >= end)
            return json_check_fail(checker, opening, "unterminated string");
        unsigned char c = *at;
        if (c == '"') {
            *p = at + 1;
            return 0;
        }
        if (c == '\\') {
            if (json_check_escape(checker, &at) != 0)
                return -1;
        } else if (c < 0x20) {
            return json_check_fail(checker, at,
                                   "control character 0x%02x inside a string: escape it (\\u%04x)",
                                   c, c);
        } else {
            size_t length = utf8_sequence_length(at, end);
            if (length == 0)
                return json_check_fail(checker, at, "invalid UTF-8 byte 0x%02x in a string", c);
            at += length;
        }
    }
}

/* *P is at '-' or a digit; moves it past the number (RFC 8259 section 6). */
static int json_check_number(JsonChecker *checker, const unsigned char **p)
{
    const unsigned char *start = *p;
    const unsigned char *at = start;
    const unsigned char *end = checker->end;
    if (*at == '-')
        at++;
    if (at >= end || !json_check_is_digit(*at))
        return json_check_fail(checker, start, "invalid number: a digit must follow '-'");
    if (*at == '0') {
        at++;
        if (at < end && json_check_is_digit(*at))
            return json_check_fail(checker, start,
                                   "invalid number: leading zeros are not allowed");
    } else {
        while (at < end && json_check_is_digit(*at))
            at++;
    }
    if (at < end && *at == '.') {
        at++;
        if (at >= end || !json_check_is_digit(*at))
            return json_check_fail(checker, start,
                                   "invalid number: a digit must follow the decimal point");
        while (at < end && json_check_is_digit(*at))
            at++;
    }
    if (at < end && (*at == 'e' || *at == 'E')) {
        at++;
        if (at < end && (*at == '+' || *at == '-'))
            at++;
        if (at >= end || !json_check_is_digit(*at))
            return json_check_fail(checker, start,
                                   "invalid number: the exponent needs digits");
        while (at < end && json_check_is_digit(*at))
            at++;
    }
    *p = at;
    return 0;
}

/* *P is at 't', 'f' or 'n'; moves it past true, false or null. */
static int json_check_literal(JsonChecker *checker, const unsigned char **p)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t length = strlen(words[i]);
        if ((size_t)(checker->end - *p) >= length &&
            memcmp(*p, words[i], length) == 0) {
            *p += length;
            return 0;
        }
    }
    return json_check_fail(checker, *p, "invalid literal (JSON has true, false and null)");
}

static int json_check_unexpected(JsonChecker *checker, const unsigned char *at,
                                 const char *expected)
{
    if (at >= checker->end)
        return json_check_fail(checker, at, "the text ends where %s was expected", expected);
    if (*at >= 0x20 && *at < 0x7f)
        return json_check_fail(checker, at, "unexpected '%c' where %s was expected", *at,
                               expected);
    return json_check_fail(checker, at, "unexpected byte 0x%02x where %s was expected", *at,
                           expected);
}

int json_check(const char *text, size_t length, int max_depth, JsonCheckError *error)
{
    JsonChecker checker = {.start = (const unsigned char *)text,
                           .end = (const unsigned char *)text + length,
                           .error = error};
    const unsigned char *p = checker.start;
    const unsigned char *end = checker.end;
    if (length >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return json_check_fail(&checker, p, "the text starts with a UTF-8 byte-order mark; "
                                            "send JSON without one");
    if (max_depth > JSON_CHECK_STACK_MAX)
        max_depth = JSON_CHECK_STACK_MAX;
    bool object_at[JSON_CHECK_STACK_MAX]; /* the kind of each open container */
    int depth = 0;
    static const char value_words[] =
        "a value (string, number, object, array, true, false or null)";
    p = json_check_skip_space(p, end);
    for (;;) {
        /* Here a value must start. */
        if (p >= end)
            return json_check_unexpected(&checker, p, value_words);
        int result;
        switch (*p) {
        case '{':
        case '[':
            if (depth >= max_depth)
                return json_check_fail(&checker, p, "objects and arrays nest deeper than %d levels",
                                       max_depth);
            object_at[depth++] = *p == '{';
            p = json_check_skip_space(p + 1, end);
            if (p < end && *p == (object_at[depth - 1] ? '}' : ']')) {
                p++;
                depth--;
                goto after_value;
            }
            if (object_at[depth - 1])
                goto member;
            continue;
        case '"':
            result = json_check_string(&checker, &p);
            break;
        case 't':
        case 'f':
        case 'n':
            result = json_check_literal(&checker, &p);
            break;
        default:
            if (*p == '-' || json_check_is_digit(*p))
                result = json_check_number(&checker, &p);
            else
                return json_check_unexpected(&checker, p, value_words);
        }
        if (result != 0)
            return -1;
    after_value:
        p = json_check_skip_space(p, end);
        if (depth == 0) {
            if (p != end)
                return json_check_unexpected(&checker, p, "the end of the text");
            return 0;
        }
        bool object = object_at[depth - 1];
        if (p < end && *p == (object ? '}' : ']')) {
            p++;
            depth--;
            goto after_value;
        }
        if (p >= end || *p != ',')
            return json_check_unexpected(&checker, p, object ? "',' or '}'" : "',' or ']'");
        p = json_check_skip_space(p + 1, end);
        if (p < end && (*p == '}' || *p == ']'))
            return json_check_fail(&checker, p, "a comma must be followed by another %s",
                                   object ? "member" : "element");
        if (!object)
            continue;
    member:
        if (p >= end || *p != '"')
            return json_check_unexpected(&checker, p, "a member name in double quotes");
        if (json_check_string(&checker, &p) != 0)
            return -1;
        p = json_check_skip_space(p, end);
        if (p >= end || *p != ':')
            return json_check_unexpected(&checker, p, "':' after a member name");
        p = json_check_skip_space(p + 1, end);
    }
}

cJSON *json_check_parse(const char *text, size_t length, int max_depth, JsonCheckError *error)
{
    if (json_check(text, length, max_depth, error) != 0)
        return NULL;
    cJSON *document = cJSON_ParseWithLength(text, length);
    if (document == NULL && error != NULL) {
        error->offset = 0;
        snprintf(error->message, sizeof error->message, "out of memory parsing JSON");
    }
    return document;
}

cJSON *json_check_parse_string(const char *text)
{
    return json_check_parse(text, strlen(text), JSON_CHECK_DEPTH_MAX, NULL);
}
