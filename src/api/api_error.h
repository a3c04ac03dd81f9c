/*
 * api_error: the error every API failure is reported as,
 * {"error": {"code", "message", "field"}} with an HTTP status, and
 * "task_id" when a conflict is with a stored task.
 *
 * Filled by whoever understands the failure (validation, the intake writer,
 * a handler) and turned into a response in one place (api_reply).
 */
#ifndef HERALD_API_ERROR_H
#define HERALD_API_ERROR_H

#include <stdint.h>

#define API_ERROR_FIELD_MAX 96
#define API_ERROR_MESSAGE_MAX 320

typedef struct ApiError {
    int status;       /* HTTP status code */
    const char *code; /* static string: "validation_failed", "invalid_json", ... */
    char field[API_ERROR_FIELD_MAX];     /* "" when no single field is at fault */
    char message[API_ERROR_MESSAGE_MAX];
    int64_t task_id; /* the stored task a 409 conflict is with; 0: none */
} ApiError;

/* Sets every member (task_id to 0); FIELD may be NULL. */
void api_error_set(ApiError *error, int status, const char *code, const char *field,
                   const char *format, ...) __attribute__((format(printf, 5, 6)));

#endif
