/*
 * span: one span herald reports (an intake, an attempt, an operator's retry),
 * built by the thread where it happened and handed to the exporter
 * (telemetry_submit), which encodes it to OTLP (otlp.h) on its own thread.
 *
 * A Span is one allocation plus one buffer holding its attribute strings,
 * so building one on the delivery loop costs two allocations, not one per
 * attribute. Keys are static strings (the semantic conventions' names); a
 * value is a string, an integer or a boolean.
 */
#ifndef HERALD_SPAN_H
#define HERALD_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "trace_context.h"

#define SPAN_ATTRIBUTES_MAX 16
#define SPAN_TEXT_MAX (16 * 1024) /* bytes of attribute text; past it, attributes are dropped */
#define SPAN_NAME_MAX 48

/* OTLP's SpanKind numbers. */
typedef enum {
    SPAN_KIND_INTERNAL = 1,
    SPAN_KIND_SERVER = 2,
    SPAN_KIND_CLIENT = 3,
} SpanKind;

typedef enum {
    SPAN_VALUE_STRING,
    SPAN_VALUE_INT,
    SPAN_VALUE_BOOL,
} SpanValueType;

typedef struct SpanAttribute {
    const char *key; /* static */
    SpanValueType type;
    size_t offset;   /* string: where its bytes start in the span's text */
    size_t length;
    int64_t number;  /* int, or bool as 0/1 */
} SpanAttribute;

typedef struct Span {
    struct Span *next; /* the exporter's queue */
    TraceContext context;       /* trace id, this span's id, flags */
    uint8_t parent_span_id[TRACE_SPAN_ID_SIZE];
    bool has_parent;
    char name[SPAN_NAME_MAX];
    SpanKind kind;
    uint64_t start_unix_ns;
    uint64_t end_unix_ns;
    bool error;                 /* status ERROR; else UNSET */
    /* One link (an operator's retry to the task's trace), if has_link. */
    bool has_link;
    TraceContext link;
    SpanAttribute attributes[SPAN_ATTRIBUTES_MAX];
    size_t attribute_count;
    size_t dropped_attributes;
    size_t trace_state;         /* offset of the tracestate in text, if trace_state_length */
    size_t trace_state_length;
    Buffer text;                /* owned */
} Span;

/* A new span of KIND named NAME in CONTEXT (its trace, its own span id and
 * flags), child of PARENT (NULL: a root span), ending at END_NS (Unix ns,
 * settable later). Returns NULL out of memory. Freed with span_free unless
 * handed to telemetry_submit. */
Span *span_new(const char *name, SpanKind kind, const TraceContext *context,
               const uint8_t *parent, uint64_t start_unix_ns);

/* Makes SPAN (one span_new made, perhaps used before) a new span as
 * span_new would, keeping its text buffer's memory. */
void span_init(Span *span, const char *name, SpanKind kind, const TraceContext *context,
               const uint8_t *parent, uint64_t start_unix_ns);

/* Attributes; past SPAN_ATTRIBUTES_MAX or SPAN_TEXT_MAX (or out of memory)
 * one is counted as dropped, as OTLP's dropped_attributes_count says. */
void span_add_string(Span *span, const char *key, const char *value);
void span_add_string_length(Span *span, const char *key, const char *value, size_t length);
void span_add_int(Span *span, const char *key, int64_t value);
void span_add_bool(Span *span, const char *key, bool value);

/* The tracestate the span carries (the caller's, as stored with the task). */
void span_set_trace_state(Span *span, const char *value);

/* Frees SPAN (NULL is fine). */
void span_free(Span *span);

/* Unix ms to ns, for times herald keeps in ms. */
uint64_t span_ms_to_ns(int64_t unix_ms);

/* The wall clock now, in Unix ns. */
uint64_t span_now_ns(void);

#endif
