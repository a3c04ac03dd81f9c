/*
 * task_url: see task_url.h.
 */
#include "task_url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "task.h"

/* DNS: a name of at most 253 characters in labels of at most 63. */
#define TASK_URL_HOST_MAX 253
#define TASK_URL_LABEL_MAX 63

/* "scheme://host:port" in lower case: the unit of per-host limits. */
static char *task_url_receiver(const char *scheme, const char *host, const char *port)
{
    size_t size = strlen(scheme) + strlen(host) + strlen(port) + 5;
    char *key = malloc(size);
    if (key == NULL)
        return NULL;
    snprintf(key, size, "%s://%s:%s", scheme, host, port);
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return key;
}

/* Why HOST (as libcurl's parser returns it: a bracketed IPv6 literal, an
 * IPv4 address normalised, or a name with %XX decoded) can never be
 * delivered to, or NULL if it can. */
static const char *task_url_host_problem(const char *host)
{
    if (host[0] == '[')
        return NULL; /* libcurl checked the literal */
    size_t length = strlen(host);
    if (length > 0 && host[length - 1] == '.')
        length--; /* the root label */
    if (length == 0 || length > TASK_URL_HOST_MAX)
        return "target_url's host must be 1 to 253 characters";
    size_t label = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c >= 0x80)
            return "target_url's host is not ASCII: write an internationalized name in its "
                   "IDNA form (xn--...)";
        if (c == '.') {
            if (label == 0)
                return "target_url's host has an empty label (\"..\" or a leading dot)";
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++label > TASK_URL_LABEL_MAX)
                return "target_url's host has a label longer than 63 characters";
        } else {
            return "target_url's host may hold only letters, digits, '-', '_' and '.'";
        }
    }
    return NULL;
}

static bool task_url_has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

static int task_url_fail(char *message, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int task_url_fail(char *message, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(message, size, format, args);
    va_end(args);
    return -1;
}

int task_url_check(const char *url, const NetGuard *guard, char **receiver, char *message,
                   size_t size)
{
    *receiver = NULL;
    size_t length = strlen(url);
    if (length == 0 || length > TASK_TARGET_URL_MAX)
        return task_url_fail(message, size, "target_url must be 1 to %d bytes",
                             TASK_TARGET_URL_MAX);
    CURLU *handle = curl_url();
    if (handle == NULL)
        return task_url_fail(message, size, "out of memory");
    int result = -1;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *port = NULL;
    char *zone = NULL;
    const char *problem;
    bool is_address;
    CURLUcode code = curl_url_set(handle, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    /* libcurl reads "http:///x" as host "x"; a URL must name its host itself. */
    const char *authority = strstr(url, "://");
    if (code != CURLUE_OK)
        task_url_fail(message, size, "target_url is not a valid absolute URL: %s",
                      curl_url_strerror(code));
    else if (curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
        task_url_fail(message, size, "target_url must use http or https");
    else if (authority == NULL || authority[3] == '/' ||
             curl_url_get(handle, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
        task_url_fail(message, size, "target_url has no host");
    else if (curl_url_get(handle, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(handle, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
        task_url_fail(message, size,
                      "target_url may not contain credentials; send them in headers");
    else if (task_url_has_control(url) || strpbrk(url, " \"<>\\^`{|}") != NULL)
        task_url_fail(message, size, "target_url contains characters that must be escaped");
    else if ((problem = task_url_host_problem(host)) != NULL)
        task_url_fail(message, size, "%s", problem);
    else if (curl_url_get(handle, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK)
        task_url_fail(message, size,
                      "target_url may not name a network interface (an IPv6 zone id)");
    else if (guard != NULL && netguard_host_is_blocked(guard, host, &is_address))
        task_url_fail(message, size,
                      "target_url points to a private, loopback or reserved address; "
                      "open it with [delivery] allow_cidrs if it is meant");
    else if (curl_url_get(handle, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
             strtol(port, NULL, 10) < 1)
        task_url_fail(message, size, "target_url's port must be 1 to 65535");
    else if ((*receiver = task_url_receiver(scheme, host, port)) == NULL)
        task_url_fail(message, size, "out of memory");
    else
        result = 0;
    curl_free(zone);
    curl_free(port);
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(handle);
    return result;
}
