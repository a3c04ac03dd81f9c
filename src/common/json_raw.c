/*
 * json_raw: see json_raw.h. A forward scanner over valid JSON: strings are
 * skipped escape-aware, containers by depth, scalars to the next delimiter.
 */
#include "json_raw.h"

#include <string.h>

/* Any byte from 1 to 0x20; in text json_check() accepted, only JSON's four
 * whitespace bytes occur outside strings. */
static bool json_raw_is_space(char c)
{
    return c != '\0' && (unsigned char)c <= 0x20;
}

static size_t json_raw_skip_space(const char *text, size_t position, size_t end)
{
    while (position < end && json_raw_is_space(text[position]))
        position++;
    return position;
}

/* POSITION is at the opening quote; returns the offset after the closing one.
 * memchr finds each candidate quote (this scanner runs over every byte of a
 * batch several times); a quote preceded by an odd number of backslashes is
 * escaped and the search goes on. */
static size_t json_raw_skip_string(const char *text, size_t position, size_t end)
{
    size_t start = position + 1;
    size_t from = start;
    while (from < end) {
        const char *quote = memchr(text + from, '"', end - from);
        if (quote == NULL)
            return end;
        size_t at = (size_t)(quote - text);
        size_t backslashes = 0;
        while (at - backslashes > start && text[at - backslashes - 1] == '\\')
            backslashes++;
        if (backslashes % 2 == 0)
            return at + 1;
        from = at + 1;
    }
    return end;
}

/* The bytes a container scan must stop at; everything else is skipped by one
 * table lookup instead of five comparisons. */
static const bool json_raw_structural[256] = {
    ['"'] = true, ['{'] = true, ['['] = true, ['}'] = true, [']'] = true,
};

/* Returns the offset just past the value starting at POSITION. */
static size_t json_raw_skip_value(const char *text, size_t position, size_t end)
{
    if (position >= end)
        return end;
    char c = text[position];
    if (c == '"')
        return json_raw_skip_string(text, position, end);
    if (c == '{' || c == '[') {
        int depth = 0;
        while (position < end) {
            c = text[position];
            if (!json_raw_structural[(unsigned char)c]) {
                position++;
                continue;
            }
            if (c == '"') {
                position = json_raw_skip_string(text, position, end);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (--depth == 0)
                return position + 1;
            position++;
        }
        return end;
    }
    while (position < end && text[position] != ',' && text[position] != '}' &&
           text[position] != ']' && !json_raw_is_space(text[position]))
        position++;
    return position;
}

JsonSpan json_raw_document(const char *text, size_t length)
{
    JsonSpan span;
    span.start = json_raw_skip_space(text, 0, length);
    span.end = span.start < length ? json_raw_skip_value(text, span.start, length) : length;
    return span;
}

int json_raw_children_begin(const char *text, JsonSpan parent, JsonRawIterator *iterator)
{
    /* An empty iterator first: a caller that ignores the failure walks nothing. */
    *iterator = (JsonRawIterator){.text = text, .position = 0, .end = 0, .object = false};
    if (parent.end < parent.start || parent.end - parent.start < 2)
        return -1;
    char open = text[parent.start];
    if (open != '{' && open != '[')
        return -1;
    iterator->text = text;
    iterator->position = parent.start + 1;
    iterator->end = parent.end - 1;
    iterator->object = open == '{';
    return 0;
}

int json_raw_children_next(JsonRawIterator *iterator, JsonSpan *out)
{
    const char *text = iterator->text;
    size_t end = iterator->end;
    size_t position = json_raw_skip_space(text, iterator->position, end);
    if (position < end && text[position] == ',')
        position = json_raw_skip_space(text, position + 1, end);
    if (position >= end)
        return 0;
    if (iterator->object) {
        position = json_raw_skip_string(text, position, end);
        position = json_raw_skip_space(text, position, end);
        if (position < end)
            position++; /* ':' */
        position = json_raw_skip_space(text, position, end);
        if (position >= end)
            return 0;
    }
    out->start = position;
    out->end = json_raw_skip_value(text, position, end);
    iterator->position = out->end;
    return 1;
}

size_t json_raw_minify(const char *text, JsonSpan span, char *out)
{
    size_t written = 0;
    size_t position = span.start;
    while (position < span.end) {
        char c = text[position];
        if (c == '"') {
            size_t after = json_raw_skip_string(text, position, span.end);
            memcpy(out + written, text + position, after - position);
            written += after - position;
            position = after;
        } else {
            if (!json_raw_is_space(c))
                out[written++] = c;
            position++;
        }
    }
    out[written] = '\0';
    return written;
}

bool json_raw_is_integer(const char *text, JsonSpan span)
{
    size_t i = span.start;
    if (i < span.end && text[i] == '-')
        i++;
    if (i >= span.end)
        return false;
    for (; i < span.end; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}
