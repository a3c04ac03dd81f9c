/*
 * origin_guard: see origin_guard.h.
 */
#include "origin_guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An authority ("name", "name:port", "[v6]", "[v6]:port") cut in two. */
typedef struct OriginAuthority {
    char name[256]; /* without brackets; a trailing dot removed */
    bool address;   /* NAME is an IPv4 or IPv6 address */
    long port;      /* -1: none given */
} OriginAuthority;

static const char ORIGIN_GUARD_SEPARATORS[] = ", \t";

/* ":digits" or nothing. */
static int origin_parse_port(const char *text, long *port)
{
    *port = -1;
    if (*text == '\0')
        return 0;
    if (*text != ':')
        return -1;
    text++;
    size_t digits = strspn(text, "0123456789");
    if (digits != strlen(text) || digits > 5)
        return -1;
    if (digits > 0)
        *port = strtol(text, NULL, 10);
    return 0;
}

static int origin_parse_authority(const char *whole, OriginAuthority *authority)
{
    /* A field value's trailing spaces and tabs are not part of it (RFC 9110
     * section 5.5); libmicrohttpd 0.9.75 leaves them in. */
    char text[sizeof authority->name + 16];
    size_t whole_length = strlen(whole);
    while (whole_length > 0 && (whole[whole_length - 1] == ' ' || whole[whole_length - 1] == '\t'))
        whole_length--;
    if (whole_length >= sizeof text)
        return -1;
    memcpy(text, whole, whole_length);
    text[whole_length] = '\0';
    const char *name = text;
    size_t length;
    const char *rest;
    if (*text == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL)
            return -1;
        name = text + 1;
        length = (size_t)(close - name);
        rest = close + 1;
    } else {
        length = strcspn(text, ":");
        rest = text + length;
    }
    if (length == 0 || length >= sizeof authority->name ||
        origin_parse_port(rest, &authority->port) != 0)
        return -1;
    memcpy(authority->name, name, length);
    authority->name[length] = '\0';
    unsigned char buffer[16];
    if (*text == '[') {
        if (inet_pton(AF_INET6, authority->name, buffer) != 1)
            return -1; /* a zone id or garbage between brackets is no host */
        authority->address = true;
        return 0;
    }
    authority->address = inet_pton(AF_INET, authority->name, buffer) == 1;
    if (!authority->address && authority->name[length - 1] == '.')
        authority->name[length - 1] = '\0'; /* "localhost." is localhost */
    return authority->name[0] == '\0' ? -1 : 0;
}

/* Whether NAME is one of LIST's names; "*" counts only when ANY_COUNTS. */
static bool origin_list_has(const char *list, const char *name, bool any_counts)
{
    size_t name_length = strlen(name);
    for (const char *at = list; *at != '\0';) {
        at += strspn(at, ORIGIN_GUARD_SEPARATORS);
        size_t length = strcspn(at, ORIGIN_GUARD_SEPARATORS);
        if (length == 0)
            break;
        size_t compared = length;
        if (compared > 1 && at[compared - 1] == '.')
            compared--;
        if (length == 1 && at[0] == '*') {
            if (any_counts)
                return true;
        } else if (compared == name_length && strncasecmp(at, name, compared) == 0) {
            return true;
        }
        at += length;
    }
    return false;
}

int origin_guard_check_list(const char *list, char *err, size_t errlen)
{
    if (strlen(list) >= ORIGIN_GUARD_LIST_MAX) {
        snprintf(err, errlen, "allowed_hosts is longer than %d bytes", ORIGIN_GUARD_LIST_MAX - 1);
        return -1;
    }
    for (const char *at = list; *at != '\0';) {
        at += strspn(at, ORIGIN_GUARD_SEPARATORS);
        size_t length = strcspn(at, ORIGIN_GUARD_SEPARATORS);
        if (length == 0)
            break;
        bool any = length == 1 && at[0] == '*';
        bool name = length < 254 && strspn(at, "abcdefghijklmnopqrstuvwxyz"
                                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") >= length;
        if (!any && !name) {
            snprintf(err, errlen,
                     "allowed_hosts: \"%.*s\" is not a host name; list names as clients "
                     "write them in URLs, without scheme or port (herald.example.com), or *",
                     (int)(length > 64 ? 64 : length), at);
            return -1;
        }
        at += length;
    }
    return 0;
}

bool origin_guard_host_is_own(const char *host, const char *list)
{
    OriginAuthority authority;
    if (origin_parse_authority(host, &authority) != 0)
        return false;
    return authority.address || strcasecmp(authority.name, "localhost") == 0 ||
           origin_list_has(list, authority.name, true);
}

/* Whether ORIGIN ("scheme://authority") is HOST's own origin, or a page
 * served under one of LIST's names. Asked only where the browser sent no
 * Sec-Fetch-Site, that is where herald was reached over plain http: its own
 * origin is then http://HOST, and an https page is another site's (behind
 * a proxy that serves https, browsers send Sec-Fetch-Site, or the name is
 * listed). */
static bool origin_is_own(const char *origin, const char *host, const char *list)
{
    bool http = strncasecmp(origin, "http://", 7) == 0;
    if (!http && strncasecmp(origin, "https://", 8) != 0)
        return false; /* "null" (a sandboxed frame, a file), an extension, ... */
    OriginAuthority from;
    if (origin_parse_authority(origin + (http ? 7 : 8), &from) != 0)
        return false;
    if (!from.address && origin_list_has(list, from.name, false))
        return true;
    OriginAuthority to;
    if (!http || host == NULL || origin_parse_authority(host, &to) != 0)
        return false;
    /* A Host header leaves out the port http implies, as Origin does. */
    long from_port = from.port < 0 ? 80 : from.port;
    long to_port = to.port < 0 ? 80 : to.port;
    return strcasecmp(from.name, to.name) == 0 && from_port == to_port;
}

const char *origin_guard_cross_site(const OriginRequest *request, const char *list)
{
    bool reads = strcmp(request->method, "GET") == 0 || strcmp(request->method, "HEAD") == 0;
    const char *site = request->fetch_site;
    bool same = site == NULL || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
    if (reads) {
        /* A link the operator follows shows the answer to the operator; a
         * script, an image or a frame would hand it to the page. */
        bool navigation = request->fetch_mode != NULL &&
                          strcmp(request->fetch_mode, "navigate") == 0 &&
                          (request->fetch_dest == NULL ||
                           strcmp(request->fetch_dest, "document") == 0);
        return request->reads_data && !same && !navigation ? "Sec-Fetch-Site" : NULL;
    }
    if (!same)
        return "Sec-Fetch-Site";
    /* The browser's own word that the page is herald's, scheme and port
     * included; Origin is what is left where it does not give it. */
    if (site != NULL)
        return NULL;
    if (request->origin != NULL && !origin_is_own(request->origin, request->host, list))
        return "Origin";
    return NULL;
}
