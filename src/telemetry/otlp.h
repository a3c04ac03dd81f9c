/*
 * otlp: spans as an OTLP/HTTP request body: the protobuf encoding of
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest
 * (opentelemetry-proto, trace/v1/trace.proto), one resource and one scope.
 *
 * Hand-written because the message is small and fixed and Debian's protobuf-c
 * would bring generated code and a runtime for five message types; the test
 * collector decodes it with the official definitions (tests/js), so a field
 * written wrong fails there. Pure: no I/O.
 */
#ifndef HERALD_OTLP_H
#define HERALD_OTLP_H

#include <stddef.h>

#include "buffer.h"
#include "span.h"

#define OTLP_RESOURCE_ATTRIBUTES_MAX 16

/* The resource every span of this heraldd belongs to: service.name,
 * service.version, service.instance.id (strings, borrowed). */
typedef struct OtlpResource {
    const char *keys[OTLP_RESOURCE_ATTRIBUTES_MAX];
    const char *values[OTLP_RESOURCE_ATTRIBUTES_MAX];
    size_t count;
} OtlpResource;

/* Appends the request holding COUNT spans (a linked list from FIRST, by
 * next) to OUT. Returns 0, or -1 out of memory or past OUT's limit. */
int otlp_encode_request(Buffer *out, const OtlpResource *resource, const Span *first,
                        size_t count);

#endif
