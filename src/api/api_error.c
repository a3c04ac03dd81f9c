/*
 * api_error: see api_error.h.
 */
#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

void api_error_set(ApiError *error, int status, const char *code, const char *field,
                   const char *format, ...)
{
    error->status = status;
    error->code = code;
    error->task_id = 0;
    snprintf(error->field, sizeof error->field, "%s", field ? field : "");
    va_list args;
    va_start(args, format);
    vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
    /* Both may quote what a client sent, cut to fit ("%.64s", the buffer's
     * end) in the middle of a character: the reply must stay UTF-8. */
    utf8_repair(error->field);
    utf8_repair(error->message);
}
