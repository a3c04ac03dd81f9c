/*
 * api_error: the error every API failure is reported as,
 * {"error": {"code", "message", "field"}} with an HTTP status.
 *
 * Filled by whoever understands the failure (validation, the intake writer,
 * a handler) and turned into a response in one place (api_reply).
 */
#ifndef HERALD_API_ERROR_H
#define HERALD_API_ERROR_H

#define API_ERROR_FIELD_MAX 96
#define API_ERROR_MESSAGE_MAX 320

typedef struct ApiError {
    int status;       /* HTTP status code */
    const char *code; /* static string: "validation_failed", "invalid_json", ... */
    char field[API_ERROR_FIELD_MAX];     /* "" when no single field is at fault */
    char message[API_ERROR_MESSAGE_MAX];
} ApiError;

/* Sets every member; FIELD may be NULL. */
void api_error_set(ApiError *error, int status, const char *code, const char *field,
                   const char *format, ...) __attribute__((format(printf, 5, 6)));

#endif
