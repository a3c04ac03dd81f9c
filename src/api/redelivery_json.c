/*
 * redelivery_json: see redelivery_json.h.
 */
#include "redelivery_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manual_json.h"
#include "task.h"
#include "task_render.h"
#include "task_url.h"

/* ITEM as a text term of at most REDELIVERY_TEXT_MAX bytes into *OUT. */
static int redelivery_json_text(const cJSON *item, const char *field, char **out,
                                ApiError *error)
{
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
        strlen(item->valuestring) > REDELIVERY_TEXT_MAX)
        return manual_json_fail(error, field, "must be a non-empty string of at most 2048 bytes");
    *out = strdup(item->valuestring);
    return *out ? 0 : manual_json_fail(error, field, "out of memory");
}

static int redelivery_json_receiver(const cJSON *item, RedeliveryFilter *filter,
                                    ApiError *error)
{
    char message[256];
    if (!cJSON_IsString(item) ||
        task_url_check(item->valuestring, NULL, &filter->receiver, NULL, message,
                       sizeof message) != 0)
        return manual_json_fail(error, "filter.receiver",
                                "must be a receiver as GET /v1/receivers lists it "
                                "(scheme://host:port), or a URL of it");
    return 0;
}

static int redelivery_json_status(const cJSON *item, RedeliveryFilter *filter, ApiError *error)
{
    static const char *const statuses[] = {"failed", "succeeded", "pending"};
    for (size_t i = 0; cJSON_IsString(item) && i < 3; i++)
        if (strcmp(item->valuestring, statuses[i]) == 0) {
            snprintf(filter->task_status, sizeof filter->task_status, "%s", statuses[i]);
            return 0;
        }
    return manual_json_fail(error, "filter.status",
                            "must be \"failed\" (the default), \"succeeded\" or \"pending\" "
                            "(waiting, parked by an open circuit too)");
}

/* ITEM as a time after the epoch into *OUT (0 stands for "not given"). */
static int redelivery_json_time(const cJSON *item, const char *field, int64_t *out,
                                ApiError *error)
{
    if (manual_json_read_time(item, field, out, error) != 0)
        return -1;
    if (*out <= 0)
        return manual_json_fail(error, field, "must be later than 1970-01-01T00:00:00Z");
    return 0;
}

/* One member of "filter". */
static int redelivery_json_term(const cJSON *member, RedeliveryFilter *filter, ApiError *error)
{
    const char *name = member->string;
    if (strcmp(name, "business_type") == 0 && filter->business_type == NULL) {
        if (!cJSON_IsString(member) || !task_business_type_is_valid(member->valuestring))
            return manual_json_fail(error, "filter.business_type",
                                    "must match [A-Za-z0-9_.:-]{1,64}");
        return redelivery_json_text(member, "filter.business_type", &filter->business_type,
                                    error);
    }
    if (strcmp(name, "receiver") == 0 && filter->receiver == NULL)
        return redelivery_json_receiver(member, filter, error);
    if (strcmp(name, "url_prefix") == 0 && filter->url_prefix == NULL)
        return redelivery_json_text(member, "filter.url_prefix", &filter->url_prefix, error);
    if (strcmp(name, "error_class") == 0 && filter->error_class == NULL)
        return redelivery_json_text(member, "filter.error_class", &filter->error_class, error);
    if (strcmp(name, "status") == 0 && filter->task_status[0] == '\0')
        return redelivery_json_status(member, filter, error);
    if (strcmp(name, "created_after") == 0 && filter->created_from == 0)
        return redelivery_json_time(member, "filter.created_after", &filter->created_from,
                                    error);
    if (strcmp(name, "created_before") == 0 && filter->created_to == 0)
        return redelivery_json_time(member, "filter.created_before", &filter->created_to,
                                    error);
    api_error_set(error, 422, "validation_failed", "filter",
                  "unknown or repeated filter field \"%.64s\"", name);
    return -1;
}

static int redelivery_json_filter(const cJSON *item, RedeliveryFilter *filter, ApiError *error)
{
    if (!cJSON_IsObject(item))
        return manual_json_fail(error, "filter", "filter must be an object");
    for (const cJSON *member = item->child; member != NULL; member = member->next)
        if (redelivery_json_term(member, filter, error) != 0)
            return -1;
    return 0;
}

static int redelivery_json_pace(const cJSON *item, RedeliveryJob *job, ApiError *error)
{
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= 1 && item->valuedouble <= REDELIVERY_PACE_MAX) ||
        item->valuedouble != (double)(int64_t)item->valuedouble)
        return manual_json_fail(error, "pace",
                                "pace must be a whole number of tasks a second, 1 to 10000");
    job->pace = (int64_t)item->valuedouble;
    return 0;
}

/* One top-level member; SEEN marks the fields read. */
static int redelivery_json_member(const cJSON *member, RedeliveryRequest *out, unsigned *seen,
                                  ApiError *error)
{
    static const char *const fields[] = {"filter", "schedule", "pace", "reason", "dry_run"};
    size_t which = 0;
    while (which < 5 && strcmp(member->string, fields[which]) != 0)
        which++;
    if (which == 5 || (*seen & (1u << which))) {
        api_error_set(error, 422, "validation_failed", member->string,
                      "unknown or repeated field \"%.64s\"", member->string);
        return -1;
    }
    *seen |= 1u << which;
    RedeliveryJob *job = &out->job;
    switch (which) {
    case 0: return redelivery_json_filter(member, &job->filter, error);
    case 1:
        if (cJSON_IsString(member) && strcmp(member->valuestring, "once") == 0)
            return 0;
        if (cJSON_IsString(member) && strcmp(member->valuestring, "full") == 0) {
            job->full_schedule = true;
            return 0;
        }
        return manual_json_fail(error, "schedule",
                                "schedule must be \"once\" (one attempt each) or \"full\" (the "
                                "business type's whole retry schedule)");
    case 2: return redelivery_json_pace(member, job, error);
    case 3: return manual_json_read_text(member, "reason", &job->reason, error);
    default:
        if (!cJSON_IsBool(member))
            return manual_json_fail(error, "dry_run", "dry_run must be true or false");
        out->dry_run = cJSON_IsTrue(member);
        return 0;
    }
}

int redelivery_json_read(const char *body, size_t length, RedeliveryRequest *out,
                         ApiError *error)
{
    memset(out, 0, sizeof *out);
    out->job.pace = REDELIVERY_PACE_DEFAULT;
    cJSON *document = manual_json_parse(body, length, false, error);
    if (document == NULL)
        return -1;
    unsigned seen = 0;
    int result = 0;
    for (const cJSON *member = document->child; member != NULL && result == 0;
         member = member->next)
        result = redelivery_json_member(member, out, &seen, error);
    cJSON_Delete(document);
    RedeliveryFilter *filter = &out->job.filter;
    if (result == 0 && !(seen & 1u))
        result = manual_json_fail(error, "filter",
                                  "filter is required ({} for every task of its status)");
    if (result == 0 && out->job.reason == NULL && !out->dry_run)
        result = manual_json_fail(error, "reason", "reason is required: say why they are sent "
                                                   "again");
    if (result == 0 && filter->created_from != 0 && filter->created_to != 0 &&
        filter->created_to <= filter->created_from)
        result = manual_json_fail(error, "filter.created_before",
                                  "created_before must be later than created_after");
    if (result == 0 && filter->task_status[0] == '\0')
        snprintf(filter->task_status, sizeof filter->task_status, "failed");
    if (result != 0)
        redelivery_job_clear(&out->job);
    return result;
}

static cJSON *redelivery_json_render_time(int64_t unix_ms)
{
    return unix_ms != 0 ? task_render_time(unix_ms) : cJSON_CreateNull();
}

cJSON *redelivery_json_render(const RedeliveryJob *job)
{
    cJSON *object = cJSON_CreateObject();
    cJSON *filter = cJSON_AddObjectToObject(object, "filter");
    if (filter == NULL) {
        cJSON_Delete(object);
        return NULL;
    }
    cJSON_AddItemToObject(filter, "business_type",
                          manual_json_text(job->filter.business_type));
    cJSON_AddItemToObject(filter, "receiver", manual_json_text(job->filter.receiver));
    cJSON_AddItemToObject(filter, "url_prefix", manual_json_text(job->filter.url_prefix));
    cJSON_AddStringToObject(filter, "status", job->filter.task_status);
    cJSON_AddItemToObject(filter, "error_class", manual_json_text(job->filter.error_class));
    cJSON_AddItemToObject(filter, "created_after", redelivery_json_render_time(job->filter.created_from));
    cJSON_AddItemToObject(filter, "created_before", redelivery_json_render_time(job->filter.created_to));
    cJSON_AddNumberToObject(object, "id", (double)job->id);
    cJSON_AddStringToObject(object, "state", job->state);
    cJSON_AddStringToObject(object, "schedule", job->full_schedule ? "full" : "once");
    cJSON_AddNumberToObject(object, "pace", (double)job->pace);
    cJSON_AddItemToObject(object, "reason", manual_json_text(job->reason));
    cJSON_AddItemToObject(object, "actor", manual_json_text(job->actor));
    cJSON_AddNumberToObject(object, "through_id", (double)job->through_id);
    cJSON_AddNumberToObject(object, "matched", (double)job->matched);
    cJSON_AddNumberToObject(object, "sent", (double)job->sent);
    cJSON_AddNumberToObject(object, "skipped", (double)job->skipped);
    cJSON_AddNumberToObject(object, "remaining", (double)job->remaining);
    cJSON_AddItemToObject(object, "created_at", redelivery_json_render_time(job->created_at));
    cJSON_AddItemToObject(object, "updated_at", redelivery_json_render_time(job->updated_at));
    cJSON_AddItemToObject(object, "finished_at", redelivery_json_render_time(job->finished_at));
    cJSON_AddItemToObject(object, "cancelled_by", manual_json_text(job->cancelled_by));
    return object;
}
