/*
 * trace_context: W3C Trace Context parsing and formatting (see the header).
 * The grammar is the standard's (Level 1, section 3): a value herald cannot
 * read exactly so is ignored whole, never repaired.
 */
#include "trace_context.h"

#include <string.h>

#include "random_pool.h"

static int trace_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case is not valid either */
}

/* LENGTH bytes from 2 * LENGTH lower-case hex digits; -1 if any is not one,
 * or if every byte is zero and ZERO_INVALID. */
static int trace_parse_hex(const char *text, uint8_t *out, size_t length, bool zero_invalid)
{
    bool all_zero = true;
    for (size_t i = 0; i < length; i++) {
        int high = trace_hex_digit(text[2 * i]);
        int low = trace_hex_digit(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        out[i] = (uint8_t)(high << 4 | low);
        all_zero &= out[i] == 0;
    }
    return zero_invalid && all_zero ? -1 : 0;
}

int trace_context_parse(const char *value, TraceContext *out)
{
    if (value == NULL)
        return -1;
    size_t length = strlen(value);
    uint8_t version;
    if (length < TRACE_PARENT_LENGTH || trace_parse_hex(value, &version, 1, false) != 0 ||
        version == 0xff)
        return -1;
    if (version == 0 ? length != TRACE_PARENT_LENGTH
                     : length > TRACE_PARENT_LENGTH && value[TRACE_PARENT_LENGTH] != '-')
        return -1;
    if (value[2] != '-' || value[35] != '-' || value[52] != '-')
        return -1;
    TraceContext parsed;
    if (trace_parse_hex(value + 3, parsed.trace_id, TRACE_ID_SIZE, true) != 0 ||
        trace_parse_hex(value + 36, parsed.span_id, TRACE_SPAN_ID_SIZE, true) != 0 ||
        trace_parse_hex(value + 53, &parsed.flags, 1, false) != 0)
        return -1;
    /* Version 00 defines only the sampled flag; the rest are kept as sent. */
    *out = parsed;
    return 0;
}

void trace_hex(const uint8_t *bytes, size_t length, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * length] = '\0';
}

void trace_context_format(const TraceContext *context, char out[TRACE_PARENT_LENGTH + 1])
{
    memcpy(out, "00-", 3);
    trace_hex(context->trace_id, TRACE_ID_SIZE, out + 3);
    out[35] = '-';
    trace_hex(context->span_id, TRACE_SPAN_ID_SIZE, out + 36);
    out[52] = '-';
    trace_hex(&context->flags, 1, out + 53);
}

static bool trace_is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool trace_is_key_char(char c)
{
    return trace_is_lcalpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
           c == '/';
}

/* simple-key, or tenant-id "@" system-id. */
static bool trace_state_key_is_valid(const char *key, size_t length)
{
    const char *at = memchr(key, '@', length);
    if (at == NULL) {
        if (length < 1 || length > 256 || !trace_is_lcalpha(key[0]))
            return false;
        for (size_t i = 1; i < length; i++)
            if (!trace_is_key_char(key[i]))
                return false;
        return true;
    }
    size_t tenant = (size_t)(at - key), system = length - tenant - 1;
    if (tenant < 1 || tenant > 241 || system < 1 || system > 14 ||
        !(trace_is_lcalpha(key[0]) || (key[0] >= '0' && key[0] <= '9')) ||
        !trace_is_lcalpha(at[1]))
        return false;
    for (size_t i = 1; i < length; i++)
        if (i != tenant && !trace_is_key_char(key[i]))
            return false;
    return true;
}

/* 0*255(chr) nblk-chr: printable ASCII but ',' and '=', spaces inside only. */
static bool trace_state_value_is_valid(const char *value, size_t length)
{
    if (length < 1 || length > 256 || value[length - 1] == ' ')
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
            return false;
    }
    return true;
}

bool trace_state_is_valid(const char *value)
{
    if (value == NULL || strlen(value) > TRACE_STATE_MAX)
        return false;
    size_t members = 0;
    const char *keys[TRACE_STATE_MEMBERS_MAX];
    size_t key_lengths[TRACE_STATE_MEMBERS_MAX];
    const char *cursor = value;
    for (;;) {
        const char *end = strchr(cursor, ',');
        if (end == NULL)
            end = cursor + strlen(cursor);
        const char *start = cursor;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        const char *stop = end;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if (stop > start) {
            const char *equals = memchr(start, '=', (size_t)(stop - start));
            if (equals == NULL || members == TRACE_STATE_MEMBERS_MAX ||
                !trace_state_key_is_valid(start, (size_t)(equals - start)) ||
                !trace_state_value_is_valid(equals + 1, (size_t)(stop - equals - 1)))
                return false;
            /* A key may appear once (the standard: a list with a key twice is invalid). */
            size_t length = (size_t)(equals - start);
            for (size_t i = 0; i < members; i++)
                if (key_lengths[i] == length && memcmp(keys[i], start, length) == 0)
                    return false;
            keys[members] = start;
            key_lengths[members] = length;
            members++;
        }
        if (*end == '\0')
            return true;
        cursor = end + 1;
    }
}

/* LENGTH random bytes, drawn again in the (2^-64) case that all are zero. */
static int trace_new_id(uint8_t *out, size_t length)
{
    for (;;) {
        if (random_pool_fill(out, length) != 0)
            return -1;
        for (size_t i = 0; i < length; i++)
            if (out[i] != 0)
                return 0;
    }
}

int trace_new_span_id(uint8_t out[TRACE_SPAN_ID_SIZE])
{
    return trace_new_id(out, TRACE_SPAN_ID_SIZE);
}

int trace_new_trace_id(uint8_t out[TRACE_ID_SIZE])
{
    return trace_new_id(out, TRACE_ID_SIZE);
}
