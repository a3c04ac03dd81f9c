/*
 * task_json: see task_json.h.
 *
 * Each field has its own small reader (target_url's rules are task_url's);
 * task_json_read_request() walks the object's members once, so unknown
 * members are found in the same pass and the raw text of "payload" is
 * located by its position among the members.
 */
#include "task_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_check.h"
#include "task_url.h"
#include "utf8.h"

#define TASK_JSON_UNPROCESSABLE 422
#define TASK_JSON_FIELD_MAX API_ERROR_FIELD_MAX

/* Headers herald itself sets or that shape the connection and the message's
 * framing; a task may not set them (User-Agent would be sent twice). */
static const char *const task_json_reserved_headers[] = {
    "host",       "content-length", "transfer-encoding", "connection", "upgrade",
    "te",         "trailer",        "keep-alive",        "proxy-connection", "expect",
    "user-agent", "http2-settings",
};

/* Every header starting with one of these is herald's: webhook-id and the
 * signature, X-Herald-Attempt, X-Business-ID and X-Business-Type (and any
 * other X-Business-*, so a receiver never sees two spellings of one). */
static const char *const task_json_reserved_header_prefixes[] = {"webhook-", "x-herald-",
                                                                 "x-business-"};

typedef struct TaskJsonReader {
    const char *prefix;
    const NetGuard *guard; /* NULL: literal addresses are not checked */
    ApiError *error;
    char field[TASK_JSON_FIELD_MAX];
} TaskJsonReader;

static const char *task_json_field(TaskJsonReader *reader, const char *name)
{
    snprintf(reader->field, sizeof reader->field, "%s%s", reader->prefix, name);
    return reader->field;
}

static int task_json_invalid(TaskJsonReader *reader, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int task_json_invalid(TaskJsonReader *reader, const char *name, const char *format, ...)
{
    char message[API_ERROR_MESSAGE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    api_error_set(reader->error, TASK_JSON_UNPROCESSABLE, "validation_failed",
                  task_json_field(reader, name), "%s", message);
    return -1;
}

int task_json_parse_document(const char *body, size_t length, cJSON **out, ApiError *error)
{
    *out = NULL;
    if (length == 0) {
        api_error_set(error, 400, "invalid_json", NULL, "request body is empty");
        return -1;
    }
    JsonCheckError problem;
    cJSON *document = json_check_parse(body, length, JSON_CHECK_DEPTH_MAX, &problem);
    if (document == NULL) {
        api_error_set(error, 400, "invalid_json", NULL, "request body is not valid JSON: %s",
                      problem.message);
        return -1;
    }
    if (!cJSON_IsObject(document)) {
        cJSON_Delete(document);
        api_error_set(error, 400, "invalid_json", NULL, "request body must be a JSON object");
        return -1;
    }
    *out = document;
    return 0;
}

static bool task_json_has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

/* A required or optional string of 1..MAX code points without control characters. */
static int task_json_read_text(TaskJsonReader *reader, const cJSON *item, const char *name,
                               size_t max, char **out)
{
    if (!cJSON_IsString(item))
        return task_json_invalid(reader, name, "%s must be a string", name);
    size_t count = utf8_count_code_points(item->valuestring);
    if (count == 0 || count > max)
        return task_json_invalid(reader, name, "%s must be 1 to %zu characters (got %zu)", name,
                                 max, count);
    if (task_json_has_control(item->valuestring))
        return task_json_invalid(reader, name, "%s may not contain control characters", name);
    *out = strdup(item->valuestring);
    if (*out == NULL)
        return task_json_invalid(reader, name, "out of memory");
    return 0;
}

static int task_json_read_business_type(TaskJsonReader *reader, const cJSON *item,
                                        TaskRequest *out)
{
    if (!cJSON_IsString(item))
        return task_json_invalid(reader, "business_type", "business_type must be a string");
    if (!task_business_type_is_valid(item->valuestring))
        return task_json_invalid(reader, "business_type",
                                 "business_type must match [A-Za-z0-9_.:-]{1,%d}",
                                 TASK_BUSINESS_TYPE_MAX);
    out->business_type = strdup(item->valuestring);
    return out->business_type ? 0 : task_json_invalid(reader, "business_type", "out of memory");
}

/* ordering_key: visible ASCII (it is sent as a header's value), at most
 * TASK_ORDERING_KEY_MAX characters. */
static int task_json_read_ordering_key(TaskJsonReader *reader, const cJSON *item,
                                       TaskRequest *out)
{
    if (!cJSON_IsString(item))
        return task_json_invalid(reader, "ordering_key", "ordering_key must be a string");
    if (!task_ordering_key_is_valid(item->valuestring))
        return task_json_invalid(reader, "ordering_key",
                                 "ordering_key must be 1 to %d visible ASCII characters"
                                 " (no spaces or control characters)",
                                 TASK_ORDERING_KEY_MAX);
    out->ordering_key = strdup(item->valuestring);
    return out->ordering_key ? 0 : task_json_invalid(reader, "ordering_key", "out of memory");
}

/* target_url: task_url's rules (shared with manual repairs), and its
 * normal form when IDENTITY (a task's, not a repair's). */
static int task_json_read_target_url(TaskJsonReader *reader, const cJSON *item,
                                     TaskRequest *out, bool identity)
{
    static const char name[] = "target_url";
    if (!cJSON_IsString(item))
        return task_json_invalid(reader, name, "target_url must be a string");
    char message[API_ERROR_MESSAGE_MAX];
    if (task_url_check(item->valuestring, reader->guard, &out->target_host,
                       identity ? &out->target_identity : NULL, message, sizeof message) != 0)
        return task_json_invalid(reader, name, "%s", message);
    out->target_url = strdup(item->valuestring);
    return out->target_url ? 0 : task_json_invalid(reader, name, "out of memory");
}

static int task_json_read_payload(TaskJsonReader *reader, const cJSON *item, const char *text,
                                  JsonSpan span, TaskRequest *out)
{
    if (cJSON_IsString(item)) {
        out->payload_length = strlen(item->valuestring);
        out->payload = strdup(item->valuestring);
        out->payload_is_json = false;
    } else if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        out->payload = malloc(span.end - span.start + 1);
        if (out->payload != NULL)
            out->payload_length = json_raw_minify(text, span, out->payload);
        out->payload_is_json = true;
    } else {
        return task_json_invalid(reader, "payload",
                                 "payload must be an object, an array or a string");
    }
    return out->payload ? 0 : task_json_invalid(reader, "payload", "out of memory");
}

static bool task_json_is_token(const char *name)
{
    size_t length = strlen(name);
    return length > 0 &&
           strspn(name, "!#$%&'*+-.^_`|~0123456789"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == length;
}

static bool task_json_header_is_reserved(const char *name)
{
    for (size_t i = 0; i < sizeof task_json_reserved_headers / sizeof task_json_reserved_headers[0];
         i++) {
        if (strcasecmp(name, task_json_reserved_headers[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof task_json_reserved_header_prefixes /
                               sizeof task_json_reserved_header_prefixes[0];
         i++) {
        const char *prefix = task_json_reserved_header_prefixes[i];
        if (strncasecmp(name, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

static int task_json_check_header(TaskJsonReader *reader, const cJSON *header)
{
    const char *name = header->string;
    char field[TASK_JSON_FIELD_MAX];
    snprintf(field, sizeof field, "headers.%s", name);
    if (strlen(name) > TASK_HEADER_NAME_MAX || !task_json_is_token(name))
        return task_json_invalid(reader, field, "header name \"%.64s\" is not a valid HTTP token",
                                 name);
    if (task_json_header_is_reserved(name))
        return task_json_invalid(reader, field, "header \"%s\" is set by herald and may not be "
                                 "overridden", name);
    if (!cJSON_IsString(header))
        return task_json_invalid(reader, field, "header values must be strings");
    const char *value = header->valuestring;
    if (strlen(value) > TASK_HEADER_VALUE_MAX)
        return task_json_invalid(reader, field, "header value longer than %d bytes",
                                 TASK_HEADER_VALUE_MAX);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return task_json_invalid(reader, field,
                                     "header value may not contain CR, LF or control characters");
    }
    return 0;
}

static int task_json_read_headers(TaskJsonReader *reader, const cJSON *item, TaskRequest *out)
{
    if (!cJSON_IsObject(item))
        return task_json_invalid(reader, "headers", "headers must be an object of strings");
    int count = cJSON_GetArraySize(item);
    if (count > TASK_HEADERS_MAX)
        return task_json_invalid(reader, "headers", "at most %d headers are allowed (got %d)",
                                 TASK_HEADERS_MAX, count);
    if (count == 0)
        return 0;
    for (const cJSON *header = item->child; header != NULL; header = header->next) {
        if (task_json_check_header(reader, header) != 0)
            return -1;
        for (const cJSON *earlier = item->child; earlier != header; earlier = earlier->next) {
            if (strcasecmp(earlier->string, header->string) == 0)
                return task_json_invalid(reader, "headers", "header \"%s\" given twice",
                                         header->string);
        }
    }
    out->headers_json = cJSON_PrintUnformatted(item);
    return out->headers_json ? 0 : task_json_invalid(reader, "headers", "out of memory");
}

static int task_json_read_max_retry(TaskJsonReader *reader, const cJSON *item, const char *text,
                                    JsonSpan span, TaskRequest *out)
{
    double value = cJSON_IsNumber(item) && json_raw_is_integer(text, span) ? item->valuedouble
                                                                           : NAN;
    if (!isfinite(value) || value != floor(value) || value < TASK_MAX_RETRY_MIN ||
        value > TASK_MAX_RETRY_MAX)
        return task_json_invalid(reader, "max_retry", "max_retry must be an integer from %d to %d",
                                 TASK_MAX_RETRY_MIN, TASK_MAX_RETRY_MAX);
    out->max_retry = (int)value;
    return 0;
}

typedef enum {
    TASK_FIELD_BUSINESS_ID,
    TASK_FIELD_BUSINESS_TYPE,
    TASK_FIELD_TARGET_URL,
    TASK_FIELD_PAYLOAD,
    TASK_FIELD_HEADERS,
    TASK_FIELD_MAX_RETRY,
    TASK_FIELD_IDEMPOTENCY_KEY,
    TASK_FIELD_ORDERING_KEY,
    TASK_FIELD_COUNT,
} TaskField;

static const struct {
    const char *name;
    bool required;
} task_json_fields[TASK_FIELD_COUNT] = {
    [TASK_FIELD_BUSINESS_ID] = {"business_id", true},
    [TASK_FIELD_BUSINESS_TYPE] = {"business_type", true},
    [TASK_FIELD_TARGET_URL] = {"target_url", true},
    [TASK_FIELD_PAYLOAD] = {"payload", true},
    [TASK_FIELD_HEADERS] = {"headers", false},
    [TASK_FIELD_MAX_RETRY] = {"max_retry", false},
    [TASK_FIELD_IDEMPOTENCY_KEY] = {"idempotency_key", false},
    [TASK_FIELD_ORDERING_KEY] = {"ordering_key", false},
};

static int task_json_read_field(TaskJsonReader *reader, TaskField field, const cJSON *member,
                                const char *text, JsonSpan span, TaskRequest *out)
{
    switch (field) {
    case TASK_FIELD_BUSINESS_ID:
        return task_json_read_text(reader, member, "business_id", TASK_BUSINESS_ID_MAX,
                                   &out->business_id);
    case TASK_FIELD_BUSINESS_TYPE:
        return task_json_read_business_type(reader, member, out);
    case TASK_FIELD_TARGET_URL:
        return task_json_read_target_url(reader, member, out, true);
    case TASK_FIELD_PAYLOAD:
        return task_json_read_payload(reader, member, text, span, out);
    case TASK_FIELD_HEADERS:
        return task_json_read_headers(reader, member, out);
    case TASK_FIELD_MAX_RETRY:
        return task_json_read_max_retry(reader, member, text, span, out);
    case TASK_FIELD_IDEMPOTENCY_KEY:
        return task_json_read_text(reader, member, "idempotency_key", TASK_IDEMPOTENCY_KEY_MAX,
                                   &out->idempotency_key);
    case TASK_FIELD_ORDERING_KEY:
        return task_json_read_ordering_key(reader, member, out);
    case TASK_FIELD_COUNT:
        break;
    }
    return task_json_invalid(reader, member->string, "internal error");
}

/* One pass over the members, in step with their text: an unknown or repeated
 * member stops the pass at once, so hostile objects cost linear time. */
static int task_json_read_members(TaskJsonReader *reader, const cJSON *object, const char *text,
                                  JsonSpan span, TaskRequest *out)
{
    bool seen[TASK_FIELD_COUNT] = {false};
    JsonRawIterator iterator;
    if (json_raw_children_begin(text, span, &iterator) != 0)
        return task_json_invalid(reader, "", "internal error locating fields");
    for (const cJSON *member = object->child; member != NULL; member = member->next) {
        JsonSpan member_span;
        if (json_raw_children_next(&iterator, &member_span) != 1)
            return task_json_invalid(reader, member->string, "internal error locating field");
        TaskField field = TASK_FIELD_COUNT;
        for (int i = 0; i < TASK_FIELD_COUNT; i++) {
            if (strcmp(member->string, task_json_fields[i].name) == 0)
                field = (TaskField)i;
        }
        if (field == TASK_FIELD_COUNT)
            return task_json_invalid(reader, member->string, "unknown field \"%.64s\"",
                                     member->string);
        if (seen[field])
            return task_json_invalid(reader, member->string, "field given twice");
        seen[field] = true;
        if (task_json_read_field(reader, field, member, text, member_span, out) != 0)
            return -1;
    }
    for (int i = 0; i < TASK_FIELD_COUNT; i++) {
        if (task_json_fields[i].required && !seen[i])
            return task_json_invalid(reader, task_json_fields[i].name, "%s is required",
                                     task_json_fields[i].name);
    }
    return 0;
}

static int task_json_apply_idempotency_header(TaskJsonReader *reader, const char *header,
                                              TaskRequest *out)
{
    if (header == NULL)
        return 0;
    size_t count = utf8_is_valid(header, strlen(header)) ? utf8_count_code_points(header) : 0;
    if (count == 0 || count > TASK_IDEMPOTENCY_KEY_MAX || task_json_has_control(header))
        return task_json_invalid(reader, "idempotency_key",
                                 "Idempotency-Key header must be 1 to %d characters",
                                 TASK_IDEMPOTENCY_KEY_MAX);
    if (out->idempotency_key != NULL) {
        if (strcmp(out->idempotency_key, header) != 0)
            return task_json_invalid(reader, "idempotency_key",
                                     "Idempotency-Key header and idempotency_key differ");
        return 0;
    }
    out->idempotency_key = strdup(header);
    return out->idempotency_key ? 0 : task_json_invalid(reader, "idempotency_key", "out of memory");
}

int task_json_read_request(const cJSON *object, const char *text, JsonSpan span,
                           const char *prefix, const char *idempotency_header,
                           const NetGuard *guard, TaskRequest *out, ApiError *error)
{
    TaskJsonReader reader = {.prefix = prefix, .guard = guard, .error = error};
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(object)) {
        char field[TASK_JSON_FIELD_MAX];
        snprintf(field, sizeof field, "%.*s", prefix[0] ? (int)strlen(prefix) - 1 : 0, prefix);
        api_error_set(error, TASK_JSON_UNPROCESSABLE, "validation_failed", field,
                      "a task must be a JSON object");
        return -1;
    }
    if (task_json_read_members(&reader, object, text, span, out) != 0 ||
        task_json_apply_idempotency_header(&reader, idempotency_header, out) != 0) {
        task_request_clear(out);
        return -1;
    }
    task_request_compute_hash(out);
    return 0;
}

int task_json_read_target_url_value(const cJSON *item, const NetGuard *guard, char **url,
                                    char **host, ApiError *error)
{
    TaskJsonReader reader = {.prefix = "", .guard = guard, .error = error};
    TaskRequest request;
    memset(&request, 0, sizeof request);
    if (task_json_read_target_url(&reader, item, &request, false) != 0) {
        task_request_clear(&request);
        return -1;
    }
    *url = request.target_url;
    *host = request.target_host;
    return 0;
}

int task_json_read_headers_value(const cJSON *item, char **headers_json, ApiError *error)
{
    TaskJsonReader reader = {.prefix = "", .error = error};
    TaskRequest request;
    memset(&request, 0, sizeof request);
    if (task_json_read_headers(&reader, item, &request) != 0) {
        task_request_clear(&request);
        return -1;
    }
    *headers_json = request.headers_json;
    return 0;
}

int task_json_read_payload_value(const cJSON *item, const char *text, JsonSpan span,
                                 char **payload, size_t *length, bool *is_json, ApiError *error)
{
    TaskJsonReader reader = {.prefix = "", .error = error};
    TaskRequest request;
    memset(&request, 0, sizeof request);
    if (task_json_read_payload(&reader, item, text, span, &request) != 0) {
        task_request_clear(&request);
        return -1;
    }
    *payload = request.payload;
    *length = request.payload_length;
    *is_json = request.payload_is_json;
    return 0;
}

int task_json_read_body(const char *body, size_t length, const char *idempotency_header,
                        const NetGuard *guard, TaskRequest *out, ApiError *error)
{
    memset(out, 0, sizeof *out);
    cJSON *document;
    if (task_json_parse_document(body, length, &document, error) != 0)
        return -1;
    int result = task_json_read_request(document, body, json_raw_document(body, length), "",
                                        idempotency_header, guard, out, error);
    cJSON_Delete(document);
    return result;
}

/* Checks the batch envelope {"tasks": [...]} of DOCUMENT (the text BODY) and
 * sets *SPAN to the array's text. Returns the array, or NULL with ERROR set. */
static const cJSON *task_json_batch_array(const cJSON *document, const char *body, size_t length,
                                          JsonSpan *span, ApiError *error)
{
    const cJSON *tasks = NULL;
    JsonRawIterator members;
    JsonSpan member_span;
    if (json_raw_children_begin(body, json_raw_document(body, length), &members) != 0) {
        api_error_set(error, 400, "invalid_json", NULL, "request body must be a JSON object");
        return NULL;
    }
    for (const cJSON *member = document->child; member != NULL; member = member->next) {
        if (json_raw_children_next(&members, &member_span) != 1) {
            api_error_set(error, 400, "invalid_json", NULL, "request body is not valid JSON");
            return NULL;
        }
        if (strcmp(member->string, "tasks") != 0) {
            api_error_set(error, TASK_JSON_UNPROCESSABLE, "validation_failed", member->string,
                          "unknown field \"%.64s\"", member->string);
            return NULL;
        }
        if (tasks != NULL) {
            api_error_set(error, TASK_JSON_UNPROCESSABLE, "validation_failed", "tasks",
                          "field given twice");
            return NULL;
        }
        tasks = member;
        *span = member_span;
    }
    int count = cJSON_GetArraySize(tasks);
    if (!cJSON_IsArray(tasks) || count < 1 || count > TASK_JSON_BATCH_MAX) {
        api_error_set(error, TASK_JSON_UNPROCESSABLE, "validation_failed", "tasks",
                      "tasks must be an array of 1 to %d task objects", TASK_JSON_BATCH_MAX);
        return NULL;
    }
    return tasks;
}

int task_json_read_batch(const char *body, size_t length, const NetGuard *guard,
                         TaskRequest **out, size_t *count, ApiError *error)
{
    *out = NULL;
    *count = 0;
    cJSON *document;
    if (task_json_parse_document(body, length, &document, error) != 0)
        return -1;
    JsonSpan array_span;
    const cJSON *tasks = task_json_batch_array(document, body, length, &array_span, error);
    TaskRequest *requests =
        tasks ? calloc((size_t)cJSON_GetArraySize(tasks), sizeof *requests) : NULL;
    if (tasks != NULL && requests == NULL)
        api_error_set(error, 503, "unavailable", NULL, "out of memory");
    JsonRawIterator elements;
    int result = requests != NULL && json_raw_children_begin(body, array_span, &elements) == 0
                     ? 0
                     : -1;
    size_t read = 0;
    for (const cJSON *item = tasks ? tasks->child : NULL; result == 0 && item != NULL;
         item = item->next) {
        JsonSpan span;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tasks[%zu].", read);
        if (json_raw_children_next(&elements, &span) != 1) {
            api_error_set(error, 400, "invalid_json", NULL, "request body is not valid JSON");
            result = -1;
        } else if (task_json_read_request(item, body, span, prefix, NULL, guard, &requests[read],
                                          error) != 0) {
            result = -1;
        } else {
            read++;
        }
    }
    cJSON_Delete(document);
    if (result != 0) {
        for (size_t i = 0; i < read; i++)
            task_request_clear(&requests[i]);
        free(requests);
        return -1;
    }
    *out = requests;
    *count = read;
    return 0;
}
