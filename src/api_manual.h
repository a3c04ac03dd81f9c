/*
 * api_manual: the /v1/manual handlers, where operators repair what failed:
 * list entries, show one (task, entries, actions), retry with corrections,
 * resolve by hand, and retry many at once after an outage.
 */
#ifndef HERALD_API_MANUAL_H
#define HERALD_API_MANUAL_H

#include <stddef.h>

#include "api_call.h"

#define API_MANUAL_LIST_DEFAULT 100
#define API_MANUAL_LIST_MAX 500

extern const ApiRoute api_manual_routes[];
extern const size_t api_manual_route_count;

#endif
