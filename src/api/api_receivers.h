/*
 * api_receivers: an operator's hold on a receiver:
 *   POST /v1/receivers/{receiver}/pause   {"note": "..."} (optional)
 *   POST /v1/receivers/{receiver}/resume  {"note": "..."} (optional)
 * {receiver} is a receiver's key as GET /v1/receivers lists it
 * ("https://api.example.com:443", percent-encoded in the path), or any URL
 * of it (its normal form decides). While paused nothing is sent to it, by
 * any heraldd sharing the database: claims pass over its tasks, which keep
 * waiting and spend no attempt; requests already in flight finish. herald
 * never resumes or pauses a receiver on its own. Each change is recorded
 * with its actor and note (receiver_actions) and logged; pausing a paused
 * receiver (or resuming one that is not) changes and records nothing. The
 * write goes through the intake writer (store_receiver_set_paused).
 *   GET /v1/receivers/{receiver}/actions?limit=&before=  those decisions,
 *                                         newest first, a page at a time.
 */
#ifndef HERALD_API_RECEIVERS_H
#define HERALD_API_RECEIVERS_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_receivers_routes[];
extern const size_t api_receivers_route_count;

#endif
