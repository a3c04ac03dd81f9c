/*
 * api_redeliveries: redelivery jobs (redelivery.h), an operator's "send
 * these again" over many tasks at once:
 *   POST /v1/redeliveries {"filter": {...}, "schedule", "pace", "reason",
 *       "dry_run"}: with dry_run, how many tasks the filter matches now (200);
 *       else the job, persisted and running (201), bounded to the tasks
 *       accepted before it (through_id). A heraldd's redeliverer works it.
 *   GET /v1/redeliveries?limit=&before=   the jobs, newest first
 *   GET /v1/redeliveries/{id}             one, with its progress
 *   POST /v1/redeliveries/{id}/cancel     stops it after the step under way
 * Writes go through the intake writer; reads use the call's connection.
 */
#ifndef HERALD_API_REDELIVERIES_H
#define HERALD_API_REDELIVERIES_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_redeliveries_routes[];
extern const size_t api_redeliveries_route_count;

#endif
