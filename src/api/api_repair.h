/*
 * api_repair: the handlers of the manual-handling API that write: retry a
 * failed task (with corrections), resolve it by hand, and retry or resolve
 * many at once (after an outage; an operator's selection): the POST routes
 * under /v1/manual (api_repair_routes).
 *
 * Every repair commits through the intake writer, like new tasks: the
 * handler validates, suspends its connection and submits a job whose APPLY
 * makes the change inside the writer's transaction, so no HTTP thread waits
 * on an fsync; the resumed handler answers from the job's outcome. A bulk
 * action commits in chunks of API_REPAIR_BULK_CHUNK entries, one job after
 * the other, so intake keeps flowing between them; each chunk's tasks are
 * announced to the scheduler as it commits and go out through its per-host
 * limits, so a recovering receiver is not flooded.
 */
#ifndef HERALD_API_REPAIR_H
#define HERALD_API_REPAIR_H

#include "api_call.h"

#define API_REPAIR_BULK_CHUNK 500

extern const ApiRoute api_repair_routes[];
extern const size_t api_repair_route_count;

#endif
