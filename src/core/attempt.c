/*
 * attempt: see attempt.h.
 */
#include "attempt.h"

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

void attempt_clear(Attempt *attempt)
{
    free(attempt->response_body);
    free(attempt->receiver);
    memset(attempt, 0, sizeof *attempt);
}
