/*
 * attempt: see attempt.h.
 */
#include "attempt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void attempt_describe(const Attempt *attempt, char *out, size_t size)
{
    if (attempt->error_class[0] == '\0')
        snprintf(out, size, "%s", "");
    else if (attempt->error_message[0] != '\0')
        snprintf(out, size, "%s: %s", attempt->error_class, attempt->error_message);
    else
        snprintf(out, size, "%s", attempt->error_class);
}

bool attempt_counts_against_receiver(const Attempt *attempt)
{
    /* Not "transport" or "url": libcurl's other errors may be herald's own
     * (out of memory, a handle that would not start). */
    static const char *const counted[] = {"timeout", "connect", "dns", "tls", "network",
                                          "protocol"};
    const char *error_class = attempt->error_class;
    if (error_class[0] == '\0')
        return false; /* a success: the common case, first */
    if (strcmp(error_class, "http_status") == 0)
        return attempt->status_code >= 500 && attempt->status_code <= 599;
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++)
        if (strcmp(error_class, counted[i]) == 0)
            return true;
    return false;
}

void attempt_clear(Attempt *attempt)
{
    free(attempt->response_body);
    free(attempt->receiver);
    memset(attempt, 0, sizeof *attempt);
}
