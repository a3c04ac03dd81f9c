/*
 * address: see address.h.
 */
#include "address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int address_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *out_length,
                         char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host) {
            snprintf(err, errlen, "invalid listen address \"%s\": expected [IPv6]:PORT", text);
            return -1;
        }
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof host) {
            snprintf(err, errlen, "invalid listen address \"%s\": expected HOST:PORT", text);
            return -1;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    char *end;
    long port_number = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || port_number < 0 || port_number > 65535) {
        snprintf(err, errlen, "invalid port in listen address \"%s\": expected 0..65535", text);
        return -1;
    }
    /* Numeric addresses only (and "localhost"): a listen address never needs DNS,
     * and reading the configuration must not send queries anywhere. */
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST};
    struct addrinfo *result = NULL;
    int rc = getaddrinfo(host, port, &hints, &result);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve listen address \"%s\": %s", text, gai_strerror(rc));
        return -1;
    }
    memcpy(out, result->ai_addr, result->ai_addrlen);
    *out_length = result->ai_addrlen;
    freeaddrinfo(result);
    return 0;
}

void address_format(const struct sockaddr *address, char out[ADDRESS_TEXT_MAX])
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(out, ADDRESS_TEXT_MAX, "%s:%u", host, ntohs(v4->sin_port));
    } else if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, ADDRESS_TEXT_MAX, "[%s]:%u", host, ntohs(v6->sin6_port));
    } else {
        snprintf(out, ADDRESS_TEXT_MAX, "(family %d)", address->sa_family);
    }
}

bool address_is_loopback(const struct sockaddr *address)
{
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)address)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}
