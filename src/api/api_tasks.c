/*
 * api_tasks: see api_tasks.h.
 *
 * Creating tasks is asynchronous: the handler validates everything, suspends
 * the call and submits one IntakeJob; the intake writer commits it (with other
 * requests' jobs) and resumes the call, and api_tasks_created() answers from
 * the job's outcome. Nothing is answered 201 before its commit returned.
 */
#include "api_tasks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_trace.h"
#include "store_ordering.h"
#include "task_json.h"
#include "task_render.h"

/* Room a TASK object takes in a reply beyond its payload: the other members
 * with typical ids, URLs and timestamps. Only a hint for the first
 * allocation; a larger task just grows the buffer. */
#define API_TASKS_REPLY_PER_TASK 512

/* What a create call keeps across its suspension. */
typedef struct ApiTaskCreation {
    ApiCall *call;
    bool batch;
    TaskRequest *requests;
    size_t count;
    IntakeJob job;
    ApiIntakeTrace trace;
} ApiTaskCreation;

static void api_tasks_free_creation(void *state)
{
    ApiTaskCreation *creation = state;
    for (size_t i = 0; i < creation->count; i++)
        task_request_clear(&creation->requests[i]);
    free(creation->requests);
    intake_job_clear(&creation->job);
    free(creation);
}

static ApiTaskCreation *api_tasks_new_creation(ApiCall *call, bool batch, size_t count)
{
    ApiTaskCreation *creation = calloc(1, sizeof *creation);
    if (creation != NULL && count > 0)
        creation->requests = calloc(count, sizeof *creation->requests);
    if (creation == NULL || (count > 0 && creation->requests == NULL)) {
        free(creation);
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return NULL;
    }
    creation->call = call;
    creation->batch = batch;
    api_call_set_state(call, creation, api_tasks_free_creation);
    return creation;
}

/* Runs on the intake writer thread. */
static void api_tasks_stored(IntakeJob *job)
{
    ApiTaskCreation *creation = job->context;
    api_call_resume(creation->call);
}

/* Writes one TASK object; a duplicate inside a batch is marked as one. */
static void api_tasks_write(JsonWriter *writer, const Task *task, bool duplicate)
{
    /* Its trace is shown where one task is read (GET /v1/tasks/{id}). */
    Task shown = *task;
    shown.traceparent[0] = '\0';
    json_write_begin_object(writer);
    task_render_write_members(writer, &shown);
    if (duplicate) {
        json_write_key(writer, "duplicate");
        json_write_bool(writer, true);
    }
    json_write_end_object(writer);
}

/* The 409 for a request that repeats a stored task (its idempotency key,
 * or without one its business_type, business_id and target_url) with other
 * content: the code says which identity, field what differs, task_id the
 * task (absent when it is an earlier task of the same batch, which was
 * never stored: the message names that one). */
static void api_tasks_conflict(ApiCall *call, const ApiTaskCreation *creation)
{
    const IntakeJob *job = &creation->job;
    bool keyed = creation->requests[job->conflict_index].idempotency_key != NULL;
    const char *part = keyed ? "idempotency_key"
                             : job->conflict_field ? job->conflict_field : "payload";
    char field[64], task[64];
    if (creation->batch)
        snprintf(field, sizeof field, "tasks[%zu].%s", job->conflict_index, part);
    else
        snprintf(field, sizeof field, "%s", part);
    if (job->conflict_within)
        snprintf(task, sizeof task, "tasks[%zu] of this batch", job->conflict_other_index);
    else
        snprintf(task, sizeof task, "task %lld", (long long)job->conflict_task_id);
    ApiError error;
    if (keyed)
        api_error_set(&error, 409, "idempotency_conflict", field,
                      "this idempotency key was already used for a different request (%s)",
                      task);
    else
        api_error_set(&error, 409, "dedup_conflict", field,
                      "%s has this business_type, business_id and target_url, with another %s;"
                      " a change is a new notification: give it an idempotency_key or another"
                      " business_id",
                      task, part);
    error.task_id = job->conflict_task_id;
    api_call_reply_error(call, &error);
}

/* Runs on an HTTP thread once the job is committed (or failed). */
static void api_tasks_created(ApiCall *call)
{
    ApiTaskCreation *creation = api_call_state(call);
    IntakeJob *job = &creation->job;
    if (job->result == INTAKE_JOB_UNAVAILABLE) {
        api_call_set_retry_after(call, API_TASKS_RETRY_AFTER);
        api_call_fail(call, 503, "unavailable", NULL, "the task could not be stored: %s",
                      job->message);
        return;
    }
    if (job->result == INTAKE_JOB_CONFLICT) {
        api_tasks_conflict(call, creation);
        return;
    }
    /* Written as text, not built as a cJSON tree: this is every 201. */
    JsonWriter writer;
    json_write_init(&writer, SIZE_MAX);
    size_t estimate = 64;
    for (size_t i = 0; i < job->count; i++)
        estimate += API_TASKS_REPLY_PER_TASK + job->tasks[i].payload_length;
    json_write_reserve(&writer, estimate); /* one allocation instead of doubling */
    bool any_created = false;
    json_write_begin_object(&writer);
    if (creation->batch) {
        json_write_key(&writer, "tasks");
        json_write_begin_array(&writer);
        for (size_t i = 0; i < job->count; i++) {
            api_tasks_write(&writer, &job->tasks[i], job->duplicates[i]);
            any_created |= !job->duplicates[i];
        }
        json_write_end_array(&writer);
    } else {
        json_write_key(&writer, "task");
        api_tasks_write(&writer, &job->tasks[0], false);
        any_created = !job->duplicates[0];
        if (!any_created) {
            json_write_key(&writer, "duplicate");
            json_write_bool(&writer, true);
        }
    }
    json_write_end_object(&writer);
    json_write_newline(&writer);
    char *text = json_write_finish(&writer, NULL);
    if (text == NULL) {
        api_call_fail(call, 503, "unavailable", NULL, "out of memory");
        return;
    }
    int status = any_created ? 201 : 200;
    api_trace_intake_end(&creation->trace, creation->batch ? "/v1/tasks/batch" : "/v1/tasks",
                         status, job);
    api_call_reply_text(call, status, "application/json", text);
}

/* Tasks with an ordering_key take their business type's
 * ordering_on_failure with them; refused (503) while the database cannot
 * keep keys (a heraldd of an earlier release shares it). Returns false with
 * the reply set. */
static bool api_tasks_prepare_ordering(ApiCall *call, ApiTaskCreation *creation)
{
    const PolicySet *policies = api_call_policies(call);
    bool keyed = false;
    for (size_t i = 0; i < creation->count; i++) {
        TaskRequest *request = &creation->requests[i];
        if (request->ordering_key == NULL)
            continue;
        keyed = true;
        request->ordering_block = policy_set_find(policies, request->business_type)->ordering_block;
    }
    if (!keyed || store_ordering_ready(api_call_reader(call)))
        return true;
    api_call_set_retry_after(call, API_TASKS_RETRY_AFTER);
    api_call_fail(call, 503, "ordering_unavailable", "ordering_key",
                  "ordering keys are not available until every heraldd sharing the database "
                  "runs this release (its migrations are held back until then)");
    return false;
}

static void api_tasks_submit(ApiCall *call, ApiTaskCreation *creation)
{
    if (!api_tasks_prepare_ordering(call, creation))
        return;
    api_trace_intake_begin(call, creation->requests, creation->count, &creation->trace);
    creation->job.requests = creation->requests;
    creation->job.count = creation->count;
    creation->job.on_done = api_tasks_stored;
    creation->job.context = creation;
    api_call_submit(call, &creation->job, api_tasks_created);
}

static void api_tasks_create(ApiCall *call)
{
    size_t length;
    const char *body = api_call_body(call, &length);
    ApiError error;
    ApiTaskCreation *creation = api_tasks_new_creation(call, false, 1);
    if (creation == NULL)
        return;
    if (task_json_read_body(body, length, api_call_header(call, "Idempotency-Key"),
                            api_call_guard(call), &creation->requests[0], &error) != 0) {
        api_call_reply_error(call, &error);
        return;
    }
    creation->count = 1;
    api_tasks_submit(call, creation);
}

static void api_tasks_create_batch(ApiCall *call)
{
    /* One key for many tasks would say nothing about which task it names:
     * each task of a batch carries its own idempotency_key. */
    if (api_call_header(call, "Idempotency-Key") != NULL) {
        api_call_fail(call, 400, "invalid_parameter", "Idempotency-Key",
                      "a batch takes no Idempotency-Key header: give each task its own "
                      "idempotency_key");
        return;
    }
    size_t length;
    const char *body = api_call_body(call, &length);
    ApiError error;
    TaskRequest *requests;
    size_t count;
    if (task_json_read_batch(body, length, api_call_guard(call), &requests, &count, &error) != 0) {
        api_call_reply_error(call, &error);
        return;
    }
    ApiTaskCreation *creation = api_tasks_new_creation(call, true, 0);
    if (creation == NULL) {
        for (size_t i = 0; i < count; i++)
            task_request_clear(&requests[i]);
        free(requests);
        return;
    }
    creation->requests = requests;
    creation->count = count;
    api_tasks_submit(call, creation);
}

/* Parses a positive 64-bit id; returns 0 if TEXT is not one. */
static int64_t api_tasks_parse_id(const char *text)
{
    if (text == NULL || text[0] < '1' || text[0] > '9')
        return 0;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    return (int64_t)value;
}

/* Loads the task named by the path into OUT (the caller task_clear()s it).
 * Returns its id, or 0 with a 404 or 503 already set as the reply. */
static int64_t api_tasks_load(ApiCall *call, Task *out)
{
    int64_t id = api_tasks_parse_id(api_call_path_parameter(call));
    char err[256];
    StoreResult result =
        id ? store_task_get(api_call_reader(call), id, out, err, sizeof err) : STORE_NOT_FOUND;
    if (result == STORE_OK)
        return id;
    if (result == STORE_ERROR) {
        api_call_set_retry_after(call, API_TASKS_RETRY_AFTER);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
    } else {
        api_call_fail(call, 404, "not_found", "id", "no task with id \"%s\"",
                      api_call_path_parameter(call));
    }
    return 0;
}

static void api_tasks_get(ApiCall *call)
{
    Task task;
    if (api_tasks_load(call, &task) == 0)
        return;
    /* Its place in its ordering key, if it has one (not worth failing for). */
    StoreOrderingPlace place;
    char err[256];
    if (store_ordering_place(api_call_reader(call), task.id, false, &place, err, sizeof err) ==
            STORE_OK &&
        place.keyed) {
        task.ordering_key = strdup(place.key);
        task.ordering_seq = place.seq;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "task", task_render_task(&task));
    task_clear(&task);
    api_call_reply(call, 200, body);
}

static void api_tasks_attempts(ApiCall *call)
{
    Task task;
    int64_t id = api_tasks_load(call, &task);
    if (id == 0)
        return;
    task_clear(&task);
    Attempt *attempts = NULL;
    size_t count = 0;
    char err[256];
    if (store_attempt_list(api_call_reader(call), id, &attempts, &count, err, sizeof err) != 0) {
        api_call_set_retry_after(call, API_TASKS_RETRY_AFTER);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "attempts");
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, task_render_attempt(&attempts[i]));
    store_attempt_list_free(attempts, count);
    api_call_reply(call, 200, body);
}

/* Reads the list filters from the query string; replies 400 on a bad one. */
static int api_tasks_read_filter(ApiCall *call, TaskFilter *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->limit = API_TASKS_LIST_DEFAULT;
    filter->business_id = api_call_query(call, "business_id");
    filter->business_type = api_call_query(call, "business_type");
    filter->idempotency_key = api_call_query(call, "idempotency_key");
    const char *status = api_call_query(call, "status");
    const char *limit = api_call_query(call, "limit");
    const char *after = api_call_query(call, "after");
    if (filter->business_type != NULL && !task_business_type_is_valid(filter->business_type)) {
        api_call_fail(call, 400, "invalid_parameter", "business_type",
                      "business_type must match [A-Za-z0-9_.:-]{1,%d}", TASK_BUSINESS_TYPE_MAX);
        return -1;
    }
    if (status != NULL) {
        if (task_status_parse(status, &filter->status) != 0) {
            api_call_fail(call, 400, "invalid_parameter", "status",
                          "status must be pending, delivering, succeeded or failed");
            return -1;
        }
        filter->has_status = true;
    }
    if (limit != NULL) {
        int64_t value = api_tasks_parse_id(limit);
        if (value < 1 || value > API_TASKS_LIST_MAX) {
            api_call_fail(call, 400, "invalid_parameter", "limit",
                          "limit must be an integer from 1 to %d", API_TASKS_LIST_MAX);
            return -1;
        }
        filter->limit = (int)value;
    }
    if (after != NULL) {
        filter->after = api_tasks_parse_id(after);
        if (filter->after == 0) {
            api_call_fail(call, 400, "invalid_parameter", "after",
                          "after must be a task id (a positive integer)");
            return -1;
        }
    }
    return 0;
}

static void api_tasks_list(ApiCall *call)
{
    TaskFilter filter;
    if (api_tasks_read_filter(call, &filter) != 0)
        return;
    int page = filter.limit;
    filter.limit = page + 1; /* one more tells whether there is a next page */
    Task *tasks;
    size_t count;
    char err[256];
    if (store_task_list(api_call_reader(call), &filter, &tasks, &count, err, sizeof err) != 0) {
        api_call_set_retry_after(call, API_TASKS_RETRY_AFTER);
        api_call_fail(call, 503, "unavailable", NULL, "cannot read the database: %s", err);
        return;
    }
    bool more = count > (size_t)page;
    size_t shown = more ? (size_t)page : count;
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "tasks");
    for (size_t i = 0; i < shown; i++) {
        tasks[i].traceparent[0] = '\0'; /* shown where one task is read */
        cJSON_AddItemToArray(array, task_render_task(&tasks[i]));
    }
    if (more)
        cJSON_AddNumberToObject(body, "next_after", (double)tasks[shown - 1].id);
    else
        cJSON_AddNullToObject(body, "next_after");
    store_task_list_free(tasks, count);
    api_call_reply(call, 200, body);
}

static const char *const api_tasks_list_query[] = {"business_id", "business_type", "status",
                                                   "idempotency_key", "limit", "after", NULL};

const ApiRoute api_task_routes[] = {
    {.method = "POST", .pattern = "/v1/tasks", .json_body = true, .writes = true, .intake = true, .handler = api_tasks_create},
    {.method = "GET", .pattern = "/v1/tasks", .query = api_tasks_list_query, .handler = api_tasks_list},
    {.method = "POST", .pattern = "/v1/tasks/batch", .json_body = true, .writes = true, .intake = true, .handler = api_tasks_create_batch},
    {.method = "GET", .pattern = "/v1/tasks/{id}", .handler = api_tasks_get},
    {.method = "GET", .pattern = "/v1/tasks/{id}/attempts", .handler = api_tasks_attempts},
};

const size_t api_task_route_count = sizeof api_task_routes / sizeof api_task_routes[0];
