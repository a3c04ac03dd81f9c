/*
 * manual_json: see manual_json.h.
 */
#include "manual_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json_check.h"
#include "json_raw.h"
#include "task.h"
#include "task_json.h"
#include "task_render.h"
#include "utf8.h"

int manual_json_fail(ApiError *error, const char *field, const char *message)
{
    api_error_set(error, 422, "validation_failed", field, "%s", message);
    return -1;
}

/* Parses BODY; an empty body is an empty object when EMPTY_ALLOWED. */
cJSON *manual_json_parse(const char *body, size_t length, bool empty_allowed, ApiError *error)
{
    if (length == 0 && empty_allowed)
        return cJSON_CreateObject();
    cJSON *document = NULL;
    if (task_json_parse_document(body, length, &document, error) != 0)
        return NULL;
    return document;
}

/* A note (or a redelivery's reason, FIELD): 1 to MANUAL_NOTE_MAX characters. */
int manual_json_read_text(const cJSON *item, const char *field, char **note, ApiError *error)
{
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
        utf8_count_code_points(item->valuestring) > MANUAL_NOTE_MAX) {
        api_error_set(error, 422, "validation_failed", field,
                      "%s must be a string of 1 to %d characters", field, MANUAL_NOTE_MAX);
        return -1;
    }
    /* Notes are printed in operators' terminals and tables: lines and tabs
     * only, no escape sequences (C0, DEL, or C1: U+0080-U+009F, which is
     * 0xC2 0x80-0x9F in UTF-8). */
    for (const unsigned char *p = (const unsigned char *)item->valuestring; *p; p++) {
        bool c1 = p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f || c1) {
            api_error_set(error, 422, "validation_failed", field,
                          "%s may not contain control characters other than newline and tab",
                          field);
            return -1;
        }
    }
    *note = strdup(item->valuestring);
    return *note ? 0 : manual_json_fail(error, field, "out of memory");
}

static int manual_json_read_note(const cJSON *item, char **note, ApiError *error)
{
    return manual_json_read_text(item, "note", note, error);
}

int manual_json_read_time(const cJSON *item, const char *field, int64_t *out, ApiError *error)
{
    if (!cJSON_IsString(item) || clock_parse_rfc3339(item->valuestring, out) != 0)
        return manual_json_fail(error, field, "must be an RFC 3339 time, e.g. 2026-11-21T08:00:00Z");
    return 0;
}

int manual_json_read_retry(const char *body, size_t length, const NetGuard *guard,
                           ManualRetryRequest *out, ApiError *error)
{
    memset(out, 0, sizeof *out);
    cJSON *document = manual_json_parse(body, length, true, error);
    if (document == NULL)
        return -1;
    int result = 0;
    JsonRawIterator members;
    /* An empty body has no members; any other is an object json_check accepted. */
    json_raw_children_begin(body, json_raw_document(body, length), &members);
    for (const cJSON *member = document->child; member != NULL && result == 0;
         member = member->next) {
        JsonSpan span;
        if (json_raw_children_next(&members, &span) != 1) {
            api_error_set(error, 400, "invalid_json", NULL, "request body is not valid JSON");
            result = -1;
        } else if (strcmp(member->string, "target_url") == 0 && out->target_url == NULL) {
            result = task_json_read_target_url_value(member, guard, &out->target_url,
                                                     &out->target_host, error);
        } else if (strcmp(member->string, "payload") == 0 && out->payload == NULL) {
            result = task_json_read_payload_value(member, body, span, &out->payload,
                                                  &out->payload_length, &out->payload_is_json,
                                                  error);
        } else if (strcmp(member->string, "headers") == 0 && !out->headers_given) {
            out->headers_given = true;
            result = task_json_read_headers_value(member, &out->headers_json, error);
        } else if (strcmp(member->string, "max_retry") == 0 && out->max_retry == 0) {
            double value = cJSON_IsNumber(member) && json_raw_is_integer(body, span)
                               ? member->valuedouble
                               : NAN;
            if (!isfinite(value) || value != floor(value) || value < TASK_MAX_RETRY_MIN ||
                value > TASK_MAX_RETRY_MAX)
                result = manual_json_fail(error, "max_retry",
                                          "max_retry must be an integer from 1 to 100");
            else
                out->max_retry = (int)value;
        } else if (strcmp(member->string, "note") == 0 && out->note == NULL) {
            result = manual_json_read_note(member, &out->note, error);
        } else {
            api_error_set(error, 422, "validation_failed", member->string,
                          "unknown or repeated field \"%.64s\"", member->string);
            result = -1;
        }
    }
    cJSON_Delete(document);
    return result;
}

/* A body with at most a "note" (an empty body is an empty object); REQUIRED:
 * the note must be there, else MISSING says why. */
static int manual_json_read_note_only(const char *body, size_t length, bool required,
                                      const char *missing, char **note, ApiError *error)
{
    *note = NULL;
    cJSON *document = manual_json_parse(body, length, true, error);
    if (document == NULL)
        return -1;
    int result = 0;
    for (const cJSON *member = document->child; member != NULL && result == 0;
         member = member->next) {
        if (strcmp(member->string, "note") == 0 && *note == NULL) {
            result = manual_json_read_note(member, note, error);
        } else {
            api_error_set(error, 422, "validation_failed", member->string,
                          "unknown or repeated field \"%.64s\"", member->string);
            result = -1;
        }
    }
    if (result == 0 && *note == NULL && required)
        result = manual_json_fail(error, "note", missing);
    cJSON_Delete(document);
    return result;
}

int manual_json_read_resolve(const char *body, size_t length, char **note, ApiError *error)
{
    return manual_json_read_note_only(body, length, true,
                                      "note is required: say how it was resolved", note, error);
}

int manual_json_read_pause(const char *body, size_t length, char **note, ApiError *error)
{
    return manual_json_read_note_only(body, length, false, NULL, note, error);
}

int manual_json_read_redeliver(const char *body, size_t length, ManualRedeliverRequest *out,
                               ApiError *error)
{
    memset(out, 0, sizeof *out);
    cJSON *document = manual_json_parse(body, length, false, error);
    if (document == NULL)
        return -1;
    int result = 0;
    bool schedule_given = false;
    for (const cJSON *member = document->child; member != NULL && result == 0;
         member = member->next) {
        if (strcmp(member->string, "reason") == 0 && out->reason == NULL) {
            result = manual_json_read_text(member, "reason", &out->reason, error);
        } else if (strcmp(member->string, "schedule") == 0 && !schedule_given) {
            schedule_given = true;
            if (cJSON_IsString(member) && strcmp(member->valuestring, "once") == 0)
                out->full_schedule = false;
            else if (cJSON_IsString(member) && strcmp(member->valuestring, "full") == 0)
                out->full_schedule = true;
            else
                result = manual_json_fail(error, "schedule",
                                          "schedule must be \"once\" (one attempt) or \"full\" "
                                          "(the business type's whole retry schedule)");
        } else {
            api_error_set(error, 422, "validation_failed", member->string,
                          "unknown or repeated field \"%.64s\"", member->string);
            result = -1;
        }
    }
    if (result == 0 && out->reason == NULL)
        result = manual_json_fail(error, "reason", "reason is required: say why it is sent again");
    cJSON_Delete(document);
    return result;
}

static int manual_json_compare_ids(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* "task_ids": 1 to MANUAL_BULK_IDS_MAX positive integers (written as
 * integers: the array's text at SPAN of BODY), kept sorted and distinct. */
static int manual_json_read_ids(const cJSON *item, const char *body, JsonSpan span,
                                ManualBulkRequest *out, ApiError *error)
{
    int count = cJSON_IsArray(item) ? cJSON_GetArraySize(item) : -1;
    if (count < 1 || count > MANUAL_BULK_IDS_MAX)
        return manual_json_fail(error, "task_ids", "task_ids must be an array of 1 to 1000 task ids");
    out->task_ids = calloc((size_t)count, sizeof *out->task_ids);
    if (out->task_ids == NULL)
        return manual_json_fail(error, "task_ids", "out of memory");
    JsonRawIterator elements;
    json_raw_children_begin(body, span, &elements); /* an array: checked above */
    const cJSON *id;
    cJSON_ArrayForEach(id, item)
    {
        JsonSpan element;
        bool written = json_raw_children_next(&elements, &element) == 1 &&
                       json_raw_is_integer(body, element);
        double value = cJSON_IsNumber(id) && written ? id->valuedouble : 0;
        if (value < 1 || value > 9007199254740991.0 || value != (double)(int64_t)value)
            return manual_json_fail(error, "task_ids", "task_ids must hold positive integers");
        out->task_ids[out->task_id_count++] = (int64_t)value;
    }
    qsort(out->task_ids, out->task_id_count, sizeof *out->task_ids, manual_json_compare_ids);
    size_t kept = 0;
    for (size_t i = 0; i < out->task_id_count; i++) {
        if (kept == 0 || out->task_ids[kept - 1] != out->task_ids[i])
            out->task_ids[kept++] = out->task_ids[i];
    }
    out->task_id_count = kept;
    return 0;
}

bool manual_json_bulk_selects(const ManualBulkRequest *request, int64_t task_id)
{
    return request->task_ids == NULL ||
           bsearch(&task_id, request->task_ids, request->task_id_count,
                   sizeof *request->task_ids, manual_json_compare_ids) != NULL;
}

int manual_json_read_bulk(const char *body, size_t length, bool note_required,
                          ManualBulkRequest *out, ApiError *error)
{
    memset(out, 0, sizeof *out);
    out->until = INT64_MAX;
    out->through_id = INT64_MAX;
    cJSON *document = manual_json_parse(body, length, true, error);
    if (document == NULL)
        return -1;
    int result = 0;
    /* The filters first (see "filtered" below). */
    static const char *const fields[] = {"business_type", "since", "until", "reason", "task_ids",
                                         "dry_run", "note", "all", "through_id"};
    bool seen[sizeof fields / sizeof fields[0]] = {false};
    JsonRawIterator members;
    /* An empty body has no members; any other is an object json_check accepted. */
    json_raw_children_begin(body, json_raw_document(body, length), &members);
    for (const cJSON *member = document->child; member != NULL && result == 0;
         member = member->next) {
        const char *name = member->string;
        JsonSpan span;
        if (json_raw_children_next(&members, &span) != 1) {
            api_error_set(error, 400, "invalid_json", NULL, "request body is not valid JSON");
            result = -1;
            break;
        }
        /* Each field once: "which one counts" must never be a guess. */
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (strcmp(name, fields[i]) == 0 && seen[i]) {
                result = manual_json_fail(error, name, "field given twice");
                break;
            }
            seen[i] |= strcmp(name, fields[i]) == 0;
        }
        if (result != 0)
            break;
        if (strcmp(name, "business_type") == 0) {
            if (!cJSON_IsString(member) || !task_business_type_is_valid(member->valuestring))
                result = manual_json_fail(error, name,
                                          "business_type must match [A-Za-z0-9_.:-]{1,64}");
            else if ((out->business_type = strdup(member->valuestring)) == NULL)
                result = manual_json_fail(error, name, "out of memory");
        } else if (strcmp(name, "since") == 0) {
            result = manual_json_read_time(member, name, &out->since, error);
        } else if (strcmp(name, "until") == 0) {
            result = manual_json_read_time(member, name, &out->until, error);
        } else if (strcmp(name, "reason") == 0) {
            if (!cJSON_IsString(member) || !manual_reason_is_valid(member->valuestring))
                result = manual_json_fail(error, name, "reason must be " MANUAL_REASONS_TEXT);
            else if ((out->reason = strdup(member->valuestring)) == NULL)
                result = manual_json_fail(error, name, "out of memory");
        } else if (strcmp(name, "task_ids") == 0) {
            result = manual_json_read_ids(member, body, span, out, error);
        } else if (strcmp(name, "dry_run") == 0) {
            if (!cJSON_IsBool(member))
                result = manual_json_fail(error, name, "dry_run must be true or false");
            out->dry_run = cJSON_IsTrue(member);
        } else if (strcmp(name, "note") == 0) {
            result = manual_json_read_note(member, &out->note, error);
        } else if (strcmp(name, "through_id") == 0) {
            /* 0 is a dry run that matched nothing: the run matches nothing. */
            double value = cJSON_IsNumber(member) && json_raw_is_integer(body, span)
                               ? member->valuedouble
                               : -1;
            if (value < 0 || value > 9007199254740991.0 || value != floor(value))
                result = manual_json_fail(error, name,
                                          "through_id must be an integer from 0 to "
                                          "9007199254740991: the through_id of a dry run");
            else
                out->through_id = (int64_t)value;
        } else if (strcmp(name, "all") == 0) {
            if (!cJSON_IsBool(member))
                result = manual_json_fail(error, name, "all must be true or false");
            out->all = cJSON_IsTrue(member);
        } else {
            api_error_set(error, 422, "validation_failed", name, "unknown field \"%.64s\"", name);
            result = -1;
        }
    }
    /* An empty body must not mean "every open entry": that takes "all": true.
     * The filters are the first five fields. */
    bool filtered = seen[0] || seen[1] || seen[2] || seen[3] || seen[4];
    if (result == 0 && !filtered && !out->all)
        result = manual_json_fail(error, "all",
                                  "give business_type, since, until, reason or task_ids to choose "
                                  "the entries, or \"all\": true for every open entry");
    if (result == 0 && note_required && !out->dry_run && out->note == NULL)
        result = manual_json_fail(error, "note", "note is required: say how they were resolved");
    cJSON_Delete(document);
    return result;
}

void manual_json_retry_clear(ManualRetryRequest *request)
{
    free(request->target_url);
    free(request->target_host);
    free(request->payload);
    free(request->headers_json);
    free(request->note);
    memset(request, 0, sizeof *request);
}

void manual_json_bulk_clear(ManualBulkRequest *request)
{
    free(request->business_type);
    free(request->reason);
    free(request->task_ids);
    free(request->note);
    memset(request, 0, sizeof *request);
}

cJSON *manual_json_text(const char *text)
{
    return text && text[0] ? cJSON_CreateString(text) : cJSON_CreateNull();
}

cJSON *manual_json_render_entry(const ManualEntry *entry)
{
    cJSON *object = cJSON_CreateObject();
    bool ok = object != NULL && cJSON_AddNumberToObject(object, "id", (double)entry->id) &&
              cJSON_AddNumberToObject(object, "task_id", (double)entry->task_id) &&
              cJSON_AddStringToObject(object, "business_id", entry->business_id) &&
              cJSON_AddStringToObject(object, "business_type", entry->business_type) &&
              cJSON_AddStringToObject(object, "target_url", entry->target_url) &&
              cJSON_AddStringToObject(object, "reason", entry->reason) &&
              cJSON_AddNumberToObject(object, "attempts", entry->attempts) &&
              cJSON_AddItemToObject(object, "last_status_code",
                                    entry->last_status_code
                                        ? cJSON_CreateNumber(entry->last_status_code)
                                        : cJSON_CreateNull()) &&
              cJSON_AddItemToObject(object, "last_error", manual_json_text(entry->last_error)) &&
              cJSON_AddItemToObject(object, "moved_at", task_render_time(entry->moved_at)) &&
              cJSON_AddStringToObject(object, "state", entry->open ? "open" : "resolved") &&
              cJSON_AddItemToObject(object, "resolved_at", task_render_time(entry->resolved_at)) &&
              cJSON_AddItemToObject(object, "resolution", manual_json_text(entry->resolution)) &&
              cJSON_AddItemToObject(object, "note", manual_json_text(entry->note));
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

cJSON *manual_json_render_action(const ManualAction *action)
{
    cJSON *object = cJSON_CreateObject();
    cJSON *details =
        action->details ? json_check_parse_string(action->details) : cJSON_CreateNull();
    bool ok = object != NULL && details != NULL &&
              cJSON_AddNumberToObject(object, "id", (double)action->id) &&
              cJSON_AddNumberToObject(object, "task_id", (double)action->task_id) &&
              cJSON_AddStringToObject(object, "action", action->action) &&
              cJSON_AddStringToObject(object, "actor", action->actor ? action->actor : "") &&
              cJSON_AddItemToObject(object, "note", manual_json_text(action->note)) &&
              cJSON_AddItemToObject(object, "details", details) &&
              cJSON_AddItemToObject(object, "created_at", task_render_time(action->created_at));
    if (!ok) {
        if (object == NULL || details == NULL)
            cJSON_Delete(details);
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}
