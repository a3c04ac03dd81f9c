/*
 * task_render: tasks and attempts as the API shows them (the TASK and ATTEMPT
 * objects of the API). See task_render.c.
 */
#ifndef HERALD_TASK_RENDER_H
#define HERALD_TASK_RENDER_H

#include <cjson/cJSON.h>

#include "attempt.h"
#include "json_write.h"
#include "task.h"

/* Writes the members of the TASK object for TASK (without the braces, so a
 * caller can add its own, such as "duplicate"). */
void task_render_write_members(JsonWriter *writer, const Task *task);

/* The TASK object for TASK, as a raw cJSON item (written by
 * task_render_write_members); the caller owns it. NULL if out of memory. */
cJSON *task_render_task(const Task *task);

/* A time as the API shows it: RFC 3339 UTC with milliseconds, or null for 0
 * (not yet, or never). The caller owns it; NULL if out of memory. */
cJSON *task_render_time(int64_t unix_ms);

/* The ATTEMPT object for ATTEMPT (response bodies shown as text, invalid
 * UTF-8 replaced); the caller owns it. NULL if out of memory. */
cJSON *task_render_attempt(const Attempt *attempt);

#endif
