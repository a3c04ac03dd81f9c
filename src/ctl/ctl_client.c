/*
 * ctl_client: see ctl_client.h.
 */
#include "ctl_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "json_check.h"
#include "json_raw.h"
#include "version.h"

/* heraldctl reads whole answers; a list page of 500 tasks fits easily. */
#define CTL_RESPONSE_MAX (64 * 1024 * 1024)
#define CTL_TIMEOUT_S 30L

static int ctl_read_token_file(const char *path, char **token, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(err, errlen, "%s: cannot open token file: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    *token = NULL;
    while (*token == NULL && fgets(line, sizeof line, file) != NULL) {
        char *text = line + strspn(line, " \t");
        text[strcspn(text, "\r\n")] = '\0';
        if (text[0] == '\0' || text[0] == '#')
            continue;
        char *colon = strchr(text, ':');
        if (colon != NULL)
            text = colon + 1 + strspn(colon + 1, " \t");
        size_t length = strlen(text);
        while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t'))
            text[--length] = '\0';
        *token = strdup(text);
    }
    fclose(file);
    if (*token == NULL) {
        snprintf(err, errlen, "%s: no token in the file", path);
        return -1;
    }
    return 0;
}

int ctl_client_init(CtlClient *client, const char *base_url, const char *token_file,
                    const char *token, char *err, size_t errlen)
{
    memset(client, 0, sizeof *client);
    size_t length = strlen(base_url);
    while (length > 0 && base_url[length - 1] == '/')
        length--;
    if (length == 0 || length >= sizeof client->base_url) {
        snprintf(err, errlen, "invalid --url \"%s\"", base_url);
        return -1;
    }
    memcpy(client->base_url, base_url, length);
    client->base_url[length] = '\0';
    char *owned = NULL;
    if (token_file != NULL) {
        if (ctl_read_token_file(token_file, &owned, err, errlen) != 0)
            return -1;
        token = owned;
    }
    if (token != NULL && token[0] != '\0') {
        size_t size = strlen(token) + 32;
        client->authorization = malloc(size);
        if (client->authorization != NULL)
            snprintf(client->authorization, size, "Authorization: Bearer %s", token);
    }
    free(owned);
    return 0;
}

void ctl_client_free(CtlClient *client)
{
    free(client->authorization);
    client->authorization = NULL;
}

static size_t ctl_collect(char *data, size_t size, size_t count, void *user)
{
    Buffer *buffer = user;
    return buffer_append(buffer, data, size * count) == 0 ? size * count : 0;
}

/* Turns a non-2xx answer into one line for the user. Returns CTL_API_ERROR
 * for herald's own error, CTL_UNREACHABLE for an answer without one (a proxy's
 * error page: heraldd was not reached). */
static CtlResult ctl_describe_error(long status, const cJSON *answer, char *err, size_t errlen)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(answer, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(error, "field");
    if (cJSON_IsString(code) && cJSON_IsString(message)) {
        if (cJSON_IsString(field))
            snprintf(err, errlen, "HTTP %ld %s: %s (field %s)", status, code->valuestring,
                     message->valuestring, field->valuestring);
        else
            snprintf(err, errlen, "HTTP %ld %s: %s", status, code->valuestring,
                     message->valuestring);
        return CTL_API_ERROR;
    }
    snprintf(err, errlen, "HTTP %ld without herald's error body: is this heraldd?", status);
    return CTL_UNREACHABLE;
}

CtlResult ctl_client_request(CtlClient *client, const char *method, const char *path,
                             const char *body, CtlAnswer *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return CTL_API_ERROR;
    }
    char url[4096];
    snprintf(url, sizeof url, "%s%s", client->base_url, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    if (body != NULL)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    if (client->authorization != NULL)
        headers = curl_slist_append(headers, client->authorization);
    Buffer response;
    buffer_init(&response, CTL_RESPONSE_MAX);
    char curl_error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    /* The path as built: a business type "." or ".." is one, not a dot segment. */
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "heraldctl/" HERALD_VERSION);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, CTL_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ctl_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    CtlResult result = CTL_API_ERROR;
    CURLcode code = curl_easy_perform(curl);
    long status = 0;
    if (code != CURLE_OK) {
        snprintf(err, errlen, "cannot reach %s: %s", client->base_url,
                 curl_error[0] ? curl_error : curl_easy_strerror(code));
        result = CTL_UNREACHABLE;
        goto done;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    /* Strictly: an answer herald should never send (invalid JSON) is an error. The
     * answer wraps payloads (nested up to the limit) in two more levels. */
    JsonCheckError problem = {.message = "empty body"};
    cJSON *answer = response.data ? json_check_parse(response.data, response.length,
                                                     JSON_CHECK_DEPTH_MAX + 4, &problem)
                                  : NULL;
    if (status < 200 || status > 299) {
        result = ctl_describe_error(status, answer, err, errlen);
        cJSON_Delete(answer);
        goto done;
    }
    if (answer == NULL) {
        snprintf(err, errlen, "HTTP %ld with a body that is not JSON (%s): is this heraldd?",
                 status, problem.message);
        result = CTL_UNREACHABLE;
        goto done;
    }
    out->json = answer;
    out->raw = response.data;
    out->raw_length = response.length;
    response.data = NULL; /* now the answer's */
    result = CTL_OK;
done:
    buffer_free(&response);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return result;
}

void ctl_answer_free(CtlAnswer *answer)
{
    cJSON_Delete(answer->json);
    free(answer->raw);
    memset(answer, 0, sizeof *answer);
}

/* Finds member NAME of OBJECT (whose text is SPAN) by walking both in step. */
static int ctl_find_member(const CtlAnswer *answer, const cJSON *object, JsonSpan span,
                           const char *name, const cJSON **item, JsonSpan *item_span)
{
    JsonRawIterator iterator;
    if (!cJSON_IsObject(object) || json_raw_children_begin(answer->raw, span, &iterator) != 0)
        return -1;
    for (const cJSON *child = object->child; child != NULL; child = child->next) {
        JsonSpan child_span;
        if (json_raw_children_next(&iterator, &child_span) != 1)
            return -1;
        if (strcmp(child->string, name) == 0) {
            *item = child;
            *item_span = child_span;
            return 0;
        }
    }
    return -1;
}

char *ctl_answer_raw_member(const CtlAnswer *answer, const char *const *path, const char *name)
{
    const cJSON *object = answer->json;
    JsonSpan span = json_raw_document(answer->raw, answer->raw_length);
    for (; *path != NULL; path++) {
        if (ctl_find_member(answer, object, span, *path, &object, &span) != 0)
            return NULL;
    }
    const cJSON *item;
    JsonSpan item_span;
    if (ctl_find_member(answer, object, span, name, &item, &item_span) != 0)
        return NULL;
    return strndup(answer->raw + item_span.start, item_span.end - item_span.start);
}

int ctl_client_add_query(char *path, size_t size, const char *name, const char *value)
{
    char *escaped = curl_easy_escape(NULL, value, 0);
    if (escaped == NULL)
        return -1;
    size_t used = strlen(path);
    int written = snprintf(path + used, size - used, "%c%s=%s",
                           strchr(path, '?') ? '&' : '?', name, escaped);
    curl_free(escaped);
    return written < 0 || (size_t)written >= size - used ? -1 : 0;
}
