/* libFuzzer harness: the URL/IP-address classifier. The input is an allow
 * list, a newline, then a host or URL; the tail is also read as raw IPv4 and
 * IPv6 addresses. Checks that literal classification agrees with the
 * socket-address check it stands in for. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netguard.h"
#include "task_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[512];
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *newline = strchr(text, '\n');
    const char *host = newline ? newline + 1 : text;
    if (newline != NULL)
        *newline = '\0';
    NetGuard guard = {.allow_private = false};
    char err[256];
    if (newline != NULL && netguard_parse_allow(&guard, text, err, sizeof err) != 0)
        guard.allow_count = 0;
    bool is_address;
    bool blocked = netguard_host_is_blocked(&guard, host, &is_address);
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr = v4};
        if (!is_address || blocked != netguard_is_blocked(&guard, (struct sockaddr *)&address))
            abort();
    }
    if (size >= 16) {
        struct sockaddr_in6 address6 = {.sin6_family = AF_INET6};
        memcpy(&address6.sin6_addr, data + size - 16, 16);
        netguard_is_blocked(&guard, (struct sockaddr *)&address6);
    }
    /* The same host through intake's URL reader. */
    cJSON *url = cJSON_CreateString(host);
    char *target = NULL, *key = NULL;
    char candidate[600];
    snprintf(candidate, sizeof candidate, "http://%s/", host);
    cJSON_SetValuestring(url, candidate);
    ApiError error;
    if (task_json_read_target_url_value(url, &guard, &target, &key, &error) == 0) {
        free(target);
        free(key);
    }
    cJSON_Delete(url);
    return 0;
}
