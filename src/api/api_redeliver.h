/*
 * api_redeliver: sending a task again on purpose, whatever became of it:
 *   POST /v1/tasks/{id}/redeliver {"reason": "...", "schedule": "once"|"full"}
 * A task that succeeded or failed (in manual handling or resolved) is made
 * pending again, as it is, with its webhook-id, for one attempt ("once", the
 * default) or as many as its business type's max_retry ("full"; its
 * schedule starts again from the first wait, as after a manual retry:
 * tasks.retry_base); an open manual
 * entry is closed as retried; the audit trail records the actor and the
 * reason (action "redeliver"). A task still pending or delivering is
 * refused (409 task_not_finished): it will be sent anyway. The write goes
 * through the intake writer (store_task_redeliver); the answer is the task
 * as GET /v1/manual/{id} shows it.
 */
#ifndef HERALD_API_REDELIVER_H
#define HERALD_API_REDELIVER_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_redeliver_routes[];
extern const size_t api_redeliver_route_count;

#endif
