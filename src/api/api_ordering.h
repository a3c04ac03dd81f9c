/*
 * api_ordering: the ordering keys (store_ordering.h), as operators look at
 * them:
 *   GET /v1/ordering-keys?blocked=true&receiver=&key=&limit=&before=
 * each key of a receiver with its newest sequence number, its head (the
 * task that may be attempted now), how many tasks wait behind it, and
 * whether a head that went to manual handling blocks it (which task, since
 * when). A blocked key goes on when an operator retries or resolves that
 * task (POST /v1/manual/{id}/retry, /resolve, or the task's redeliver).
 */
#ifndef HERALD_API_ORDERING_H
#define HERALD_API_ORDERING_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_ordering_routes[];
extern const size_t api_ordering_route_count;

#endif
