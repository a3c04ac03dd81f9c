/*
 * api_overview: what an operator looks at first, for the console's overview
 * and receivers pages and heraldctl overview|receivers:
 *   GET /v1/overview   tasks by status, manual entries open, the alerts
 *                      firing, this instance's delivery lag, and attempts
 *                      delivered and failed per minute over the last hour
 *                      (across every instance sharing the database);
 *   GET /v1/receivers  per scheme://host:port: tasks pending, requests in
 *                      flight, attempts failed in the last hour, the latest
 *                      failure, until when this heraldd holds it (its
 *                      Retry-After), and whether an operator paused it
 *                      (api_receivers.c), when, who and why.
 * Reads only, on the HTTP thread's borrowed connection.
 */
#ifndef HERALD_API_OVERVIEW_H
#define HERALD_API_OVERVIEW_H

#include <stddef.h>

#include "api_call.h"

/* The chart's span: OVERVIEW_MINUTES buckets of a minute, the current one last. */
#define API_OVERVIEW_MINUTES 60
/* At most this many receivers of each kind (busiest, failing) are listed. */
#define API_OVERVIEW_RECEIVERS_MAX 100

extern const ApiRoute api_overview_routes[];
extern const size_t api_overview_route_count;

#endif
