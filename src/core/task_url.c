/*
 * task_url: see task_url.h.
 *
 * The normal form is built from libcurl's parse (the same one delivery
 * uses) with the path kept as written (CURLU_PATH_AS_IS): libcurl removes
 * literal dot segments but not "%2E" ones, so the order RFC 3986 gives
 * (decode the unreserved, then remove dot segments) is applied here.
 */
#include "task_url.h"

#include <arpa/inet.h>
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

static char *task_url_normal_host(const char *host);

/* "scheme://host:port" in lower case, the port always written and the host
 * as the normal form writes it: the unit of per-host limits, so every
 * spelling of one receiver is one receiver. */
static char *task_url_receiver(const char *scheme, const char *host, const char *port)
{
    char *normal = task_url_normal_host(host);
    if (normal == NULL)
        return NULL;
    size_t size = strlen(scheme) + strlen(normal) + strlen(port) + 5;
    char *key = malloc(size);
    if (key != NULL) {
        snprintf(key, size, "%s://%s:%s", scheme, normal, port);
        for (char *p = key; *p != ':'; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    free(normal);
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

/* RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool task_url_is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int task_url_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends TEXT to OUT (room for three times its length) with its
 * percent-encodings normalised (RFC 3986 6.2.2.1-6.2.2.2): an encoded
 * unreserved character is decoded, any other triplet is written in upper
 * case. A '%' not followed by two hex digits (no URI has one; libcurl
 * sends it as it is) can only mean itself: it is written "%25", so that a
 * decoded character after it never makes a triplet of it ("%4%41" would
 * become "%4A" and then "J"). Returns the end of what was written. */
static char *task_url_put_percent_normal(char *out, const char *text)
{
    static const char digits[] = "0123456789ABCDEF";
    for (const char *p = text; *p; p++) {
        int high, low;
        if (p[0] == '%' && (high = task_url_hex_value((unsigned char)p[1])) >= 0 &&
            (low = task_url_hex_value((unsigned char)p[2])) >= 0) {
            unsigned char decoded = (unsigned char)(high * 16 + low);
            if (task_url_is_unreserved(decoded)) {
                *out++ = (char)decoded;
            } else {
                *out++ = '%';
                *out++ = digits[high];
                *out++ = digits[low];
            }
            p += 2;
        } else if (p[0] == '%') {
            memcpy(out, "%25", 3);
            out += 3;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return out;
}

/* RFC 3986 5.2.4 remove_dot_segments, from PATH (changed: it is the input
 * buffer) into OUT (room for strlen(PATH) + 1). */
static void task_url_remove_dot_segments(char *path, char *out)
{
    size_t length = 0;
    char *in = path;
    while (*in) {
        if (strncmp(in, "../", 3) == 0) {
            in += 3;
        } else if (strncmp(in, "./", 2) == 0 || strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in[1] = '\0';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            if (in[3] == '/')
                in += 3;
            else
                in[1] = '\0';
            while (length > 0 && out[length - 1] != '/')
                length--;
            if (length > 0)
                length--; /* the segment's own '/' */
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            in += strlen(in);
        } else {
            size_t segment = 1 + strcspn(in + 1, "/");
            memcpy(out + length, in, segment);
            length += segment;
            in += segment;
        }
    }
    out[length] = '\0';
}

/* HOST (as libcurl's parser returns it: %XX decoded) as the normal form
 * writes it: lower case, each byte but the unreserved ones percent-encoded
 * (none in a host task_url_check accepts), so that the normal form parses
 * to the same host again; an IPv6 literal in its canonical text (RFC 5952,
 * as inet_ntop writes it), so that two spellings of one address are one
 * receiver. OUT has room for three times HOST's length plus
 * INET6_ADDRSTRLEN. */
static void task_url_put_host(char *out, size_t size, const char *host)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t length = strlen(host);
    unsigned char address[16];
    char inner[INET6_ADDRSTRLEN];
    if (length > 2 && host[0] == '[' && host[length - 1] == ']' && length - 2 < sizeof inner) {
        memcpy(inner, host + 1, length - 2);
        inner[length - 2] = '\0';
        char canonical[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, inner, address) == 1 &&
            inet_ntop(AF_INET6, address, canonical, sizeof canonical) != NULL) {
            snprintf(out, size, "[%s]", canonical);
            return;
        }
    }
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)host; *p && used + 4 <= size; p++) {
        if (task_url_is_unreserved(*p) || host[0] == '[') {
            out[used++] = (char)tolower(*p);
        } else {
            out[used++] = '%';
            out[used++] = digits[*p >> 4];
            out[used++] = digits[*p & 15];
        }
    }
    out[used] = '\0';
}

/* HOST as the normal form writes it (task_url_put_host), on the heap; NULL
 * out of memory. libcurl reads a host written as a number in any of IPv4's
 * forms ("5", "0x7f.1") as that address, but only as written, not
 * percent-encoded: so the host is read once more as the normal form
 * writes it, and the normal form parses to itself. */
static char *task_url_normal_host(const char *host)
{
    size_t size = 3 * strlen(host) + INET6_ADDRSTRLEN + 3;
    char *normal = malloc(size);
    if (normal == NULL)
        return NULL;
    task_url_put_host(normal, size, host);
    if (normal[0] == '[' || strchr(normal, '%') != NULL)
        return normal;
    size_t length = strlen(normal);
    /* Only a number reads otherwise, and IPv4's forms are written with
     * digits, dots, "x" and hex letters: a name with any other character
     * (most names), or an address written as four decimals already, is as
     * libcurl would read it. */
    struct in_addr v4;
    char dotted[INET_ADDRSTRLEN];
    if (strspn(normal, "0123456789abcdefx.") != length ||
        (inet_pton(AF_INET, normal, &v4) == 1 &&
         inet_ntop(AF_INET, &v4, dotted, sizeof dotted) != NULL && strcmp(dotted, normal) == 0))
        return normal;
    char *again = malloc(length + 9);
    CURLU *handle = again ? curl_url() : NULL;
    char *reread = NULL;
    if (handle != NULL) {
        snprintf(again, length + 9, "http://%s/", normal);
        if (curl_url_set(handle, CURLUPART_URL, again, 0) == CURLUE_OK &&
            curl_url_get(handle, CURLUPART_HOST, &reread, 0) == CURLUE_OK &&
            strlen(reread) <= length + INET6_ADDRSTRLEN)
            task_url_put_host(normal, size, reread);
    }
    curl_free(reread);
    curl_url_cleanup(handle);
    free(again);
    return normal;
}

/* Whether PORT is SCHEME's default (RFC 3986 6.2.3). */
static bool task_url_port_is_default(const char *scheme, const char *port)
{
    return (strcasecmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
           (strcasecmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
}

/* The normal form of the URL HANDLE holds (parsed with CURLU_PATH_AS_IS),
 * whose SCHEME and HOST the caller has read. Returns a heap string, or
 * NULL out of memory. */
static char *task_url_build_normal(CURLU *handle, const char *scheme, const char *host)
{
    char *port = NULL, *path = NULL, *query = NULL;
    char *normal = NULL, *work = NULL, *normal_host = NULL;
    CURLUcode code = curl_url_get(handle, CURLUPART_PORT, &port, 0);
    if ((code != CURLUE_OK && code != CURLUE_NO_PORT) ||
        curl_url_get(handle, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto done;
    code = curl_url_get(handle, CURLUPART_QUERY, &query, 0);
    if (code != CURLUE_OK && code != CURLUE_NO_QUERY)
        goto done;
    if (port != NULL && task_url_port_is_default(scheme, port)) {
        curl_free(port);
        port = NULL;
    }
    normal_host = task_url_normal_host(host);
    if (normal_host == NULL)
        goto done;
    /* A stray '%' grows to three bytes; nothing else grows. */
    size_t size = strlen(scheme) + 3 + strlen(normal_host) + (port ? strlen(port) + 1 : 0) +
                  3 * strlen(path) + 2 + (query ? 3 * strlen(query) + 1 : 0) + 1;
    normal = malloc(size);
    work = malloc(3 * strlen(path) + 2);
    if (normal == NULL || work == NULL) {
        free(normal);
        normal = NULL;
        goto done;
    }
    char *end = normal;
    for (const char *p = scheme; *p; p++)
        *end++ = (char)tolower((unsigned char)*p);
    memcpy(end, "://", 3);
    end += 3;
    end = stpcpy(end, normal_host);
    if (port != NULL)
        end += sprintf(end, ":%s", port);
    /* An empty path is "/" (6.2.3); the dot segments go once the
     * encoded dots are dots. */
    task_url_put_percent_normal(work, path[0] ? path : "/");
    task_url_remove_dot_segments(work, end);
    if (*end == '\0')
        strcpy(end, "/");
    end += strlen(end);
    if (query != NULL) {
        *end++ = '?';
        task_url_put_percent_normal(end, query);
    }
    /* The fragment is never sent (libcurl leaves it out of the request), so
     * two URLs that differ only there name one resource: it is no part of
     * the normal form. */
done:
    free(normal_host);
    free(work);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    return normal;
}

int task_url_normalise(const char *url, char **out, char *message, size_t size)
{
    *out = NULL;
    CURLU *handle = curl_url();
    if (handle == NULL)
        return task_url_fail(message, size, "out of memory");
    char *scheme = NULL, *host = NULL;
    int result = -1;
    CURLUcode code =
        curl_url_set(handle, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
    if (code != CURLUE_OK)
        task_url_fail(message, size, "not a valid absolute URL: %s", curl_url_strerror(code));
    else if (curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             curl_url_get(handle, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        task_url_fail(message, size, "a URL without a scheme or a host");
    else if ((*out = task_url_build_normal(handle, scheme, host)) == NULL)
        task_url_fail(message, size, "out of memory");
    else
        result = 0;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(handle);
    return result;
}

int task_url_check(const char *url, const NetGuard *guard, char **receiver, char **identity,
                   char *message, size_t size)
{
    *receiver = NULL;
    if (identity != NULL)
        *identity = NULL;
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
    /* The path as written: task_url_build_normal removes its dot segments
     * itself, after decoding the dots that are encoded. */
    CURLUcode code =
        curl_url_set(handle, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
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
    else if ((*receiver = task_url_receiver(scheme, host, port)) == NULL ||
             (identity != NULL &&
              (*identity = task_url_build_normal(handle, scheme, host)) == NULL))
        task_url_fail(message, size, "out of memory");
    else
        result = 0;
    if (result != 0) {
        free(*receiver);
        *receiver = NULL;
    }
    curl_free(zone);
    curl_free(port);
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(handle);
    return result;
}
