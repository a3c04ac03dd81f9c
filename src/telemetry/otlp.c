/*
 * otlp: the protobuf wire format of an ExportTraceServiceRequest (see the
 * header). A nested message's length comes before its bytes, so each is
 * written twice over by the same code: once counting (OtlpOut without a
 * buffer), once writing into the request's buffer. A span is counted once
 * and its length reused at every level, so nothing is copied: the first
 * version encoded each level into a buffer of its own and copied it into the
 * next, and those copies were a third of the exporter's time. Field numbers
 * are opentelemetry-proto's (v1.x); names in the comments.
 */
#include "otlp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

enum { OTLP_VARINT = 0, OTLP_FIXED64 = 1, OTLP_LENGTH = 2, OTLP_FIXED32 = 5 };

#define OTLP_STATUS_ERROR 2 /* Status.StatusCode STATUS_CODE_ERROR */

/* Where bytes go: BUFFER, or (NULL) only counted in LENGTH. */
typedef struct OtlpOut {
    Buffer *buffer;
    size_t length;
    int failed;
} OtlpOut;

static void otlp_put(OtlpOut *out, const void *data, size_t length)
{
    out->length += length;
    if (out->buffer != NULL && length > 0 && buffer_append(out->buffer, data, length) != 0)
        out->failed = 1;
}

static void otlp_varint(OtlpOut *out, uint64_t value)
{
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(value & 0x7f);
        value >>= 7;
        if (value != 0)
            bytes[n] |= 0x80;
        n++;
    } while (value != 0);
    otlp_put(out, bytes, n);
}

static void otlp_tag(OtlpOut *out, unsigned field, unsigned wire)
{
    otlp_varint(out, (uint64_t)field << 3 | wire);
}

static void otlp_bytes(OtlpOut *out, unsigned field, const void *data, size_t length)
{
    otlp_tag(out, field, OTLP_LENGTH);
    otlp_varint(out, length);
    otlp_put(out, data, length);
}

static void otlp_string(OtlpOut *out, unsigned field, const char *text)
{
    otlp_bytes(out, field, text, strlen(text));
}

static void otlp_fixed(OtlpOut *out, unsigned field, uint64_t value, size_t size)
{
    uint8_t bytes[8];
    for (size_t i = 0; i < size; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    otlp_tag(out, field, size == 8 ? OTLP_FIXED64 : OTLP_FIXED32);
    otlp_put(out, bytes, size);
}

static void otlp_uint(OtlpOut *out, unsigned field, uint64_t value)
{
    otlp_tag(out, field, OTLP_VARINT);
    otlp_varint(out, value);
}

/* The header of a nested message of LENGTH bytes as field FIELD. */
static void otlp_nested(OtlpOut *out, unsigned field, size_t length)
{
    otlp_tag(out, field, OTLP_LENGTH);
    otlp_varint(out, length);
}

/* AnyValue { string_value = 1; bool_value = 2; int_value = 3 } */
static void otlp_any_value(OtlpOut *out, const SpanAttribute *attribute, const char *text)
{
    if (attribute->type == SPAN_VALUE_STRING)
        otlp_bytes(out, 1, text + attribute->offset, attribute->length);
    else
        otlp_uint(out, attribute->type == SPAN_VALUE_BOOL ? 2 : 3, (uint64_t)attribute->number);
}

/* KeyValue { key = 1; AnyValue value = 2 } as field FIELD. */
static void otlp_attribute(OtlpOut *out, unsigned field, const SpanAttribute *attribute,
                           const char *text)
{
    OtlpOut value = {.buffer = NULL};
    otlp_any_value(&value, attribute, text);
    OtlpOut pair = {.buffer = NULL};
    otlp_string(&pair, 1, attribute->key);
    otlp_nested(&pair, 2, value.length);
    otlp_nested(out, field, pair.length + value.length);
    otlp_string(out, 1, attribute->key);
    otlp_nested(out, 2, value.length);
    otlp_any_value(out, attribute, text);
}

/* Link { trace_id 1, span_id 2, flags 6 } as Span field 13. */
static void otlp_link(OtlpOut *out, const TraceContext *link)
{
    OtlpOut counted = {.buffer = NULL};
    for (int pass = 0; pass < 2; pass++) {
        OtlpOut *to = pass == 0 ? &counted : out;
        if (pass == 1)
            otlp_nested(out, 13, counted.length);
        otlp_bytes(to, 1, link->trace_id, TRACE_ID_SIZE);
        otlp_bytes(to, 2, link->span_id, TRACE_SPAN_ID_SIZE);
        otlp_fixed(to, 6, link->flags, 4);
    }
}

/* Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5,
 * kind 6, start 7, end 8, attributes 9, dropped_attributes_count 10,
 * links 13, status 15 (code 3), flags 16. */
static void otlp_span(OtlpOut *out, const Span *span)
{
    const char *text = span->text.data;
    otlp_bytes(out, 1, span->context.trace_id, TRACE_ID_SIZE);
    otlp_bytes(out, 2, span->context.span_id, TRACE_SPAN_ID_SIZE);
    if (span->trace_state_length > 0)
        otlp_bytes(out, 3, text + span->trace_state, span->trace_state_length);
    if (span->has_parent)
        otlp_bytes(out, 4, span->parent_span_id, TRACE_SPAN_ID_SIZE);
    otlp_string(out, 5, span->name);
    otlp_uint(out, 6, span->kind);
    otlp_fixed(out, 7, span->start_unix_ns, 8);
    otlp_fixed(out, 8, span->end_unix_ns, 8);
    for (size_t i = 0; i < span->attribute_count; i++)
        otlp_attribute(out, 9, &span->attributes[i], text);
    if (span->dropped_attributes > 0)
        otlp_uint(out, 10, span->dropped_attributes);
    if (span->has_link)
        otlp_link(out, &span->link);
    if (span->error) {
        otlp_nested(out, 15, 2); /* Status { code = 3 }: a tag and a one-byte varint */
        otlp_uint(out, 3, OTLP_STATUS_ERROR);
    }
    otlp_fixed(out, 16, span->context.flags, 4);
}

/* The resource's attributes, Resource { attributes 1 }. */
static void otlp_resource(OtlpOut *out, const OtlpResource *resource)
{
    for (size_t i = 0; i < resource->count; i++) {
        SpanAttribute attribute = {.key = resource->keys[i], .type = SPAN_VALUE_STRING,
                                   .length = strlen(resource->values[i])};
        otlp_attribute(out, 1, &attribute, resource->values[i]);
    }
}

/* InstrumentationScope { name 1, version 2 }. */
static void otlp_scope(OtlpOut *out)
{
    otlp_string(out, 1, "herald");
    otlp_string(out, 2, HERALD_VERSION);
}

/* The bytes a nested message of LENGTH takes as a field (fields < 16). */
static size_t otlp_field_size(size_t length)
{
    OtlpOut counted = {.buffer = NULL};
    otlp_nested(&counted, 1, length);
    return counted.length + length;
}

int otlp_encode_request(Buffer *out, const OtlpResource *resource, const Span *first,
                        size_t count)
{
    size_t *lengths = malloc((count > 0 ? count : 1) * sizeof *lengths);
    if (lengths == NULL)
        return -1;
    /* Counting: each span once, then every enclosing message from those. */
    OtlpOut scope = {.buffer = NULL}, resource_body = {.buffer = NULL};
    otlp_scope(&scope);
    size_t scope_spans = otlp_field_size(scope.length);
    size_t spans = 0;
    const Span *span = first;
    for (size_t i = 0; i < count && span != NULL; i++, span = span->next) {
        OtlpOut counted = {.buffer = NULL};
        otlp_span(&counted, span);
        lengths[i] = counted.length;
        scope_spans += otlp_field_size(counted.length);
        spans++;
    }
    otlp_resource(&resource_body, resource);
    size_t resource_spans = otlp_field_size(resource_body.length) + otlp_field_size(scope_spans);
    /* Writing: ExportTraceServiceRequest { resource_spans 1 { resource 1,
     * scope_spans 2 { scope 1, spans 2 } } }, into OUT grown once. */
    OtlpOut to = {.buffer = out};
    if (buffer_reserve(out, otlp_field_size(resource_spans)) != 0)
        to.failed = 1;
    otlp_nested(&to, 1, resource_spans);
    otlp_nested(&to, 1, resource_body.length);
    otlp_resource(&to, resource);
    otlp_nested(&to, 2, scope_spans);
    otlp_nested(&to, 1, scope.length);
    otlp_scope(&to);
    span = first;
    for (size_t i = 0; i < spans; i++, span = span->next) {
        otlp_nested(&to, 2, lengths[i]);
        otlp_span(&to, span);
    }
    free(lengths);
    return to.failed ? -1 : 0;
}
