/* libFuzzer harness: origin_guard, what no web page may make herald do. The
 * input is four lines: an allowed_hosts list, a Host, an Origin and a
 * Sec-Fetch-Site. Checks that nothing crashes, that a list only ever adds
 * names, that a Host herald calls its own is also its own origin, and that
 * "*" never makes another site's page herald's own. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origin_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1024];
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *field[4] = {"", "", NULL, NULL};
    char *at = text;
    for (int i = 0; i < 4 && at != NULL; i++) {
        field[i] = at;
        at = strchr(at, '\n');
        if (at != NULL)
            *at++ = '\0';
    }
    const char *list = field[0];
    const char *host = field[1];
    char err[256];
    bool list_valid = origin_guard_check_list(list, err, sizeof err) == 0;
    bool own_alone = origin_guard_host_is_own(host, "");
    if (list_valid && own_alone && !origin_guard_host_is_own(host, list))
        abort(); /* a list only adds names */
    OriginRequest request = {.method = "POST", .reads_data = true, .host = host,
                             .origin = field[2], .fetch_site = field[3]};
    const char *evidence = origin_guard_cross_site(&request, list);
    if (evidence != NULL && strcmp(evidence, "Origin") != 0 &&
        strcmp(evidence, "Sec-Fetch-Site") != 0)
        abort();
    /* herald's own origin, as a browser writes it, passes */
    char origin[1100];
    snprintf(origin, sizeof origin, "http://%s", host);
    OriginRequest own = {.method = "POST", .reads_data = true, .host = host, .origin = origin};
    if (own_alone && strchr(host, '/') == NULL && origin_guard_cross_site(&own, "") != NULL)
        abort();
    /* "*" admits any Host, never any page */
    if (field[2] != NULL) {
        OriginRequest any = request;
        any.fetch_site = NULL;
        const char *with_any = origin_guard_cross_site(&any, "*");
        const char *without = origin_guard_cross_site(&any, "");
        if ((with_any == NULL) != (without == NULL))
            abort();
    }
    return 0;
}
