/*
 * telemetry_headers: the headers sent with each export, written as the
 * OpenTelemetry environment variable OTEL_EXPORTER_OTLP_HEADERS writes them
 * ("name=value,name2=value2", values percent-encoded), which [telemetry]
 * headers uses too, so one spelling works in both places.
 */
#ifndef HERALD_TELEMETRY_HEADERS_H
#define HERALD_TELEMETRY_HEADERS_H

#include <stddef.h>

#define TELEMETRY_HEADERS_MAX 16

/* Parses TEXT into "Name: value" lines (heap, each and the array owned by
 * the caller, freed with telemetry_headers_free). Names must be HTTP tokens;
 * decoded values must not hold control characters. Returns the count (0 for
 * an empty TEXT), or -1 with ERR set (nothing allocated). */
int telemetry_headers_parse(const char *text, char ***lines, char *err, size_t errlen);

void telemetry_headers_free(char **lines, int count);

#endif
