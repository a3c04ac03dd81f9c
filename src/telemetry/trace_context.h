/*
 * trace_context: W3C Trace Context (https://www.w3.org/TR/trace-context/):
 * the traceparent and tracestate headers a caller may send with a task, and
 * the ids herald makes for the spans it reports (telemetry.h).
 *
 * A task stores the context of its intake span as a traceparent string
 * ("00-<trace id>-<span id>-<flags>") and the caller's tracestate as given:
 * every attempt is a child of that span, in that trace, on whichever heraldd
 * delivers it. Pure functions but the id generators.
 */
#ifndef HERALD_TRACE_CONTEXT_H
#define HERALD_TRACE_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_ID_SIZE 16             /* bytes */
#define TRACE_SPAN_ID_SIZE 8         /* bytes */
#define TRACE_PARENT_LENGTH 55       /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define TRACE_STATE_MAX 512          /* bytes kept and passed on; longer: ignored */
#define TRACE_STATE_MEMBERS_MAX 32   /* list members, as the standard allows */
#define TRACE_FLAG_SAMPLED 0x01

typedef struct TraceContext {
    uint8_t trace_id[TRACE_ID_SIZE];
    uint8_t span_id[TRACE_SPAN_ID_SIZE];
    uint8_t flags; /* TRACE_FLAG_SAMPLED: the span is recorded and reported */
} TraceContext;

/* Parses a traceparent header's value as the standard says a receiver must:
 * version 00 is exactly 55 characters; a later version (not ff) may be longer
 * if a '-' follows the first 55; lower-case hex only; neither id all zeros.
 * Returns 0, or -1 if VALUE is not valid (the caller then ignores it and its
 * tracestate). */
int trace_context_parse(const char *value, TraceContext *out);

/* "00-<trace id>-<span id>-<flags>", NUL-terminated. */
void trace_context_format(const TraceContext *context, char out[TRACE_PARENT_LENGTH + 1]);

/* True if VALUE is a tracestate herald keeps and passes on: at most
 * TRACE_STATE_MAX bytes and TRACE_STATE_MEMBERS_MAX list members, each
 * key=value per the standard and no key twice (empty members allowed). */
bool trace_state_is_valid(const char *value);

/* Lower-case hex of LENGTH bytes into OUT (2 * LENGTH + 1 bytes). */
void trace_hex(const uint8_t *bytes, size_t length, char *out);

/* A fresh random span id (never all zeros). Returns 0, or -1 if the kernel's
 * random source fails. */
int trace_new_span_id(uint8_t out[TRACE_SPAN_ID_SIZE]);

/* A fresh random trace id (never all zeros). Returns 0 or -1, as above. */
int trace_new_trace_id(uint8_t out[TRACE_ID_SIZE]);

#endif
