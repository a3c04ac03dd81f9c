/*
 * span: building a span's fields and attributes (see the header).
 */
#include "span.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPAN_TEXT_TYPICAL 512

void span_init(Span *span, const char *name, SpanKind kind, const TraceContext *context,
               const uint8_t *parent, uint64_t start_unix_ns)
{
    span->next = NULL;
    span->context = *context;
    span->has_parent = parent != NULL;
    if (parent != NULL)
        memcpy(span->parent_span_id, parent, TRACE_SPAN_ID_SIZE);
    snprintf(span->name, sizeof span->name, "%s", name);
    span->kind = kind;
    span->start_unix_ns = start_unix_ns;
    span->end_unix_ns = start_unix_ns;
    span->error = false;
    span->has_link = false;
    span->attribute_count = 0;
    span->dropped_attributes = 0;
    span->trace_state_length = 0;
    span->text.length = 0; /* its memory is kept */
}

Span *span_new(const char *name, SpanKind kind, const TraceContext *context,
               const uint8_t *parent, uint64_t start_unix_ns)
{
    Span *span = malloc(sizeof *span);
    if (span == NULL)
        return NULL;
    buffer_init(&span->text, SPAN_TEXT_MAX);
    if (buffer_reserve(&span->text, SPAN_TEXT_TYPICAL) != 0) {
        free(span);
        return NULL;
    }
    span_init(span, name, kind, context, parent, start_unix_ns);
    return span;
}

static SpanAttribute *span_next_attribute(Span *span, const char *key, SpanValueType type)
{
    if (span->attribute_count == SPAN_ATTRIBUTES_MAX) {
        span->dropped_attributes++;
        return NULL;
    }
    SpanAttribute *attribute = &span->attributes[span->attribute_count];
    memset(attribute, 0, sizeof *attribute);
    attribute->key = key;
    attribute->type = type;
    return attribute;
}

void span_add_string_length(Span *span, const char *key, const char *value, size_t length)
{
    SpanAttribute *attribute = span_next_attribute(span, key, SPAN_VALUE_STRING);
    if (attribute == NULL)
        return;
    attribute->offset = span->text.length;
    attribute->length = length;
    if (buffer_append(&span->text, value, length) != 0) {
        span->dropped_attributes++;
        return;
    }
    span->attribute_count++;
}

void span_add_string(Span *span, const char *key, const char *value)
{
    span_add_string_length(span, key, value, strlen(value));
}

void span_add_int(Span *span, const char *key, int64_t value)
{
    SpanAttribute *attribute = span_next_attribute(span, key, SPAN_VALUE_INT);
    if (attribute == NULL)
        return;
    attribute->number = value;
    span->attribute_count++;
}

void span_add_bool(Span *span, const char *key, bool value)
{
    SpanAttribute *attribute = span_next_attribute(span, key, SPAN_VALUE_BOOL);
    if (attribute == NULL)
        return;
    attribute->number = value ? 1 : 0;
    span->attribute_count++;
}

void span_set_trace_state(Span *span, const char *value)
{
    size_t length = value != NULL ? strlen(value) : 0;
    if (length == 0)
        return;
    size_t offset = span->text.length;
    if (buffer_append(&span->text, value, length) != 0)
        return; /* the span goes without it */
    span->trace_state = offset;
    span->trace_state_length = length;
}

void span_free(Span *span)
{
    if (span == NULL)
        return;
    buffer_free(&span->text);
    free(span);
}

uint64_t span_ms_to_ns(int64_t unix_ms)
{
    return unix_ms > 0 ? (uint64_t)unix_ms * 1000000u : 0;
}

uint64_t span_now_ns(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 0;
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
