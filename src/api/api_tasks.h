/*
 * api_tasks: the /v1/tasks handlers: create one, create a batch atomically,
 * get one, list with filters and keyset pagination.
 */
#ifndef HERALD_API_TASKS_H
#define HERALD_API_TASKS_H

#include <stddef.h>

#include "api_call.h"

#define API_TASKS_LIST_DEFAULT 100
#define API_TASKS_LIST_MAX 500
/* Seconds a client is told to wait when herald cannot store right now. */
#define API_TASKS_RETRY_AFTER 1

extern const ApiRoute api_task_routes[];
extern const size_t api_task_route_count;

#endif
