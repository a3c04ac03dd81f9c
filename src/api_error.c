/*
 * api_error: see api_error.h.
 */
#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>

void api_error_set(ApiError *error, int status, const char *code, const char *field,
                   const char *format, ...)
{
    error->status = status;
    error->code = code;
    snprintf(error->field, sizeof error->field, "%s", field ? field : "");
    va_list args;
    va_start(args, format);
    vsnprintf(error->message, sizeof error->message, format, args);
    va_end(args);
}
